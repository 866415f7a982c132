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
Models, the same on both sides: risk-averse queue, partial fills (hftc's engine always fills
resting orders by whole lots as the queue frees them; hftbacktest's `partial_fill_exchange()`,
with the two workarounds for its 2.4.4 bugs that `hbt_partial_fills.py` describes, which also
give the strategy its position), constant order entry and response latency, the same maker/taker
fees, tick and lot from the tape.

Measured: the replay loop only. hftbacktest: wall time of the jitted strategy function over a
backtest built beforehand (data loading is not in it); numba's JIT runs on a warm-up backtest
first and is reported separately. hftc: the engine's own replay-loop time (`summary["seconds"]`,
steady_clock around the loop); compiling the strategy library is reported separately. Events are
rows replayed: the tape's rows for hftc, the npz rows for hftbacktest (the npz repeats rows whose
exchange order differs from their local order, so it counts a few more: this favours hftbacktest).
Each engine runs once to warm caches; then `--runs` rounds, each running both engines, hftc first
in even rounds and hftbacktest first in odd ones, so load on a shared machine hits both alike.
The table shows each engine's median, the ratio of the medians and the median of the rounds'
own ratios; the last line is one JSON object with every timing.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hbt_partial_fills, beside this script

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
    from hbt_partial_fills import jitted
    from hftbacktest import GTX, LIMIT
    from numba import njit

    order_qty_of, account, new_book = jitted()

    @njit
    def market_maker(hbt, gamma, kappa, vol_window, horizon, order_qty, max_inventory, min_spread_bps, maker_fee,
                     acct):
        depth = hbt.depth(0)
        tick, lot = depth.tick_size, depth.lot_size
        book = new_book()
        ring = np.zeros(vol_window)
        count, head, s1, s2 = 0, 0, 0.0, 0.0
        prev_log, has_prev = 0.0, False
        bid_id, bid_tick, bid_lots = 0, 0, 0
        ask_id, ask_tick, ask_lots = 0, 0, 0
        next_id = 0
        calls = 0
        while hbt.wait_next_feed(False, 3_600_000_000_000) == 2:
            calls += 1
            position = account(hbt, book, acct, lot, 1.0, False, maker_fee)
            hbt.clear_inactive_orders(0)
            orders = hbt.orders(0)
            if bid_id != 0 and bid_id not in orders:
                bid_id = 0
            if ask_id != 0 and ask_id not in orders:
                ask_id = 0
            depth = hbt.depth(0)
            best_bid, best_ask = depth.best_bid, depth.best_ask
            mid = (best_bid + best_ask) / 2.0
            # ret_bps = delta(log(mid)) * 1e4; sigma_bps = std(ret_bps, vol_window) (population, rolling).
            # An empty side reads NaN here: such events leave the estimate alone (one NaN in the sums
            # would otherwise stop the quoting for the rest of the run).
            if best_bid > 0.0 and best_ask > 0.0:
                lm = math.log(mid)
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
            mean = s1 / count if count > 0 else 0.0
            sigma = math.sqrt(max(s2 / count - mean * mean, 0.0)) if count > 0 else math.nan
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
                hbt.submit_buy_order(0, next_id, want_bid_tick * tick, order_qty_of(want_bid_lots, lot), GTX, LIMIT,
                                     False)
                bid_id, bid_tick, bid_lots = next_id, want_bid_tick, want_bid_lots
            changed = want_ask_lots == 0 or want_ask_tick != ask_tick or want_ask_lots != ask_lots
            if ask_id != 0 and changed and hbt.cancel(0, ask_id, False) == 0:
                ask_id = 0
            if ask_id == 0 and want_ask_lots > 0:
                next_id += 1
                hbt.submit_sell_order(0, next_id, want_ask_tick * tick, order_qty_of(want_ask_lots, lot), GTX, LIMIT,
                                      False)
                ask_id, ask_tick, ask_lots = next_id, want_ask_tick, want_ask_lots
        account(hbt, book, acct, lot, 1.0, False, maker_fee)
        return calls, next_id

    return market_maker


