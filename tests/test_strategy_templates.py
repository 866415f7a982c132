"""Strategy templates usable by name: expansion, overrides, diagnostics, checked IR, C++ and semantics."""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, build_cache
from hftc.diagnostics.model import Severity
from hftc.expr.evaluate import BookTop, Event, evaluate
from hftc.frontend import compile_file
from hftc.frontend.compile import compile_text
from hftc.frontend.templates import shipped_names, templates_dir
from hftc.ir.serialize import ir_to_json
from hftc.passes.resolve import KNOWN_TEMPLATES

TEMPLATES = ("market_making", "pairs_trading")


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    monkeypatch.chdir(REPO)  # spans are shown relative to the working directory


def _compile(strategies: str):
    text = "hftc: 1\npackage: t\nstrategies:\n" + textwrap.indent(textwrap.dedent(strategies).strip("\n"), "  ") + "\n"
    return compile_text("user.hftc.yaml", text)


def _strategy(strategies: str, name: str):
    result = _compile(strategies)
    assert result.ok and not result.diagnostics, [(d.code, d.message) for d in result.diagnostics]
    return result.ir.strategy_named(name)


def _codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


# ----------------------------------------------------------------------------- the shipped files


def test_shipped_templates_are_the_names_the_resolver_accepts() -> None:
    assert templates_dir() == REPO / "schemas" / "strategies"
    assert set(shipped_names()) == set(KNOWN_TEMPLATES)


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_file_lints_clean_and_its_checked_ir_is_golden(name: str, golden) -> None:
    result = compile_file(f"schemas/strategies/{name}.hftc.yaml")
    assert result.ok and not result.diagnostics, [d.message for d in result.diagnostics]
    [strategy] = result.ir.strategies
    assert strategy.name == name and strategy.program is not None
    golden.check(f"templates/{name}.ir.json", ir_to_json(result.ir))


# ----------------------------------------------------------------------------- expansion and overrides


def test_template_only_strategy_gets_params_lets_rules_and_objectives() -> None:
    s = _strategy("""
        mm: {template: market_making, instruments: [BTCUSDT]}
    """, "mm")
    assert [p.name for p in s.params] == ["gamma", "kappa", "vol_window", "horizon", "order_qty", "max_inventory",
                                          "min_spread_bps"]
    assert {"mid", "sigma_bps", "reservation_bps", "half_spread_bps"} <= {let.name for let in s.lets}
    assert s.quote_bid_price and s.quote_ask_qty and s.when
    assert s.template == "market_making" and s.instruments == ("BTCUSDT",)
    assert (s.maximize, s.minimize) == (("pnl", "sharpe_ratio"), ("max_drawdown",))
    assert [c.text for c in s.constraints] == ["max_leverage <= 3.0"]
    assert s.quote_bid_price.span.file == "schemas/strategies/market_making.hftc.yaml"
    assert s.checked().instruments == ("BTCUSDT",)


def test_params_merge_by_name_and_keep_what_is_left_out() -> None:
    s = _strategy("""
        mm:
          template: market_making
          instruments: [BTCUSDT]
          params:
            gamma: {range: [0.1, 1.0]}
            order_qty: {default: 0.01, description: "One hundredth of a bitcoin."}
            horizon: {log: false}
            extra: {type: int, range: [1, 5], default: 2}
          quote:
            bid: {price: "book.bid - extra * 0.1", qty: order_qty}
    """, "mm")
    params = {p.name: p for p in s.params}
    gamma = params["gamma"]
    assert (gamma.type, gamma.low, gamma.high, gamma.default, gamma.log) == ("float", 0.1, 1.0, 0.5, True)
    assert gamma.span.file == "user.hftc.yaml"  # a range error would point at the user's line
    qty = params["order_qty"]
    assert (qty.low, qty.high, qty.default, qty.description) == (0.001, 100.0, 0.01, "One hundredth of a bitcoin.")
    assert params["horizon"].log is False and params["kappa"].log is True
    assert list(params)[-1] == "extra"  # new parameters follow the template's
    # The user's bid replaced the template's; the ask and `when` are still the template's.
    assert s.quote_bid_price.text == "book.bid - extra * 0.1" and s.quote_bid_price.span.file == "user.hftc.yaml"
    assert s.quote_ask_price.span.file.endswith("market_making.hftc.yaml")
    assert s.when.text.startswith("book.spread > 0")


