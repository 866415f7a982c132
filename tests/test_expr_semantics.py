"""Semantics of the reference evaluator: scalar operations and stateful functions,
checked against values computed by hand (or by an obviously-correct O(n) formula)."""

from __future__ import annotations

import math
import statistics

import pytest
from hftc.diagnostics.model import Span
from hftc.expr.evaluate import BookTop, Evaluator, Event, evaluate
from hftc.expr.typecheck import check_strategy
from hftc.ir.expr import ParamDecl, Type

O = Span("t.yaml", 1, 1, 1, 2)
PARAMS = {
    "w": ParamDecl("w", Type.INT, 3, 1, 8),
    "tau": ParamDecl("tau", Type.FLOAT, 1000.0, 1.0, 1e9),
}


def run(text: str, xs, *, expected="float", ts=None, params=None, lets=()):
    """Evaluate `text` over events whose `position` takes the values `xs`."""
    strategy, diags = check_strategy(PARAMS, list(lets), {"v": (text, O, expected)}, ["X"])
    assert strategy is not None and diags == [], [d.message for d in diags]
    ts = ts or [i * 1000 for i in range(len(xs))]
    events = [Event(t, [BookTop(99.0, 101.0, 3.0, 1.0)], position=x) for t, x in zip(ts, xs)]
    return [row["v"] for row in evaluate(strategy, events, params)]


def one(text: str, expected="float"):
    return run(text, [0.0], expected=expected)[0]


# ----------------------------------------------------------------------------- scalars


@pytest.mark.parametrize(
    "text, expected, value",
    [
        ("7 / 2", "float", 3.5),
        ("7 % 3", "int", 1),
        ("-7 % 3", "int", 2),  # floored: sign of the divisor
        ("7 % -3", "int", -2),
        ("7 % 0", "int", 0),
        ("-7.5 % 2", "float", 0.5),
        ("7.5 % -2", "float", -0.5),
        ("9223372036854775807 + 1", "int", -(2**63)),  # wraps
        ("-9223372036854775807 - 2", "int", 2**63 - 1),
        ("abs(-9223372036854775807 - 1)", "int", -(2**63)),
        ("3037000500 * 3037000500", "int", 3037000500 * 3037000500 - 2**64),
        ("1 / 0", "float", math.inf),
        ("-1 / 0", "float", -math.inf),
        ("log(0)", "float", -math.inf),
        ("exp(1000)", "float", math.inf),
        ("min(3, 2)", "int", 2),
        ("max(2.5, 3)", "float", 3.0),
        ("clamp(5, 0, 3)", "int", 3),
        ("clamp(-5, 0, 3.5)", "float", 0.0),
        ("if 1 < 2 then 1 else 2.5", "float", 1.0),
        ("1 < 2 and not (2 < 1) or false", "bool", True),
        ("(1 < 2) == (3 < 4)", "bool", True),
        ("book.mid", "float", 100.0),
        ("book.spread", "float", 2.0),
        ("book.microprice", "float", (99.0 * 1.0 + 101.0 * 3.0) / 4.0),
        ("book.imbalance", "float", 0.5),
    ],
)
def test_scalar_semantics(text, expected, value):
    got = one(text, expected)
    assert type(got) is type(value) and got == value


@pytest.mark.parametrize("text", ["0 / 0", "sqrt(-1)", "log(-1)", "1 % 0.0", "(1 / 0) % 2"])
def test_nan_results(text):
    assert math.isnan(one(text))


def test_signed_zeros():
    assert math.copysign(1.0, one("-0.0")) == -1.0
    assert math.copysign(1.0, one("0.0 - 0")) == 1.0
    assert math.copysign(1.0, one("-4.0 % 2")) == 1.0
    assert math.copysign(1.0, one("4.0 % -2")) == -1.0


def test_book_derived_fields_with_empty_book():
    strategy, _ = check_strategy(
        {}, [], {"m": ("book.microprice", O, "float"), "i": ("book.imbalance", O, "float")}, ["X"]
    )
    row = evaluate(strategy, [Event(0, [BookTop(10.0, 12.0, 0.0, 0.0)])])[0]
    assert row == {"m": 11.0, "i": 0.0}


# ----------------------------------------------------------------------------- stateful functions


def test_delta():
    assert run("delta(position)", [1.0, 4.0, 2.5]) == [0.0, 3.0, -1.5]
    assert run("delta(last_trade.side)", [0.0, 0.0], expected="int") == [0, 0]


