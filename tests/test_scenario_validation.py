"""Validation once, at load: one line naming the file, the field path and the value; exit 2.

The first half pins exact messages for representative mistakes (``load_scenario`` and
``ScenarioError``); the second half generates malformed variants of a valid scenario with
hypothesis and checks that ``zsim validate`` always answers with one ``zsim: error:`` line and exit
code 2, never a traceback.
"""

from __future__ import annotations

import json
import math
import string
import tempfile
from collections.abc import Iterator
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from zsim.behaviours.registry import BUILTINS, resolve
from zsim.catalog import shipped_scenarios
from zsim.cli import main
from zsim.costs import CostModel, LinkCosts
from zsim.errors import ScenarioError, ZsimError
from zsim.scenario.distributions import Uniform
from zsim.scenario.load import load_scenario, load_scenario_text
from zsim.scenario.model import TRANSPORTS, NodeSpec, RunSpec, SocketSpec, StartSpec

BASE = """\
# A small pipeline for validation tests.

[params]
workers = 2
hwm = 1000
stagger = 0.01
transport = "tcp"

[run]
stop_after = ["sink"]
until = 10.0

[nodes.sink]
behaviour = "sink"
params = { results = 10 }
sockets = [
  { name = "results", type = "PULL", bind = ["${transport}://sink:5558"], rcvhwm = "${hwm}" },
]

[nodes.ventilator]
behaviour = "ventilator"
start = { after = "worker-*:ready", delay = 0.01 }
params = { tasks = 10, workload = { dist = "uniform", low = 0.001, high = 0.01 }, sink = "sink" }
sockets = [
  { name = "tasks", type = "PUSH", bind = ["${transport}://vent:5557"], sndhwm = 10 },
  { name = "sink", type = "PUSH", connect = ["${transport}://sink:5558"] },
]

[nodes.worker]
count = "${workers}"
behaviour = "worker"
start = { at = "=(i - 1) * stagger" }
sockets = [
  { name = "tasks", type = "PULL", connect = ["${transport}://vent:5557"], rcvhwm = "${hwm}" },
  { name = "results", type = "PUSH", connect = ["${transport}://sink:5558"] },
]
"""


SINK_SOCKETS = """sockets = [
  { name = "results", type = "PULL", bind = ["${transport}://sink:5558"], rcvhwm = "${hwm}" },
]"""


def edit(old: str, new: str, text: str = BASE) -> str:
    """``text`` with the one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def write(tmp_path: Path, text: str, name: str = "x.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str, overrides: dict[str, Any] | None = None) -> tuple[str, str]:
    """(message, prefix): the ScenarioError loading ``text`` from a file raises, and 'PATH: '."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    message = str(info.value)
    assert "\n" not in message
    assert info.value.source == str(path)
    return message, f"{path}: "


def test_the_base_scenario_is_valid(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE))
    assert list(scenario.nodes) == ["sink", "ventilator", "worker-1", "worker-2"]
    assert scenario.nodes["worker-2"].start.at == pytest.approx(0.01)
    assert scenario.nodes["sink"].sockets[0].rcvhwm == 1000
    assert scenario.description == "A small pipeline for validation tests."


def test_the_validated_scenario_is_frozen(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE))
    with pytest.raises(ValidationError):
        scenario.nodes["sink"].sockets[0].rcvhwm = 5  # type: ignore[misc]


# --- the issue's example, exactly ---------------------------------------------------------------


def test_negative_rcvhwm_is_the_issue_line_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "scenarios").mkdir()
    text = edit('vent:5557"], rcvhwm = "${hwm}"', 'vent:5557"], rcvhwm = -1')
    (tmp_path / "scenarios" / "x.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    line = "scenarios/x.toml: nodes.worker.sockets[0].rcvhwm: must be >= 0, got -1"

    with pytest.raises(ScenarioError) as info:
        load_scenario("scenarios/x.toml")
    assert str(info.value) == line

    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "scenarios/x.toml"])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"zsim: error: {line}\n"


def test_an_invalid_scenario_is_not_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, edit('rcvhwm = "${hwm}" },\n]', "rcvhwm = -1 },\n]"))
    out_dir = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["run", str(path), "--out", str(out_dir), "--json"])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"zsim: error: {path}: nodes.sink.sockets[0].rcvhwm: must be >= 0, got -1\n"
    assert not out_dir.exists()


# --- exact messages ------------------------------------------------------------------------------

