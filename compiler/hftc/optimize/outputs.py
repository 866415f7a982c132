"""What `hftc optimize` leaves in `--out`: tables, plot, overlay, summary.

Every file is written to a temporary sibling and renamed over the old one, so
an interrupted run never leaves a half-written file (the study database beside
them is the storage's business).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hftc.optimize.pareto import TrialRecord
from hftc.optimize.plot import pareto_svg
from hftc.optimize.study import StudyOutcome, redact
from hftc.transaction import replace_entries

CHOICE_RULE = ("the feasible Pareto-optimal trial best on the first objective, ties broken by the next "
               "objectives, then by the lower trial number")


@dataclass(frozen=True)
class WalkForwardRow:
    number: int
    params: dict
    in_sample: dict
    out_of_sample: dict


@dataclass
class Report:
    """Everything the CLI prints and writes after a study."""

    outcome: StudyOutcome
    split_ns: int | None = None
    walk_forward: list[WalkForwardRow] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    data_quality: dict | None = None  # the tape's record (hftc.data.quality); None for older tapes
    fees: object = None  # hftc.backtest.fees.Fees the trials were charged

    @property
    def inactive(self) -> int:
        """Completed trials that failed the minimum-activity constraint (kept off the front)."""
        c = self.outcome.problem.activity
        if c is None:
            return 0
        return sum(1 for t in self.outcome.trials if c.metric in t.metrics and not c.holds(t.metrics[c.metric]))

    def activity_line(self) -> str | None:
        c = self.outcome.problem.activity
        if c is None:
            return None
        return (f"{self.inactive} of {len(self.outcome.trials)} trials made fewer than {c.bound:g} fills and are "
                f"kept off the Pareto front (--min-fills {c.bound:g}; 0 turns this off)")



def _number(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("" if math.isnan(value) else str(value))
    return str(value)


def _metric_names(trials: Sequence[TrialRecord]) -> list[str]:
    names: dict[str, None] = {}
    for t in trials:
        names.update(dict.fromkeys(t.metrics))
    return list(names)


def trials_csv(outcome: StudyOutcome, trials: Sequence[TrialRecord]) -> bytes:
    problem = outcome.problem
    front = {t.number for t in outcome.front}
    chosen = outcome.chosen.number if outcome.chosen else None
    metrics = [m for m in _metric_names(trials) if m not in {o.metric for o in problem.objectives}]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["trial", *[p.name for p in problem.params], *[o.label for o in problem.objectives], *metrics,
                     "feasible", "pareto", "chosen", "seconds", "worker"])
    for t in trials:
        writer.writerow([t.number, *[_number(t.params.get(p.name, "")) for p in problem.params],
                         *[_number(v) for v in t.values], *[_number(t.metrics.get(m, math.nan)) for m in metrics],
                         _number(t.feasible), _number(t.number in front), _number(t.number == chosen),
                         _number(t.seconds), t.worker])
    return buf.getvalue().encode()


def walk_forward_csv(report: Report) -> bytes:
    rows = report.walk_forward
    params = [p.name for p in report.outcome.problem.params]
    metrics = list(dict.fromkeys(m for r in rows for m in r.in_sample))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["trial", *params, *[f"{m}_in_sample" for m in metrics], *[f"{m}_out_of_sample" for m in metrics]])
    for r in rows:
        writer.writerow([r.number, *[_number(r.params[p]) for p in params],
                         *[_number(r.in_sample.get(m, math.nan)) for m in metrics],
                         *[_number(r.out_of_sample.get(m, math.nan)) for m in metrics]])
    return buf.getvalue().encode()


def best_params_yaml(outcome: StudyOutcome) -> bytes:
    from hftc.params_overlay import overlay_yaml

    chosen = outcome.chosen
    assert chosen is not None
    problem = outcome.problem
    values = ", ".join(f"{o.label} {v:.6g}" for o, v in zip(problem.objectives, chosen.values))
    comment = (f"Chosen by hftc optimize (study `{outcome.study_name}`, trial {chosen.number}: {values}).\n"
               f"Rule: {CHOICE_RULE}.\n"
               f"Use: hftc build SCHEMA --params best_params.yaml")
    ordered = {p.name: chosen.params[p.name] for p in problem.params if p.name in chosen.params}
    return overlay_yaml(problem.strategy, ordered, comment).encode()


def _trial_json(t: TrialRecord, problem) -> dict:
    def clean(v):
        return v if not isinstance(v, float) or math.isfinite(v) else None

    return {"trial": t.number, "params": t.params,
            "values": {o.label: clean(v) for o, v in zip(problem.objectives, t.values)},
            "metrics": {k: clean(v) for k, v in t.metrics.items()}, "feasible": t.feasible, "worker": t.worker}


def summary_json(report: Report) -> dict:
    o = report.outcome
    p = o.problem
    return {
        "study": o.study_name,
        "storage": redact(o.storage) if o.storage else None,
        "strategy": p.strategy,
        "objectives": [{"metric": x.label, "direction": x.direction} for x in p.objectives],
        "constraints": [c.text or f"{c.metric} {c.op} {c.bound}" for c in p.constraints],
        "trials": len(o.trials),
        "new_trials": o.new_trials,
        "failed": o.failed,
        "feasible": sum(t.feasible for t in o.trials),
        "seconds": round(o.seconds, 3),
        "workers": o.workers,
        "chosen": _trial_json(o.chosen, p) if o.chosen else None,
        "choice_rule": CHOICE_RULE,
        "pareto": [_trial_json(t, p) for t in o.front],
        "walk_forward": None if report.split_ns is None else {
            "split_ns": report.split_ns,
            "trials": [{"trial": r.number, "params": r.params, "in_sample": r.in_sample,
                        "out_of_sample": r.out_of_sample} for r in report.walk_forward],
        },
        "files": report.files,
        "data_quality": report.data_quality,
        "inactive_trials": report.inactive,
        "min_fills": int(p.activity.bound) if p.activity is not None else 0,
        "fees": None if report.fees is None else {"maker_bps": report.fees.maker_bps,
                                                  "taker_bps": report.fees.taker_bps, "source": report.fees.source},
    }


def write_outputs(report: Report, out_dir: str | os.PathLike) -> dict[str, str]:
    """Write the result files; returns {kind: path}."""
    out = Path(out_dir)
    o = report.outcome
    p = o.problem
    files: dict[str, bytes] = {
        "trials.csv": trials_csv(o, o.trials),
        "pareto.csv": trials_csv(o, o.front),
        "pareto.svg": pareto_svg(o.trials, o.front, o.chosen, [x.label for x in p.objectives], p.directions,
                                 f"{p.strategy}: {len(o.trials)} trials, {len(o.front)} on the front").encode(),
    }
    if o.chosen is not None:
        files["best_params.yaml"] = best_params_yaml(o)
    if report.split_ns is not None:
        files["walk_forward.csv"] = walk_forward_csv(report)
    report.files = {name: str(out / name) for name in list(files) + ["summary.json"]}
    files["summary.json"] = (json.dumps(summary_json(report), indent=2, default=_json_default) + "\n").encode()
    replace_entries(out, files)  # all files of the run or, if killed, all of the previous one
    return report.files


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render_table(report: Report, console) -> None:
    """The Pareto front (or best trial), the chosen parameters and, with walk-forward, in- vs out-of-sample."""
    from rich.table import Table

    o = report.outcome
    p = o.problem
    chosen = o.chosen.number if o.chosen else None
    title = (f"{p.strategy}: {len(o.front)} Pareto-optimal of {len(o.trials)} trials" if len(p.objectives) > 1
             else f"{p.strategy}: best of {len(o.trials)} trials")
    table = Table(title=title, title_justify="left")
    table.add_column("trial", justify="right")
    for param in p.params:
        table.add_column(param.name, justify="right")
    for obj in p.objectives:
        table.add_column(f"{obj.label} {'↑' if obj.direction == 'maximize' else '↓'}", justify="right")
    for c in p.constraints:
        table.add_column(c.metric, justify="right")
    rows = sorted(o.front, key=lambda t: t.values[0], reverse=p.objectives[0].direction == "maximize")
    for t in rows[:20]:  # 4 significant digits to read; the CSV files keep full precision
        table.add_row(f"{t.number}{' *' if t.number == chosen else ''}",
                      *[f"{t.params.get(x.name, ''):.4g}" if isinstance(t.params.get(x.name), float)
                        else str(t.params.get(x.name, '')) for x in p.params],
                      *[f"{v:.4g}" for v in t.values],
                      *[f"{t.metrics.get(c.metric, math.nan):.4g}" for c in p.constraints])
    console.print(table)
    if len(rows) > 20:
        console.print(f"… {len(rows) - 20} more in pareto.csv")
    if report.split_ns is not None and report.walk_forward:
        wf = Table(title="walk-forward: in-sample | out-of-sample", title_justify="left")
        wf.add_column("trial", justify="right")
        metrics = list(dict.fromkeys([x.metric for x in p.objectives] + ["pnl", "sharpe_ratio", "max_drawdown",
                                                                          "fills"]))
        metrics = [m for m in metrics if any(m in r.in_sample for r in report.walk_forward)]
        for m in metrics:
            wf.add_column(f"{m} IS", justify="right")
            wf.add_column(f"{m} OOS", justify="right")
        for r in report.walk_forward[:20]:
            cells = []
            for m in metrics:
                cells += [f"{r.in_sample.get(m, math.nan):.4g}", f"{r.out_of_sample.get(m, math.nan):.4g}"]
            wf.add_row(f"{r.number}{' *' if r.number == chosen else ''}", *cells)
        console.print(wf)
    if o.chosen is not None:
        console.print(f"chosen: trial {o.chosen.number} (* above): "
                      + ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                                  for k, v in o.chosen.params.items()))


__all__ = ["CHOICE_RULE", "Report", "WalkForwardRow", "best_params_yaml", "render_table", "summary_json",
           "trials_csv", "walk_forward_csv", "write_outputs"]
