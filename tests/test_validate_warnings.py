"""`zsim validate` warns on what is valid but likely wrong, and --strict fails on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_scenario_validation import validate_in_process

from zsim.cli import main

BASE = """
[run]
stop_after = {stop_after}
[nodes.a]
behaviour = "publisher"
params = {{ socket = "out", count = 1 }}
start = {{ after = "{after}:ready" }}
sockets = [{{ name = "out", type = "{a_type}", bind = ["tcp://a:5600"] }}]
[nodes.client]
count = 2
behaviour = "subscriber"
params = {{ socket = "in", idle_timeout = 0.1 }}
sockets = [{{ name = "in", type = "{b_type}", connect = ["{connect}"] }}]
"""


def validate(capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str,
             **fields: str) -> tuple[int, str, str]:
    values = {"stop_after": '["client-*"]', "after": "client-*", "a_type": "PUSH",
              "b_type": "PULL", "connect": "tcp://a:5600", **fields}
    path = tmp_path / "s.toml"
    path.write_text(BASE.format(**values))
    return validate_in_process(path, capsys, *extra)


def test_a_clean_scenario_has_no_warnings_and_wildcards_work_everywhere(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = validate(capsys, tmp_path, "--strict")
    assert (code, err) == (0, "")
    assert "ok: 3 nodes (a, client-1, client-2)" in out


@pytest.mark.parametrize(("fields", "warning"), [
    ({"connect": "tcp://nobody:5600"}, "connect: 'tcp://nobody:5600' is bound by no node"),
    ({"connect": "tcp://nobody:5600"}, "bind: nobody connects to 'tcp://a:5600'"),
    ({"a_type": "DEALER"}, "DEALER to ... refuses"),
])
def test_each_warning_names_the_field_and_strict_fails(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, fields: dict[str, str],
        warning: str) -> None:
    code, _, err = validate(capsys, tmp_path, **fields)
    assert code == 0
    if "..." in warning:  # the pair's warning: the connecting type first
        assert "nodes.client-1.sockets[0].connect: PULL to DEALER (a)" in err
        assert "libzmq refuses this pair in the handshake" in err
    else:
        assert warning in err
    assert all(line.startswith("zsim: warning: ") for line in err.splitlines())
    code, _, err = validate(capsys, tmp_path, "--strict", **fields)
    assert code == 2 and "--strict" in err.splitlines()[-1]


@pytest.mark.parametrize(("fields", "error"), [
    ({"stop_after": '["ghost-*"]'}, "run.stop_after names unknown node 'ghost-*'"),
    ({"after": "ghost"}, "nodes.a.start.after: names no other node, got 'ghost:ready'"),
])
def test_names_that_match_no_node_are_errors(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path, fields: dict[str, str],
                                             error: str) -> None:
    code, _, err = validate(capsys, tmp_path, **fields)
    assert code == 2
    assert error in err and err.count("\n") == 1


@pytest.mark.parametrize(("ref", "why"), [
    ("os:system", "is not a behaviour: a behaviour is a generator function"),
    ("zsim.api:run", "is not a behaviour: a behaviour is a generator function"),
    ("no_such_module_zsim:f", "cannot import behaviour"),
])
def test_a_behaviour_that_is_not_one_is_a_one_line_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, ref: str, why: str) -> None:
    path = tmp_path / "b.toml"
    path.write_text(f'[nodes.a]\nbehaviour = "{ref}"\n'
                    'sockets = [{ name = "out", type = "PUSH", bind = ["tcp://a:1"] }]\n')
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["validate", str(path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert "nodes.a.behaviour" in err and why in err
