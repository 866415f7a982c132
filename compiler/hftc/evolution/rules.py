"""The breaking-change rules, applied to the IR of an old and a new schema.

A rule belongs to one category: `wire` (bytes an old peer writes or reads would be misread) or
`source` (the bytes still agree, but generated code that compiled against the old schema will not).
Items are matched by name; a message missing by name is matched by its template id, so a rename
is a source break and not a removal. Every diagnostic points at NEW (or at the enclosing item of
NEW when the thing is gone) and carries a note at OLD's line.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Callable, Iterable, Mapping, Sequence

from hftc.diagnostics.model import Diagnostic, Label, Span, error
from hftc.ir.model import Field, Group, Message, Schema, TypeDef, VarData

WIRE = "wire"
SOURCE = "source"
CATEGORIES = (WIRE, SOURCE)

# code -> category; the explanations live with every other code in hftc.diagnostics.codes
RULES: dict[str, str] = {
    "HFT0710": WIRE,    # message removed
    "HFT0711": WIRE,    # template id or schema id changed
    "HFT0712": WIRE,    # field removed
    "HFT0713": WIRE,    # field moved (reordered or offset changed)
    "HFT0714": WIRE,    # field type, size or presence changed
    "HFT0715": WIRE,    # type definition changed (size, encoding, exponent, length, layout)
    "HFT0716": WIRE,    # enum value or bitset choice removed or renumbered
    "HFT0717": WIRE,    # since_version misuse
    "HFT0718": WIRE,    # group or var-data removed, reordered or inserted before old ones
    "HFT0719": WIRE,    # schema version not bumped (or lowered) although the wire changed
    "HFT0720": SOURCE,  # renamed message, field, group, var-data or enum value
    "HFT0721": SOURCE,  # removed or renamed type, package renamed, var-data encoding changed
    "HFT0722": WIRE,    # byte order, message header, group size or var-data length encoding changed
}

SpanMap = Callable[[Span | None], Span | None]


@dataclass
class _Diff:
    old: Schema
    new: Schema
    old_span: SpanMap
    categories: frozenset[str]
    old_name: str
    new_anchors: dict[str, Span]
    old_anchors: dict[str, Span]
    out: list[Diagnostic] = dc_field(default_factory=list)
    wire_additions: list[str] = dc_field(default_factory=list)  # compatible changes that still need a version

    def report(self, code: str, message: str, new_span: Span | None, old_span: Span | None,
               old_label: str, label: str = "", help: str | None = None) -> None:
        if RULES[code] not in self.categories:
            return
        old = self.old_span(old_span)
        secondary = (Label(old, old_label),) if old is not None else ()
        notes = (f"rule category: {RULES[code]}",)
        self.out.append(error(code, message, new_span or old, label=label, secondary=secondary if new_span else (),
                              notes=notes, help=help))


def _by_name(items: Iterable) -> dict:
    return {item.name: item for item in items}


def _type_desc(f: Field) -> str:
    return f"{f.type} ({f.size} byte{'s' if f.size != 1 else ''})"


def presence(f: Field) -> str:
    return f"optional, null {f.null_value}" if f.optional else "required"


def _same_shape(a: Field, b: Field) -> bool:
    return a.type == b.type and a.size == b.size and a.offset == b.offset


def _check_fields(d: _Diff, where: str, old_fields: Sequence[Field], new_fields: Sequence[Field],
                  new_owner_span: Span | None) -> None:
    old_map, new_map = _by_name(old_fields), _by_name(new_fields)
    added = [f for f in new_fields if f.name not in old_map]
    renamed_to: dict[str, Field] = {}
    for f in old_fields:
        if f.name in new_map:
            continue
        twin = next((n for n in added if _same_shape(n, f) and all(n is not v for v in renamed_to.values())), None)
        if twin is not None:
            renamed_to[f.name] = twin
            d.report("HFT0720", f"field `{f.name}` of {where} renamed to `{twin.name}`", twin.span, f.span,
                     f"was `{f.name}` in {d.old_name}", label="renamed",
                     help="the bytes agree, but code using the old accessor no longer compiles")
            continue
        d.report("HFT0712", f"field `{f.name}` of {where} removed", new_owner_span, f.span,
                 f"`{f.name}` ({_type_desc(f)}, offset {f.offset}) in {d.old_name}",
                 label=f"`{f.name}` is missing here",
                 help=f"keep the field and mark it `deprecated: {d.new.version}`; old peers still read its bytes")
    renamed_new = {n.name for n in renamed_to.values()}
    for f in old_fields:
        n = new_map.get(f.name)
        if n is None:
            continue
        if n.type != f.type or n.size != f.size or n.kind != f.kind:
            d.report("HFT0714", f"field `{f.name}` of {where} changed type from {_type_desc(f)} to {_type_desc(n)}",
                     n.span, f.span, f"{_type_desc(f)} in {d.old_name}", label=f"now {n.type}",
                     help="add a new field with the new type (and a higher since_version) and deprecate this one")
        elif n.optional != f.optional or n.null_value != f.null_value:
            d.report("HFT0714", f"field `{f.name}` of {where} changed presence from {presence(f)} to {presence(n)}",
                     n.span, f.span, f"{presence(f)} in {d.old_name}", label="presence changed",
                     help="a reader would take a value for 'absent' or 'absent' for a value")
        if n.offset != f.offset:
            d.report("HFT0713", f"field `{f.name}` of {where} moved from offset {f.offset} to {n.offset}",
                     n.span, f.span, f"at offset {f.offset} in {d.old_name}", label=f"now at offset {n.offset}",
                     help="keep existing fields in place; append new fields at the end with a since_version")
        if n.since_version != f.since_version:
            d.report("HFT0717", f"since_version of field `{f.name}` of {where} changed from {f.since_version} "
                     f"to {n.since_version}", n.span, f.span, f"since_version {f.since_version} in {d.old_name}",
                     label="changed", help="the version that introduced a field is history; leave it as it was")
    for n in added:
        if n.name in renamed_new:
            continue
        d.wire_additions.append(f"field `{n.name}` of {where}")
        if n.since_version <= d.old.version:
            d.report("HFT0717", f"new field `{n.name}` of {where} has since_version {n.since_version}, not above "
                     f"the old schema version {d.old.version}", n.span, None, "",
                     label="added without a new since_version",
                     help=f"write `since_version: {d.old.version + 1}` and bump the schema `version:` to at least "
                          f"{d.old.version + 1}, so decoders of version {d.old.version} know to skip it")


def _check_sequence(d: _Diff, what: str, where: str, old_items: Sequence, new_items: Sequence,
                    new_owner_span: Span | None, compare_one: Callable) -> None:
    """Groups and var-data: their order on the wire is their order in the schema."""
    old_map, new_map = _by_name(old_items), _by_name(new_items)
    old_names = [i.name for i in old_items]
    kept_new_order = [i.name for i in new_items if i.name in old_map]
    new_names = [i.name for i in new_items]
    added = [i for i in new_items if i.name not in old_map]
    removed = [i for i in old_items if i.name not in new_map]
    # one removed and one added in the same place, with the same shape: a rename
    renames = {}
    if len(removed) == len(added):
        for o, n in zip(removed, added):
            if old_names.index(o.name) == new_names.index(n.name) and _same_item(o, n):
                renames[o.name] = n
    for o in removed:
        if o.name in renames:
            n = renames[o.name]
            d.report("HFT0720", f"{what} `{o.name}` of {where} renamed to `{n.name}`", n.span, o.span,
                     f"was `{o.name}` in {d.old_name}", label="renamed",
                     help="the bytes agree, but code using the old name no longer compiles")
            compare_one(o, n)
            continue
        d.report("HFT0718", f"{what} `{o.name}` of {where} removed", new_owner_span, o.span,
                 f"`{o.name}` in {d.old_name}", label=f"`{o.name}` is missing here",
                 help="old peers still write and read it; keep it (deprecated) instead")
    kept_old_order = [name for name in old_names if name in new_map]
    if kept_new_order != kept_old_order:
        for name, expected in zip(kept_new_order, kept_old_order):
            if name != expected:
                d.report("HFT0718", f"{what} of {where} reordered: `{name}` moved", new_map[name].span,
                         old_map[name].span, f"position {old_names.index(name) + 1} in {d.old_name}",
                         label=f"now at position {new_names.index(name) + 1}",
                         help=f"{what}s follow one another on the wire in schema order; append new ones at the end")
                break
    for n in added:
        if n.name in {x.name for x in renames.values()}:
            continue
        position = new_names.index(n.name)
        later_old = [x for x in new_names[position + 1:] if x in old_map]
        if later_old:
            d.report("HFT0718", f"new {what} `{n.name}` of {where} inserted before `{later_old[0]}`", n.span,
                     old_map[later_old[0]].span, f"`{later_old[0]}` in {d.old_name}",
                     label="inserted before an existing one",
                     help=f"append new {what}s after the existing ones")
        d.wire_additions.append(f"{what} `{n.name}` of {where}")
        if n.since_version <= d.old.version:
            d.report("HFT0717", f"new {what} `{n.name}` of {where} has since_version {n.since_version}, not above "
                     f"the old schema version {d.old.version}", n.span, None, "",
                     label="added without a new since_version",
                     help=f"write `since_version: {d.old.version + 1}` and bump the schema `version:`")
    for name in old_names:
        if name in new_map:
            compare_one(old_map[name], new_map[name])


def _same_item(o, n) -> bool:
    if isinstance(o, VarData):
        return o.encoding == n.encoding
    return [(f.type, f.offset) for f in o.fields] == [(f.type, f.offset) for f in n.fields]


def _check_data(d: _Diff, where: str, o: VarData, n: VarData) -> None:
    if o.encoding != n.encoding:
        d.report("HFT0721", f"var-data `{o.name}` of {where} changed encoding from {o.encoding} to {n.encoding}",
                 n.span, o.span, f"{o.encoding} in {d.old_name}", label=f"now {n.encoding}",
                 help="the length-prefixed bytes agree, but the generated accessors change type (text vs bytes)")
    if o.since_version != n.since_version:
        d.report("HFT0717", f"since_version of var-data `{o.name}` of {where} changed from {o.since_version} to "
                 f"{n.since_version}", n.span, o.span, f"since_version {o.since_version} in {d.old_name}",
                 label="changed")


def _check_body(d: _Diff, kind: str, path: str, o: Message | Group, n: Message | Group) -> None:
    """A message's or group's fields, then its groups (recursively), then its var-data; `path` is
    `Message` or `Message.group.subgroup`."""
    where = f"{kind} `{path}`"
    _check_fields(d, where, o.fields, n.fields, n.span)
    if n.groups and o.data:
        first_new = next((g for g in n.groups if g.name not in {x.name for x in o.groups}), None)
        if first_new is not None:
            d.report("HFT0718", f"new group `{first_new.name}` of {where} is placed before its var-data on the wire",
                     first_new.span, o.data[0].span, f"var-data `{o.data[0].name}` in {d.old_name}",
                     label="old decoders read these bytes as var-data",
                     help="groups precede var-data on the wire; add a new message instead, or add var-data only")
    _check_sequence(d, "group", where, o.groups, n.groups, n.span,
                    lambda og, ng: _check_group(d, f"{path}.{ng.name}", og, ng))
    _check_sequence(d, "var-data", where, o.data, n.data, n.span,
                    lambda od, nd: _check_data(d, where, od, nd))


def _check_group(d: _Diff, path: str, o: Group, n: Group) -> None:
    if o.since_version != n.since_version:
        d.report("HFT0717", f"since_version of group `{path}` changed from {o.since_version} to {n.since_version}",
                 n.span, o.span, f"since_version {o.since_version} in {d.old_name}", label="changed")
    _check_body(d, "group", path, o, n)


def _check_messages(d: _Diff) -> None:
    old_map, new_map = _by_name(d.old.messages), _by_name(d.new.messages)
    new_by_id = {m.id: m for m in d.new.messages}
    for o in d.old.messages:
        n = new_map.get(o.name)
        if n is None:
            twin = new_by_id.get(o.id)
            if twin is not None and twin.name not in old_map:
                d.report("HFT0720", f"message `{o.name}` renamed to `{twin.name}`", twin.span, o.span,
                         f"`{o.name}` (id {o.id}) in {d.old_name}", label="renamed",
                         help="the template id still matches, but generated classes change name")
                _compare_message(d, o, twin)
                continue
            d.report("HFT0710", f"message `{o.name}` (id {o.id}) removed", _anchor(d, "messages"), o.span,
                     f"`{o.name}` in {d.old_name}", label=f"`{o.name}` is missing from this schema",
                     help=f"keep it and mark it `deprecated: {d.new.version}`; old peers still send id {o.id}")
            continue
        _compare_message(d, o, n)
    renamed = {new_by_id[o.id].name for o in d.old.messages if o.name not in new_map and o.id in new_by_id}
    for n in d.new.messages:
        if n.name not in old_map and n.name not in renamed:
            d.wire_additions.append(f"message `{n.name}`")


def _compare_message(d: _Diff, o: Message, n: Message) -> None:
    if o.id != n.id:
        d.report("HFT0711", f"template id of message `{n.name}` changed from {o.id} to {n.id}", n.span, o.span,
                 f"id {o.id} in {d.old_name}", label=f"now id {n.id}",
                 help="peers dispatch on the template id; keep the old id")
    if o.since_version != n.since_version:
        d.report("HFT0717", f"since_version of message `{n.name}` changed from {o.since_version} to "
                 f"{n.since_version}", n.span, o.span, f"since_version {o.since_version} in {d.old_name}",
                 label="changed")
    _check_body(d, "message", n.name, o, n)


def _type_shape(t: TypeDef) -> list[tuple[str, object]]:
    """(what, value) pairs that define a type's bytes and their meaning."""
    return [("kind", t.kind), ("encoding", t.encoding), ("size", t.size), ("exponent", t.exponent),
            ("length", t.length), ("element type", t.element)]


