"""A `Plan` as a whole schema document (plain data), built from the venue library and strategy templates.

Stage budgets are shares of the latency target, so they always fit it; strategy
parameters narrow the template's ranges to the instrument's scale.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from hftc.ai.planner import STAGE_SHARES, Plan
from hftc.ai.venues import VENUES, venue_definitions

# Tick, lot and quote sizes by instrument kind: (tick, lot, order_qty default, range, max_inventory default, range).
_SCALE = {
    "fx": ("0.00001", "1000", 1_000_000.0, [1000.0, 10_000_000.0], 5_000_000.0, [10_000.0, 50_000_000.0]),
    "fx_jpy": ("0.001", "1000", 1_000_000.0, [1000.0, 10_000_000.0], 5_000_000.0, [10_000.0, 50_000_000.0]),
    "crypto_btc": ("0.01", "0.00001", 0.01, [0.0001, 1.0], 0.5, [0.001, 10.0]),
    "crypto": ("0.01", "0.001", 1.0, [0.001, 100.0], 10.0, [0.01, 1000.0]),
}
_STRATEGY_NAMES = {"market_making": ("mm", "quoter"), "pairs_trading": ("pair", "trader")}


def _scale(instrument: str, asset_class: str) -> tuple:
    if asset_class == "fx":
        return _SCALE["fx_jpy" if "JPY" in instrument else "fx"]
    return _SCALE["crypto_btc" if instrument.startswith("BTC") else "crypto"]


def package_name(plan: Plan) -> str:
    short = _STRATEGY_NAMES[plan.strategy][0]
    return "_".join(i.lower() for i in plan.instruments[:2]) + f".{short}" if plan.instruments else f"desk.{short}"


def stage_budgets(target_ns: int) -> dict[str, int]:
    """Each stage's share of the p99 target, rounded down (at least 1 ns), so the sum never exceeds it."""
    return {stage: max(1, target_ns * share // 100) for stage, share in STAGE_SHARES}


def _strategy(plan: Plan) -> dict[str, Any]:
    first = plan.instruments[0]
    _, _, qty, qty_range, inv, inv_range = _scale(first, plan.asset_class)
    params: dict[str, Any] = {"order_qty": {"range": qty_range, "default": qty}}
    if plan.strategy == "market_making":
        params["max_inventory"] = {"range": inv_range, "default": inv}
        params["min_spread_bps"] = {"range": [0.1, 10.0], "default": 0.5 if plan.asset_class == "fx" else 1.0}
        objectives = {"maximize": ["pnl", "sharpe_ratio"], "minimize": ["max_drawdown"]}
    else:
        params["entry_threshold"] = {"range": [1.5, 3.0], "default": 2.0}
        params["exit_threshold"] = {"range": [0.2, 1.0], "default": 0.5}
        objectives = {"maximize": ["sharpe_ratio"], "minimize": ["max_drawdown"]}
    instruments = plan.instruments[:2] if plan.strategy == "pairs_trading" else plan.instruments[:1]
    return {
        "template": plan.strategy,
        "description": f"{plan.strategy.replace('_', ' ').capitalize()} on {', '.join(instruments)}.",
        "instruments": instruments,
        "params": params,
        "objectives": objectives,
    }


def _representable(step: str, type_name: str, venue: str) -> str:
    """`step`, coarsened to the venue's wire decimal when that is coarser: the book's tick and lot
    must be whole multiples of what the gateway's price and quantity decimals can carry (HFT0644)."""
    exponent = venue_definitions(venue)["types"].get(type_name, {}).get("exponent")
    if exponent is None:
        return step
    unit = Decimal(10) ** exponent
    if Decimal(step) % unit == 0:
        return step
    return format((unit * math.ceil(Decimal(step) / unit)).normalize(), "f")  # the next whole multiple


def _components(plan: Plan, strategy_name: str, stage_name: str) -> dict[str, Any]:
    venue = VENUES[plan.venue]
    tick, lot, qty, _, inv, _ = _scale(plan.instruments[0], plan.asset_class)
    tick, lot = _representable(tick, "Price", plan.venue), _representable(lot, "Qty", plan.venue)
    budgets = stage_budgets(plan.latency_target_ns)
    lot_size = float(lot)
    position = max(1, math.ceil(inv / lot_size))
    return {
        "feed": {"kind": "feed_handler", "input": list(venue.feed), "budget_ns": budgets["feed"]},
        "book": {"kind": "order_book", "model": "price_level", "depth": 64, "tick": tick, "lot": lot,
                 "budget_ns": budgets["book"]},
        stage_name: {"kind": "strategy", "strategy": strategy_name, "budget_ns": budgets["strategy"]},
        "risk": {"kind": "risk_gate", "budget_ns": budgets["risk"], "limits": {
            "max_position": position,
            # The position limit is worst case and counts the order itself: a larger order never passes.
            "max_order_qty": min(position, max(1, math.ceil(qty * 10 / lot_size))),
            "max_orders_per_second": 1000,
            "price_band_bps": 25 if plan.asset_class == "fx" else 50,
        }},
        "gateway": {"kind": "order_gateway", "output": venue.order, "budget_ns": budgets["gateway"]},
    }


def build_document(plan: Plan) -> dict[str, Any]:
    """The whole schema for `plan`; the caller compiles it before anything is written."""
    strategy_name, stage_name = _STRATEGY_NAMES[plan.strategy]
    library = venue_definitions(plan.venue)
    targets: dict[str, Any] = {"latency_p99_ns": plan.latency_target_ns}
    if plan.throughput_msgs_per_s:
        targets["throughput_msgs_per_s"] = plan.throughput_msgs_per_s
    instruments = plan.strategy == "pairs_trading" and plan.instruments[:2] or plan.instruments[:1]
    deployment = dict(plan.deployment)
    deployment.setdefault("pipeline", "tick_to_trade")
    order = ("environment", "pipeline", "sites", "latency_tolerance_ns", "nodes", "kubernetes", "cloud", "tags")
    deployment = {k: deployment[k] for k in order if k in deployment}
    return {
        "hftc": 1,
        "package": package_name(plan),
        "version": 1,
        "description": (f"{plan.strategy.replace('_', ' ').capitalize()} on {', '.join(instruments)} "
                        f"({VENUES[plan.venue].title} messages), {plan.latency_target_ns} ns p99 target."),
        "types": library["types"],
        "messages": library["messages"],
        "components": _components(plan, strategy_name, stage_name),
        "pipelines": {"tick_to_trade": {
            "description": "Market data to order; feed and strategy on their own pinned threads.",
            "stages": ["feed", "book", stage_name, "risk", "gateway"],
            "threads": {"feed": {"cpu": 2}, stage_name: {"cpu": 3}},
            "queue": {"kind": "spsc", "capacity": 4096},
            "features": ["lock_free_queues", "memory_pools", "cpu_affinity", "hugepages"],
            "targets": targets,
        }},
        "strategies": {strategy_name: _strategy(plan)},
        "deployments": {plan.deployment_name: deployment},
        "monitoring": plan.monitoring,
    }
