"""The Python driver of the native backtest: build and cache, hand-computed runs, errors, CLI, reports.

Strategies are compiled once per content hash into the shared build cache, so only the first run
on a machine pays the compiler (about 4 s per strategy).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, require_shared_data

T0 = 1_723_161_600_000_000_000  # 2024-08-09 00:00 UTC, in ns

MM_SCHEMA = """\
hftc: 1
package: bt.mm
strategies:
  mm:
    instruments: [BTCUSDT]
    params:
      spread_bps: {type: float, range: [0.0, 100.0], default: 0.0}
      qty: {type: float, range: [0.001, 10.0], default: 0.1}
      inventory_limit: {type: float, range: [0.01, 100.0], default: 10.0}
    quote:
      bid: {price: "book.bid - book.mid * spread_bps / 10000", qty: "qty"}
      ask: {price: "book.ask + book.mid * spread_bps / 10000", qty: "qty"}
    when: abs(position) < inventory_limit
    constraints: ["max_leverage <= 1000", "fills < 1"]
  pair:
    template: pairs_trading
    instruments: [BTCUSDT, ETHUSDT]
  hedge:
    instruments: [AAA, BBB]
    params:
      units: {type: float, range: [0.0, 10.0], default: 0.3}
    entry:
      long: book.bid > 0
    size: units
  idle:
    instruments: [BTCUSDT]
    params:
      k: {type: float, range: [0.0, 1.0], default: 0.5}
    let:
      m: book.mid * k
"""

RISK_SCHEMA = """\
hftc: 1
package: bt.risky
components:
  book: {kind: order_book, model: price_level, depth: 16, tick: "0.5", lot: "0.1"}
  quoter: {kind: strategy, strategy: mm}
  risk:
    kind: risk_gate
    limits: {max_position: 0, max_order_qty: 1000, max_orders_per_second: 1000, price_band_bps: 50,
             max_notional: 1000.0}
pipelines:
  p: {stages: [book, quoter, risk]}
strategies:
  mm:
    instruments: [BTCUSDT]
    quote:
      bid: {price: "book.bid", qty: "0.1"}
      ask: {price: "book.ask", qty: "0.1"}
