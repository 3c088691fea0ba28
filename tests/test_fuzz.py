"""Fuzzing (#21 item 9): no scenario file and no argument list gives a traceback or runs over 5 s.

Scenario files start from the hypothesis base document of test_scenario_validation (valid
grammar) with one to three values replaced by wild ones: wrong types, deep nesting, huge
numbers, unicode and control characters, odd endpoints, expressions built to explode. Argument
lists mix real subcommands and options with bad values. 1,600 + 400 examples, derandomized so
CI sees the same 2,000 every time.
"""

from __future__ import annotations

import string
import tempfile
import time
from collections.abc import Iterator
from copy import deepcopy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scenario_validation import DOC, to_toml

from zsim.cli import main

LIMIT_S = 5.0


def leaf_paths(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in leaf_paths(v, (*path, k))] + [path]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in leaf_paths(v, (*path, i))] + [path]
    return [path]


PATHS = [p for p in leaf_paths(DOC) if p]

NASTY_EXPRESSIONS = [
    "10**10**9", "'x'*10**11", "[0]*10**9", "i**i**i**i", "(" * 300 + "1" + ")" * 300,
    "-" * 5000 + "1", "2.0**10**6", "int(1e308)*int(1e308)", "str(10**4000)", "count*10**18",
    "max([1]*100000)", "{1: 2}[1]", "__import__('os')", "i if i else 1/0", "round(1e300)",
]
ENDPOINTS = [
    "tcp://[::1]:0", "tcp://*:99999", "tcp://é:5555", "ipc://" + "p" * 5000, "inproc://",
    "inproc://é\u2028x", "tcp://host:-1", "ipc://a\x00b", "udp://x:1", "tcp://:5555",
]


def nested(depth: int) -> Any:
    value: Any = 1
    for k in range(depth):
        value = [value] if k % 2 else {"k": value}
    return value


WILD = st.one_of(
    st.integers(-(10**40), 10**40),
    st.sampled_from([2**63, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(st.characters(min_codepoint=0x80), max_size=20),
    st.sampled_from(["=" + e for e in NASTY_EXPRESSIONS]),
    st.sampled_from(ENDPOINTS),
    st.sampled_from(ENDPOINTS).map(lambda e: [e]),
    st.integers(1, 80).map(nested),
    st.lists(st.integers(), max_size=5),
    st.dictionaries(st.text(string.ascii_letters, max_size=5), st.integers(), max_size=3),
    st.booleans(),
    st.just("${nope}"),
)


@st.composite
def fuzzed_scenario(draw: st.DrawFn) -> str:
    doc = deepcopy(DOC)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = draw(WILD)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced a table on this path
    return to_toml(doc)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="zsim-fuzz-") as tmp:
        yield Path(tmp)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    capsys.readouterr()
    start = time.monotonic()
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    return code, out + err, elapsed


@settings(max_examples=1600, derandomize=True, deadline=timedelta(seconds=LIMIT_S),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=fuzzed_scenario())
def test_fuzzed_scenarios_validate_or_fail_in_one_line(
    text: str, scratch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scratch / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    code, output, elapsed = run_cli(["validate", str(path)], capsys)
    assert "Traceback" not in output, output
    assert code in (0, 2), output
    if code == 2:
        assert output.startswith("zsim: error: ") and output.count("\n") == 1, output
    assert elapsed < LIMIT_S


SUBCOMMANDS = ["validate", "run", "inspect", "list", "docs"]
TOKENS = [
    "hello_reqrep", "pipeline", "nope", "--seed", "-1", "abc", "99999999999999999999999",
    "--set", "requests=2", "requests=10**9", "requests=\"é\"", "=", "x", "--timeout", "0",
    "1e-9", "nan", "--record", "messages", "bogus", "--backend", "sim", "nope", "--reps",
    "0", "--strict", "--help", "--profile", "default", "/nonexistent/p.json", "--out",
    "\u2028", "", "-", "--", "--set=workers=\u00e9",
]


@settings(max_examples=400, derandomize=True, deadline=timedelta(seconds=LIMIT_S),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sub=st.sampled_from(SUBCOMMANDS), args=st.lists(st.sampled_from(TOKENS), max_size=6))
def test_fuzzed_argument_lists_never_give_a_traceback(
    sub: str, args: list[str], capsys: pytest.CaptureFixture[str], scratch: Path
) -> None:
    argv = [sub, *args]
    if "--out" in argv:  # a fresh, private target: never the checkout
        argv[argv.index("--out")] = f"--out={scratch / f'out-{time.monotonic_ns()}'}"
    code, output, elapsed = run_cli([*argv, "--timeout", "4"] if sub == "run" else argv,
                                    capsys)
    assert "Traceback" not in output, (argv, output)
    assert code in (0, 1, 2), (argv, output)
    if code == 2:
        assert output.rstrip("\n").splitlines()[-1].startswith(("zsim: error: ", "Error: ",
                                                                "Try ")), (argv, output)
    assert elapsed < LIMIT_S
