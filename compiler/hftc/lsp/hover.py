"""Hover: what a key means (from the schema language's own descriptions) and what the compiler made
of it: a field's type, byte offset and size, a message's size, a type's encoding, an expression's type."""

from __future__ import annotations

from hftc.ir import model as ir
from hftc.lsp.analysis import Analysis
from hftc.lsp.schema_info import field_info, primitive_names


def _find(items, name: str):
    return next((x for x in items if x.name == name), None)


def _type_text(t: ir.TypeDef) -> str:
    parts = [f"**type `{t.name}`** — {t.kind}"]
    if t.encoding:
        parts.append(f"encoding `{t.encoding}`")
    if t.kind == "decimal":
        parts.append(f"exponent {t.exponent}")
    parts.append(f"{t.size} byte{'s' if t.size != 1 else ''}")
    text = ", ".join(parts)
    if t.values:
        text += "\n\nvalues: " + ", ".join(f"`{v.name}` = {v.value}" for v in t.values)
    if t.choices:
        text += "\n\nchoices: " + ", ".join(f"`{c.name}` (bit {c.bit})" for c in t.choices)
    if t.fields:
        text += "\n\n" + "\n".join(f"- `{f.name}`: `{f.type}` at offset {f.offset}, {f.size} B" for f in t.fields)
    return text + (f"\n\n{t.description}" if t.description else "")


def _type_or_primitive(schema: ir.Schema, name: str) -> str | None:
    t = _find(schema.types, name)
    if t is not None:
        return _type_text(t)
    info = ir.PRIMITIVES.get(name)
    if info is not None:
        return f"**`{name}`** — primitive, {info.size} byte{'s' if info.size != 1 else ''}"
    return None


def _field_text(owner: str, f: ir.Field) -> str:
    text = f"**field `{owner}.{f.name}`**: `{f.type}` ({f.kind})\n\noffset {f.offset}, size {f.size} B"
    if f.since_version:
        text += f", since version {f.since_version}"
    if f.optional:
        text += ", optional"
    if f.unit:
        text += f", unit {f.unit}"
    return text + (f"\n\n{f.description}" if f.description else "")


def _message_text(m: ir.Message, header_size: int) -> str:
    total = header_size + m.block_length
    text = (f"**message `{m.name}`** (template id {m.id})\n\nblock length {m.block_length} B; "
            f"{total} B on the wire with the {header_size} B header")
    if m.groups or m.data:
        text += ", plus its repeating groups and var-data"
    text += f"\n\n{len(m.fields)} field{'s' if len(m.fields) != 1 else ''}"
    return text + (f"\n\n{m.description}" if m.description else "")


def _group(owner: ir.Message | ir.Group, path: tuple) -> ir.Message | ir.Group | None:
    """Follow `groups.<name>` steps from a message."""
    while len(path) >= 2 and path[0] == "groups":
        owner = _find(owner.groups, path[1])
        if owner is None:
            return None
        path = path[2:]
    return owner


def _messages_hover(schema: ir.Schema, path: tuple, on_key: bool, value) -> str | None:
    m = _find(schema.messages, path[1])
    if m is None:
        return None
    if len(path) == 2:
        return _message_text(m, schema.wire.header_size)
    # messages.M[.groups.G]*.fields.F[.type]
    rest = path[2:]
    cut = len(rest)
    for i in range(len(rest)):
        if rest[i] == "fields":
            cut = i
            break
    owner = _group(m, rest[:cut])
    if owner is None:
        return None
    if cut == len(rest) and rest[-2:-1] == ("groups",) and on_key:
        g = owner
        return (f"**group `{g.name}`**: block length {g.block_length} B per entry, "
                f"{schema.wire.group_header_size} B group header" + (f"\n\n{g.description}" if g.description else ""))
    if cut + 1 < len(rest):
        f = _find(owner.fields, rest[cut + 1])
        if f is None:
            return None
        if not on_key and isinstance(value, str) and (len(rest) == cut + 2 or rest[cut + 2] == "type"):
            found = _type_or_primitive(schema, value)
            return _field_text(owner.name, f) + (f"\n\n---\n{found}" if found else "")
        return _field_text(owner.name, f)
    return None


def _expression_hover(schema: ir.Schema, path: tuple) -> str | None:
    s = _find(schema.strategies, path[1])
    checked = s.checked() if s is not None else None
    if checked is None:
        return None
    rest = path[2:]
    if len(rest) == 2 and rest[0] == "let":
        let = next((b for b in checked.lets if b.name == rest[1]), None)
        node_type = let.expr.type if let is not None else None
        what = f"let `{rest[1]}`"
    else:
        key = f"signal.{rest[1]}" if rest[:1] == ("signals",) and len(rest) == 2 else ".".join(map(str, rest))
        rule = next((r for r in checked.rules if r.key == key), None)
        node_type = rule.expr.type if rule is not None else None
        what = f"`{key}`"
    if node_type is None:
        return None
    return f"**expression** {what}: `{getattr(node_type, 'value', node_type)}`"


def _value_at(doc, path: tuple):
    value = doc.value
    for step in path:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            return None
    return value


def _template_hover(name: str) -> str | None:
    from hftc.frontend.templates import TemplateLibrary

    template = TemplateLibrary().get(name)
    if template is None:
        return None
    s = template.strategy
    params = "\n".join(f"- `{p.name}`: {p.type} in [{p.low}, {p.high}], default {p.default}"
                       + (f" — {p.description}" if p.description else "") for p in s.params)
    return f"**strategy template `{template.name}`**" + (f"\n\n{s.description}" if s.description else "") + \
        (f"\n\nparameters:\n{params}" if params else "")


def hover_text(analysis: Analysis, path: tuple, on_key: bool) -> str | None:
    doc, schema = analysis.doc, analysis.ir
    if doc is None or not path:
        return None
    value = _value_at(doc, path)
    parts: list[str] = []
    compiled = None
    if not on_key and isinstance(value, str) and path[-1] == "template":
        compiled = _template_hover(value)
    if compiled is None and schema is not None and len(path) >= 2:
        section = path[0]
        if section == "messages":
            compiled = _messages_hover(schema, path, on_key, value)
        elif section == "types" and len(path) == 2:
            t = _find(schema.types, path[1])
            compiled = _type_text(t) if t is not None else None
        elif section == "strategies" and len(path) >= 3 and not on_key:
            compiled = _expression_hover(schema, path)
        elif section == "components" and len(path) == 2:
            c = _find(schema.components, path[1])
            if c is not None:
                compiled = f"**component `{c.name}`** ({c.kind})" + \
                    (f", budget {c.budget_ns} ns" if c.budget_ns is not None else "")
        if compiled is None and not on_key and isinstance(value, str) and value in \
                {t.name for t in schema.types} | set(primitive_names()):
            compiled = _type_or_primitive(schema, value)
    if compiled:
        parts.append(compiled)
    described = field_info(doc.value, path)
    if described is not None and (on_key or not compiled):
        title, description, annotation = described
        parts.append(f"`{title}`: {annotation}\n\n{description}" if description else f"`{title}`: {annotation}")
    return "\n\n---\n\n".join(parts) if parts else None