def _check_types(d: _Diff) -> None:
    new_map = _by_name(d.new.types)
    new_names = set(new_map)
    for o in d.old.types:
        n = new_map.get(o.name)
        if n is None:
            twin = next((t for t in d.new.types if t.name not in _by_name(d.old.types) and _same_type(o, t)), None)
            if twin is not None:
                d.report("HFT0721", f"type `{o.name}` renamed to `{twin.name}`", twin.span, o.span,
                         f"`{o.name}` in {d.old_name}", label="renamed",
                         help="the bytes agree, but generated code naming the old type no longer compiles")
                new_names.discard(twin.name)
            else:
                d.report("HFT0721", f"type `{o.name}` removed", _anchor(d, "types"), o.span,
                         f"`{o.name}` in {d.old_name}", label=f"`{o.name}` is missing from this schema",
                         help="generated code that names the type no longer compiles")
            continue
        for (what, old_value), (_, new_value) in zip(_type_shape(o), _type_shape(n)):
            if old_value != new_value:
                d.report("HFT0715", f"{what} of type `{o.name}` changed from {old_value} to {new_value}", n.span,
                         o.span, f"{what} {old_value} in {d.old_name}", label=f"{what} now {new_value}",
                         help="every field of this type is read differently; define a new type instead")
                break
        else:
            if o.kind == "composite":
                _check_fields(d, f"composite `{o.name}`", o.fields, n.fields, n.span)
            _check_values(d, o, n)


