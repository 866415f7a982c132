"""Wire-level helpers shared by the generated messages of `fx.mm`.

Nothing here copies message bytes: messages and group entries are flyweights, a
`memoryview`, an offset and the acting version. Decoding checks every length
against the buffer once, when a message is wrapped, so reading a field after
that never fails; a short or malformed buffer raises `DecodeError`.
"""

from __future__ import annotations

import decimal
import struct
from collections.abc import Iterator
from typing import ClassVar, Generic, Protocol, Self, TypeVar, cast

Buffer = bytes | bytearray | memoryview


class IntStruct(Protocol):
    """A precompiled `struct.Struct` of one integer (typing only: the objects are plain Structs)."""

    size: int

    def unpack_from(self, buffer: Buffer, offset: int = 0, /) -> tuple[int]: ...

    def pack_into(self, buffer: Buffer, offset: int, value: int, /) -> None: ...


class FloatStruct(Protocol):
    """A precompiled `struct.Struct` of one float."""

    size: int

    def unpack_from(self, buffer: Buffer, offset: int = 0, /) -> tuple[float]: ...

    def pack_into(self, buffer: Buffer, offset: int, value: float, /) -> None: ...


class HeaderStruct(Protocol):
    size: int

    def unpack_from(self, buffer: Buffer, offset: int = 0, /) -> tuple[int, int, int, int]: ...

    def pack_into(self, buffer: Buffer, offset: int, a: int, b: int, c: int, d: int, /) -> None: ...


class GroupHeaderStruct(Protocol):
    size: int

    def unpack_from(self, buffer: Buffer, offset: int = 0, /) -> tuple[int, int]: ...

    def pack_into(self, buffer: Buffer, offset: int, a: int, b: int, /) -> None: ...


I8 = cast(IntStruct, struct.Struct("<b"))
I16 = cast(IntStruct, struct.Struct("<h"))
I32 = cast(IntStruct, struct.Struct("<i"))
I64 = cast(IntStruct, struct.Struct("<q"))
U8 = cast(IntStruct, struct.Struct("<B"))
U16 = cast(IntStruct, struct.Struct("<H"))
U32 = cast(IntStruct, struct.Struct("<I"))
U64 = cast(IntStruct, struct.Struct("<Q"))
F32 = cast(FloatStruct, struct.Struct("<f"))
F64 = cast(FloatStruct, struct.Struct("<d"))

MESSAGE_HEADER = cast(HeaderStruct, struct.Struct("<HHHH"))
GROUP_HEADER = cast(GroupHeaderStruct, struct.Struct("<HH"))
VAR_LENGTH = cast(IntStruct, struct.Struct("<I"))
MESSAGE_HEADER_SIZE = 8
GROUP_HEADER_SIZE = 4
VAR_LENGTH_SIZE = 4
MAX_GROUP_ENTRIES = 65535
MAX_VAR_LENGTH = 0xFFFFFFFF


class DecodeError(ValueError):
    """The buffer does not hold a valid message: truncated, another template or
    schema, a block shorter than its version needs, or bad UTF-8."""


class EncodeError(ValueError):
    """A value does not fit its field, the buffer is too small or read-only, or
    groups and var-data were written out of schema order."""


def as_view(buf: Buffer) -> memoryview:
    """A flat byte view of `buf` (no copy)."""
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    if view.ndim != 1 or view.format != "B":
        view = view.cast("B")
    return view


def writable_view(buf: Buffer) -> memoryview:
    view = as_view(buf)
    if view.readonly:
        raise EncodeError(
            "encoding needs a writable buffer (bytearray, numpy array or a memoryview of one)"
        )
    return view


def need(buf: memoryview, end: int, what: str) -> None:
    """Raise `DecodeError` unless `buf` holds at least `end` bytes."""
    if end > len(buf):
        raise DecodeError(
            f"truncated buffer: {what} ends at byte {end} but the buffer holds {len(buf)} bytes"
        )


def room(buf: memoryview, end: int, what: str) -> None:
    """Raise `EncodeError` unless `buf` holds at least `end` bytes."""
    if end > len(buf):
        raise EncodeError(
            f"buffer too small: {what} ends at byte {end} but the buffer holds {len(buf)} bytes"
        )


def decode_chars(buf: memoryview, offset: int, length: int) -> str:
    """A NUL-padded char array as text (Latin-1: every byte maps to one character)."""
    raw = bytes(buf[offset : offset + length])
    end = raw.find(0)
    return (raw if end < 0 else raw[:end]).decode("latin-1")


