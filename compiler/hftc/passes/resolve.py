"""Resolve names: types, messages, components, strategies, templates; duplicate ids."""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic, Label, did_you_mean, error
from hftc.ir.model import PRIMITIVES, Group, Message, Schema
from hftc.passes.walk import all_fields

KNOWN_TEMPLATES = ("market_making", "pairs_trading", "statistical_arbitrage")


def _unknown(what: str, name: str, candidates, span, label: str, extra: str = "") -> Diagnostic:
    hint = did_you_mean(name, candidates) or extra or None
    return error({"type": "HFT0301", "component": "HFT0401", "message": "HFT0406",
                  "strategy": "HFT0407", "template": "HFT0503"}[what],
                 f"unknown {what} `{name}`", span, label=label, help=hint)


def _members(owner: Message | Group, diagnostics: list[Diagnostic]) -> None:
    seen: dict[str, object] = {}
    for member in (*owner.fields, *owner.constants, *owner.groups, *owner.data):
        if member.name in seen:
            first = seen[member.name]
            diagnostics.append(error("HFT0308", f"`{member.name}` is defined twice in `{owner.name}`", member.span,
                                     label="defined again here",
                                     secondary=(Label(first, "first defined here"),) if first else ()))
        else:
            seen[member.name] = member.span
    for group in owner.groups:
        _members(group, diagnostics)


def _check_recursion(ir: Schema, diagnostics: list[Diagnostic]) -> None:
    composites = {t.name: t for t in ir.types if t.kind in ("composite", "array")}

    def deps(name: str) -> list[str]:
        t = composites[name]
        return [f.type for f in t.fields] + ([t.element] if t.element else [])

    state: dict[str, int] = {}

    def visit(name: str, chain: list[str]) -> None:
        state[name] = 1
        for dep in deps(name):
            if dep not in composites:
                continue
            if state.get(dep) == 1:
                cycle = " → ".join(chain[chain.index(dep):] + [dep]) if dep in chain else f"{name} → {dep}"
                diagnostics.append(error("HFT0307", f"type `{dep}` contains itself: {cycle}",
                                         composites[dep].span, label="recursive type"))
            elif dep not in state:
                visit(dep, chain + [dep])
        state[name] = 2

    for name in composites:
        if name not in state:
            visit(name, [name])


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    type_names = [*PRIMITIVES, *(t.name for t in ir.types)]
    for owner, f in all_fields(ir):
        if f.kind == "unresolved":
            diagnostics.append(_unknown("type", f.type, type_names, f.span, "not a primitive or a type under `types:`"))
    for t in ir.types:
        if t.kind == "array" and t.element not in type_names:
            diagnostics.append(_unknown("type", t.element or "", type_names, t.span, "array element type"))
    _check_recursion(ir, diagnostics)

    by_id: dict[int, Message] = {}
    for m in ir.messages:
        if m.id in by_id:
            first = by_id[m.id]
            diagnostics.append(error("HFT0302", f"message id {m.id} is used by `{first.name}` and `{m.name}`", m.span,
                                     label=f"`{m.name}` has id {m.id}",
                                     secondary=(Label(first.span, f"`{first.name}` has it first"),) if first.span else (),
                                     help=f"pick an unused id, e.g. {max(by_id) + 1}"))
        else:
            by_id[m.id] = m
        _members(m, diagnostics)

    messages = [m.name for m in ir.messages]
    components = [c.name for c in ir.components]
    strategies = [s.name for s in ir.strategies]
    for c in ir.components:
        for i, name in enumerate(c.inputs):
            if name not in messages:
                span = c.input_spans[i] if i < len(c.input_spans) else c.span
                diagnostics.append(_unknown("message", name, messages, span, f"`{c.name}` reads it"))
        if c.output and c.output not in messages:
            diagnostics.append(_unknown("message", c.output, messages, c.output_span or c.span, f"`{c.name}` writes it"))
        if c.strategy and c.strategy not in strategies:
            diagnostics.append(_unknown("strategy", c.strategy, strategies, c.strategy_span or c.span,
                                        "not under `strategies:`"))
    for p in ir.pipelines:
        seen: set[str] = set()
        for i, stage in enumerate(p.stages):
            span = p.stage_spans[i] if i < len(p.stage_spans) else p.span
            if stage not in components:
                diagnostics.append(_unknown("component", stage, components, span, "not under `components:`"))
            if stage in seen:
                diagnostics.append(error("HFT0409", f"stage `{stage}` is listed twice in `{p.name}`", span,
                                         label="listed again here"))
            seen.add(stage)
        for t in p.threads:
            if t.stage not in p.stages:
                hint = did_you_mean(t.stage, p.stages)
                diagnostics.append(error("HFT0403", f"thread for `{t.stage}`, which is not a stage of `{p.name}`",
                                         t.span, label="not a stage", help=hint))
    pipelines = [p.name for p in ir.pipelines]
    for d in ir.deployments:
        if d.pipeline is not None and d.pipeline not in pipelines:
            diagnostics.append(error("HFT0410", f"unknown pipeline `{d.pipeline}`", d.span,
                                     label=f"deployment `{d.name}` runs it",
                                     help=did_you_mean(d.pipeline, pipelines) or
                                     ("pipelines: " + ", ".join(pipelines) if pipelines else "define it under `pipelines:`")))
    for s in ir.strategies:
        if s.template and ir.document_kind == "schema" and s.template not in KNOWN_TEMPLATES:
            diagnostics.append(_unknown("template", s.template, KNOWN_TEMPLATES, s.span, "template",
                                        "templates: " + ", ".join(KNOWN_TEMPLATES)))
    return ir, diagnostics