def _same_type(o: TypeDef, n: TypeDef) -> bool:
    return [s[1] for s in _type_shape(o)] == [s[1] for s in _type_shape(n)] and \
        [(v.name, v.value) for v in o.values] == [(v.name, v.value) for v in n.values] and \
        [(c.name, c.bit) for c in o.choices] == [(c.name, c.bit) for c in n.choices] and \
        [(f.type, f.offset) for f in o.fields] == [(f.type, f.offset) for f in n.fields]


def _check_values(d: _Diff, o: TypeDef, n: TypeDef) -> None:
    for what, old_items, new_items, number in (("value", o.values, n.values, lambda v: v.value),
                                               ("choice", o.choices, n.choices, lambda c: c.bit)):
        new_map = _by_name(new_items)
        new_by_number = {number(x): x for x in new_items}
        old_names = {x.name for x in old_items}
        unit = "value" if what == "value" else "bit"
        for x in old_items:
            y = new_map.get(x.name)
            if y is None:
                twin = new_by_number.get(number(x))
                if twin is not None and twin.name not in old_names:
                    d.report("HFT0720", f"{what} `{x.name}` of `{o.name}` renamed to `{twin.name}`", twin.span, x.span,
                             f"`{x.name}` = {number(x)} in {d.old_name}", label="renamed",
                             help="the number on the wire agrees, but code naming the old constant no longer compiles")
                    continue
                d.report("HFT0716", f"{what} `{x.name}` ({unit} {number(x)}) of `{o.name}` removed", n.span, x.span,
                         f"`{x.name}` = {number(x)} in {d.old_name}", label=f"`{x.name}` is missing here",
                         help=f"old peers still send {unit} {number(x)}; keep it")
            elif number(y) != number(x):
                d.report("HFT0716", f"{what} `{x.name}` of `{o.name}` renumbered from {number(x)} to {number(y)}",
                         y.span, x.span, f"{unit} {number(x)} in {d.old_name}", label=f"now {number(y)}",
                         help=f"the {unit} is what goes on the wire; an old peer's {number(x)} now means something "
                              "else or nothing")


