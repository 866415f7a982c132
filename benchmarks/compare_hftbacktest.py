"""Backtest parity: one touch-quoting strategy in hftc and in hftbacktest, side by side.

    pip install hftbacktest        # or: pip install -e '.[bench]'; not a dependency of hftc itself
    python benchmarks/compare_hftbacktest.py [--data FILE.gz ...] [--runs 5] [--queue risk_averse]

Data: the three bundled Binance captures of 2024-08-08 (coin-M BTCUSD perpetual, USD-M BTCUSDT,
spot BTCUSDT), each converted once to a tape with `hftc data convert`'s converter and exported to
hftbacktest's npz with `hftc.data.hftbacktest.write_npz`, so both engines replay the same events.

Strategy, the same on both sides: quote at the touch (bid at the best bid, ask at the best ask,
post-only), `order_qty` a side, nothing on a side that would take the position past
`max_position`; when the touch or the allowed quantity changes, cancel and send a new order. hftc
runs it as a schema strategy in the expression language (compiled to C++); hftbacktest runs the
same rule in a numba loop woken by every feed event and every order response
(`wait_next_feed(True, ...)`), as hftc calls its strategy on both; `--no-wake-on-responses` wakes
hftbacktest's loop on feed events only.

Models, the same on both sides: constant order entry and response latency (`--latency-ns`), the
queue model (`risk_averse` = hftbacktest's RiskAdverseQueueModel; `probabilistic` = its
PowerProbQueueModel with exponent 3, the formula hftc's engine README gives), partial fills
(hftbacktest's PartialFillExchange), maker/taker fees in bps of traded value, and the contract
type the tape records (linear, or inverse with its multiplier: hftbacktest's `inverse_asset(100)`
for the coin-M perpetual, where PnL and fees are in BTC).

hftbacktest 2.4.4's PartialFillExchange needs two workarounds (`hbt_partial_fills.py` beside this
script says why): orders go out a billionth of a lot short of their size, else an exact queue fill
stays in its book and `wait_next_feed` stops with code 14 (InvalidOrderStatus) on the one-lot
quotes of the coin-M and USD-M files; and its fills, position, fees and PnL are booked from the
orders' executed quantities, because its `state_values` miss partial fills (the JSON line keeps
`state_values` for comparison).

Output: one table per file (orders sent, post-only rejects, fills, final position, gross PnL,
fees, net PnL in the settlement currency, PnL marked at the final mid), then replay speed: each
engine's replay loop timed in `--runs` interleaved rounds (hftc then hftbacktest, then the other
way round) after a warm-up, median seconds and events/s per engine and their ratio. Events are rows replayed: tape
rows for hftc, npz rows for hftbacktest (the npz repeats rows whose exchange order differs from
their local order, so it counts a few more; that favours hftbacktest). The last line is JSON.
`--hftc-only` runs only hftc's half (no hftbacktest needed); without it a missing hftbacktest
exits with status 2.
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
SHARED = REPO.parent / "shared" / "data" / "binance"
DEFAULT_DATA = [SHARED / f"{name}_20240808.gz" for name in ("cm_btcusd_perp", "usdm_btcusdt", "spot_btcusdt")]

#: Quote size and position limit by contract type: one 100 USD contract of the coin-M perpetual,
#: 0.001 BTC of the linear ones (each about 60 USD at the capture's prices); ten quotes of inventory.
SIZING = {"inverse": {"order_qty": 1.0, "max_position": 10.0},
          "linear": {"order_qty": 0.001, "max_position": 0.01}}
QUEUES = ("risk_averse", "probabilistic")
QUEUE_POWER = 3.0

SCHEMA = """\
hftc: 1
package: bench.touch
strategies:
  touch:
    description: Quote at the touch, requote when it moves, within a position limit.
    instruments: [{symbol}]
    params:
      order_qty: {{type: float, range: [0.000001, 1000000.0], default: 0.001}}
      max_position: {{type: float, range: [0.000001, 1000000.0], default: 0.01}}
    quote:
      bid:
        price: book.bid
        qty: clamp(max_position - position, 0, order_qty)
      ask:
        price: book.ask
        qty: clamp(max_position + position, 0, order_qty)
    when: book.spread > 0
