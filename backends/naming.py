"""Schema names under one target language's spelling, for backends that name their types and
messages after the schema's (a keyword becomes `new_` in C++, `lambda_` in Python, `Self_` in
Rust). The wire never depends on names, so a renamed schema encodes the same bytes."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from hftc.ir.model import Field, Group, Schema


def name_clashes(ir: Schema, spell: Callable[[str], str], language: str) -> list[str]:
    """Types, or messages, that `spell` gives the same name: the backend cannot tell them apart."""
    problems = []
    for what, names in (("type", [t.name for t in ir.types]), ("message", [m.name for m in ir.messages])):
        seen: dict[str, str] = {}
        for name in names:
            other = seen.setdefault(spell(name), name)
            if other != name:
                problems.append(f"{what}s `{other}` and `{name}` are both `{spell(name)}` in {language}")
    return problems


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