def encode_chars(buf: memoryview, offset: int, length: int, value: str, what: str) -> None:
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raise EncodeError(f"{what}: {value!r} has characters outside Latin-1") from None
    if len(raw) > length:
        raise EncodeError(f"{what}: {len(raw)} bytes do not fit in char[{length}]")
    buf[offset : offset + length] = raw.ljust(length, b"\0")


def truncate_chars(value: str, length: int) -> str:
    """`value` cut to `length` characters (Latin-1: one byte each), for a char field that should
    keep what fits instead of raising `EncodeError` on longer text."""
    return value[:length]


def decode_utf8(raw: memoryview, what: str) -> str:
    try:
        return str(raw, "utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{what}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def encode_utf8(value: str, what: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodeError(f"{what}: cannot be encoded as UTF-8 ({exc.reason})") from None


class Item:
    """A repeating group (`entry` is its entry class) or a var-data field (`entry` is None)."""

    __slots__ = ("entry", "name", "since_version")

    def __init__(self, name: str, since_version: int, entry: type[Flyweight] | None) -> None:
        self.name = name
        self.since_version = since_version
        self.entry = entry


E = TypeVar("E", bound="Flyweight")


def scan_items(
    owner: type[Flyweight], buf: memoryview, pos: int, version: int, out: list[int] | None
) -> int:
    """Check the groups and var-data of one message or entry starting at `pos`;
    record where each starts in `out` (-1 when the acting version predates it)
    and return the position just past them."""
    for k, item in enumerate(owner._ITEMS):
        if item.since_version > version:
            if out is not None:
                out[k] = -1
            continue
        if out is not None:
            out[k] = pos
        need(buf, pos + 4, f"the header of `{item.name}`")
        entry = item.entry
        if entry is None:
            (length,) = VAR_LENGTH.unpack_from(buf, pos)
            pos += 4 + length
            need(buf, pos, f"var-data `{item.name}`")
            continue
        block_length, count = GROUP_HEADER.unpack_from(buf, pos)
        required = entry._required_block(version)
        if block_length < required:
            raise DecodeError(
                f"group `{item.name}`: block length {block_length} is shorter than the {required} bytes "
                f"version {version} needs"
            )
        pos += 4
        if entry._ITEMS:
            for _ in range(count):
                need(buf, pos + block_length, f"an entry of `{item.name}`")
                pos = scan_items(entry, buf, pos + block_length, version, None)
        else:
            pos += block_length * count
            need(buf, pos, f"the {count} entries of `{item.name}`")
    return pos


_NO_ITEMS: list[int] = []  # shared by decoded flyweights without groups or var-data; never written


class Flyweight:
    """Base of messages and group entries: a window over a buffer, no copies."""

    __slots__ = (
        "_block_length",
        "_buf",
        "_end",
        "_next_item",
        "_offset",
        "_open",
        "_pos",
        "_root",
        "_version",
    )

    BLOCK_LENGTH: ClassVar[int] = 0
    _ITEMS: ClassVar[tuple[Item, ...]] = ()
    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = ()
    _NULL_BLOCK: ClassVar[bytes] = b""

    _buf: memoryview
    _offset: int  # start of the fixed block
    _version: int  # acting version
    _block_length: int  # block length on the wire
    _pos: list[int]  # start of each group header or var-data length; -1 when absent
    _end: int  # one past the last byte; the message's is the encoding cursor
    _root: Flyweight  # the message this belongs to
    _next_item: int  # the next group or var-data to encode
    _open: GroupWriter[Flyweight] | None  # the group being encoded

    _REQUIRED_ALL: ClassVar[int] = 0  # the block the newest fields need
    _LAST_SINCE: ClassVar[int] = 0  # the newest field's since_version

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._REQUIRED_ALL = max((size for _, size in cls._REQUIRED), default=0)
        cls._LAST_SINCE = max((since for since, _ in cls._REQUIRED), default=0)

    @classmethod
    def _required_block(cls, version: int) -> int:
        """How many block bytes the fields of `version` and older occupy."""
        required = 0
        for since, size in cls._REQUIRED:
            if since <= version and size > required:
                required = size
        return required

    @classmethod
    def _decode_at(
        cls, buf: memoryview, offset: int, block_length: int, version: int, root: Flyweight | None
    ) -> Self:
        self = cls.__new__(cls)
        self._buf = buf
        self._offset = offset
        self._block_length = block_length
        self._version = version
        self._root = self if root is None else root
        self._open = None
        self._next_item = len(cls._ITEMS)  # decoded: groups and var-data are read-only
        if cls._ITEMS:
            self._pos = [-1] * len(cls._ITEMS)
            self._end = scan_items(cls, buf, offset + block_length, version, self._pos)
        else:
            self._pos = []
            self._end = offset + block_length
        return self

    @classmethod
    def _encode_at(cls, buf: memoryview, offset: int, version: int, root: Flyweight | None) -> Self:
        end = offset + cls.BLOCK_LENGTH
        room(buf, end, f"the block of {cls.__name__}")
        buf[offset:end] = cls._NULL_BLOCK
        self = cls.__new__(cls)
        self._buf = buf
        self._offset = offset
        self._block_length = cls.BLOCK_LENGTH
        self._version = version
        self._root = self if root is None else root
        self._open = None
        self._next_item = 0
        self._pos = [-1] * len(cls._ITEMS)
        self._end = end
        if root is not None:
            root._end = end
        return self

    @property
    def acting_version(self) -> int:
        """The schema version the bytes were written with (the header's)."""
        return self._version

    def to_dict(self) -> dict[str, object]:
        """Every field, group and var-data as plain values."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()!r})"

    # Encoding groups and var-data: they follow the block in schema order.

    def _close_open(self) -> None:
        writer = self._open
        if writer is None:
            return
        if writer._index < writer._count:
            raise EncodeError(
                f"group `{writer._name}`: {writer._count} entries declared but {writer._index} written"
            )
        if writer._last is not None:
            writer._last._complete()
        self._open = None

    def _fill_to(self, k: int) -> None:
        """Close the open group and write groups and var-data before `k` as empty."""
        self._close_open()
        root = self._root
        buf = self._buf
        for j in range(self._next_item, k):
            item = self._ITEMS[j]
            pos = root._end
            room(buf, pos + 4, f"the header of `{item.name}`")
            self._pos[j] = pos
            if item.entry is None:
                VAR_LENGTH.pack_into(buf, pos, 0)
            else:
                GROUP_HEADER.pack_into(buf, pos, item.entry.BLOCK_LENGTH, 0)
            root._end = pos + 4
        self._next_item = max(self._next_item, k)

    def _complete(self) -> None:
        self._fill_to(len(self._ITEMS))

    def _begin_item(self, k: int) -> int:
        if k < self._next_item:
            raise EncodeError(
                f"`{self._ITEMS[k].name}` of {type(self).__name__} is already written, or something after it is: "
                "write groups and var-data once each, in schema order"
            )
        self._fill_to(k)
        pos = self._root._end
        self._pos[k] = pos
        self._next_item = k + 1
        return pos

    def _begin_group(self, k: int, entry: type[E], count: int) -> GroupWriter[E]:
        name = self._ITEMS[k].name
        if not 0 <= count <= MAX_GROUP_ENTRIES:
            raise EncodeError(f"group `{name}`: {count} entries, the limit is {MAX_GROUP_ENTRIES}")
        pos = self._begin_item(k)
        room(self._buf, pos + 4, f"the header of `{name}`")
        GROUP_HEADER.pack_into(self._buf, pos, entry.BLOCK_LENGTH, count)
        self._root._end = pos + 4
        writer = GroupWriter(entry, self, count, name)
        self._open = writer  # type: ignore[assignment]
        return writer

    def _put_var(self, k: int, raw: bytes) -> None:
        name = self._ITEMS[k].name
        if len(raw) > MAX_VAR_LENGTH:
            raise EncodeError(f"var-data `{name}`: {len(raw)} bytes, the limit is {MAX_VAR_LENGTH}")
        pos = self._begin_item(k)
        end = pos + 4 + len(raw)
        room(self._buf, end, f"var-data `{name}`")
        VAR_LENGTH.pack_into(self._buf, pos, len(raw))
        self._buf[pos + 4 : end] = raw
        self._root._end = end

    def _get_var(self, k: int) -> memoryview:
        pos = self._pos[k]
        if pos < 0:
            return memoryview(b"")
        (length,) = VAR_LENGTH.unpack_from(self._buf, pos)
        return self._buf[pos + 4 : pos + 4 + length]

    def _group(self, k: int, entry: type[E]) -> GroupView[E]:
        return GroupView(entry, self._buf, self._pos[k], self._version, self._root)


class Message(Flyweight):
    """Base of the generated message classes."""

    __slots__ = ()

    NAME: ClassVar[str] = ""
    TEMPLATE_ID: ClassVar[int] = 0
    SCHEMA_ID: ClassVar[int] = 7
    SCHEMA_VERSION: ClassVar[int] = 2

    @classmethod
    def wrap_for_decode(cls, buf: Buffer, offset: int = 0) -> Self:
        """Read the header at `offset` and check the whole message against the buffer."""
        if type(buf) is memoryview and buf.format == "B" and buf.ndim == 1:
            view = buf
        else:
            view = as_view(buf)
        if offset < 0:
            raise DecodeError(f"negative offset {offset}")
        start = offset + MESSAGE_HEADER_SIZE
        if start > len(view):
            need(view, start, f"the header of {cls.NAME}")
        block_length, template_id, schema_id, version = MESSAGE_HEADER.unpack_from(view, offset)
        if template_id != cls.TEMPLATE_ID:
            raise DecodeError(f"template id {template_id} is not {cls.NAME} ({cls.TEMPLATE_ID})")
        if schema_id != cls.SCHEMA_ID:
            raise DecodeError(f"schema id {schema_id} is not {cls.SCHEMA_ID}")
        required = cls._REQUIRED_ALL if version >= cls._LAST_SINCE else cls._required_block(version)
        if block_length < required:
            raise DecodeError(
                f"{cls.NAME}: block length {block_length} is shorter than the {required} bytes version {version} needs"
            )
        end = start + block_length
        if end > len(view):
            need(view, end, f"the block of {cls.NAME}")
        if cls._ITEMS:
            return cls._decode_at(view, start, block_length, version, None)
        self = cls.__new__(cls)
        self._buf = view
        self._offset = start
        self._block_length = block_length
        self._version = version
        self._root = self
        self._open = None
        self._next_item = 0
        self._pos = _NO_ITEMS
        self._end = end
        return self

    @classmethod
    def wrap_and_apply_header(cls, buf: Buffer, offset: int = 0) -> Self:
        """Write the header at `offset` and start encoding; optional fields start null, others zero."""
        view = writable_view(buf)
        if offset < 0:
            raise EncodeError(f"negative offset {offset}")
        room(view, offset + MESSAGE_HEADER_SIZE, f"the header of {cls.NAME}")
        MESSAGE_HEADER.pack_into(
            view, offset, cls.BLOCK_LENGTH, cls.TEMPLATE_ID, cls.SCHEMA_ID, cls.SCHEMA_VERSION
        )
        return cls._encode_at(view, offset + MESSAGE_HEADER_SIZE, cls.SCHEMA_VERSION, None)

    @property
    def offset(self) -> int:
        """Where the message (its header) starts in the buffer."""
        return self._offset - MESSAGE_HEADER_SIZE

    @property
    def acting_block_length(self) -> int:
        """The block length the header declares."""
        return self._block_length

    @property
    def encoded_length(self) -> int:
        """Bytes from the header to the end of the message. While encoding, reading
        it completes the message: groups and var-data not written are written empty."""
        if self._next_item < len(self._ITEMS) or self._open is not None:
            self._complete()
        return self._end - self._offset + MESSAGE_HEADER_SIZE


class GroupView(Generic[E]):
    """The entries of one repeating group: sized, iterable and indexable."""

    __slots__ = ("_block_length", "_buf", "_count", "_entry", "_first", "_root", "_version")

    def __init__(
        self, entry: type[E], buf: memoryview, header: int, version: int, root: Flyweight
    ) -> None:
        self._entry = entry
        self._buf = buf
        self._version = version
        self._root = root
        if header < 0:
            self._first, self._block_length, self._count = 0, entry.BLOCK_LENGTH, 0
        else:
            self._block_length, self._count = GROUP_HEADER.unpack_from(buf, header)
            self._first = header + GROUP_HEADER_SIZE

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[E]:
        pos = self._first
        for _ in range(self._count):
            entry = self._entry._decode_at(
                self._buf, pos, self._block_length, self._version, self._root
            )
            yield entry
            pos = entry._end

    def __getitem__(self, index: int) -> E:
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(f"entry {index} of a group of {self._count}")
        if not self._entry._ITEMS:
            pos = self._first + index * self._block_length
            return self._entry._decode_at(
                self._buf, pos, self._block_length, self._version, self._root
            )
        for i, entry in enumerate(self):
            if i == index:
                return entry
        raise IndexError(index)  # unreachable: the loop covers every index

    def __repr__(self) -> str:
        return f"[{', '.join(repr(e) for e in self)}]"


class GroupWriter(Generic[E]):
    """Encodes the entries of one group: call `next()` (or iterate) once per declared entry."""

    __slots__ = ("_count", "_entry", "_index", "_last", "_name", "_owner")

    def __init__(self, entry: type[E], owner: Flyweight, count: int, name: str) -> None:
        self._entry = entry
        self._owner = owner
        self._count = count
        self._index = 0
        self._last: E | None = None
        self._name = name

    def __len__(self) -> int:
        return self._count

    def next(self) -> E:
        """Start the next entry; its fields start null (optional) or zero."""
        if self._index >= self._count:
            raise EncodeError(
                f"group `{self._name}`: all {self._count} declared entries are already written"
            )
        if self._last is not None:
            self._last._complete()
        owner = self._owner
        entry = self._entry._encode_at(owner._buf, owner._root._end, owner._version, owner._root)
        self._index += 1
        self._last = entry
        return entry

    def __iter__(self) -> Iterator[E]:
        while self._index < self._count:
            yield self.next()


_EXACT = decimal.Context(
    prec=1000,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow],
)


class ExactDecimal:
    """Base of the generated decimal types: an integer mantissa times 10^EXPONENT.

    Conversions to and from text and `decimal.Decimal` are exact: a value that
    is not a whole number of steps, or is out of range, raises `ValueError`.
    The null mantissa (SBE's null of the encoding) prints as `null`.
    """

    __slots__ = ("mantissa",)

    EXPONENT: ClassVar[int] = 0
    NULL_MANTISSA: ClassVar[int] = 0
    MIN_MANTISSA: ClassVar[int] = 0
    MAX_MANTISSA: ClassVar[int] = 0

    def __init__(self, mantissa: int) -> None:
        self.mantissa = mantissa

    @classmethod
    def null(cls) -> Self:
        return cls(cls.NULL_MANTISSA)

    @property
    def is_null(self) -> bool:
        return self.mantissa == self.NULL_MANTISSA

    @classmethod
    def from_decimal(cls, value: decimal.Decimal | int) -> Self:
        """The exact value of `value`; `ValueError` when it needs more precision or range."""
        try:
            number = decimal.Decimal(value)
            if not number.is_finite():
                raise ValueError(f"{cls.__name__}: {value} is not a finite number")
            scaled = number.scaleb(-cls.EXPONENT, context=_EXACT)
            integral = scaled.to_integral_value(context=_EXACT)
        except decimal.DecimalException:
            raise ValueError(f"{cls.__name__}: {value} is not representable exactly") from None
        if scaled != integral:
            raise ValueError(f"{cls.__name__}: {value} is not a multiple of 1e{cls.EXPONENT}")
        mantissa = int(integral)
        if not cls.MIN_MANTISSA <= mantissa <= cls.MAX_MANTISSA:
            raise ValueError(f"{cls.__name__}: {value} is out of range")
        return cls(mantissa)

    @classmethod
    def from_str(cls, text: str) -> Self:
        """Parse decimal text exactly (`"1.08125"`, `"-3"`, `"2.5e-3"`; `"null"` for the null value)."""
        text = text.strip()
        if text == "null":
            return cls.null()
        try:
            number = decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise ValueError(f"{cls.__name__}: {text!r} is not a decimal number") from None
        return cls.from_decimal(number)

    def to_decimal(self) -> decimal.Decimal:
        """The exact value; NaN for the null value."""
        if self.mantissa == self.NULL_MANTISSA:
            return decimal.Decimal("NaN")
        return decimal.Decimal(self.mantissa).scaleb(self.EXPONENT, context=_EXACT)

    def __float__(self) -> float:
        if self.mantissa == self.NULL_MANTISSA:
            return float("nan")
        return float(self.to_decimal())

    def __str__(self) -> str:
        mantissa = self.mantissa
        if mantissa == self.NULL_MANTISSA:
            return "null"
        if self.EXPONENT >= 0:
            return str(mantissa * 10**self.EXPONENT)
        sign = "-" if mantissa < 0 else ""
        whole, fraction = divmod(abs(mantissa), 10**-self.EXPONENT)
        digits = str(fraction).rjust(-self.EXPONENT, "0").rstrip("0")
        return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ExactDecimal)
        return self.mantissa == other.mantissa

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.mantissa))

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ExactDecimal)
        return self.mantissa < other.mantissa

    def __le__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ExactDecimal)
        return self.mantissa <= other.mantissa
