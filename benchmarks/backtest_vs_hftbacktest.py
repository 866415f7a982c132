"""Backtest speed: hftc's native engine against hftbacktest on the same data and strategy.

    pip install hftbacktest        # not a dependency of hftc; only this script needs it
    python benchmarks/backtest_vs_hftbacktest.py [--data FILE.gz] [--runs 7] [--latency-ns 1000000]

Workload: the real Binance USD-M BTCUSDT capture (`../shared/data/binance/usdm_btcusdt_20240808.gz`,
six minutes), converted once with `hftc data convert`'s converter to a tape (.hftt) and exported
to hftbacktest's npz with `hftc.data.hftbacktest.write_npz`, so both engines replay the same
events. Strategy: the shipped `market_making` template (Avellaneda-Stoikov quoting on a rolling
volatility) on both sides, evaluated at every feed event: hftc runs it as the generated C++
strategy; hftbacktest runs a numba port of the same formulas in the loop its documentation shows
(`wait_next_feed`, one resting GTX order per side, cancel and replace when price or size change).
Models: risk-averse queue, constant order entry and response latency, the same maker/taker fees,
tick and lot from the tape.

Measured: the replay loop only. hftbacktest: wall time of the jitted strategy function over a
backtest built beforehand (data loading is not in it); numba's JIT runs on a warm-up backtest
first and is reported separately. hftc: the engine's own replay-loop time (`summary["seconds"]`,
steady_clock around the loop); compiling the strategy library is reported separately. Events are
rows replayed: the tape's rows for hftc, the npz rows for hftbacktest (the npz repeats rows whose
exchange order differs from their local order, so it counts a few more: this favours hftbacktest).
Each engine runs once to warm caches, then `--runs` times; the table shows medians and the last
line is one JSON object with both rates and their ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "binance" / "usdm_btcusdt_20240808.gz"

# Template parameters for both engines (BTCUSDT-sized quantities; the rest are the template's defaults).
PARAMS = {"gamma": 0.5, "kappa": 5.0, "vol_window": 500, "horizon": 1000, "order_qty": 0.01,
          "max_inventory": 0.1, "min_spread_bps": 0.5}
SCHEMA = """\
hftc: 1
package: bench.backtest
strategies:
  mm:
    template: market_making
    instruments: [{symbol}]
