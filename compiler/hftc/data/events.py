"""Normalised events of one instrument, as every reader produces them.

A reader appends rows in *release order* (the order a local book would apply
them) with a `seq` that says which input line released the row; `convert`
then merges instruments and files by (local_ts, seq), which keeps rows of one
message together and ties in source order, as FORMATS.md §4 requires.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from hftc.data.decimals import Scale, infer_step
from hftc.data.errors import DataError
from hftc.data.tape import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE

__all__ = ["CLEAR", "DEPTH", "END", "SIDE_ASK", "SNAPSHOT", "TRADE", "InstrumentEvents", "Rows", "Steps"]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while readers build millions of small lists.

    Parsed messages are acyclic, so the collector would only re-scan them again and
    again as they accumulate (a third of a conversion's time); it resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Rows:
    """Growing columns of one instrument (plain lists: appends are the hot path)."""

    __slots__ = ("exch_ts", "flags", "kind", "local_ts", "px", "qty", "seq", "update_id")

    def __init__(self) -> None:
        self.local_ts: list[int] = []
        self.exch_ts: list[int] = []
        self.px: list[int] = []
        self.qty: list[int] = []
        self.kind: list[int] = []
        self.flags: list[int] = []
        self.seq: list[int] = []
        self.update_id: list[int] = []   # venue update id of the message an END row closes (0 = none)

    def __len__(self) -> int:
        return len(self.kind)

    def add(self, local: int, exch: int, px: int, qty: int, kind: int, flags: int, seq: int) -> None:
        self.local_ts.append(local)
        self.exch_ts.append(exch)
        self.px.append(px)
        self.qty.append(qty)
        self.kind.append(kind)
        self.flags.append(flags)
        self.seq.append(seq)
        self.update_id.append(0)

    def extend(self, local: int, exch: int, px: list[int], qty: list[int], kind: int, flags: int, seq: int) -> None:
        """Several rows of one message that differ only in price and quantity."""
        n = len(px)
        self.local_ts.extend([local] * n)
        self.exch_ts.extend([exch] * n)
        self.px.extend(px)
        self.qty.extend(qty)
        self.kind.extend([kind] * n)
        self.flags.extend([flags] * n)
        self.seq.extend([seq] * n)
        self.update_id.extend([0] * n)

    def end_message(self, start: int, update_id: int = 0) -> None:
        """Flag the last row added since `start` as END (no-op when none was added)."""
        if len(self.kind) > start:
            self.flags[-1] |= END
            self.update_id[-1] = update_id

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "local_ts": np.array(self.local_ts, dtype=np.int64),
            "exch_ts": np.array(self.exch_ts, dtype=np.int64),
            "px": np.array(self.px, dtype=np.int64),
            "qty": np.array(self.qty, dtype=np.int64),
            "kind": np.array(self.kind, dtype=np.uint8),
            "flags": np.array(self.flags, dtype=np.uint8),
            "seq": np.array(self.seq, dtype=np.int64),
            "update_id": np.array(self.update_id, dtype=np.int64),
        }


@dataclass
class InstrumentEvents:
    """What a reader hands to `convert` for one instrument."""

    symbol: str
    tick: Decimal
    lot: Decimal
    multiplier: float
    columns: dict[str, np.ndarray]
    sizes: dict[str, str]                         # how tick and lot were chosen, for the metadata
    gaps: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.columns["kind"].shape[0])


@dataclass
class Steps:
    """User-given tick/lot sizes and multipliers by symbol (case-insensitive)."""

    ticks: dict[str, Decimal] = field(default_factory=dict)
    lots: dict[str, Decimal] = field(default_factory=dict)
    multipliers: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ticks = {k.upper(): v for k, v in self.ticks.items()}
        self.lots = {k.upper(): v for k, v in self.lots.items()}
        self.multipliers = {k.upper(): v for k, v in self.multipliers.items()}

    def _given(self, table: dict, symbol: str, venue_symbol: str):
        return table.get(symbol.upper(), table.get(venue_symbol.upper()))

    def scales(self, symbol: str, prices: Iterable[str], qtys: Iterable[str],
               venue_symbol: str | None = None) -> tuple[Scale, Scale, dict[str, str]]:
        """Price and quantity scales for one instrument; infers the sizes not given."""
        venue_symbol = venue_symbol or symbol
        sizes: dict[str, str] = {}
        tick = self._given(self.ticks, symbol, venue_symbol)
        if tick is None:
            tick = infer_step(prices)
            sizes["tick_rule"] = "inferred: largest power of ten dividing every price seen"
        else:
            sizes["tick_rule"] = "given"
        lot = self._given(self.lots, symbol, venue_symbol)
        if lot is None:
            lot = infer_step(qtys)
            sizes["lot_rule"] = "inferred: largest power of ten dividing every quantity seen"
        else:
            sizes["lot_rule"] = "given"
        sizes["tick_size"] = str(tick)
        sizes["lot_size"] = str(lot)
        return Scale(tick, "tick", symbol), Scale(lot, "lot", symbol), sizes

    def given_multiplier(self, symbol: str, venue_symbol: str | None = None) -> float | None:
        value = self._given(self.multipliers, symbol, venue_symbol or symbol)
        return None if value is None else float(value)

    def multiplier(self, symbol: str, venue_symbol: str | None = None) -> float:
        value = self._given(self.multipliers, symbol, venue_symbol or symbol)
        return 1.0 if value is None else float(value)

    def known(self) -> set[str]:
        return set(self.ticks) | set(self.lots) | set(self.multipliers)


def parse_assignments(items: Iterable[str], option: str) -> dict[str, str]:
    """`SYM=VALUE` command-line items → {SYM: VALUE}; a malformed item is HFT1006."""
    out: dict[str, str] = {}
    for item in items:
        symbol, sep, value = item.partition("=")
        if not sep or not symbol.strip() or not value.strip():
            raise DataError("HFT1006", f"{option} `{item}` is not of the form SYMBOL=VALUE",
                            hint=f"for example {option} BTCUSDT=0.1")
        out[symbol.strip()] = value.strip()
    return out
