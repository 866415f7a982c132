"""The `.hftt` market-data tape: writer and memory-mapped reader.

The layout is the contract with the native backtester (runtime_cpp/FORMATS.md §4):
a 64-byte header, a table of 64-byte instrument entries, UTF-8 JSON metadata, then
seven columns (local_ts, exch_ts, px, qty, instrument, kind, flags), each on a
64-byte boundary. Everything is little-endian. The reader checks every offset and
size before it maps a column, so a damaged file is a clear error, not a crash
deep inside a replay.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hftc.data.errors import DataError
from hftc.fileio import write_atomically

MAGIC = b"HFTTAPE1"
VERSION = 1
HEADER = struct.Struct("<8sIIQQQQQQ")   # magic, version, I, N, instr off, meta off, meta len, col off, reserved
INSTRUMENT = struct.Struct("<40sddd")   # symbol, tick_size, lot_size, contract_multiplier
ALIGN = 64
MAX_INSTRUMENTS = 64
SYMBOL_BYTES = 40

# Event kinds (column `kind`).
DEPTH = 1   # the level at px on the flagged side now holds qty lots (0 deletes it)
TRADE = 2   # a public trade of qty lots at px; the flagged side is the aggressor's
CLEAR = 3   # empty the flagged side of the instrument's book

# Flag bits (column `flags`).
SIDE_ASK = 1    # 0 = bid side / buyer aggressor, 1 = ask side / seller aggressor
END = 2         # last event of its source message: the book is consistent here
SNAPSHOT = 4    # the level came from a snapshot

KIND_NAMES = {DEPTH: "depth", TRADE: "trade", CLEAR: "clear"}

# (name, little-endian dtype) in file order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("local_ts", "<i8"),
    ("exch_ts", "<i8"),
    ("px", "<i8"),
    ("qty", "<i8"),
    ("instrument", "<u2"),
    ("kind", "u1"),
    ("flags", "u1"),
)


@dataclass(frozen=True)
class Instrument:
    """One entry of the instrument table; tick and lot sizes in the venue's units."""

    symbol: str
    tick_size: float
    lot_size: float
    multiplier: float = 1.0


def _align(offset: int) -> int:
    return (offset + ALIGN - 1) // ALIGN * ALIGN


def column_offsets(first: int, count: int) -> list[int]:
    """Start of every column, given the first column's offset and the event count."""
    offsets = []
    at = first
    for _, dtype in COLUMNS:
        offsets.append(at)
        at = _align(at + np.dtype(dtype).itemsize * count)
    return offsets


def _columns_end(first: int, count: int) -> int:
    last = column_offsets(first, count)[-1]
    return last + np.dtype(COLUMNS[-1][1]).itemsize * count


class Tape:
    """A read-only, memory-mapped tape. Columns are numpy views into the file."""

    def __init__(self, path: Path, instruments: list[Instrument], meta: dict[str, Any],
                 columns: dict[str, np.ndarray]):
        self.path = path
        self.instruments = instruments
        self.meta = meta
        self.local_ts: np.ndarray = columns["local_ts"]
        self.exch_ts: np.ndarray = columns["exch_ts"]
        self.px: np.ndarray = columns["px"]
        self.qty: np.ndarray = columns["qty"]
        self.instrument: np.ndarray = columns["instrument"]
        self.kind: np.ndarray = columns["kind"]
        self.flags: np.ndarray = columns["flags"]

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    def __repr__(self) -> str:
        symbols = ", ".join(i.symbol for i in self.instruments)
        return f"Tape({str(self.path)!r}, {len(self)} events, [{symbols}])"

    def columns(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name, _ in COLUMNS}

    def time_window(self, start_ns: int | None = None, end_ns: int | None = None) -> tuple[int, int]:
        """Index bounds [lo, hi) of the events with start_ns <= local_ts < end_ns (None = open)."""
        lo = 0 if start_ns is None else int(np.searchsorted(self.local_ts, start_ns, side="left"))
        hi = len(self) if end_ns is None else int(np.searchsorted(self.local_ts, end_ns, side="left"))
        return lo, max(lo, hi)

    def instrument_index(self, symbol: str) -> int:
        for i, inst in enumerate(self.instruments):
            if inst.symbol == symbol:
                return i
        known = ", ".join(i.symbol for i in self.instruments)
        raise KeyError(f"{symbol!r} is not on this tape (instruments: {known})")


