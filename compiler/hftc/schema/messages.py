"""`messages:` — binary messages with fields, repeating groups and var-data."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Tag

from hftc.schema.common import F, Surface
from hftc.schema.types import (
    ArrayType,
    CharType,
    CompositeType,
    DecimalType,
    EnumType,
    SetType,
    TypeDef,
    type_kind,
)


class FieldSpec(Surface):
    """A field with options. Plain `name: Type` is shorthand for `{type: Type}`."""

    type: str | TypeDef = F(
        "A primitive (int8..uint64, float32, float64), a type from `types:`, or an inline type definition "
        "such as `{decimal: int64, exponent: -9}`.", "Price")
    since_version: int | None = F("Schema version that added the field; older senders read as its null value.", 2, default=None, ge=0, le=65535)
    deprecated: int | None = F("Schema version from which the field is no longer used.", 3, default=None, ge=0, le=65535)
    optional: bool = F("Whether the field may be absent, encoded as its null value.", True, default=False)
    null_value: int | float | None = F("Value that means absent, for optional fields (defaults to the type's null).", 0, default=None)
    unit: str | None = F("Unit of the value, shown in docs and used by tooling.", "ns", default=None)
    offset: int | None = F("Explicit byte offset in the block (padding is inserted before it).", 16, default=None, ge=0, le=65535)
    description: str = F("What the field means.", "Exchange timestamp.", default="")
    constant: int | float | str | None = F(
        "A value the schema fixes (SBE presence=constant): readable like a field, never on the wire. A number, "
        "text for char types, or a member name for enums.", "usd", default=None)


def _field_def_kind(value: Any) -> str:
    """`str` (a type name), `FieldSpec` (options), or the kind of an inline type definition."""
    if isinstance(value, str):
        return "str"
    data = value if isinstance(value, dict) else getattr(value, "__dict__", None)
    if isinstance(value, FieldSpec) or (isinstance(data, dict) and "type" in data):
        return "FieldSpec"
    return type_kind(data) or "FieldSpec"


FieldDef = Annotated[
    Annotated[str, Tag("str")] | Annotated[FieldSpec, Tag("FieldSpec")] | Annotated[DecimalType, Tag("decimal")] | Annotated[EnumType, Tag("enum")] | Annotated[SetType, Tag("set")] | Annotated[CharType, Tag("char")] | Annotated[CompositeType, Tag("composite")] | Annotated[ArrayType, Tag("array")],
    Discriminator(_field_def_kind),
]

#: The roles of hftc.ir.roles.ROLES (a test keeps the two in step).
MessageRole = Literal["depth_update", "trade", "snapshot", "bbo", "execution_report", "new_order",
                      "cancel", "replace", "order_reject", "logon", "logout", "heartbeat"]
FieldRole = Literal["price", "qty", "side", "bid_price", "bid_qty", "ask_price", "ask_qty", "levels",
                    "instrument", "symbol", "seq", "ts", "client_order_id", "orig_client_order_id",
                    "order_type", "tif", "flags", "exec_type", "order_status", "leaves_qty", "cum_qty",
                    "reject_reason", "credentials", "heartbeat_interval"]


class VarDataSpec(Surface):
    """Length-prefixed bytes after the fixed block and the groups."""

    name: str = F("Name of the var-data field.", "venue_note")
    since_version: int | None = F("Schema version that added it.", 2, default=None, ge=0, le=65535)
    encoding: Literal["bytes", "utf8"] = F("`utf8` text (string_view) or raw `bytes` (span).", "utf8", default="utf8")
    description: str = F("What it holds.", "Free text from the venue.", default="")


VarDataDef = Union[str, VarDataSpec]


class GroupSpec(Surface):
    """A repeating group: a count, then that many fixed blocks, each with its own nested groups and data."""

    fields: dict[str, FieldDef] = F("Fields of each entry.", {"price": "Price", "qty": "Qty"}, default_factory=dict)
    groups: dict[str, GroupSpec] = F("Nested repeating groups of each entry.", {}, default_factory=dict)
    data: list[VarDataDef] = F("Var-data of each entry, after its nested groups.", ["note"], default_factory=list)
    since_version: int | None = F("Schema version that added the group.", 2, default=None, ge=0, le=65535)
    description: str = F("What an entry means.", "One price level.", default="")


class MessageSpec(Surface):
    """A message: fixed block of fields, then repeating groups, then var-data."""

    id: int = F("Template id on the wire (1..65535), unique in the schema.", 1, ge=1, le=65535)
    fields: dict[str, FieldDef] = F("Fixed-block fields in wire order.", {"instrument": "uint32", "price": "Price"}, default_factory=dict)
    groups: dict[str, GroupSpec] = F("Repeating groups after the fixed block.", {"levels": {"fields": {"price": "Price"}}}, default_factory=dict)
    data: list[VarDataDef] = F("Var-data after the groups.", ["venue_note"], default_factory=list)
    since_version: int | None = F("Schema version that added the message.", 1, default=None, ge=0, le=65535)
    deprecated: int | None = F("Schema version from which the message is no longer sent.", 3, default=None, ge=0, le=65535)
    description: str = F("What the message means.", "Incremental book update.", default="")
    role: MessageRole | None = F(
        "What the message is to a trading pipeline: a feed handler's input (depth_update, trade, snapshot, bbo, "
        "execution_report), an order gateway's output (new_order), or another message of the order-entry "
        "session (cancel, replace, order_reject, logon, logout, heartbeat; declared only). Feed and gateway "
        "roles are inferred from field names when absent; see the README's \"Feed roles\".", "bbo", default=None)
    fields_map: dict[FieldRole, str] = F(
        "Which field carries each field role of `role`, for fields not named by convention (`levels` names a "
        "group; a snapshot's `side`, `price`, `qty` are fields of its entries).",
        {"bid_price": "best_bid_px", "bid_qty": "best_bid_size"}, default_factory=dict)


