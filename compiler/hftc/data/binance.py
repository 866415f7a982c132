"""Binance websocket captures: `<local_receive_ts_ns> <json>` per line, gzip or plain.

Streams understood: `depthUpdate` diffs (spot `@depth`/`@depth@100ms`, futures
`@depth@0ms`...), `trade` and `aggTrade`, `bookTicker` (only for the cross-check),
and REST depth snapshots (`{"lastUpdateId", "bids", "asks"}` lines). Other streams
are counted in the metadata and skipped.

The local book follows Binance's documented procedure: buffer diffs until the
snapshot arrives, drop diffs with `u <= lastUpdateId`, require the first applied
diff to straddle `lastUpdateId + 1`, then check continuity on every diff (futures:
`pu` equals the previous `u`; spot: `U` equals the previous `u + 1`). Spot ids are
contiguous, so the straddle is `U <= lastUpdateId + 1 <= u`. Futures ids are shared
by all symbols and a symbol's diffs are chained by `pu`, so the straddle is
`pu <= lastUpdateId < u`: Binance's literal `U <= lastUpdateId <= u` would reject a
diff that chains exactly onto the snapshot (`pu == lastUpdateId`, `U` far above
it), which the ETHUSDT capture contains. Decisions where Binance leaves it open:

- A snapshot becomes CLEAR bid, CLEAR ask (both flagged SNAPSHOT) and its levels
  (SNAPSHOT), END on the last. Diffs that arrived before the snapshot but are
  newer than it are released right after it, at the snapshot's local time (the
  earliest moment a local book could apply them).
- Diffs before the first snapshot are dropped (the book is unknown then); trades
  are kept. Without any snapshot for an instrument the book is built from diffs
  alone: CLEAR both sides at the first diff, then apply every diff; levels never
  touched in the capture are missing, and the metadata and a warning say so.
- After a continuity gap (and no newer snapshot) the book is CLEARED and rebuilt
  from the following diffs: a stale level could otherwise cross the book or
  linger forever. The gap is recorded in the metadata and shown as a warning.
- A diff older than the last applied one (`u <= previous u`) is a replay and is
  dropped (counted). Futures trades other than `X == "MARKET"` (insurance fund,
  ADL) are not public market trades and are dropped (counted).
- Exchange time: `T` (matching-engine time) when the message has it, else `E`;
  a spot snapshot has neither and takes the time of the last diff it contains.
"""

from __future__ import annotations

import gzip
import heapq
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

try:
    import orjson

    _loads = orjson.loads
    _JSONError: tuple[type[Exception], ...] = (orjson.JSONDecodeError, ValueError)
except ImportError:  # pragma: no cover - orjson is a declared dependency; json keeps working without it
    import json

    _loads = json.loads
    _JSONError = (ValueError,)

import numpy as np

from hftc.data.contracts import binance_contract
from hftc.data.decimals import Scale
from hftc.data.errors import DataError
from hftc.data.events import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE, InstrumentEvents, Rows, Steps, paused_gc

_MS = 1_000_000

# Message tags in the parsed stream.
_DIFF, _TRADE, _SNAP, _BBO = 0, 1, 2, 3


@dataclass
class _Message:
    tag: int
    seq: int            # input index << 32 | line number: release order and tie-break
    line: int
    local: int
    exch: int
    data: dict


@dataclass
class _Symbol:
    """Messages of one (market, symbol) over every input file, in file order."""

    symbol: str
    market: str                              # "futures" or "spot"
    files: dict[int, str] = field(default_factory=dict)   # input index → path
    messages: list[_Message] = field(default_factory=list)
    inverse: bool = False


@dataclass
class BinanceCapture:
    """Everything parsed from a set of capture files, before book building."""

    symbols: dict[tuple[str, str], _Symbol]
    ignored: Counter
    files: list[str]


def _open_lines(path: str) -> Iterator[bytes]:
    """Lines without their newline; read in large blocks (gzip's readline costs more than the JSON)."""
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rb") as fh:
        rest = b""
        while block := fh.read(1 << 22):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield from lines
        if rest:
            yield rest


def _lines(path: str) -> Iterator[tuple[int, bytes]]:
    line_no = 0
    try:
        for line_no, line in enumerate(_open_lines(path), 1):
            yield line_no, line
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError("HFT1003", f"corrupt or truncated gzip data after line {line_no}: {exc}", path,
                        line_no + 1 if line_no else None) from None
    except OSError as exc:
        raise DataError("HFT1001", f"cannot read: {exc.strerror or exc}", path) from None