def test_ema_hand_computed():
    # alpha = 2 / (3 + 1) = 0.5
    assert run("ema(position, 3)", [4.0, 8.0, 0.0, 2.0]) == [4.0, 6.0, 3.0, 2.5]
    # window from a parameter, overridden at construction: alpha = 2 / (1 + 1) = 1
    assert run("ema(position, w)", [4.0, 8.0], params={"w": 1}) == [4.0, 8.0]


def test_sma_hand_computed():
    assert run("sma(position, 3)", [1.0, 2.0, 6.0, 10.0, 2.0]) == [1.0, 1.5, 3.0, 6.0, 6.0]


def test_sma_param_window_uses_runtime_value_within_capacity():
    xs = [1.0, 2.0, 6.0, 10.0, 2.0, 7.0]
    assert run("sma(position, w)", xs, params={"w": 2}) == [1.0, 1.5, 4.0, 8.0, 6.0, 4.5]
    # a value above the range's upper bound (the ring capacity, 8) is clamped to it
    assert run("sma(position, w)", xs, params={"w": 100}) == pytest.approx(
        [statistics.fmean(xs[: i + 1]) for i in range(len(xs))]
    )


def test_std_and_zscore_against_statistics():
    xs = [100.0, 100.5, 99.75, 101.25, 100.0, 98.5, 102.0, 100.25]
    for n in (1, 2, 3, 5):
        want_std = [statistics.pstdev(xs[max(0, i - n + 1) : i + 1]) for i in range(len(xs))]
        got_std = run(f"std(position, {n})", xs)
        assert got_std == pytest.approx(want_std, abs=1e-12)
        want_z = []
        for i in range(len(xs)):
            win = xs[max(0, i - n + 1) : i + 1]
            sd = statistics.pstdev(win)
            want_z.append(0.0 if sd == 0 else (xs[i] - statistics.fmean(win)) / sd)
        assert run(f"zscore(position, {n})", xs) == pytest.approx(want_z, abs=1e-9)


def test_window_with_non_finite_sample_is_nan_until_it_leaves():
    got = run("sma(position, 2)", [1.0, math.inf, 3.0, 5.0])
    assert got[0] == 1.0 and math.isnan(got[1]) and math.isnan(got[2]) and got[3] == 4.0
    got = run("std(position, 2)", [1.0, math.nan, 3.0, 5.0, 5.0])
    assert math.isnan(got[1]) and math.isnan(got[2]) and got[3] == 1.0 and got[4] == 0.0


def test_ema_t_hand_computed():
    # tau = 1000 ns; dt = 1000 -> alpha = 1 - e^-1; dt = 0 -> unchanged
    got = run("ema_t(position, 1000)", [2.0, 4.0, 100.0, 1.0], ts=[0, 1000, 1000, 3000])
    a1 = 1.0 - math.exp(-1.0)
    s1 = 2.0 + a1 * (4.0 - 2.0)
    a2 = 1.0 - math.exp(-2.0)
    assert got == [2.0, s1, s1, s1 + a2 * (1.0 - s1)]


def test_sma_t_time_window_and_capacity():
    ts = [0, 100, 250, 300, 1000]
    xs = [1.0, 2.0, 3.0, 4.0, 5.0]
    # window 200 ns: samples with ts in (t - 200, t]
    assert run("sma_t(position, 200)", xs, ts=ts) == [1.0, 1.5, 2.5, 3.5, 5.0]
    # capacity 2: at most the newest two samples count
    assert run("sma_t(position, 1e9, 2)", xs, ts=ts) == [1.0, 1.5, 2.5, 3.5, 4.5]


def test_every_slot_updates_every_event_even_in_untaken_branches():
    # the ema in the else branch is never selected on events 0-1 but still sees every sample
    got = run("if position > 5 then ema(position, 3) else 0.0", [4.0, 8.0, 8.0])
    assert got == [0.0, 6.0, 7.0]


def test_lets_are_shared_and_stateful_lets_update_once_per_event():
    lets = [("d", "delta(position)", O)]
    strategy, diags = check_strategy({}, lets, {"a": ("d + d", O, "float"), "b": ("d", O, "float")}, ["X"])
    assert diags == []
    rows = evaluate(strategy, [Event(i, [BookTop()], position=x) for i, x in enumerate([1.0, 3.0])])
    assert rows == [{"d": 0.0, "a": 0.0, "b": 0.0}, {"d": 2.0, "a": 4.0, "b": 2.0}]


def test_evaluator_steps_incrementally():
    strategy, _ = check_strategy({}, [], {"v": ("sma(position, 2)", O, "float")}, ["X"])
    ev = Evaluator(strategy)
    assert [ev.step(Event(i, [BookTop()], position=x))["v"] for i, x in enumerate([2.0, 4.0, 8.0])] == [2.0, 3.0, 6.0]
