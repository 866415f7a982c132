"""Messages of `fx.mm`: flyweights over a buffer, read and written in place.

Decode with `Cls.wrap_for_decode(buf, offset)`, encode with `Cls.wrap_and_apply_header(buf, offset)`
then set fields, then groups (`encode_<group>(count)`, `next()` per entry) and var-data, in schema
order; `encoded_length` is the size on the wire. Enum fields read as None when the value is null
or unknown to this schema; `<field>_raw` gives the integer either way.
"""

from __future__ import annotations

import struct
from typing import ClassVar

from .codec import (
    I64,
    U8,
    U16,
    U32,
    U64,
    EncodeError,
    Flyweight,
    GroupView,
    GroupWriter,
    Item,
    Message,
    decode_chars,
    decode_utf8,
    encode_chars,
    encode_utf8,
)
from .types import ExecType, OrderFlags, OrderStatus, Price, Qty, Side, TimeInForce

__all__ = [
    "BookDelta",
    "CancelOrder",
    "ExecutionReport",
    "Heartbeat",
    "Logon",
    "Logout",
    "NewOrder",
    "OrderReject",
    "ReplaceOrder",
    "Snapshot",
    "Trade",
]


class BookDelta(Message):
    """One changed price level of the venue's book.

    Template id 1; a 39-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "BookDelta"
    TEMPLATE_ID: ClassVar[int] = 1
    BLOCK_LENGTH: ClassVar[int] = 39
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = (
        (0, 37),
        (2, 39),
    )
    _NULL_BLOCK: ClassVar[bytes] = bytes.fromhex(
        "00000000000000000000000000000000000000000000000000000000000000000000000000ffff"
    )

    @property
    def instrument(self) -> int:
        return U32.unpack_from(self._buf, self._offset)[0]

    @instrument.setter
    def instrument(self, value: int) -> None:
        try:
            U32.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"instrument: {exc}") from None

    @property
    def seq(self) -> int:
        return U64.unpack_from(self._buf, self._offset + 4)[0]

    @seq.setter
    def seq(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 4, value)
        except struct.error as exc:
            raise EncodeError(f"seq: {exc}") from None

    @property
    def ts_exchange(self) -> int:
        """Venue timestamp. Unit: ns."""
        return U64.unpack_from(self._buf, self._offset + 12)[0]

    @ts_exchange.setter
    def ts_exchange(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 12, value)
        except struct.error as exc:
            raise EncodeError(f"ts_exchange: {exc}") from None

    @property
    def side(self) -> Side | None:
        """None when the value is null or unknown (see `side_raw`)."""
        return Side.from_raw(U8.unpack_from(self._buf, self._offset + 20)[0])

    @side.setter
    def side(self, value: Side | None) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 20, 255 if value is None else int(value))
        except struct.error as exc:
            raise EncodeError(f"side: {exc}") from None

    @property
    def side_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset + 20)[0]

    @side_raw.setter
    def side_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 20, value)
        except struct.error as exc:
            raise EncodeError(f"side_raw: {exc}") from None

    @property
    def price(self) -> Price:
        return Price(I64.unpack_from(self._buf, self._offset + 21)[0])

    @price.setter
    def price(self, value: Price) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 21, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"price: {exc}") from None

    @property
    def price_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 21)[0]

    @price_raw.setter
    def price_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 21, value)
        except struct.error as exc:
            raise EncodeError(f"price_raw: {exc}") from None

    @property
    def qty(self) -> Qty:
        """New absolute size of the level; 0 deletes it."""
        return Qty(I64.unpack_from(self._buf, self._offset + 29)[0])

    @qty.setter
    def qty(self, value: Qty) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 29, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"qty: {exc}") from None

    @property
    def qty_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 29)[0]

    @qty_raw.setter
    def qty_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 29, value)
        except struct.error as exc:
            raise EncodeError(f"qty_raw: {exc}") from None

    @property
    def order_count(self) -> int | None:
        """Orders at the level, when the venue sends it. Since version 2. None when null."""
        if self._version < 2:
            return None
        raw = U16.unpack_from(self._buf, self._offset + 37)[0]
        return None if raw == 65535 else raw

    @order_count.setter
    def order_count(self, value: int | None) -> None:
        try:
            U16.pack_into(self._buf, self._offset + 37, 65535 if value is None else value)
        except struct.error as exc:
            raise EncodeError(f"order_count: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {
            "instrument": self.instrument,
            "seq": self.seq,
            "ts_exchange": self.ts_exchange,
            "side": self.side,
            "price": self.price,
            "qty": self.qty,
            "order_count": self.order_count,
        }


class Trade(Message):
    """A trade printed by the venue.

    Template id 2; a 37-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "Trade"
    TEMPLATE_ID: ClassVar[int] = 2
    BLOCK_LENGTH: ClassVar[int] = 37
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 37),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(37)

    @property
    def instrument(self) -> int:
        return U32.unpack_from(self._buf, self._offset)[0]

    @instrument.setter
    def instrument(self, value: int) -> None:
        try:
            U32.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"instrument: {exc}") from None

    @property
    def seq(self) -> int:
        return U64.unpack_from(self._buf, self._offset + 4)[0]

    @seq.setter
    def seq(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 4, value)
        except struct.error as exc:
            raise EncodeError(f"seq: {exc}") from None

    @property
    def ts_exchange(self) -> int:
        """Unit: ns."""
        return U64.unpack_from(self._buf, self._offset + 12)[0]

    @ts_exchange.setter
    def ts_exchange(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 12, value)
        except struct.error as exc:
            raise EncodeError(f"ts_exchange: {exc}") from None

    @property
    def aggressor(self) -> Side | None:
        """None when the value is null or unknown (see `aggressor_raw`)."""
        return Side.from_raw(U8.unpack_from(self._buf, self._offset + 20)[0])

    @aggressor.setter
    def aggressor(self, value: Side | None) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 20, 255 if value is None else int(value))
        except struct.error as exc:
            raise EncodeError(f"aggressor: {exc}") from None

    @property
    def aggressor_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset + 20)[0]

    @aggressor_raw.setter
    def aggressor_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 20, value)
        except struct.error as exc:
            raise EncodeError(f"aggressor_raw: {exc}") from None

    @property
    def price(self) -> Price:
        return Price(I64.unpack_from(self._buf, self._offset + 21)[0])

    @price.setter
    def price(self, value: Price) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 21, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"price: {exc}") from None

    @property
    def price_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 21)[0]

    @price_raw.setter
    def price_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 21, value)
        except struct.error as exc:
            raise EncodeError(f"price_raw: {exc}") from None

    @property
    def qty(self) -> Qty:
        return Qty(I64.unpack_from(self._buf, self._offset + 29)[0])

    @qty.setter
    def qty(self, value: Qty) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 29, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"qty: {exc}") from None

    @property
    def qty_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 29)[0]

    @qty_raw.setter
    def qty_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 29, value)
        except struct.error as exc:
            raise EncodeError(f"qty_raw: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {
            "instrument": self.instrument,
            "seq": self.seq,
            "ts_exchange": self.ts_exchange,
            "aggressor": self.aggressor,
            "price": self.price,
            "qty": self.qty,
        }


