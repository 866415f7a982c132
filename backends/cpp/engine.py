"""View of the generated engine executable (`src/engine_main.cpp`, CMake target `<pkg>_engine`).

The engine runs the schema's first C++ pipeline on a synthetic market, encoded with the
generated codecs and fed through the generated feed handler, and exports the runtime metrics
that the prometheus and grafana targets expect. It needs a feed input with the depth update or
the BBO role (the synthetic market is made of one or the other); without one no engine is
generated. A symbol-keyed feed is sent the symbols of its `instruments` table.

With a depth update input the engine also takes market data from a tape (`--replay`) or from UDP
packets (`--md`), and the package gets `include/<pkg>/md_<pipeline>.hpp` (tape events as the
schema's messages) and the `<pkg>_md_publish` program that sends a tape as those packets.

Orders always take one path: the accepted quotes become requests of the runtime's order managers
(hft/session/order_entry.hpp), answered by a simulated venue in the process or, when the schema
declares a complete order-entry session (hftc.backends.cpp.order_entry), by a venue over TCP
(`--venue`, with `include/<pkg>/order_entry.hpp` as its codec).
"""

from __future__ import annotations

from hftc.backends.cpp.order_entry import order_entry_view
from hftc.ir import engine_contract as contract
from hftc.ir.model import Schema


def engine_view(components: dict | None, ir: Schema) -> dict | None:
    """What engine_main.cpp.j2 needs beyond the components view, or None when there is no engine."""
    if components is None or (components["t_delta"] is None and components["t_bbo"] is None):
        return None
    p = components["test"]
    stage = {}
    for name, kind in p.stages:
        stage.setdefault(kind, name)
    instruments = list(p.feed.symbols) or list(p.strategy.instruments) or \
        [f"instrument{i}" for i in range(p.instruments)]
    instruments += [f"instrument{i}" for i in range(len(instruments), p.instruments)]
    gateway = ir.component_named(p.gateway.name)
    return {
        "pipeline": p,
        "delta": components["t_delta"],  # the market as depth updates, or else
        "bbo": None if components["t_delta"] else components["t_bbo"],  # as BBOs
        "instruments": instruments[: p.instruments],
        "feed_stage": stage["feed_handler"],
        "book_stage": stage["order_book"],
        "strategy_stage": stage["strategy"],
        "risk_stage": stage["risk_gate"],
        "gateway_stage": stage["order_gateway"],
        # Tapes and UDP packets (md_<pipeline>.hpp, <pkg>_md_publish) need a depth_update message to
        # carry a tape's depth events; the trade and snapshot messages are used when present.
        "md": components["t_delta"] is not None,
        "delta_in": components["t_delta"],
        "trade_in": components["t_trade"],
        "snapshot_in": components["t_snapshot"],
        # --venue tcp://HOST:PORT: the order-entry session's codec (include/<pkg>/order_entry.hpp),
        # None when the schema declares no complete session; the gateway's logon secret reference.
        "order_entry": order_entry_view(ir, p.gateway.message, p.gateway.name),
        "credentials": gateway.credentials if gateway is not None else None,
        "heartbeat_ms": (gateway.heartbeat_ms if gateway is not None else 0) or 1000,
        # The deployment contract's flags (hftc.ir.engine_contract), parsed by hft/engine/ops.hpp.
        "ops_flags": [(f"{f.name} {f.value}".strip(), f.help) for f in contract.FLAGS if f.name != "--metrics-port"],
    }