class HftbacktestRunner:
    """hftbacktest on the npz with the models of the hftc run; `run` times one replay of the strategy."""

    def __init__(self, npz: Path, tick: float, lot: float, args):
        import numpy as np

        self.events = np.load(npz)["data"]
        prices = self.events["px"][(self.events["px"] > 0) & np.isfinite(self.events["px"])]
        mid = float(np.median(prices))
        self.roi = (math.floor(mid * 0.8 / tick) * tick, math.ceil(mid * 1.2 / tick) * tick)
        self.tick, self.lot, self.args = tick, lot, args
        self.strategy = _hftbacktest_strategy()
        p = PARAMS
        self.call = (p["gamma"], p["kappa"], p["vol_window"], p["horizon"], p["order_qty"], p["max_inventory"],
                     p["min_spread_bps"], args.maker_fee_bps / 1e4)
        start = time.perf_counter()
        self.run(self.events[: min(len(self.events), 20_000)])  # numba compiles the strategy on its first call
        self.jit_seconds = time.perf_counter() - start

    def _backtest(self, data):
        from hftbacktest import BacktestAsset, ROIVectorMarketDepthBacktest

        a = self.args
        asset = (BacktestAsset()
                 .data([data])
                 .linear_asset(1.0)
                 .constant_order_latency(a.latency_ns, a.latency_ns)
                 .risk_adverse_queue_model()
                 .partial_fill_exchange()
                 .trading_value_fee_model(a.maker_fee_bps / 1e4, a.taker_fee_bps / 1e4)
                 .tick_size(self.tick)
                 .lot_size(self.lot)
                 .roi_lb(self.roi[0])
                 .roi_ub(self.roi[1]))
        return ROIVectorMarketDepthBacktest([asset])

    def run(self, data=None) -> dict:
        import numpy as np
        from hbt_partial_fills import ACCOUNT_SIZE, FILLS, POSITION_LOTS

        data = self.events if data is None else data
        hbt = self._backtest(data)
        acct = np.zeros(ACCOUNT_SIZE)
        start = time.perf_counter()
        calls, orders = self.strategy(hbt, *self.call, acct)
        seconds = time.perf_counter() - start
        hbt.close()
        return {"events": len(data), "seconds": seconds, "strategy_calls": int(calls), "orders": int(orders),
                "fills": int(acct[FILLS]), "final_position": float(acct[POSITION_LOTS] * self.lot)}


# ----------------------------------------------------------------------------- hftc side


class HftcRunner:
    """The market_making template compiled once; `run` returns the engine's own replay-loop time."""

    def __init__(self, tape_path: Path, symbol: str, args):
        from hftc.backtest import BacktestOptions, compile_strategy
        from hftc.frontend.compile import compile_text

        result = compile_text("bench.hftc.yaml", SCHEMA.format(symbol=symbol))
        if not result.ok:
            raise SystemExit("\n".join(d.message for d in result.diagnostics))
        start = time.perf_counter()
        self.engine = compile_strategy(result.ir, "mm")
        self.compile_seconds = time.perf_counter() - start
        self.tape_path = str(tape_path)
        self.options = BacktestOptions(latency_ns=args.latency_ns, queue="risk_averse",
                                       maker_fee_bps=args.maker_fee_bps, taker_fee_bps=args.taker_fee_bps, risk=False)

    def run(self) -> dict:
        s = self.engine.run(self.tape_path, params=PARAMS, options=self.options).summary
        return {"events": int(s["events"]), "seconds": float(s["seconds"]),
                "strategy_calls": int(s.get("strategy_calls") or 0), "orders": int(s["orders"]),
                "fills": int(s["fills"])}