def _market_of(data: dict) -> str:
    return "futures" if ("pu" in data or "X" in data or "ps" in data) else "spot"


def parse_files(paths: list[str], with_book_ticker: bool = False) -> BinanceCapture:
    """Parse capture files into per-symbol message lists (no decimal conversion yet)."""
    symbols: dict[tuple[str, str], _Symbol] = {}
    ignored: Counter = Counter()
    for index, path in enumerate(paths):
        _parse_file(path, index, symbols, ignored, with_book_ticker)
    return BinanceCapture(symbols, ignored, list(paths))


def _parse_file(path: str, index: int, symbols: dict, ignored: Counter, with_book_ticker: bool) -> None:
    file_symbols: dict[str, _Symbol] = {}
    snapshots: list[_Message] = []
    market_hint: str | None = None
    base = index << 32
    for line_no, line in _lines(path):
        if not line.strip():
            continue
        space = line.find(b" ")
        try:
            local = int(line[:space]) if space > 0 else None
        except ValueError:
            local = None
        if local is None:
            raise DataError("HFT1003", "line does not start with a local receive timestamp (integer ns) and a space",
                            path, line_no, hint="Binance captures hold `<local_ts_ns> <json>` per line")
        body = line[space + 1:]
        if not with_book_ticker and b"@bookTicker" in body[:48]:
            continue
        try:
            msg = _loads(body)
        except _JSONError as exc:
            raise DataError("HFT1003", f"malformed JSON: {exc}", path, line_no) from None
        if not isinstance(msg, dict):
            raise DataError("HFT1003", "expected a JSON object", path, line_no)
        try:
            if "stream" in msg and "data" in msg:
                stream = str(msg["stream"])
                data = msg["data"]
                kind = stream.split("@", 1)[1] if "@" in stream else stream
            elif "lastUpdateId" in msg:
                snap = _Message(_SNAP, base | line_no, line_no, local, _snapshot_exch(msg), msg)
                snapshots.append(snap)
                continue
            elif "e" in msg:
                data = msg
                kind = str(msg["e"])
            elif "code" in msg:
                ignored["error responses"] += 1
                continue
            else:
                raise DataError("HFT1003", "not a Binance stream message, trade or depth snapshot", path, line_no)
            event = data.get("e") or ("bookTicker" if kind.startswith("bookTicker") else kind)
            if event == "depthUpdate":
                tag = _DIFF
                exch = int(data.get("T") or data["E"]) * _MS
                int(data["U"]), int(data["u"])
            elif event in ("trade", "aggTrade"):
                tag = _TRADE
                exch = int(data.get("T") or data["E"]) * _MS
                data["p"], data["q"], data["m"]
            elif event == "bookTicker":
                if not with_book_ticker:
                    continue
                tag = _BBO
                exch = int(data.get("T") or data.get("E") or 0) * _MS or local
                int(data["u"]), data["b"], data["B"], data["a"], data["A"]
            else:
                ignored[f"{event} messages"] += 1
                continue
            symbol = str(data["s"])
        except KeyError as exc:
            raise DataError("HFT1003", f"message lacks field {exc}", path, line_no) from None
        except (TypeError, ValueError) as exc:
            raise DataError("HFT1003", f"message has a field of the wrong type: {exc}", path, line_no) from None
        entry = file_symbols.get(symbol)
        if entry is None:
            entry = file_symbols[symbol] = _Symbol(symbol, "spot")
        if tag != _BBO and market_hint != "futures":
            market_hint = _market_of(data)
        if "ps" in data:
            entry.inverse = True
        entry.messages.append(_Message(tag, base | line_no, line_no, local, exch, data))

    market = market_hint or "spot"
    for snap in snapshots:
        name = snap.data.get("symbol")
        if name is None:
            if len(file_symbols) != 1:
                raise DataError("HFT1007", "depth snapshot without a `symbol` in a file with "
                                f"{len(file_symbols) or 'no'} symbols: cannot tell which book it belongs to",
                                path, snap.line, hint="record one symbol per file, or snapshots with `symbol`")
            name = next(iter(file_symbols))
        entry = file_symbols.setdefault(str(name), _Symbol(str(name), market))
        entry.messages.append(snap)
    for name, entry in file_symbols.items():
        entry.market = market
        entry.messages.sort(key=lambda m: m.seq)
        key = (market, name)
        target = symbols.get(key)
        if target is None:
            target = symbols[key] = _Symbol(name, market, inverse=entry.inverse)
        target.files[index] = path
        target.messages.extend(entry.messages)


def _snapshot_exch(msg: dict) -> int:
    stamp = msg.get("T") or msg.get("E")
    return int(stamp) * _MS if stamp else 0