"""


def _prepare_data(source: Path, work: Path) -> tuple[Path, Path, object]:
    """The tape (converted once, cached by the source's content) and its hftbacktest npz export."""
    from hftc.data.convert import convert, write
    from hftc.data.hftbacktest import write_npz
    from hftc.data.tape import open_tape

    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    tape_path = work / f"{source.name}.{digest}.hftt"
    npz_path = work / f"{source.name}.{digest}.npz"
    if not tape_path.exists():
        write(convert([source]), tape_path)
    tape = open_tape(tape_path)
    if not npz_path.exists():
        write_npz(tape, 0, npz_path)
    return tape_path, npz_path, tape


# ----------------------------------------------------------------------------- hftbacktest side


def _hftbacktest_strategy():
    """The market_making template's formulas, jitted the way hftbacktest's examples write strategies."""
    import numpy as np
    from hftbacktest import GTX, LIMIT
    from numba import njit

    @njit
    def market_maker(hbt, gamma, kappa, vol_window, horizon, order_qty, max_inventory, min_spread_bps):
        depth = hbt.depth(0)
        tick, lot = depth.tick_size, depth.lot_size
        ring = np.zeros(vol_window)
        count, head, s1, s2 = 0, 0, 0.0, 0.0
        prev_log, has_prev = 0.0, False
        bid_id, bid_tick, bid_lots = 0, 0, 0
        ask_id, ask_tick, ask_lots = 0, 0, 0
        next_id = 0
        calls = 0
        while hbt.wait_next_feed(False, 3_600_000_000_000) == 2:
            calls += 1
            hbt.clear_inactive_orders(0)
            orders = hbt.orders(0)
            if bid_id != 0 and bid_id not in orders:
                bid_id = 0
            if ask_id != 0 and ask_id not in orders:
                ask_id = 0
            depth = hbt.depth(0)
            best_bid, best_ask = depth.best_bid, depth.best_ask
            mid = (best_bid + best_ask) / 2.0
            # ret_bps = delta(log(mid)) * 1e4; sigma_bps = std(ret_bps, vol_window) (population, rolling)
            lm = math.log(mid) if mid > 0.0 else -math.inf
            ret = (lm - prev_log) * 1e4 if has_prev else 0.0
            prev_log, has_prev = lm, True
            if count == vol_window:
                old = ring[head]
                s1 -= old
                s2 -= old * old
                count -= 1
            ring[head] = ret
            head = (head + 1) % vol_window
            s1 += ret
            s2 += ret * ret
            count += 1
            mean = s1 / count
            sigma = math.sqrt(max(s2 / count - mean * mean, 0.0))
            position = hbt.position(0)
            quoting = best_ask > best_bid and best_bid > 0.0 and math.isfinite(sigma)
            want_bid_tick, want_bid_lots, want_ask_tick, want_ask_lots = 0, 0, 0, 0
            if quoting:
                risk = gamma * sigma * sigma * horizon
                reservation = -(position / max_inventory) * risk
                half = max(risk / 2.0 + math.log(1.0 + gamma / kappa) / gamma, min_spread_bps / 2.0)
                bid = min(mid * (1.0 + (reservation - half) / 1e4), mid)
                ask = max(mid * (1.0 + (reservation + half) / 1e4), mid)
                want_bid_tick = int(math.floor(bid / tick + 1e-9))  # noqa: RUF046 - numba types
                want_ask_tick = int(math.ceil(ask / tick - 1e-9))  # noqa: RUF046 - numba types
                want_bid_lots = int(math.floor(min(max(max_inventory - position, 0.0), order_qty) / lot + 1e-9))  # noqa: RUF046 - numba types
                want_ask_lots = int(math.floor(min(max(max_inventory + position, 0.0), order_qty) / lot + 1e-9))  # noqa: RUF046 - numba types
            # One resting order per side: cancel and replace when price or size change (a cancel refused
            # while a request is in flight is retried at the next event).
            changed = want_bid_lots == 0 or want_bid_tick != bid_tick or want_bid_lots != bid_lots
            if bid_id != 0 and changed and hbt.cancel(0, bid_id, False) == 0:
                bid_id = 0
            if bid_id == 0 and want_bid_lots > 0:
                next_id += 1
                hbt.submit_buy_order(0, next_id, want_bid_tick * tick, want_bid_lots * lot, GTX, LIMIT, False)
                bid_id, bid_tick, bid_lots = next_id, want_bid_tick, want_bid_lots
            changed = want_ask_lots == 0 or want_ask_tick != ask_tick or want_ask_lots != ask_lots
            if ask_id != 0 and changed and hbt.cancel(0, ask_id, False) == 0:
                ask_id = 0
            if ask_id == 0 and want_ask_lots > 0:
                next_id += 1
                hbt.submit_sell_order(0, next_id, want_ask_tick * tick, want_ask_lots * lot, GTX, LIMIT, False)
                ask_id, ask_tick, ask_lots = next_id, want_ask_tick, want_ask_lots
        return calls

    return market_maker


def _hftbacktest_backtest(events, tick: float, lot: float, latency_ns: int, maker_bps: float, taker_bps: float,
                          roi: tuple[float, float]):
    from hftbacktest import BacktestAsset, ROIVectorMarketDepthBacktest

    asset = (BacktestAsset()
             .data([events])
             .linear_asset(1.0)
             .constant_order_latency(latency_ns, latency_ns)
             .risk_adverse_queue_model()
             .no_partial_fill_exchange()
             .trading_value_fee_model(maker_bps / 1e4, taker_bps / 1e4)
             .tick_size(tick)
             .lot_size(lot)
             .roi_lb(roi[0])
             .roi_ub(roi[1]))
    return ROIVectorMarketDepthBacktest([asset])


def run_hftbacktest(npz: Path, tick: float, lot: float, args) -> dict:
    import numpy as np

    events = np.load(npz)["data"]
    prices = events["px"][(events["px"] > 0) & np.isfinite(events["px"])]
    mid = float(np.median(prices))
    roi = (math.floor(mid * 0.8 / tick) * tick, math.ceil(mid * 1.2 / tick) * tick)
    strategy = _hftbacktest_strategy()
    p = PARAMS
    call = (p["gamma"], p["kappa"], p["vol_window"], p["horizon"], p["order_qty"], p["max_inventory"],
            p["min_spread_bps"])

    def one(data):
        hbt = _hftbacktest_backtest(data, tick, lot, args.latency_ns, args.maker_fee_bps, args.taker_fee_bps, roi)
        start = time.perf_counter()
        calls = strategy(hbt, *call)
        seconds = time.perf_counter() - start
        position = hbt.position(0)
        hbt.close()
        return seconds, calls, position

    start = time.perf_counter()
    one(events[: min(len(events), 20_000)])  # numba compiles the strategy on its first call
    jit_seconds = time.perf_counter() - start
    one(events)  # warm-up on the full data
    runs = [one(events) for _ in range(args.runs)]
    seconds = statistics.median(r[0] for r in runs)
    return {"events": len(events), "seconds": seconds, "events_per_s": len(events) / seconds,
            "jit_seconds": jit_seconds, "strategy_calls": runs[0][1], "runs": [r[0] for r in runs],
            "final_position": runs[0][2]}


# ----------------------------------------------------------------------------- hftc side


def run_hftc(tape_path: Path, symbol: str, args) -> dict:
    from hftc.backtest import BacktestOptions, compile_strategy
    from hftc.frontend.compile import compile_text

    result = compile_text("bench.hftc.yaml", SCHEMA.format(symbol=symbol))
    if not result.ok:
        raise SystemExit("\n".join(d.message for d in result.diagnostics))
    start = time.perf_counter()
    engine = compile_strategy(result.ir, "mm")
    compile_seconds = time.perf_counter() - start
    options = BacktestOptions(latency_ns=args.latency_ns, queue="risk_averse", maker_fee_bps=args.maker_fee_bps,
                              taker_fee_bps=args.taker_fee_bps, risk=False)
    engine.run(str(tape_path), params=PARAMS, options=options)  # warm-up: page cache, first-touch of the mmap
    runs = [engine.run(str(tape_path), params=PARAMS, options=options).summary for _ in range(args.runs)]
    seconds = statistics.median(r["seconds"] for r in runs)
    events = int(runs[0]["events"])
    return {"events": events, "seconds": seconds, "events_per_s": events / seconds,
            "compile_seconds": compile_seconds, "strategy_calls": int(runs[0].get("strategy_calls") or 0),
            "runs": [r["seconds"] for r in runs], "fills": int(runs[0]["fills"]), "orders": int(runs[0]["orders"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Binance capture (.gz), default: %(default)s")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per engine after one warm-up (>= 5)")
    parser.add_argument("--latency-ns", type=int, default=1_000_000, help="order entry and response latency")
    parser.add_argument("--maker-fee-bps", type=float, default=2.0)
    parser.add_argument("--taker-fee-bps", type=float, default=5.0)
    parser.add_argument("--work-dir", type=Path, default=None, help="where the tape and npz are cached")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    if not args.data.is_file():
        print(f"market data not found: {args.data} (pass --data)", file=sys.stderr)
        return 2
    try:
        import hftbacktest  # noqa: F401
    except ImportError:
        print("hftbacktest is not installed: pip install hftbacktest", file=sys.stderr)
        return 2
    from hftc.paths import build_cache

    work = args.work_dir or build_cache() / "bench_backtest"
    work.mkdir(parents=True, exist_ok=True)
    tape_path, npz_path, tape = _prepare_data(args.data, work)
    inst = tape.instruments[0]
    symbol = inst.symbol if inst.symbol.isidentifier() else "LEG1"
    hbt = run_hftbacktest(npz_path, inst.tick_size, inst.lot_size, args)
    ours = run_hftc(tape_path, symbol, args)
    ratio = ours["events_per_s"] / hbt["events_per_s"]

    print(f"data: {args.data.name} → {tape_path.name} ({ours['events']:,} rows), npz {hbt['events']:,} rows; "
          f"{inst.symbol} tick {inst.tick_size} lot {inst.lot_size}")
    print(f"strategy: market_making template, {PARAMS}; latency {args.latency_ns} ns; fees maker "
          f"{args.maker_fee_bps} / taker {args.taker_fee_bps} bps; risk-averse queue; median of {args.runs} runs")
    print(f"{'engine':<12} {'events':>10} {'loop s':>9} {'M events/s':>11} {'setup s':>9}  strategy calls")
    print(f"{'hftbacktest':<12} {hbt['events']:>10,} {hbt['seconds']:>9.4f} {hbt['events_per_s'] / 1e6:>11.2f} "
          f"{hbt['jit_seconds']:>9.2f}  {hbt['strategy_calls']:,} (setup = numba JIT)")
    print(f"{'hftc':<12} {ours['events']:>10,} {ours['seconds']:>9.4f} {ours['events_per_s'] / 1e6:>11.2f} "
          f"{ours['compile_seconds']:>9.2f}  {ours['strategy_calls']:,} (setup = compile, cached after the first)")
    print(f"ratio hftc / hftbacktest: {ratio:.2f}x")
    print(json.dumps({"benchmark": "backtest_vs_hftbacktest", "data": args.data.name, "runs": args.runs,
                      "hftbacktest_events": hbt["events"], "hftbacktest_events_per_s": round(hbt["events_per_s"]),
                      "hftbacktest_jit_s": round(hbt["jit_seconds"], 3),
                      "hftc_events": ours["events"], "hftc_events_per_s": round(ours["events_per_s"]),
                      "hftc_compile_s": round(ours["compile_seconds"], 3), "ratio": round(ratio, 3),
                      "cpu_count": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
