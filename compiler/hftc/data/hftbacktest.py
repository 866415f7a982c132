"""hftbacktest's event arrays (`.npz` with a `data` array, or `.npy`): read and write.

hftbacktest (MIT) stores one row per event: `ev, exch_ts, local_ts, px, qty, order_id,
ival, fval` (numpy, aligned). `ev` holds the event kind in its low bits and flags in
the high bits; the constants are copied here so hftbacktest is not a dependency.

Reading: rows flagged only `EXCH_EVENT` are the exchange-ordered duplicates that
hftbacktest's `correct_event_order` adds when exchange and local order differ; the
tape is the local view, so only rows with `LOCAL_EVENT` are kept (all rows when no
row has either flag). A depth clear with a side becomes a full clear of that side
(hftbacktest clears "up to px": for a snapshot that is the snapshot's depth, so the
difference is only levels beyond the snapshot); a clear without a side clears both.
Best-bid/offer and order-level (L3) events are counted and skipped. One tape message
(END) is a run of consecutive depth rows with equal timestamps; each trade is one.

Writing (`write_npz`) does the reverse for one instrument and, like
`correct_event_order`, duplicates rows whose exchange order differs from their
local order, so the file passes hftbacktest's `validate_event_order`.
"""

from __future__ import annotations

import io
import os
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from hftc.data.decimals import Scale, infer_step
from hftc.fileio import write_atomically
from hftc.data.errors import DataError
from hftc.data.events import InstrumentEvents, Steps
from hftc.data.tape import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE, Tape

# hftbacktest's event kinds (low byte of `ev`).
HBT_DEPTH_EVENT = 1            # a price level changed to qty
HBT_TRADE_EVENT = 2            # a public trade
HBT_DEPTH_CLEAR_EVENT = 3      # clear the side's depth up to px
HBT_DEPTH_SNAPSHOT_EVENT = 4   # a level from a snapshot
HBT_DEPTH_BBO_EVENT = 5        # best bid/offer only
# hftbacktest's flags (high bits of `ev`).
HBT_EXCH_EVENT = 1 << 31       # processed by the exchange model at exch_ts
HBT_LOCAL_EVENT = 1 << 30      # processed by the local (strategy) side at local_ts
HBT_BUY_EVENT = 1 << 29        # bid side / buyer-initiated trade
HBT_SELL_EVENT = 1 << 28       # ask side / seller-initiated trade
HBT_KIND_MASK = 0xFF

EVENT_DTYPE = np.dtype(
    [("ev", "<u8"), ("exch_ts", "<i8"), ("local_ts", "<i8"), ("px", "<f8"), ("qty", "<f8"),
     ("order_id", "<u8"), ("ival", "<i8"), ("fval", "<f8")],
    align=True,
)
_REQUIRED = ("ev", "exch_ts", "local_ts", "px", "qty")
_MAX_PLACES = 12


def load_events(path: str) -> np.ndarray:
    """The event array of an hftbacktest file (`data` of an .npz, or a plain .npy)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError("HFT1016", f"cannot load as numpy data: {exc}", path) from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            names = list(loaded.files)
            key = "data" if "data" in names else (names[0] if len(names) == 1 else None)
            if key is None:
                raise DataError("HFT1016", f"npz holds arrays {names}; expected one named `data`", path)
            try:
                array = loaded[key]
            except (ValueError, zipfile.BadZipFile, EOFError, OSError) as exc:
                raise DataError("HFT1016", f"cannot read array `{key}`: {exc}", path) from None
    else:
        array = loaded
    names = array.dtype.names or ()
    missing = [f for f in _REQUIRED if f not in names]
    if array.ndim != 1 or missing:
        raise DataError("HFT1016", f"not an hftbacktest event array (dtype {array.dtype}, shape {array.shape}); "
                        f"missing fields {missing}" if missing else "expected a one-dimensional array", path,
                        hint="hftbacktest rows are (ev, exch_ts, local_ts, px, qty, order_id, ival, fval)")
    return array


def _float_strings(values: np.ndarray) -> dict[float, str]:
    """Shortest round-trip decimal spelling of each distinct value (what the venue sent)."""
    return {float(v): repr(float(v)) for v in np.unique(values)}


def _to_units(values: np.ndarray, step: Decimal, what: str, symbol: str, path: str) -> np.ndarray:
    """Floats → integer multiples of `step`, exact on each value's shortest spelling."""
    if not np.isfinite(values).all():
        row = int(np.argmax(~np.isfinite(values)))
        raise DataError("HFT1005", f"{symbol}: row {row} has a non-finite {'price' if what == 'tick' else 'quantity'}",
                        path)
    uniq, inverse = np.unique(values, return_inverse=True)
    scale = Scale(step, what, symbol)
    units = np.empty(uniq.shape[0], dtype=np.int64)
    for i, v in enumerate(uniq.tolist()):
        try:
            units[i] = scale(repr(v))
        except DataError:
            # float noise (61800.200000000004): accept values within 1e-6 of a step
            ratio = Decimal(repr(v)) / step
            nearest = ratio.to_integral_value()
            if abs(ratio - nearest) > Decimal("1e-6"):
                raise DataError("HFT1004", f"{symbol}: {'price' if what == 'tick' else 'quantity'} {v!r} is not a "
                                f"multiple of the {what} size {step}", path,
                                hint=f"give the real size with --{what} {symbol}=<size>") from None
            units[i] = int(nearest)
    return units[inverse.reshape(-1)]