def interleaved(hftc: HftcRunner, hbt: HftbacktestRunner, runs: int) -> tuple[list[dict], list[dict]]:
    """`runs` rounds of both engines, alternating which goes first, after one warm-up run of each."""
    hftc.run()  # page cache, first touch of the mmap
    hbt.run()
    ours, theirs = [], []
    for i in range(runs):
        if i % 2 == 0:
            ours.append(hftc.run())
            theirs.append(hbt.run())
        else:
            theirs.append(hbt.run())
            ours.append(hftc.run())
    return ours, theirs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Binance capture (.gz), default: %(default)s")
    parser.add_argument("--runs", type=int, default=7, help="interleaved rounds after one warm-up (>= 5)")
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
    from importlib.metadata import version as dist_version

    from hftc.paths import build_cache

    work = args.work_dir or build_cache() / "bench_backtest"
    work.mkdir(parents=True, exist_ok=True)
    tape_path, npz_path, tape = _prepare_data(args.data, work)
    inst = tape.instruments[0]
    symbol = inst.symbol if inst.symbol.isidentifier() else "LEG1"
    hbt = HftbacktestRunner(npz_path, inst.tick_size, inst.lot_size, args)
    ours_runner = HftcRunner(tape_path, symbol, args)
    ours, theirs = interleaved(ours_runner, hbt, args.runs)

    def rate(r: dict) -> float:
        return r["events"] / r["seconds"]

    hftc_s = statistics.median(r["seconds"] for r in ours)
    hbt_s = statistics.median(r["seconds"] for r in theirs)
    hftc_rate, hbt_rate = ours[0]["events"] / hftc_s, theirs[0]["events"] / hbt_s
    ratio = hftc_rate / hbt_rate
    paired = statistics.median(rate(o) / rate(t) for o, t in zip(ours, theirs, strict=True))

    print(f"data: {args.data.name} → {tape_path.name} ({ours[0]['events']:,} rows), "
          f"npz {theirs[0]['events']:,} rows; {inst.symbol} tick {inst.tick_size} lot {inst.lot_size}; "
          f"hftbacktest {dist_version('hftbacktest')}")
    print(f"strategy: market_making template, {PARAMS}; latency {args.latency_ns} ns; fees maker "
          f"{args.maker_fee_bps} / taker {args.taker_fee_bps} bps; risk-averse queue, partial fills; "
          f"median of {args.runs} interleaved rounds")
    print(f"{'engine':<12} {'events':>10} {'loop s':>9} {'M events/s':>11} {'setup s':>9} {'calls':>8} {'orders':>7} "
          f"{'fills':>6}")
    print(f"{'hftbacktest':<12} {theirs[0]['events']:>10,} {hbt_s:>9.4f} {hbt_rate / 1e6:>11.2f} "
          f"{hbt.jit_seconds:>9.2f} {theirs[0]['strategy_calls']:>8,} {theirs[0]['orders']:>7,} "
          f"{theirs[0]['fills']:>6,}  (setup = numba JIT)")
    print(f"{'hftc':<12} {ours[0]['events']:>10,} {hftc_s:>9.4f} {hftc_rate / 1e6:>11.2f} "
          f"{ours_runner.compile_seconds:>9.2f} {ours[0]['strategy_calls']:>8,} {ours[0]['orders']:>7,} "
          f"{ours[0]['fills']:>6,}  (setup = compile, cached after the first)")
    print(f"ratio hftc / hftbacktest: {ratio:.2f}x (ratio of the medians); {paired:.2f}x (median of the "
          f"{args.runs} rounds' ratios)")
    print(json.dumps({"benchmark": "backtest_vs_hftbacktest", "data": args.data.name, "runs": args.runs,
                      "hftbacktest": dist_version("hftbacktest"), "partial_fills": True,
                      "hftbacktest_events": theirs[0]["events"], "hftbacktest_events_per_s": round(hbt_rate),
                      "hftbacktest_jit_s": round(hbt.jit_seconds, 3),
                      "hftbacktest_seconds": [round(r["seconds"], 6) for r in theirs],
                      "hftbacktest_orders": theirs[0]["orders"], "hftbacktest_fills": theirs[0]["fills"],
                      "hftc_events": ours[0]["events"], "hftc_events_per_s": round(hftc_rate),
                      "hftc_compile_s": round(ours_runner.compile_seconds, 3),
                      "hftc_seconds": [round(r["seconds"], 6) for r in ours],
                      "hftc_orders": ours[0]["orders"], "hftc_fills": ours[0]["fills"],
                      "ratio": round(ratio, 3), "ratio_paired_median": round(paired, 3),
                      "cpu_count": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
