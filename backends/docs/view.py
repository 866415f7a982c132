"""The docs backend's view model: tables ready to print."""

from __future__ import annotations

from dataclasses import dataclass

from hftc.ir.model import GROUP_HEADER_SIZE, MESSAGE_HEADER_SIZE, VAR_DATA_LENGTH_SIZE, Field, Group, Message, Schema


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
        parts.append("enum " + ", ".join(f"{v.name}={v.value}" for v in t.values))
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


def _rows(fields: tuple[Field, ...], ir: Schema) -> list[Row]:
    return [Row(str(f.offset), f.size, f.name, f.type, f.since_version, _notes(f, ir)) for f in fields]


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
        out.append(GroupView(path, g.block_length, _rows(g.fields, ir), [d.name for d in g.data], depth))
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
            "rows": _rows(m.fields, ir),
            "groups": _groups(m, m.name, ir, 1),
            "data": [f"{d.name} ({d.encoding}, uint32 length prefix)" for d in m.data],
            "role": _role_line(m),
        })
    return {
        "ir": ir,
        "header_size": MESSAGE_HEADER_SIZE,
        "group_header_size": GROUP_HEADER_SIZE,
        "var_length_size": VAR_DATA_LENGTH_SIZE,
        "messages": messages,
        "components": ir.components,
        "pipelines": ir.pipelines,
        "strategies": ir.strategies,
        "deployments": ir.deployments,
        "monitoring": ir.monitoring,
        "types": ir.types,
    }
