"""numpy views of the fixed-layout messages of `fx.mm`, laid end to end.

Each class has a packed little-endian structured `DTYPE` with the message header as its first
four fields, so `np.frombuffer(buf, dtype=Cls.DTYPE)` turns a buffer of messages into columns
without a Python loop. Decimal columns hold mantissas (`EXPONENTS` gives the scale), enum and
set columns the integers on the wire.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt

from .codec import Buffer, DecodeError, EncodeError, as_view, room, writable_view

__all__ = [
    "BatchCodec",
    "BookDelta",
    "CancelOrder",
    "Heartbeat",
    "Logon",
    "Logout",
    "NewOrder",
    "OrderReject",
    "Records",
    "ReplaceOrder",
    "Trade",
]

Records = npt.NDArray[np.void]


class BatchCodec:
    """Shared batch logic; a subclass per message sets the constants."""

    NAME: ClassVar[str] = ""
    TEMPLATE_ID: ClassVar[int] = 0
    SCHEMA_ID: ClassVar[int] = 7
    SCHEMA_VERSION: ClassVar[int] = 2
    BLOCK_LENGTH: ClassVar[int] = 0
    DTYPE: ClassVar[np.dtype[np.void]]
    EXPONENTS: ClassVar[dict[str, int]] = {}
    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ()
    _NULLS: ClassVar[Records]
    _TEMPLATE: ClassVar[Records]

    @classmethod
    def decode(cls, buf: Buffer, offset: int = 0, count: int = -1) -> Records:
        """The messages of `buf` from `offset` as records, without a copy (unless fields newer
        than some messages' version must read as null). Every header must name this message,
        this schema and this block length; `DecodeError` otherwise."""
        view = as_view(buf)
        size = cls.DTYPE.itemsize
        available = len(view) - offset
        if offset < 0 or available < 0:
            raise DecodeError(f"offset {offset} is outside the buffer of {len(view)} bytes")
        if count < 0:
            if available % size:
                raise DecodeError(
                    f"truncated buffer: {available} bytes are not a whole number of {size}-byte {cls.NAME} messages"
                )
            count = available // size
        elif count * size > available:
            raise DecodeError(
                f"truncated buffer: {count} {cls.NAME} messages need {count * size} bytes, the buffer has {available}"
            )
        records: Records = np.frombuffer(view, dtype=cls.DTYPE, count=count, offset=offset)
        bad = (
            (records["header_template_id"] != cls.TEMPLATE_ID)
            | (records["header_schema_id"] != cls.SCHEMA_ID)
            | (records["header_block_length"] != cls.BLOCK_LENGTH)
        )
        if bad.any():
            i = int(np.argmax(bad))
            head = records[i]
            raise DecodeError(
                f"message {i}: template {head['header_template_id']}, schema {head['header_schema_id']}, "
                f"block length {head['header_block_length']}; a {cls.NAME} batch needs "
                f"{cls.TEMPLATE_ID}, {cls.SCHEMA_ID} and {cls.BLOCK_LENGTH}"
            )
        copied = False
        for name, since in cls._VERSIONED:
            old = records["header_version"] < since
            if old.any():
                if not copied:
                    records = records.copy()
                    copied = True
                records[name][old] = cls._NULLS[name][0]
        return records

    @classmethod
    def zeros(cls, count: int) -> Records:
        """`count` records with the header set, optional fields null and the rest zero."""
        return np.repeat(cls._TEMPLATE, count)

    @classmethod
    def _check(cls, records: Records) -> None:
        if records.dtype != cls.DTYPE:
            raise EncodeError(f"records of dtype {records.dtype} are not {cls.NAME} records")

    @classmethod
    def _apply_header(cls, records: Records) -> None:
        records["header_block_length"] = cls.BLOCK_LENGTH
        records["header_template_id"] = cls.TEMPLATE_ID
        records["header_schema_id"] = cls.SCHEMA_ID
        records["header_version"] = cls.SCHEMA_VERSION

    @classmethod
    def encode(cls, records: Records) -> bytes:
        """The records as messages laid end to end, headers (re)written."""
        cls._check(records)
        out = records.copy()
        cls._apply_header(out)
        return out.tobytes()

    @classmethod
    def encode_into(cls, records: Records, buf: Buffer, offset: int = 0) -> int:
        """Write the records as messages into `buf` at `offset`; return the bytes written."""
        cls._check(records)
        view = writable_view(buf)
        size = len(records) * cls.DTYPE.itemsize
        room(view, offset + size, f"{len(records)} {cls.NAME} messages")
        target: Records = np.frombuffer(view, dtype=cls.DTYPE, count=len(records), offset=offset)
        target[...] = records
        cls._apply_header(target)
        return size


class BookDelta(BatchCodec):
    """Columns of `BookDelta` messages: 47 bytes each, header included."""

    NAME: ClassVar[str] = "BookDelta"
    TEMPLATE_ID: ClassVar[int] = 1
    BLOCK_LENGTH: ClassVar[int] = 39
    DTYPE: ClassVar[np.dtype[np.void]] = np.dtype(
        {
            "names": [
                "header_block_length",
                "header_template_id",
                "header_schema_id",
                "header_version",
                "instrument",
                "seq",
                "ts_exchange",
                "side",
                "price",
                "qty",
                "order_count",
            ],
            "formats": ["<u2", "<u2", "<u2", "<u2", "<u4", "<u8", "<u8", "u1", "<i8", "<i8", "<u2"],
            "offsets": [0, 2, 4, 6, 8, 12, 20, 28, 29, 37, 45],
            "itemsize": 47,
        }
    )
    EXPONENTS: ClassVar[dict[str, int]] = {"price": -9, "qty": -4}
    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = (("order_count", 2),)
    _NULLS: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "2700010007000200ffffffffffffffffffffffffffffffffffffffffff00000000000000800000000000000080ffff"
        ),
        dtype=DTYPE,
    )
    _TEMPLATE: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "270001000700020000000000000000000000000000000000000000000000000000000000000000000000000000ffff"
        ),
        dtype=DTYPE,
    )


class Trade(BatchCodec):
    """Columns of `Trade` messages: 45 bytes each, header included."""

    NAME: ClassVar[str] = "Trade"
    TEMPLATE_ID: ClassVar[int] = 2
    BLOCK_LENGTH: ClassVar[int] = 37
    DTYPE: ClassVar[np.dtype[np.void]] = np.dtype(
        {
            "names": [
                "header_block_length",
                "header_template_id",
                "header_schema_id",
                "header_version",
                "instrument",
                "seq",
                "ts_exchange",
                "aggressor",
                "price",
                "qty",
            ],
            "formats": ["<u2", "<u2", "<u2", "<u2", "<u4", "<u8", "<u8", "u1", "<i8", "<i8"],
            "offsets": [0, 2, 4, 6, 8, 12, 20, 28, 29, 37],
            "itemsize": 45,
        }
    )
    EXPONENTS: ClassVar[dict[str, int]] = {"price": -9, "qty": -4}
    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ()
    _NULLS: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "2500020007000200ffffffffffffffffffffffffffffffffffffffffff00000000000000800000000000000080"
        ),
        dtype=DTYPE,
    )
    _TEMPLATE: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "250002000700020000000000000000000000000000000000000000000000000000000000000000000000000000"
        ),
        dtype=DTYPE,
    )


class NewOrder(BatchCodec):
    """Columns of `NewOrder` messages: 59 bytes each, header included."""

    NAME: ClassVar[str] = "NewOrder"
    TEMPLATE_ID: ClassVar[int] = 10
    BLOCK_LENGTH: ClassVar[int] = 51
    DTYPE: ClassVar[np.dtype[np.void]] = np.dtype(
        {
            "names": [
                "header_block_length",
                "header_template_id",
                "header_schema_id",
                "header_version",
                "client_order_id",
                "instrument",
                "symbol",
                "side",
                "price",
                "qty",
                "flags",
                "tif",
                "ts_sent",
            ],
            "formats": [
                "<u2",
                "<u2",
                "<u2",
                "<u2",
                "<u8",
                "<u4",
                "S12",
                "u1",
                "<i8",
                "<i8",
                "u1",
                "u1",
                "<u8",
            ],
            "offsets": [0, 2, 4, 6, 8, 16, 20, 32, 33, 41, 49, 50, 51],
            "itemsize": 59,
        }
    )
    EXPONENTS: ClassVar[dict[str, int]] = {"price": -9, "qty": -4}
    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ()
    _NULLS: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "33000a0007000200ffffffffffffffffffffffff000000000000000000000000ff0000000000000080000000000000008000ffffffffffffffffff"
        ),
        dtype=DTYPE,
    )
    _TEMPLATE: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "33000a0007000200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        ),
        dtype=DTYPE,
    )


class CancelOrder(BatchCodec):
    """Columns of `CancelOrder` messages: 45 bytes each, header included."""

    NAME: ClassVar[str] = "CancelOrder"
    TEMPLATE_ID: ClassVar[int] = 12
    BLOCK_LENGTH: ClassVar[int] = 37
    DTYPE: ClassVar[np.dtype[np.void]] = np.dtype(
        {
            "names": [
                "header_block_length",
                "header_template_id",
                "header_schema_id",
                "header_version",
                "client_order_id",
                "orig_client_order_id",
                "instrument",
                "side",
                "seq",
                "ts_sent",
            ],
            "formats": ["<u2", "<u2", "<u2", "<u2", "<u8", "<u8", "<u4", "u1", "<u8", "<u8"],
            "offsets": [0, 2, 4, 6, 8, 16, 24, 28, 29, 37],
            "itemsize": 45,
        }
    )
    EXPONENTS: ClassVar[dict[str, int]] = {}
    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ()
    _NULLS: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "25000c0007000200ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        ),
        dtype=DTYPE,
    )
    _TEMPLATE: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "25000c000700020000000000000000000000000000000000000000000000000000000000000000000000000000"
        ),
        dtype=DTYPE,
    )


class ReplaceOrder(BatchCodec):
    """Columns of `ReplaceOrder` messages: 61 bytes each, header included."""

    NAME: ClassVar[str] = "ReplaceOrder"
    TEMPLATE_ID: ClassVar[int] = 13
    BLOCK_LENGTH: ClassVar[int] = 53
    DTYPE: ClassVar[np.dtype[np.void]] = np.dtype(
        {
            "names": [
                "header_block_length",
                "header_template_id",
                "header_schema_id",
                "header_version",
                "client_order_id",
                "orig_client_order_id",
                "instrument",
                "side",
                "price",
                "qty",
                "seq",
                "ts_sent",
            ],
            "formats": [
                "<u2",
                "<u2",
                "<u2",
                "<u2",
                "<u8",
                "<u8",
                "<u4",
                "u1",
                "<i8",
                "<i8",
                "<u8",
                "<u8",
            ],
            "offsets": [0, 2, 4, 6, 8, 16, 24, 28, 29, 37, 45, 53],
            "itemsize": 61,
        }
    )
    EXPONENTS: ClassVar[dict[str, int]] = {"price": -9, "qty": -4}
    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ()
    _NULLS: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "35000d0007000200ffffffffffffffffffffffffffffffffffffffffff00000000000000800000000000000080ffffffffffffffffffffffffffffffff"
        ),
        dtype=DTYPE,
    )
    _TEMPLATE: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "35000d00070002000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        ),
        dtype=DTYPE,
    )


class OrderReject(BatchCodec):
    """Columns of `OrderReject` messages: 34 bytes each, header included."""

    NAME: ClassVar[str] = "OrderReject"
    TEMPLATE_ID: ClassVar[int] = 14
    BLOCK_LENGTH: ClassVar[int] = 26
    DTYPE: ClassVar[np.dtype[np.void]] = np.dtype(
        {
            "names": [
                "header_block_length",
                "header_template_id",
                "header_schema_id",
                "header_version",
                "client_order_id",
                "reject_code",
                "seq",
                "ts_exchange",
            ],
            "formats": ["<u2", "<u2", "<u2", "<u2", "<u8", "<u2", "<u8", "<u8"],
            "offsets": [0, 2, 4, 6, 8, 16, 18, 26],
            "itemsize": 34,
        }
    )
    EXPONENTS: ClassVar[dict[str, int]] = {}
    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ()
    _NULLS: ClassVar[Records] = np.frombuffer(
        bytes.fromhex("1a000e0007000200ffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        dtype=DTYPE,
    )
    _TEMPLATE: ClassVar[Records] = np.frombuffer(
        bytes.fromhex("1a000e00070002000000000000000000000000000000000000000000000000000000"),
        dtype=DTYPE,
    )


class Logon(BatchCodec):
    """Columns of `Logon` messages: 92 bytes each, header included."""

    NAME: ClassVar[str] = "Logon"
    TEMPLATE_ID: ClassVar[int] = 20
    BLOCK_LENGTH: ClassVar[int] = 84
    DTYPE: ClassVar[np.dtype[np.void]] = np.dtype(
        {
            "names": [
                "header_block_length",
                "header_template_id",
                "header_schema_id",
                "header_version",
                "seq",
                "heartbeat_ms",
                "api_key",
                "ts_sent",
            ],
            "formats": ["<u2", "<u2", "<u2", "<u2", "<u8", "<u4", "S64", "<u8"],
            "offsets": [0, 2, 4, 6, 8, 16, 20, 84],
            "itemsize": 92,
        }
    )
    EXPONENTS: ClassVar[dict[str, int]] = {}
    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ()
    _NULLS: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "5400140007000200ffffffffffffffffffffffff00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffff"
        ),
        dtype=DTYPE,
    )
    _TEMPLATE: ClassVar[Records] = np.frombuffer(
        bytes.fromhex(
            "5400140007000200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        ),
        dtype=DTYPE,
    )


class Logout(BatchCodec):
    """Columns of `Logout` messages: 26 bytes each, header included."""

    NAME: ClassVar[str] = "Logout"
    TEMPLATE_ID: ClassVar[int] = 21
    BLOCK_LENGTH: ClassVar[int] = 18
    DTYPE: ClassVar[np.dtype[np.void]] = np.dtype(
        {
            "names": [
                "header_block_length",
                "header_template_id",
                "header_schema_id",
                "header_version",
                "seq",
                "reason",
                "ts_sent",
            ],
            "formats": ["<u2", "<u2", "<u2", "<u2", "<u8", "<u2", "<u8"],
            "offsets": [0, 2, 4, 6, 8, 16, 18],
            "itemsize": 26,
        }
    )
    EXPONENTS: ClassVar[dict[str, int]] = {}
    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ()
    _NULLS: ClassVar[Records] = np.frombuffer(
        bytes.fromhex("1200150007000200ffffffffffffffffffffffffffffffffffff"), dtype=DTYPE
    )
    _TEMPLATE: ClassVar[Records] = np.frombuffer(
        bytes.fromhex("1200150007000200000000000000000000000000000000000000"), dtype=DTYPE
    )


class Heartbeat(BatchCodec):
    """Columns of `Heartbeat` messages: 24 bytes each, header included."""

    NAME: ClassVar[str] = "Heartbeat"
    TEMPLATE_ID: ClassVar[int] = 22
    BLOCK_LENGTH: ClassVar[int] = 16
    DTYPE: ClassVar[np.dtype[np.void]] = np.dtype(
        {
            "names": [
                "header_block_length",
                "header_template_id",
                "header_schema_id",
                "header_version",
                "seq",
                "ts_sent",
            ],
            "formats": ["<u2", "<u2", "<u2", "<u2", "<u8", "<u8"],
            "offsets": [0, 2, 4, 6, 8, 16],
            "itemsize": 24,
        }
    )
    EXPONENTS: ClassVar[dict[str, int]] = {}
    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ()
    _NULLS: ClassVar[Records] = np.frombuffer(
        bytes.fromhex("1000160007000200ffffffffffffffffffffffffffffffff"), dtype=DTYPE
    )
    _TEMPLATE: ClassVar[Records] = np.frombuffer(
        bytes.fromhex("100016000700020000000000000000000000000000000000"), dtype=DTYPE
    )
