"""Market data for backtests: readers of recorded feeds and the `.hftt` tape.

Readers turn a venue's capture (Binance websocket recordings, hftbacktest npz files,
Tardis-style CSV) into normalised events (depth level set, trade, side clear) with
exact integer ticks and lots; `convert` merges them by local timestamp into one
tape (runtime_cpp/FORMATS.md §4) that the native backtester memory-maps.
"""

from __future__ import annotations

import importlib

# Loaded on first use: `hftc --help` imports the `data` command's module, which lives in this
# package, and must not pay for numpy.
_EXPORTS = {
    "CLEAR": "hftc.data.tape",
    "DEPTH": "hftc.data.tape",
    "END": "hftc.data.tape",
    "SIDE_ASK": "hftc.data.tape",
    "SNAPSHOT": "hftc.data.tape",
    "TRADE": "hftc.data.tape",
    "Instrument": "hftc.data.tape",
    "Tape": "hftc.data.tape",
    "open_tape": "hftc.data.tape",
    "write_tape": "hftc.data.tape",
    "DataError": "hftc.data.errors",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'hftc.data' has no attribute {name!r}")


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
