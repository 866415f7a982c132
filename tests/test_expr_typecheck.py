"""Type checking of strategy expressions: golden diagnostics, typing rules, lets, slots."""

from __future__ import annotations

import json
import textwrap

import pytest
from hftc.diagnostics.model import Span
from hftc.diagnostics.render import render_text
from hftc.expr.typecheck import check_expression, check_strategy
from hftc.ir.expr import (
    Binary,
    BookField,
    CheckedStrategy,
    Const,
    LetRef,
    ParamDecl,
    ParamRef,
    Stateful,
    StateVar,
    ToFloat,
    Type,
    walk,
)

SOURCE = textwrap.dedent("""\
    strategies:
      arb:
        instruments: [BTCUSDT, ETHUSDT]
        params:
          n:     {type: int, range: [2, 50], default: 20}
          k:     {type: float, default: 1.5}
          m:     {type: int, default: 3}
        let:
          a: b + 1
          b: c * 2
          c: a - book.mid
          d: d + 1
          spread: ETHUSDT.mid - BTCUSDT.mdi
        signals:
          s1: position + (book.bid > 1)
          s2: clamp(position, 1)
          s3: sma(book.mid, k) + std(book.mid, m) + ema(book.mid, position)
          s4: zscore(book.mid, 0) + sma(book.mid, 100000)
          s5: if position > 0 then 1 else true
          s6: sqrtt(2) + BNBUSDT.mid + last_trade.size
        entry: book.mid * 2
        exit: position and true
""")

PARAMS = {
    "n": ParamDecl("n", Type.INT, 20, 2, 50),
    "k": ParamDecl("k", Type.FLOAT, 1.5),
    "m": ParamDecl("m", Type.INT, 3),
}


def at(line: int) -> tuple[str, str, Span]:
    """(key, expression text, origin) of `key: expression` on `line` of SOURCE."""
    text = SOURCE.splitlines()[line - 1]
    key, _, expr = text.partition(": ")
    col = len(key) + 3
    return key.strip(), expr, Span("strategy.yaml", line, col, line, col + 1)


GOLDEN = """\
error[HFT0516]: cyclic `let` bindings: `a` -> `b` -> `c` -> `a`
  --> strategy.yaml:9:10
   |
 9 |       a: b + 1
   |          ^ `a` uses `b`
  ::: strategy.yaml:10:10
   |
10 |       b: c * 2
   |          - `b` uses `c`
  ::: strategy.yaml:11:10
   |
11 |       c: a - book.mid
   |          - `c` uses `a`
   |
   = note: cycle: `a` -> `b` -> `c` -> `a`
   = help: compute one of them from parameters, state or book fields instead

error[HFT0516]: `let` binding `d` depends on itself
  --> strategy.yaml:12:10
   |
12 |       d: d + 1
   |          ^ `d` uses itself
   |
   = help: compute one of them from parameters, state or book fields instead

error[HFT0515]: unknown book field `mdi`
  --> strategy.yaml:13:37
   |
13 |       spread: ETHUSDT.mid - BTCUSDT.mdi
   |                                     ^^^ not a book field
   |
   = help: did you mean `mid`?

error[HFT0512]: `+` needs a number, found `bool`
  --> strategy.yaml:15:23
   |
15 |       s1: position + (book.bid > 1)
   |                       ^^^^^^^^^^^^ this is `bool`

error[HFT0513]: `clamp` takes 3 arguments but 2 were given
  --> strategy.yaml:16:11
   |
16 |       s2: clamp(position, 1)
   |           ^^^^^^^^^^^^^^^^^^ expected 3 arguments

error[HFT0514]: the window of `sma` must be an int, `k` is `float`
  --> strategy.yaml:17:25
   |
17 |       s3: sma(book.mid, k) + std(book.mid, m) + ema(book.mid, position)
   |                         ^ not an int parameter

error[HFT0514]: the window parameter `m` of `std` has no range
  --> strategy.yaml:17:44
   |
17 |       s3: sma(book.mid, k) + std(book.mid, m) + ema(book.mid, position)
   |                                            ^ its upper bound sizes the ring buffer
   |
   = help: declare `range: [lo, hi]` for `m`

error[HFT0514]: the window of `ema` must be a positive int constant or an int parameter
  --> strategy.yaml:17:63
   |
17 |       s3: sma(book.mid, k) + std(book.mid, m) + ema(book.mid, position)
   |                                                               ^^^^^^^^ not a constant or parameter
   |
   = note: stateful functions keep fixed-size state, so the window is fixed when the strategy is built

error[HFT0514]: the window of `zscore` must be positive
  --> strategy.yaml:18:28
   |
18 |       s4: zscore(book.mid, 0) + sma(book.mid, 100000)
   |                            ^ not positive

error[HFT0514]: the window of `sma` must be at most 65536
  --> strategy.yaml:18:47
   |
18 |       s4: zscore(book.mid, 0) + sma(book.mid, 100000)
   |                                               ^^^^^^ too large

error[HFT0512]: the branches of `if` have different types: `int` and `bool`
  --> strategy.yaml:19:11
   |
19 |       s5: if position > 0 then 1 else true
   |           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  ::: strategy.yaml:19:32
   |
19 |       s5: if position > 0 then 1 else true
   |                                - this is `int`
  ::: strategy.yaml:19:39
   |
19 |       s5: if position > 0 then 1 else true
   |                                       ---- this is `bool`

error[HFT0511]: unknown function `sqrtt`
  --> strategy.yaml:20:11
   |
20 |       s6: sqrtt(2) + BNBUSDT.mid + last_trade.size
   |           ^^^^^
   |
   = help: did you mean `sqrt`?

error[HFT0511]: unknown name `BNBUSDT`
  --> strategy.yaml:20:22
   |
20 |       s6: sqrtt(2) + BNBUSDT.mid + last_trade.size
   |                      ^^^^^^^ not `book`, `last_trade` or an instrument of this strategy
   |
   = help: did you mean `BTCUSDT`?

error[HFT0511]: unknown field `size` of `last_trade`
  --> strategy.yaml:20:47
   |
20 |       s6: sqrtt(2) + BNBUSDT.mid + last_trade.size
   |                                               ^^^^
   |
   = help: did you mean `side`?

error[HFT0517]: `entry` must be a boolean, found `float`
  --> strategy.yaml:21:12
   |
21 |     entry: book.mid * 2
   |            ^^^^^^^^^^^^ this is `float`
   |
   = help: compare it, e.g. `x > 0`

error[HFT0512]: `and` needs a `bool`, found `float`
  --> strategy.yaml:22:11
   |
22 |     exit: position and true
   |           ^^^^^^^^ this is `float`
   |
   = help: compare it with something, e.g. `x > 0`"""


