"""Pareto fronts and the choice of one parameter set, over plain trial records.

Kept free of Optuna so the rules are exact and testable: a trial is feasible
when every constraint holds; the front is the feasible trials no other feasible
trial dominates; the chosen trial is the front's best on the first objective,
ties broken by the next objectives in order, then by the lower trial number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrialRecord:
    number: int
    params: dict
    values: tuple[float, ...]  # objective values, in the problem's order
    metrics: dict = field(default_factory=dict)
    feasible: bool = True
    worker: str = ""
    seconds: float = 0.0


def _oriented(values: Sequence[float], directions: Sequence[str]) -> tuple[float, ...]:
    """Values turned so that larger is better for every objective."""
    return tuple(v if d == "maximize" else -v for v, d in zip(values, directions))


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """True when `a` is at least as good as `b` everywhere and better somewhere."""
    oa, ob = _oriented(a, directions), _oriented(b, directions)
    return all(x >= y for x, y in zip(oa, ob)) and any(x > y for x, y in zip(oa, ob))


def pareto_front(trials: Sequence[TrialRecord], directions: Sequence[str]) -> list[TrialRecord]:
    """Feasible, non-dominated trials, by trial number. Duplicated points all stay on the front."""
    feasible = [t for t in trials if t.feasible]
    front = [t for t in feasible if not any(dominates(o.values, t.values, directions) for o in feasible)]
    return sorted(front, key=lambda t: t.number)


def choose(front: Sequence[TrialRecord], directions: Sequence[str]) -> TrialRecord | None:
    """The front's best trial on the first objective (then the next ones), lowest number on ties."""
    if not front:
        return None
    return min(front, key=lambda t: (tuple(-v for v in _oriented(t.values, directions)), t.number))


__all__ = ["TrialRecord", "choose", "dominates", "pareto_front"]