"""


def _compile(tmp: Path, text: str, name: str = "schema.yaml"):
    from hftc.frontend import compile_file

    path = tmp / name
    path.write_text(text)
    result = compile_file(str(path))
    assert result.ok, result.diagnostics
    return result.ir, path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("backtest")


@pytest.fixture(scope="module")
def mm_ir(workdir):
    return _compile(workdir, MM_SCHEMA)


@pytest.fixture(scope="module")
def mm_engine(mm_ir):
    from hftc.backtest import compile_strategy

    return compile_strategy(mm_ir[0], "mm")


def write_synthetic(path: Path, symbol: str = "BTCUSDT", offset_ns: int = 0) -> Path:
    """Tick 0.5, lot 0.1: book 100.0 (10 lots) / 101.0 (10 lots), then a seller hits 100.0 for 15 lots.

    With latency 100 ns a 1-lot bid at 100.0 arrives behind 10 lots; the 15-lot trade clears
    those and fills our lot in full at 100.0 (risk-averse queue model).
    """
    from hftc.data import DEPTH, END, SIDE_ASK, TRADE, Instrument, write_tape

    rows = [(1000, 200, 10, DEPTH, 0), (1000, 202, 10, DEPTH, SIDE_ASK | END),
            (2000, 200, 15, TRADE, SIDE_ASK | END), (3000, 202, 10, DEPTH, SIDE_ASK | END)]
    ts = np.array([T0 + offset_ns + r[0] for r in rows], dtype=np.int64)
    cols = {"local_ts": ts, "exch_ts": ts, "px": np.array([r[1] for r in rows]), "qty": np.array([r[2] for r in rows]),
            "instrument": np.zeros(len(rows), np.uint16), "kind": np.array([r[3] for r in rows], np.uint8),
            "flags": np.array([r[4] for r in rows], np.uint8)}
    write_tape(path, [Instrument(symbol, 0.5, 0.1, 1.0)], cols,
               {"synthetic": True, "instruments": [{"symbol": symbol, "contract_type": "linear",
                                                    "settlement_currency": "USDT"}]})
    return path


@pytest.fixture(scope="module")
def synth(workdir) -> Path:
    return write_synthetic(workdir / "synth.hftt")


def _options(**kw):
    from hftc.backtest import BacktestOptions

    return BacktestOptions(**{"latency_ns": 100, **kw})


# ------------------------------------------------------------------------------------- build


def test_library_builds_warning_free_then_comes_from_the_cache(mm_ir, tmp_path, monkeypatch):
    from hftc.backtest import compile_strategy
    from hftc.backtest.build import FLAGS

    assert "-Werror" in FLAGS and "-Wextra" in FLAGS and "-Wpedantic" in FLAGS  # a warning fails the build
    monkeypatch.setenv("HFTC_CACHE_DIR", str(tmp_path))
    cold = compile_strategy(mm_ir[0], "mm")
    assert not cold.built.cached and cold.built.library.is_file()
    warm = compile_strategy(mm_ir[0], "mm")
    assert warm.built.cached and warm.built.library == cold.built.library
    # Nothing but the library and its source is left in the cache folder (no temporary files).
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".cpp", ".so"]
    assert cold.param_names == ("spread_bps", "qty", "inventory_limit")


def test_cache_key_follows_source_and_runtime_headers(tmp_path):
    from hftc.backtest.build import cache_key, compiler

    include = tmp_path / "include"
    include.mkdir()
    (include / "a.hpp").write_text("// one\n")
    cxx = compiler()
    k1 = cache_key("int x;", include, cxx)
    assert cache_key("int x;", include, cxx) == k1
    assert cache_key("int y;", include, cxx) != k1
    (include / "a.hpp").write_text("// two\n")
    assert cache_key("int x;", include, cxx) != k1


# ------------------------------------------------------------------------------- semantics


def test_hand_computed_fill_fee_and_pnl(mm_engine, synth):
    res = mm_engine.run(synth, options=_options(maker_fee_bps=2.0))
    s = res.summary
    assert s["events"] == 4
    assert s["fills"] == 1 and len(res.fills) == 1
    f = res.fills[0]
    # Our 1-lot bid at 200 ticks (100.0) bought 0.1 as a maker; fee = 10.0 notional * 2 bps.
    assert (f["side"], bool(f["maker"]), f["px"], f["qty"], f["symbol"]) == (1, True, 200, 1, "BTCUSDT")
    assert f["price"] == 100.0 and f["quantity"] == pytest.approx(0.1)
    assert f["fee"] == pytest.approx(0.002)
    assert f["exch_ts"] == T0 + 2000 and f["local_ts"] == T0 + 2100  # response latency 100 ns
    # Marked at mid 100.5: 0.1 * (100.5 - 100.0) - 0.002.
    assert s["pnl"] == pytest.approx(0.048, abs=1e-9)
    assert s["fees"] == pytest.approx(0.002)
    assert s["turnover"] == pytest.approx(10.0)
    assert res.equity["position0"][-1] == 1 and res.equity["mid0"][-1] == 100.5
    assert res.metric("pnl") == s["pnl"] and res.metric("sharpe_ratio") == s["sharpe"]
    assert s["instrument_map"] == {"BTCUSDT": "BTCUSDT"} and s["instrument_map_how"] == "by symbol"
    assert s["risk"]["enabled"] is False and "no pipeline" in s["risk"]["source"]


def test_params_change_the_outcome(mm_engine, synth):
    near = mm_engine.run(synth, params={"spread_bps": 0.0}, options=_options())
    far = mm_engine.run(synth, params={"spread_bps": 50.0}, options=_options())  # bid 99.75 -> 99.5
    assert near.summary["fills"] == 1 and far.summary["fills"] == 0
    assert far.summary["params"]["spread_bps"] == 50.0
    two = mm_engine.run(synth, params={"qty": 0.2}, options=_options())
    assert two.fills["qty"].tolist() == [2]


def test_when_rule_stops_quoting(mm_engine, synth):
    # Position 0.1 reaches the limit: `when` turns false and both quotes are cancelled.
    res = mm_engine.run(synth, params={"inventory_limit": 0.1}, options=_options())
    assert res.summary["fills"] == 1 and res.summary["cancels"] >= 1


def test_signal_strategy_goes_long_leg0_and_notional_neutral_short_leg1(mm_ir, workdir):
    from hftc.backtest import compile_strategy
    from hftc.data import DEPTH, END, SIDE_ASK, Instrument, write_tape

    # AAA: tick 0.5, lot 0.1, 100.0 / 101.0. BBB: tick 0.25, lot 0.1, 50.0 / 50.5. Ten lots each side.
    rows = [(1000, 0, 200, 0), (1000, 0, 202, SIDE_ASK | END), (1500, 1, 200, 0), (1500, 1, 202, SIDE_ASK | END),
            (5000, 0, 202, SIDE_ASK | END)]
    ts = np.array([T0 + r[0] for r in rows], dtype=np.int64)
    cols = {"local_ts": ts, "exch_ts": ts, "px": np.array([r[2] for r in rows]), "qty": np.full(len(rows), 10),
            "instrument": np.array([r[1] for r in rows], np.uint16), "kind": np.full(len(rows), DEPTH, np.uint8),
            "flags": np.array([r[3] for r in rows], np.uint8)}
    tape = write_tape(workdir / "two.hftt", [Instrument("AAA", 0.5, 0.1), Instrument("BBB", 0.25, 0.1)], cols,
                      {"instruments": [{"contract_type": "linear"}, {"contract_type": "linear"}]})
    res = compile_strategy(mm_ir[0], "hedge").run(tape, options=_options(taker_fee_bps=1.0))
    # Long 0.3 AAA (3 lots) at the 101.0 ask; short 0.3 * 100.5 / 50.25 = 0.6 BBB (6 lots) at the 50.0 bid.
    got = sorted((f["symbol"], int(f["side"]), int(f["qty"]), float(f["price"]), bool(f["maker"])) for f in res.fills)
    assert got == [("AAA", 1, 3, 101.0, False), ("BBB", -1, 6, 50.0, False)]
    assert res.summary["fees"] == pytest.approx((30.3 + 30.0) * 1e-4)
    assert res.equity["position0"][-1] == 3


def test_opened_tape_and_positional_mapping(mm_engine, workdir):
    from hftc.backtest import BacktestError
    from hftc.data import open_tape

    other = write_synthetic(workdir / "other.hftt", symbol="XBT-PERP")
    # Names that disagree are refused, never mapped silently...
    with pytest.raises(BacktestError) as info:
        mm_engine.run(open_tape(other), options=_options())
    assert info.value.code == "HFT1122" and "--map BTCUSDT=XBT-PERP" in info.value.diagnostic().help
    # ...and run as the caller says, which every output records.
    res = mm_engine.run(open_tape(other), options=_options(instrument_map={"BTCUSDT": "XBT-PERP"}))
    assert res.summary["fills"] == 1
    assert res.summary["instrument_map"] == {"BTCUSDT": "XBT-PERP"}
    assert res.summary["instrument_map_how"] == "as mapped (--map BTCUSDT=XBT-PERP)"
    res = mm_engine.run(open_tape(other), options=_options(instrument_map="position"))
    assert res.summary["instrument_map_how"] == "by position (--map position)"
    with pytest.raises(BacktestError) as info:
        mm_engine.run(open_tape(other), options=_options(instrument_map={"ETHUSDT": "XBT-PERP"}))
    assert info.value.code == "HFT1122"


def test_risk_gate_of_the_schema_applies(workdir, synth):
    from hftc.backtest import compile_strategy

    ir, _ = _compile(workdir, RISK_SCHEMA, "risky.yaml")
    engine = compile_strategy(ir, "mm")
    gated = engine.run(synth, options=_options())
    risk = gated.summary["risk"]
    assert risk["enabled"] and risk["max_position_lots"] == 0 and risk["max_order_qty_lots"] == 1000
    assert risk["max_notional_tick_lots"] == 20000  # 1000.0 / (0.5 * 0.1)
    assert gated.summary["fills"] == 0 and gated.summary["orders"] == 0
    assert gated.summary["risk_rejects"] > 0 and gated.summary["risk_decisions"]["max_position"] > 0
    free = engine.run(synth, options=_options(risk=False))
    assert free.summary["fills"] == 1 and free.summary["risk"]["enabled"] is False


def test_backtest_gate_counts_open_orders(workdir, synth):
    """The backtest runs the production gate: open orders count until their fill or end arrives.

    One open order at a time: the bid at 100.0 rests, so the ask is refused (max_open_orders)
    until the bid's fill reaches the strategy; then the ask goes out. The position limit of one
    lot then refuses any further bid (position 1 + the new bid > 1).
    """
    from hftc.backtest import compile_strategy

    text = RISK_SCHEMA.replace("max_position: 0", "max_position: 1").replace(
        "max_notional: 1000.0}", "max_notional: 1000.0, max_open_orders: 1}")
    ir, _ = _compile(workdir, text, "open_orders.yaml")
    res = compile_strategy(ir, "mm").run(synth, options=_options())
    s = res.summary
    assert s["risk"]["max_open_orders"] == 1 and s["risk"]["max_position_lots"] == 1
    assert s["risk_decisions"]["max_open_orders"] > 0, s["risk_decisions"]
    assert s["fills"] == 1 and s["orders"] == 2, s
    assert s["risk_decisions"]["overflow"] == 0 and s["risk_decisions"]["duplicate_order_id"] == 0


def test_risk_limits_convert_book_lots_to_tape_lots(tmp_path):
    from hftc.backtest.risk import risk_setting
    from hftc.backtest.tapeinfo import TapeInstrument

    text = RISK_SCHEMA.replace('lot: "0.1"', 'lot: "0.01"').replace("max_position: 0", "max_position: 250")
    ir, _ = _compile(tmp_path, text)
    r = risk_setting(ir, "mm", TapeInstrument("BTCUSDT", 0.1, 0.001, 1.0), True)
    assert r.max_position == 2500  # 250 book lots of 0.01 = 2.5 units = 2500 tape lots of 0.001
    assert r.max_order_qty == 10_000
    assert r.max_notional == 10_000_000  # 1000.0 / (0.1 * 0.001)
    # Inverse: 1000 USD of 100-USD contracts is 10 contracts whatever the price, a quantity cap.
    inv = risk_setting(ir, "mm", TapeInstrument("BTCUSD_PERP", 0.1, 1.0, 100.0), True, inverse=True)
    assert inv.max_notional == 0 and inv.max_order_qty == 10 and "inverse contract" in inv.description


def test_max_correlation():
    from hftc.backtest.native import EQUITY_DTYPE
    from hftc.backtest.result import max_correlation

    eq = np.zeros(6, dtype=EQUITY_DTYPE)
    eq["mid0"] = [100.0, 101.0, 100.0, 102.0, 101.0, 103.0]
    eq["pnl"] = np.cumsum([0.0, 1.0, -1.0, 2.0, -1.0, 2.0]) * -3.0  # short the market: corr -1
    assert max_correlation(eq) == pytest.approx(1.0, abs=1e-3)
    eq["pnl"] = 0.0
    assert max_correlation(eq) == 0.0
    assert max_correlation(eq[:2]) == 0.0


# ---------------------------------------------------------------------------------- errors


def test_errors_are_backtest_errors_with_codes(mm_ir, mm_engine, synth, workdir):
    from hftc.backtest import BacktestError, BacktestOptions, compile_strategy
    from hftc.diagnostics.codes import CODES

    def code(fn) -> str:
        with pytest.raises(BacktestError) as info:
            fn()
        assert info.value.code in CODES
        return info.value.code

    ir = mm_ir[0]
    assert code(lambda: compile_strategy(ir, "nope")) == "HFT1101"
    assert code(lambda: compile_strategy(ir, "idle")) == "HFT1102"
    assert code(lambda: mm_engine.run(synth, params={"spread": 1.0})) == "HFT1103"
    assert code(lambda: mm_engine.run(synth, params={"spread_bps": "wide"})) == "HFT1104"
    assert code(lambda: mm_engine.run(synth, params={"spread_bps": float("nan")})) == "HFT1104"
    assert code(lambda: mm_engine.run(workdir / "missing.hftt")) == "HFT1105"
    (workdir / "junk.hftt").write_bytes(b"not a tape at all, just bytes" * 4)
    assert code(lambda: mm_engine.run(workdir / "junk.hftt")) == "HFT1105"
    assert code(lambda: mm_engine.run(synth, options=BacktestOptions(queue="fifo"))) == "HFT1109"
    assert code(lambda: mm_engine.run(synth, options=BacktestOptions(sample_ns=0))) == "HFT1109"
    assert code(lambda: mm_engine.run(synth).metric("alpha")) == "HFT1116"
    pair = compile_strategy(ir, "pair")
    assert code(lambda: pair.run(synth)) == "HFT1106"  # one instrument on the tape, two wanted


# ------------------------------------------------------------------------ results and files


def test_save_and_report(mm_engine, synth, tmp_path):
    import pyarrow.parquet as pq
    from hftc.backtest.report import write_report

    res = mm_engine.run(synth, options=_options(maker_fee_bps=2.0, sample_ns=500))
    out = tmp_path / "run"
    res.save(out)
    page = write_report(res, out)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["equity.csv", "equity.parquet", "fills.csv", "fills.parquet", "report.html", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fills"] == 1 and summary["pnl"] == pytest.approx(0.048, abs=1e-9)
    fills = pq.read_table(out / "fills.parquet").to_pydict()
    assert fills["price"] == [100.0] and fills["symbol"] == ["BTCUSDT"]
    assert (out / "fills.csv").read_text().splitlines()[0].startswith("local_ts,exch_ts,order_id")
    assert pq.read_table(out / "equity.parquet").num_rows == len(res.equity) >= 2
    html = page.read_text()
    assert html.count("<svg") == 4 and "<script" not in html and "src=" not in html and "href=" not in html
    assert "Drawdown" in html and "polyline" in html
    # What a quant opens it for: the one fill marked and listed, dated axes, the schema's constraints checked.
    assert html.count('<tr class="fill">') == 1 and "All 1 fills." in html and 'class="fill-buy"' in html
    assert "2024-08-09 00:00:00.000002 UTC" in html and ">2024-08-09</tspan>" in html
    assert "<code>fills &lt; 1</code></th><td>VIOLATED (value 1)" in html
    assert "<code>max_leverage &lt;= 1000</code></th><td>holds" in html
    assert "synth.hftt" in html and "Constant: every order reaches the venue 100 ns" in html
    import re
    import xml.etree.ElementTree as ET

    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL):
        ET.fromstring(svg)  # well-formed
    res.save(out)  # saving again replaces files in place
    assert sorted(p.name for p in out.iterdir()) == names


def test_results_are_thread_safe(mm_engine, synth):
    from concurrent.futures import ThreadPoolExecutor

    spreads = [0.0, 50.0] * 4
    with ThreadPoolExecutor(4) as pool:
        fills = list(pool.map(lambda s: mm_engine.run(synth, params={"spread_bps": s}, options=_options())
                              .summary["fills"], spreads))
    assert fills == [1, 0] * 4


def test_merged_tapes_map_by_symbol(mm_ir, workdir):
    from hftc.backtest.inputs import resolve_tape
    from hftc.backtest.tapeinfo import read_tape_info

    a = write_synthetic(workdir / "a.hftt", symbol="ETHUSDT")
    b = write_synthetic(workdir / "b.hftt", symbol="BTCUSDT", offset_ns=10)
    merged = resolve_tape([a, b])
    info = read_tape_info(merged)
    assert [i.symbol for i in info.instruments] == ["ETHUSDT", "BTCUSDT"] and info.events == 8
    assert resolve_tape([a, b]) == merged  # cached
    from hftc.backtest import compile_strategy

    res = compile_strategy(mm_ir[0], "mm").run(merged, options=_options())
    assert res.summary["instrument_map"] == {"BTCUSDT": "BTCUSDT"}
    assert set(res.fills["symbol"].tolist()) == {"BTCUSDT"}


# --------------------------------------------------------------------------------------- CLI


def _cli(*args: str, cwd: Path, monkeypatch):
    """Run `hftc backtest ARGS` in this process (stdout and stderr apart)."""
    from hftc.cli import app
    from typer.testing import CliRunner

    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(app, ["backtest", *args])
    result.returncode = result.exit_code
    return result


def test_cli_json_prints_exactly_the_headline_keys(mm_ir, synth, tmp_path):
    _, schema = mm_ir
    # A real process: nothing but the JSON may reach stdout.
    proc = subprocess.run([sys.executable, "-m", "hftc", "backtest", str(schema), "--strategy", "mm", "--data",
                           str(synth), "--latency-ns", "100", "--maker-fee-bps", "2", "--json"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data) == ["strategy", "events", "seconds", "events_per_s", "fills", "orders", "pnl", "fees",
                          "sharpe", "sortino", "annualised", "return_interval_s", "return_bars", "max_drawdown",
                          "turnover", "fill_ratio", "max_leverage", "capital", "maker_fee_bps", "taker_fee_bps",
                          "fee_source", "params", "instrument_map", "instrument_map_how", "contracts",
                          "settlement_currency", "constraints", "data_quality"]
    assert data["contracts"] == {"BTCUSDT": "linear"} and data["settlement_currency"] == "USDT"
    # What a reader needs to reproduce the figure travels with it: parameters, fees, mapping, basis.
    # A synthetic tape names no venue: the fee not given is zero, and the output says why.
    assert data["maker_fee_bps"] == 2.0 and data["taker_fee_bps"] == 0.0
    assert data["fee_source"].startswith("given, the rest from no venue profile")
    assert data["params"] and data["instrument_map"] and data["annualised"] is False
    assert data["return_interval_s"] == 60.0
    # Declared constraints are checked in every backtest: the broken one warns at its line.
    assert [(c["constraint"], c["holds"]) for c in data["constraints"]] == [("max_leverage <= 1000", True),
                                                                          ("fills < 1", False)]
    assert "warning[HFT1119]" in proc.stderr and "`fills < 1`" in proc.stderr and ":14:44" in proc.stderr
    assert data["data_quality"] is None and "data quality: no record" in proc.stderr  # a tape without one
    assert data["fills"] == 1 and data["events"] == 4 and data["pnl"] == pytest.approx(0.048, abs=1e-9)


def test_cli_params_files_and_report(mm_ir, synth, tmp_path, monkeypatch):
    _, schema = mm_ir
    forms = {
        "flat.yaml": "spread_bps: 50.0\n",
        "per_strategy.yaml": "mm: {spread_bps: 50.0}\n",
        "overlay.yaml": "strategies:\n  mm:\n    params: {spread_bps: 50.0}\n",
    }
    for name, text in forms.items():
        (tmp_path / name).write_text(text)
        proc = _cli(str(schema), "-s", "mm", "-d", str(synth), "--latency-ns", "100", "--params", name, "--json",
                    cwd=tmp_path, monkeypatch=monkeypatch)
        assert proc.returncode == 0, (name, proc.stderr)
        assert json.loads(proc.stdout)["fills"] == 0, name
    report = tmp_path / "report"
    proc = _cli(str(schema), "-s", "mm", "-d", str(synth), "--latency-ns", "100", "--report", str(report),
                cwd=tmp_path, monkeypatch=monkeypatch)
    assert proc.returncode == 0, proc.stderr
    assert "Backtest of mm" in proc.stdout
    assert (report / "report.html").is_file() and (report / "fills.parquet").is_file()
    assert "data_quality" in json.loads((report / "summary.json").read_text())
    assert "no record" in (report / "report.html").read_text()


@pytest.mark.parametrize("args,params_text,code", [
    (["-s", "nope"], None, "HFT1101"),
    (["-s", "mm"], "spread_bp: 1.0\n", "HFT1203"),
    (["-s", "mm"], "spread_bps: 1000.0\n", "HFT1204"),
    (["-s", "mm", "--queue", "probabilistic", "--latency-samples", "lat.txt"], None, "HFT1110"),
])
def test_cli_errors_are_diagnostics(mm_ir, synth, tmp_path, args, params_text, code, monkeypatch):
    _, schema = mm_ir
    (tmp_path / "lat.txt").write_text("1000\n-5\n")
    extra = []
    if params_text is not None:
        (tmp_path / "p.yaml").write_text(params_text)
        extra = ["--params", "p.yaml"]
    proc = _cli(str(schema), *args, "-d", str(synth), *extra, "--json", cwd=tmp_path, monkeypatch=monkeypatch)
    assert proc.returncode == 1
    assert f"error[{code}]" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    if params_text is not None:
        assert "p.yaml:1:" in proc.stderr  # points into the params file


def test_cli_missing_data_file(mm_ir, tmp_path, monkeypatch):
    _, schema = mm_ir
    proc = _cli(str(schema), "-s", "mm", "-d", "nowhere.hftt", cwd=tmp_path, monkeypatch=monkeypatch)
    assert proc.returncode == 1 and "error[HFT1112]" in proc.stderr and "Traceback" not in proc.stderr


# -------------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def btc_tape() -> Path:
    from hftc.backtest.inputs import resolve_tape

    return resolve_tape([require_shared_data("binance/usdm_btcusdt_20240808.gz")])


def test_market_maker_on_real_btcusdt(mm_engine, btc_tape):
    res = mm_engine.run(btc_tape, params={"spread_bps": 0.0, "qty": 0.01, "inventory_limit": 0.05},
                        options=_options(latency_ns=1_000_000, maker_fee_bps=-0.5))
    s = res.summary
    assert s["events"] > 400_000 and s["fills"] > 0 and s["orders"] > 0
    for key in ("pnl", "sharpe", "sortino", "max_drawdown", "turnover", "fill_ratio", "max_leverage",
                "max_correlation", "events_per_s"):
        assert math.isfinite(s[key]), key
    assert s["max_drawdown"] >= 0 and 0 < s["fill_ratio"] <= 1
    assert len(res.equity) > 300  # one sample a second over six minutes
    from hftc.backtest.tapeinfo import read_tape_info

    lot = read_tape_info(btc_tape).instruments[0].lot_size
    # `when` stops quoting at |position| >= 0.05; one more 0.01 order may be in flight then.
    assert np.abs(res.equity["position0"]).max() * lot <= 0.06 + 1e-9


def test_pairs_on_real_btcusdt_ethusdt(mm_ir):
    from hftc.backtest import compile_strategy
    from hftc.backtest.inputs import resolve_tape

    tape = resolve_tape([require_shared_data("binance/usdm_btcusdt_20240808.gz"),
                         require_shared_data("binance/usdm_ethusdt_20240808.gz")])
    res = compile_strategy(mm_ir[0], "pair").run(tape, params={"order_qty": 0.01}, options=_options(latency_ns=1_000_000))
    s = res.summary
    assert s["instrument_map"] == {"BTCUSDT": "BTCUSDT", "ETHUSDT": "ETHUSDT"}
    assert s["fills"] > 0 and all(math.isfinite(s[k]) for k in ("pnl", "sharpe", "max_drawdown", "max_correlation"))
    # Both legs trade, in opposite directions at entry: BTC long <-> ETH short.
    assert set(res.fills["symbol"].tolist()) == {"BTCUSDT", "ETHUSDT"}
    assert not res.fills["maker"].any()  # targets are reached with IOC orders


def test_module_imports_only_typer_at_cli_load():
    code = textwrap.dedent("""
        import sys
        import hftc.backtest.cli
        heavy = [m for m in ("numpy", "hftc.backtest.api", "hftc.frontend", "hftc.backtest.build") if m in sys.modules]
        print(",".join(heavy))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == ""


