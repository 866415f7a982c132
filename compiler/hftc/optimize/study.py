"""The optimiser core: an Optuna study over a `Problem` and any objective function.

The objective function (`evaluate(params) -> metrics`) is the seam: the CLI
plugs in the native backtest, tests plug in analytic functions. Trials record
their metrics, constraint violations and the worker (host:pid) that ran them as
user attributes, so any process sharing the storage can rebuild the results.

Decisions:
- Sampler: multivariate TPE by default (sample-efficient at a few hundred
  trials, handles several objectives and constraints), NSGA-II on request.
- Constraints are set on each trial (`Trial.set_constraint`, violation <= 0 is
  feasible); both samplers use them, and they decide which trials may be chosen.
- No pruning: Optuna cannot prune multi-objective studies, and one trial is a
  single native backtest with no intermediate results to report early.
- Reproducibility: with `seed` and one job, a fresh study samples the same
  parameters every time. A resumed study seeds its sampler with `seed` plus the
  number of trials already stored, so resuming continues instead of repeating.
  With several jobs or workers the order in which trials finish varies, and so
  do the samples.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hftc.diagnostics.model import Diagnostic, error
from hftc.ir.model import Param
from hftc.optimize.pareto import TrialRecord, choose, pareto_front
from hftc.optimize.problem import Problem

Evaluate = Callable[[dict], Mapping[str, float]]
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
SAMPLERS = ("tpe", "nsga2")


class OptimizeError(Exception):
    """A user-facing failure, with diagnostics to render."""

    def __init__(self, diagnostics: Sequence[Diagnostic], report=None):
        self.diagnostics = tuple(diagnostics)
        self.report = report  # the study's outputs when it ran but chose nothing (HFT1219)
        super().__init__("; ".join(f"{d.code}: {d.message}" for d in self.diagnostics))


@dataclass(frozen=True)
class StudySettings:
    study_name: str
    trials: int = 100
    storage: str | None = None  # Optuna storage URL; None keeps the study in memory
    jobs: int = 1
    seed: int | None = None
    sampler: str = "tpe"
    identity: dict = field(default_factory=dict)  # what a resumed study must match (data, window, ...)


@dataclass
class StudyOutcome:
    problem: Problem
    study_name: str
    storage: str | None
    trials: list[TrialRecord]  # every completed trial in the study, this run's and earlier ones
    new_trials: int
    failed: int
    seconds: float
    front: list[TrialRecord] = field(default_factory=list)
    chosen: TrialRecord | None = None

    @property
    def workers(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.trials:
            counts[t.worker] = counts.get(t.worker, 0) + 1
        return counts


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def make_sampler(name: str, trials: int, seed: int | None):
    """Both samplers read each trial's constraint values (`Trial.set_constraint`) on their own."""
    import optuna

    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=_clamp(trials // 8, 8, 50), seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(multivariate=True, n_startup_trials=_clamp(trials // 10, 10, 25),
                                          seed=seed, constant_liar=True)
    raise ValueError(f"unknown sampler {name!r}; use one of {', '.join(SAMPLERS)}")


def open_storage(url: str | None):
    """An Optuna storage for `url` (None: in memory); raises OptimizeError when unreachable."""
    import optuna

    if url is None:
        return optuna.storages.InMemoryStorage()
    given, url = url, storage_url(url)
    engine_kwargs: dict = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}  # several threads or processes share one file
    for attempt in range(4):
        try:
            storage = optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
            if url.startswith("sqlite"):
                _fast_sqlite(storage.engine)
            return storage
        except Exception as exc:  # sqlalchemy errors of every driver: report, never a traceback
            # Workers started together race to create the tables; the loser sees them exist on retry.
            text = str(exc).lower()
            if attempt < 3 and ("already exists" in text or "duplicate" in text):
                time.sleep(0.2 * (attempt + 1))
                continue
            raise OptimizeError([error("HFT1215", f"cannot open study storage `{redact(given)}`: "
                                       f"{_first_line(exc)}", None,
                                       help="check the URL, that the server runs and accepts this user")]) from exc
    raise AssertionError("unreachable")


def storage_url(url: str) -> str:
    """`postgresql://` (and `postgres://`) with the PostgreSQL driver that is installed.

    SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3; hftc depends on psycopg2
    (binary wheels everywhere), so the bare form uses psycopg2 unless psycopg 3 is there.
    """
    import importlib.util

    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres") and importlib.util.find_spec("psycopg") is None:
        return f"postgresql+psycopg2://{rest}"
    return url


def _fast_sqlite(engine) -> None:
    """WAL journal, and fsync at checkpoints rather than at each of the ~10 commits of a trial.

    A crash of the process loses nothing; a power cut may lose the last trials, never the file.
    """
    from sqlalchemy import event

    def pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    engine.dispose()  # connections opened while creating the tables predate the pragmas


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def suggest(trial, param: Param):
    if param.type == "int":
        return trial.suggest_int(param.name, int(param.low), int(param.high), log=param.log)
    return trial.suggest_float(param.name, float(param.low), float(param.high), log=param.log)


def problem_identity(problem: Problem) -> dict:
    """What defines a study's search space and objectives; stored with the study."""
    return {
        "strategy": problem.strategy,
        "objectives": [[o.metric, o.direction] for o in problem.objectives],
        "constraints": [[c.metric, c.op, c.bound] for c in problem.constraints],
        "params": [[p.name, p.type, p.low, p.high, p.log] for p in problem.params],
    }


