"""`hftc init`: a starter schema that lints clean and builds."""

from __future__ import annotations

import re

STARTER = """\
{modeline}
hftc: 1
package: {package}
version: 1
description: Starter schema. Edit the messages and components, then run `hftc build`.

types:
  Price: {{decimal: int64, exponent: -9}}
  Qty: {{decimal: int64, exponent: -4}}
  Side: {{enum: uint8, values: {{buy: 1, sell: 2}}}}

messages:
  BookDelta:
    id: 1
    fields:
      instrument: uint32
      seq: uint64
      ts_exchange: {{type: uint64, unit: ns}}
      side: Side
      price: Price
      qty: Qty
  NewOrder:
    id: 2
    fields:
      client_order_id: uint64
      instrument: uint32
      side: Side
      price: Price
      qty: Qty

components:
  feed: {{kind: feed_handler, input: [BookDelta], budget_ns: 50}}
  book: {{kind: order_book, model: price_level, depth: 64, tick: "0.01", budget_ns: 20}}
  quoter: {{kind: strategy, strategy: mm, budget_ns: 150}}
  risk:
    kind: risk_gate
    budget_ns: 30
    limits: {{max_position: 1000, max_order_qty: 100, max_orders_per_second: 1000, price_band_bps: 50}}
  gateway: {{kind: order_gateway, output: NewOrder, budget_ns: 100}}

pipelines:
  tick_to_trade:
    stages: [feed, book, quoter, risk, gateway]
    targets: {{latency_p99_ns: 500}}

strategies:
  mm:
    template: market_making
    instruments: [BTCUSDT]
    params:
      spread_bps: {{type: float, range: [0.5, 20.0], default: 2.0}}
      inventory_limit: {{type: int, range: [1, 100], default: 10}}
    let:
      mid: (book.bid + book.ask) / 2
    quote:
      bid: {{price: "mid * (1 - spread_bps / 20000)", qty: "1"}}
      ask: {{price: "mid * (1 + spread_bps / 20000)", qty: "1"}}
    when: abs(position) < inventory_limit
    objectives: {{maximize: [pnl], minimize: [max_drawdown]}}
"""

def package_name(name: str) -> str | None:
    candidate = re.sub(r"[^A-Za-z0-9_.]", "_", name).strip("._")
    if not candidate or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$", candidate):
        return None
    return candidate


def starter_schema(package: str, modeline: str | None = None) -> str:
    """The starter text; its first line points editors at the JSON Schema installed with hftc."""
    if modeline is None:
        from hftc.editor_schema import modeline as installed

        modeline = installed()
    return STARTER.format(package=package, modeline=modeline)
