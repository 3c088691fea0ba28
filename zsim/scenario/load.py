"""Scenario file → validated ``Scenario``, or one ``ScenarioError`` naming file, field and value.

Steps, in order: parse TOML; resolve ``[params]`` with command-line overrides; substitute
``${param}`` everywhere; expand replicated nodes (``count``) and evaluate ``"=expr"`` values per
replica; validate everything once with pydantic, including each behaviour's own parameters.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from zsim.errors import ScenarioError
from zsim.profile import load_profile
from zsim.scenario.expr import ExpressionError, evaluate
from zsim.scenario.limits import Limits, check_tree, check_value, deep_line, default_limits
from zsim.scenario.model import Scenario

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WHOLE_PLACEHOLDER = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_TOP_LEVEL = ("params", "run", "model", "nodes", "expect", "compare", "sweep")


def parse_overrides(items: Iterable[str], source: str = "--set") -> dict[str, Any]:
    """``["workers=8", "transport=ipc"]`` → ``{"workers": 8, "transport": "ipc"}`` (TOML values)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(source, "", f"expected name=value, got {item!r}")
        try:
            out[key] = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = text.strip()
    return out


def load_scenario(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    profile: str | None = None,
    limits: Limits | None = None,
) -> Scenario:
    """Load, substitute, expand and validate ``path`` on top of a machine ``profile`` (a path or
    shipped name; None = the default profile), within ``limits`` (None = ``default_limits()``).
    Raises ``ScenarioError``."""
    path = Path(path)
    source = str(path)
    limits = limits or default_limits()
    try:
        with path.open("rb") as file:
            data = file.read(limits.file_bytes + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "", f"cannot read file: {exc}") from None
    return load_scenario_text(text, source=source, name=path.stem, overrides=overrides,
                              profile=profile, limits=limits)


def load_scenario_text(
    text: str,
    *,
    source: str,
    name: str,
    overrides: Mapping[str, Any] | None = None,
    profile: str | None = None,
    limits: Limits | None = None,
) -> Scenario:
    limits = limits or default_limits()
    raw = _parse_toml(text, source, limits)
    _check_keys(raw, _TOP_LEVEL, "", source)
    check_tree(dict(overrides or {}), limits, source, "params")
    params = _resolve_params(raw.get("params", {}), overrides or {}, source)
    tree = _substitute({k: v for k, v in raw.items() if k != "params"}, params, source, "",
                       limits)
    nodes, groups = _expand_nodes(tree.get("nodes"), params, source, limits)
    base = load_profile(profile)
    doc = {
        **tree,
        "model": _layered(base.model.model_dump(), tree.get("model", {})),
        "profile": base.name,
        "name": name,
        "description": leading_comment(text),
        "source": source,
        "params": params,
        "nodes": nodes,
    }
    try:
        scenario = Scenario.model_validate(doc)
    except ValidationError as exc:
        raise _scenario_error(exc, source, groups) from None
    _check_behaviours(scenario, source)
    _check_start_points(scenario, source)
    return scenario


def _parse_toml(text: str, source: str, limits: Limits) -> dict[str, Any]:
    if len(text) > limits.file_bytes:
        raise ScenarioError(source, "", f"file larger than the limit of {limits.file_bytes:,} "
                            "bytes")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", f"invalid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses per level of nesting
        place = deep_line(text, limits.depth)
        where = f"line {place[0]} ({place[1]})" if place else ""
        raise ScenarioError(source, where, f"nested deeper than the limit of {limits.depth} "
                            "tables or arrays") from None
    check_tree(raw, limits, source)
    return raw


def _layered(base: dict[str, Any], over: Any) -> Any:
    """``over`` laid on ``base`` key by key (nested tables merge); non-tables replace."""
    if not isinstance(over, dict):
        return over
    out = dict(base)
    for key, value in over.items():
        out[key] = _layered(base[key], value) if isinstance(base.get(key), dict) else value
    return out


def leading_comment(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(x for x in lines if x)


def _check_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str, source: str) -> None:
    allowed = list(allowed)
    for key in table:
        if key not in allowed:
            raise ScenarioError(source, where + key, _unknown_key(key, allowed))


def _unknown_key(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}"


def _resolve_params(
    defaults: Any, overrides: Mapping[str, Any], source: str
) -> dict[str, Any]:
    if not isinstance(defaults, dict):
        raise ScenarioError(source, "params", f"must be a table, got {defaults!r}")
    params = dict(defaults)
    for key, value in overrides.items():
        if key not in params:
            raise ScenarioError(source, f"params.{key}", _unknown_key(key, params) + " (--set)")
        default = params[key]
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            raise ScenarioError(
                source,
                f"params.{key}",
                f"--set value must be a {type(default).__name__} like the default "
                f"{default!r}, got {value!r}",
            )
        params[key] = value
    return params


def _substitute(
    value: Any, params: Mapping[str, Any], source: str, where: str, limits: Limits
) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, params, source, f"{where}.{k}" if where else k, limits)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params, source, f"{where}[{i}]", limits)
                for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = _WHOLE_PLACEHOLDER.match(value)
    for ref in _PLACEHOLDER.findall(value):
        if ref not in params:
            raise ScenarioError(source, where, f"unknown param {ref!r} in {value!r}"
                                + _did_you_mean(ref, params))
    if whole:
        return params[whole[1]]
    text = _PLACEHOLDER.sub(lambda m: str(params[m[1]]), value)
    check_value(text, limits, source, where)
    return text


