"""EUR/USD market maker with inventory-skewed quotes.

Generated from the schema `fx.mm` version 2 (schema id 7). The numpy
batch views live in the `batch` module, which needs numpy.
"""

from .codec import DecodeError, EncodeError, ExactDecimal, GroupView, GroupWriter, truncate_chars
from .dispatch import MESSAGES, SCHEMA_ID, SCHEMA_VERSION, AnyMessage, decode, decode_all
from .messages import BookDelta, ExecutionReport, NewOrder, Snapshot, Trade
from .types import OrderFlags, Price, Qty, Side, TimeInForce

__all__ = [
    "MESSAGES",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "AnyMessage",
    "BookDelta",
    "DecodeError",
    "EncodeError",
    "ExactDecimal",
    "ExecutionReport",
    "GroupView",
    "GroupWriter",
    "NewOrder",
    "OrderFlags",
    "Price",
    "Qty",
    "Side",
    "Snapshot",
    "TimeInForce",
    "Trade",
    "decode",
    "decode_all",
    "truncate_chars",
]
