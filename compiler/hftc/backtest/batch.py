"""Many backtests at once: one per tape (days, instruments), in parallel worker processes.

Each worker compiles the schema itself (the front end is fast and the strategy's native library
comes from the shared build cache), so only paths and plain options cross the process boundary.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from hftc.backtest.errors import BacktestError


@dataclass(frozen=True)
class BatchJob:
    schema: str
    strategy: str
    tape: str
    label: str  # what the user gave (a capture or tape name), for the table
    params: Mapping[str, Any]
    options: Mapping[str, Any]  # BacktestOptions fields
    allow_dirty: bool = False


def run_job(job: BatchJob) -> dict[str, Any]:
    """One backtest in this process; the JSON summary, or {"error": diagnostic text} on failure."""
    from hftc.backtest import BacktestOptions, compile_strategy
    from hftc.frontend import compile_file

    result = compile_file(job.schema)
    if result.ir is None:
        return {"label": job.label, "error": "the schema does not compile"}
    try:
        engine = compile_strategy(result.ir, job.strategy)
        res = engine.run(job.tape, params=dict(job.params), options=BacktestOptions(**job.options),
                         allow_dirty=job.allow_dirty)
    except BacktestError as exc:
        return {"label": job.label, "error": f"error[{exc.code}]: {exc.message}"}
    return {"label": job.label, **res.json_summary()}


def run_batch(jobs: Sequence[BatchJob], workers: int,
              on_done: Callable[[dict[str, Any]], None] = lambda _r: None) -> tuple[list[dict[str, Any]], float]:
    """Every job, `workers` at a time in spawned processes (1: in this process); results in job order,
    and the wall time of the whole batch."""
    started = time.perf_counter()
    if workers <= 1 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(run_job(job))
            on_done(results[-1])
        return results, time.perf_counter() - started
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        futures = [pool.submit(run_job, job) for job in jobs]
        results = []
        for future in futures:
            results.append(future.result())
            on_done(results[-1])
    return results, time.perf_counter() - started


def options_dict(options) -> dict[str, Any]:
    """BacktestOptions as plain values that pickle (latency samples as a list)."""
    data = dataclasses.asdict(options)
    if data.get("latency_samples") is not None:
        data["latency_samples"] = [int(v) for v in data["latency_samples"]]
    return data


def totals(results: Sequence[dict[str, Any]], wall_s: float) -> dict[str, Any]:
    """Sums over the runs that succeeded, and the batch's throughput (events over wall time)."""
    ok = [r for r in results if "error" not in r]
    events = sum(r["events"] for r in ok)
    currencies = sorted({r.get("settlement_currency") or "" for r in ok})
    one = len(currencies) <= 1  # money of different currencies is not added up
    return {"runs": len(results), "failed": len(results) - len(ok), "events": events,
            "fills": sum(r["fills"] for r in ok), "pnl": sum(r["pnl"] for r in ok) if one else None,
            "fees": sum(r["fees"] for r in ok) if one else None, "wall_s": wall_s,
            "events_per_s": events / wall_s if wall_s > 0 else 0.0, "settlement_currencies": currencies}


__all__ = ["BatchJob", "options_dict", "run_batch", "run_job", "totals"]
