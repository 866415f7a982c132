"""What to optimise, read from a strategy in the IR: search space, objectives, constraints.

Pure: no Optuna and no backtest here, so the rules are easy to test and the
optimiser core can run any objective function over the same problem.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from hftc.diagnostics.model import Diagnostic, did_you_mean, error, warning
from hftc.ir.model import Param, Strategy

# Metric names of objectives and constraints, as the schema spells them, mapped to
# the canonical name the optimiser records. `latency` is the median order-entry
# latency the backtest used: an input, not a result, so it is refused as an objective.
METRIC_ALIASES: dict[str, str] = {
    "pnl": "pnl",
    "sharpe_ratio": "sharpe_ratio",
    "sharpe": "sharpe_ratio",
    "sortino_ratio": "sortino_ratio",
    "sortino": "sortino_ratio",
    "max_drawdown": "max_drawdown",
    "turnover": "turnover",
    "fill_ratio": "fill_ratio",
    "max_leverage": "max_leverage",
    "max_correlation": "max_correlation",
    "fees": "fees",
    "fills": "fills",
    "orders": "orders",
    "latency": "latency",
}

#: Default minimum activity: trials with fewer fills are infeasible. A trial that never trades
#: has a max drawdown of 0 that nothing can beat, so without this the Pareto front fills up
#: with strategies that do nothing.
DEFAULT_MIN_FILLS = 10
ACTIVITY_NOTE = "minimum activity"

_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>|==)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Objective:
    metric: str  # canonical metric name
    direction: str  # "maximize" | "minimize"
    written: str = ""  # as the schema spells it

    @property
    def label(self) -> str:
        return self.written or self.metric


@dataclass(frozen=True)
class Constraint:
    """`metric op bound`; `violation` is <= 0 exactly when the constraint holds (Optuna's convention)."""

    metric: str
    op: str
    bound: float
    text: str = ""
    activity: bool = False  # the default minimum-activity constraint, not one the schema declared

    def violation(self, value: float) -> float:
        if not math.isfinite(value):
            return math.inf
        if self.op == "<=":
            return value - self.bound
        if self.op == ">=":
            return self.bound - value
        if self.op == "<":  # value < b  <=>  value <= the float just below b
            return value - math.nextafter(self.bound, -math.inf)
        if self.op == ">":
            return math.nextafter(self.bound, math.inf) - value
        return abs(value - self.bound)  # ==

    def holds(self, value: float) -> bool:
        return self.violation(value) <= 0.0


@dataclass(frozen=True)
class Problem:
    strategy: str
    params: tuple[Param, ...]
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()

    @property
    def activity(self) -> Constraint | None:
        return next((c for c in self.constraints if c.activity), None)

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric a trial must report: objectives, then constraints."""
        names = [o.metric for o in self.objectives] + [c.metric for c in self.constraints]
        return tuple(dict.fromkeys(names))

    def violations(self, metrics: Mapping[str, float]) -> list[float]:
        return [c.violation(metrics[c.metric]) for c in self.constraints]

    def feasible(self, metrics: Mapping[str, float]) -> bool:
        return all(v <= 0.0 for v in self.violations(metrics))


def canonical_metric(name: str) -> str | None:
    return METRIC_ALIASES.get(name.strip())


def _unknown_metric(name: str, span, what: str) -> Diagnostic:
    hint = did_you_mean(name, METRIC_ALIASES)
    return error("HFT1213", f"the backtester does not report `{name}` ({what})", span,
                 label="unknown metric", help=hint or "metrics: " + ", ".join(sorted(set(METRIC_ALIASES))))


def parse_constraint(text: str, span=None) -> tuple[Constraint | None, list[Diagnostic]]:
    m = _CONSTRAINT.match(text)
    bound = None
    if m:
        try:
            bound = float(m.group(3))
        except ValueError:
            bound = None
    if not m or bound is None or not math.isfinite(bound):
        return None, [error("HFT0505", f"invalid constraint `{text}`", span, label="not `metric <= number`",
                            help="write constraints like `max_leverage <= 3.0`")]
    metric = canonical_metric(m.group(1))
    if metric is None:
        return None, [_unknown_metric(m.group(1), span, "in a constraint")]
    return Constraint(metric, m.group(2), bound, text.strip()), []


def problem_from_strategy(strategy: Strategy, *, maximize: tuple[str, ...] | None = None,
                          minimize: tuple[str, ...] | None = None,
                          min_fills: int = DEFAULT_MIN_FILLS) -> tuple[Problem | None, list[Diagnostic]]:
    """The optimisation problem of a strategy; `maximize`/`minimize` override its objectives.

    Unless the strategy constrains `fills` itself, trials need at least `min_fills` fills
    (0 turns the minimum-activity constraint off)."""
    out: list[Diagnostic] = []
    if not strategy.params:
        out.append(error("HFT1211", f"strategy `{strategy.name}` declares no parameters to optimise", strategy.span,
                         label="no `params:`", help="declare `params:` with `type`, `range` and `default`"))
    maximize = strategy.maximize if maximize is None else maximize
    minimize = strategy.minimize if minimize is None else minimize
    objectives: list[Objective] = []
    seen: set[str] = set()
    for direction, names in (("maximize", maximize), ("minimize", minimize)):
        for name in names:
            metric = canonical_metric(name)
            if metric is None:
                out.append(_unknown_metric(name, strategy.span, f"an objective of `{strategy.name}`"))
                continue
            if metric in seen:
                continue  # `sharpe` and `sharpe_ratio` are one objective
            if metric == "latency":
                out.append(warning("HFT1222", f"objective `{name}` of `{strategy.name}` is ignored: the backtest's "
                                   "order latency is an input (--latency-ns), so every trial scores the same",
                                   strategy.span, label="constant in a backtest",
                                   help="measure latency with `hftc bench` (tick-to-order of the generated "
                                        "pipeline); optimise trading metrics here"))
                continue
            seen.add(metric)
            objectives.append(Objective(metric, direction, name))
    if not objectives and not any(d.code == "HFT1213" for d in out):
        out.append(warning("HFT1212", f"strategy `{strategy.name}` declares no objectives; maximising `pnl`",
                           strategy.span, label="no `objectives:`",
                           help="add `objectives: {maximize: [pnl, sharpe_ratio], minimize: [max_drawdown]}`"))
        objectives.append(Objective("pnl", "maximize", "pnl"))
    constraints: list[Constraint] = []
    for c in strategy.constraints:
        parsed, diags = parse_constraint(c.text, c.span)
        out.extend(diags)
        if parsed is not None:
            constraints.append(parsed)
    if min_fills > 0 and not any(c.metric == "fills" for c in constraints):
        constraints.append(Constraint("fills", ">=", float(min_fills), f"fills >= {min_fills} ({ACTIVITY_NOTE})",
                                      activity=True))
    if any(d.severity.value == "error" for d in out):
        return None, out
    return Problem(strategy.name, strategy.params, tuple(objectives), tuple(constraints)), out


__all__ = [
    "ACTIVITY_NOTE",
    "DEFAULT_MIN_FILLS",
    "METRIC_ALIASES",
    "Constraint",
    "Objective",
    "Problem",
    "canonical_metric",
    "parse_constraint",
    "problem_from_strategy",
]
