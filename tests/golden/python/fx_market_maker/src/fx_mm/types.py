"""Types of `fx.mm`: enums, bit sets, exact decimals and composites."""

from __future__ import annotations

from enum import KEEP, IntEnum, IntFlag
from typing import ClassVar

from .codec import ExactDecimal

__all__ = [
    "API_KEY_LENGTH",
    "EXEC_TYPE_NULL",
    "ORDER_STATUS_NULL",
    "SIDE_NULL",
    "SYMBOL_LENGTH",
    "TIME_IN_FORCE_NULL",
    "ExecType",
    "OrderFlags",
    "OrderStatus",
    "Price",
    "Qty",
    "Side",
    "TimeInForce",
]


class Price(ExactDecimal):
    """Price in quote currency, 1e-9 steps.

    Exact decimal: an integer mantissa (int64 on the wire) times 10^-9.
    """

    __slots__ = ()

    EXPONENT: ClassVar[int] = -9
    NULL_MANTISSA: ClassVar[int] = -9223372036854775808
    MIN_MANTISSA: ClassVar[int] = -9223372036854775807
    MAX_MANTISSA: ClassVar[int] = 9223372036854775807


class Qty(ExactDecimal):
    """Quantity in base currency, 1e-4 steps.

    Exact decimal: an integer mantissa (int64 on the wire) times 10^-4.
    """

    __slots__ = ()

    EXPONENT: ClassVar[int] = -4
    NULL_MANTISSA: ClassVar[int] = -9223372036854775808
    MIN_MANTISSA: ClassVar[int] = -9223372036854775807
    MAX_MANTISSA: ClassVar[int] = 9223372036854775807


class Side(IntEnum):
    """Side of an order or a book level."""

    buy = 1
    sell = 2

    @classmethod
    def from_raw(cls, value: int) -> Side | None:
        """The member for `value`; None for the null value and for values this schema does not know."""
        return _SIDE_BY_VALUE.get(value)


_SIDE_BY_VALUE: dict[int, Side] = {m.value: m for m in Side}
SIDE_NULL = 255


# Symbol: 12 characters, NUL-padded. Instrument symbol, NUL-padded.
SYMBOL_LENGTH = 12


class OrderFlags(IntFlag, boundary=KEEP):
    """Order instructions. Bits this schema does not name are kept."""

    post_only = 1 << 0
    reduce_only = 1 << 1
    ioc = 1 << 2


class TimeInForce(IntEnum):
    """How long an order rests."""

    day = 0
    ioc = 1
    fok = 2
    gtc = 3

    @classmethod
    def from_raw(cls, value: int) -> TimeInForce | None:
        """The member for `value`; None for the null value and for values this schema does not know."""
        return _TIME_IN_FORCE_BY_VALUE.get(value)


_TIME_IN_FORCE_BY_VALUE: dict[int, TimeInForce] = {m.value: m for m in TimeInForce}
TIME_IN_FORCE_NULL = 255


class ExecType(IntEnum):
    """What an execution report reports."""

    accepted = 0
    trade = 1
    canceled = 2
    replaced = 3
    rejected = 4
    expired = 5

    @classmethod
    def from_raw(cls, value: int) -> ExecType | None:
        """The member for `value`; None for the null value and for values this schema does not know."""
        return _EXEC_TYPE_BY_VALUE.get(value)


_EXEC_TYPE_BY_VALUE: dict[int, ExecType] = {m.value: m for m in ExecType}
EXEC_TYPE_NULL = 255


class OrderStatus(IntEnum):
    """The order's state after the report."""

    open = 0
    partially_filled = 1
    filled = 2
    canceled = 3
    replaced = 4
    rejected = 5

    @classmethod
    def from_raw(cls, value: int) -> OrderStatus | None:
        """The member for `value`; None for the null value and for values this schema does not know."""
        return _ORDER_STATUS_BY_VALUE.get(value)


_ORDER_STATUS_BY_VALUE: dict[int, OrderStatus] = {m.value: m for m in OrderStatus}
ORDER_STATUS_NULL = 255


# ApiKey: 64 characters, NUL-padded. Session secret, NUL-padded; filled from the gateway's credentials at logon.
API_KEY_LENGTH = 64
