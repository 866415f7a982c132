"""`hftc backtest --pipeline`: a backtest of the generated pipeline itself, the program that trades live.

The schema's `<pkg>_engine` replays the tape through its generated feed handler, strategy, risk gate,
order managers and gateway encoder, against the venue's matcher in the same process (`--replay TAPE
--backtest`: the queue and fill rules `hftc venue` and `hftc backtest --strategy` share), in tape time.
The requests it sends are exactly those the engine sends to `hftc venue --lockstep` on the same tape
(tests/test_lockstep_parity.py), so what is backtested is what runs.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hftc.backtest.errors import BacktestError
from hftc.ir.model import Schema

#: A backtest of the engine is bounded like any other run: a tape that takes longer is refused.
RUN_TIMEOUT_S = 3600


@dataclass(frozen=True)
class PipelineOptions:
    latency_ns: int = 1_000_000
    latency_samples: list[int] | None = None
    queue: str = "risk_averse"
    maker_fee_bps: float = 0.0
    taker_fee_bps: float = 0.0
    params: Path | None = None  # an overlay the engine reads with --params (as in production)


def engine_pipeline(ir: Schema, name: str) -> None:
    """BacktestError HFT1101 unless `name` is the pipeline the generated engine runs (the first)."""
    from hftc.passes.trading import analyse

    model, _ = analyse(ir)
    names = [p.pipeline.name for p in model.pipelines] if model is not None else []
    if not names:
        raise BacktestError("HFT1101", f"package `{ir.package}` has no pipeline to backtest",
                            help="declare one under `pipelines:` (feed handler, book, strategy, risk gate, "
                                 "gateway), or backtest a strategy with --strategy")
    if name != names[0]:
        raise BacktestError("HFT1101", f"pipeline `{name}` is not the one the generated engine runs "
                            f"(`{names[0]}`, the schema's first)",
                            help=f"use --pipeline {names[0]}" + (f"; the schema's pipelines: {', '.join(names)}"
                                                                  if len(names) > 1 else ""))


def default_pipeline(ir: Schema) -> str | None:
    """The pipeline `hftc backtest` runs when no --strategy is named: the generated engine's (the
    schema's first), when it has the order-entry messages and the depth feed a backtest venue needs."""
    from hftc.backends.cpp.venue import missing_roles
    from hftc.passes.trading import analyse

    model, _ = analyse(ir)
    if model is None or not model.pipelines or missing_roles(ir):
        return None
    plan = model.pipelines[0]
    if not any(i.role == "delta" for i in plan.feed.inputs):  # the depth updates a tape replays as
        return None
    return plan.pipeline.name


def command(exe: Path, tape: Path, opt: PipelineOptions, out: Path) -> list[str]:
    """The engine's command line for one backtest writing its files under `out`."""
    cmd = [str(exe), "--replay", str(tape), "--backtest", "--no-pin", "--queue", opt.queue,
           "--maker-fee-bps", repr(opt.maker_fee_bps), "--taker-fee-bps", repr(opt.taker_fee_bps),
           "--summary", str(out / "engine.json"), "--venue-summary", str(out / "venue.json"),
           "--orders-log", str(out / "orders.txt")]
    if opt.latency_samples is not None:
        samples = out / "latency.txt"
        samples.write_text("".join(f"{v}\n" for v in opt.latency_samples), encoding="utf-8")
        cmd += ["--latency-samples", str(samples)]
    else:
        cmd += ["--latency-ns", str(opt.latency_ns)]
    if opt.params is not None:
        cmd += ["--params", str(opt.params)]
    return cmd


def summarize(pipeline: str, tape: Path, engine: dict, venue: dict, requests: int) -> dict:
    """The headline figures of one run, from the engine's and the venue's JSON summaries."""
    (session,) = venue["sessions"] or [{}]
    oe = engine["order_entry"]
    return {
        "pipeline": pipeline,
        "tape": str(tape),
        "requests": requests,
        "sent": oe["sent"],
        "exec_reports": oe["exec_reports"],
        "orders": venue["orders"], "cancels": venue["cancels"], "replaces": venue["replaces"],
        "fills": venue["fills"], "venue_rejects": venue["rejects"], "open_orders": venue["open_orders"],
        "risk_rejects": engine["rejected"] - oe["exec_reports"].get("rejected", 0),
        "position": session.get("position", {}),
        "pnl": session.get("pnl", 0.0), "fees": session.get("fees", 0.0), "turnover": session.get("turnover", 0.0),
        "messages": engine["messages_decoded"], "seconds": engine["seconds"],
        "messages_per_s": engine["messages_per_s"],
        "latency": venue.get("latency", {}),
        "queue": venue.get("queue"),
    }


def run_pipeline_backtest(ir: Schema, pipeline: str, tape: Path, opt: PipelineOptions,
                          say: Callable[[str], None], keep: Path | None = None) -> dict:
    """Builds (or takes from the cache) the schema's engine and backtests `pipeline` on `tape`.

    `keep`: a folder to leave the run's files in (engine.json, venue.json, orders.txt)."""
    from hftc.venue.build import build_engine
    from hftc.venue.errors import VenueError

    engine_pipeline(ir, pipeline)
    try:
        exe = build_engine(ir, say)
    except VenueError as exc:
        raise BacktestError(exc.code, exc.message, help=exc.help) from None
    with tempfile.TemporaryDirectory(prefix="hftc-pipeline-") as tmp:
        out = keep if keep is not None else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        try:
            run = subprocess.run(command(exe, tape, opt, out), capture_output=True, text=True, check=False,
                                 timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise BacktestError("HFT1113", f"the engine's backtest did not finish within {RUN_TIMEOUT_S} s") from None
        if run.returncode != 0:
            raise BacktestError("HFT1113", f"the engine's backtest failed (exit {run.returncode}):\n"
                                + run.stderr.strip()[-2000:],
                                help="a bad --params file or tape is named in the message; otherwise this is a bug "
                                     "in hftc, please report it with the schema")
        engine = json.loads((out / "engine.json").read_text(encoding="utf-8"))
        venue = json.loads((out / "venue.json").read_text(encoding="utf-8"))
        requests = sum(1 for _ in (out / "orders.txt").open(encoding="utf-8"))
    return summarize(pipeline, tape, engine, venue, requests)