def _levels_ok(levels: Any) -> bool:
    return isinstance(levels, list)


@dataclass
class _Book:
    """Continuity state of one instrument's local book while releasing rows."""

    state: str                       # "waiting" (for a snapshot), "straddle" (first diff after one), "live"
    last_u: int = 0
    snapshot_id: int = 0


def build_instrument(entry: _Symbol, steps: Steps, tape_symbol: str) -> InstrumentEvents:
    """Release the rows of one instrument (see the module docstring for the rules)."""
    messages = [m for m in entry.messages if m.tag != _BBO]
    if len(entry.files) > 1:  # several captures of one instrument (e.g. consecutive days): oldest first
        first: dict[int, int] = {}
        for m in messages:
            first.setdefault(m.seq >> 32, m.local)
        messages.sort(key=lambda m: (first[m.seq >> 32], m.seq))
    prices, qtys = _strings(messages)
    px_of, qty_of, sizes = steps.scales(tape_symbol, prices, qtys, entry.symbol)
    rows = Rows()
    futures = entry.market == "futures"
    has_snapshot = any(m.tag == _SNAP for m in messages)
    book = _Book("waiting" if has_snapshot else "fresh")
    pending: list[_Message] = []
    gaps: list[dict[str, Any]] = []
    counts: Counter = Counter()
    def where(m: _Message) -> tuple[str, int]:
        return entry.files[m.seq >> 32], m.line

    px_cached, qty_cached = px_of.cached, qty_of.cached

    def levels(m: _Message, side_levels: list, side: int, extra: int, local: int, exch: int, seq: int) -> None:
        if not side_levels:
            return
        try:
            pxs = [px_cached(level[0]) for level in side_levels]
            qtys = [qty_cached(level[1]) for level in side_levels]
        except (IndexError, TypeError, KeyError):
            bad = next(lv for lv in side_levels if not (isinstance(lv, list) and len(lv) >= 2))
            raise DataError("HFT1003", f"price level {bad!r} is not [price, quantity]", *where(m)) from None
        if None in pxs or None in qtys:
            path, line = where(m)
            pxs = [v if v is not None else px_of(lv[0], path, line) for v, lv in zip(pxs, side_levels)]
            qtys = [v if v is not None else qty_of(lv[1], path, line) for v, lv in zip(qtys, side_levels)]
        rows.extend(local, exch, pxs, qtys, DEPTH, side | extra, seq)

    def clear_both(local: int, exch: int, seq: int, extra: int) -> None:
        rows.add(local, exch, 0, 0, CLEAR, extra, seq)
        rows.add(local, exch, 0, 0, CLEAR, SIDE_ASK | extra, seq)

    def apply_diff(m: _Message, local: int, seq: int) -> None:
        d = m.data
        first_id, last_id = int(d["U"]), int(d["u"])
        start = len(rows)
        if book.state == "fresh":
            clear_both(local, m.exch, seq, 0)
        elif book.state == "straddle":
            # spot ids are contiguous: the diff must contain lastUpdateId + 1. Futures ids are
            # shared across symbols and chained by `pu`: the diff must start at or before it.
            if futures:
                expected, got = book.snapshot_id, int(d.get("pu", -1))
                ok = got <= expected
            else:
                expected, got = book.snapshot_id + 1, first_id
                ok = first_id <= expected <= last_id
            if not ok:
                gaps.append(_gap(tape_symbol, local, expected, got, *where(m)))
                clear_both(local, m.exch, seq, 0)
        else:
            expected, got = (book.last_u, int(d.get("pu", -1))) if futures else (book.last_u + 1, first_id)
            if got != expected:
                gaps.append(_gap(tape_symbol, local, expected, got, *where(m)))
                clear_both(local, m.exch, seq, 0)
        bids, asks = d.get("b", []), d.get("a", [])
        if not (_levels_ok(bids) and _levels_ok(asks)):
            raise DataError("HFT1003", "depth levels `b`/`a` must be lists", *where(m))
        levels(m, bids, 0, 0, local, m.exch, seq)
        levels(m, asks, SIDE_ASK, 0, local, m.exch, seq)
        rows.end_message(start, last_id)
        book.state = "live"
        book.last_u = last_id

    for m in messages:
        if m.tag == _TRADE:
            d = m.data
            if futures and d.get("X", "MARKET") != "MARKET":
                counts["dropped_non_market_trades"] += 1
                continue
            path, line = where(m)
            side = SIDE_ASK if d["m"] else 0     # buyer is maker → the seller was the aggressor
            rows.add(m.local, m.exch, px_of(d["p"], path, line), qty_of(d["q"], path, line), TRADE, side | END, m.seq)
        elif m.tag == _SNAP:
            d = m.data
            snap_id = int(d["lastUpdateId"])
            bids, asks = d.get("bids"), d.get("asks")
            if not (_levels_ok(bids) and _levels_ok(asks)):
                raise DataError("HFT1003", "depth snapshot lacks `bids`/`asks` lists", *where(m))
            exch = m.exch or _spot_snapshot_time(pending, snap_id) or m.local
            start = len(rows)
            clear_both(m.local, exch, m.seq, SNAPSHOT)
            levels(m, bids, 0, SNAPSHOT, m.local, exch, m.seq)
            levels(m, asks, SIDE_ASK, SNAPSHOT, m.local, exch, m.seq)
            rows.end_message(start, snap_id)
            counts["snapshots"] += 1
            book.state, book.snapshot_id = "straddle", snap_id
            book.last_u = snap_id
            released, pending = pending, []
            for diff in released:
                if int(diff.data["u"]) <= snap_id:
                    counts["dropped_diffs_before_snapshot"] += 1
                else:
                    apply_diff(diff, max(diff.local, m.local), m.seq)
        else:
            last_id = int(m.data["u"])
            if book.state == "waiting":
                pending.append(m)
            elif book.state in ("straddle", "live") and last_id <= book.last_u:
                counts["dropped_stale_diffs" if book.state == "live" else "dropped_diffs_before_snapshot"] += 1
            else:
                apply_diff(m, m.local, m.seq)
    if pending:  # cannot happen: a snapshot exists, so pending is flushed when it comes
        counts["dropped_diffs_before_snapshot"] += len(pending)

    notes: dict[str, Any] = {"venue_symbol": entry.symbol, "market": entry.market,
                             "files": list(entry.files.values()), **{k: v for k, v in sorted(counts.items())}}
    if not has_snapshot and any(m.tag == _DIFF for m in messages):
        notes["warning"] = ("no depth snapshot: the book is built from diffs only, so levels that did not change "
                            "during the capture are missing")
    if gaps:
        notes["after_gap"] = "book cleared at each gap and rebuilt from the following diffs"
    contract = binance_contract(entry.symbol, entry.market, entry.inverse,
                                steps.given_multiplier(tape_symbol, entry.symbol))
    notes.update({"contract_type": contract.contract_type, "settlement_currency": contract.settlement_currency,
                  "contract_rule": contract.rule})
    if entry.inverse:
        notes["contract"] = ("inverse (coin-margined): quantities are contracts of `multiplier` quote currency; "
                             "PnL, fees and equity are in the base coin")
    return InstrumentEvents(tape_symbol, px_of.step, qty_of.step, contract.multiplier,
                            rows.arrays(), sizes, gaps, notes)


