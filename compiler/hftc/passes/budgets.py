"""Latency budgets: the stages of a pipeline must fit its p99 target."""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic, Label, error, warning
from hftc.ir.model import Schema


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    out: list[Diagnostic] = []
    components = {c.name: c for c in ir.components}
    for p in ir.pipelines:
        staged = [components[s] for s in p.stages if s in components]
        budgeted = [c for c in staged if c.budget_ns is not None]
        total = sum(c.budget_ns or 0 for c in budgeted)
        if p.latency_p99_ns is None:
            if budgeted:
                out.append(warning("HFT0904", f"pipeline `{p.name}` has stage budgets but no latency target", p.span,
                                   label="no targets.latency_p99_ns",
                                   help=f"add `targets: {{latency_p99_ns: {total}}}` or more"))
            continue
        if total > p.latency_p99_ns:
            parts = " + ".join(f"{c.name} {c.budget_ns}" for c in budgeted)
            secondary = [Label(c.budget_span or c.span, f"`{c.name}` budgets {c.budget_ns} ns")
                         for c in budgeted if (c.budget_span or c.span)]
            out.append(error("HFT0402", f"stage budgets of `{p.name}` add up to {total} ns, over its "
                             f"{p.latency_p99_ns} ns target", p.target_span or p.span,
                             label=f"target {p.latency_p99_ns} ns", secondary=tuple(secondary),
                             notes=(f"{parts} = {total} ns",),
                             help="lower a stage budget or raise the pipeline target"))
    return ir, out
