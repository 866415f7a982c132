"""A synthetic tape for a schema's generated pipeline: the market the pipeline benchmarks replay.

Real captures are of other symbols and grids than a schema's instruments, so the generated
pipeline benchmark (`bench_pipeline`) and benchmarks/replay_throughput.py replay this instead:
depth updates and trades around a fixed touch, on the pipeline's own tick and lot grid, with a
full snapshot every `snapshot_every` events. Deterministic for a seed.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from hftc.data.tape import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE, Instrument, write_tape
from hftc.ir.model import Schema

BASE_MID_TICKS = 110_000
INSTRUMENT_SPACING_TICKS = 10_000


class NoPipelineTape(Exception):
    """The schema has no generated engine that reads depth updates, so no tape to make for it."""


def pipeline_instruments(ir: Schema) -> list[Instrument]:
    """The engine's instruments, each on the book grid of the schema's first pipeline."""
    from hftc.backends.cpp.components import build_components
    from hftc.backends.cpp.engine import engine_view
    from hftc.backends.cpp.view import build_view

    components, _ = build_components(ir, build_view(ir))
    engine = engine_view(components, ir)
    if engine is None or not engine["md"]:
        raise NoPipelineTape("the schema's first pipeline has no depth-update feed to replay a tape into")
    grid = engine["pipeline"].grid
    tick = float(Fraction(grid.tick_num, grid.tick_den))
    lot = float(Fraction(grid.lot_num, grid.lot_den))
    return [Instrument(name, tick, lot, 1.0) for name in engine["instruments"]]


def synthetic_tape(path: Path, instruments: list[Instrument], events: int, snapshot_every: int = 10_000,
                   seed: int = 1) -> int:
    """Write `events` depth updates (90%) and trades (10%) one to four ticks around a fixed touch,
    10 us apart, round-robin over the instruments, each instrument's book cleared and refilled with
    five levels a side before every `snapshot_every`-th event. Returns the tape's row count."""
    rng = np.random.default_rng(seed)
    count = len(instruments)
    inst = (np.arange(events) % count).astype(np.uint16)
    mid = BASE_MID_TICKS + INSTRUMENT_SPACING_TICKS * inst.astype(np.int64)
    ts = 1_000_000_000 + 10_000 * np.arange(events, dtype=np.int64)
    trade = rng.integers(0, 10, events) == 0
    ask = rng.integers(0, 2, events).astype(bool)
    off = rng.integers(0, 4, events)
    px = np.where(trade, mid + 1, np.where(ask, mid + 1 + off, mid - 1 - off)).astype(np.int64)
    qty = np.where(trade, 1, rng.integers(0, 30, events)).astype(np.int64)
    kind = np.where(trade, TRADE, DEPTH).astype(np.uint8)
    flags = (END | np.where(ask, SIDE_ASK, 0)).astype(np.uint8)
    cols: dict[str, list[np.ndarray]] = {"local_ts": [], "px": [], "qty": [], "kind": [], "flags": [],
                                         "instrument": []}
    prev = 0
    for at in [*range(0, events, snapshot_every), events]:
        for name, v in (("local_ts", ts), ("px", px), ("qty", qty), ("kind", kind), ("flags", flags),
                        ("instrument", inst)):
            cols[name].append(v[prev:at])
        if at < events:
            for k in range(count):
                _snapshot(cols, k, int(ts[at]))
        prev = at
    merged = {k: np.concatenate(v) for k, v in cols.items()}
    merged["exch_ts"] = merged["local_ts"] - 500
    write_tape(path, instruments, merged, {"synthetic": True})
    return len(merged["px"])


def _snapshot(cols: dict[str, list[np.ndarray]], k: int, ts: int) -> None:
    """Instrument k's snapshot: both sides cleared, then five levels a side; END on the last."""
    mid = BASE_MID_TICKS + INSTRUMENT_SPACING_TICKS * k
    cols["local_ts"].append(np.full(12, ts, np.int64))
    cols["px"].append(np.array([0, 0, *(mid - 1 - j for j in range(5)), *(mid + 1 + j for j in range(5))], np.int64))
    cols["qty"].append(np.array([0, 0, *(10 + j for j in range(5)), *(10 + j for j in range(5))], np.int64))
    cols["kind"].append(np.array([CLEAR, CLEAR] + [DEPTH] * 10, np.uint8))
    cols["flags"].append(np.array([SNAPSHOT, SNAPSHOT | SIDE_ASK] + [SNAPSHOT] * 5 + [SNAPSHOT | SIDE_ASK] * 4
                                  + [SNAPSHOT | SIDE_ASK | END], np.uint8))
    cols["instrument"].append(np.full(12, k, np.uint16))
