"""The instrument table of a tape (FORMATS.md §4), read without mapping its columns.

The driver needs only the header to map strategy instruments onto tape instruments and to
convert units; the engine validates the whole file when it maps it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from hftc.backtest.errors import BacktestError

MAGIC = b"HFTTAPE1"
_HEADER = struct.Struct("<8sIIQQQQQQ")
_ENTRY = struct.Struct("<40sddd")


@dataclass(frozen=True)
class TapeInstrument:
    symbol: str
    tick_size: float
    lot_size: float
    multiplier: float


@dataclass(frozen=True)
class TapeInfo:
    path: str
    events: int
    instruments: tuple[TapeInstrument, ...]


def read_tape_info(path: str | Path) -> TapeInfo:
    """Header and instrument table of the tape at `path`, or BacktestError HFT1105."""
    path = str(path)

    def bad(why: str) -> BacktestError:
        return BacktestError("HFT1105", f"{path}: {why}",
                             help="tapes are written by `hftc data convert`; pass a .hftt file or a raw capture")

    try:
        with open(path, "rb") as f:
            head = f.read(_HEADER.size)
            if len(head) < _HEADER.size:
                raise bad("too short to be a tape")
            magic, version, count, events, table, _meta, _meta_len, _first, _reserved = _HEADER.unpack(head)
            if magic != MAGIC:
                raise bad("not a market-data tape (bad magic)")
            if version != 1:
                raise bad(f"tape version {version}; this hftc reads version 1")
            if not 1 <= count <= 64:
                raise bad(f"instrument count {count} outside 1..64")
            f.seek(table)
            raw = f.read(_ENTRY.size * count)
            if len(raw) < _ENTRY.size * count:
                raise bad("truncated instrument table")
    except OSError as exc:
        raise bad(exc.strerror or str(exc)) from None
    instruments = []
    for i in range(count):
        sym, tick, lot, mult = _ENTRY.unpack_from(raw, i * _ENTRY.size)
        instruments.append(TapeInstrument(sym.rstrip(b"\0").decode("utf-8", "replace"), tick, lot, mult))
    return TapeInfo(path, events, tuple(instruments))
