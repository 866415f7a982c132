"""Parser of the strategy expression language: trees, spans and golden diagnostics."""

from __future__ import annotations

import dataclasses
import json
import random
import textwrap

import pytest
from hftc.diagnostics.model import Span
from hftc.diagnostics.render import render_text
from hftc.expr.parser import parse_expression
from hftc.ir.expr import Binary, Call, Cond, Const, Name, Unary, children, expr_from_json, expr_to_json, walk
from hypothesis import given, settings
from hypothesis import strategies as st
from test_expr_differential import gen_expr

ORIGIN = Span("s.yaml", 7, 12, 7, 13)


def parse(text: str):
    node, diags = parse_expression(text, ORIGIN)
    assert diags == [], diags
    return node


def show(node) -> str:
    """Fully parenthesised form, to check precedence and associativity."""
    if isinstance(node, Const):
        return repr(node.value)
    if isinstance(node, Name):
        return node.dotted
    if isinstance(node, Unary):
        return f"({node.op} {show(node.operand)})"
    if isinstance(node, Binary):
        return f"({show(node.left)} {node.op} {show(node.right)})"
    if isinstance(node, Cond):
        return f"(if {show(node.cond)} then {show(node.then)} else {show(node.orelse)})"
    if isinstance(node, Call):
        return f"{node.func}({', '.join(show(a) for a in node.args)})"
    raise TypeError(node)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("8 / 4 / 2", "((8 / 4) / 2)"),
        ("-a * b", "((- a) * b)"),
        ("- -a", "(- (- a))"),
        ("a % b * c", "((a % b) * c)"),
        ("a < b + 1 and not c or d", "(((a < (b + 1)) and (not c)) or d)"),
        ("not a == b", "(not (a == b))"),
        ("if a > 0 then 1 else 2 + 3", "(if (a > 0) then 1 else (2 + 3))"),
        ("(if c then 1 else 2) * 3", "((if c then 1 else 2) * 3)"),
        ("if c then if d then 1 else 2 else 3", "(if c then (if d then 1 else 2) else 3)"),
        ("clamp(x, -1, 1)", "clamp(x, (- 1), 1)"),
        ("ema(book.mid, 20) - ETHUSDT.mid", "(ema(book.mid, 20) - ETHUSDT.mid)"),
        ("last_trade.side", "last_trade.side"),
        ("f()", "f()"),
        ("true and false", "(True and False)"),
        ("iffy + order + android", "((iffy + order) + android)"),
    ],
)
def test_precedence(text, expected):
    assert show(parse(text)) == expected


