"""Batch (numpy) versus per-message (pure Python) decoding of BookDelta messages, with pytest-benchmark.

The FX example's pure-Python package is generated into a temporary folder and a buffer of
BookDelta messages laid end to end is decoded three ways, all to the same columns:

* `batch`: `batch.BookDelta.decode(buf)` (header checks over every message, acting-version
  nulls), then one contiguous array per field;
* `loop`: `messages.BookDelta.wrap_for_decode(buf, offset)` per message, reading every field
  (integers; `_raw` for enums and decimals) into per-field lists;
* `struct_floor`: `struct.iter_unpack` of the packed block with no header or null checks, the
  floor a per-message Python decoder cannot beat, measured in the same run as the others.

The suite runs these once each as correctness checks (`--benchmark-disable` is the project's
default). To time them, with medians of repeated rounds per row:

    HFTC_BENCH_COUNT=1000000 pytest benchmarks/test_python_batch_decode.py --benchmark-enable
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hftc.driver.build import generate
from hftc.frontend import compile_file

REPO = Path(__file__).resolve().parent.parent
FIELDS = ("instrument", "seq", "ts_exchange", "side", "price", "qty", "order_count")
GROUP = "BookDelta decode"
# The BookDelta block: uint32 instrument, uint64 seq, uint64 ts, uint8 side, int64 price, int64 qty,
# uint16 order_count (struct_floor checks the size against the generated BLOCK_LENGTH).
BLOCK_FORMAT = "IQQBqqH"


@pytest.fixture(scope="module")
def codecs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    folder = tmp_path_factory.mktemp("pybench")
    ir = compile_file(str(REPO / "examples" / "fx_market_maker.hftc.yaml")).ir
    report = generate(ir, ["python"], str(folder))
    assert report.outputs, "; ".join(d.message for d in report.diagnostics)
    for rel, data in report.outputs[0].files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name in [n for n in sys.modules if n == "fx_mm" or n.startswith("fx_mm.")]:
        del sys.modules[name]
    sys.path.insert(0, str(folder / "src"))
    try:
        import fx_mm.batch
        import fx_mm.messages
    finally:
        sys.path.remove(str(folder / "src"))
    return fx_mm.messages, fx_mm.batch


@pytest.fixture(scope="module")
def buffer(codecs: tuple[Any, Any]) -> bytes:
    count = int(os.environ.get("HFTC_BENCH_COUNT", "20000"))
    _, batch = codecs
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


def struct_floor(messages: Any, buf: bytes) -> dict[str, list[int]]:
    """The header (4 x uint16) and the packed block, unpacked with no checks at all."""
    layout = struct.Struct("<4H" + BLOCK_FORMAT)
    assert layout.size == 8 + messages.BookDelta.BLOCK_LENGTH
    rows = list(zip(*((r[4:] for r in layout.iter_unpack(buf))), strict=True))
    return {name: list(col) for name, col in zip(FIELDS, rows, strict=True)}


@pytest.mark.parametrize("decoder", ["batch", "loop", "struct_floor"])
def test_decode_bookdelta(benchmark: Any, codecs: tuple[Any, Any], buffer: bytes, decoder: str) -> None:
    messages, batch = codecs
    benchmark.group = GROUP
    benchmark.extra_info["messages"] = len(buffer) // (8 + messages.BookDelta.BLOCK_LENGTH)
    fn = {"batch": lambda: batch_decode(batch, buffer), "loop": lambda: loop_decode(messages, buffer),
          "struct_floor": lambda: struct_floor(messages, buffer)}[decoder]
    cols = benchmark(fn)
    reference = batch_decode(batch, buffer)
    for name in FIELDS:
        assert list(cols[name]) == reference[name].tolist(), f"{decoder} decodes `{name}` unlike the batch decoder"
