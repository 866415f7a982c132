"""Schema names under one target language's spelling, for backends that name their types and
messages after the schema's (a keyword becomes `new_` in C++, `lambda_` in Python, `Self_` in
Rust). The wire never depends on names, so a renamed schema encodes the same bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hftc.diagnostics.model import Diagnostic, error
from hftc.ir.model import Field, Group, Schema

Spell = Callable[[str], str]


def _scopes(ir: Schema, member: Spell, value: Spell):
    """(what, where, [(name, spelled, span)]) per namespace of generated names: the types, the
    messages, each message's and group's members, each enum's values, set's choices and
    composite's members."""

    def owner(kind: str, node) -> list:
        items = [*node.fields, *node.constants, *node.groups, *node.data]
        yield ("member", f"{kind} `{node.name}`", [(i.name, member(i.name), i.span) for i in items])
        for g in node.groups:
            yield from owner("group", g)

    for t in ir.types:
        yield ("value", f"type `{t.name}`", [(v.name, value(v.name), v.span) for v in (*t.values, *t.choices)])
        yield ("member", f"type `{t.name}`", [(f.name, member(f.name), f.span) for f in t.fields])
    for m in ir.messages:
        yield from owner("message", m)


def name_clashes(ir: Schema, spell: Spell, language: str, member: Spell | None = None,
                 value: Spell | None = None) -> tuple[Diagnostic, ...]:
    """HFT0809 for names that one language spells the same (`spell` for types and messages,
    `member` for fields, groups and var-data, `value` for enum values and set choices; each
    defaults to `spell`): the backend could not tell them apart."""
    member, value = member or spell, value or spell
    scopes = [("type", "the schema", [(t.name, spell(t.name), t.span) for t in ir.types]),
              ("message", "the schema", [(m.name, spell(m.name), m.span) for m in ir.messages]),
              *_scopes(ir, member, value)]
    out = []
    for what, where, names in scopes:
        seen: dict[str, str] = {}
        for name, spelled, span in names:
            other = seen.setdefault(spelled, name)
            if other != name:
                out.append(error("HFT0809", f"{what}s `{other}` and `{name}` of {where} are both `{spelled}` in "
                                 f"{language}", span, label="same name in generated code",
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
