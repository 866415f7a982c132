"""Warnings: unused definitions and naming conventions."""

from __future__ import annotations

import re

from hftc.diagnostics.model import Diagnostic, warning
from hftc.ir.model import Schema
from hftc.passes.walk import all_fields, groups_of

PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def _to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _to_pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    out: list[Diagnostic] = []
    if ir.document_kind != "schema":
        return ir, out
    used = {f.type for _, f in all_fields(ir)} | {t.element for t in ir.types if t.element}
    used |= {c.type for m in ir.messages for o in (m, *groups_of(m)) for c in o.constants}
    unresolved = any(f.kind == "unresolved" for _, f in all_fields(ir))
    # A schema without messages is a type library; with unresolved names, "unused" is noise.
    for t in ir.types if ir.messages and not unresolved else ():
        if t.name not in used:
            out.append(warning("HFT0901", f"type `{t.name}` is never used", t.span, label="unused",
                               help="use it in a message or remove it"))
    staged = {s for p in ir.pipelines for s in p.stages}
    for c in ir.components:
        if c.name not in staged and ir.pipelines:
            out.append(warning("HFT0902", f"component `{c.name}` is not in any pipeline", c.span, label="unused"))
    for kind, items in (("type", ir.types), ("message", ir.messages)):
        for item in items:
            if not PASCAL.match(item.name):
                out.append(warning("HFT0903", f"{kind} `{item.name}` is not PascalCase", item.span,
                                   label="naming", help=f"rename to `{_to_pascal(item.name)}`"))
    for kind, items in (("component", ir.components), ("pipeline", ir.pipelines), ("strategy", ir.strategies)):
        for item in items:
            if not SNAKE.match(item.name):
                out.append(warning("HFT0903", f"{kind} `{item.name}` is not snake_case", item.span,
                                   label="naming", help=f"rename to `{_to_snake(item.name)}`"))
    for owner, f in all_fields(ir):
        if not SNAKE.match(f.name):
            out.append(warning("HFT0903", f"field `{owner}.{f.name}` is not snake_case", f.span,
                               label="naming", help=f"rename to `{_to_snake(f.name)}`"))
    return ir, out