class SnapshotLevelsOrders(Flyweight):
    """Resting orders at the level, when the venue shows them."""

    __slots__ = ()

    BLOCK_LENGTH: ClassVar[int] = 16
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 16),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(16)

    @property
    def order_id(self) -> int:
        return U64.unpack_from(self._buf, self._offset)[0]

    @order_id.setter
    def order_id(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"order_id: {exc}") from None

    @property
    def qty(self) -> Qty:
        return Qty(I64.unpack_from(self._buf, self._offset + 8)[0])

    @qty.setter
    def qty(self, value: Qty) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 8, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"qty: {exc}") from None

    @property
    def qty_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 8)[0]

    @qty_raw.setter
    def qty_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 8, value)
        except struct.error as exc:
            raise EncodeError(f"qty_raw: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {"order_id": self.order_id, "qty": self.qty}


class SnapshotLevels(Flyweight):
    """One price level."""

    __slots__ = ()

    BLOCK_LENGTH: ClassVar[int] = 17
    _ITEMS: ClassVar[tuple[Item, ...]] = (Item("orders", 0, SnapshotLevelsOrders),)
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 17),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(17)

    @property
    def side(self) -> Side | None:
        """None when the value is null or unknown (see `side_raw`)."""
        return Side.from_raw(U8.unpack_from(self._buf, self._offset)[0])

    @side.setter
    def side(self, value: Side | None) -> None:
        try:
            U8.pack_into(self._buf, self._offset, 255 if value is None else int(value))
        except struct.error as exc:
            raise EncodeError(f"side: {exc}") from None

    @property
    def side_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset)[0]

    @side_raw.setter
    def side_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"side_raw: {exc}") from None

    @property
    def price(self) -> Price:
        return Price(I64.unpack_from(self._buf, self._offset + 1)[0])

    @price.setter
    def price(self, value: Price) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 1, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"price: {exc}") from None

    @property
    def price_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 1)[0]

    @price_raw.setter
    def price_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 1, value)
        except struct.error as exc:
            raise EncodeError(f"price_raw: {exc}") from None

    @property
    def qty(self) -> Qty:
        return Qty(I64.unpack_from(self._buf, self._offset + 9)[0])

    @qty.setter
    def qty(self, value: Qty) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 9, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"qty: {exc}") from None

    @property
    def qty_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 9)[0]

    @qty_raw.setter
    def qty_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 9, value)
        except struct.error as exc:
            raise EncodeError(f"qty_raw: {exc}") from None

    @property
    def orders(self) -> GroupView[SnapshotLevelsOrders]:
        """Resting orders at the level, when the venue shows them."""
        return self._group(0, SnapshotLevelsOrders)

    def encode_orders(self, count: int) -> GroupWriter[SnapshotLevelsOrders]:
        """Start `orders` with `count` entries; write each with `next()`."""
        return self._begin_group(0, SnapshotLevelsOrders, count)

    def to_dict(self) -> dict[str, object]:
        return {
            "side": self.side,
            "price": self.price,
            "qty": self.qty,
            "orders": [e.to_dict() for e in self.orders],
        }