def _anchor(d: _Diff, key: str) -> Span | None:
    """Where in NEW to point for a thing that is gone or a schema-level value: the section's key."""
    return d.new_anchors.get(key) or d.new_anchors.get("")


_FRAMING = (("byte_order", "byte order"), ("block_length", "header block_length"), ("template_id", "header template_id"),
            ("schema_id", "header schema_id"), ("version", "header version"),
            ("group_block_length", "group size block_length"), ("group_count", "group size count"),
            ("var_data_length", "var-data length"))


def _check_framing(d: _Diff) -> None:
    """Every byte of every message depends on the framing: any change of it is a wire break."""
    o, n = d.old.wire, d.new.wire
    changed = [f"{label} {getattr(o, attr)} -> {getattr(n, attr)}" for attr, label in _FRAMING
               if getattr(o, attr) != getattr(n, attr)]
    if not changed:
        return
    where = _anchor(d, "encoding" if o.byte_order == n.byte_order else "byte_order") or _anchor(d, "encoding")
    d.report("HFT0722", f"the message framing changed: {', '.join(changed)}", n.span or where,
             o.span or d.old_anchors.get("encoding") or d.old_anchors.get("byte_order"),
             f"the framing of {d.old_name}",
             help="peers framing messages the old way misread every message; keep `byte_order` and `encoding`, "
                  "or move to a new schema_id")