def _check_instrument(inst: Instrument) -> bytes:
    raw = inst.symbol.encode("utf-8")
    if not raw or len(raw) > SYMBOL_BYTES or b"\0" in raw:
        raise DataError("HFT1009", f"instrument symbol {inst.symbol!r} must be 1 to {SYMBOL_BYTES} UTF-8 bytes "
                        "without NUL")
    for what, value in (("tick_size", inst.tick_size), ("lot_size", inst.lot_size),
                        ("multiplier", inst.multiplier)):
        if not (math.isfinite(value) and value > 0):
            raise DataError("HFT1009", f"instrument {inst.symbol}: {what} must be a positive number, got {value}")
    return INSTRUMENT.pack(raw, inst.tick_size, inst.lot_size, inst.multiplier)


def _prepare_columns(columns: Mapping[str, Any]) -> tuple[int, list[np.ndarray]]:
    missing = [name for name, _ in COLUMNS if name not in columns]
    if missing:
        raise ValueError(f"write_tape: missing columns {missing}")
    arrays = []
    count = None
    for name, dtype in COLUMNS:
        source = np.asarray(columns[name])
        array = np.ascontiguousarray(source.astype(dtype, copy=False))
        if array.ndim != 1:
            raise ValueError(f"write_tape: column {name} must be one-dimensional")
        if source.dtype.kind in "iu" and array.size and not np.array_equal(array, source):
            raise ValueError(f"write_tape: column {name} has values that do not fit {np.dtype(dtype).name}")
        if count is None:
            count = array.shape[0]
        elif array.shape[0] != count:
            raise ValueError(f"write_tape: column {name} has {array.shape[0]} values, expected {count}")
        arrays.append(array)
    return int(count or 0), arrays


def write_tape(path: str | os.PathLike, instruments: Sequence[Instrument], columns: Mapping[str, Any],
               meta: Mapping[str, Any] | None = None) -> Path:
    """Write a tape atomically: a temporary file in the same folder, renamed into place.

    `columns` maps every column name of COLUMNS to a 1-D array of equal length, already
    sorted by local_ts. Values are checked (instrument index, kind, flags, order) so a
    tape that this function writes always passes `open_tape`.
    """
    path = Path(path)
    if not 1 <= len(instruments) <= MAX_INSTRUMENTS:
        raise DataError("HFT1009", f"a tape holds 1 to {MAX_INSTRUMENTS} instruments, got {len(instruments)}")
    table = b"".join(_check_instrument(inst) for inst in instruments)
    count, arrays = _prepare_columns(columns)
    _check_values(dict(zip((n for n, _ in COLUMNS), arrays)), len(instruments), str(path), DataError)
    meta_bytes = json.dumps(dict(meta or {}), sort_keys=True, ensure_ascii=False, allow_nan=False).encode("utf-8")

    instr_off = HEADER.size
    meta_off = instr_off + len(table)
    first = _align(meta_off + len(meta_bytes))
    header = HEADER.pack(MAGIC, VERSION, len(instruments), count, instr_off, meta_off, len(meta_bytes), first, 0)

    def write(out) -> None:
        out.write(header)
        out.write(table)
        out.write(meta_bytes)
        at = meta_off + len(meta_bytes)
        for offset, array in zip(column_offsets(first, count), arrays):
            out.write(b"\0" * (offset - at))
            out.write(array.tobytes())
            at = offset + array.nbytes

    return write_atomically(path, write, fsync=True)


def _check_values(cols: Mapping[str, np.ndarray], instruments: int, where: str, exc) -> None:
    """Column invariants shared by the writer and the reader (vectorised, O(N))."""
    def fail(message: str):
        if exc is DataError:
            raise DataError("HFT1015", message, where)
        raise exc(message)

    n = cols["local_ts"].shape[0]
    if n == 0:
        return
    if int(cols["instrument"].max()) >= instruments:
        row = int(np.argmax(cols["instrument"] >= instruments))
        fail(f"event {row} names instrument {int(cols['instrument'][row])}, but the tape has {instruments}")
    kinds = cols["kind"]
    bad = (kinds < DEPTH) | (kinds > CLEAR)
    if bad.any():
        row = int(np.argmax(bad))
        fail(f"event {row} has unknown kind {int(kinds[row])} (1 depth, 2 trade, 3 clear)")
    flags = cols["flags"]
    bad = (flags & ~np.uint8(SIDE_ASK | END | SNAPSHOT)) != 0
    if bad.any():
        row = int(np.argmax(bad))
        fail(f"event {row} has unknown flag bits {int(flags[row]):#04x}")
    local = cols["local_ts"]
    if n > 1:
        back = local[1:] < local[:-1]
        if back.any():
            row = int(np.argmax(back)) + 1
            fail(f"events are not sorted by local_ts: event {row} ({int(local[row])}) is before "
                 f"event {row - 1} ({int(local[row - 1])})")