EXACT = [
    # unknown keys, with a did-you-mean where close
    (
        "typo-rcvhwm",
        'sink:5558"], rcvhwm',
        'sink:5558"], rcvhvm',
        "nodes.sink.sockets[0].rcvhvm: unknown key 'rcvhvm' (did you mean 'rcvhwm'?)",
    ),
    (
        "typo-top-level",
        "[run]",
        "[runn]",
        "runn: unknown key 'runn' (did you mean 'run'?)",
    ),
    (
        "typo-run",
        "until = 10.0",
        "untill = 10.0",
        "run.untill: unknown key 'untill' (did you mean 'until'?)",
    ),
    (
        "typo-start",
        "delay = 0.01 }",
        "dealy = 0.01 }",
        "nodes.ventilator.start.dealy: unknown key 'dealy' (did you mean 'delay'?)",
    ),
    (
        "typo-node-key",
        'behaviour = "sink"\n',
        'behaviour = "sink"\ncrash_after = 1.0\n',
        "nodes.sink.crash_after: unknown key 'crash_after' (did you mean 'crash_at'?)",
    ),
    (
        "typo-behaviour-param",
        "params = { results = 10 }",
        "params = { reslts = 10 }",
        "nodes.sink.params.reslts: unknown key 'reslts' (did you mean 'results'?)",
    ),
    (
        "typo-in-replicated-node",
        '"results", type = "PUSH", connect',
        '"results", type = "PUSH", conect = [], connect',
        "nodes.worker.sockets[1].conect: unknown key 'conect' (did you mean 'connect'?)",
    ),
    (
        "unknown-key-not-close",
        'sink:5558"], rcvhwm',
        'sink:5558"], zzzzzz = 1, rcvhwm',
        "nodes.sink.sockets[0].zzzzzz: unknown key 'zzzzzz'",
    ),
    (
        "typo-model",
        "[run]",
        "[model]\napp_send = 1e-6\n\n[run]",
        "model.app_send: unknown key 'app_send' (did you mean 'app_send_s'?)",
    ),
    (
        "typo-model-link",
        "[run]",
        "[model.tcp]\nlatency = 1e-6\n\n[run]",
        "model.tcp.latency: unknown key 'latency' (did you mean 'latency_s'?)",
    ),
    # behaviours
    (
        "behaviour-param-socket",
        "params = { results = 10 }",
        'params = { socket = "nope" }',
        "nodes.sink.params.socket: the node has no socket 'nope' (its sockets: ['results'])",
    ),
    (
        "behaviour-module",
        'behaviour = "sink"',
        'behaviour = "zsim_no_such_module:run"',
        "nodes.sink.behaviour: cannot import behaviour 'zsim_no_such_module:run': "
        "No module named 'zsim_no_such_module'",
    ),
    (
        "behaviour-attribute",
        'behaviour = "sink"',
        'behaviour = "zsim.behaviours.builtin:no_such_function"',
        "nodes.sink.behaviour: cannot import behaviour "
        "'zsim.behaviours.builtin:no_such_function': "
        "module 'zsim.behaviours.builtin' has no attribute 'no_such_function'",
    ),
    (
        "behaviour-wrong-type",
        'behaviour = "sink"',
        "behaviour = 3",
        "nodes.sink.behaviour: input should be a valid string, got 3",
    ),
    # endpoints
    (
        "endpoint-port-range",
        '"${transport}://sink:5558"], rcvhwm',
        '"tcp://sink:99999"], rcvhwm',
        "nodes.sink.sockets[0].bind[0]: tcp endpoint must be host:port with port 1-65535, "
        "got 'tcp://sink:99999'",
    ),
    (
        "endpoint-port-zero",
        '"${transport}://sink:5558"], rcvhwm',
        '"tcp://sink:0"], rcvhwm',
        "nodes.sink.sockets[0].bind[0]: tcp endpoint must be host:port with port 1-65535, "
        "got 'tcp://sink:0'",
    ),
    (
        "endpoint-no-port",
        '"${transport}://sink:5558"], rcvhwm',
        '"tcp://sink"], rcvhwm',
        "nodes.sink.sockets[0].bind[0]: tcp endpoint must be host:port with port 1-65535, "
        "got 'tcp://sink'",
    ),
    (
        "endpoint-no-scheme",
        '"${transport}://sink:5558"], rcvhwm',
        '"sink:5558"], rcvhwm',
        "nodes.sink.sockets[0].bind[0]: endpoint must look like transport://address, "
        "got 'sink:5558'",
    ),
    (
        "endpoint-replicated",
        '["${transport}://vent:5557"], rcvhwm',
        '["tcp:/vent:5557"], rcvhwm',
        "nodes.worker.sockets[0].connect[0]: endpoint must look like transport://address, "
        "got 'tcp:/vent:5557'",
    ),
    (
        "endpoint-not-a-list",
        '["${transport}://sink:5558"], rcvhwm',
        '"tcp://sink:5558", rcvhwm',
        "nodes.sink.sockets[0].bind: input should be a valid list, got 'tcp://sink:5558'",
    ),
    # wrong types and bounds
    (
        "hwm-string",
        'sink:5558"], rcvhwm = "${hwm}"',
        'sink:5558"], rcvhwm = "lots"',
        "nodes.sink.sockets[0].rcvhwm: input should be a valid integer, unable to parse string "
        "as an integer, got 'lots'",
    ),
    (
        "hwm-fraction",
        'sink:5558"], rcvhwm = "${hwm}"',
        'sink:5558"], rcvhwm = 1.5',
        "nodes.sink.sockets[0].rcvhwm: input should be a valid integer, got a number with a "
        "fractional part",
    ),
    (
        "sndhwm-negative",
        "sndhwm = 10",
        "sndhwm = -10",
        "nodes.ventilator.sockets[0].sndhwm: must be >= 0, got -10",
    ),
    (
        "linger",
        "sndhwm = 10",
        "linger = -2",
        "nodes.ventilator.sockets[0].linger: must be >= -1, got -2",
    ),
    (
        "until-zero",
        "until = 10.0",
        "until = 0",
        "run.until: must be > 0.0, got 0",
    ),
    (
        "start-negative",
        "delay = 0.01",
        "delay = -0.5",
        "nodes.ventilator.start.delay: must be >= 0.0, got -0.5",
    ),
    (
        "socket-type",
        '"results", type = "PULL"',
        '"results", type = "PULLL"',
        "nodes.sink.sockets[0].type: input should be 'REQ', 'REP', 'DEALER', 'ROUTER', 'PUB', "
        "'SUB', 'XPUB', 'XSUB', 'PUSH', 'PULL' or 'PAIR', got 'PULLL'",
    ),
    (
        "sockets-not-a-list",
        SINK_SOCKETS,
        'sockets = "results"',
        "nodes.sink.sockets: input should be a valid list, got 'results'",
    ),
    (
        "start-not-a-table",
        'start = { at = "=(i - 1) * stagger" }',
        'start = "soon"',
        "nodes.worker.start: input should be a valid dictionary or instance of StartSpec, "
        "got 'soon'",
    ),
    (
        "record",
        "until = 10.0",
        'record = "everything"',
        "run.record: input should be 'messages' or 'lifecycle', got 'everything'",
    ),
    (
        "params-not-a-table",
        '[params]\nworkers = 2\nhwm = 1000\nstagger = 0.01\ntransport = "tcp"\n',
        "params = 3\n",
        "params: must be a table, got 3",
    ),
    # missing required fields
    (
        "missing-behaviour",
        'behaviour = "sink"\n',
        "",
        "nodes.sink.behaviour: required field is missing",
    ),
    (
        "missing-socket-type",
        '"results", type = "PULL", ',
        '"results", ',
        "nodes.sink.sockets[0].type: required field is missing",
    ),
    (
        "missing-socket-name",
        '{ name = "results", type = "PUSH", ',
        '{ type = "PUSH", ',
        "nodes.worker.sockets[1].name: required field is missing",
    ),
    # ${param} and =expr
    (
        "unknown-param",
        '["${transport}://sink:5558"], rcvhwm',
        '["${transprt}://sink:5558"], rcvhwm',
        "nodes.sink.sockets[0].bind[0]: unknown param 'transprt' in '${transprt}://sink:5558' "
        "(did you mean 'transport'?)",
    ),
    (
        "unknown-param-whole",
        'count = "${workers}"',
        'count = "${nworkers}"',
        "nodes.worker.count: unknown param 'nworkers' in '${nworkers}' (did you mean 'workers'?)",
    ),
    (
        "unknown-param-not-close",
        "params = { results = 10 }",
        'params = { results = "${qqq}" }',
        "nodes.sink.params.results: unknown param 'qqq' in '${qqq}'",
    ),
    (
        "expression-unknown-name",
        '"=(i - 1) * stagger"',
        '"=(i - 1) * stagr"',
        "nodes.worker.start.at: unknown name 'stagr' in '(i - 1) * stagr' "
        "(known: count, hwm, i, name, stagger, transport, workers)",
    ),
    (
        "expression-division-by-zero",
        '"=(i - 1) * stagger"',
        '"=stagger / (i - i)"',
        "nodes.worker.start.at: cannot evaluate 'stagger / (i - i)': float division by zero",
    ),
    (
        "expression-syntax",
        '"=(i - 1) * stagger"',
        '"=().__class__"',
        "nodes.worker.start.at: unsupported syntax in expression '().__class__'",
    ),
    # replication
    (
        "count-zero",
        'count = "${workers}"',
        "count = 0",
        "nodes.worker.count: must be an integer >= 1, got 0",
    ),
    (
        "count-not-integer",
        'count = "${workers}"',
        'count = "=workers / 4"',
        "nodes.worker.count: must be an integer >= 1, got 0.5",
    ),
    (
        "replica-hwm-per-index",
        'vent:5557"], rcvhwm = "${hwm}"',
        'vent:5557"], rcvhwm = "=1 - i"',
        "nodes.worker.sockets[0].rcvhwm: must be >= 0, got -1",
    ),
    (
        "replica-behaviour-param",
        'behaviour = "worker"',
        'behaviour = "worker"\nparams = { results = "out" }',
        "nodes.worker.params.results: the node has no socket 'out' (its sockets: "
        "['tasks', 'results'])",
    ),
    (
        "replica-duplicate-name",
        "[nodes.sink]",
        '[nodes.worker-1]\nbehaviour = "sink"\nsockets = '
        '[{ name = "results", type = "PULL", bind = ["ipc://w1"] }]\n\n[nodes.sink]',
        "nodes.worker: node name 'worker-1' is used twice",
    ),
    # start points
    (
        "after-names-no-node",
        'after = "worker-*:ready"',
        'after = "wrker-*:ready"',
        "nodes.ventilator.start.after: names no other node, got 'wrker-*:ready'",
    ),
    (
        "after-names-itself",
        'after = "worker-*:ready"',
        'after = "ventilator:ready"',
        "nodes.ventilator.start.after: names no other node, got 'ventilator:ready'",
    ),
    (
        "after-malformed",
        'after = "worker-*:ready"',
        'after = "worker-*"',
        "nodes.ventilator.start.after: must be 'node:point' (node may end in '*'), got 'worker-*'",
    ),
    # nodes
    (
        "no-nodes",
        BASE[BASE.index("[nodes.sink]") :],
        "",
        "nodes: must be a non-empty table of nodes, got None",
    ),
    (
        "node-not-a-table",
        "[nodes.sink]",
        "[nodes]\nsink2 = 3\n\n[nodes.sink]",
        "nodes.sink2: must be a table, got 3",
    ),
    # [compare] and [sweep]
    (
        "typo-compare",
        "[run]",
        '[compare]\nmodle = "pipeline"\n\n[run]',
        "compare.modle: unknown key 'modle' (did you mean 'model'?)",
    ),
    (
        "compare-tolerance-negative",
        "[run]",
        "[compare]\ntolerance = { makespan_s = -0.1 }\n\n[run]",
        "compare.tolerance.makespan_s: must be >= 0.0, got -0.1",
    ),
    (
        "sweep-reps-zero",
        "[run]",
        "[sweep]\nreps = 0\n\n[run]",
        "sweep.reps: must be >= 1, got 0",
    ),
    (
        "sweep-grid-not-a-list",
        "[run]",
        "[sweep]\ngrid = { workers = 3 }\n\n[run]",
        "sweep.grid.workers: input should be a valid list, got 3",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [c[1:] for c in EXACT], ids=[c[0] for c in EXACT]
)
def test_exact_message(tmp_path: Path, old: str, new: str, expected: str) -> None:
    message, prefix = error(tmp_path, edit(old, new))
    assert message == prefix + expected


# --- messages whose wording is pinned only in part ---------------------------------------------


def test_unknown_behaviour_suggests_and_lists_the_builtins(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, edit('behaviour = "sink"', 'behaviour = "sinkk"'))
    assert message.startswith(
        prefix + "nodes.sink.behaviour: unknown behaviour 'sinkk' (did you mean 'sink'?); "
        "built-ins: "
    )
    resolve("sink")  # registers the built-ins
    for name in BUILTINS:
        assert name in message
    assert message.endswith("or 'module:function'")


def test_unknown_behaviour_in_a_replicated_node_names_the_group(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, edit('behaviour = "worker"', 'behaviour = "wroker"'))
    assert message.startswith(
        prefix + "nodes.worker.behaviour: unknown behaviour 'wroker' (did you mean 'worker'?)"
    )


def test_unknown_transport(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, BASE, {"transport": "udp"})
    assert message.startswith(
        prefix + "nodes.sink.sockets[0].bind[0]: unknown transport 'udp' in 'udp://sink:5558'"
    )
    for transport in TRANSPORTS:
        assert repr(transport) in message


def test_bad_dist_names_the_field_and_the_value(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, edit('dist = "uniform"', 'dist = "gauss"'))
    assert message.startswith(prefix + "nodes.ventilator.params.workload: ")
    assert "'gauss'" in message


def test_bad_dist_message_lists_the_dists(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, edit('dist = "uniform"', 'dist = "gauss"'))
    assert message == prefix + (
        "nodes.ventilator.params.workload: dist must be one of ['constant', 'empirical', "
        "'exponential', 'lognormal', 'normal', 'uniform'], got 'gauss'"
    )


def test_dist_without_dist_key(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, edit('dist = "uniform", ', ""))
    assert message.startswith(prefix + "nodes.ventilator.params.workload: ")
    assert "'dist'" in message


def test_dist_with_its_own_constraint(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, edit("low = 0.001, high = 0.01", "low = 0.01, high = 0.001"))
    assert message.startswith(
        prefix + "nodes.ventilator.params.workload: high must be >= low, got low=0.01, high=0.001"
    )


def test_dist_with_an_unknown_key(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, edit("high = 0.01", "high = 0.01, hihg = 1"))
    assert message.startswith(prefix + "nodes.ventilator.params.workload.hihg: unknown key 'hihg'")


def test_missing_behaviour_parameter(tmp_path: Path) -> None:
    text = edit('workload = { dist = "uniform", low = 0.001, high = 0.01 }, ', "")
    message, prefix = error(tmp_path, text)
    assert message.startswith(prefix + "nodes.ventilator.params.workload: ")
    assert "required" in message.lower()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("tasks = 10, ", "tasks = -1, ", "nodes.ventilator.params.tasks: must be >= 0, got -1"),
        (
            'workload = { dist = "uniform", low = 0.001, high = 0.01 }, ',
            "",
            "nodes.ventilator.params.workload: required field is missing",
        ),
    ],
    ids=["bound", "missing"],
)
def test_behaviour_parameter_messages_match_the_loader(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    message, prefix = error(tmp_path, edit(old, new))
    assert message == prefix + expected


def test_restart_without_crash(tmp_path: Path) -> None:
    text = edit('behaviour = "sink"\n', 'behaviour = "sink"\nrestart_at = 5.0\n')
    message, prefix = error(tmp_path, text)
    assert message.startswith(prefix + "nodes.sink: restart_at needs a crash_at before it")


def test_restart_before_crash(tmp_path: Path) -> None:
    text = edit('behaviour = "sink"\n', 'behaviour = "sink"\ncrash_at = 5.0\nrestart_at = 4.0\n')
    message, prefix = error(tmp_path, text)
    assert message.startswith(prefix + "nodes.sink: restart_at needs a crash_at before it")


def test_restart_after_crash_is_valid(tmp_path: Path) -> None:
    text = edit('behaviour = "sink"\n', 'behaviour = "sink"\ncrash_at = 3.0\nrestart_at = 4.0\n')
    node = load_scenario(write(tmp_path, text)).nodes["sink"]
    assert (node.crash_at, node.restart_at) == (3.0, 4.0)


def test_restart_without_crash_in_a_replicated_node_names_the_group(tmp_path: Path) -> None:
    text = edit('behaviour = "worker"', 'behaviour = "worker"\nrestart_at = 1.0')
    message, prefix = error(tmp_path, text)
    assert message.startswith(prefix + "nodes.worker: restart_at needs a crash_at before it")


@pytest.mark.parametrize(
    ("old", "new", "start"),
    [
        (
            'behaviour = "sink"\n',
            'behaviour = "sink"\nrestart_at = 5.0\n',
            "nodes.sink: restart_at needs a crash_at before it",
        ),
        (
            "[run]",
            "[sweep]\ngrid = { wrkers = [1, 2] }\n\n[run]",
            "sweep.grid names unknown param 'wrkers'",
        ),
        (
            'stop_after = ["sink"]',
            'stop_after = ["snk"]',
            "run.stop_after names unknown node 'snk'",
        ),
    ],
    ids=["node", "sweep-grid", "stop-after"],
)
def test_model_level_errors_do_not_dump_the_whole_table(
    tmp_path: Path, old: str, new: str, start: str
) -> None:
    message, prefix = error(tmp_path, edit(old, new))
    assert message.startswith(prefix + start)
    assert "'group'" not in message
    assert "'sockets'" not in message


def test_stop_after_unknown_node(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, edit('stop_after = ["sink"]', 'stop_after = ["snk"]'))
    assert message.startswith(prefix)
    assert "run.stop_after names unknown node 'snk'" in message


def test_sweep_grid_unknown_param(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, edit("[run]", "[sweep]\ngrid = { wrkers = [1, 2] }\n\n[run]"))
    assert message.startswith(prefix)
    assert "sweep.grid names unknown param 'wrkers'" in message


def test_stop_after_a_group_is_valid(tmp_path: Path) -> None:
    text = edit('stop_after = ["sink"]', 'stop_after = ["worker"]')
    assert load_scenario(write(tmp_path, text)).run.stop_after == ["worker"]


def test_endpoint_bound_twice(tmp_path: Path) -> None:
    text = edit('"${transport}://vent:5557"], sndhwm', '"${transport}://sink:5558"], sndhwm')
    message, prefix = error(tmp_path, text)
    assert message.startswith(prefix)
    assert "'tcp://sink:5558' is bound by both sink.results and ventilator.tasks" in message


def test_subscribe_on_a_non_sub_socket(tmp_path: Path) -> None:
    text = edit('"results", type = "PULL",', '"results", type = "PULL", subscribe = [""],')
    message, prefix = error(tmp_path, text)
    assert message.startswith(
        prefix + "nodes.sink.sockets[0]: subscribe applies to SUB sockets only, not PULL"
    )


def test_duplicate_socket_names(tmp_path: Path) -> None:
    text = edit('{ name = "sink", type = "PUSH"', '{ name = "tasks", type = "PUSH"')
    message, prefix = error(tmp_path, text)
    assert message.startswith(
        prefix + "nodes.ventilator: socket names must be unique, got 'tasks' twice"
    )


def test_socket_type_is_case_insensitive(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, edit('type = "PULL", bind', 'type = "pull", bind')))
    assert scenario.nodes["sink"].sockets[0].type == "PULL"