def _check_schema(d: _Diff) -> None:
    old_at = d.old_anchors.get
    _check_framing(d)
    if d.old.schema_id != d.new.schema_id:
        d.report("HFT0711", f"schema_id changed from {d.old.schema_id} to {d.new.schema_id}",
                 _anchor(d, "schema_id"), old_at("schema_id"), f"schema_id {d.old.schema_id} in "
                 f"{d.old_name}", help="every message header carries the schema id; peers reject the other one")
    if d.old.package != d.new.package:
        d.report("HFT0721", f"package renamed from `{d.old.package}` to `{d.new.package}`",
                 _anchor(d, "package"), old_at("package"), f"`{d.old.package}` in {d.old_name}",
                 help="generated namespaces, crates and Python packages change name")
    if d.new.version < d.old.version:
        d.report("HFT0719", f"schema version lowered from {d.old.version} to {d.new.version}",
                 _anchor(d, "version"), old_at("version"), f"version {d.old.version} in {d.old_name}",
                 help="versions only grow; decoders compare them to pick the fields they know")
    elif d.wire_additions and d.new.version == d.old.version:
        shown = ", ".join(d.wire_additions[:3]) + (f" and {len(d.wire_additions) - 3} more"
                                                   if len(d.wire_additions) > 3 else "")
        d.report("HFT0719", f"the wire changed ({shown} added) but the schema version is still {d.new.version}",
                 _anchor(d, "version"), old_at("version"), f"version {d.old.version} in {d.old_name}",
                 label="not bumped", help=f"write `version: {d.old.version + 1}`")


def compare(old: Schema, new: Schema, *, categories: Iterable[str] = CATEGORIES, old_name: str = "the old schema",
            old_span: SpanMap = lambda s: s, new_anchors: Mapping[str, Span] | None = None,
            old_anchors: Mapping[str, Span] | None = None) -> list[Diagnostic]:
    """Every breaking difference from `old` to `new` in the selected rule categories.

    `old_span` maps OLD's spans to the names shown (e.g. `main:path`); the anchors are the spans of
    top-level keys (`version`, `schema_id`, `package`, `messages`, `types`, and "" for the file)."""
    d = _Diff(old, new, old_span, frozenset(categories), old_name, dict(new_anchors or {}),
              {k: v for k, v in (old_anchors or {}).items()})
    _check_types(d)
    _check_messages(d)
    _check_schema(d)
    return d.out
