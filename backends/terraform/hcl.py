"""A small HCL writer whose output is already `terraform fmt` clean.

fmt's layout rules that matter here: two-space indentation; within a run of
consecutive one-line attributes the `=` signs line up one space after the
longest name; an attribute whose value spans lines (an object) stands alone
and its own keys are aligned inside it; blank lines and nested blocks end a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Raw:
    """An HCL expression written as is (`var.region`, `aws_vpc.main.id`)."""

    text: str


@dataclass
class Block:
    type: str
    labels: tuple[str, ...] = ()
    items: list = field(default_factory=list)
    doc: str = ""

    def attr(self, name: str, value: object) -> Block:
        self.items.append(Attr(name, value))
        return self

    def block(self, type_: str, *labels: str, doc: str = "") -> Block:
        b = Block(type_, labels, doc=doc)
        self.items.append(b)
        return b

    def blank(self) -> Block:
        self.items.append(BLANK)
        return self

    def comment(self, text: str) -> Block:
        self.items.append(Comment(text))
        return self


@dataclass(frozen=True)
class Attr:
    name: str
    value: object


@dataclass(frozen=True)
class Comment:
    text: str


BLANK = object()


def _key(name: str) -> str:
    return name if name.replace("_", "a").replace("-", "a").isalnum() and not name[0].isdigit() else json.dumps(name)


def expr(value: object, indent: int) -> str:
    """An HCL expression for a Python value; objects (dicts) become multi-line."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value).replace("${", "$${")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(expr(v, indent) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = "  " * (indent + 1)
        keys = [_key(k) for k in value]
        width = max(len(k) for k in keys)
        lines = [f"{pad}{k.ljust(width)} = {expr(v, indent + 1)}" for k, v in zip(keys, value.values())]
        return "{\n" + "\n".join(lines) + "\n" + "  " * indent + "}"
    raise TypeError(f"no HCL form for {type(value).__name__}")


def _render_items(items: list, indent: int) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        if run:
            width = max(len(k) for k, _ in run)
            out.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in run)
            run.clear()

    for item in items:
        if isinstance(item, Attr):
            text = expr(item.value, indent)
            if "\n" in text:
                flush()
                out.append(f"{pad}{_key(item.name)} = {text}")
            else:
                run.append((_key(item.name), text))
            continue
        flush()
        if item is BLANK:
            out.append("")
        elif isinstance(item, Comment):
            out.extend(f"{pad}# {line}".rstrip() for line in item.text.splitlines())
        elif isinstance(item, Block):
            out.extend(_render_block(item, indent))
    flush()
    return out


def _render_block(b: Block, indent: int) -> list[str]:
    pad = "  " * indent
    head = " ".join([b.type, *(json.dumps(label) for label in b.labels)])
    doc = [f"{pad}# {line}".rstrip() for line in b.doc.splitlines()]
    if not b.items:
        return [*doc, f"{pad}{head} {{}}"]
    return [*doc, f"{pad}{head} {{", *_render_items(b.items, indent + 1), f"{pad}}}"]


def render(items: list) -> str:
    """Top-level items (blocks and comments), blocks separated by a blank line."""
    chunks = []
    for item in items:
        if isinstance(item, Block):
            chunks.append("\n".join(_render_block(item, 0)))
        elif isinstance(item, Comment):
            chunks.append("\n".join(f"# {line}".rstrip() for line in item.text.splitlines()))
    return "\n\n".join(chunks) + "\n"
