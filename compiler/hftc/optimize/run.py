"""One optimisation run from a compiled schema: the CLI and the seed API both call `optimize`.

Order: check the problem, open the data, compile the strategy once, run the
study on the in-sample window, re-run the Pareto front out of sample when
walking forward, write the outputs.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from hftc.diagnostics.model import Diagnostic, did_you_mean, error, has_errors
from hftc.ir.model import Schema
from hftc.optimize.outputs import Report, WalkForwardRow, write_outputs
from hftc.optimize.pareto import TrialRecord
from hftc.optimize.problem import DEFAULT_MIN_FILLS, Problem, problem_from_strategy
from hftc.optimize.study import OptimizeError, StudySettings, open_storage, run_study

# Out-of-sample re-runs are for reading, not for a second search: the best front points suffice.
MAX_WALK_FORWARD_ROWS = 50


@dataclass(frozen=True)
class OptimizeRequest:
    strategy: str
    data: str
    out: str
    trials: int = 100
    storage: str | None = None  # None: sqlite:///<out>/study.db
    study: str | None = None  # None: the strategy's name (with the walk-forward fraction)
    jobs: int = 1
    seed: int | None = None
    sampler: str = "tpe"
    walk_forward: float | None = None
    options: object = None  # hftc.backtest.BacktestOptions; None: the defaults
    maximize: tuple[str, ...] | None = None  # override the strategy's objectives (seed API)
    minimize: tuple[str, ...] | None = None
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # narrow the search space (seed API)
    allow_dirty: bool = False  # run on a tape whose data-quality record has unresolved problems
    min_fills: int = DEFAULT_MIN_FILLS  # minimum activity; 0: none

    @property
    def study_name(self) -> str:
        if self.study:
            return self.study
        return self.strategy + (f"-wf{self.walk_forward:g}" if self.walk_forward is not None else "")

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{Path(self.out).resolve() / 'study.db'}"


def build_problem(ir: Schema, request: OptimizeRequest) -> tuple[Problem, list[Diagnostic]]:
    strategy = ir.strategy_named(request.strategy)
    if strategy is None:
        names = [s.name for s in ir.strategies]
        hint = did_you_mean(request.strategy, names)
        raise OptimizeError([error("HFT1210", f"the schema has no strategy `{request.strategy}`", None,
                                   help=hint or ("its strategies are: " + ", ".join(f"`{n}`" for n in names)
                                                 if names else "the schema defines no strategies"))])
    if request.ranges:
        strategy = replace(strategy, params=narrowed_params(strategy, request.ranges))
    problem, diags = problem_from_strategy(strategy, maximize=request.maximize, minimize=request.minimize,
                                           min_fills=request.min_fills)
    if problem is None or has_errors(diags):
        raise OptimizeError(diags)
    return problem, diags


def narrowed_params(strategy, ranges: Mapping[str, tuple[float, float]]):
    """The strategy's params with [min, max] search ranges inside their declared ranges (HFT1220 otherwise)."""
    declared = {p.name: p for p in strategy.params}
    problems = []
    for name, (low, high) in ranges.items():
        p = declared.get(name)
        if p is None:
            hint = did_you_mean(name, declared)
            problems.append(error("HFT1220", f"strategy `{strategy.name}` has no parameter `{name}`", None,
                                  help=hint or "parameters: " + ", ".join(declared)))
        elif not (p.low <= low < high <= p.high):
            problems.append(error("HFT1220", f"range [{low}, {high}] of `{name}` is empty or outside its declared "
                                  f"range [{p.low}, {p.high}]", p.span, label="declared here"))
    if problems:
        raise OptimizeError(problems)
    out = []
    for p in strategy.params:
        if p.name in ranges:
            low, high = ranges[p.name]
            low, high = (int(low), int(high)) if p.type == "int" else (float(low), float(high))
            out.append(replace(p, low=low, high=high, default=min(max(p.default, low), high)))
        else:
            out.append(p)
    return tuple(out)


def _options_identity(options) -> dict:
    data = dataclasses.asdict(options)
    data.pop("start_ns", None)
    data.pop("end_ns", None)
    if data.get("latency_samples") is not None:
        data["latency_samples"] = len(data["latency_samples"])
    return data