def _infer(values: np.ndarray) -> Decimal:
    step = infer_step(_float_strings(values).values())
    if step < Decimal(1).scaleb(-_MAX_PLACES):
        return Decimal(1).scaleb(-_MAX_PLACES)
    return step


def read(group: list[tuple[int, str]], steps: Steps) -> tuple[list[tuple[int, InstrumentEvents]], dict[str, Any]]:
    """Each file is one instrument, named after the file (stem before the first dot)."""
    out = []
    info: dict[str, Any] = {}
    for index, path in group:
        inst, skipped = read_file(path, steps, index)
        out.append((index, inst))
        if skipped:
            info[path] = skipped
    return out, ({"skipped": info} if info else {})


def read_file(path: str, steps: Steps, index: int = 0, symbol: str | None = None) -> tuple[InstrumentEvents, dict]:
    data = load_events(path)
    symbol = symbol or Path(path).name.split(".", 1)[0]
    ev = data["ev"].astype(np.uint64)
    flagged = (ev & np.uint64(HBT_EXCH_EVENT | HBT_LOCAL_EVENT)) != 0
    skipped: dict[str, int] = {}
    keep = np.ones(data.shape[0], dtype=bool)
    if flagged.any():
        keep = (ev & np.uint64(HBT_LOCAL_EVENT)) != 0
        if (~keep).sum():
            skipped["exchange_only_rows"] = int((~keep).sum())
    kinds = (ev & np.uint64(HBT_KIND_MASK)).astype(np.int64)
    known = np.isin(kinds, [HBT_DEPTH_EVENT, HBT_TRADE_EVENT, HBT_DEPTH_CLEAR_EVENT, HBT_DEPTH_SNAPSHOT_EVENT])
    for k in np.unique(kinds[keep & ~known]).tolist():
        name = "best_bid_offer_rows" if k == HBT_DEPTH_BBO_EVENT else f"kind_{k}_rows"
        skipped[name] = int((keep & (kinds == k)).sum())
    keep &= known
    rows = data[keep]
    ev, kinds = ev[keep], kinds[keep]
    buy = (ev & np.uint64(HBT_BUY_EVENT)) != 0
    sell = (ev & np.uint64(HBT_SELL_EVENT)) != 0
    is_clear = kinds == HBT_DEPTH_CLEAR_EVENT
    is_trade = kinds == HBT_TRADE_EVENT
    is_depth = ~is_clear & ~is_trade
    sideless = ~buy & ~sell
    if (sideless & is_depth).any():
        row = int(np.flatnonzero(sideless & is_depth)[0])
        raise DataError("HFT1016", f"depth row {row} has neither BUY_EVENT nor SELL_EVENT set", path)

    given_tick = steps._given(steps.ticks, symbol, symbol)
    given_lot = steps._given(steps.lots, symbol, symbol)
    levels = ~is_clear
    tick = given_tick if given_tick is not None else _infer(rows["px"][levels])
    lot = given_lot if given_lot is not None else _infer(rows["qty"][levels])
    sizes = {"tick_size": str(tick), "lot_size": str(lot),
             "tick_rule": "given" if given_tick is not None else "inferred: largest power of ten dividing every price",
             "lot_rule": "given" if given_lot is not None else "inferred: largest power of ten dividing every quantity"}
    px = np.zeros(rows.shape[0], dtype=np.int64)
    qty = np.zeros(rows.shape[0], dtype=np.int64)
    px[levels] = _to_units(rows["px"][levels], tick, "tick", symbol, path)
    qty[levels] = _to_units(rows["qty"][levels], lot, "lot", symbol, path)

    # sideless trades get the tick rule; sideless clears clear both sides (two rows)
    side_ask = sell.copy()
    notes: dict[str, Any] = {"files": [path]}
    unknown = sideless & is_trade
    if unknown.any():
        side_ask[is_trade] = _tick_rule(px[is_trade], side_ask[is_trade], unknown[is_trade])
        notes["unknown_side_trades"] = int(unknown.sum())
    kind = np.where(is_trade, TRADE, np.where(is_clear, CLEAR, DEPTH)).astype(np.uint8)
    local = rows["local_ts"].astype(np.int64)
    exch = rows["exch_ts"].astype(np.int64)
    snap = kinds == HBT_DEPTH_SNAPSHOT_EVENT

    # message boundaries: a trade alone; a run of depth/clear rows with equal timestamps
    n = rows.shape[0]
    same_next = np.zeros(n, dtype=bool)
    if n > 1:
        same_next[:-1] = (~is_trade[:-1] & ~is_trade[1:] & (local[:-1] == local[1:]) & (exch[:-1] == exch[1:]))
    end = ~same_next
    group_id = np.concatenate([[0], np.cumsum(end[:-1])]) if n else np.zeros(0, dtype=np.int64)
    snap_groups = np.unique(group_id[snap])
    flags = (side_ask.astype(np.uint8) * SIDE_ASK) | (end.astype(np.uint8) * END)
    flags |= (snap | (is_clear & np.isin(group_id, snap_groups))).astype(np.uint8) * SNAPSHOT

    # expand sideless clears into a bid clear and an ask clear
    both = is_clear & sideless
    repeat = np.where(both, 2, 1)
    order = np.repeat(np.arange(n), repeat)
    second = np.zeros(order.shape[0], dtype=bool)
    if both.any():
        starts = np.cumsum(repeat) - repeat
        second[starts[both] + 1] = True
        first_of_both = np.zeros(order.shape[0], dtype=bool)
        first_of_both[starts[both]] = True
    flags_out = flags[order].copy()
    if both.any():
        flags_out[first_of_both] &= np.uint8(~END & 0xFF)          # END stays on the second row
        flags_out[second] |= np.uint8(SIDE_ASK)
    seq = (np.int64(index) << 32) + order.astype(np.int64)
    columns = {
        "local_ts": local[order], "exch_ts": exch[order], "px": px[order], "qty": qty[order],
        "kind": kind[order], "flags": flags_out, "seq": seq, "update_id": np.zeros(order.shape[0], dtype=np.int64),
    }
    if columns["local_ts"].size > 1 and (np.diff(columns["local_ts"]) < 0).any():
        notes["resorted"] = "rows were not in local_ts order; merged by local_ts keeping file order for ties"
    inst = InstrumentEvents(symbol, Decimal(tick), Decimal(lot), steps.multiplier(symbol), columns, sizes, [], notes)
    return inst, skipped