def test_golden_type_errors():
    lets = [at(line) for line in range(9, 14)]
    rules = {}
    for line in range(15, 21):
        key, text, origin = at(line)
        rules["signals." + key] = (text, origin, "float")
    for line in (21, 22):
        key, text, origin = at(line)
        rules[key] = (text, origin, "bool")
    strategy, diags = check_strategy(PARAMS, lets, rules, ["BTCUSDT", "ETHUSDT"])
    assert strategy is None
    rendered = "\n\n".join(render_text(d, {"strategy.yaml": SOURCE}.get) for d in diags)
    assert rendered == GOLDEN


O = Span("t.yaml", 1, 1, 1, 2)


def check_one(text: str, expected="float", params=None, instruments=("EURUSD",)):
    return check_expression(text, O, expected, params=params or PARAMS, instruments=instruments)


def rule_expr(text: str, expected="float", **kw):
    strategy, diags = check_one(text, expected, **kw)
    assert diags == [], [d.message for d in diags]
    return strategy.rules[0].expr


def codes(text: str, expected="float", **kw) -> list[str]:
    strategy, diags = check_one(text, expected, **kw)
    assert strategy is None
    return [d.code for d in diags]


def test_int_division_yields_float():
    e = rule_expr("n / 3")
    assert isinstance(e, Binary) and e.op == "/" and e.type is Type.FLOAT
    assert isinstance(e.left, ToFloat) and isinstance(e.left.operand, ParamRef)
    assert isinstance(e.right, ToFloat) and e.right.operand == Const(3, e.right.operand.span, Type.INT)


def test_int_arithmetic_stays_int_and_mixing_promotes():
    e = rule_expr("n * 2 + 1 % 3", "int")
    assert e.type is Type.INT and not any(isinstance(x, ToFloat) for x in walk(e))
    e = rule_expr("n + k")
    assert e.type is Type.FLOAT and isinstance(e.left, ToFloat) and not isinstance(e.right, ToFloat)


def test_int_rule_result_is_promoted_for_float_places():
    e = rule_expr("n + 1", "float")
    assert isinstance(e, ToFloat) and e.operand.type is Type.INT


