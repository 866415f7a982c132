"""The seed's Python API: `await AIStrategyEngine().optimize_strategy(config)` and `run_backtest`.

    engine = AIStrategyEngine(schema="desk.hftc.yaml", data="btcusdt.hftt")
    optimization = await engine.optimize_strategy({
        "name": "mm",
        "parameters": {"spread_bps": {"min": 0.1, "max": 2.0}},
        "objectives": {"maximize": ["pnl", "sharpe_ratio"], "minimize": ["max_drawdown", "latency"]},
    })
    backtest = await engine.run_backtest("mm", optimization["best_params"])

Where the engine finds its inputs: `schema` and `data` constructor arguments,
else the `HFTC_SCHEMA` and `HFTC_DATA` environment variables. `config["name"]`
selects the strategy; a name the schema does not define falls back to the
schema's only strategy (the seed's names, like `adaptive-market-making`, are
labels rather than schema names), which the result reports as `strategy`.
`parameters` narrows the search to [min, max] inside each declared range;
parameters left out are searched over their whole range. `objectives` replaces
the strategy's own; `latency` is the backtest's configured order-entry
latency, an input, so as an objective it is ignored with a note (HFT1222) in
the result's `notes`. Trials with fewer than 10 fills stay off the front
(`config["min_fills"]`, 0 for none). Both methods are coroutines: the work runs in a worker thread so an
event loop stays responsive.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from hftc.diagnostics.model import error
from hftc.optimize.study import OptimizeError


class AIStrategyEngine:
    def __init__(self, schema: str | os.PathLike | None = None, data: str | os.PathLike | None = None, *,
                 trials: int = 100, jobs: int = 1, seed: int | None = None, storage: str | None = None,
                 out: str | os.PathLike | None = None, sampler: str = "tpe", walk_forward: float | None = None,
                 options=None, allow_dirty: bool = False):
        self.schema = os.fspath(schema) if schema is not None else os.environ.get("HFTC_SCHEMA")
        self.data = os.fspath(data) if data is not None else os.environ.get("HFTC_DATA")
        self.trials, self.jobs, self.seed, self.storage = trials, jobs, seed, storage
        self.out = os.fspath(out) if out is not None else None
        self.sampler, self.walk_forward, self.options = sampler, walk_forward, options
        self.allow_dirty = allow_dirty  # run on a tape with unresolved data problems (HFT1118 otherwise)
        self._ir = None
        self._engines: dict[str, Any] = {}

    # -- inputs -----------------------------------------------------------------------------------

    def _schema_ir(self):
        if self._ir is None:
            if not self.schema:
                raise OptimizeError([error("HFT1220", "AIStrategyEngine needs a schema", None,
                                           help="pass AIStrategyEngine(schema=..., data=...) or set HFTC_SCHEMA")])
            from hftc.diagnostics.model import has_errors
            from hftc.frontend import compile_file

            result = compile_file(self.schema)
            if not result.ok or has_errors(result.diagnostics):
                raise OptimizeError([d for d in result.diagnostics if d.severity.value == "error"])
            self._ir = result.ir
        return self._ir

    def _data(self) -> str:
        if not self.data:
            raise OptimizeError([error("HFT1214", "AIStrategyEngine needs market data", None,
                                       help="pass AIStrategyEngine(data='tape.hftt') or set HFTC_DATA")])
        return self.data

    def strategy_name(self, name: str | None) -> str:
        """The schema strategy `name` selects (see the module docstring)."""
        ir = self._schema_ir()
        names = [s.name for s in ir.strategies]
        if name is not None and name in names:
            return name
        if len(names) == 1:
            return names[0]
        from hftc.diagnostics.model import did_you_mean

        raise OptimizeError([error("HFT1210", f"the schema has no strategy `{name}`", None,
                                   help=did_you_mean(str(name), names) or f"its strategies are: {', '.join(names)}")])

    # -- optimisation -----------------------------------------------------------------------------

    def _request(self, config: Mapping[str, Any]):
        from hftc.optimize.run import OptimizeRequest

        if not isinstance(config, Mapping):
            raise OptimizeError([error("HFT1220", "the config must be a mapping", None)])
        strategy = self.strategy_name(config.get("name"))
        ranges: dict[str, tuple[float, float]] = {}
        for pname, spec in (config.get("parameters") or {}).items():
            if not isinstance(spec, Mapping) or "min" not in spec or "max" not in spec:
                raise OptimizeError([error("HFT1220", f"parameter `{pname}` needs `min` and `max`", None)])
            try:
                ranges[str(pname)] = (float(spec["min"]), float(spec["max"]))
            except (TypeError, ValueError):
                raise OptimizeError([error("HFT1220", f"`min`/`max` of `{pname}` are not numbers", None)]) from None
        objectives = config.get("objectives")
        maximize = minimize = None
        if objectives is not None:
            if not isinstance(objectives, Mapping) or not set(objectives) <= {"maximize", "minimize"}:
                raise OptimizeError([error("HFT1220", "`objectives` takes `maximize` and `minimize` lists", None)])
            maximize = tuple(objectives.get("maximize") or ())
            minimize = tuple(objectives.get("minimize") or ())
        out = self.out or tempfile.mkdtemp(prefix="hftc-optimize-")
        return OptimizeRequest(strategy=strategy, data=self._data(), out=out, trials=int(config.get("trials",
                               self.trials)), storage=self.storage, study=config.get("study"), jobs=self.jobs,
                               seed=self.seed, sampler=self.sampler, walk_forward=self.walk_forward,
                               options=self.options, maximize=maximize, minimize=minimize, ranges=ranges,
                               allow_dirty=self.allow_dirty, min_fills=int(config.get("min_fills", 10)))

    def optimize_strategy_sync(self, config: Mapping[str, Any]) -> dict:
        from hftc.optimize.outputs import summary_json
        from hftc.optimize.run import optimize

        request = self._request(config)
        report, notes = optimize(self._schema_ir(), request)
        outcome = report.outcome
        summary = summary_json(report)
        chosen = outcome.chosen
        return {
            "strategy": request.strategy,
            "best_params": dict(chosen.params) if chosen else {},
            "best_values": dict(zip([o.label for o in outcome.problem.objectives], chosen.values)) if chosen else {},
            "best_metrics": dict(chosen.metrics) if chosen else {},
            "pareto": summary["pareto"],
            "trials": len(outcome.trials),
            "study": outcome.study_name,
            "storage": summary["storage"],
            "out": request.out,
            "files": dict(report.files),
            "walk_forward": summary["walk_forward"],
            "data_quality": summary["data_quality"],
            "fees": summary["fees"],
            "inactive_trials": summary["inactive_trials"],
            "notes": [f"{d.code}: {d.message}" for d in notes],
        }

    async def optimize_strategy(self, config: Mapping[str, Any]) -> dict:
        """Optimise `config["name"]`; returns best_params, best_values, the Pareto front and file paths."""
        return await asyncio.to_thread(self.optimize_strategy_sync, config)

    # -- single backtests -------------------------------------------------------------------------

    def run_backtest_sync(self, name: str | None, params: Mapping[str, Any] | None = None) -> dict:
        from hftc.optimize.backtest_objective import backtest_error

        strategy = self.strategy_name(name)
        try:
            from hftc.backtest import BacktestOptions, compile_strategy

            engine = self._engines.get(strategy)
            if engine is None:
                engine = self._engines[strategy] = compile_strategy(self._schema_ir(), strategy)
            options = self.options if self.options is not None else BacktestOptions()
            result = engine.run(self._data(), params=dict(params or {}), options=options,
                                allow_dirty=self.allow_dirty)
        except Exception as exc:
            if type(exc).__name__ == "BacktestError":
                raise backtest_error(exc) from exc
            raise
        from hftc.optimize.backtest_objective import metrics_of

        summary = dict(result.summary)
        summary.update(metrics_of(result, ("latency",), options))
        summary["result"] = result
        return summary

    async def run_backtest(self, name: str | None, params: Mapping[str, Any] | None = None) -> dict:
        """One backtest of strategy `name` with `params` over its defaults: the summary, plus `result`
        (the full BacktestResult with fills and equity curve)."""
        return await asyncio.to_thread(self.run_backtest_sync, name, params)


__all__ = ["AIStrategyEngine"]