def test_each_runs_one_backtest_per_file_in_worker_processes(mm_ir, workdir, tmp_path):
    _, schema = mm_ir
    days = [write_synthetic(tmp_path / f"day{i}.hftt", offset_ns=i * 86_400_000_000_000) for i in range(3)]
    proc = subprocess.run([sys.executable, "-m", "hftc", "backtest", str(schema), "--strategy", "mm",
                           *[a for d in days for a in ("--data", str(d))], "--latency-ns", "100", "--each",
                           "--jobs", "2", "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [r["label"] for r in out["runs"]] == ["day0.hftt", "day1.hftt", "day2.hftt"]
    assert all(r["fills"] == 1 and r["events"] == 4 for r in out["runs"])
    # The same as one backtest of each file on its own.
    single = subprocess.run([sys.executable, "-m", "hftc", "backtest", str(schema), "--strategy", "mm", "--data",
                             str(days[1]), "--latency-ns", "100", "--json"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300, check=False)
    assert json.loads(single.stdout)["pnl"] == out["runs"][1]["pnl"]
    t = out["totals"]
    assert t["runs"] == 3 and t["failed"] == 0 and t["events"] == 12 and t["fills"] == 3
    assert t["pnl"] == pytest.approx(sum(r["pnl"] for r in out["runs"])) and t["events_per_s"] > 0
    # --report is one backtest's files: refused with --each, before any work.
    bad = subprocess.run([sys.executable, "-m", "hftc", "backtest", str(schema), "--strategy", "mm",
                          "--data", str(days[0]), "--each", "--report", str(tmp_path / "r")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    assert bad.returncode == 1 and "error[HFT1109]" in bad.stderr and not (tmp_path / "r").exists()


def test_cancel_policy_is_an_option_and_is_reported(mm_engine, synth):
    from hftc.backtest import BacktestError

    res = mm_engine.run(synth, options=_options(cancel="wait_for_confirm"))
    assert res.summary["cancel"] == "wait_for_confirm"
    assert mm_engine.run(synth, options=_options()).summary["cancel"] == "replace_at_once"
    with pytest.raises(BacktestError) as info:
        mm_engine.run(synth, options=_options(cancel="never"))
    assert info.value.code == "HFT1109"
