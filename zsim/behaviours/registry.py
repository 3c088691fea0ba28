"""Behaviour lookup and parameter validation: built-in names or ``module:function``."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zsim.behaviours.api import Behaviour

SocketName = Annotated[str, Field(json_schema_extra={"socket": True})]
"""A behaviour parameter that names one of the node's sockets (checked at load)."""


class Params(BaseModel):
    """Base of behaviour parameter models: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BehaviourError(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class BehaviourDef:
    name: str
    function: Behaviour
    params: type[BaseModel] | None
    summary: str


BUILTINS: dict[str, BehaviourDef] = {}


def behaviour(name: str, params: type[BaseModel]) -> Callable[[Behaviour], Behaviour]:
    """Register a built-in behaviour under ``name`` with its parameter model."""

    def register(fn: Behaviour) -> Behaviour:
        summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        BUILTINS[name] = BehaviourDef(name, fn, params, summary)
        return fn

    return register


def resolve(ref: str) -> BehaviourDef:
    """A built-in name, or ``package.module:function`` (its ``Params`` attribute, if any)."""
    from zsim.behaviours import builtin  # noqa: F401  (registers the built-ins)

    if ref in BUILTINS:
        return BUILTINS[ref]
    if ":" not in ref:
        import difflib

        close = difflib.get_close_matches(ref, list(BUILTINS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise BehaviourError("", f"unknown behaviour {ref!r}{hint}; built-ins: "
                             f"{', '.join(sorted(BUILTINS))}, or 'module:function'")
    module_name, _, attr = ref.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:  # also ValueError/TypeError from importlib for ':f', '..m:f'
        raise BehaviourError("", f"cannot import behaviour {ref!r}: {exc}") from None
    problem = _not_a_behaviour(fn)
    if problem:
        raise BehaviourError("", f"{ref!r} is not a behaviour: {problem}")
    return BehaviourDef(ref, fn, getattr(fn, "Params", None), (fn.__doc__ or "").strip())


def _not_a_behaviour(fn: object) -> str:
    """Why ``fn`` cannot be a behaviour (empty if it can): a behaviour is a generator
    function taking (node, params) that yields operations (zsim.behaviours.api)."""
    if not inspect.isgeneratorfunction(fn):
        return "a behaviour is a generator function (node, params) that yields operations"
    try:
        inspect.signature(fn).bind(None, None)
    except (TypeError, ValueError):
        return "its signature does not take (node, params)"
    return ""


def validate_params(
    defn: BehaviourDef, params: dict[str, Any], socket_names: Sequence[str]
) -> Any:
    """The behaviour's parameter object; socket-name parameters must name a node socket."""
    if defn.params is None:
        return dict(params)
    try:
        value = defn.params.model_validate(params)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"] if p not in _DIST_TAGS)
        if err["type"] == "extra_forbidden":
            import difflib

            close = difflib.get_close_matches(str(err["loc"][-1]), list(defn.params.model_fields))
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BehaviourError(f"params.{loc}", f"unknown key {err['loc'][-1]!r}{hint}") from None
        from zsim.scenario.load import _describe

        raise BehaviourError(f"params.{loc}", _describe(err, list(err["loc"]))) from None
    for fname, finfo in defn.params.model_fields.items():
        extra = finfo.json_schema_extra
        if isinstance(extra, dict) and extra.get("socket"):
            wanted = getattr(value, fname)
            if wanted and wanted not in socket_names:
                raise BehaviourError(
                    f"params.{fname}",
                    f"the node has no socket {wanted!r} (its sockets: {list(socket_names)})",
                )
    return value


_DIST_TAGS = {"constant", "uniform", "exponential", "normal", "lognormal", "empirical"}
