"""The ``"=expr"`` evaluator: a small, safe expression language for scenario values."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zsim.scenario.expr import FUNCTIONS, ExpressionError, evaluate

SCOPE = {"i": 3, "count": 4, "name": "worker-3", "stagger": 0.5, "sync": True, "hwm": 1000}


# --- what is allowed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 - 10", -3),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("2 ** 10", 1024),
        ("-5 + +2", -3),
        ("0.1 * 10", 1.0),
        ("1e3", 1000.0),
        ("'tcp' + '://' + 'sink:5558'", "tcp://sink:5558"),
        ("  1 + 1  ", 2),
    ],
)
def test_arithmetic(text: str, expected: object) -> None:
    assert evaluate(text, {}) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i", 3),
        ("(i - 1) * stagger", 1.0),
        ("count - i", 1),
        ("name", "worker-3"),
        ("name + ':ready'", "worker-3:ready"),
        ("hwm // count", 250),
    ],
)
def test_names_come_from_the_scope(text: str, expected: object) -> None:
    assert evaluate(text, SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i == 3", True),
        ("i != 3", False),
        ("i < 3", False),
        ("i <= 3", True),
        ("i > 2", True),
        ("i >= 4", False),
        ("i > 2 and count > 3", True),
        ("i > 5 or count > 3", True),
        ("not sync", False),
        ("not (i > 5)", True),
    ],
)
def test_comparisons_and_boolean_operators(text: str, expected: bool) -> None:
    assert bool(evaluate(text, SCOPE)) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'worker-*' if sync else 'worker-1'", "worker-*"),
        ("0.01 if sync else 0.0", 0.01),
        ("0.0 if not sync else (i - 1) * stagger", 1.0),
        ("'first' if i == 1 else 'middle' if i < count else 'last'", "middle"),
        ("('worker-*' if sync else 'worker-1') + ':ready'", "worker-*:ready"),
    ],
)
def test_conditionals(text: str, expected: object) -> None:
    assert evaluate(text, SCOPE) == expected


def test_conditionals_and_boolean_operators_are_lazy() -> None:
    assert evaluate("1 if True else 1 / 0", {}) == 1
    assert evaluate("1 / 0 if False else 2", {}) == 2
    assert not evaluate("False and 1 / 0", {})
    assert evaluate("True or 1 / 0", {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("min(i, 2)", 2),
        ("max(i, count, 10)", 10),
        ("abs(1 - i)", 2),
        ("int(stagger * 10)", 5),
        ("float(i)", 3.0),
        ("str(i)", "3"),
        ("'worker-' + str(i - 1)", "worker-2"),
        ("round(2.675 * 100)", 268),
        ("round(stagger * i, 1)", 1.5),
    ],
)
def test_whitelisted_functions(text: str, expected: object) -> None:
    assert evaluate(text, SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2]", [1, 2]),
        ("(1, 2)", [1, 2]),
        ("[]", []),
        ("[i, i * 2, name]", [3, 6, "worker-3"]),
        ("{'a': 1}", {"a": 1}),
        ("{'dist': 'exponential', 'mean': stagger}", {"dist": "exponential", "mean": 0.5}),
        ("{'dist': 'constant', 'value': 1} if sync else 0.0", {"dist": "constant", "value": 1}),
        ("[{'x': i}]", [{"x": 3}]),
    ],
)
def test_list_and_table_literals(text: str, expected: object) -> None:
    assert evaluate(text, SCOPE) == expected


@pytest.mark.parametrize("text", ["{**{'a': 1}}", "{[1]: 2}", "{1, 2}", "[1, 2][0]"])
def test_bad_literals_give_expression_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(text, SCOPE)


def test_the_function_whitelist_is_the_documented_one() -> None:
    assert set(FUNCTIONS) == {"min", "max", "abs", "int", "float", "str", "round"}


def test_a_scope_name_shadows_nothing_dangerous() -> None:
    # A name in scope is a value: calling it is still not allowed unless it is whitelisted.
    with pytest.raises(ExpressionError):
        evaluate("f(1)", {"f": print})


# --- what is rejected ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # attribute access
        "().__class__",
        "name.upper",
        "'a'.join(['b'])",
        "i.real",
        "().__class__.__bases__[0].__subclasses__()",
        # calls to functions that are not whitelisted
        "open('/etc/passwd')",
        "eval('1')",
        "exec('x = 1')",
        "__import__('os')",
        "getattr(i, 'real')",
        "globals()",
        "print(1)",
        "len('abc')",
        "sum([1, 2])",
        # keyword arguments, even to whitelisted functions
        "round(1.25, ndigits=1)",
        # lambdas
        "lambda: 1",
        "(lambda x: x)(1)",
        # other syntax outside the language
        "[1, 2][0]",
        "[x for x in (1, 2)]",
        "{1, 2}",
        "(x := 1)",
        "f'{i}'",
        "*i",
        "1 < i < 5",
        "i in (1, 2)",
        "i is None",
        "1 & 3",
        "1 << 3",
        "~1",
    ],
)
def test_rejected_syntax_gives_expression_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(text, SCOPE)


@pytest.mark.parametrize(
    "text",
    [
        "import os",
        "from os import system",
        "x = 1",
        "del i",
        "1 +",
        "(",
        "",
        "   ",
        "if i: 1",
        "def f(): pass",
    ],
)
def test_statements_and_syntax_errors_give_expression_error(text: str) -> None:
    with pytest.raises(ExpressionError, match=r"^invalid expression "):
        evaluate(text, SCOPE)


def test_unsupported_syntax_message_quotes_the_expression() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("().__class__", {})
    assert str(info.value) == "unsupported syntax in expression '().__class__'"


def test_unknown_name_lists_the_known_names() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("(i - 1) * stagr", {"i": 1, "stagger": 0.1})
    assert str(info.value) == "unknown name 'stagr' in '(i - 1) * stagr' (known: i, stagger)"


@pytest.mark.parametrize(
    "text", ["1 / 0", "1 // 0", "1 % 0", "1.0 / 0", "i / (count - 4)", "1 / (i - i)", "0 ** -1"]
)
def test_division_by_zero_gives_expression_error(text: str) -> None:
    with pytest.raises(ExpressionError, match=r"by zero|to a negative power") as info:
        evaluate(text, SCOPE)
    assert str(info.value).startswith(f"cannot evaluate {text!r}: ")


@pytest.mark.parametrize(
    "text",
    [
        "'a' + 1",
        "'a' - 'b'",
        "'a' < 1",
        "int('x')",
        "float('one')",
        "min()",
        "2.0 ** 10000",
        "int(1e400)",
        "abs('a')",
    ],
)
def test_runtime_errors_give_expression_error(text: str) -> None:
    with pytest.raises(ExpressionError, match=r"^cannot evaluate "):
        evaluate(text, SCOPE)


def test_expression_error_is_a_value_error() -> None:
    assert issubclass(ExpressionError, ValueError)


def test_evaluate_does_not_mutate_the_scope() -> None:
    scope = dict(SCOPE)
    evaluate("i + count", scope)
    assert scope == SCOPE


@pytest.mark.parametrize(
    "text",
    ["-" * 5000 + "1", "not " * 5000 + "1", "1" + " + 1" * 20000],
    ids=["unary-minus", "not", "long-sum"],
)
def test_deeply_nested_expressions_give_expression_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(text, {})


# --- property: nothing but a value or ExpressionError --------------------------------------------

# No '*': '9**9**9' is a legal expression whose value takes forever to compute.
_ALPHABET = string.digits + string.ascii_lowercase[:12] + " +-/%()<>=!.,'_[]{}:"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=30))
def test_any_text_gives_a_value_or_expression_error(text: str) -> None:
    try:
        evaluate(text, {"a": 1, "b": 2.5, "c": "x"})
    except ExpressionError as exc:
        assert "\n" not in str(exc)
