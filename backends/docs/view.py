"""The docs backend's view model: tables ready to print."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hftc.ir.model import (
    Constant,
    Field,
    Group,
    Message,
    Schema,
    TypeDef,
)


@dataclass(frozen=True)
class Row:
    offset: str
    size: int
    name: str
    type: str
    since: int
    notes: str


def _notes(f: Field, ir: Schema) -> str:
    parts = []
    t = ir.type_named(f.type)
    if t is not None and t.kind == "decimal":
        parts.append(f"decimal {t.encoding} × 10^{t.exponent}")
    elif t is not None and t.kind == "enum":
        parts.append(("char enum " if t.char_values else "enum ") + _values(t))
    elif t is not None and t.kind == "set":
        parts.append("bits " + ", ".join(f"{c.name}={c.bit}" for c in t.choices))
    elif t is not None and t.kind == "char":
        parts.append(f"char[{t.length}]")
    if f.unit:
        parts.append(f"unit {f.unit}")
    if f.optional:
        parts.append(f"optional, null = {f.null_value if f.null_value is not None else 'NaN'}")
    if f.deprecated is not None:
        parts.append(f"deprecated since v{f.deprecated}")
    if f.description:
        parts.append(f.description)
    return "; ".join(parts).replace("|", "\\|")


def _values(t: TypeDef) -> str:
    """`name=value, ...`; a char enum's values as the characters (`new='0'`)."""
    return ", ".join(f"{v.name}={chr(v.value)!r}" if t.char_values else f"{v.name}={v.value}" for v in t.values)


def _definition(t: TypeDef) -> str:
    """The definition column of the types table."""
    if t.kind == "decimal":
        return f"{t.encoding} × 10^{t.exponent}"
    if t.kind == "enum":
        return ("char" if t.char_values else str(t.encoding)) + ": " + _values(t)
    if t.kind == "set":
        return f"{t.encoding} bits: " + ", ".join(f"{c.name}={c.bit}" for c in t.choices)
    if t.kind == "char":
        return f"char[{t.length}]"
    if t.kind == "array":
        return f"{t.element}[{t.length}]"
    return ", ".join(f"{f.name}: {f.type}" for f in t.fields)


def _constant_text(c: Constant, ir: Schema) -> str:
    t = ir.type_named(c.type)
    if c.type == "char":
        return repr(chr(int(c.value)))
    if t is not None and t.kind == "enum":
        return f"{c.value_name} ({chr(int(c.value))!r})" if t.char_values else f"{c.value_name} ({c.value})"
    if t is not None and t.kind == "decimal":
        return str(Decimal(int(c.value)).scaleb(t.exponent))
    return repr(c.value) if isinstance(c.value, str) else str(c.value)


def _rows(fields: tuple[Field, ...], ir: Schema, constants: tuple[Constant, ...] = ()) -> list[Row]:
    rows = [Row(str(f.offset), f.size, f.name, f.type, f.since_version, _notes(f, ir)) for f in fields]
    for c in constants:
        notes = f"constant = {_constant_text(c, ir)}, not on the wire" + (f"; {c.description}" if c.description else "")
        rows.append(Row("—", 0, c.name, c.type, 0, notes.replace("|", "\\|")))
    return rows


@dataclass(frozen=True)
class GroupView:
    path: str
    block_length: int
    rows: list[Row]
    data: list[str]
    depth: int


def _groups(owner: Message | Group, prefix: str, ir: Schema, depth: int) -> list[GroupView]:
    out = []
    for g in owner.groups:
        path = f"{prefix}.{g.name}"
        out.append(GroupView(path, g.block_length, _rows(g.fields, ir, g.constants), [d.name for d in g.data], depth))
        out.extend(_groups(g, path, ir, depth + 1))
    return out


def _role_line(m: Message) -> str:
    """`Role: bbo (declared); bid_price = best_bid, ...`, or "" for a message with no feed role."""
    if m.role is None:
        return ""
    fields = ", ".join(f"{r} = `{f}`" for r, f in m.field_roles)
    how = "declared" if m.role_declared else "inferred from field names"
    return f"Role: `{m.role}` ({how})" + (f"; {fields}" if fields else "") + "."


def build_view(ir: Schema) -> dict:
    messages = []
    for m in ir.messages:
        messages.append({
            "m": m,
            "rows": _rows(m.fields, ir, m.constants),
            "groups": _groups(m, m.name, ir, 1),
            "data": [f"{d.name} ({d.encoding}, {ir.wire.var_data_length} length prefix)" for d in m.data],
            "role": _role_line(m),
        })
    return {
        "ir": ir,
        "header_size": ir.wire.header_size,
        "group_header_size": ir.wire.group_header_size,
        "var_length_size": ir.wire.var_length_size,
        "messages": messages,
        "components": ir.components,
        "pipelines": ir.pipelines,
        "strategies": ir.strategies,
        "deployments": ir.deployments,
        "monitoring": ir.monitoring,
        "types": ir.types,
        "type_rows": [(t, _definition(t).replace("|", "\\|")) for t in ir.types],
    }