def test_user_lets_override_and_rules_replace_so_unused_template_parts_are_dropped() -> None:
    s = _strategy("""
        mm:
          template: market_making
          instruments: [EURUSD]
          let:
            mid: book.microprice
          when: abs(position) < max_inventory
    """, "mm")
    mid = next(let for let in s.lets if let.name == "mid")
    assert mid.expr.text == "book.microprice" and mid.expr.span.file == "user.hftc.yaml"
    assert [let.name for let in s.lets].count("mid") == 1
    assert s.when.text == "abs(position) < max_inventory"

    # The fx example writes every rule inline: the template adds nothing it would not use.
    fx = compile_file("examples/fx_market_maker.hftc.yaml").ir.strategy_named("mm")
    assert [p.name for p in fx.params] == ["spread_bps", "inventory_limit", "risk_factor"]
    assert [let.name for let in fx.lets] == ["mid", "skew"]
    assert all(span.file == "examples/fx_market_maker.hftc.yaml"
               for span in (fx.quote_bid_price.span, fx.quote_ask_qty.span, fx.when.span))
    assert fx.constraints[0].span.file == "examples/fx_market_maker.hftc.yaml"


def test_pairs_template_names_the_users_second_instrument() -> None:
    s = _strategy("""
        pair:
          template: pairs_trading
          instruments: [BTCUSDT, ETHUSDT]
          params:
            lookback_window: {range: [50, 500], default: 100}
    """, "pair")
    assert s.instruments == ("BTCUSDT", "ETHUSDT")
    assert next(let for let in s.lets if let.name == "leg2_mid").expr.text == "ETHUSDT.mid"
    assert (s.entry_long.text, s.entry_short.text, s.exit.text, s.size.text) == (
        "z <= -entry_threshold", "z >= entry_threshold", "abs(z) <= exit_threshold", "order_qty")
    checked = s.checked()
    assert checked.instruments == ("BTCUSDT", "ETHUSDT")
    [slot] = checked.slots
    assert (slot.kind, slot.capacity, slot.window_param) == ("zscore", 500, "lookback_window")
    assert [c.text for c in s.constraints] == ["max_leverage <= 3.0", "max_correlation <= 0.8"]


def test_alias_and_seed_document_form_get_the_template_rules() -> None:
    s = _strategy("""
        arb: {template: statistical_arbitrage, instruments: [BTCUSDT, ETHUSDT]}
    """, "arb")
    assert s.template == "statistical_arbitrage" and s.entry_long is not None

    seed = compile_file("examples/statistical_arbitrage.yaml")
    assert seed.ok and not seed.diagnostics
    [t] = seed.ir.strategies
    assert t.instruments == ("LEG1", "LEG2")  # no instruments in the seed form: mapped by position
    assert t.entry_long and t.entry_short and t.exit and t.size and t.program
    lookback = t.params[0]
    assert (lookback.name, lookback.span.file) == ("lookback_window", "examples/statistical_arbitrage.yaml")
    assert t.maximize == ("sharpe_ratio",)  # the document's own objectives


# ----------------------------------------------------------------------------- diagnostics


def test_unknown_template_suggests_the_closest_shipped_one() -> None:
    result = _compile("mm: {template: market_makin, instruments: [X]}")
    [d] = result.diagnostics
    assert d.code == "HFT0503" and "market_making" in (d.help or "")
    assert d.span.file == "user.hftc.yaml"


def test_seed_document_with_unknown_type_warns() -> None:
    text = ("name: trend\ntype: pairs_tradin\nparameters:\n  w: {type: int, range: [2, 9], default: 3}\n"
            "objectives: {primary: maximize_pnl}\n")
    result = compile_text("seed.yaml", text)
    [d] = result.diagnostics
    assert (d.code, d.severity, d.span.line) == ("HFT0532", Severity.WARNING, 2)
    assert "pairs_trading" in d.help
    assert result.ok and result.ir.strategies[0].program is None


