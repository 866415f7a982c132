"""`hftc optimize`: the command. Only typer at module level so `hftc --help` stays fast."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from hftc.backtest.cli import (
    FEE_PROFILE,
    LATENCY_NS,
    MAKER_FEE_BPS,
    QUEUE,
    TAKER_FEE_BPS,
    ContractChoice,
    FeeProfileChoice,
    QueueChoice,
    parse_map,
)


class Sampler(str, Enum):
    tpe = "tpe"
    nsga2 = "nsga2"


def optimize(
    schema: Path = typer.Argument(..., help="Schema file, or its compiled IR (`*.ir.json`, from `hftc ir`)."),
    strategy: str = typer.Option(..., "--strategy", "-s", help="Strategy to optimise (a name under `strategies:`)."),
    data: list[Path] = typer.Option(..., "--data", "-d",
                                    help="Market data: .hftt tapes, or captures (Binance .gz, hftbacktest .npz, Tardis .csv) converted once into a cached tape; repeat for several instruments."),
    trials: int = typer.Option(100, "--trials", "-n", min=1, help="Trials to run now (added to a resumed study)."),
    storage: str | None = typer.Option(
        None,
        "--storage",
        help="Optuna storage URL, e.g. postgresql://user@host/db "
        "to share one study between workers (default: sqlite OUT/study.db).",
    ),
    storage_file: Path | None = typer.Option(
        None,
        "--storage-file",
        help="Read the storage URL from this file (keeps a database password out of the process list).",
    ),
    study: str | None = typer.Option(
        None,
        "--study",
        help="Study name (default: the strategy, with -wfF when "
        "walking forward); an existing study of that name is resumed.",
    ),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Trials run in parallel threads."),
    seed: int | None = typer.Option(
        None, "--seed", help="Sampler seed: same seed, one job, fresh study = same trials."
    ),
    sampler: Sampler = typer.Option(Sampler.tpe, "--sampler", help="Multivariate TPE or NSGA-II."),
    walk_forward: float | None = typer.Option(
        None,
        "--walk-forward",
        help="Optimise on this fraction of the data's time span, then re-run the Pareto front on the rest.",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default: hftc-out/<package>/optimize/<strategy>)."
    ),
    latency_ns: int = LATENCY_NS,
    queue: QueueChoice = QUEUE,
    maker_fee_bps: float | None = MAKER_FEE_BPS,
    taker_fee_bps: float | None = TAKER_FEE_BPS,
    fee_profile: FeeProfileChoice | None = FEE_PROFILE,
    contract: ContractChoice | None = typer.Option(None, "--contract", help="Contract type of every instrument, "
                                                  "for a tape that does not record it (or to override it)."),
    instrument_map: list[str] | None = typer.Option(None, "--map", help="STRATEGY_SYMBOL=TAPE_SYMBOL (repeat), or "
                                                     "`position`: run on instruments whose names differ."),
    min_fills: int = typer.Option(10, "--min-fills", min=0, help="Trials with fewer fills are infeasible and stay "
                                  "off the Pareto front (0: no minimum-activity constraint)."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary with the best trials."),
    allow_dirty: bool = typer.Option(False, "--allow-dirty", help="Run on a tape whose data-quality record has "
                                     "unresolved problems (written with `hftc data convert --on-error keep`)."),
) -> None:
    """Search a strategy's parameters with Optuna, scoring each trial with a native backtest."""
    import json
    import os
    import time

    from rich.console import Console

    from hftc.diagnostics.color import rich_options, wants_color
    from hftc.diagnostics.model import has_errors
    from hftc.diagnostics.render import render_all
    from hftc.frontend import compile_file
    from hftc.optimize.study import OptimizeError

    err = Console(stderr=True, highlight=False, **rich_options())

    def emit(diagnostics, lookup) -> None:
        if diagnostics:
            print(render_all(diagnostics, "text", lookup, color=wants_color(sys.stderr)), file=sys.stderr)

    if storage_file is not None:
        if storage is not None:
            err.print("error: give --storage or --storage-file, not both")
            raise typer.Exit(2)
        try:
            storage = storage_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            err.print(f"error[HFT1215]: cannot read --storage-file {storage_file}: {exc.strerror or exc}")
            raise typer.Exit(1) from None
    result = compile_file(str(schema))
    emit(result.diagnostics, result.sources.lookup)
    if result.ir is None or has_errors(result.diagnostics):
        raise typer.Exit(1)
    ir = result.ir

    from hftc.backtest import BacktestError, BacktestOptions
    from hftc.backtest.inputs import resolve_tape, tape_quality_of
    from hftc.data.quality import summary_line

    try:
        tape = resolve_tape(list(data), lambda message: err.print(f"· {message}"),
                            lambda diagnostics: emit(list(diagnostics), result.sources.lookup))
    except BacktestError as exc:
        emit([exc.diagnostic()], result.sources.lookup)
        raise typer.Exit(1) from None
    from hftc.optimize.run import OptimizeRequest
    from hftc.optimize.run import optimize as run_optimize

    out_dir = str(out) if out else os.path.join("hftc-out", ir.package_snake, "optimize", strategy)
    request = OptimizeRequest(
        strategy=strategy,
        data=str(tape),
        out=out_dir,
        trials=trials,
        storage=storage,
        study=study,
        jobs=jobs,
        seed=seed,
        sampler=sampler.value,
        walk_forward=walk_forward,
        allow_dirty=allow_dirty,
        options=BacktestOptions(
            latency_ns=latency_ns, queue=queue.value, maker_fee_bps=maker_fee_bps, taker_fee_bps=taker_fee_bps,
            fee_profile=fee_profile.value if fee_profile is not None else None,
            contract=contract.value if contract is not None else None,
            instrument_map=parse_map(instrument_map),
        ),
        min_fills=min_fills,
    )
    started = time.perf_counter()
    progress = TrialProgress(err, trials)

    def inputs_checked() -> None:
        # The tape opened and its record allows the study (a dirty one was refused with HFT1118
        # unless --allow-dirty): say what the record holds with every study, --json too.
        err.print(f"· {summary_line(tape_quality_of(tape))}")
        progress.start()
    try:
        with progress:
            report, notes = run_optimize(
                ir,
                request,
                on_trial=progress.advance,
                on_compiled=progress.compiled,
                on_compiling=inputs_checked,
            )
    except OptimizeError as exc:
        emit(list(exc.diagnostics), result.sources.lookup)
        raise typer.Exit(1)
    emit(notes, result.sources.lookup)
    elapsed = time.perf_counter() - started
    outcome = report.outcome
    if json_output:
        from hftc.optimize.outputs import summary_json

        print(json.dumps(summary_json(report), indent=2, default=float))
    else:
        from hftc.optimize.outputs import render_table

        # Piped output keeps whole columns (rich would wrap to 80 characters).
        render_table(report, Console(highlight=False, width=None if sys.stdout.isatty() else 240, **rich_options()))
    if report.fees is not None:
        err.print(f"· {report.fees.line()}")
    if report.activity_line() is not None:
        err.print(f"· {report.activity_line()}")
    err.print(
        f"{outcome.new_trials} trials in {outcome.seconds:.1f} s ({elapsed:.1f} s with compile and output)"
        f"{f', {outcome.failed} failed' if outcome.failed else ''}; study `{outcome.study_name}` holds "
        f"{len(outcome.trials)} completed trials"
    )
    for name in ("best_params.yaml", "pareto.csv", "pareto.svg", "trials.csv", "walk_forward.csv", "summary.json"):
        if name in report.files:
            err.print(f"wrote {report.files[name]}")


class TrialProgress:
    """A rich progress bar on stderr: compile first, then trials with the best value so far."""

    def __init__(self, console, total: int):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[best]}"),
            console=console,
            transient=False,
        )
        self.total = total
        self.task: Any = None  # rich TaskID once started
        self.best: float | None = None
        self.label, self.maximize = "", True

    def __enter__(self):
        return self

    def start(self) -> None:
        """Show the bar once the inputs check out, so input errors print alone."""
        self.progress.start()
        self.task = self.progress.add_task("compiling", total=self.total, best="")

    def __exit__(self, *exc) -> None:
        if self.task is not None:
            self.progress.stop()

    def compiled(self, problem) -> None:
        first = problem.objectives[0]
        self.label, self.maximize = first.label, first.direction == "maximize"
        self.progress.update(self.task, description="trials")

    def advance(self, record) -> None:
        if record is not None and record.feasible and record.values:
            value = record.values[0]
            if self.best is None or (value > self.best if self.maximize else value < self.best):
                self.best = value
        best = f"best {self.label} {self.best:.6g}" if self.best is not None else ""
        self.progress.update(self.task, advance=1, best=best)
