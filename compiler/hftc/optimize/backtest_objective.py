"""The objective function of `hftc optimize`: one native backtest per trial.

The strategy is compiled once (the backtest driver caches the shared library by
content hash) and the tape is memory-mapped once; trials only call into the
library, which releases the GIL, so trials in threads run in parallel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from hftc.diagnostics.model import error
from hftc.optimize.study import OptimizeError

# Metrics recorded for every trial (trials.csv, walk-forward tables), beside the objectives.
REPORTED = ("pnl", "sharpe_ratio", "sortino_ratio", "max_drawdown", "turnover", "fill_ratio", "fills", "orders",
            "fees", "max_leverage")


def metric_value(result, name: str, options) -> float:
    """A canonical metric (hftc.optimize.problem.METRIC_ALIASES values) of a backtest result."""
    if name == "latency":
        value = result.summary.get("entry_latency_ns_median")
        return float(value if value is not None else options.latency_ns)
    return float(result.metric(name))


def metrics_of(result, names, options) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in dict.fromkeys(tuple(names) + REPORTED):
        try:
            out[name] = metric_value(result, name, options)
        except Exception:
            if name in names:
                raise
    return out


@dataclass(frozen=True)
class Window:
    """A local-time window of the tape, [start_ns, end_ns); None is open."""

    start_ns: int | None = None
    end_ns: int | None = None


def backtest_error(exc: Exception) -> OptimizeError:
    diagnostic = getattr(exc, "diagnostic", None)
    if callable(diagnostic):
        return OptimizeError([diagnostic()])
    return OptimizeError([error("HFT1217", f"backtest failed: {exc}", None)])


class BacktestObjective:
    """Compiled strategy + opened tape + options; call it with parameters to score them."""

    def __init__(self, engine, tape, options, metrics: tuple[str, ...], allow_dirty: bool = False):
        self.engine = engine
        self.allow_dirty = allow_dirty
        self.tape = tape
        self.options = options
        self.metrics = metrics

    def run(self, params: Mapping[str, float], window: Window | None = None):
        options = self.options
        if window is not None:
            options = replace(options, start_ns=window.start_ns, end_ns=window.end_ns)
        try:
            return self.engine.run(self.tape, params=dict(params), options=options, allow_dirty=self.allow_dirty)
        except Exception as exc:
            if type(exc).__name__ == "BacktestError":
                raise backtest_error(exc) from exc
            raise

    def evaluate(self, params: Mapping[str, float], window: Window | None = None) -> dict[str, float]:
        result = self.run(params, window)
        try:
            return metrics_of(result, self.metrics, self.options)
        except Exception as exc:
            if type(exc).__name__ == "BacktestError":
                raise backtest_error(exc) from exc
            raise

    def bound(self, window: Window | None):
        """`evaluate` for one window: the optimiser core's objective function."""
        return lambda params: self.evaluate(params, window)


def open_data(path: str):
    """The memory-mapped tape, or OptimizeError HFT1214."""
    from hftc.data.tape import open_tape

    try:
        tape = open_tape(path)
    except Exception as exc:
        code_diag = getattr(exc, "diagnostic", None)
        message = getattr(exc, "message", None) or str(exc)
        diags = [error("HFT1214", f"cannot open market data `{path}`: {message}", None,
                       help="pass a tape written by `hftc data convert`")]
        if callable(code_diag):
            diags.append(code_diag())
        raise OptimizeError(diags) from exc
    if len(tape) == 0:
        raise OptimizeError([error("HFT1214", f"market data `{path}` holds no events", None)])
    return tape


def data_identity(tape) -> str:
    """A cheap fingerprint of a tape: events and first/last timestamps (stable across copies and machines)."""
    return f"{len(tape)} events {int(tape.local_ts[0])}..{int(tape.local_ts[-1])}"


def split_window(tape, fraction: float) -> tuple[Window, Window]:
    """In-sample and out-of-sample windows at `fraction` of the tape's local-time span."""
    if not (0.0 < fraction < 1.0) or not math.isfinite(fraction):
        raise OptimizeError([error("HFT1218", f"--walk-forward {fraction} is not between 0 and 1", None,
                                   help="e.g. `--walk-forward 0.7` optimises on the first 70% of the data")])
    first, last = int(tape.local_ts[0]), int(tape.local_ts[-1])
    split = first + round((last - first) * fraction)
    lo, hi = tape.time_window(None, split)
    if hi - lo == 0 or hi >= len(tape):
        raise OptimizeError([error("HFT1218", f"--walk-forward {fraction} leaves no events on one side of the split",
                                   None)])
    return Window(None, split), Window(split, None)


__all__ = [
    "REPORTED",
    "BacktestObjective",
    "Window",
    "backtest_error",
    "data_identity",
    "metric_value",
    "metrics_of",
    "open_data",
    "split_window",
]