def test_start_after_that_includes_the_node_itself(tmp_path: Path) -> None:
    text = edit('start = { at = "=(i - 1) * stagger" }', 'start = { after = "worker-*:ready" }')
    message, prefix = error(tmp_path, text)
    assert message.startswith(prefix + "nodes.worker.start.after: ")
    assert "'worker-*:ready'" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'behaviour = "sink"',
            'behavior = "sink"',
            "nodes.sink.behavior: unknown key 'behavior' (did you mean 'behaviour'?)",
        ),
        (
            '"results", type = "PULL"',
            '"results", tpye = "PULL"',
            "nodes.sink.sockets[0].tpye: unknown key 'tpye' (did you mean 'type'?)",
        ),
    ],
    ids=["behaviour", "type"],
)
def test_misspelt_required_key_suggests_the_right_one(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    message, prefix = error(tmp_path, edit(old, new))
    assert message == prefix + expected


def test_did_you_mean_in_a_node_named_like_a_field(tmp_path: Path) -> None:
    text = edit("[nodes.sink]", '[nodes.start]\nbehaviour = "sink"\nsockts = []\n\n[nodes.sink]')
    message, prefix = error(tmp_path, text)
    assert message == prefix + "nodes.start.sockts: unknown key 'sockts' (did you mean 'sockets'?)"


# --- TOML and file problems ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "broken",
    ["[nodes.sink", "x = ", "= 1", 'name = "unterminated', "a = 1 = 2", "[[[", "[run]"],
)
def test_invalid_toml(tmp_path: Path, broken: str) -> None:
    message, prefix = error(tmp_path, BASE + "\n" + broken + "\n")
    assert message.startswith(prefix + "invalid TOML: ")
    assert "(at line " in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: cannot read file: ")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(BASE.encode() + b"\n# \xff\xfe\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: cannot read file: ")
    assert "\n" not in str(info.value)