class Snapshot(Message):
    """Full book of one instrument, sent on (re)connect.

    Template id 3; a 12-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "Snapshot"
    TEMPLATE_ID: ClassVar[int] = 3
    BLOCK_LENGTH: ClassVar[int] = 12
    _ITEMS: ClassVar[tuple[Item, ...]] = (
        Item("levels", 0, SnapshotLevels),
        Item("venue_note", 0, None),
    )
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 12),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(12)

    @property
    def instrument(self) -> int:
        return U32.unpack_from(self._buf, self._offset)[0]

    @instrument.setter
    def instrument(self, value: int) -> None:
        try:
            U32.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"instrument: {exc}") from None

    @property
    def seq(self) -> int:
        return U64.unpack_from(self._buf, self._offset + 4)[0]

    @seq.setter
    def seq(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 4, value)
        except struct.error as exc:
            raise EncodeError(f"seq: {exc}") from None

    @property
    def levels(self) -> GroupView[SnapshotLevels]:
        """One price level."""
        return self._group(0, SnapshotLevels)

    def encode_levels(self, count: int) -> GroupWriter[SnapshotLevels]:
        """Start `levels` with `count` entries; write each with `next()`."""
        return self._begin_group(0, SnapshotLevels, count)

    @property
    def venue_note(self) -> str:
        """The var-data `venue_note` (utf8)."""
        return decode_utf8(self._get_var(1), "venue_note")

    @venue_note.setter
    def venue_note(self, value: str) -> None:
        self._put_var(1, encode_utf8(value, "venue_note"))

    @property
    def venue_note_view(self) -> memoryview:
        """The raw bytes of `venue_note`, without a copy."""
        return self._get_var(1)

    def to_dict(self) -> dict[str, object]:
        return {
            "instrument": self.instrument,
            "seq": self.seq,
            "levels": [e.to_dict() for e in self.levels],
            "venue_note": self.venue_note,
        }


class NewOrder(Message):
    """An order sent to the venue.

    Template id 10; a 51-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "NewOrder"
    TEMPLATE_ID: ClassVar[int] = 10
    BLOCK_LENGTH: ClassVar[int] = 51
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 51),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(51)

    @property
    def client_order_id(self) -> int:
        return U64.unpack_from(self._buf, self._offset)[0]

    @client_order_id.setter
    def client_order_id(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"client_order_id: {exc}") from None

    @property
    def instrument(self) -> int:
        return U32.unpack_from(self._buf, self._offset + 8)[0]

    @instrument.setter
    def instrument(self, value: int) -> None:
        try:
            U32.pack_into(self._buf, self._offset + 8, value)
        except struct.error as exc:
            raise EncodeError(f"instrument: {exc}") from None

    @property
    def symbol(self) -> str:
        return decode_chars(self._buf, self._offset + 12, 12)

    @symbol.setter
    def symbol(self, value: str) -> None:
        try:
            encode_chars(self._buf, self._offset + 12, 12, value, "symbol")
        except struct.error as exc:
            raise EncodeError(f"symbol: {exc}") from None

    @property
    def side(self) -> Side | None:
        """None when the value is null or unknown (see `side_raw`)."""
        return Side.from_raw(U8.unpack_from(self._buf, self._offset + 24)[0])

    @side.setter
    def side(self, value: Side | None) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 24, 255 if value is None else int(value))
        except struct.error as exc:
            raise EncodeError(f"side: {exc}") from None

    @property
    def side_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset + 24)[0]

    @side_raw.setter
    def side_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 24, value)
        except struct.error as exc:
            raise EncodeError(f"side_raw: {exc}") from None

    @property
    def price(self) -> Price:
        return Price(I64.unpack_from(self._buf, self._offset + 25)[0])

    @price.setter
    def price(self, value: Price) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 25, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"price: {exc}") from None

    @property
    def price_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 25)[0]

    @price_raw.setter
    def price_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 25, value)
        except struct.error as exc:
            raise EncodeError(f"price_raw: {exc}") from None

    @property
    def qty(self) -> Qty:
        return Qty(I64.unpack_from(self._buf, self._offset + 33)[0])

    @qty.setter
    def qty(self, value: Qty) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 33, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"qty: {exc}") from None

    @property
    def qty_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 33)[0]

    @qty_raw.setter
    def qty_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 33, value)
        except struct.error as exc:
            raise EncodeError(f"qty_raw: {exc}") from None

    @property
    def flags(self) -> OrderFlags:
        return OrderFlags(U8.unpack_from(self._buf, self._offset + 41)[0])

    @flags.setter
    def flags(self, value: OrderFlags) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 41, int(value))
        except struct.error as exc:
            raise EncodeError(f"flags: {exc}") from None

    @property
    def flags_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset + 41)[0]

    @flags_raw.setter
    def flags_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 41, value)
        except struct.error as exc:
            raise EncodeError(f"flags_raw: {exc}") from None

    @property
    def tif(self) -> TimeInForce | None:
        """None when the value is null or unknown (see `tif_raw`)."""
        return TimeInForce.from_raw(U8.unpack_from(self._buf, self._offset + 42)[0])

    @tif.setter
    def tif(self, value: TimeInForce | None) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 42, 255 if value is None else int(value))
        except struct.error as exc:
            raise EncodeError(f"tif: {exc}") from None

    @property
    def tif_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset + 42)[0]

    @tif_raw.setter
    def tif_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 42, value)
        except struct.error as exc:
            raise EncodeError(f"tif_raw: {exc}") from None

    @property
    def ts_sent(self) -> int:
        """Unit: ns."""
        return U64.unpack_from(self._buf, self._offset + 43)[0]

    @ts_sent.setter
    def ts_sent(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 43, value)
        except struct.error as exc:
            raise EncodeError(f"ts_sent: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {
            "client_order_id": self.client_order_id,
            "instrument": self.instrument,
            "symbol": self.symbol,
            "side": self.side,
            "price": self.price,
            "qty": self.qty,
            "flags": self.flags,
            "tif": self.tif,
            "ts_sent": self.ts_sent,
        }