def test_too_few_instruments_points_at_the_users_list() -> None:
    result = _compile("pair: {template: pairs_trading, instruments: [BTCUSDT]}")
    assert _codes(result) == ["HFT0530"]
    d = result.diagnostics[0]
    assert d.span.file == "user.hftc.yaml" and d.span.line == 4 and "2 instruments" in d.message


def test_incomplete_param_without_template_counterpart() -> None:
    result = _compile("""
        mm:
          template: market_making
          instruments: [X]
          params:
            gama: {range: [0.1, 1.0]}
    """)
    assert _codes(result) == ["HFT0531"]
    d = result.diagnostics[0]
    assert "`type`, `default`" in d.message and d.span.line == 8 and "no parameter `gama`" in d.help
    plain = _compile("s: {instruments: [X], params: {w: {range: [1, 2]}}, when: w > 1}")
    assert _codes(plain) == ["HFT0531"]


def test_template_param_keeps_its_type() -> None:
    result = _compile("""
        pair:
          template: pairs_trading
          instruments: [A, B]
          params:
            lookback_window: {type: float, range: [20, 100], default: 50}
    """)
    assert _codes(result) == ["HFT0535"]
    assert result.diagnostics[0].span.line == 8


def test_default_outside_an_overridden_range_points_at_the_user() -> None:
    result = _compile("""
        mm:
          template: market_making
          instruments: [X]
          params:
            gamma: {range: [1.0, 2.0]}
    """)
    [d] = result.diagnostics
    assert d.code == "HFT0501" and d.span.file == "user.hftc.yaml" and d.span.line == 8


def test_leg_named_in_expressions_must_be_an_identifier() -> None:
    result = _compile("pair: {template: pairs_trading, instruments: [BTCUSDT, ETH-USDT]}")
    assert _codes(result) == ["HFT0533"]
    assert result.diagnostics[0].span.line == 4


