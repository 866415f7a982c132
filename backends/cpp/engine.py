"""View of the generated engine executable (`src/engine_main.cpp`, CMake target `<pkg>_engine`).

The engine runs the schema's first C++ pipeline on a synthetic market, encoded with the
generated codecs and fed through the generated feed handler, and exports the runtime metrics
that the prometheus and grafana targets expect. It needs a feed input with the book-delta role
(the synthetic market is made of deltas); without one no engine is generated.
"""

from __future__ import annotations


def engine_view(components: dict | None) -> dict | None:
    """What engine_main.cpp.j2 needs beyond the components view, or None when there is no engine."""
    if components is None or components["t_delta"] is None:
        return None
    p = components["test"]
    stage = {}
    for name, kind in p.stages:
        stage.setdefault(kind, name)
    instruments = list(p.strategy.instruments) or [f"instrument{i}" for i in range(p.instruments)]
    instruments += [f"instrument{i}" for i in range(len(instruments), p.instruments)]
    return {
        "pipeline": p,
        "delta": components["t_delta"],
        "instruments": instruments[: p.instruments],
        "feed_stage": stage["feed_handler"],
        "book_stage": stage["order_book"],
        "strategy_stage": stage["strategy"],
        "risk_stage": stage["risk_gate"],
        "gateway_stage": stage["order_gateway"],
    }
