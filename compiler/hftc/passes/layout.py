"""Compute sizes, alignments, field offsets and block lengths.

Fields are packed in declaration order, as SBE does; accessors use `memcpy`, so
unaligned offsets cost nothing on x86 and keep messages small. An explicit
`offset:` inserts padding before a field.
"""

from __future__ import annotations


from hftc.diagnostics.model import Diagnostic, error
from hftc.ir.model import PRIMITIVES, Field, Group, Message, Schema, TypeDef, evolve

MAX_BLOCK = 65535


class _Sizes:
    def __init__(self, types: tuple[TypeDef, ...]):
        self.types = {t.name: t for t in types}
        self.cache: dict[str, tuple[int, int]] = {}

    def size_align(self, name: str, depth: int = 0) -> tuple[int, int]:
        if name in PRIMITIVES:
            size = PRIMITIVES[name].size
            return size, size
        if name in self.cache:
            return self.cache[name]
        t = self.types.get(name)
        if t is None or depth > 64:
            return 0, 1  # unresolved or recursive: already reported
        if t.kind in ("decimal", "enum", "set"):
            result = self.size_align(t.encoding or "int64")
        elif t.kind == "char":
            result = (t.length, 1)
        elif t.kind == "array":
            size, align = self.size_align(t.element or "", depth + 1)
            result = (size * t.length, align)
        else:
            total, align = 0, 1
            for f in t.fields:
                s, a = self.size_align(f.type, depth + 1)
                total += s
                align = max(align, a)
            result = (total, align)
        self.cache[name] = result
        return result


def _place(fields: tuple[Field, ...], sizes: _Sizes, owner: str, out: list[Diagnostic]) -> tuple[tuple[Field, ...], int]:
    offset = 0
    placed = []
    for f in fields:
        size, _ = sizes.size_align(f.type)
        if f.offset >= 0:
            if f.offset < offset:
                out.append(error("HFT0311", f"offset {f.offset} of `{f.name}` overlaps the previous field", f.span,
                                 label=f"the previous field ends at {offset}", help=f"use offset {offset} or more"))
            else:
                offset = f.offset
        placed.append(evolve(f, offset=offset, size=size))
        offset += size
    if offset > MAX_BLOCK:
        span = fields[-1].span if fields else None
        out.append(error("HFT0310", f"block of `{owner}` is {offset} bytes, over {MAX_BLOCK}", span,
                         label="the block ends here"))
    return tuple(placed), offset


def _group(g: Group, sizes: _Sizes, owner: str, out: list[Diagnostic]) -> Group:
    fields, block = _place(g.fields, sizes, f"{owner}.{g.name}", out)
    groups = tuple(_group(s, sizes, f"{owner}.{g.name}", out) for s in g.groups)
    return evolve(g, fields=fields, block_length=block, groups=groups)


def _message(m: Message, sizes: _Sizes, out: list[Diagnostic]) -> Message:
    fields, block = _place(m.fields, sizes, m.name, out)
    groups = tuple(_group(g, sizes, m.name, out) for g in m.groups)
    return evolve(m, fields=fields, block_length=block, groups=groups)


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    out: list[Diagnostic] = []
    sizes = _Sizes(ir.types)
    types = []
    for t in ir.types:
        size, align = sizes.size_align(t.name)
        if t.kind == "composite":
            fields, _ = _place(t.fields, sizes, t.name, out)
            t = evolve(t, fields=fields)
        null = t.null_value
        if t.kind == "enum" and t.char_values:
            null = 0  # NUL, as SBE's char null
        elif t.kind in ("decimal", "enum"):
            null = PRIMITIVES[t.encoding or "int64"].null_value
        types.append(evolve(t, size=size, align=align, null_value=null))
    messages = tuple(_message(m, sizes, out) for m in ir.messages)
    return evolve(ir, types=tuple(types), messages=messages), out