def _spot_snapshot_time(pending: list[_Message], snap_id: int) -> int:
    """Exchange time of the newest buffered diff the snapshot already contains (0 if none)."""
    stamp = 0
    for m in pending:
        if int(m.data["u"]) <= snap_id:
            stamp = max(stamp, m.exch)
    return stamp


def _gap(symbol: str, local: int, expected: int, got: int, path: str, line: int) -> dict[str, Any]:
    return {"symbol": symbol, "local_ts": local, "expected": expected, "got": got, "file": path, "line": line}


def _strings(messages: list[_Message]) -> tuple[set[str], set[str]]:
    prices: set[str] = set()
    qtys: set[str] = set()
    for m in messages:
        d = m.data
        if m.tag == _TRADE:
            prices.add(d["p"])
            qtys.add(d["q"])
            continue
        for key in ("b", "a", "bids", "asks"):
            side = d.get(key)
            if isinstance(side, list):
                good = [level for level in side if isinstance(level, list) and len(level) >= 2]
                prices.update([level[0] for level in good])
                qtys.update([level[1] for level in good])
    return {p for p in prices if isinstance(p, str)}, {q for q in qtys if isinstance(q, str)}


def tape_symbols(capture: BinanceCapture) -> dict[tuple[str, str], str]:
    """Tape names: the venue symbol, qualified by market only when spot and futures share it."""
    count = Counter(name for _, name in capture.symbols)
    return {key: (key[1] if count[key[1]] == 1 else f"{key[1]}@{key[0]}") for key in capture.symbols}


