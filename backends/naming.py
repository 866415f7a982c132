"""Schema names under one target language's spelling, for backends that name their types and
messages after the schema's (a keyword becomes `new_` in C++, `lambda_` in Python, `Self_` in
Rust). The wire never depends on names, so a renamed schema encodes the same bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hftc.diagnostics.model import Diagnostic, error
from hftc.ir.model import Field, Group, Schema


def name_clashes(ir: Schema, spell: Callable[[str], str], language: str) -> tuple[Diagnostic, ...]:
    """HFT0809 for types, or messages, that `spell` gives the same name: the backend could not
    tell them apart."""
    out = []
    for what, items in (("type", ir.types), ("message", ir.messages)):
        seen: dict[str, str] = {}
        for item in items:
            other = seen.setdefault(spell(item.name), item.name)
            if other != item.name:
                out.append(error("HFT0809", f"{what}s `{other}` and `{item.name}` are both `{spell(item.name)}` in "
                                 f"{language}", item.span, label="same name in generated code",
                                 help=f"rename one of the two {what}s"))
    return tuple(out)


def respelled(ir: Schema, spell: Callable[[str], str]) -> Schema:
    """The schema with its types and messages named `spell(name)` and every reference to a type
    renamed with them; the same object when no name changes (the usual case)."""
    names = {t.name: spell(t.name) for t in ir.types}
    if all(k == v for k, v in names.items()) and all(spell(m.name) == m.name for m in ir.messages):
        return ir

    def field(f: Field) -> Field:
        return replace(f, type=names.get(f.type, f.type))

    def constants(cs: tuple) -> tuple:
        return tuple(replace(c, type=names.get(c.type, c.type)) for c in cs)

    def group(g: Group) -> Group:
        return replace(g, fields=tuple(map(field, g.fields)), groups=tuple(map(group, g.groups)),
                       constants=constants(g.constants))

    types = tuple(replace(t, name=names[t.name], fields=tuple(map(field, t.fields)),
                          element=names.get(t.element, t.element) if t.element else t.element) for t in ir.types)
    messages = tuple(replace(m, name=spell(m.name), fields=tuple(map(field, m.fields)), groups=tuple(map(group, m.groups)),
                             constants=constants(m.constants))
                     for m in ir.messages)
    return replace(ir, types=types, messages=messages)
