"""Decode any message of `fx.mm` by its template id."""

from __future__ import annotations

from collections.abc import Iterator

from .codec import MESSAGE_HEADER, MESSAGE_HEADER_SIZE, Buffer, DecodeError, as_view, need
from .messages import (
    BookDelta,
    CancelOrder,
    ExecutionReport,
    Heartbeat,
    Logon,
    Logout,
    NewOrder,
    OrderReject,
    ReplaceOrder,
    Snapshot,
    Trade,
)

__all__ = ["MESSAGES", "SCHEMA_ID", "SCHEMA_VERSION", "AnyMessage", "decode", "decode_all"]

SCHEMA_ID = 7
SCHEMA_VERSION = 2

AnyMessage = (
    BookDelta
    | Trade
    | Snapshot
    | NewOrder
    | ExecutionReport
    | CancelOrder
    | ReplaceOrder
    | OrderReject
    | Logon
    | Logout
    | Heartbeat
)

MESSAGES: dict[
    int,
    type[
        BookDelta
        | Trade
        | Snapshot
        | NewOrder
        | ExecutionReport
        | CancelOrder
        | ReplaceOrder
        | OrderReject
        | Logon
        | Logout
        | Heartbeat
    ],
] = {
    1: BookDelta,
    2: Trade,
    3: Snapshot,
    10: NewOrder,
    11: ExecutionReport,
    12: CancelOrder,
    13: ReplaceOrder,
    14: OrderReject,
    20: Logon,
    21: Logout,
    22: Heartbeat,
}
"""Template id → message class."""


def decode(buf: Buffer, offset: int = 0) -> AnyMessage:
    """The message at `offset`, whatever its template; `DecodeError` for an unknown one."""
    view = as_view(buf)
    need(view, offset + MESSAGE_HEADER_SIZE, "a message header")
    _, template_id, schema_id, _ = MESSAGE_HEADER.unpack_from(view, offset)
    if schema_id != SCHEMA_ID:
        raise DecodeError(f"schema id {schema_id} is not {SCHEMA_ID}")
    cls = MESSAGES.get(template_id)
    if cls is None:
        raise DecodeError(f"unknown template id {template_id}")
    return cls.wrap_for_decode(view, offset)


def decode_all(buf: Buffer, offset: int = 0) -> Iterator[AnyMessage]:
    """Every message of a buffer holding messages laid end to end."""
    view = as_view(buf)
    while offset < len(view):
        message = decode(view, offset)
        yield message
        offset += message.encoded_length