def test_comparisons_yield_bool_and_bool_equality():
    assert rule_expr("n < k", "bool").type is Type.BOOL
    assert rule_expr("(n < 1) == (k > 2)", "bool").type is Type.BOOL
    assert codes("(n < 1) < (k > 2)", "bool") == ["HFT0512", "HFT0512"]  # one per operand
    assert codes("(n < 1) == 1", "bool") == ["HFT0512"]
    assert codes("not n", "bool") == ["HFT0512"]
    assert codes("-(n < 1)") == ["HFT0512"]


def test_min_max_clamp_unify_and_transcendentals_take_floats():
    e = rule_expr("clamp(n, 1, k)")
    assert e.type is Type.FLOAT and all(a.type is Type.FLOAT for a in e.args)
    assert rule_expr("max(n, 1)", "int").type is Type.INT
    assert rule_expr("abs(-n)", "int").type is Type.INT
    e = rule_expr("sqrt(n)")
    assert isinstance(e.args[0], ToFloat)


def test_state_and_book_names_resolve():
    e = rule_expr(
        "position + pnl + last_trade.price + last_trade.qty + last_trade.side + book.spread + ETHUSDT.mid",
        instruments=("EURUSD", "ETHUSDT"),
    )
    names = {
        (type(x).__name__, getattr(x, "name", None) or getattr(x, "field", None))
        for x in walk(e)
        if isinstance(x, (StateVar, BookField))
    }
    assert names == {
        ("StateVar", "position"),
        ("StateVar", "pnl"),
        ("StateVar", "last_trade.price"),
        ("StateVar", "last_trade.qty"),
        ("StateVar", "last_trade.side"),
        ("BookField", "spread"),
        ("BookField", "mid"),
    }
    fields = [x for x in walk(e) if isinstance(x, BookField)]
    assert [(f.instrument, f.index) for f in fields] == [("EURUSD", 0), ("ETHUSDT", 1)]
    assert rule_expr("last_trade.side", "int").type is Type.INT


@pytest.mark.parametrize(
    "text, code",
    [
        ("nn + 1", "HFT0511"),
        ("book", "HFT0515"),
        ("book.foo", "HFT0515"),
        ("position.x", "HFT0511"),
        ("abs", "HFT0511"),
        ("foo(1)", "HFT0511"),
        ("abs(1, 2)", "HFT0513"),
        ("delta(1, 2)", "HFT0513"),
        ("sma_t(position)", "HFT0513"),
        ("ema(position, 2.5)", "HFT0514"),
        ("ema(position, -3)", "HFT0514"),
        ("sma(position, position)", "HFT0514"),
        ("sma_t(position, 1e6, 0)", "HFT0514"),
        ("sma_t(position, 0)", "HFT0514"),
        ("ema_t(position, 0.0)", "HFT0514"),
        ("delta(position > 1)", "HFT0512"),
        ("true", "HFT0517"),
    ],
)
def test_error_codes(text, code):
    assert codes(text) == [code]


def test_int_expected_rejects_float():
    assert codes("1.5", "int") == ["HFT0517"]


def test_lets_are_ordered_topologically_with_declaration_order_for_ties():
    lets = [
        ("c", "a + b", O),
        ("a", "book.mid", O),
        ("z", "1", O),
        ("b", "a * 2", O),
    ]
    strategy, diags = check_strategy({}, lets, {"x": ("c", O, "float")}, ["EURUSD"])
    assert diags == []
    assert [b.name for b in strategy.lets] == ["a", "z", "b", "c"]
    assert isinstance(strategy.rules[0].expr, LetRef)


def test_let_cycle_is_reported_once_and_other_lets_still_checked():
    lets = [("a", "b + 1", O), ("b", "a + 1", O), ("c", "nope", O)]
    strategy, diags = check_strategy({}, lets, {}, ["EURUSD"])
    assert strategy is None
    assert sorted(d.code for d in diags) == ["HFT0511", "HFT0516"]


def test_let_shadowing_and_invalid_names():
    lets = [("position", "1", O), ("n", "2", O), ("if", "3", O), ("ok", "4", O)]
    strategy, diags = check_strategy(PARAMS, lets, {}, ["EURUSD"])
    assert strategy is None
    assert [d.code for d in diags] == ["HFT0511"] * 3