class ExecutionReport(Message):
    """Venue's answer to an order (ack, fill, cancel, replace or reject).

    Template id 11; a 75-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "ExecutionReport"
    TEMPLATE_ID: ClassVar[int] = 11
    BLOCK_LENGTH: ClassVar[int] = 75
    _ITEMS: ClassVar[tuple[Item, ...]] = (Item("reject_reason", 0, None),)
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 75),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(75)

    @property
    def client_order_id(self) -> int:
        return U64.unpack_from(self._buf, self._offset)[0]

    @client_order_id.setter
    def client_order_id(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"client_order_id: {exc}") from None

    @property
    def orig_client_order_id(self) -> int:
        """The replaced order, on a replace; else 0."""
        return U64.unpack_from(self._buf, self._offset + 8)[0]

    @orig_client_order_id.setter
    def orig_client_order_id(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 8, value)
        except struct.error as exc:
            raise EncodeError(f"orig_client_order_id: {exc}") from None

    @property
    def exec_id(self) -> int:
        return U64.unpack_from(self._buf, self._offset + 16)[0]

    @exec_id.setter
    def exec_id(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 16, value)
        except struct.error as exc:
            raise EncodeError(f"exec_id: {exc}") from None

    @property
    def exec_type(self) -> ExecType | None:
        """None when the value is null or unknown (see `exec_type_raw`)."""
        return ExecType.from_raw(U8.unpack_from(self._buf, self._offset + 24)[0])

    @exec_type.setter
    def exec_type(self, value: ExecType | None) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 24, 255 if value is None else int(value))
        except struct.error as exc:
            raise EncodeError(f"exec_type: {exc}") from None

    @property
    def exec_type_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset + 24)[0]

    @exec_type_raw.setter
    def exec_type_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 24, value)
        except struct.error as exc:
            raise EncodeError(f"exec_type_raw: {exc}") from None

    @property
    def order_status(self) -> OrderStatus | None:
        """None when the value is null or unknown (see `order_status_raw`)."""
        return OrderStatus.from_raw(U8.unpack_from(self._buf, self._offset + 25)[0])

    @order_status.setter
    def order_status(self, value: OrderStatus | None) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 25, 255 if value is None else int(value))
        except struct.error as exc:
            raise EncodeError(f"order_status: {exc}") from None

    @property
    def order_status_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset + 25)[0]

    @order_status_raw.setter
    def order_status_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 25, value)
        except struct.error as exc:
            raise EncodeError(f"order_status_raw: {exc}") from None

    @property
    def side(self) -> Side | None:
        """None when the value is null or unknown (see `side_raw`)."""
        return Side.from_raw(U8.unpack_from(self._buf, self._offset + 26)[0])

    @side.setter
    def side(self, value: Side | None) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 26, 255 if value is None else int(value))
        except struct.error as exc:
            raise EncodeError(f"side: {exc}") from None

    @property
    def side_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset + 26)[0]

    @side_raw.setter
    def side_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 26, value)
        except struct.error as exc:
            raise EncodeError(f"side_raw: {exc}") from None

    @property
    def last_price(self) -> Price:
        return Price(I64.unpack_from(self._buf, self._offset + 27)[0])

    @last_price.setter
    def last_price(self, value: Price) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 27, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"last_price: {exc}") from None

    @property
    def last_price_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 27)[0]

    @last_price_raw.setter
    def last_price_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 27, value)
        except struct.error as exc:
            raise EncodeError(f"last_price_raw: {exc}") from None

    @property
    def last_qty(self) -> Qty:
        return Qty(I64.unpack_from(self._buf, self._offset + 35)[0])

    @last_qty.setter
    def last_qty(self, value: Qty) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 35, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"last_qty: {exc}") from None

    @property
    def last_qty_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 35)[0]

    @last_qty_raw.setter
    def last_qty_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 35, value)
        except struct.error as exc:
            raise EncodeError(f"last_qty_raw: {exc}") from None

    @property
    def leaves_qty(self) -> Qty:
        return Qty(I64.unpack_from(self._buf, self._offset + 43)[0])

    @leaves_qty.setter
    def leaves_qty(self, value: Qty) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 43, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"leaves_qty: {exc}") from None

    @property
    def leaves_qty_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 43)[0]

    @leaves_qty_raw.setter
    def leaves_qty_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 43, value)
        except struct.error as exc:
            raise EncodeError(f"leaves_qty_raw: {exc}") from None

    @property
    def cum_qty(self) -> Qty:
        return Qty(I64.unpack_from(self._buf, self._offset + 51)[0])

    @cum_qty.setter
    def cum_qty(self, value: Qty) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 51, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"cum_qty: {exc}") from None

    @property
    def cum_qty_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 51)[0]

    @cum_qty_raw.setter
    def cum_qty_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 51, value)
        except struct.error as exc:
            raise EncodeError(f"cum_qty_raw: {exc}") from None

    @property
    def seq(self) -> int:
        return U64.unpack_from(self._buf, self._offset + 59)[0]

    @seq.setter
    def seq(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 59, value)
        except struct.error as exc:
            raise EncodeError(f"seq: {exc}") from None

    @property
    def ts_exchange(self) -> int:
        """Unit: ns."""
        return U64.unpack_from(self._buf, self._offset + 67)[0]

    @ts_exchange.setter
    def ts_exchange(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 67, value)
        except struct.error as exc:
            raise EncodeError(f"ts_exchange: {exc}") from None

    @property
    def reject_reason(self) -> str:
        """Empty unless rejected."""
        return decode_utf8(self._get_var(0), "reject_reason")

    @reject_reason.setter
    def reject_reason(self, value: str) -> None:
        self._put_var(0, encode_utf8(value, "reject_reason"))

    @property
    def reject_reason_view(self) -> memoryview:
        """The raw bytes of `reject_reason`, without a copy."""
        return self._get_var(0)

    def to_dict(self) -> dict[str, object]:
        return {
            "client_order_id": self.client_order_id,
            "orig_client_order_id": self.orig_client_order_id,
            "exec_id": self.exec_id,
            "exec_type": self.exec_type,
            "order_status": self.order_status,
            "side": self.side,
            "last_price": self.last_price,
            "last_qty": self.last_qty,
            "leaves_qty": self.leaves_qty,
            "cum_qty": self.cum_qty,
            "seq": self.seq,
            "ts_exchange": self.ts_exchange,
            "reject_reason": self.reject_reason,
        }


class CancelOrder(Message):
    """Cancels a resting order.

    Template id 12; a 37-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "CancelOrder"
    TEMPLATE_ID: ClassVar[int] = 12
    BLOCK_LENGTH: ClassVar[int] = 37
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 37),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(37)

    @property
    def client_order_id(self) -> int:
        """Id of this request."""
        return U64.unpack_from(self._buf, self._offset)[0]

    @client_order_id.setter
    def client_order_id(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"client_order_id: {exc}") from None

    @property
    def orig_client_order_id(self) -> int:
        """The order to cancel."""
        return U64.unpack_from(self._buf, self._offset + 8)[0]

    @orig_client_order_id.setter
    def orig_client_order_id(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 8, value)
        except struct.error as exc:
            raise EncodeError(f"orig_client_order_id: {exc}") from None

    @property
    def instrument(self) -> int:
        return U32.unpack_from(self._buf, self._offset + 16)[0]

    @instrument.setter
    def instrument(self, value: int) -> None:
        try:
            U32.pack_into(self._buf, self._offset + 16, value)
        except struct.error as exc:
            raise EncodeError(f"instrument: {exc}") from None

    @property
    def side(self) -> Side | None:
        """None when the value is null or unknown (see `side_raw`)."""
        return Side.from_raw(U8.unpack_from(self._buf, self._offset + 20)[0])

    @side.setter
    def side(self, value: Side | None) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 20, 255 if value is None else int(value))
        except struct.error as exc:
            raise EncodeError(f"side: {exc}") from None

    @property
    def side_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset + 20)[0]

    @side_raw.setter
    def side_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 20, value)
        except struct.error as exc:
            raise EncodeError(f"side_raw: {exc}") from None

    @property
    def seq(self) -> int:
        return U64.unpack_from(self._buf, self._offset + 21)[0]

    @seq.setter
    def seq(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 21, value)
        except struct.error as exc:
            raise EncodeError(f"seq: {exc}") from None

    @property
    def ts_sent(self) -> int:
        """Unit: ns."""
        return U64.unpack_from(self._buf, self._offset + 29)[0]

    @ts_sent.setter
    def ts_sent(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 29, value)
        except struct.error as exc:
            raise EncodeError(f"ts_sent: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {
            "client_order_id": self.client_order_id,
            "orig_client_order_id": self.orig_client_order_id,
            "instrument": self.instrument,
            "side": self.side,
            "seq": self.seq,
            "ts_sent": self.ts_sent,
        }


