"""EUR/USD market maker with inventory-skewed quotes.

Generated from the schema `fx.mm` version 2 (schema id 7). The numpy
batch views live in the `batch` module, which needs numpy.
"""

from .codec import DecodeError, EncodeError, ExactDecimal, GroupView, GroupWriter, truncate_chars
from .dispatch import MESSAGES, SCHEMA_ID, SCHEMA_VERSION, AnyMessage, decode, decode_all
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
from .types import ExecType, OrderFlags, OrderStatus, Price, Qty, Side, TimeInForce

__all__ = [
    "MESSAGES",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "AnyMessage",
    "BookDelta",
    "CancelOrder",
    "DecodeError",
    "EncodeError",
    "ExactDecimal",
    "ExecType",
    "ExecutionReport",
    "GroupView",
    "GroupWriter",
    "Heartbeat",
    "Logon",
    "Logout",
    "NewOrder",
    "OrderFlags",
    "OrderReject",
    "OrderStatus",
    "Price",
    "Qty",
    "ReplaceOrder",
    "Side",
    "Snapshot",
    "TimeInForce",
    "Trade",
    "decode",
    "decode_all",
    "truncate_chars",
]