def open_tape(path: str | os.PathLike, validate: bool = True) -> Tape:
    """Memory-map a tape; raise DataError (HFT1011–HFT1015) naming what is wrong.

    `validate` also checks every event (instrument index, kind, flags, order), a few
    milliseconds per million events; the header, table and offsets are always checked.
    """
    path = Path(path)
    where = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError("HFT1001", f"cannot read tape: {exc.strerror or exc}", where) from None
    if size < HEADER.size:
        raise DataError("HFT1011", f"not a tape: {size} bytes, shorter than the {HEADER.size}-byte header", where)
    try:
        raw = np.memmap(path, dtype=np.uint8, mode="r")
    except (OSError, ValueError) as exc:
        raise DataError("HFT1001", f"cannot map tape: {exc}", where) from None
    magic, version, count_i, count_n, instr_off, meta_off, meta_len, first, reserved = HEADER.unpack(
        bytes(raw[:HEADER.size]))
    if magic != MAGIC:
        raise DataError("HFT1011", f"not a tape: magic is {magic!r}, expected {MAGIC!r}", where,
                        hint="convert market data with `hftc data convert`")
    if version != VERSION:
        raise DataError("HFT1011", f"tape version {version} is not supported (this hftc reads version {VERSION})",
                        where)
    if not 1 <= count_i <= MAX_INSTRUMENTS:
        raise DataError("HFT1012", f"instrument count {count_i} is outside 1..{MAX_INSTRUMENTS}", where)
    if reserved != 0:
        raise DataError("HFT1012", f"reserved header field is {reserved}, expected 0", where)
    table_end = instr_off + count_i * INSTRUMENT.size
    if instr_off < HEADER.size or table_end > size:
        raise DataError("HFT1012", f"instrument table [{instr_off}, {table_end}) lies outside the file "
                        f"({size} bytes) or overlaps the header", where)
    if meta_off < HEADER.size or meta_off + meta_len > size:
        raise DataError("HFT1012", f"metadata [{meta_off}, {meta_off + meta_len}) lies outside the file "
                        f"({size} bytes)", where)
    if meta_off < table_end and meta_off + meta_len > instr_off and meta_len:
        raise DataError("HFT1012", "metadata overlaps the instrument table", where)
    if first % ALIGN or first < max(table_end, meta_off + meta_len):
        raise DataError("HFT1012", f"first column offset {first} is not 64-byte aligned or overlaps the "
                        "instrument table or metadata", where)
    if count_n > (size - first):   # every event takes at least 28 bytes: a cheap bound before multiplying
        raise DataError("HFT1012", f"event count {count_n} cannot fit in a {size}-byte file", where)
    end = _columns_end(first, count_n)
    if end != size:
        state = "truncated" if end > size else "longer than its columns"
        raise DataError("HFT1012", f"file is {state}: {count_n} events end at byte {end}, file has {size}", where)

    instruments = [_read_instrument(bytes(raw[instr_off + i * INSTRUMENT.size: instr_off + (i + 1) * INSTRUMENT.size]),
                                    i, where) for i in range(count_i)]
    try:
        meta = json.loads(bytes(raw[meta_off:meta_off + meta_len]).decode("utf-8")) if meta_len else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError("HFT1013", f"metadata is not UTF-8 JSON: {exc}", where) from None
    if not isinstance(meta, dict):
        raise DataError("HFT1013", f"metadata must be a JSON object, found {type(meta).__name__}", where)

    columns = {}
    for (name, dtype), offset in zip(COLUMNS, column_offsets(first, count_n)):
        nbytes = np.dtype(dtype).itemsize * count_n
        columns[name] = raw[offset:offset + nbytes].view(dtype)
    if validate:
        _check_values(columns, count_i, where, DataError)
    return Tape(path, instruments, meta, columns)


def _read_instrument(entry: bytes, index: int, where: str) -> Instrument:
    raw_symbol, tick, lot, mult = INSTRUMENT.unpack(entry)
    symbol_bytes = raw_symbol.split(b"\0", 1)[0]
    if raw_symbol[len(symbol_bytes):].strip(b"\0"):
        raise DataError("HFT1014", f"instrument {index}: symbol has bytes after its NUL padding", where)
    try:
        symbol = symbol_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError("HFT1014", f"instrument {index}: symbol is not UTF-8", where) from None
    if not symbol:
        raise DataError("HFT1014", f"instrument {index}: empty symbol", where)
    for what, value in (("tick_size", tick), ("lot_size", lot), ("contract_multiplier", mult)):
        if not (math.isfinite(value) and value > 0):
            raise DataError("HFT1014", f"instrument {index} ({symbol}): {what} is {value}, expected a positive "
                            "number", where)
    return Instrument(symbol, tick, lot, mult)
