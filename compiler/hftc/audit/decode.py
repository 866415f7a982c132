"""Schema messages in a journal, decoded from the IR alone (no generated code needed).

Field values are read with the reference codec of the cross-language vectors (`hftc.vectors`),
so `hftc audit` agrees with every backend on what the bytes mean. The order-entry roles
(`hftc.ir.roles`) say which message is an order, a cancel, an execution report, and which field
holds the side, price or quantity; the report and the reconciliation work from those.
Credentials (the `credentials` field role) are never shown, whatever the engine wrote.
"""

from __future__ import annotations

import struct
from decimal import Decimal
from typing import Any

from hftc.ir.model import Group, Message, Schema
from hftc.ir.roles import BUY_NAMES, SELL_NAMES
from hftc.vectors import Codec

REDACTED = "<redacted>"


class MessageDecoder:
    """Decodes the schema messages of one schema (checked against the journal's schema id)."""

    def __init__(self, ir: Schema):
        self.ir = ir
        self.codec = Codec(ir)
        self.by_id = {m.id: m for m in ir.messages}
        self.types = {t.name: t for t in ir.types}
        # The schema's framing (byte order, header, group size and var-data length encodings).
        self.header = struct.Struct(self.codec.header_format)
        self.group = struct.Struct(self.codec.group_format)
        self.length = struct.Struct(self.codec.length_format)

    def decode(self, data: bytes) -> dict[str, Any]:
        """{"message", "role", "values"} or {"error"}; never raises on bad bytes."""
        if len(data) < self.header.size:
            return {"error": f"message of {len(data)} bytes is shorter than its header"}
        block_length, template_id, schema_id, version = self.header.unpack_from(data)
        m = self.by_id.get(template_id)
        if m is None:
            return {"error": f"unknown template id {template_id}"}
        if schema_id != self.ir.schema_id:
            return {"error": f"schema id {schema_id}, expected {self.ir.schema_id}"}
        try:
            values, _ = self._node(m, data, self.header.size, block_length, version)
        except (struct.error, IndexError, ValueError) as exc:
            return {"message": m.name, "error": f"cannot decode {m.name}: {exc}"}
        cred = m.field_for("credentials")
        if cred and cred in values:
            values[cred] = REDACTED
        return {"message": m.name, "role": m.role, "values": values}

    def _node(self, node: Message | Group, data: bytes, at: int, block_length: int, version: int):
        if at + block_length > len(data):
            raise ValueError(f"block of {block_length} bytes runs past the end")
        values: dict[str, Any] = {}
        for f in node.fields:
            if f.since_version > version or f.offset + f.size > block_length:
                values[f.name] = self.codec.absent(f)
                continue
            values[f.name] = self.codec.unpack(f.type, data[at + f.offset :], self.codec.field_null(f),
                                               self.codec.nullable(f))
        at += block_length
        for g in node.groups:
            if g.since_version > version:
                values[g.name] = []
                continue
            entry_length, count = self.group.unpack_from(data, at)
            at += self.group.size
            entries = []
            for _ in range(count):
                entry, at = self._node(g, data, at, entry_length, version)
                entries.append(entry)
            values[g.name] = entries
        for d in node.data:
            if d.since_version > version:
                values[d.name] = ""
                continue
            (length,) = self.length.unpack_from(data, at)
            start = at + self.length.size
            raw = data[start : start + length]
            if len(raw) != length:
                raise ValueError(f"var-data {d.name} runs past the end")
            values[d.name] = raw.decode("utf-8", errors="replace") if d.encoding == "utf8" else raw.hex()
            at = start + length
        return values, at

    # ---- meaning of fields, by role --------------------------------------------------------------

    def value_of(self, message: str, values: dict[str, Any], role: str) -> Any:
        """The value of the field playing `role` in `message`, or None."""
        m = next((x for x in self.ir.messages if x.name == message), None)
        name = m.field_for(role) if m else None
        return values.get(name) if name else None

    def number(self, message: str, values: dict[str, Any], role: str) -> Decimal | None:
        """A price or quantity in units: a decimal's mantissa scaled by its exponent."""
        m = next((x for x in self.ir.messages if x.name == message), None)
        name = m.field_for(role) if m else None
        if not name or values.get(name) is None:
            return None
        field = next(f for f in m.fields if f.name == name)
        t = self.types.get(field.type)
        raw = values[name]
        if t is not None and t.kind == "decimal":
            return Decimal(int(raw)).scaleb(t.exponent or 0)
        return Decimal(int(raw))

    def side(self, message: str, values: dict[str, Any]) -> str | None:
        """"buy" or "sell" from the side field's enum value name."""
        m = next((x for x in self.ir.messages if x.name == message), None)
        name = m.field_for("side") if m else None
        if not name:
            return None
        field = next(f for f in m.fields if f.name == name)
        t = self.types.get(field.type)
        label = self.enum_name(field.type, values.get(name)) if t is not None else None
        if label in BUY_NAMES:
            return "buy"
        if label in SELL_NAMES:
            return "sell"
        return None

    def enum_name(self, type_name: str, value: Any) -> str | None:
        t = self.types.get(type_name)
        if t is None or value is None:
            return None
        return next((v.name for v in t.values if v.value == value), None)

    def code_name(self, message: str, values: dict[str, Any], role: str) -> str | None:
        """An enum field's value name (exec type, order status), else its number as text."""
        m = next((x for x in self.ir.messages if x.name == message), None)
        name = m.field_for(role) if m else None
        if not name or name not in values:
            return None
        field = next(f for f in m.fields if f.name == name)
        label = self.enum_name(field.type, values[name])
        return label if label is not None else str(values[name])