def read(group: list[tuple[int, str]], steps: Steps) -> tuple[list[tuple[int, InstrumentEvents]], dict[str, Any]]:
    """Read Binance captures (input index, path) into one InstrumentEvents per (market, symbol).

    All files are parsed together so consecutive captures of one instrument form one
    continuous book (continuity is checked across the file boundary).
    """
    capture = BinanceCapture({}, Counter(), [p for _, p in group])
    for index, path in group:
        _parse_file(path, index, capture.symbols, capture.ignored, False)
    names = tape_symbols(capture)
    out = [(min(entry.files), build_instrument(entry, steps, names[key])) for key, entry in capture.symbols.items()]
    info = {"ignored": dict(sorted(capture.ignored.items()))} if capture.ignored else {}
    return out, info


# --- the bookTicker cross-check ------------------------------------------------------------------


@dataclass
class Mismatch:
    update_id: int
    local_ts: int
    ours: tuple[int, int, int, int]        # bid px, bid qty, ask px, ask qty (ticks / lots)
    binance: tuple[int, int, int, int]


@dataclass
class CrossCheck:
    """Replaying the diffs vs Binance's own best bid/ask at the same update ids."""

    symbol: str
    compared: int
    matched: int
    mismatches: list[Mismatch]
    book_tickers: int                      # bookTicker messages in the file
    diffs: int                             # depth messages applied

    @property
    def ok(self) -> bool:
        return self.compared > 0 and self.matched == self.compared


def crosscheck_book_ticker(path: str, symbol: str | None = None, steps: Steps | None = None) -> CrossCheck:
    """Replay the tape rows of `symbol` (default: the file's only one) through an L2 book and
    compare the touch with every `bookTicker` whose `u` equals a depth diff's final `u`.

    The rows are exactly what `hftc data convert` writes (same reader, same release
    order), so a match validates the snapshot/diff logic and the exact tick conversion.
    """
    steps = steps or Steps()
    with paused_gc():
        capture = parse_files([path], with_book_ticker=True)
        names = tape_symbols(capture)
        keys = [k for k in capture.symbols if symbol is None or symbol in (k[1], names[k])]
        if len(keys) != 1:
            raise DataError("HFT1008", f"cross-check needs exactly one symbol, found {sorted(names.values())}", path)
        entry = capture.symbols[keys[0]]
        tickers = [m for m in entry.messages if m.tag == _BBO]
        inst = build_instrument(entry, steps, names[keys[0]])
    px_of = Scale(inst.tick, "tick", inst.symbol)
    qty_of = Scale(inst.lot, "lot", inst.symbol)
    want: dict[int, tuple[int, int, int, int]] = {}
    for m in tickers:
        d = m.data
        want[int(d["u"])] = (px_of(d["b"]), qty_of(d["B"]), px_of(d["a"]), qty_of(d["A"]))

    cols = inst.columns
    order = np.lexsort((cols["seq"], cols["local_ts"])).tolist()   # the tape's order for this instrument
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    bid_heap: list[int] = []      # negated prices; lazily cleaned
    ask_heap: list[int] = []
    compared = matched = diffs = 0
    mismatches: list[Mismatch] = []
    kind, flags, pxs, qtys = (cols[k].tolist() for k in ("kind", "flags", "px", "qty"))
    update_ids, locals_ = cols["update_id"].tolist(), cols["local_ts"].tolist()
    for i in order:
        k, f = kind[i], flags[i]
        if k == DEPTH:
            side, heap, sign = (asks, ask_heap, 1) if f & SIDE_ASK else (bids, bid_heap, -1)
            if qtys[i]:
                if pxs[i] not in side:
                    heapq.heappush(heap, sign * pxs[i])
                side[pxs[i]] = qtys[i]
            else:
                side.pop(pxs[i], None)
        elif k == CLEAR:
            if f & SIDE_ASK:
                asks.clear()
                ask_heap.clear()
            else:
                bids.clear()
                bid_heap.clear()
        if k == TRADE or not f & END or f & SNAPSHOT:
            continue
        diffs += 1
        target = want.get(update_ids[i])
        if target is None:
            continue
        while bid_heap and -bid_heap[0] not in bids:
            heapq.heappop(bid_heap)
        while ask_heap and ask_heap[0] not in asks:
            heapq.heappop(ask_heap)
        bid = -bid_heap[0] if bid_heap else 0
        ask = ask_heap[0] if ask_heap else 0
        ours = (bid, bids.get(bid, 0), ask, asks.get(ask, 0))
        compared += 1
        if ours == target:
            matched += 1
        else:
            mismatches.append(Mismatch(update_ids[i], locals_[i], ours, target))
    return CrossCheck(inst.symbol, compared, matched, mismatches, len(tickers), diffs)