@pytest.mark.parametrize(
    "text, value",
    [
        ("2e4", 20000.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("3.", 3.0),
        ("1E-3", 0.001),
        ("42", 42),
        ("9223372036854775807", 2**63 - 1),
    ],
)
def test_number_literals(text, value):
    node = parse(text)
    assert isinstance(node, Const)
    assert node.value == value and type(node.value) is type(value)


def test_spans_point_into_the_file():
    node = parse("mid * (1 - spread_bps / 20000)")
    assert node.span == Span("s.yaml", 7, 12, 7, 42)
    spread = next(n for n in walk(node) if isinstance(n, Name) and n.parts == ("spread_bps",))
    assert spread.span == Span("s.yaml", 7, 23, 7, 33)
    # a parenthesised operand's parent span includes the parentheses
    assert node.right.span == Span("s.yaml", 7, 19, 7, 41)
    call = parse("abs(position)")
    assert call.span == Span("s.yaml", 7, 12, 7, 25)


def test_multiline_spans_use_indent():
    node, diags = parse_expression("a +\n  b", ORIGIN, indent=6)
    assert not diags
    assert node.right.span == Span("s.yaml", 8, 9, 8, 10)


def test_json_round_trip_is_exact():
    node = parse("if a.b < 0.1 then -clamp(x, 1e-300, 2e4) else 7 % 3")
    data = json.loads(json.dumps(expr_to_json(node)))
    assert expr_from_json(data) == node
    assert expr_from_json(data).orelse.left.value == 7


# ----------------------------------------------------------------------------- golden diagnostics

SOURCE = textwrap.dedent(
    """\
    strategies:
      mm:
        quote:
          bid: {price: "mid * (1 - spread_bps / 20000", qty: "1"}
        when: abs(position) < < 3
        exit: position $ 2
        signals:
          a: 1 < 2 < 3
          b: 99999999999999999999 + 1
          c: 1e999
          d: ema(x,, 3)
    """
)


def origin_of(line: int, needle: str) -> Span:
    col = SOURCE.splitlines()[line - 1].index(needle) + 1
    return Span("strategy.yaml", line, col, line, col + 1)


def render_parse_error(line: int, needle: str, text: str) -> str:
    node, diags = parse_expression(text, origin_of(line, needle))
    assert node is None and len(diags) == 1
    assert diags[0].code == "HFT0510"
    return render_text(diags[0], {"strategy.yaml": SOURCE}.get)


GOLDEN = [
    (
        4,
        "mid *",
        "mid * (1 - spread_bps / 20000",
        """\
error[HFT0510]: unexpected end of expression
 --> strategy.yaml:4:50
  |
4 |       bid: {price: "mid * (1 - spread_bps / 20000", qty: "1"}
  |                                                  ^ expected `)`""",
    ),
    (
        5,
        "abs",
        "abs(position) < < 3",
        """\
error[HFT0510]: unexpected `<`
 --> strategy.yaml:5:27
  |
5 |     when: abs(position) < < 3
  |                           ^ expected `(`, `-`, `false`, `true`, a name or a number""",
    ),
    (
        6,
        "position",
        "position $ 2",
        """\
error[HFT0510]: unexpected character `$`
 --> strategy.yaml:6:20
  |
6 |     exit: position $ 2
  |                    ^ not part of the expression language""",
    ),
    (
        8,
        "1 <",
        "1 < 2 < 3",
        """\
error[HFT0510]: unexpected `<`
 --> strategy.yaml:8:16
  |
8 |       a: 1 < 2 < 3
  |                ^ expected `)`, `+`, `,`, `-`, `and`, `else`, `or`, `then` or end of expression
  |
  = help: comparisons do not chain; write `a < b and b < c`""",
    ),
    (
        9,
        "999",
        "99999999999999999999 + 1",
        """\
error[HFT0510]: integer literal is too large
 --> strategy.yaml:9:10
  |
9 |       b: 99999999999999999999 + 1
  |          ^^^^^^^^^^^^^^^^^^^^ does not fit in a 64-bit signed integer
  |
  = help: write it as a float, e.g. `1e19`""",
    ),
    (
        10,
        "1e999",
        "1e999",
        """\
error[HFT0510]: float literal is out of range
  --> strategy.yaml:10:10
   |
10 |       c: 1e999
   |          ^^^^^ overflows a 64-bit float""",
    ),
    (
        11,
        "ema",
        "ema(x,, 3)",
        """\
error[HFT0510]: unexpected `,`
  --> strategy.yaml:11:16
   |
11 |       d: ema(x,, 3)
   |                ^ expected `(`, `-`, `false`, `if`, `not`, `true`, a name or a number""",
    ),
]


@pytest.mark.parametrize("line, needle, text, expected", GOLDEN, ids=[g[2] for g in GOLDEN])
def test_golden_syntax_errors(line, needle, text, expected):
    assert render_parse_error(line, needle, text) == expected


def test_empty_expression():
    node, diags = parse_expression("   ", ORIGIN)
    assert node is None
    assert [(d.code, d.message, d.span) for d in diags] == [
        ("HFT0510", "empty expression", Span("s.yaml", 7, 12, 7, 13))
    ]


# ----------------------------------------------------------------------------- property: spans


def _strip(node):
    """The tree without spans, for structural comparison."""
    kids = tuple(_strip(c) for c in children(node))
    fields = {f.name: getattr(node, f.name) for f in dataclasses.fields(node) if f.name != "span"}
    for name in ("left", "right", "operand", "cond", "then", "orelse", "args"):
        fields.pop(name, None)
    return (type(node).__name__, tuple(sorted(fields.items(), key=lambda kv: kv[0])), kids)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), t=st.sampled_from(["int", "float", "bool"]))
def test_every_node_span_slices_source_that_reparses_to_the_same_subtree(seed, t):
    """Random expressions (the differential test's generator): the span of every
    node, cut out of the source, parses back to the same subtree."""
    text = gen_expr(random.Random(seed), t, 5, {"v0": "float"})
    node = parse(text)
    for sub in walk(node):
        s = sub.span
        assert s.line == s.end_line == ORIGIN.line
        piece = text[s.col - ORIGIN.col : s.end_col - ORIGIN.col]
        again, diags = parse_expression(piece, ORIGIN)
        assert diags == [], (piece, diags)
        assert _strip(again) == _strip(sub), piece