def _tick_rule(px: np.ndarray, side_ask: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Aggressor side of trades without one: up-tick buyer, down-tick seller, else as the previous."""
    out = side_ask.copy()
    last_px, last_ask = None, False
    for i in range(px.shape[0]):
        if unknown[i]:
            if last_px is not None and px[i] > last_px:
                out[i] = False
            elif last_px is not None and px[i] < last_px:
                out[i] = True
            else:
                out[i] = last_ask
        last_px, last_ask = px[i], bool(out[i])
    return out


def tape_to_events(tape: Tape, instrument_index: int) -> np.ndarray:
    """One instrument of a tape as hftbacktest rows, in hftbacktest's corrected event order."""
    if not 0 <= instrument_index < len(tape.instruments):
        raise IndexError(f"instrument index {instrument_index} is not on the tape "
                         f"({len(tape.instruments)} instruments)")
    inst = tape.instruments[instrument_index]
    sel = np.flatnonzero(np.asarray(tape.instrument) == instrument_index)
    kind = np.asarray(tape.kind)[sel]
    flags = np.asarray(tape.flags)[sel]
    px_ticks = np.asarray(tape.px)[sel]
    qty_lots = np.asarray(tape.qty)[sel]
    local = np.asarray(tape.local_ts)[sel]
    exch = np.asarray(tape.exch_ts)[sel]
    ask = (flags & SIDE_ASK) != 0

    codes = np.where(kind == TRADE, HBT_TRADE_EVENT,
                     np.where(kind == CLEAR, HBT_DEPTH_CLEAR_EVENT,
                              np.where((flags & SNAPSHOT) != 0, HBT_DEPTH_SNAPSHOT_EVENT, HBT_DEPTH_EVENT)))
    ev = codes.astype(np.uint64) | np.where(ask, np.uint64(HBT_SELL_EVENT), np.uint64(HBT_BUY_EVENT))
    price = _from_units(px_ticks, inst.tick_size)
    size = _from_units(qty_lots, inst.lot_size)
    price = _clear_extents(kind, ask, px_ticks, price, inst.tick_size)
    size[kind == CLEAR] = 0.0

    rows = np.zeros(sel.shape[0], dtype=EVENT_DTYPE)
    rows["ev"], rows["exch_ts"], rows["local_ts"], rows["px"], rows["qty"] = ev, exch, local, price, size
    return _correct_event_order(rows)


def _from_units(units: np.ndarray, step: float) -> np.ndarray:
    """Integer ticks/lots → the float nearest the exact decimal (no 0.30000000000000004)."""
    places = max(0, -Decimal(repr(step)).normalize().as_tuple().exponent)  # type: ignore[operator]
    return np.round(units.astype(np.float64) * step, places)


def _clear_extents(kind: np.ndarray, ask: np.ndarray, ticks: np.ndarray, price: np.ndarray,
                   tick: float) -> np.ndarray:
    """hftbacktest clears a side from the touch *up to px*; the tape clears the whole side.

    So each clear gets the farthest level set on its side since that side's previous
    clear (the lowest bid / highest ask ever in the book since then): clearing up to
    it empties the side exactly.
    """
    out = price.copy()
    for side_is_ask in (False, True):
        on_side = ask == side_is_ask
        clears = np.flatnonzero((kind == CLEAR) & on_side)
        levels = (kind == DEPTH) & on_side
        previous = 0
        for at in clears.tolist():
            span = ticks[previous:at][levels[previous:at]]
            if span.size:
                extent = int(span.max() if side_is_ask else span.min())
                out[at] = _from_units(np.array([extent]), tick)[0]
            else:
                out[at] = 0.0
            previous = at
    return out


def _correct_event_order(rows: np.ndarray) -> np.ndarray:
    """Merge the exchange-time order and the local-time order of the same rows.

    A row whose position agrees in both orders is written once with EXCH|LOCAL; others
    are written twice (EXCH only in exchange order, LOCAL only in local order), which is
    what hftbacktest's `correct_event_order` produces.
    """
    n = rows.shape[0]
    by_local = np.argsort(rows["local_ts"], kind="stable")
    by_exch = np.argsort(rows["exch_ts"], kind="stable")
    if np.array_equal(by_local, by_exch):
        out = rows[by_local].copy()
        out["ev"] |= np.uint64(HBT_EXCH_EVENT | HBT_LOCAL_EVENT)
        return out
    exch_ts = rows["exch_ts"].tolist()
    local_ts = rows["local_ts"].tolist()
    e_order, l_order = by_exch.tolist(), by_local.tolist()
    take: list[int] = []
    mark: list[int] = []
    both, exch_only, local_only = HBT_EXCH_EVENT | HBT_LOCAL_EVENT, HBT_EXCH_EVENT, HBT_LOCAL_EVENT
    i = j = 0
    while i < n or j < n:
        if i < n and j < n and e_order[i] == l_order[j]:
            take.append(e_order[i])
            mark.append(both)
            i += 1
            j += 1
            continue
        if j >= n:
            pick_exch = True
        elif i >= n:
            pick_exch = False
        else:
            e, loc = e_order[i], l_order[j]
            pick_exch = (exch_ts[e], local_ts[e]) < (exch_ts[loc], local_ts[loc])
        if pick_exch:
            take.append(e_order[i])
            mark.append(exch_only)
            i += 1
        else:
            take.append(l_order[j])
            mark.append(local_only)
            j += 1
    out = rows[np.array(take, dtype=np.int64)]
    out["ev"] |= np.array(mark, dtype=np.uint64)
    return out


def write_npz(tape: Tape, instrument_index: int, path: str | os.PathLike) -> Path:
    """Export one instrument of a tape to hftbacktest's npz layout (`data` array), atomically."""
    path = Path(path)
    rows = tape_to_events(tape, instrument_index)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, data=rows)
    return write_atomically(path, buffer.getvalue())