class ReplaceOrder(Message):
    """Moves a resting order to a new price and quantity (cancel/replace).

    Template id 13; a 53-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "ReplaceOrder"
    TEMPLATE_ID: ClassVar[int] = 13
    BLOCK_LENGTH: ClassVar[int] = 53
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 53),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(53)

    @property
    def client_order_id(self) -> int:
        """Id of the order after the replace."""
        return U64.unpack_from(self._buf, self._offset)[0]

    @client_order_id.setter
    def client_order_id(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"client_order_id: {exc}") from None

    @property
    def orig_client_order_id(self) -> int:
        """The order replaced."""
        return U64.unpack_from(self._buf, self._offset + 8)[0]

    @orig_client_order_id.setter
    def orig_client_order_id(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 8, value)
        except struct.error as exc:
            raise EncodeError(f"orig_client_order_id: {exc}") from None

    @property
    def instrument(self) -> int:
        return U32.unpack_from(self._buf, self._offset + 16)[0]

    @instrument.setter
    def instrument(self, value: int) -> None:
        try:
            U32.pack_into(self._buf, self._offset + 16, value)
        except struct.error as exc:
            raise EncodeError(f"instrument: {exc}") from None

    @property
    def side(self) -> Side | None:
        """None when the value is null or unknown (see `side_raw`)."""
        return Side.from_raw(U8.unpack_from(self._buf, self._offset + 20)[0])

    @side.setter
    def side(self, value: Side | None) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 20, 255 if value is None else int(value))
        except struct.error as exc:
            raise EncodeError(f"side: {exc}") from None

    @property
    def side_raw(self) -> int:
        """The integer on the wire, even when not a member."""
        return U8.unpack_from(self._buf, self._offset + 20)[0]

    @side_raw.setter
    def side_raw(self, value: int) -> None:
        try:
            U8.pack_into(self._buf, self._offset + 20, value)
        except struct.error as exc:
            raise EncodeError(f"side_raw: {exc}") from None

    @property
    def price(self) -> Price:
        return Price(I64.unpack_from(self._buf, self._offset + 21)[0])

    @price.setter
    def price(self, value: Price) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 21, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"price: {exc}") from None

    @property
    def price_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 21)[0]

    @price_raw.setter
    def price_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 21, value)
        except struct.error as exc:
            raise EncodeError(f"price_raw: {exc}") from None

    @property
    def qty(self) -> Qty:
        return Qty(I64.unpack_from(self._buf, self._offset + 29)[0])

    @qty.setter
    def qty(self, value: Qty) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 29, value.mantissa)
        except struct.error as exc:
            raise EncodeError(f"qty: {exc}") from None

    @property
    def qty_raw(self) -> int:
        """The integer on the wire (the mantissa)."""
        return I64.unpack_from(self._buf, self._offset + 29)[0]

    @qty_raw.setter
    def qty_raw(self, value: int) -> None:
        try:
            I64.pack_into(self._buf, self._offset + 29, value)
        except struct.error as exc:
            raise EncodeError(f"qty_raw: {exc}") from None

    @property
    def seq(self) -> int:
        return U64.unpack_from(self._buf, self._offset + 37)[0]

    @seq.setter
    def seq(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 37, value)
        except struct.error as exc:
            raise EncodeError(f"seq: {exc}") from None

    @property
    def ts_sent(self) -> int:
        """Unit: ns."""
        return U64.unpack_from(self._buf, self._offset + 45)[0]

    @ts_sent.setter
    def ts_sent(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 45, value)
        except struct.error as exc:
            raise EncodeError(f"ts_sent: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {
            "client_order_id": self.client_order_id,
            "orig_client_order_id": self.orig_client_order_id,
            "instrument": self.instrument,
            "side": self.side,
            "price": self.price,
            "qty": self.qty,
            "seq": self.seq,
            "ts_sent": self.ts_sent,
        }


class OrderReject(Message):
    """The venue refused a request (new, cancel or replace) before it reached the book.

    Template id 14; a 26-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "OrderReject"
    TEMPLATE_ID: ClassVar[int] = 14
    BLOCK_LENGTH: ClassVar[int] = 26
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 26),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(26)

    @property
    def client_order_id(self) -> int:
        return U64.unpack_from(self._buf, self._offset)[0]

    @client_order_id.setter
    def client_order_id(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"client_order_id: {exc}") from None

    @property
    def reject_code(self) -> int:
        """Venue reason code."""
        return U16.unpack_from(self._buf, self._offset + 8)[0]

    @reject_code.setter
    def reject_code(self, value: int) -> None:
        try:
            U16.pack_into(self._buf, self._offset + 8, value)
        except struct.error as exc:
            raise EncodeError(f"reject_code: {exc}") from None

    @property
    def seq(self) -> int:
        return U64.unpack_from(self._buf, self._offset + 10)[0]

    @seq.setter
    def seq(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 10, value)
        except struct.error as exc:
            raise EncodeError(f"seq: {exc}") from None

    @property
    def ts_exchange(self) -> int:
        """Unit: ns."""
        return U64.unpack_from(self._buf, self._offset + 18)[0]

    @ts_exchange.setter
    def ts_exchange(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 18, value)
        except struct.error as exc:
            raise EncodeError(f"ts_exchange: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {
            "client_order_id": self.client_order_id,
            "reject_code": self.reject_code,
            "seq": self.seq,
            "ts_exchange": self.ts_exchange,
        }


