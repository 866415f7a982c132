"""Per-message cost of decoding BookDelta from Python: the nanobind extension (one call per message
and the batch API) against the pure-Python backend (flyweight + field reads, and its numpy view);
and the cost of the generated tick_to_trade pipeline driven from Python (encoded deltas in, orders out).

    .venv/bin/python benchmarks/python_ext_overhead.py [--schema examples/fx_market_maker.hftc.yaml]

Builds (or reuses) the extension venv under $HFTC_BUILD_CACHE/python_ext/ and re-runs itself there.
Figures are medians over repeats, in ns per message.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

MEASURE = r"""
import json, statistics, sys, timeit
import numpy as np
import fx_mm_ext as x
import fx_mm
import fx_mm.batch

N = 100_000
REPEATS = 7
g = np.random.default_rng(3)
cols = {
    "instrument": g.integers(0, 1000, N, dtype=np.uint32), "seq": np.arange(N, dtype=np.uint64),
    "ts_exchange": g.integers(0, 2**62, N, dtype=np.uint64), "side": g.choice([1, 2], N).astype(np.uint8),
    "price": g.integers(1, 2**40, N), "qty": g.integers(0, 10**9, N), "order_count": np.full(N, 3, np.uint16),
}
buf = x.encode_many_book_delta(cols)
one = buf[:47]
delta = x.decode_book_delta(one)

def median_ns(stmt, number, per):
    times = timeit.repeat(stmt, number=number, repeat=REPEATS, globals=globals())
    return statistics.median(times) / (number * per) * 1e9

def pure_one():
    m = fx_mm.BookDelta.wrap_for_decode(one)
    return (m.instrument, m.seq, m.ts_exchange, m.side, m.price, m.qty, m.order_count)

results = {
    "ext decode_book_delta(b) -> dict, per call": median_ns("x.decode_book_delta(one)", 100_000, 1),
    "CPython builtin call floor: len(b)": median_ns("len(one)", 100_000, 1),
    "ext encode_book_delta(**fields) -> bytes, per call": median_ns("x.encode_book_delta(delta)", 100_000, 1),
    "ext decode_many_book_delta, per message (100k batch)": median_ns("x.decode_many_book_delta(buf)", 5, N),
    "ext encode_many_book_delta, per message (100k batch)": median_ns("x.encode_many_book_delta(cols)", 5, N),
    "pure wrap_for_decode + 7 field reads, per message": median_ns("pure_one()", 20_000, 1),
    "pure to_dict(), per message": median_ns("fx_mm.BookDelta.wrap_for_decode(one).to_dict()", 20_000, 1),
    "pure batch.BookDelta.decode (numpy view), per message": median_ns("fx_mm.batch.BookDelta.decode(buf)", 20, N),
}

# The generated tick_to_trade pipeline, fed encoded deltas: one side's touch moves a tick (its new
# level set, the old one deleted), so the mid moves and the strategy re-quotes.
touch = {1: 109_995, 2: 110_005}
sides, prices, qtys = [1, 2], [touch[1], touch[2]], [1, 1]
while len(sides) < N:
    side = int(g.integers(1, 3))
    old = touch[side]
    new = min(max(old + int(g.choice([-1, 1])), 109_990 if side == 1 else 110_001), 110_000 if side == 1 else 110_010)
    touch[side] = new
    sides += [side, side]
    prices += [new, old]
    qtys += [int(g.integers(1, 5)), 0 if new != old else 1]
sides, prices, qtys = sides[:N], prices[:N], qtys[:N]
market = {
    "instrument": np.zeros(N, np.uint32), "seq": np.arange(1, N + 1, dtype=np.uint64),
    "ts_exchange": np.arange(1, N + 1, dtype=np.uint64) * 1_000_000,  # 1 ms apart: within the order rate
    "side": np.array(sides, np.uint8), "price": np.array(prices, np.int64) * 10_000,
    "qty": np.array(qtys, np.int64) * 10_000_000, "order_count": np.ones(N, np.uint16),
}
feed = x.encode_many_book_delta(market)
sent = []
def pipeline_batch():
    times = []
    for _ in range(REPEATS):
        p = x.TickToTradePipeline()
        t0 = timeit.default_timer()
        orders = p.process(feed)
        times.append(timeit.default_timer() - t0)
    sent.append(len(orders))
    return statistics.median(times) / N * 1e9
unsequenced = x.encode_book_delta(instrument=0, seq=0, ts_exchange=1, side=1, price=1_099_990_000, qty=10_000_000,
                                  order_count=1)
pipe = x.TickToTradePipeline()
pipe.process(x.encode_book_delta(instrument=0, seq=0, ts_exchange=1, side=2, price=1_100_010_000, qty=10_000_000,
                                 order_count=1))
results["ext TickToTradePipeline.process, per message (100k deltas, one call)"] = pipeline_batch()
results["ext TickToTradePipeline.process(one delta), per call"] = median_ns("pipe.process(unsequenced)", 50_000, 1)
results["orders sent per 100k deltas"] = float(sent[0])
json.dump(results, sys.stdout)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default=str(REPO / "examples" / "fx_market_maker.hftc.yaml"))
    args = parser.parse_args()

    from hftc.backends.python_ext.venv import ensure
    from hftc.frontend import compile_file

    ir = compile_file(args.schema).ir
    if ir is None or ir.package != "fx.mm":
        print("this benchmark measures the fx.mm example's BookDelta", file=sys.stderr)
        return 2
    ext = ensure(ir, log=lambda cmd: print(f"building: {cmd}", file=sys.stderr))
    # Batch decodes allocate one fresh column per field; with glibc's default mmap threshold each
    # call page-faults them in again, so the figures are also taken with the allocator keeping the
    # memory (the setting a long-running process converges to, or sets itself).
    tuned = {"MALLOC_MMAP_THRESHOLD_": str(1 << 28), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
    runs = {}
    for label, extra in (("default malloc", {}), ("malloc keeps freed memory", tuned)):
        proc = subprocess.run([str(ext.python), "-c", MEASURE], capture_output=True, text=True,
                              env={**ext.env(), **extra}, check=False)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        runs[label] = json.loads(proc.stdout)
    labels = list(runs)
    names = list(runs[labels[0]])
    width = max(map(len, names))
    print(f"{'BookDelta (47 bytes), ns/message, median':<{width}}  " + "  ".join(f"{lb:>26}" for lb in labels))
    for name in names:
        print(f"{name:<{width}}  " + "  ".join(f"{runs[lb][name]:26.1f}" for lb in labels))
    for lb in labels:
        r = runs[lb]
        base = r["ext decode_book_delta(b) -> dict, per call"]
        batch = r["ext decode_many_book_delta, per message (100k batch)"]
        pure = r["pure to_dict(), per message"]
        print(f"[{lb}] batch decode is {base / batch:.0f}x cheaper per message than one call per message; "
              f"one ext call is {pure / base:.1f}x cheaper than the pure-Python to_dict()")
    return 0


if __name__ == "__main__":
    sys.exit(main())
