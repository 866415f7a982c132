"""Market data for backtests: readers of recorded feeds and the `.hftt` tape.

Readers turn a venue's capture (Binance websocket recordings, hftbacktest npz files,
Tardis-style CSV) into normalised events (depth level set, trade, side clear) with
exact integer ticks and lots; `convert` merges them by local timestamp into one
tape (runtime_cpp/FORMATS.md §4) that the native backtester memory-maps.
"""

from __future__ import annotations

from hftc.data.errors import DataError
from hftc.data.tape import (
    CLEAR,
    DEPTH,
    END,
    SIDE_ASK,
    SNAPSHOT,
    TRADE,
    Instrument,
    Tape,
    open_tape,
    write_tape,
)

__all__ = [
    "CLEAR",
    "DEPTH",
    "END",
    "SIDE_ASK",
    "SNAPSHOT",
    "TRADE",
    "DataError",
    "Instrument",
    "Tape",
    "open_tape",
    "write_tape",
]
