"""The schema's risk limits for a backtest, converted to the tape's ticks and lots.

The production pipeline's risk gate counts lots and ticks of the schema's order book (`tick`,
`lot`; 1 when absent) and takes `max_notional` in quote currency. The backtest trades the
tape's grid, so quantities are rescaled by book lot / tape lot (rounded down, never looser) and
the notional becomes tick*lot*multiplier units of the tape's instrument 0, as the gate expects.
An inverse contract's quote-currency notional is its contract count times the contract size,
whatever the price, so there `max_notional` becomes a cap on the order quantity instead; the gate
has no price-free form of `max_open_notional`, so an inverse backtest leaves that one out and says
so in the summary. The other limits (worst-case position counting open orders, open-order count,
collar, rate, duplicate ids) apply as in production: the backtest runs the same gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hftc.backtest.tapeinfo import TapeInstrument
from hftc.ir.model import Component, Schema


@dataclass(frozen=True)
class RiskSetting:
    enabled: bool
    description: str  # for the summary: where the limits come from, or why there are none
    max_position: int = 0
    max_order_qty: int = 0
    max_orders_per_second: int = 0
    price_band_bps: int = 0
    max_notional: int = 0
    kill_switch: bool = True
    max_open_notional: int = 0
    max_open_orders: int = 1024

    def to_json(self) -> dict:
        if not self.enabled:
            return {"enabled": False, "source": self.description}
        return {"enabled": True, "source": self.description, "max_position_lots": self.max_position,
                "max_order_qty_lots": self.max_order_qty, "max_orders_per_second": self.max_orders_per_second,
                "price_band_bps": self.price_band_bps, "max_notional_tick_lots": self.max_notional,
                "max_open_notional_tick_lots": self.max_open_notional, "max_open_orders": self.max_open_orders}


def _exact(x: float) -> Fraction:
    """The decimal a tape's float stands for (0.001, not its binary neighbour)."""
    return Fraction(repr(float(x)))


def _gate_for(ir: Schema, strategy: str) -> tuple[Component, Component | None] | None:
    """The first (risk gate, order book) of a pipeline that runs `strategy`."""
    for p in ir.pipelines:
        comps = [ir.component_named(s) for s in p.stages]
        if not any(c is not None and c.kind == "strategy" and c.strategy == strategy for c in comps):
            continue
        gate = next((c for c in comps if c is not None and c.kind == "risk_gate" and c.limits), None)
        if gate is not None:
            book = next((c for c in comps if c is not None and c.kind == "order_book"), None)
            return gate, book
    return None


def risk_setting(ir: Schema, strategy: str, inst0: TapeInstrument, wanted: bool,
                 inverse: bool = False) -> RiskSetting:
    if not wanted:
        return RiskSetting(False, "disabled by the options")
    found = _gate_for(ir, strategy)
    if found is None:
        return RiskSetting(False, f"disabled: no pipeline runs strategy `{strategy}` through a risk_gate")
    gate, book = found
    lim = gate.limits
    assert lim is not None
    book_lot = Fraction(book.lot) if book is not None and book.lot else Fraction(1)
    tape_lot = _exact(inst0.lot_size)
    scale = book_lot / tape_lot

    def lots(n: int) -> int:
        return min(int(n * scale), 1 << 62)

    def tick_lots(value: float | None) -> int:
        """A quote-currency notional in tick*lot units of the tape (at least 1: 0 means no limit)."""
        if not value:
            return 0
        unit = _exact(inst0.tick_size) * tape_lot * _exact(inst0.multiplier)
        return max(1, min(int(Fraction(str(value)) / unit), 1 << 62))

    notional = open_notional = 0
    max_qty = max(lots(lim.max_order_qty), 0)
    if lim.max_notional and inverse:
        # Quote value of one tape lot: lot contracts of `multiplier` each; no price in it.
        cap = int(Fraction(str(lim.max_notional)) / (tape_lot * _exact(inst0.multiplier)))
        max_qty = min(max_qty, cap)
    elif lim.max_notional:
        notional = tick_lots(lim.max_notional)
    if not inverse:
        open_notional = tick_lots(lim.max_open_notional)
    where = f"risk_gate `{gate.name}`" + (f" (book `{book.name}` lot {book.lot or 1})" if book is not None else "")
    if inverse and lim.max_notional:
        where += f"; max_notional {lim.max_notional} as at most {max_qty} lots per order (inverse contract)"
    if inverse and lim.max_open_notional:
        where += "; max_open_notional not applied (inverse contract)"
    return RiskSetting(True, where, lots(lim.max_position), max_qty,
                       lim.max_orders_per_second, int(lim.price_band_bps), notional, lim.kill_switch,
                       open_notional, lim.max_open_orders)