def optimize(ir: Schema, request: OptimizeRequest, on_trial: Callable[[TrialRecord | None], None] | None = None,
             on_compiled: Callable[[Problem], None] | None = None,
             on_compiling: Callable[[], None] | None = None) -> tuple[Report, list[Diagnostic]]:
    """Run the study and write the outputs; raises OptimizeError with diagnostics on bad input.

    The callbacks report progress: `on_compiling` once the inputs check out, `on_compiled`
    when trials start, `on_trial` after each trial (None for a failed one).
    """
    from hftc.backtest import BacktestError, BacktestOptions, compile_strategy
    from hftc.backtest.api import contract_terms
    from hftc.backtest.fees import resolve_fees
    from hftc.backtest.tapeinfo import read_tape_info
    from hftc.backtest.inputs import refuse_dirty
    from hftc.data.quality import tape_quality
    from hftc.optimize.backtest_objective import (
        BacktestObjective,
        Window,
        backtest_error,
        data_identity,
        open_data,
        split_window,
    )

    if request.trials < 1:
        raise OptimizeError([error("HFT1220", f"--trials {request.trials} must be at least 1", None)])
    problem, notes = build_problem(ir, request)
    tape = open_data(request.data)
    quality = tape_quality(tape.meta)
    try:
        refuse_dirty(request.data, quality, request.allow_dirty)
    except BacktestError as exc:
        raise backtest_error(exc) from None
    in_sample, out_of_sample = Window(), None
    if request.walk_forward is not None:
        in_sample, out_of_sample = split_window(tape, request.walk_forward)
    options = request.options if request.options is not None else BacktestOptions()
    try:  # before the compile: a tape that does not say its contract type is refused at once
        contract_terms(request.data, read_tape_info(request.data), tape.meta, options.contract)
    except BacktestError as exc:
        raise backtest_error(exc) from None
    fees = resolve_fees(tape.meta, options.maker_fee_bps, options.taker_fee_bps, options.fee_profile)
    options = replace(options, maker_fee_bps=fees.maker_bps, taker_fee_bps=fees.taker_bps)
    try:
        os.makedirs(request.out, exist_ok=True)
    except OSError as exc:
        raise OptimizeError([error("HFT1221", f"cannot create the output folder `{request.out}`: {exc.strerror or exc}",
                                   None, help="pass --out a folder path that can be created and written")]) from None
    storage = open_storage(request.storage_url)  # before the compile: a bad URL fails fast
    if on_compiling is not None:
        on_compiling()
    try:
        engine = compile_strategy(ir, request.strategy)
    except Exception as exc:
        if type(exc).__name__ == "BacktestError":
            raise backtest_error(exc) from exc
        raise
    if on_compiled is not None:
        on_compiled(problem)
    objective = BacktestObjective(engine, tape, options, problem.metrics, allow_dirty=request.allow_dirty)
    identity = {"data": data_identity(tape), "window": [in_sample.start_ns, in_sample.end_ns],
                "backtest": _options_identity(options)}
    settings = StudySettings(request.study_name, request.trials, request.storage_url, request.jobs, request.seed,
                             request.sampler, identity)
    outcome = run_study(problem, objective.bound(in_sample), settings, on_trial, storage)
    report = Report(outcome, data_quality=quality, fees=fees)
    if out_of_sample is not None:
        report.split_ns = out_of_sample.start_ns
        report.walk_forward = walk_forward_rows(outcome, objective, in_sample, out_of_sample, request.jobs)
    write_outputs(report, request.out)
    if outcome.chosen is None:
        raise OptimizeError(notes + [error("HFT1219", f"none of the {len(outcome.trials)} completed trials of study "
                                           f"`{outcome.study_name}` satisfies every constraint", None,
                                           help="widen the ranges, relax the constraints or run more trials"
                                           + (f"; {report.activity_line()}" if report.activity_line() else ""))],
                            report=report)
    return report, notes


def walk_forward_rows(outcome, objective, in_sample, out_of_sample, jobs: int) -> list[WalkForwardRow]:
    """The front's trials (best first objective first) re-run on the out-of-sample window.

    In-sample metrics come from the study (they are what the optimiser saw).
    """
    problem = outcome.problem
    reverse = problem.objectives[0].direction == "maximize"
    front = sorted(outcome.front, key=lambda t: t.values[0], reverse=reverse)[:MAX_WALK_FORWARD_ROWS]
    if outcome.chosen is not None and all(t.number != outcome.chosen.number for t in front):
        front.insert(0, outcome.chosen)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        oos = list(pool.map(lambda t: objective.evaluate(t.params, out_of_sample), front))
    return [WalkForwardRow(t.number, dict(t.params), dict(t.metrics), m) for t, m in zip(front, oos)]


__all__ = ["MAX_WALK_FORWARD_ROWS", "OptimizeRequest", "build_problem", "narrowed_params", "optimize",
           "walk_forward_rows"]
