"""Warnings for risk gate limits that are valid one by one but make no sense together.

The schema checks each limit's range; these checks catch combinations that silently turn a limit
off or make the gate refuse everything, which a trader would only notice in production.
"""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic, warning
from hftc.ir.model import Component, Schema, Span


def _span(c: Component, key: str) -> Span | None:
    return dict(c.limit_spans).get(key, c.span)


def _check(c: Component) -> list[Diagnostic]:
    lim = c.limits
    assert lim is not None
    out: list[Diagnostic] = []
    if lim.max_position == 0:
        out.append(warning("HFT0910", f"risk gate `{c.name}` rejects every order: `max_position` is 0",
                           _span(c, "max_position"), label="no order can pass",
                           help="the position limit counts the new order itself; set it to the largest "
                                "position, open orders included, the strategy may hold"))
    elif lim.max_order_qty > lim.max_position:
        out.append(warning("HFT0911", f"risk gate `{c.name}`: `max_order_qty` {lim.max_order_qty} is above "
                           f"`max_position` {lim.max_position}", _span(c, "max_order_qty"),
                           label="orders this large never pass",
                           help=f"the worst-case position includes the order, so no order above "
                                f"{lim.max_position} lots can pass; lower `max_order_qty` to at most that"))
    if lim.max_notional and lim.max_open_notional and lim.max_notional > lim.max_open_notional:
        out.append(warning("HFT0912", f"risk gate `{c.name}`: `max_notional` {lim.max_notional:g} is above "
                           f"`max_open_notional` {lim.max_open_notional:g}", _span(c, "max_notional"),
                           label="looser than the open-notional limit",
                           help="an order's notional counts in the open notional, so the per-order limit "
                                "never binds; lower it or raise `max_open_notional`"))
    if lim.price_band_bps >= 10_000:
        out.append(warning("HFT0913", f"risk gate `{c.name}`: a price collar of {lim.price_band_bps:g} bps "
                           "admits any price down to zero", _span(c, "price_band_bps"),
                           label="no price collar",
                           help="a collar is a fat-finger check; typical values are 10 to 500 bps"))
    return out


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    out: list[Diagnostic] = []
    for c in ir.components:
        if c.kind == "risk_gate" and c.limits is not None:
            out.extend(_check(c))
    return ir, out