def _check_identity(study, problem: Problem, identity: dict) -> None:
    stored = study.user_attrs.get("hftc")
    directions = [d.name.lower() for d in study.directions]
    mismatched = []
    if directions != problem.directions:
        mismatched.append(f"objective directions {directions} (now {problem.directions})")
    if stored is not None:
        for key in sorted(set(stored) | set(identity)):
            if stored.get(key) != identity.get(key):
                mismatched.append(f"{key} {stored.get(key)!r} (now {identity.get(key)!r})")
    if mismatched:
        raise OptimizeError([error("HFT1216", f"study `{study.study_name}` in this storage was created with "
                                   + "; ".join(mismatched), None,
                                   help="pass another `--study` name (or storage) for a different setup")])
    if stored is None:
        study.set_user_attr("hftc", identity)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def record_of(trial, problem: Problem) -> TrialRecord:
    metrics = dict(trial.user_attrs.get("metrics", {}))
    violations = trial.user_attrs.get("constraints")
    if violations is None and problem.constraints:
        feasible = all(c.metric in metrics and c.holds(metrics[c.metric]) for c in problem.constraints)
    else:
        feasible = all(v <= 0.0 for v in (violations or ()))
    return TrialRecord(trial.number, dict(trial.params), tuple(trial.values or ()), metrics, feasible,
                       trial.user_attrs.get("worker", ""), float(trial.user_attrs.get("seconds", 0.0)))


def load_records(study, problem: Problem) -> list[TrialRecord]:
    import optuna

    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return sorted((record_of(t, problem) for t in trials), key=lambda r: r.number)


def run_study(problem: Problem, evaluate: Evaluate, settings: StudySettings,
              on_trial: Callable[[TrialRecord | None], None] | None = None, storage=None) -> StudyOutcome:
    """Run `settings.trials` new trials (resuming a stored study of the same name) and collect the results.

    `storage`: an already opened storage for `settings.storage` (callers open it early to fail fast).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.logging.disable_default_handler()
    if storage is None:
        storage = open_storage(settings.storage)
    identity = dict(problem_identity(problem), **settings.identity)
    constrained = bool(problem.constraints)
    try:
        existing = next((s for s in optuna.get_all_study_summaries(storage) if s.study_name == settings.study_name),
                        None)
        stored_trials = existing.n_trials if existing is not None else 0
    except Exception as exc:
        raise OptimizeError([error("HFT1215", f"cannot read study storage `{redact(settings.storage or '')}`: "
                                   f"{_first_line(exc)}", None)]) from exc
    seed = None if settings.seed is None else settings.seed + stored_trials
    sampler = make_sampler(settings.sampler, settings.trials, seed)
    study = optuna.create_study(storage=storage, sampler=sampler, pruner=optuna.pruners.NopPruner(),
                                study_name=settings.study_name, load_if_exists=True,
                                directions=problem.directions)  # type: ignore[arg-type]  # "maximize"/"minimize"
    _check_identity(study, problem, identity)

    def objective(trial):
        params = {p.name: suggest(trial, p) for p in problem.params}
        started = time.perf_counter()
        metrics = evaluate(params)
        seconds = time.perf_counter() - started
        missing = [m for m in problem.metrics if m not in metrics]
        if missing:
            raise OptimizeError([error("HFT1213", "the objective function did not report "
                                       + ", ".join(f"`{m}`" for m in missing), None)])
        kept = {k: float(v) for k, v in metrics.items() if _finite(v)}
        trial.set_user_attr("metrics", kept)
        trial.set_user_attr("worker", WORKER_ID)
        trial.set_user_attr("seconds", round(seconds, 6))
        if constrained:
            violations = problem.violations({m: float(metrics[m]) for m in problem.metrics})
            trial.set_user_attr("constraints", violations)
            for i, (c, v) in enumerate(zip(problem.constraints, violations)):
                trial.set_constraint(f"{i}: {c.metric} {c.op} {c.bound!r}", v if not math.isnan(v) else math.inf)
        values = tuple(float(metrics[o.metric]) for o in problem.objectives)
        return values if len(values) > 1 else values[0]

    failed = 0

    def callback(study_, frozen) -> None:
        nonlocal failed
        if frozen.state == optuna.trial.TrialState.COMPLETE:
            record = record_of(frozen, problem)
        else:
            failed += 1
            record = None
        if on_trial is not None:
            on_trial(record)

    started = time.perf_counter()
    study.optimize(objective, n_trials=settings.trials, n_jobs=max(1, settings.jobs), callbacks=[callback],
                   gc_after_trial=False, catch=())
    seconds = time.perf_counter() - started
    records = load_records(study, problem)
    front = pareto_front(records, problem.directions)
    return StudyOutcome(problem, settings.study_name, settings.storage, records, settings.trials - failed, failed,
                        seconds, front, choose(front, problem.directions))


__all__ = [
    "SAMPLERS",
    "WORKER_ID",
    "Evaluate",
    "OptimizeError",
    "StudyOutcome",
    "StudySettings",
    "load_records",
    "make_sampler",
    "open_storage",
    "problem_identity",
    "record_of",
    "redact",
    "run_study",
    "suggest",
]
