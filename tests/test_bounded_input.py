"""No scenario file or ``--set`` value can hang validate or exhaust memory (#21 item 5).

Each case is one the issue names (or the limit next to it), run through ``zsim validate`` in this
process: one ``zsim: error:`` line naming file, field and limit, exit 2. A subprocess timeout
bounds each, so a regression to hanging fails rather than stalls the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zsim.catalog import scenario_path
from zsim.scenario.expr import ExpressionError, evaluate
from zsim.scenario.limits import Limits
from zsim.scenario.load import load_scenario

HELLO = scenario_path("hello_reqrep").read_text(encoding="utf-8")
CLIENT = "[nodes.client]\n"


def validate(tmp_path: Path, text: str, *args: str, env: dict[str, str] | None = None
             ) -> tuple[int, str]:
    path = tmp_path / "x.toml"
    path.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "zsim.cli", "validate", str(path), *args],
        capture_output=True, text=True, timeout=30, env=env,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stderr


def in_client(line: str) -> str:
    assert HELLO.count(CLIENT) == 1
    return HELLO.replace(CLIENT, CLIENT + line + "\n")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("x = " + "[" * 5000 + "]" * 5000, "x.toml: line 24 (x): nested deeper than the limit "
         "of 32 tables or arrays"),
        ("x = " + "[" * 40 + "]" * 40, "x.toml: nodes.client.x[0][0]"),
        ("count = 1000000000", "nodes.client.count: 1,000,000,001 nodes in all, beyond the "
         "limit of 10,000"),
        ('count = "=10**10**9"', "nodes.client.count: '10**10**9' would make a power of about "
         "3,321,928,095 bits, beyond the limit"),
        ("description = \"='x'*10**11\"", "nodes.client.description: \"'x'*10**11\" would make "
         "a string of 100,000,000,000 characters (limit 10,000)"),
        ("count = 100000000000000000000", "nodes.client.count: integer beyond the limit of "
         "±9223372036854775807 (67 bits)"),
        ('x = "' + "y" * 10_001 + '"', "nodes.client.x: string of 10,001 characters, beyond "
         "the limit of 10,000"),
        ("x = [" + "0," * 100_001 + "]", "nodes.client.x: array of 100,001 items, beyond the "
         "limit of 100,000"),
        ('count = "=' + "1+" * 600 + '1"', "nodes.client.count: expression of 1,201 "
         "characters, beyond the limit of 1,000"),
    ],
    ids=["deep-5000", "deep-40", "count", "power", "string-repeat", "int", "string", "array",
         "expression"],
)
def test_each_limit_is_one_line_naming_file_field_and_limit(
    tmp_path: Path, line: str, expected: str
) -> None:
    code, err = validate(tmp_path, in_client(line))
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert err.startswith("zsim: error: "), err
    assert expected in err, err


def test_a_huge_set_value_is_refused_by_name(tmp_path: Path) -> None:
    code, err = validate(tmp_path, HELLO, "--set", "transport=" + '"' + "t" * 20_000 + '"')
    assert code == 2
    assert "params.transport: string of 20,000 characters" in err


def test_substitution_cannot_build_a_string_past_the_limit(tmp_path: Path) -> None:
    text = HELLO.replace("[params]\n", '[params]\nw = "' + "w" * 9_000 + '"\n', 1)
    code, err = validate(tmp_path, text.replace(CLIENT, CLIENT + 'description = "${w}${w}"\n'))
    assert code == 2, err
    assert "nodes.client.description: string of 18,000 characters" in err


def test_zsim_max_nodes_raises_the_node_limit(tmp_path: Path) -> None:
    text = in_client("count = 20")
    code, err = validate(tmp_path, text, env={**os.environ, "ZSIM_MAX_NODES": "10"})
    assert code == 2
    assert "21 nodes in all, beyond the limit of 10" in err
    code, err = validate(tmp_path, text, env={**os.environ, "ZSIM_MAX_NODES": "21"})
    assert code == 0, err
    code, err = validate(tmp_path, text, env={**os.environ, "ZSIM_MAX_NODES": "lots"})
    assert code == 2
    assert "ZSIM_MAX_NODES: must be an integer >= 1, got 'lots'" in err


def test_a_file_past_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text(HELLO + "#" * 5_000, encoding="utf-8")
    with pytest.raises(Exception, match="file larger than the limit of 1,000 bytes"):
        load_scenario(path, limits=Limits(file_bytes=1_000))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2**63", "an integer of 64 bits"),
        ("[0]*100001", "an array of 100,001 items"),
        ("int(1e300)", "an integer of 997 bits"),
        ("str(10 ** 5000)", "a power of about 16,610 bits"),
        ("2.0**10**6", "cannot evaluate"),
        ("'ab'*-3 + 'x'*10001", "a string of 10,001 characters"),
    ],
)
def test_expressions_are_bounded_before_they_are_computed(text: str, expected: str) -> None:
    with pytest.raises(ExpressionError, match=expected.replace("*", r"\*")):
        evaluate(text, {})


def test_values_inside_the_limits_still_evaluate() -> None:
    assert evaluate("2**62 + (2**62 - 1)", {}) == 2**63 - 1
    assert evaluate("'ab' * 3", {}) == "ababab"
    assert evaluate("[1, 2] * 2", {}) == [1, 2, 1, 2]
    assert evaluate("2**62 * -1 - (2**62 - 1)", {}) == -(2**63) + 1