def test_source_and_name_of_text(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(edit("until = 10.0", "until = -1.0"), source="<mem>", name="mem")
    assert str(info.value) == "<mem>: run.until: must be > 0.0, got -1.0"
    scenario = load_scenario_text(BASE, source="<mem>", name="mem")
    assert (scenario.name, scenario.source) == ("mem", "<mem>")


# --- --set overrides -----------------------------------------------------------------------------


def test_set_unknown_param(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, BASE, {"wrkers": 3})
    assert message == (
        prefix + "params.wrkers: unknown key 'wrkers' (did you mean 'workers'?) (--set)"
    )


def test_set_unknown_param_not_close(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, BASE, {"qqq": 3})
    assert message == prefix + "params.qqq: unknown key 'qqq' (--set)"


@pytest.mark.parametrize(
    ("overrides", "field", "value"),
    [
        ({"workers": "two"}, "workers", "'two'"),
        ({"workers": 2.5}, "workers", "2.5"),
        ({"workers": True}, "workers", "True"),
        ({"transport": 5}, "transport", "5"),
        ({"stagger": "fast"}, "stagger", "'fast'"),
        ({"hwm": [1]}, "hwm", "[1]"),
    ],
)
def test_set_wrong_type(tmp_path: Path, overrides: dict[str, Any], field: str, value: str) -> None:
    message, prefix = error(tmp_path, BASE, overrides)
    assert message.startswith(prefix + f"params.{field}: --set value must be")
    assert message.endswith(f", got {value}")


def test_set_int_for_a_float_param_is_accepted(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE), {"stagger": 1})
    assert scenario.params["stagger"] == 1.0
    assert isinstance(scenario.params["stagger"], float)
    assert scenario.nodes["worker-2"].start.at == 1.0


