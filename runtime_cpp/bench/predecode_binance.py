#!/usr/bin/env python3
"""Pre-decode a Binance USD-M depth capture into fixed binary records for bench_book_hist.

JSON parsing costs far more than a book update, so the benchmark replays a flat binary file
instead of the raw capture. Each record is one level update, 25 bytes, packed little-endian,
no header, no padding:

    offset  size  field
    0       8     int64 local_ts   capture timestamp, ns since the Unix epoch
    8       1     int8  side       0 = bid, 1 = ask (hft::Side)
    9       8     int64 px_ticks   price / tick (BTCUSDT: tick 0.1)
    17      8     int64 qty_lots   new absolute level size / lot (BTCUSDT: lot 0.001); 0 deletes

The REST snapshot's levels come first (stamped with the snapshot's local_ts), then every level
of every depth update applied after it, in order. Updates are synchronised with the snapshot as
Binance documents for USD-M futures: drop events with u < lastUpdateId, the first applied event
must have U <= lastUpdateId <= u, and each later event's pu must equal the previous event's u
(a break is reported on stderr and counted; the replay continues, as a benchmark input).

Input format: gzip text, one message per line, "<local_ts_ns> <json>"; depth messages look like
{"stream": "btcusdt@depth@0ms", "data": {"e": "depthUpdate", "U", "u", "pu", "b", "a"}}, the
snapshot line is {"lastUpdateId", "bids", "asks"}. Other streams in the capture are ignored.

Usage: predecode_binance.py [--input CAPTURE.gz] [--tick 0.1] [--lot 0.001] OUT.bin
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np

RECORD = np.dtype([("ts", "<i8"), ("side", "i1"), ("px", "<i8"), ("qty", "<i8")])
assert RECORD.itemsize == 25, "record must be packed"

BID, ASK = 0, 1
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INPUT = REPO_ROOT.parent / "shared" / "data" / "binance" / "usdm_btcusdt_20240808.gz"


def decimals_of(step: str) -> int:
    """Number of decimals of a power-of-ten step below 1, such as '0.1' (1) or '0.001' (3)."""
    t = Decimal(step).normalize().as_tuple()
    if t.sign or t.digits != (1,) or not isinstance(t.exponent, int) or t.exponent >= 0:
        raise ValueError(f"step must be a power of ten below 1, like 0.1 or 0.001, got {step!r}")
    return -t.exponent


def to_units(text: str, decimals: int) -> int:
    """Exact decimal string -> integer count of 10**-decimals units (no float rounding)."""
    whole, _, frac = text.partition(".")
    if len(frac) > decimals:
        if frac[decimals:].strip("0"):
            raise ValueError(f"{text!r} is not a multiple of 1e-{decimals}")
        frac = frac[:decimals]
    negative = whole.startswith("-")
    units = int(whole.lstrip("-") or "0") * 10**decimals + int(frac.ljust(decimals, "0") or "0")
    return -units if negative else units


def levels(ts: int, side: int, rows: list, px_dec: int, qty_dec: int) -> list[tuple]:
    return [(ts, side, to_units(px, px_dec), to_units(qty, qty_dec)) for px, qty in rows]


def predecode(path: Path, px_dec: int, qty_dec: int) -> tuple[np.ndarray, dict]:
    pending: list[tuple[int, dict]] = []  # depth events seen before the snapshot
    out: list[tuple] = []
    stats = {"snapshot_levels": 0, "events": 0, "skipped_stale": 0, "gaps": 0}
    last_u: int | None = None
    snapshot_id: int | None = None

    def apply(ts: int, ev: dict) -> None:
        nonlocal last_u
        if last_u is None:
            if ev["u"] < snapshot_id:
                stats["skipped_stale"] += 1
                return
            if not ev["U"] <= snapshot_id <= ev["u"]:
                raise SystemExit(
                    f"first event after snapshot does not straddle it: U={ev['U']} u={ev['u']} "
                    f"lastUpdateId={snapshot_id}"
                )
        elif ev["pu"] != last_u:
            stats["gaps"] += 1
            print(f"warning: sequence gap: pu={ev['pu']} previous u={last_u}", file=sys.stderr)
        last_u = ev["u"]
        stats["events"] += 1
        out.extend(levels(ts, BID, ev["b"], px_dec, qty_dec))
        out.extend(levels(ts, ASK, ev["a"], px_dec, qty_dec))

    with gzip.open(path, "rt") as f:
        for line in f:
            ts_text, _, payload = line.partition(" ")
            msg = json.loads(payload)
            ts = int(ts_text)
            if "lastUpdateId" in msg:
                if snapshot_id is not None:
                    continue  # only the first snapshot anchors the replay
                snapshot_id = msg["lastUpdateId"]
                snap = levels(ts, BID, msg["bids"], px_dec, qty_dec)
                snap += levels(ts, ASK, msg["asks"], px_dec, qty_dec)
                out.extend(snap)
                stats["snapshot_levels"] = len(snap)
                for pts, ev in pending:
                    apply(pts, ev)
                pending.clear()
                continue
            data = msg.get("data")
            if not isinstance(data, dict) or data.get("e") != "depthUpdate":
                continue
            if snapshot_id is None:
                pending.append((ts, data))
            else:
                apply(ts, data)
    if snapshot_id is None:
        raise SystemExit(f"{path}: no REST snapshot (lastUpdateId) line found")
    return np.array(out, dtype=RECORD), stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("output", type=Path, help="binary record file to write")
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="gzip capture")
    ap.add_argument("--tick", default="0.1", help="price tick (BTCUSDT: 0.1)")
    ap.add_argument("--lot", default="0.001", help="quantity lot (BTCUSDT: 0.001)")
    args = ap.parse_args()
    records, stats = predecode(args.input, decimals_of(args.tick), decimals_of(args.lot))
    args.output.write_bytes(records.tobytes())
    print(
        f"wrote {len(records)} records ({records.nbytes} bytes) to {args.output}: "
        f"{stats['snapshot_levels']} snapshot levels, {stats['events']} depth events, "
        f"{stats['skipped_stale']} stale events skipped, {stats['gaps']} sequence gaps",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
