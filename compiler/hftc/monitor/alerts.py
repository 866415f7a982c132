"""An in-process alert engine: threshold rules over the monitor's values, with the
inactive → pending → firing → resolved life cycle Prometheus uses.

    manager = AlertManager()
    manager.add_alert_rule(AlertRule("HighP99", "latency_p99_ns", 500, "gt", duration_seconds=5,
                                     severity="critical", callback=notify))
    manager.evaluate({"latency_p99_ns": 812.0})

A rule fires only after its condition has held continuously for `duration_seconds`
(immediately when 0), and resolves as soon as it stops holding; a missing or NaN value
does not hold. The callback, sync or `async def`, is called once per state change with
{"name", "severity", "metric", "operator", "threshold", "value", "state", "previous",
"since", "active_since"}.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import operator as op
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "gt": op.gt, "lt": op.lt, "ge": op.ge, "le": op.le, "eq": op.eq,
}
SYMBOLS = {"gt": ">", "lt": "<", "ge": ">=", "le": "<=", "eq": "=="}
_FROM_SYMBOL = {v: k for k, v in SYMBOLS.items()}

# Names a schema alert expression may use that the monitor computes itself.
MONITOR_VALUES: dict[str, str] = {
    "latency_p50_ns": "tick-to-order p50, ns",
    "latency_p90_ns": "tick-to-order p90, ns",
    "latency_p99_ns": "tick-to-order p99, ns",
    "latency_p999_ns": "tick-to-order p99.9, ns",
    "message_rate": "messages per second",
    "order_rate": "orders per second",
    "reject_rate": "rejected orders per second",
    "messages_total": "messages decoded",
    "orders_total": "orders sent",
    "orders_rejected_total": "orders rejected",
    "pnl": "PnL summed over instruments",
}

AlertCallback = Callable[[dict[str, Any]], "Awaitable[Any] | Any"]


class AlertState(str, Enum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass
class AlertRule:
    name: str
    metric: str
    threshold: float
    operator: str = "gt"
    duration_seconds: float = 0.0
    severity: str = "warning"
    callback: AlertCallback | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"alert {self.name}: operator must be one of {', '.join(OPERATORS)}, "
                             f"got {self.operator!r}")
        if self.duration_seconds < 0:
            raise ValueError(f"alert {self.name}: duration_seconds must be >= 0")

    def holds(self, value: float | None) -> bool:
        if value is None or math.isnan(value):
            return False
        return OPERATORS[self.operator](value, self.threshold)

    @property
    def expr(self) -> str:
        return f"{self.metric} {SYMBOLS[self.operator]} {self.threshold:g}"


@dataclass
class AlertStatus:
    rule: AlertRule
    state: AlertState = AlertState.INACTIVE
    since: float | None = None  # when the current state began
    active_since: float | None = None  # when the condition started holding
    value: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.rule.name, "expr": self.rule.expr, "state": self.state.value, "severity": self.rule.severity,
            "value": None if self.value is None or not math.isfinite(self.value) else self.value,
            "threshold": self.rule.threshold, "operator": self.rule.operator,
            "for_seconds": self.rule.duration_seconds, "since": self.since, "active_since": self.active_since,
        }


class AlertManager:
    """Evaluates rules against value maps; `clock` (seconds) is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._status: dict[str, AlertStatus] = {}
        self.history: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def add_alert_rule(self, rule: AlertRule) -> None:
        if rule.name in self._status:
            raise ValueError(f"alert rule {rule.name!r} already added")
        self._status[rule.name] = AlertStatus(rule)

    def remove_alert_rule(self, name: str) -> None:
        self._status.pop(name, None)

    @property
    def rules(self) -> list[AlertRule]:
        return [s.rule for s in self._status.values()]

    def status(self, name: str) -> AlertStatus:
        return self._status[name]

    def statuses(self) -> list[AlertStatus]:
        return list(self._status.values())

    def firing(self) -> list[AlertStatus]:
        return [s for s in self._status.values() if s.state is AlertState.FIRING]

    def _step(self, values: Mapping[str, float], now: float | None) -> list[tuple[AlertRule, dict[str, Any]]]:
        t = self.clock() if now is None else now
        events: list[tuple[AlertRule, dict[str, Any]]] = []
        for st in self._status.values():
            rule = st.rule
            value = values.get(rule.metric)
            st.value = value
            previous = st.state
            if rule.holds(value):
                if st.state in (AlertState.INACTIVE, AlertState.RESOLVED):
                    st.active_since = t
                    st.state, st.since = AlertState.PENDING, t
                if st.state is AlertState.PENDING and st.active_since is not None \
                        and t - st.active_since >= rule.duration_seconds:
                    st.state, st.since = AlertState.FIRING, t
            elif st.state is AlertState.PENDING:
                st.state, st.since, st.active_since = AlertState.INACTIVE, t, None
            elif st.state is AlertState.FIRING:
                st.state, st.since, st.active_since = AlertState.RESOLVED, t, None
            if st.state is not previous:
                event = {
                    "name": rule.name, "severity": rule.severity, "metric": rule.metric, "operator": rule.operator,
                    "threshold": rule.threshold, "value": value, "state": st.state.value,
                    "previous": previous.value, "since": st.since, "active_since": st.active_since,
                }
                self.history.append(event)
                events.append((rule, event))
        return events

    def evaluate(self, values: Mapping[str, float], now: float | None = None) -> list[dict[str, Any]]:
        """One evaluation; returns the transitions. Async callbacks are scheduled on the
        running loop (see `drain()`), or run to completion when no loop is running."""
        events = self._step(values, now)
        for rule, event in events:
            if rule.callback is None:
                continue
            result = rule.callback(dict(event))
            if inspect.isawaitable(result):
                self._run_awaitable(result)
        return [e for _, e in events]

    async def evaluate_async(self, values: Mapping[str, float], now: float | None = None) -> list[dict[str, Any]]:
        """One evaluation, awaiting async callbacks in order."""
        events = self._step(values, now)
        for rule, event in events:
            if rule.callback is None:
                continue
            result = rule.callback(dict(event))
            if inspect.isawaitable(result):
                await result
        return [e for _, e in events]

    async def drain(self) -> None:
        """Wait for async callbacks scheduled by `evaluate()` from inside a running loop."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _run_awaitable(self, awaitable: Awaitable[Any]) -> None:
        async def run() -> Any:
            return await awaitable

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(run())
            return
        task = loop.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


@dataclass(frozen=True)
class Unsupported:
    name: str
    expr: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "expr": self.expr, "reason": self.reason}


_SIMPLE = re.compile(r"^\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*(>=|<=|==|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


def rules_from_schema(monitoring: Any, callback: AlertCallback | None = None
                      ) -> tuple[list[AlertRule], list[Unsupported]]:
    """The schema's `monitoring.alerts` as AlertRules. Only `name op number` with a name the
    monitor computes (MONITOR_VALUES) is mapped; everything else is returned as unsupported
    with the reason, never approximated."""
    rules: list[AlertRule] = []
    unsupported: list[Unsupported] = []
    for alert in getattr(monitoring, "alerts", ()) or ():
        m = _SIMPLE.match(alert.expr)
        if not m:
            unsupported.append(Unsupported(alert.name, alert.expr,
                                           "only `name > number` style comparisons (>, <, >=, <=, ==) are evaluated "
                                           "in-process; Prometheus evaluates the rest"))
            continue
        metric, symbol, number = m.groups()
        if metric not in MONITOR_VALUES:
            unsupported.append(Unsupported(alert.name, alert.expr,
                                           f"`{metric}` is not a value the monitor computes "
                                           f"(known: {', '.join(MONITOR_VALUES)})"))
            continue
        rules.append(AlertRule(alert.name, metric, float(number), _FROM_SYMBOL[symbol], float(alert.for_seconds),
                               alert.severity, callback, dict(alert.annotations)))
    return rules, unsupported