def test_set_value_that_is_invalid_where_it_is_used(tmp_path: Path) -> None:
    message, prefix = error(tmp_path, BASE, {"hwm": -1})
    assert message == prefix + "nodes.sink.sockets[0].rcvhwm: must be >= 0, got -1"
    message, prefix = error(tmp_path, BASE, {"workers": 0})
    assert message == prefix + "nodes.worker.count: must be an integer >= 1, got 0"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--set", "wrkers=3"],
            "params.wrkers: unknown key 'wrkers' (did you mean 'workers'?) (--set)",
        ),
        (["--set", "workers=two"], "params.workers: --set value must be"),
        (["--set", "hwm=-1"], "nodes.sink.sockets[0].rcvhwm: must be >= 0, got -1"),
        (["--set", "transport=udp"], "nodes.sink.sockets[0].bind[0]: unknown transport 'udp'"),
    ],
)
def test_set_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    path = write(tmp_path, BASE)
    with pytest.raises(SystemExit) as info:
        main(["validate", str(path), *args])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"zsim: error: {path}: {expected}")
    assert err.count("\n") == 1


def test_set_without_equals(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", str(write(tmp_path, BASE)), "--set", "workers"])
    assert info.value.code == 2
    assert capsys.readouterr().err == "zsim: error: --set: expected name=value, got 'workers'\n"


# --- the shipped scenarios ----------------------------------------------------------------------


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_shipped_scenario_validates(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.nodes
    assert scenario.description, "a shipped scenario opens with a comment describing it"
    main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert err == ""
    assert out == f"{path}: ok: {len(scenario.nodes)} nodes ({', '.join(scenario.nodes)})\n"


def test_pipeline_is_shipped() -> None:
    assert "pipeline" in [p.stem for p in shipped_scenarios()]


# --- hypothesis: malformed scenarios always give one line and exit 2 ----------------------------


def toml_string(value: str) -> str:
    """A TOML basic string (JSON escapes are TOML escapes, except that TOML wants DEL escaped)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            repr(value)
            if math.isfinite(value)
            else ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
        )
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(value)


def to_toml(doc: dict[str, Any]) -> str:
    """One ``key = inline-value`` line per top-level key: every table is an inline table."""
    return "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in doc.items())


DOC: dict[str, Any] = {
    "params": {"workers": 2, "hwm": 1000, "stagger": 0.01, "transport": "tcp"},
    "run": {"stop_after": ["sink"], "until": 10.0, "seed": 1, "record": "messages"},
    "model": {"app_send_s": 1.5e-6, "batch_bytes": 8192, "tcp": {"latency_s": 5e-6}},
    "nodes": {
        "sink": {
            "behaviour": "sink",
            "params": {"results": 10},
            "sockets": [
                {
                    "name": "results",
                    "type": "PULL",
                    "bind": ["${transport}://sink:5558"],
                    "rcvhwm": "${hwm}",
                }
            ],
        },
        "ventilator": {
            "behaviour": "ventilator",
            "start": {"after": "worker-*:ready", "delay": 0.01},
            "params": {
                "tasks": 10,
                "sink": "sink",
                "workload": {"dist": "uniform", "low": 0.001, "high": 0.01},
            },
            "sockets": [
                {
                    "name": "tasks",
                    "type": "PUSH",
                    "bind": ["${transport}://vent:5557"],
                    "sndhwm": 10,
                },
                {"name": "sink", "type": "PUSH", "connect": ["${transport}://sink:5558"]},
            ],
        },
        "worker": {
            "count": "${workers}",
            "behaviour": "worker",
            "start": {"at": "=(i - 1) * stagger"},
            "sockets": [
                {
                    "name": "tasks",
                    "type": "PULL",
                    "connect": ["${transport}://vent:5557"],
                    "rcvhwm": "${hwm}",
                },
                {"name": "results", "type": "PUSH", "connect": ["${transport}://sink:5558"]},
            ],
        },
        "pub": {
            "behaviour": "publisher",
            "crash_at": 5.0,
            "params": {"count": 5, "rate": 10.0},
            "sockets": [
                {"name": "pub", "type": "PUB", "bind": ["ipc://quotes"], "xpub_nodrop": False}
            ],
        },
        "sub": {
            "behaviour": "subscriber",
            "params": {"service": {"dist": "exponential", "mean": 0.001}, "idle_timeout": 1.0},
            "sockets": [
                {
                    "name": "sub",
                    "type": "SUB",
                    "connect": ["ipc://quotes"],
                    "subscribe": [""],
                    "conflate": True,
                    "immediate": False,
                }
            ],
        },
    },
}

SOCKETS = [(node, k) for node, spec in DOC["nodes"].items() for k in range(len(spec["sockets"]))]
ENDPOINTS = [
    ("nodes", node, "sockets", k, kind, j)
    for node, k in SOCKETS
    for kind in ("bind", "connect")
    for j in range(len(DOC["nodes"][node]["sockets"][k].get(kind, [])))
]


def get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _fields(model: Any) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()} | set(model.model_fields)


def _params_model(behaviour: str) -> Any:
    params = resolve(behaviour).params
    assert params is not None
    return params


# Tables whose keys are checked, with the keys they accept.
TABLES: list[tuple[tuple[Any, ...], set[str]]] = [
    ((), {"params", "run", "model", "nodes", "compare", "sweep"}),
    (("run",), _fields(RunSpec)),
    (("model",), _fields(CostModel)),
    (("model", "tcp"), _fields(LinkCosts)),
    (("nodes", "ventilator", "start"), _fields(StartSpec)),
    (("nodes", "worker", "start"), _fields(StartSpec)),
    (("nodes", "ventilator", "params", "workload"), _fields(Uniform)),
]
TABLES += [(("nodes", node), _fields(NodeSpec)) for node in DOC["nodes"]]
TABLES += [(("nodes", node, "sockets", k), _fields(SocketSpec)) for node, k in SOCKETS]
TABLES += [
    (("nodes", node, "params"), _fields(_params_model(spec["behaviour"])))
    for node, spec in DOC["nodes"].items()
    if "params" in spec
]

REQUIRED: list[tuple[Any, ...]] = [
    ("nodes",),
    ("params", "transport"),
    ("params", "workers"),
    ("nodes", "ventilator", "params", "workload"),
    ("nodes", "ventilator", "params", "workload", "dist"),
    ("nodes", "ventilator", "params", "workload", "low"),
    ("nodes", "sub", "params", "service", "mean"),
    ("nodes", "pub", "sockets", 0, "bind"),
    ("nodes", "worker", "sockets", 1, "connect"),
]
REQUIRED += [("nodes", node, "behaviour") for node in DOC["nodes"]]
REQUIRED += [
    ("nodes", node, "sockets", k, field) for node, k in SOCKETS for field in ("name", "type")
]

# Values no lax pydantic conversion can turn into the field's type.
_WORD = st.text(string.ascii_letters, min_size=1, max_size=8).filter(
    lambda s: s.lower() not in {"inf", "infinity", "nan"}
)
_LIST = st.lists(st.integers(-5, 5), max_size=3)
_TABLE = st.dictionaries(_WORD, st.integers(-5, 5), max_size=2)
_NUMBER = st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False)
NOT_A_NUMBER = _WORD | _LIST | _TABLE
NOT_AN_INT = NOT_A_NUMBER | st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda x: not x.is_integer()
)
NOT_A_STRING = _NUMBER | st.booleans() | _LIST | _TABLE
NOT_A_LIST = _NUMBER | st.booleans() | _WORD | _TABLE
NOT_A_BOOL = _LIST | _TABLE
NOT_A_TABLE = _NUMBER | _WORD | _LIST

WRONG_TYPES: list[tuple[tuple[Any, ...], st.SearchStrategy[Any]]] = [
    (("nodes",), NOT_A_TABLE | st.booleans()),
    (("params",), NOT_A_TABLE),
    (("run",), NOT_A_TABLE),
    (("model",), NOT_A_TABLE),
    (("model", "tcp"), NOT_A_TABLE),
    (("run", "until"), NOT_A_NUMBER),
    (("run", "seed"), NOT_AN_INT),
    (("run", "stop_after"), NOT_A_LIST),
    (("run", "record"), NOT_A_STRING),
    (("model", "app_send_s"), NOT_A_NUMBER),
    (("model", "batch_bytes"), NOT_AN_INT),
    (("nodes", "pub", "crash_at"), NOT_A_NUMBER),
    (("nodes", "worker", "count"), NOT_AN_INT | st.booleans()),
    (("nodes", "ventilator", "start"), NOT_A_TABLE),
    (("nodes", "ventilator", "start", "delay"), NOT_A_NUMBER),
    (("nodes", "ventilator", "params", "workload"), _WORD | _LIST | st.booleans()),
    (("nodes", "ventilator", "params", "tasks"), NOT_AN_INT),
    (("nodes", "sub", "params", "service", "mean"), NOT_A_NUMBER),
    (("nodes", "sub", "sockets", 0, "subscribe"), NOT_A_LIST),
    (("nodes", "sub", "sockets", 0, "conflate"), NOT_A_BOOL),
    (("nodes", "sub", "sockets", 0, "immediate"), NOT_A_BOOL),
    (("nodes", "pub", "sockets", 0, "xpub_nodrop"), NOT_A_BOOL),
]
for _node, _spec in DOC["nodes"].items():
    WRONG_TYPES += [
        (("nodes", _node), NOT_A_TABLE),
        (("nodes", _node, "behaviour"), NOT_A_STRING),
        (("nodes", _node, "sockets"), NOT_A_LIST),
        (("nodes", _node, "params"), NOT_A_TABLE),
    ]
for _node, _k in SOCKETS:
    _sock = ("nodes", _node, "sockets", _k)
    WRONG_TYPES += [
        (_sock, NOT_A_TABLE),
        ((*_sock, "name"), NOT_A_STRING),
        ((*_sock, "type"), NOT_A_STRING),
        ((*_sock, "rcvhwm"), NOT_AN_INT),
        ((*_sock, "sndhwm"), NOT_AN_INT),
        ((*_sock, "linger"), NOT_AN_INT),
        (
            (*_sock, "bind" if "bind" in DOC["nodes"][_node]["sockets"][_k] else "connect"),
            NOT_A_LIST,
        ),
    ]

_HOST = st.text(string.ascii_lowercase + string.digits + "-.", min_size=1, max_size=10)
BAD_ENDPOINTS = st.one_of(
    # no transport://
    st.text(string.printable.strip(), max_size=20).filter(
        lambda s: "://" not in s and not s.startswith("=") and "${" not in s
    ),
    # unknown transport
    st.builds(
        "{}://{}".format,
        st.text(string.ascii_lowercase, min_size=1, max_size=6).filter(
            lambda t: t not in TRANSPORTS
        ),
        _HOST,
    ),
    # transport that is not lower case
    st.builds("{}://{}:5555".format, st.sampled_from(["TCP", "Tcp", "IPC"]), _HOST),
    # tcp-like without a valid port
    st.builds(
        "{}://{}:{}".format,
        st.sampled_from(["tcp", "pgm", "epgm"]),
        _HOST,
        st.integers(65536, 10**7) | st.just(0) | _WORD,
    ),
    st.builds("{}://{}".format, st.sampled_from(["tcp", "pgm", "epgm"]), _HOST),
    # tcp with a host the address pattern refuses
    st.builds("tcp://{}:5555".format, st.sampled_from(["a b", "a/b", "", "ho$t", "[zz]"])),
    # nothing after the transport
    st.sampled_from(["tcp://", "ipc://", "inproc://"]),
)

BREAKERS = [
    "[",
    "[nodes",
    "x = ",
    "= 1",
    "a = 1 = 2",
    'k = "open',
    "k = {",
    "k = [1,",
    "nodes = 1",
    "[[[",
    "\x00",
    "k = 'a\nb'",
    "k = 1__0",
    "k = 01",
]

# Keys for unknown-key mutations: no control or line-separator characters.
KEYS = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=12
)


@st.composite
def malformed(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """(kind, expected problem or '', file bytes) for a scenario that must not validate."""
    kind = draw(
        st.sampled_from(
            ["toml", "type", "delete", "unknown", "typo", "endpoint", "hwm", "param-hwm", "bytes"]
        )
    )
    doc = deepcopy(DOC)
    expected = ""
    if kind == "toml":
        text = to_toml(doc)
        if draw(st.booleans()):
            lines = text.splitlines(keepends=True)
            at = draw(st.integers(0, len(lines)))
            text = (
                "".join(lines[:at]) + draw(st.sampled_from(BREAKERS)) + "\n" + "".join(lines[at:])
            )
        else:
            # drop one quote or one inline table's closing brace: the line no longer parses
            positions = [i for i, c in enumerate(text) if c == '"' or text[i - 1 : i + 1] == " }"]
            at = draw(st.sampled_from(positions))
            text = text[:at] + text[at + 1 :]
        return kind, "invalid TOML: ", text.encode()
    if kind == "bytes":
        text = to_toml(doc).encode()
        at = draw(st.integers(0, len(text)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80abc"]))
        return kind, "cannot read file: ", text[:at] + bad + text[at:]
    if kind == "type":
        path, values = draw(st.sampled_from(WRONG_TYPES))
        value = draw(values)
        get(doc, path[:-1])[path[-1]] = value
    elif kind == "delete":
        path = draw(st.sampled_from(REQUIRED))
        del get(doc, path[:-1])[path[-1]]
    elif kind == "unknown":
        path, allowed = draw(st.sampled_from(TABLES))
        key = draw(KEYS.filter(lambda k: k not in allowed))
        get(doc, path)[key] = draw(st.integers(0, 5) | _WORD | _LIST)
        expected = "unknown key "
    elif kind == "typo":
        # a one-letter substitution in an optional key of five letters or more: a did-you-mean
        candidates = [
            (path, key)
            for path, allowed in TABLES
            for key in get(doc, path)
            if len(key) >= 5
            and path != ()
            and key not in {"behaviour", "name", "type"}
            and key not in {"workload", "dist", "low", "high", "mean"}
        ]
        path, key = draw(st.sampled_from(candidates))
        allowed = dict(TABLES)[path]
        at = draw(st.integers(0, len(key) - 1))
        letter = draw(st.sampled_from(string.ascii_lowercase).filter(lambda c: c != key[at]))
        typo = key[:at] + letter + key[at + 1 :]
        assume(typo not in allowed)
        table = get(doc, path)
        table[typo] = table.pop(key)
        expected = f"unknown key {typo!r} (did you mean "
    elif kind == "endpoint":
        path = draw(st.sampled_from(ENDPOINTS))
        get(doc, path[:-1])[path[-1]] = draw(BAD_ENDPOINTS)
    elif kind == "hwm":
        node, k = draw(st.sampled_from(SOCKETS))
        field = draw(st.sampled_from(["sndhwm", "rcvhwm"]))
        value = draw(st.integers(-(2**63), -1))
        doc["nodes"][node]["sockets"][k][field] = value
        group = node
        expected = f"nodes.{group}.sockets[{k}].{field}: must be >= 0, got {value}"
    elif kind == "param-hwm":
        value = draw(st.integers(-(2**63), -1))
        doc["params"]["hwm"] = value
        expected = f"nodes.sink.sockets[0].rcvhwm: must be >= 0, got {value}"
    return kind, expected, to_toml(doc).encode()


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="zsim-malformed-") as tmp:
        yield Path(tmp)


def test_the_hypothesis_base_document_is_valid(scratch: Path) -> None:
    path = scratch / "base.toml"
    path.write_text(to_toml(DOC))
    scenario = load_scenario(path)
    assert len(scenario.nodes) == 6
    assert scenario.nodes["sub"].sockets[0].conflate is True


def validate_in_process(
    path: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(["validate", str(path), *args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str, path: Path, expected: str = "") -> None:
    assert "Traceback" not in out + err
    assert code == 2, (out, err)
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith(f"zsim: error: {path}: "), err
    if expected:
        assert expected in err, err


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=malformed())
def test_malformed_scenarios_give_one_line_and_exit_2(
    case: tuple[str, str, bytes], scratch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _kind, expected, data = case
    path = scratch / "malformed.toml"
    path.write_bytes(data)
    code, out, err = validate_in_process(path, capsys)
    assert_one_line_error(code, out, err, path, expected)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    item=st.one_of(
        # an unknown name
        st.builds(
            "{}={}".format,
            KEYS.map(str.strip).filter(lambda k: k and "=" not in k and k not in DOC["params"]),
            st.integers(0, 9),
        ),
        # a known name with a value of the wrong type
        st.builds("workers={}".format, _WORD | st.sampled_from(["2.5", "true", "[1]", "{}"])),
        st.builds("transport={}".format, st.integers(0, 99) | st.sampled_from(["true", "[]"])),
        st.builds("stagger={}".format, _WORD | st.sampled_from(["false", "[0.1]"])),
        # no '='
        KEYS.filter(lambda k: "=" not in k),
    )
)
def test_bad_set_overrides_give_one_line_and_exit_2(
    item: str, scratch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scratch / "base.toml"
    path.write_text(to_toml(DOC))
    code, out, err = validate_in_process(path, capsys, f"--set={item}")
    assert "Traceback" not in out + err
    assert code == 2, (out, err)
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("zsim: error: "), err


# --- known gaps in the one-line guarantee (project bugs; see the reasons) -----------------------


@pytest.mark.parametrize("key", ["a\nb", "x\r\ny", "tab\there\u2028"], ids=["lf", "crlf", "tab-ls"])
def test_control_characters_in_keys_stay_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    doc = deepcopy(DOC)
    doc["nodes"]["sink"]["sockets"][0][key] = 1
    path = write(tmp_path, to_toml(doc))
    code, out, err = validate_in_process(path, capsys)
    assert_one_line_error(code, out, err, path)
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("ref", [":run", "..relative:run", ".x:run"])
def test_malformed_behaviour_reference_gives_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ref: str
) -> None:
    path = write(tmp_path, edit('behaviour = "sink"', f'behaviour = "{ref}"'))
    code, out, err = validate_in_process(path, capsys)
    assert_one_line_error(code, out, err, path, "nodes.sink.behaviour: cannot import behaviour")


def test_deeply_nested_expression_gives_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, edit('"=(i - 1) * stagger"', '"=' + "-" * 5000 + '1"'))
    code, out, err = validate_in_process(path, capsys)
    assert_one_line_error(code, out, err, path, "nodes.worker.start.at: ")


def test_zsim_error_is_the_base_of_scenario_error() -> None:
    assert issubclass(ScenarioError, ZsimError)
    assert ScenarioError("f.toml", "a.b", "bad").exit_code == 2
    assert str(ScenarioError("f.toml", "", "bad")) == "f.toml: bad"
