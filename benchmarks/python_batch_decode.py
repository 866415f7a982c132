"""Batch (numpy) versus per-message (pure Python) decoding of BookDelta messages.

Generates the Python package of the FX example into a temporary folder, builds
a buffer of N BookDelta messages laid end to end, then times (median of
repeated runs):

* batch: `batch.BookDelta.decode(buf)` — header checks over every message,
  acting-version nulls — then one contiguous array per field;
* loop: `messages.BookDelta.wrap_for_decode(buf, offset)` per message, reading
  every field (integers; `_raw` for enums and decimals) into per-field lists.

Both produce the same columns; the script checks that before timing.

    python benchmarks/python_batch_decode.py [--count 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hftc.driver.build import generate
from hftc.frontend import compile_file

REPO = Path(__file__).resolve().parent.parent
FIELDS = ("instrument", "seq", "ts_exchange", "side", "price", "qty", "order_count")


def load_package(folder: Path) -> tuple[Any, Any]:
    ir = compile_file(str(REPO / "examples" / "fx_market_maker.hftc.yaml")).ir
    report = generate(ir, ["python"], str(folder))
    if not report.outputs:
        raise SystemExit("generation failed: " + "; ".join(d.message for d in report.diagnostics))
    for rel, data in report.outputs[0].files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    sys.path.insert(0, str(folder / "src"))
    import fx_mm.batch
    import fx_mm.messages

    return fx_mm.messages, fx_mm.batch


def build_buffer(batch: Any, count: int) -> bytes:
    rng = np.random.default_rng(7)
    recs = batch.BookDelta.zeros(count)
    recs["instrument"] = rng.integers(0, 64, count)
    recs["seq"] = np.arange(count, dtype=np.uint64)
    recs["ts_exchange"] = 1_700_000_000_000_000_000 + np.arange(count, dtype=np.uint64) * 1000
    recs["side"] = rng.integers(1, 3, count)
    recs["price"] = 1_081_250_000 + rng.integers(-50_000, 50_000, count) * 10_000
    recs["qty"] = rng.integers(0, 1_000, count) * 10_000_000
    recs["order_count"] = rng.integers(0, 50, count)
    return bytes(batch.BookDelta.encode(recs))


def batch_decode(batch: Any, buf: bytes) -> dict[str, np.ndarray]:
    recs = batch.BookDelta.decode(buf)
    return {name: np.ascontiguousarray(recs[name]) for name in FIELDS}


def loop_decode(messages: Any, buf: bytes) -> dict[str, list[int]]:
    wrap = messages.BookDelta.wrap_for_decode
    view = memoryview(buf)
    size = 8 + messages.BookDelta.BLOCK_LENGTH
    cols: dict[str, list[int]] = {name: [] for name in FIELDS}
    instrument, seq, ts, side, price, qty, count = (cols[name].append for name in FIELDS)
    for offset in range(0, len(view), size):
        m = wrap(view, offset)
        instrument(m.instrument)
        seq(m.seq)
        ts(m.ts_exchange)
        side(m.side_raw)
        price(m.price_raw)
        qty(m.qty_raw)
        oc = m.order_count
        count(65535 if oc is None else oc)
    return cols


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="messages in the buffer")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each decoder (the median is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        messages, batch = load_package(Path(tmp))
        buf = build_buffer(batch, args.count)
        check = min(args.count, 10_000)
        small = buf[: check * (8 + messages.BookDelta.BLOCK_LENGTH)]
        fast, slow = batch_decode(batch, small), loop_decode(messages, small)
        assert all(fast[name].tolist() == slow[name] for name in FIELDS), "batch and loop decoders disagree"
        t_batch = median_time(lambda: batch_decode(batch, buf), args.repeat)
        t_loop = median_time(lambda: loop_decode(messages, buf), args.repeat)
    n = args.count
    print(f"BookDelta messages: {n:,} ({len(buf) / 1e6:.1f} MB), median of {args.repeat} runs")
    print(f"numpy batch decode : {t_batch * 1e3:10.2f} ms  ({n / t_batch / 1e6:8.1f} M msg/s)")
    print(f"per-message loop   : {t_loop * 1e3:10.2f} ms  ({n / t_loop / 1e6:8.2f} M msg/s)")
    print(f"speed-up           : {t_loop / t_batch:10.1f}x")


if __name__ == "__main__":
    main()
