"""The scenario-format reference, generated from the validated model (``zsim schema``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel

from zsim.behaviours.registry import BUILTINS, resolve
from zsim.costs import CostModel, LinkCosts
from zsim.records import EVENT_COLUMNS, EVENTS, STANDARD_METRICS
from zsim.scenario.limits import MAX_NODES_ENV, Limits
from zsim.scenario.model import ExpectSpec, NodeSpec, RunSpec, SocketSpec, StartSpec

INTRO = """\
# Scenario format

A scenario is a TOML file. Top-level tables: `[params]` (defaults, overridable with
`--set name=value`), `[run]`, `[model]` (timing parameters), `[nodes.NAME]` (one per node or node
group), and `[compare]` / `[sweep]` (read by those commands).

Values:
- `"${param}"` is replaced by a parameter (a whole-string placeholder keeps the parameter's type;
  inside a longer string it is interpolated: `"${transport}://sink:5558"`).
- A string starting with `=` is an expression evaluated per node replica with the params, `i`
  (replica index from 1), `count` and `name` in scope: `start = { at = "=(i - 1) * stagger" }`.
  Arithmetic, comparisons, `and/or/not`, `a if c else b`, min/max/abs/int/float/str/round.
- A random quantity is a number (constant) or `{ dist = "uniform", low = 0.001, high = 0.1 }`;
  dists: constant(value), uniform(low, high), exponential(mean), normal(mean, sd[, positive]),
  lognormal(mu, sigma), empirical(values[, weights]). Each node draws from its own seeded stream.
- Endpoints: `tcp://host:port`, `ipc://name`, `inproc://name` (`pgm://`/`epgm://` are modelled as
  tcp with subscriber-side filtering). Host names are logical: the live backend maps them to
  127.0.0.1 and free ports.
"""


def _fields(model: type[BaseModel], title: str) -> str:
    lines = [f"## {title}", "", "| key | default | meaning |", "|---|---|---|"]
    for name, field in model.model_fields.items():
        alias = field.alias or name
        default: Any = "required" if field.is_required() else field.get_default(
            call_default_factory=True)
        if isinstance(default, BaseModel):
            default = "(table)"
        lines.append(f"| `{alias}` | `{default!r}` | {field.description or ''} |")
    return "\n".join(lines) + "\n"


def _behaviours() -> str:
    out = ["## Built-in behaviours (`behaviour = NAME`, parameters in `params`)", ""]
    for name in sorted(BUILTINS):
        defn = resolve(name)
        out.append(f"### {name}\n\n{defn.summary}\n")
        if defn.params is not None:
            out.append(_fields(defn.params, f"{name} params").replace("## ", "#### "))
    out.append("A scenario may also name its own generator as `behaviour = \"module:function\"` "
               "(see `zsim.behaviours.api`).\n")
    return "\n".join(out)


def _records() -> str:
    lines = ["## Records", "", f"Event log columns: {', '.join(EVENT_COLUMNS)}.", "",
             "| event | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in EVENTS.items()]
    lines += ["", "Standard metrics (per node):", "", "| metric | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in STANDARD_METRICS.items()]
    return "\n".join(lines) + "\n"


def scenario_reference() -> str:
    resolve("worker")  # registers the built-ins
    parts = [
        INTRO,
        _fields(RunSpec, "[run]"),
        _fields(ExpectSpec, "[expect]"),
        _fields(NodeSpec, "[nodes.NAME]"),
        _fields(StartSpec, "start = { ... }"),
        _fields(SocketSpec, "sockets = [ { ... } ]"),
        _fields(CostModel, "[model]"),
        _fields(LinkCosts, "[model.tcp] and [model.ipc]"),
        _behaviours(),
        _records(),
        _limits(),
    ]
    return "\n".join(parts)


_LIMIT_MEANINGS = {
    "file_bytes": "size of a scenario file, in bytes",
    "depth": "nesting of tables and arrays",
    "string_chars": "characters in any string, in the file or made by `${...}` or an expression",
    "sequence_items": "items in any array, in the file or made by an expression",
    "int_magnitude": "magnitude of any integer (TOML's 64-bit range)",
    "expression_chars": "characters in one `\"=expr\"`",
    "expression_nodes": "terms in one `\"=expr\"`",
    "nodes": f"nodes after `count` replication (raise it with `{MAX_NODES_ENV}`)",
}


def _limits() -> str:
    """The input bounds (zsim.scenario.limits), so that no file can hang or exhaust zsim."""
    rows = [f"| {_LIMIT_MEANINGS[f.name]} | {getattr(Limits(), f.name):,} |"
            for f in dataclasses.fields(Limits)]
    return "\n".join([
        "## Limits",
        "",
        "A file or `--set` value past one of these is refused with one line naming the file, the",
        "field and the limit (exit 2), before any work is done.",
        "",
        "| bound | limit |",
        "|---|---|",
        *rows,
        "",
    ])