def test_cli_reports_template_errors_without_traceback(tmp_path: Path) -> None:
    schema = tmp_path / "s.hftc.yaml"
    schema.write_text("hftc: 1\npackage: t\nstrategies:\n  pair: {template: pairs_trading, instruments: [X]}\n")
    proc = subprocess.run([sys.executable, "-m", "hftc", "lint", str(schema)], capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode != 0
    assert "HFT0530" in proc.stdout + proc.stderr and "Traceback" not in proc.stdout + proc.stderr


# ----------------------------------------------------------------------------- semantics (reference evaluator)


def _mm_events(positions: list[float]) -> list[Event]:
    events, mid = [], 100.0
    for i, pos in enumerate(positions):
        mid *= 1.0 + 1e-4 * math.sin(i * 0.7)
        events.append(Event(ts_ns=i * 1_000_000, books=[BookTop(mid - 0.01, mid + 0.01, 5.0, 5.0)], position=pos))
    return events


def test_market_making_skews_the_reservation_price_against_inventory() -> None:
    checked = _strategy("mm: {template: market_making, instruments: [X]}", "mm").checked()
    params = {"vol_window": 50, "horizon": 1000, "gamma": 1.0, "max_inventory": 10.0, "order_qty": 2.0}
    flat, long, short = (evaluate(checked, _mm_events([q] * 60), params)[-1] for q in (0.0, 5.0, -9.5))
    mid = 0.5 * (_mm_events([0.0] * 60)[-1].books[0].bid + _mm_events([0.0] * 60)[-1].books[0].ask)
    assert flat["sigma_bps"] > 0 and flat["when"] is True
    # Flat: symmetric around mid, half-spread from gamma, sigma and kappa (floored at min_spread_bps / 2).
    risk = 1.0 * flat["sigma_bps"] ** 2 * 1000
    half = max(risk / 2 + math.log(1 + 1.0 / 5.0) / 1.0, 0.25)
    assert flat["reservation_bps"] == 0
    assert flat["quote_bid_price"] == pytest.approx(mid * (1 - half / 1e4), rel=1e-12)
    assert flat["quote_ask_price"] == pytest.approx(mid * (1 + half / 1e4), rel=1e-12)
    # Long: the reservation price r = s - q * gamma * sigma^2 * horizon sits below mid; both quotes move down.
    assert long["reservation_bps"] == pytest.approx(-0.5 * risk)
    assert long["quote_bid_price"] < flat["quote_bid_price"] and long["quote_ask_price"] < flat["quote_ask_price"]
    assert short["quote_bid_price"] > flat["quote_bid_price"]
    # Near the limit a side only quotes the room left; the bid never crosses the mid.
    assert (short["quote_bid_qty"], short["quote_ask_qty"]) == (2.0, 0.5)
    assert long["quote_bid_qty"] == 2.0 and short["quote_bid_price"] <= mid


def test_market_making_waits_for_a_two_sided_book() -> None:
    checked = _strategy("mm: {template: market_making, instruments: [X]}", "mm").checked()
    events = [Event(0, [BookTop()])] + _mm_events([0.0] * 5)
    out = evaluate(checked, events, {"vol_window": 3})
    assert [o["when"] for o in out] == [False, False, False, False, True, True]  # NaN sigma while the empty book is in the window


def test_pairs_entry_fires_at_the_threshold() -> None:
    checked = _strategy("pair: {template: pairs_trading, instruments: [A, B]}", "pair").checked()
    events, n = [], 80
    for i in range(n):
        a = 100.0 * (1.0 + 0.002 * math.sin(i * 0.9) + (0.02 if i == 70 else 0.0) - (0.02 if i == 75 else 0.0))
        events.append(Event(i, [BookTop(a - 0.01, a + 0.01, 1, 1), BookTop(49.99, 50.01, 1, 1)]))
    params = {"lookback_window": 20, "entry_threshold": 1.5, "exit_threshold": 0.5}
    out = evaluate(checked, events, params)
    spreads = [math.log(e.books[0].bid / 2 + e.books[0].ask / 2) - math.log(50.0) for e in events]
    for i, o in enumerate(out):
        window = spreads[max(0, i - 19): i + 1]
        mean = sum(window) / len(window)
        sd = math.sqrt(max(sum(x * x for x in window) / len(window) - mean * mean, 0.0))
        assert o["z"] == pytest.approx(0.0 if sd == 0 else (spreads[i] - mean) / sd, abs=1e-6)
        assert o["entry_short"] == (o["z"] >= 1.5) and o["entry_long"] == (o["z"] <= -1.5)
        assert o["exit"] == (abs(o["z"]) <= 0.5)
        assert o["size"] == 1.0
    assert out[70]["entry_short"] and out[75]["entry_long"]
    assert not any(o["entry_long"] or o["entry_short"] for o in out[20:70])


# ----------------------------------------------------------------------------- generated C++


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
@pytest.mark.parametrize("name,instruments", [("market_making", "[BTCUSDT]"), ("pairs_trading", "[BTCUSDT, ETHUSDT]")])
def test_template_only_strategy_compiles_warning_free(name: str, instruments: str) -> None:
    from hftc.backends.exprgen import emit_cpp
    from test_expr_differential import CXX_FLAGS

    checked = _strategy(f"s: {{template: {name}, instruments: {instruments}}}", "s").checked()
    header = emit_cpp(checked, namespace="user")
    main = ('#include "s.hpp"\nint main() {\n  static user::Strategy s{user::Params{}};\n'
            "  user::Inputs in{};\n  return s.update(in).when ? 1 : 0;\n}\n").replace(
        ".when", ".when" if name == "market_making" else ".exit")
    flags = [*CXX_FLAGS, "-Wshadow", "-Wconversion"]
    key = hashlib.sha256("\0".join([header, main, *flags]).encode()).hexdigest()[:24]
    stamp = build_cache() / "strategy_templates" / f"{key}.ok"
    if stamp.exists():
        return
    with tempfile.TemporaryDirectory() as d:
        Path(d, "s.hpp").write_text(header)
        Path(d, "main.cpp").write_text(main)
        proc = subprocess.run(["g++", *flags, "-c", "main.cpp", "-o", "main.o"], cwd=d, capture_output=True,
                              text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text("compiled\n")