"""


def prepare(source: Path, work: Path) -> tuple[Path, Path]:
    """The tape (converted once, cached by the source's content) and its hftbacktest npz export."""
    from hftc.data.convert import convert, write
    from hftc.data.hftbacktest import write_npz
    from hftc.data.tape import open_tape

    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    tape_path = work / f"{source.name}.{digest}.hftt"
    npz_path = work / f"{source.name}.{digest}.npz"
    if not tape_path.exists():
        write(convert([source]), tape_path)
    if not npz_path.exists():
        write_npz(open_tape(tape_path), 0, npz_path)
    return tape_path, npz_path


# ----------------------------------------------------------------------------- hftc side


class HftcSide:
    """The touch strategy compiled once per symbol; `run` returns the parity row and loop seconds."""

    def __init__(self, symbol: str):
        from hftc.backtest import compile_strategy
        from hftc.frontend.compile import compile_text

        result = compile_text("touch.hftc.yaml", SCHEMA.format(symbol=symbol))
        if not result.ok:
            raise SystemExit("\n".join(d.message for d in result.diagnostics))
        self.engine = compile_strategy(result.ir, "touch")

    def run(self, tape_path: Path, params: dict, args) -> dict:
        from hftc.backtest import BacktestOptions

        options = BacktestOptions(latency_ns=args.latency_ns, queue=args.queue, queue_power=QUEUE_POWER,
                                  maker_fee_bps=args.maker_fee_bps, taker_fee_bps=args.taker_fee_bps, risk=False)
        result = self.engine.run(str(tape_path), params=params, options=options)
        s = result.summary
        position = float((result.fills["side"].astype(float) * result.fills["quantity"]).sum())
        symbol = next(iter(s["contracts"]))
        return {"orders": int(s["orders"]), "rejects": int(s["post_only_rejects"]), "fills": int(s["fills"]),
                "position": position,
                "gross": float(s["pnl"]) + float(s["fees"]), "fees": float(s["fees"]), "net": float(s["pnl"]),
                "events": int(s["events"]), "seconds": float(s["seconds"]), "contract": s["contracts"][symbol],
                "currency": s["settlement_currency"]}


# ----------------------------------------------------------------------------- hftbacktest side


def _touch_loop():
    """The touch rule jitted the way hftbacktest's examples write strategies."""
    from hbt_partial_fills import jitted
    from hftbacktest import GTX, LIMIT
    from numba import njit

    order_qty, account, new_book = jitted()

    @njit
    def touch(hbt, order_qty_param, max_position, lot_multiplier, inverse, maker_fee, wake_on_responses, out, acct):
        depth = hbt.depth(0)
        tick, lot = depth.tick_size, depth.lot_size
        book = new_book()
        bid_id, bid_tick, bid_lots = 0, 0, 0
        ask_id, ask_tick, ask_lots = 0, 0, 0
        next_id, orders, mid, calls = 0, 0, 0.0, 0
        while True:
            # Woken by feed events (2), and with wake_on_responses by order responses (3) too.
            r = hbt.wait_next_feed(wake_on_responses, 3_600_000_000_000)
            if r != 2 and r != 3:  # 1: end of data; anything else is an error code, and the backtest cannot go on
                out[2] = r
                out[3] = hbt.current_timestamp
                break
            calls += 1
            position = account(hbt, book, acct, lot, lot_multiplier, inverse, maker_fee)
            hbt.clear_inactive_orders(0)
            live = hbt.orders(0)
            if bid_id != 0 and bid_id not in live:
                bid_id = 0
            if ask_id != 0 and ask_id not in live:
                ask_id = 0
            depth = hbt.depth(0)
            best_bid_tick, best_ask_tick = depth.best_bid_tick, depth.best_ask_tick
            valid = depth.best_bid > 0.0 and depth.best_ask > depth.best_bid
            if valid:
                mid = (depth.best_bid + depth.best_ask) / 2.0
            want_bid_lots, want_ask_lots = 0, 0
            if valid:
                want_bid_lots = int(math.floor(min(max(max_position - position, 0.0), order_qty_param) / lot + 1e-9))  # noqa: RUF046 - numba types
                want_ask_lots = int(math.floor(min(max(max_position + position, 0.0), order_qty_param) / lot + 1e-9))  # noqa: RUF046 - numba types
            # One resting post-only order per side: cancel and replace when price or size change (a
            # cancel refused while a request is in flight is retried at the next event).
            moved = want_bid_lots == 0 or best_bid_tick != bid_tick or want_bid_lots != bid_lots
            if bid_id != 0 and moved and hbt.cancel(0, bid_id, False) == 0:
                bid_id = 0
            if bid_id == 0 and want_bid_lots > 0:
                next_id += 1
                orders += 1
                hbt.submit_buy_order(0, next_id, best_bid_tick * tick, order_qty(want_bid_lots, lot), GTX, LIMIT, False)
                bid_id, bid_tick, bid_lots = next_id, best_bid_tick, want_bid_lots
            moved = want_ask_lots == 0 or best_ask_tick != ask_tick or want_ask_lots != ask_lots
            if ask_id != 0 and moved and hbt.cancel(0, ask_id, False) == 0:
                ask_id = 0
            if ask_id == 0 and want_ask_lots > 0:
                next_id += 1
                orders += 1
                hbt.submit_sell_order(0, next_id, best_ask_tick * tick, order_qty(want_ask_lots, lot), GTX, LIMIT,
                                      False)
                ask_id, ask_tick, ask_lots = next_id, best_ask_tick, want_ask_lots
        account(hbt, book, acct, lot, lot_multiplier, inverse, maker_fee)  # responses read with the last event
        out[0] = orders
        out[1] = mid
        out[4] = calls
        return 0

    return touch


class HftbacktestSide:
    """hftbacktest with the models of the hftc run: latency, queue, partial fills, fees, contract."""

    def __init__(self, npz: Path, tick: float, lot: float, contract: str, multiplier: float):
        import numpy as np

        self.events = np.load(npz)["data"]
        prices = self.events["px"][(self.events["px"] > 0) & np.isfinite(self.events["px"])]
        mid = float(np.median(prices))
        self.roi = (math.floor(mid * 0.8 / tick) * tick, math.ceil(mid * 1.2 / tick) * tick)
        self.tick, self.lot, self.contract, self.multiplier = tick, lot, contract, multiplier
        self.loop = _touch_loop()

    def _backtest(self, data, args):
        from hftbacktest import BacktestAsset, ROIVectorMarketDepthBacktest

        asset = BacktestAsset().data([data])
        asset = (asset.inverse_asset(self.multiplier) if self.contract == "inverse"
                 else asset.linear_asset(self.multiplier))
        asset = asset.constant_order_latency(args.latency_ns, args.latency_ns)
        asset = (asset.risk_adverse_queue_model() if args.queue == "risk_averse"
                 else asset.power_prob_queue_model(QUEUE_POWER))
        asset = (asset.partial_fill_exchange()
                 .trading_value_fee_model(args.maker_fee_bps / 1e4, args.taker_fee_bps / 1e4)
                 .tick_size(self.tick).lot_size(self.lot).roi_lb(self.roi[0]).roi_ub(self.roi[1]))
        return ROIVectorMarketDepthBacktest([asset])

    def warm_up(self, params: dict, args) -> float:
        """numba compiles the loop on its first call: time it on a slice, apart from the replay."""
        start = time.perf_counter()
        self.run(params, args, self.events[: min(len(self.events), 20_000)])
        return time.perf_counter() - start

    def run(self, params: dict, args, data=None) -> dict:
        import numpy as np
        from hbt_partial_fills import ACCOUNT_SIZE, BALANCE, EXPIRED_ORDERS, FEE, FILLS, POSITION_LOTS

        hbt = self._backtest(self.events if data is None else data, args)
        out, acct = np.zeros(5), np.zeros(ACCOUNT_SIZE)
        start = time.perf_counter()
        self.loop(hbt, params["order_qty"], params["max_position"], self.multiplier, self.contract == "inverse",
                  args.maker_fee_bps / 1e4, args.wake_on_responses, out, acct)
        seconds = time.perf_counter() - start
        state = hbt.state_values(0)  # hftbacktest's own local state, which misses partial fills (see hbt_partial_fills)
        own = {"position": float(state.position), "fees": float(state.fee), "fills": int(state.num_trades)}
        hbt.close()
        position, balance, fee = acct[POSITION_LOTS] * self.lot, acct[BALANCE], acct[FEE]
        mid = float(out[1])
        if self.contract == "inverse":  # hftbacktest's InverseAsset: amount = size * qty / price
            gross = -balance - self.multiplier * position / mid
        else:
            gross = balance + self.multiplier * position * mid
        return {"orders": int(out[0]), "rejects": int(acct[EXPIRED_ORDERS]), "fills": int(acct[FILLS]),
                "position": float(position), "gross": float(gross),
                "fees": float(fee), "net": float(gross - fee), "events": len(self.events if data is None else data),
                "seconds": seconds, "strategy_calls": int(out[4]), "stop_code": int(out[2]), "stop_ts": int(out[3]),
                "state_values": own}


# ----------------------------------------------------------------------------- the comparison


ROWS = (("orders", "orders sent", "{:,}"), ("rejects", "post-only rejects", "{:,}"), ("fills", "fills", "{:,}"),
        ("position", "final position", "{:,.6g}"), ("gross", "gross PnL", "{:,.6g}"), ("fees", "fees", "{:,.6g}"),
        ("net", "net PnL", "{:,.6g}"))


def parity_table(name: str, ours: dict, theirs: dict | None) -> list[str]:
    """Lines of one file's table: each quantity for hftc, hftbacktest and their relative difference."""
    unit = f"{ours['currency']}, {ours['contract']}"
    lines = [f"{name}  (PnL and fees in {unit})",
             f"  {'':<16} {'hftc':>14} {'hftbacktest':>14} {'diff':>8}"]
    for key, label, fmt in ROWS:
        mine = fmt.format(ours[key])
        if theirs is None:
            lines.append(f"  {label:<16} {mine:>14} {'-':>14} {'-':>8}")
            continue
        other = fmt.format(theirs[key])
        denom = max(abs(ours[key]), abs(theirs[key]))
        diff = "0%" if denom == 0 else f"{(ours[key] - theirs[key]) / denom:+.0%}"
        lines.append(f"  {label:<16} {mine:>14} {other:>14} {diff:>8}")
    return lines


def compare_file(source: Path, work: Path, args) -> dict:
    """Parity row and interleaved timings for one capture."""
    from hftc.data.tape import open_tape

    tape_path, npz_path = prepare(source, work)
    inst = open_tape(tape_path).instruments[0]
    symbol = inst.symbol if inst.symbol.isidentifier() else "LEG1"
    ours_side = HftcSide(symbol)
    probe = ours_side.run(tape_path, SIZING["linear"], args)  # learns the contract type; warms the page cache
    params = SIZING[probe["contract"]]
    ours = ours_side.run(tape_path, params, args)
    theirs, jit_s, hftc_s, hbt_s = None, None, [], []
    if not args.hftc_only:
        their_side = HftbacktestSide(npz_path, inst.tick_size, inst.lot_size, ours["contract"], inst.multiplier)
        jit_s = their_side.warm_up(params, args)
        theirs = their_side.run(params, args)  # warm-up on the full data; also the parity row
    for i in range(args.runs):
        order = ("hftc", "hbt") if i % 2 == 0 else ("hbt", "hftc")
        for who in order:
            if who == "hftc":
                hftc_s.append(ours_side.run(tape_path, params, args)["seconds"])
            elif theirs is not None:
                hbt_s.append(their_side.run(params, args)["seconds"])
    row = {"file": source.name, "symbol": inst.symbol, "contract": ours["contract"], "currency": ours["currency"],
           "multiplier": inst.multiplier, "params": params, "hftc": ours, "hftbacktest": theirs,
           "hftc_seconds": statistics.median(hftc_s) if hftc_s else None,
           "hftbacktest_seconds": statistics.median(hbt_s) if hbt_s else None, "hftbacktest_jit_s": jit_s}
    row["hftc_events_per_s"] = ours["events"] / row["hftc_seconds"] if hftc_s else None
    row["hftbacktest_events_per_s"] = (theirs["events"] / row["hftbacktest_seconds"]) if hbt_s else None
    return row


def speed_lines(rows: list[dict], runs: int) -> list[str]:
    lines = [f"replay speed, median of {runs} interleaved runs (replay loop only; hftbacktest's numba JIT apart)",
             f"  {'file':<32} {'hftc ev':>10} {'hftc M/s':>9} {'hbt ev':>10} {'hbt M/s':>9} {'ratio':>7} {'JIT s':>6}"]
    for r in rows:
        ours = f"{r['hftc_events_per_s'] / 1e6:.2f}" if r["hftc_events_per_s"] else "-"
        theirs = f"{r['hftbacktest_events_per_s'] / 1e6:.2f}" if r["hftbacktest_events_per_s"] else "-"
        ratio = (f"{r['hftc_events_per_s'] / r['hftbacktest_events_per_s']:.1f}x"
                 if r["hftc_events_per_s"] and r["hftbacktest_events_per_s"] else "-")
        if r["hftbacktest"] and r["hftbacktest"]["stop_code"] != 1:
            theirs, ratio = "stopped", "-"  # an early stop replays part of the data: its rate means nothing
        their_events = f"{r['hftbacktest']['events']:,}" if r["hftbacktest"] else "-"
        jit = f"{r['hftbacktest_jit_s']:.1f}" if r["hftbacktest_jit_s"] is not None else "-"
        lines.append(f"  {r['file']:<32} {r['hftc']['events']:>10,} {ours:>9} {their_events:>10} {theirs:>9} "
                     f"{ratio:>7} {jit:>6}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs="+", default=DEFAULT_DATA, help="Binance captures (.gz)")
    parser.add_argument("--runs", type=int, default=5, help="timed interleaved rounds after the warm-up")
    parser.add_argument("--latency-ns", type=int, default=1_000_000, help="order entry and response latency")
    parser.add_argument("--queue", choices=QUEUES, default="risk_averse")
    parser.add_argument("--maker-fee-bps", type=float, default=2.0)
    parser.add_argument("--taker-fee-bps", type=float, default=5.0)
    parser.add_argument("--work-dir", type=Path, default=None, help="where tapes and npz files are cached")
    parser.add_argument("--hftc-only", action="store_true", help="run only hftc's half (no hftbacktest needed)")
    parser.add_argument("--wake-on-responses", action=argparse.BooleanOptionalAction, default=True,
                        help="hftbacktest's loop also runs on order responses (wait_next_feed(True, ...)), as hftc "
                             "calls its strategy (the default); --no-wake-on-responses runs it on feed events only")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    missing = [str(p) for p in args.data if not p.is_file()]
    if missing:
        print(f"market data not found: {', '.join(missing)} (pass --data)", file=sys.stderr)
        return 2
    if not args.hftc_only:
        try:
            import hftbacktest  # noqa: F401
        except ImportError:
            print("hftbacktest is not installed: pip install hftbacktest (or pip install -e '.[bench]'); "
                  "--hftc-only runs hftc's half alone", file=sys.stderr)
            return 2
    from hftc.paths import build_cache

    work = args.work_dir or build_cache() / "bench_compare"
    work.mkdir(parents=True, exist_ok=True)
    rows = [compare_file(source, work, args) for source in args.data]
    version = "not run"
    if not args.hftc_only:
        from importlib.metadata import version as dist_version

        version = dist_version("hftbacktest")
    print(f"touch quoting, latency {args.latency_ns:,} ns each way, {args.queue} queue, partial fills, fees maker "
          f"{args.maker_fee_bps:g} / taker {args.taker_fee_bps:g} bps; hftbacktest {version}, woken on "
          f"{'feed events and responses' if args.wake_on_responses else 'feed events only'}; PnL marked at the "
          f"final mid")
    for r in rows:
        print()
        print("\n".join(parity_table(f"{r['file']} ({r['symbol']}, quote {r['params']['order_qty']:g}, "
                                     f"limit {r['params']['max_position']:g})", r["hftc"], r["hftbacktest"])))
        stopped = r["hftbacktest"] and r["hftbacktest"]["stop_code"] != 1
        if stopped:
            print(f"  NOT COMPARABLE: hftbacktest's wait_next_feed returned error code {r['hftbacktest']['stop_code']} "
                  f"at local time {r['hftbacktest']['stop_ts']} ns, before the end of the data; its figures cover "
                  f"only the replay up to there")
    print()
    print("\n".join(speed_lines(rows, args.runs)))
    print(json.dumps({"benchmark": "compare_hftbacktest", "hftbacktest": version, "runs": args.runs,
                      "latency_ns": args.latency_ns, "queue": args.queue,
                      "wake_on_responses": args.wake_on_responses, "cpu_count": os.cpu_count(),
                      "files": rows}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