class Logon(Message):
    """Opens the order-entry session; each side's first message.

    Template id 20; a 84-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "Logon"
    TEMPLATE_ID: ClassVar[int] = 20
    BLOCK_LENGTH: ClassVar[int] = 84
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 84),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(84)

    @property
    def seq(self) -> int:
        return U64.unpack_from(self._buf, self._offset)[0]

    @seq.setter
    def seq(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"seq: {exc}") from None

    @property
    def heartbeat_ms(self) -> int:
        return U32.unpack_from(self._buf, self._offset + 8)[0]

    @heartbeat_ms.setter
    def heartbeat_ms(self, value: int) -> None:
        try:
            U32.pack_into(self._buf, self._offset + 8, value)
        except struct.error as exc:
            raise EncodeError(f"heartbeat_ms: {exc}") from None

    @property
    def api_key(self) -> str:
        return decode_chars(self._buf, self._offset + 12, 64)

    @api_key.setter
    def api_key(self, value: str) -> None:
        try:
            encode_chars(self._buf, self._offset + 12, 64, value, "api_key")
        except struct.error as exc:
            raise EncodeError(f"api_key: {exc}") from None

    @property
    def ts_sent(self) -> int:
        """Unit: ns."""
        return U64.unpack_from(self._buf, self._offset + 76)[0]

    @ts_sent.setter
    def ts_sent(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 76, value)
        except struct.error as exc:
            raise EncodeError(f"ts_sent: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "heartbeat_ms": self.heartbeat_ms,
            "api_key": self.api_key,
            "ts_sent": self.ts_sent,
        }


class Logout(Message):
    """Closes the order-entry session.

    Template id 21; a 18-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "Logout"
    TEMPLATE_ID: ClassVar[int] = 21
    BLOCK_LENGTH: ClassVar[int] = 18
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 18),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(18)

    @property
    def seq(self) -> int:
        return U64.unpack_from(self._buf, self._offset)[0]

    @seq.setter
    def seq(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"seq: {exc}") from None

    @property
    def reason(self) -> int:
        """0 on a normal close."""
        return U16.unpack_from(self._buf, self._offset + 8)[0]

    @reason.setter
    def reason(self, value: int) -> None:
        try:
            U16.pack_into(self._buf, self._offset + 8, value)
        except struct.error as exc:
            raise EncodeError(f"reason: {exc}") from None

    @property
    def ts_sent(self) -> int:
        """Unit: ns."""
        return U64.unpack_from(self._buf, self._offset + 10)[0]

    @ts_sent.setter
    def ts_sent(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 10, value)
        except struct.error as exc:
            raise EncodeError(f"ts_sent: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {"seq": self.seq, "reason": self.reason, "ts_sent": self.ts_sent}


class Heartbeat(Message):
    """Sent after a heartbeat interval without other traffic.

    Template id 22; a 16-byte block after the 8-byte header.
    """

    __slots__ = ()

    NAME: ClassVar[str] = "Heartbeat"
    TEMPLATE_ID: ClassVar[int] = 22
    BLOCK_LENGTH: ClassVar[int] = 16
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ((0, 16),)
    _NULL_BLOCK: ClassVar[bytes] = bytes(16)

    @property
    def seq(self) -> int:
        return U64.unpack_from(self._buf, self._offset)[0]

    @seq.setter
    def seq(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset, value)
        except struct.error as exc:
            raise EncodeError(f"seq: {exc}") from None

    @property
    def ts_sent(self) -> int:
        """Unit: ns."""
        return U64.unpack_from(self._buf, self._offset + 8)[0]

    @ts_sent.setter
    def ts_sent(self, value: int) -> None:
        try:
            U64.pack_into(self._buf, self._offset + 8, value)
        except struct.error as exc:
            raise EncodeError(f"ts_sent: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {"seq": self.seq, "ts_sent": self.ts_sent}