def test_slots_are_allocated_in_evaluation_order_with_fixed_capacities():
    lets = [("mm", "ema(book.mid, 10)", O)]
    rules = {
        "sig": ("zscore(delta(mm), n) + sma_t(mm, 1e9) + sma_t(mm, 5e8, 64)", O, "float"),
        "vol": ("std(mm, 30) + ema_t(mm, 250000) + sma(mm, n)", O, "float"),
    }
    strategy, diags = check_strategy(PARAMS, lets, rules, ["EURUSD"])
    assert diags == []
    got = [(s.index, s.kind, s.capacity, s.window_const, s.window_param) for s in strategy.slots]
    assert got == [
        (0, "ema", 0, 10, None),
        (1, "delta", 0, None, None),
        (2, "zscore", 50, None, "n"),
        (3, "sma_t", 1024, 1e9, None),
        (4, "sma_t", 64, 5e8, None),
        (5, "std", 30, 30, None),
        (6, "ema_t", 0, 250000, None),
        (7, "sma", 50, None, "n"),
    ]
    assert strategy.lets[0].slots == (0,)
    assert strategy.rules[0].slots == (1, 2, 3, 4)
    assert strategy.rules[1].slots == (5, 6, 7)
    stateful = [x for x in walk(strategy.rules[0].expr) if isinstance(x, Stateful)]
    assert [x.slot for x in stateful] == [1, 2, 3, 4]


def test_rule_idents_are_unique_identifiers():
    lets = [("quote_bid_price", "1", O)]
    rules = {"quote.bid.price": ("1", O, "float"), "quote-bid-price": ("2", O, "float"), "2x": ("3", O, "float")}
    strategy, diags = check_strategy({}, lets, rules, ["EURUSD"])
    assert diags == []
    assert [r.ident for r in strategy.rules] == ["quote_bid_price_2", "quote_bid_price_3", "_2x"]


def test_checked_strategy_json_round_trip_is_exact():
    lets = [("mm", "ema(book.mid, n) * 1e-7", O), ("flag", "mm > 0.1 and not false", O)]
    rules = {"q": ("if flag then mm % 3 else -n / 7", O, "float"), "w": ("flag", O, "bool")}
    strategy, diags = check_strategy(PARAMS, lets, rules, ["EURUSD", "ETHUSDT"])
    assert diags == []
    data = json.loads(json.dumps(strategy.to_json()))
    assert CheckedStrategy.from_json(data) == strategy


def test_params_may_be_given_as_bare_types():
    strategy, diags = check_strategy({"a": "int", "b": Type.FLOAT}, [], {"x": ("a + b", O, "float")}, ["X"])
    assert diags == []
    assert [(p.name, p.type, p.default) for p in strategy.params] == [("a", Type.INT, 0), ("b", Type.FLOAT, 0.0)]
    assert type(strategy.params[1].default) is float


def test_cycle_points_at_the_binding_name_when_given():
    src = "let:\n  a: b + 1\n  b: a * 2\n"
    lets = [
        ("a", "b + 1", Span("c.yaml", 2, 6, 2, 7), Span("c.yaml", 2, 3, 2, 4)),
        ("b", "a * 2", Span("c.yaml", 3, 6, 3, 7), Span("c.yaml", 3, 3, 3, 4)),
    ]
    strategy, diags = check_strategy({}, lets, {}, ["X"])
    assert strategy is None
    assert (
        render_text(diags[0], {"c.yaml": src}.get)
        == """\
error[HFT0516]: cyclic `let` bindings: `a` -> `b` -> `a`
 --> c.yaml:2:3
  |
2 |   a: b + 1
  |   ^ defined in terms of itself
 ::: c.yaml:2:6
  |
2 |   a: b + 1
  |      - `a` uses `b`
 ::: c.yaml:3:6
  |
3 |   b: a * 2
  |      - `b` uses `a`
  |
  = note: cycle: `a` -> `b` -> `a`
  = help: compute one of them from parameters, state or book fields instead"""
    )


def test_checked_strategy_json_round_trip_keeps_types():
    """Types survive the IR's JSON form: backends branch on `is Type.FLOAT`."""
    from hftc.frontend import compile_file
    from hftc.ir.expr import Type

    strategy = compile_file("examples/fx_market_maker.hftc.yaml").ir.strategies[0].checked()
    spread = strategy.param("spread_bps")
    assert spread.type is Type.FLOAT and spread.default == 0.5
    assert strategy.param("inventory_limit").type is Type.INT
    assert all(isinstance(rule.expected, Type) for rule in strategy.rules)
