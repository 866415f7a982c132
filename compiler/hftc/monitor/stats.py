"""From raw samples to the numbers people watch: percentiles from histogram buckets,
rates from counter deltas, totals, positions and PnL."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hftc.monitor.exposition import Sample

LATENCY = "hftc_tick_to_order_latency_ns"
MESSAGES = "hftc_messages_total"
ORDERS = "hftc_orders_total"
REJECTS = "hftc_orders_rejected_total"
POSITION = "hftc_position"
PNL = "hftc_pnl"

QUANTILES: tuple[tuple[str, float], ...] = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999))


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """The q-quantile of cumulative `(le, count)` buckets, as PromQL's histogram_quantile:
    linear interpolation inside the bucket holding the rank, lower bound 0 for the first
    bucket, and the highest finite bound when the rank falls in +Inf. None without data."""
    if not buckets:
        return None
    ordered = sorted(buckets)
    if not math.isinf(ordered[-1][0]):
        return None  # no +Inf bucket: the total is unknown
    total = ordered[-1][1]
    if total <= 0 or math.isnan(q):
        return None
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for i, (le, count) in enumerate(ordered):
        if count >= rank:
            if math.isinf(le):
                return ordered[i - 1][0] if i > 0 else None
            if i == 0 and le <= 0:
                return le
            span = count - prev_count
            if span <= 0:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / span
        prev_le, prev_count = le, count
    return ordered[-2][0] if len(ordered) > 1 else None


@dataclass(frozen=True)
class Raw:
    """One scrape reduced to what the monitor needs (summed over every series)."""

    timestamp: float
    buckets: tuple[tuple[float, float], ...]  # cumulative (le, count), sorted
    latency_sum: float
    latency_count: float
    messages: float
    orders: float
    rejects: float
    positions: dict[str, float]
    pnl: dict[str, float]
    pipelines: tuple[str, ...]

    @staticmethod
    def from_samples(samples: Iterable[Sample], timestamp: float) -> Raw:
        buckets: dict[float, float] = {}
        totals = {MESSAGES: 0.0, ORDERS: 0.0, REJECTS: 0.0, f"{LATENCY}_sum": 0.0, f"{LATENCY}_count": 0.0}
        positions: dict[str, float] = {}
        pnl: dict[str, float] = {}
        pipelines: set[str] = set()
        for s in samples:
            if s.name.startswith("hftc_"):
                pipe = s.label("pipeline")
                if pipe:
                    pipelines.add(pipe)
            if s.name == f"{LATENCY}_bucket":
                le = float(s.label("le", "nan").replace("+Inf", "inf"))
                if not math.isnan(le):
                    buckets[le] = buckets.get(le, 0.0) + s.value
            elif s.name in totals:
                totals[s.name] += s.value
            elif s.name in (POSITION, PNL):
                target = positions if s.name == POSITION else pnl
                key = s.label("instrument", "total")
                target[key] = target.get(key, 0.0) + s.value
        return Raw(timestamp, tuple(sorted(buckets.items())), totals[f"{LATENCY}_sum"],
                   totals[f"{LATENCY}_count"], totals[MESSAGES], totals[ORDERS], totals[REJECTS],
                   positions, pnl, tuple(sorted(pipelines)))


def _delta(new: float, old: float) -> float:
    """Counter increase, treating a decrease as a restart (the new value is the increase)."""
    return new - old if new >= old else new


@dataclass
class Snapshot:
    """What `hftc monitor` shows and the alert engine evaluates."""

    timestamp: float
    source: str
    pipelines: tuple[str, ...]
    latency_ns: dict[str, float | None]  # p50 p90 p99 p999 mean
    latency_count: float
    latency_window: str  # "cumulative" or e.g. "10.0s"
    totals: dict[str, float]
    rates: dict[str, float | None]  # per second over the rate window; None from one scrape
    reject_ratio: float | None
    positions: dict[str, float]
    pnl: dict[str, float]
    alerts: list[dict] = field(default_factory=list)
    unsupported_alerts: list[dict] = field(default_factory=list)

    def values(self) -> dict[str, float]:
        """Friendly metric names (as in schema alert exprs) to numbers; absent ones omitted."""
        out: dict[str, float] = {}
        for key in ("p50", "p90", "p99", "p999"):
            v = self.latency_ns.get(key)
            if v is not None:
                out[f"latency_{key}_ns"] = v
        for key, value in self.rates.items():
            if value is not None:
                out[key] = value
        out.update(self.totals)
        if self.pnl:
            out["pnl"] = sum(self.pnl.values())
        return out

    def to_json(self) -> dict:
        def num(v: float | None) -> float | None:  # JSON has no NaN or infinities
            return None if v is None or math.isnan(v) or math.isinf(v) else v

        return {
            "source": self.source,
            "timestamp": self.timestamp,
            "pipelines": list(self.pipelines),
            "latency_ns": {**{k: num(v) for k, v in self.latency_ns.items()}, "count": self.latency_count,
                           "window": self.latency_window},
            "throughput_per_s": {k: num(v) for k, v in self.rates.items()},
            "totals": {k: num(v) for k, v in self.totals.items()},
            "reject_ratio": num(self.reject_ratio),
            "positions": {k: num(v) for k, v in self.positions.items()},
            "pnl": {k: num(v) for k, v in self.pnl.items()},
            "alerts": self.alerts,
            "unsupported_alerts": self.unsupported_alerts,
        }


def window_buckets(new: Raw, old: Raw | None) -> tuple[tuple[float, float], ...]:
    if old is None:
        return new.buckets
    before = dict(old.buckets)
    if new.latency_count < old.latency_count:  # restarted: everything in `new` is new
        return new.buckets
    return tuple((le, max(0.0, c - before.get(le, 0.0))) for le, c in new.buckets)


def snapshot(new: Raw, rate_base: Raw | None, latency_base: Raw | None, source: str) -> Snapshot:
    """Percentiles over `latency_base`..`new` (cumulative when None), rates over `rate_base`..`new`."""
    buckets = window_buckets(new, latency_base)
    count = buckets[-1][1] if buckets else 0.0
    latency: dict[str, float | None] = {k: histogram_quantile(q, buckets) for k, q in QUANTILES}
    if latency_base is None or new.latency_count < latency_base.latency_count:
        lat_sum, lat_count = new.latency_sum, new.latency_count
    else:
        lat_sum = new.latency_sum - latency_base.latency_sum
        lat_count = new.latency_count - latency_base.latency_count
    latency["mean"] = lat_sum / lat_count if lat_count > 0 else None
    window = "cumulative" if latency_base is None else f"{new.timestamp - latency_base.timestamp:.1f}s"
    rates: dict[str, float | None] = {"message_rate": None, "order_rate": None, "reject_rate": None}
    reject_ratio = new.rejects / new.orders if new.orders > 0 else None
    if rate_base is not None and new.timestamp > rate_base.timestamp:
        dt = new.timestamp - rate_base.timestamp
        d_orders, d_rejects = _delta(new.orders, rate_base.orders), _delta(new.rejects, rate_base.rejects)
        rates = {"message_rate": _delta(new.messages, rate_base.messages) / dt, "order_rate": d_orders / dt,
                 "reject_rate": d_rejects / dt}
        if d_orders > 0:
            reject_ratio = d_rejects / d_orders
    totals = {"messages_total": new.messages, "orders_total": new.orders, "orders_rejected_total": new.rejects}
    return Snapshot(new.timestamp, source, new.pipelines, latency, count, window, totals, rates, reject_ratio,
                    dict(new.positions), dict(new.pnl))