def _did_you_mean(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _expand_nodes(
    nodes: Any, params: Mapping[str, Any], source: str, limits: Limits
) -> tuple[dict[str, Any], dict[str, str]]:
    """Replicate tables with ``count``; returns (name → table, name → original table name)."""
    if not isinstance(nodes, dict) or not nodes:
        raise ScenarioError(source, "nodes", f"must be a non-empty table of nodes, got {nodes!r}")
    expanded: dict[str, Any] = {}
    groups: dict[str, str] = {}
    for group, table in nodes.items():
        if not isinstance(table, dict):
            raise ScenarioError(source, f"nodes.{group}", f"must be a table, got {table!r}")
        count = _evaluate_all(table.get("count", 1), {**params}, source,
                              f"nodes.{group}.count", limits)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ScenarioError(source, f"nodes.{group}.count",
                                f"must be an integer >= 1, got {count!r}")
        if len(expanded) + count > limits.nodes:
            raise ScenarioError(source, f"nodes.{group}.count",
                                f"{len(expanded) + count:,} nodes in all, beyond the limit of "
                                f"{limits.nodes:,} (ZSIM_MAX_NODES raises it), got {count!r}")
        replicated = "count" in table
        for i in range(1, count + 1):
            name = f"{group}-{i}" if replicated else group
            scope = {**params, "i": i, "count": count, "name": name}
            node = _evaluate_all(table, scope, source, f"nodes.{group}", limits)
            node.update(count=count, group=group, index=i)
            if name in expanded:
                raise ScenarioError(source, f"nodes.{group}", f"node name {name!r} is used twice")
            expanded[name] = node
            groups[name] = group
    return expanded, groups


def _evaluate_all(
    value: Any, scope: Mapping[str, Any], source: str, where: str, limits: Limits
) -> Any:
    if isinstance(value, dict):
        return {k: _evaluate_all(v, scope, source, f"{where}.{k}", limits)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_evaluate_all(v, scope, source, f"{where}[{i}]", limits)
                for i, v in enumerate(value)]
    if isinstance(value, str) and value.startswith("="):
        try:
            return evaluate(value[1:], scope, limits)
        except ExpressionError as exc:
            raise ScenarioError(source, where, str(exc)) from None
    return value


_TAGS = {"constant", "uniform", "exponential", "normal", "lognormal", "empirical"}


def _scenario_error(exc: ValidationError, source: str, groups: Mapping[str, str]) -> ScenarioError:
    errors = exc.errors()
    err = errors[0]
    if err["type"] == "missing":
        # a misspelt required key is 'missing' + 'extra_forbidden' in one table: report the typo
        parent = err["loc"][:-1]
        err = next((e for e in errors
                    if e["type"] == "extra_forbidden" and e["loc"][:-1] == parent), err)
    loc = list(err["loc"])
    if len(loc) >= 2 and loc[0] == "nodes" and loc[1] in groups:
        loc[1] = groups[str(loc[1])]
    field = _render_loc(loc)
    return ScenarioError(source, field, _describe(err, loc))


def _render_loc(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _TAGS or str(part).startswith("function-"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _describe(err: Any, loc: list[Any]) -> str:
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "extra_forbidden":
        return _unknown_key(str(loc[-1]), _fields_at(Scenario, loc[:-1]))
    if kind == "missing":
        return "required field is missing"
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
              "less_than": "<"}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"must be {bounds[kind]} {limit}, got {value!r}"
    if kind == "union_tag_invalid":
        return f"dist must be one of {sorted(_TAGS)}, got {ctx.get('tag')!r}"
    if kind == "union_tag_not_found":
        return f"a random value needs a 'dist' key (or a plain number), got {value!r}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if msg and msg[0].isupper():
        msg = msg[0].lower() + msg[1:]
    if "got" in msg or (kind == "value_error" and isinstance(value, dict)):
        return msg  # a model-level check names its fields: the whole table would be noise
    return f"{msg}, got {value!r}"


def _fields_at(model: type[BaseModel], loc: list[Any]) -> list[str]:
    """Field names of the model reached by following ``loc`` (for did-you-mean)."""
    current: Any = model
    key_next = False
    for part in loc:
        if key_next:  # a dict key (a node name), not a field name
            key_next = False
            continue
        if isinstance(part, int) or not (isinstance(current, type)
                                         and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            continue
        current = _model_in(field.annotation)
        key_next = typing.get_origin(field.annotation) is dict
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _check_behaviours(scenario: Scenario, source: str) -> None:
    from zsim.behaviours.registry import BehaviourError, resolve, validate_params

    for name, node in scenario.nodes.items():
        where = f"nodes.{node.group or name}"
        try:
            behaviour = resolve(node.behaviour)
            validate_params(behaviour, node.params, [s.name for s in node.sockets])
        except BehaviourError as exc:
            field = f"{where}.{exc.field}" if exc.field else f"{where}.behaviour"
            raise ScenarioError(source, field, exc.problem) from None


def _check_start_points(scenario: Scenario, source: str) -> None:
    for name, node in scenario.nodes.items():
        after = node.start.after
        if after is None:
            continue
        target = after.rsplit(":", 1)[0]
        matches = (
            [n for n in scenario.nodes if n.startswith(target[:-1])]
            if target.endswith("*")
            else [n for n in scenario.nodes if n == target]
        )
        if name in matches and len(matches) > 1:
            raise ScenarioError(source, f"nodes.{node.group or name}.start.after",
                                f"matches the node itself, which cannot mark a point before it "
                                f"starts, got {after!r}")
        if not matches or matches == [name]:
            raise ScenarioError(source, f"nodes.{node.group or name}.start.after",
                                f"names no other node, got {after!r}")
