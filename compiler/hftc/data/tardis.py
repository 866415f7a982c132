"""Tardis-style CSV (`incremental_book_L2` and `trades`), gzip or plain.

Columns, by header name (extra columns are ignored):
- book: `exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount`,
  `amount` the new absolute size of the level (0 deletes it), `side` bid|ask;
- trades: `exchange,symbol,timestamp,local_timestamp,id,side,price,amount`, `side` the
  aggressor (buy|sell|unknown).
Timestamps are microseconds since the epoch (`timestamp` the exchange's, `local_timestamp`
the recorder's).

As Tardis documents, a snapshot row that follows non-snapshot rows starts a new
snapshot: the book is CLEARED (both sides, flagged SNAPSHOT) and rebuilt from the
snapshot rows. Rows of one symbol with the same `local_timestamp` form one message
(END on its last row). Trades with an `unknown` side get the tick rule (up-tick buyer,
down-tick seller, unchanged price as the previous trade), counted in the metadata.
For equal local timestamps rows keep the command-line order of the files; give the
trades file first, as hftbacktest recommends, so a trade precedes the depth update it
caused.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hftc.data.errors import DataError
from hftc.data.events import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE, InstrumentEvents, Rows, Steps

BOOK_COLUMNS = ("exchange", "symbol", "timestamp", "local_timestamp", "is_snapshot", "side", "price", "amount")
TRADE_COLUMNS = ("exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount")
_US = 1000
_BOOK, _TRADE = 0, 1


@dataclass
class _Symbol:
    exchange: str
    symbol: str
    files: dict[int, str] = field(default_factory=dict)
    # (kind, seq, line, local_ns, exch_ns, is_snapshot, side, price, amount)
    rows: list[tuple] = field(default_factory=list)


def _open_text(path: str) -> io.TextIOBase:
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    raw = gzip.open(path, "rb") if gz else open(path, "rb")  # noqa: SIM115 - closed by the caller's `with`
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _parse_file(path: str, index: int, symbols: dict[tuple[str, str], _Symbol]) -> str:
    base = index << 32
    line = 1
    try:
        with _open_text(path) as text:
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None:
                raise DataError("HFT1017", "empty CSV file", path, 1)
            header = [h.strip() for h in header]
            if set(BOOK_COLUMNS) <= set(header):
                kind, wanted = _BOOK, BOOK_COLUMNS
            elif set(TRADE_COLUMNS) <= set(header):
                kind, wanted = _TRADE, TRADE_COLUMNS
            else:
                raise DataError("HFT1017", f"CSV header {','.join(header)} is neither Tardis incremental_book_L2 "
                                "nor trades", path, 1,
                                hint=f"book files need {','.join(BOOK_COLUMNS)}; trade files {','.join(TRADE_COLUMNS)}")
            at = [header.index(c) for c in wanted]
            width = max(at) + 1
            i_exch, i_sym, i_ts, i_local, i_x, i_side, i_px, i_amt = at
            for line, record in enumerate(reader, 2):
                if not record:
                    continue
                if len(record) < width:
                    raise DataError("HFT1003", f"row has {len(record)} fields, the header {len(header)}", path, line)
                try:
                    local = int(record[i_local]) * _US
                    exch_text = record[i_ts]
                    exch = int(exch_text) * _US if exch_text else local
                except ValueError:
                    raise DataError("HFT1003", "timestamp is not an integer number of microseconds", path,
                                    line) from None
                side = record[i_side].strip().lower()
                if kind == _BOOK:
                    snap_text = record[i_x].strip().lower()
                    if snap_text not in ("true", "false"):
                        raise DataError("HFT1003", f"is_snapshot `{record[i_x]}` is not true or false", path, line)
                    if side not in ("bid", "ask"):
                        raise DataError("HFT1003", f"book side `{record[i_side]}` is not bid or ask", path, line)
                    flag = snap_text == "true"
                elif side not in ("buy", "sell", "unknown", ""):
                    raise DataError("HFT1003", f"trade side `{record[i_side]}` is not buy, sell or unknown", path,
                                    line)
                else:
                    flag = False
                key = (record[i_exch], record[i_sym])
                entry = symbols.get(key)
                if entry is None:
                    entry = symbols[key] = _Symbol(*key)
                entry.files[index] = path
                entry.rows.append((kind, base | line, line, local, exch, flag, side, record[i_px], record[i_amt]))
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError("HFT1003", f"corrupt or truncated gzip data: {exc}", path, line) from None
    except UnicodeDecodeError:
        raise DataError("HFT1003", "the file is not UTF-8 text", path, line) from None
    except csv.Error as exc:
        raise DataError("HFT1003", f"malformed CSV: {exc}", path, line) from None
    except OSError as exc:
        raise DataError("HFT1001", f"cannot read: {exc.strerror or exc}", path) from None
    return "book" if kind == _BOOK else "trades"


def _build(entry: _Symbol, steps: Steps, name: str) -> InstrumentEvents:
    records = sorted(entry.rows, key=lambda r: r[1])   # file by file, line by line
    px_of, qty_of, sizes = steps.scales(name, {r[7] for r in records}, {r[8] for r in records}, entry.symbol)
    rows = Rows()
    counts: Counter = Counter()
    in_snapshot = False
    last_trade_px: int | None = None
    last_trade_ask = False
    for kind, seq, line, local, exch, flag, side, price, amount in records:
        path = entry.files[seq >> 32]
        if kind == _TRADE:
            px = px_of(price, path, line)
            if side == "buy":
                ask = False
            elif side == "sell":
                ask = True
            else:
                counts["unknown_side_trades"] += 1
                if last_trade_px is not None and px != last_trade_px:
                    ask = px < last_trade_px
                else:
                    ask = last_trade_ask
            last_trade_px, last_trade_ask = px, ask
            rows.add(local, exch, px, qty_of(amount, path, line), TRADE, (SIDE_ASK if ask else 0) | END, seq)
            continue
        if flag and not in_snapshot:
            counts["snapshots"] += 1
            rows.add(local, exch, 0, 0, CLEAR, SNAPSHOT, seq)
            rows.add(local, exch, 0, 0, CLEAR, SIDE_ASK | SNAPSHOT, seq)
        in_snapshot = flag
        rows.add(local, exch, px_of(price, path, line), qty_of(amount, path, line), DEPTH,
                 (SIDE_ASK if side == "ask" else 0) | (SNAPSHOT if flag else 0), seq)
    _mark_message_ends(rows)
    notes: dict[str, Any] = {"venue_symbol": entry.symbol, "exchange": entry.exchange,
                             "files": [entry.files[i] for i in sorted(entry.files)], **dict(sorted(counts.items()))}
    return InstrumentEvents(name, px_of.step, qty_of.step, steps.multiplier(name, entry.symbol), rows.arrays(),
                            sizes, [], notes)


def _mark_message_ends(rows: Rows) -> None:
    """END on the last book row of each message: the next row is a trade, from another
    file, or has another local timestamp (trades already carry END)."""
    n = len(rows)
    for i in range(n):
        if rows.kind[i] == TRADE:
            continue
        j = i + 1
        if (j == n or rows.kind[j] == TRADE or rows.seq[j] >> 32 != rows.seq[i] >> 32
                or rows.local_ts[j] != rows.local_ts[i]):
            rows.flags[i] |= END


def read(group: list[tuple[int, str]], steps: Steps) -> tuple[list[tuple[int, InstrumentEvents]], dict[str, Any]]:
    symbols: dict[tuple[str, str], _Symbol] = {}
    kinds = {}
    for index, path in group:
        kinds[path] = _parse_file(path, index, symbols)
    exchanges = {exchange for exchange, _ in symbols}
    out = []
    for entry in symbols.values():
        name = entry.symbol if len(exchanges) == 1 else f"{entry.exchange}:{entry.symbol}"
        out.append((min(entry.files), _build(entry, steps, name)))
    return out, {"files": kinds}
