"""Python source for one schema: types, messages, dispatch and numpy batch views.

The per-type code (how a field reads, writes, and what its null is) comes from
`Codec`, built recursively so composites and arrays nest; modules are then
assembled line by line and formatted by ruff in the driver.
"""

from __future__ import annotations

import keyword
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass

from hftc.backends.python.constants import constant_lines
from hftc.ir.model import PRIMITIVES, Field, Group, Message, Schema, TypeDef, VarData

STRUCTS = {
    "int8": ("I8", "b", "i1"),
    "int16": ("I16", "h", "<i2"),
    "int32": ("I32", "i", "<i4"),
    "int64": ("I64", "q", "<i8"),
    "uint8": ("U8", "B", "u1"),
    "uint16": ("U16", "H", "<u2"),
    "uint32": ("U32", "I", "<u4"),
    "uint64": ("U64", "Q", "<u8"),
    "float32": ("F32", "f", "<f4"),
    "float64": ("F64", "d", "<f8"),
}

# Attributes every generated message or entry has; a field may not take them.
RESERVED = {
    "to_dict",
    "encoded_length",
    "acting_version",
    "acting_block_length",
    "offset",
    "wrap_for_decode",
    "wrap_and_apply_header",
}

HEADER_FIELDS = ("header_block_length", "header_template_id", "header_schema_id", "header_version")


def isort_key(name: str) -> tuple[int, tuple[tuple[int, int, str], ...]]:
    """Constants, then classes, then the rest, as isort and ruff order imports and `__all__`."""
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    natural = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name))
    return kind, natural


def names_list(names: list[str]) -> str:
    return ", ".join(sorted(set(names), key=isort_key))


def all_list(names: list[str]) -> str:
    return "[" + ", ".join(f'"{n}"' for n in sorted(set(names), key=isort_key)) + "]"


def at(base: str, offset: int) -> str:
    return f"{base} + {offset}" if offset else base


def ident(name: str) -> str:
    """A schema name as a Python identifier (`class` → `class_`)."""
    return name + "_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name


def camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\W]+", name) if p)


def upper_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def docstring(text: str, indent: str) -> list[str]:
    text = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if not text:
        return []
    if text.endswith('"'):
        text += " "
    lines = text.splitlines()
    if len(lines) == 1:
        return [f'{indent}"""{text}"""']
    return [f'{indent}"""{lines[0]}', *[f"{indent}{line}" if line else "" for line in lines[1:]], f'{indent}"""']


def bytes_expr(data: bytes) -> str:
    if not any(data):
        return f"bytes({len(data)})"
    return f'bytes.fromhex("{data.hex()}")'


@dataclass(frozen=True)
class Codec:
    """How one type reads, writes and nulls, as Python source."""

    annotation: str
    size: int
    read: Callable[[str, str], str]  # (buffer, offset) -> expression
    write: Callable[[str, str, str, str], list[str]]  # (buffer, offset, value, field name) -> statements
    null_expr: str
    null_bytes: bytes
    numpy: str  # numpy dtype descriptor, as source
    struct_name: str | None = None  # the integer Struct of decimals, enums, sets and integers
    struct_fmt: str | None = None


def structs_for(big_endian: bool) -> dict[str, tuple[str, str, str]]:
    """STRUCTS with numpy dtypes in the schema's byte order (the struct formats carry none)."""
    if not big_endian:
        return STRUCTS
    return {k: (s, fmt, np_fmt.replace("<", ">")) for k, (s, fmt, np_fmt) in STRUCTS.items()}


class Codecs:
    def __init__(self, ir: Schema):
        self.ir = ir
        self.types = {t.name: t for t in ir.types}
        self.order = ">" if ir.wire.big_endian else "<"
        self.structs = structs_for(ir.wire.big_endian)

    def pack(self, fmt: str, value: float) -> bytes:
        """A value's bytes in the schema's byte order."""
        return struct.pack(self.order + fmt, value)

    def get(self, name: str, depth: int = 0) -> Codec:
        if name in PRIMITIVES:
            return self._primitive(name)
        t = self.types[name]
        if t.kind == "decimal":
            return self._decimal(t)
        if t.kind == "enum":
            return self._enum(t)
        if t.kind == "set":
            return self._set(t)
        if t.kind == "char":
            return self._chars(t.length)
        if t.kind == "composite":
            return self._composite(t)
        if t.kind == "array":
            return self._array(t, depth)
        raise ValueError(f"type `{name}` has unsupported kind `{t.kind}`")

    def _primitive(self, name: str) -> Codec:
        if name == "char":
            return self._chars(1)
        s, fmt, np_fmt = self.structs[name]
        info = PRIMITIVES[name]
        if info.is_float:
            null_expr, null = 'float("nan")', self.pack(fmt, math.nan)
            annotation = "float"
        else:
            null_expr, null = repr(info.null_value), self.pack(fmt, info.null_value or 0)
            annotation = "int"
        return Codec(
            annotation,
            info.size,
            lambda b, o: f"{s}.unpack_from({b}, {o})[0]",
            lambda b, o, v, w: [f"{s}.pack_into({b}, {o}, {v})"],
            null_expr,
            null,
            f'"{np_fmt}"',
            s,
            fmt,
        )

    def _int_parts(self, t: TypeDef) -> tuple[str, str, str, PrimitiveNull]:
        s, fmt, np_fmt = self.structs[t.encoding or "int64"]
        return s, fmt, np_fmt, PrimitiveNull(t)

    def _decimal(self, t: TypeDef) -> Codec:
        s, fmt, np_fmt, null = self._int_parts(t)
        return Codec(
            t.name,
            t.size,
            lambda b, o: f"{t.name}({s}.unpack_from({b}, {o})[0])",
            lambda b, o, v, w: [f"{s}.pack_into({b}, {o}, {v}.mantissa)"],
            f"{t.name}({null.value})",
            self.pack(fmt, null.value),
            f'"{np_fmt}"',
            s,
            fmt,
        )

    def _enum(self, t: TypeDef) -> Codec:
        s, fmt, np_fmt, null = self._int_parts(t)
        return Codec(
            f"{t.name} | None",
            t.size,
            lambda b, o: f"{t.name}.from_raw({s}.unpack_from({b}, {o})[0])",
            lambda b, o, v, w: [f"{s}.pack_into({b}, {o}, {null.value} if {v} is None else int({v}))"],
            "None",
            self.pack(fmt, null.value),
            f'"{np_fmt}"',
            s,
            fmt,
        )

    def _set(self, t: TypeDef) -> Codec:
        s, fmt, np_fmt = self.structs[t.encoding or "uint8"]
        return Codec(
            t.name,
            t.size,
            lambda b, o: f"{t.name}({s}.unpack_from({b}, {o})[0])",
            lambda b, o, v, w: [f"{s}.pack_into({b}, {o}, int({v}))"],
            f"{t.name}(0)",
            bytes(t.size),
            f'"{np_fmt}"',
            s,
            fmt,
        )

    def _chars(self, length: int) -> Codec:
        return Codec(
            "str",
            length,
            lambda b, o: f"decode_chars({b}, {o}, {length})",
            lambda b, o, v, w: [f'encode_chars({b}, {o}, {length}, {v}, "{w}")'],
            '""',
            bytes(length),
            f'"S{length}"',
        )

    def _composite(self, t: TypeDef) -> Codec:
        null = bytearray(t.size)
        for f in t.fields:
            c = self.get(f.type)
            null[f.offset : f.offset + c.size] = c.null_bytes
        return Codec(
            t.name,
            t.size,
            lambda b, o: f"{t.name}.decode({b}, {o})",
            lambda b, o, v, w: [f"{v}.encode({b}, {o})"],
            f"{t.name}.null()",
            bytes(null),
            self.numpy_struct(t.fields, t.size),
        )

    def _array(self, t: TypeDef, depth: int) -> Codec:
        e = self.get(t.element or "", depth + 1)
        n, i, x = t.length, f"_i{depth}", f"_e{depth}"

        def read(b: str, o: str) -> str:
            return f"tuple({e.read(b, f'{o} + {e.size} * {i}')} for {i} in range({n}))"

        def write(b: str, o: str, v: str, w: str) -> list[str]:
            inner = e.write(b, f"{o} + {e.size} * {i}", x, w)
            return [
                f"if len({v}) != {n}:",
                f'    raise EncodeError(f"{w}: {n} elements expected, got {{len({v})}}")',
                f"for {i}, {x} in enumerate({v}):",
                *["    " + line for line in inner],
            ]

        return Codec(
            f"tuple[{e.annotation}, ...]",
            e.size * n,
            read,
            write,
            f"({e.null_expr},) * {n}",
            e.null_bytes * n,
            f"({e.numpy}, ({n},))",
        )

    def numpy_struct(self, fields: tuple[Field, ...], itemsize: int, header: bool = False) -> str:
        names, formats, offsets = [], [], []
        base = 0
        if header:
            names.extend(HEADER_FIELDS)
            for _, prim, offset in self.ir.wire.header_fields:
                formats.append(f'"{self.structs[prim][2]}"')
                offsets.append(offset)
            base = self.ir.wire.header_size
        for f in fields:
            names.append(f.name)
            formats.append(self.get(f.type).numpy)
            offsets.append(base + f.offset)
        return (
            "{"
            f'"names": [{", ".join(repr(n) for n in names)}], '
            f'"formats": [{", ".join(formats)}], '
            f'"offsets": {offsets!r}, '
            f'"itemsize": {itemsize + base}'
            "}"
        )


class PrimitiveNull:
    """The null of a decimal or enum type: the IR's, else the encoding's SBE null."""

    def __init__(self, t: TypeDef):
        value = t.null_value if t.null_value is not None else PRIMITIVES[t.encoding or "int64"].null_value
        self.value = int(value or 0)


INT_KINDS = ("decimal", "enum", "set")


@dataclass(frozen=True)
class FieldPlan:
    """Everything the generator needs to emit one field's accessors."""

    f: Field
    attr: str
    codec: Codec
    nullable: bool  # getter returns None for the null value
    null_int: int | float | None  # the field's null for integer-like and float kinds
    null_bytes: bytes  # the field's null on the wire


class Generator:
    def __init__(self, ir: Schema):
        self.ir = ir
        self.codecs = Codecs(ir)
        self.problems: list[str] = []

    # ---- fields -------------------------------------------------------------------------------

    def plan(self, f: Field) -> FieldPlan:
        codec = self.codecs.get(f.type)
        t = self.codecs.types.get(f.type)
        is_float = f.type in PRIMITIVES and PRIMITIVES[f.type].is_float
        is_int = f.type in PRIMITIVES and not is_float and f.type != "char"
        null_int: int | float | None = None
        null_bytes = codec.null_bytes
        if is_int or (t is not None and t.kind in ("decimal", "enum")):
            if f.null_value is not None:
                null_int = int(f.null_value)
            elif t is not None:
                null_int = PrimitiveNull(t).value
            else:
                null_int = int(PRIMITIVES[f.type].null_value or 0)
            null_bytes = self.codecs.pack(codec.struct_fmt or "q", null_int)
        elif is_float:
            null_int = float(f.null_value) if f.null_value is not None else math.nan
            null_bytes = self.codecs.pack(codec.struct_fmt or "d", null_int)
        nullable = f.optional and (is_int or is_float or (t is not None and t.kind == "decimal"))
        return FieldPlan(f, ident(f.name), codec, nullable, null_int, null_bytes)

    def absent_expr(self, p: FieldPlan) -> str:
        """What a field reads as when the acting version predates it."""
        if p.nullable:
            return "None"
        t = self.codecs.types.get(p.f.type)
        if p.null_int is not None and t is not None and t.kind == "decimal":
            return f"{t.name}({int(p.null_int)})"
        if p.null_int is not None and t is None:
            return 'float("nan")' if isinstance(p.null_int, float) and math.isnan(p.null_int) else repr(p.null_int)
        return p.codec.null_expr

    def field_lines(self, p: FieldPlan) -> list[str]:
        f, c, a = p.f, p.codec, p.attr
        off = at("self._offset", f.offset)
        gate = (
            [f"        if self._version < {f.since_version}:", f"            return {self.absent_expr(p)}"]
            if f.since_version > 0
            else []
        )
        t = self.codecs.types.get(f.type)
        annotation = f"{c.annotation} | None" if p.nullable else c.annotation
        doc = f.description
        if f.unit:
            doc = f"{doc} Unit: {f.unit}." if doc else f"Unit: {f.unit}."
        if f.since_version:
            doc = f"{doc} Since version {f.since_version}." if doc else f"Since version {f.since_version}."
        if f.deprecated is not None:
            doc = f"{doc} Deprecated since version {f.deprecated}."
        if t is not None and t.kind == "enum":
            doc = (
                f"{doc} None when the value is null or unknown (see `{a}_raw`)."
                if doc
                else f"None when the value is null or unknown (see `{a}_raw`)."
            )
        if p.nullable:
            doc = f"{doc} None when null." if doc else "None when null."
        lines = ["    @property", f"    def {a}(self) -> {annotation}:", *docstring(doc, "        "), *gate]
        if p.nullable:
            lines.append(f"        raw = {c.struct_name}.unpack_from(self._buf, {off})[0]")
            if t is not None and t.kind == "decimal":
                lines.append(f"        return None if raw == {p.null_int} else {t.name}(raw)")
            elif isinstance(p.null_int, float) and math.isnan(p.null_int):
                lines.append("        return None if math.isnan(raw) else raw")
            else:
                lines.append(f"        return None if raw == {p.null_int!r} else raw")
        else:
            lines.append(f"        return {c.read('self._buf', off)}")
        lines += ["", f"    @{a}.setter", f"    def {a}(self, value: {annotation}) -> None:", "        try:"]
        if p.nullable:
            null = 'float("nan")' if isinstance(p.null_int, float) and math.isnan(p.null_int) else repr(p.null_int)
            value = "value.mantissa" if t is not None and t.kind == "decimal" else "value"
            lines.append(
                f"            {c.struct_name}.pack_into(self._buf, {off}, {null} if value is None else {value})"
            )
        elif t is not None and t.kind == "enum":
            lines.append(
                f"            {c.struct_name}.pack_into(self._buf, {off}, {p.null_int} if value is None else int(value))"
            )
        else:
            lines += ["            " + line for line in c.write("self._buf", off, "value", f.name)]
        lines += [
            "        except struct.error as exc:",
            f'            raise EncodeError(f"{f.name}: {{exc}}") from None',
            "",
        ]
        if t is not None and t.kind in INT_KINDS:
            raw_null = p.null_int if p.null_int is not None else 0
            lines += [
                "    @property",
                f"    def {a}_raw(self) -> int:",
                f'        """The integer on the wire{", even when not a member" if t.kind != "decimal" else " (the mantissa)"}."""',
            ]
            if f.since_version > 0:
                lines += [f"        if self._version < {f.since_version}:", f"            return {int(raw_null)}"]
            lines += [
                f"        return {c.struct_name}.unpack_from(self._buf, {off})[0]",
                "",
                f"    @{a}_raw.setter",
                f"    def {a}_raw(self, value: int) -> None:",
                "        try:",
                f"            {c.struct_name}.pack_into(self._buf, {off}, value)",
                "        except struct.error as exc:",
                f'            raise EncodeError(f"{f.name}_raw: {{exc}}") from None',
                "",
            ]
        return lines

    # ---- classes ------------------------------------------------------------------------------

    def check_names(
        self, owner: str, fields: tuple[Field, ...], groups: tuple[Group, ...], data: tuple[VarData, ...]
    ) -> None:
        seen: dict[str, str] = {}

        def claim(attr: str, what: str) -> None:
            if attr in RESERVED or attr.startswith("_"):
                self.problems.append(f"{owner}: {what} would shadow the generated attribute `{attr}`")
            elif attr in seen:
                self.problems.append(f"{owner}: {what} and {seen[attr]} both need the attribute `{attr}`")
            seen[attr] = what

        for f in fields:
            if f.name in HEADER_FIELDS:
                self.problems.append(f"{owner}: field `{f.name}` clashes with a header column of the numpy dtype")
            claim(ident(f.name), f"field `{f.name}`")
            t = self.codecs.types.get(f.type)
            if t is not None and t.kind in INT_KINDS:
                claim(ident(f.name) + "_raw", f"field `{f.name}`")
        for g in groups:
            claim(ident(g.name), f"group `{g.name}`")
            claim("encode_" + g.name, f"group `{g.name}`")
        for d in data:
            claim(ident(d.name), f"var-data `{d.name}`")
            claim(d.name + "_view", f"var-data `{d.name}`")

    def name_problems(self) -> list[str]:
        """What `check_names` finds in every message and group entry, without generating any module:
        `hftc lint` runs this instead of the whole generator."""

        def walk(name: str, owner: Message | Group) -> None:
            for g in owner.groups:
                walk(name + camel(g.name), g)
            self.check_names(name, owner.fields, owner.groups, owner.data)

        for m in self.ir.messages:
            walk(m.name, m)
        return sorted(set(self.problems))

    def required(self, fields: tuple[Field, ...]) -> str:
        by_version: dict[int, int] = {}
        for f in fields:
            by_version[f.since_version] = max(by_version.get(f.since_version, 0), f.offset + f.size)
        return "(" + "".join(f"({v}, {n}), " for v, n in sorted(by_version.items())) + ")"

    def null_block(self, fields: tuple[Field, ...], block_length: int, everything: bool) -> bytes:
        """The block with optional fields (or, with `everything`, all fields) null, the rest zero."""
        block = bytearray(block_length)
        for f in fields:
            p = self.plan(f)
            if everything or f.optional:
                block[f.offset : f.offset + f.size] = p.null_bytes
        return bytes(block)

    def flyweight(self, name: str, base: str, owner: Message | Group, doc: str, message: Message | None) -> list[str]:
        """Entry classes of nested groups first, then the class itself."""
        out: list[str] = []
        entries = []
        for g in owner.groups:
            entry = name + camel(g.name)
            entries.append(entry)
            out += self.flyweight(entry, "Flyweight", g, g.description or f"One entry of `{g.name}`.", None)
        self.check_names(name, owner.fields, owner.groups, owner.data)
        items = [f'Item("{g.name}", {g.since_version}, {e})' for g, e in zip(owner.groups, entries)]
        items += [f'Item("{d.name}", {d.since_version}, None)' for d in owner.data]
        lines = [f"class {name}({base}):", *docstring(doc, "    "), "", "    __slots__ = ()", ""]
        if message is not None:
            lines += [
                f'    NAME: ClassVar[str] = "{message.name}"',
                f"    TEMPLATE_ID: ClassVar[int] = {message.id}",
            ]
        lines += [
            f"    BLOCK_LENGTH: ClassVar[int] = {owner.block_length}",
            f"    _ITEMS: ClassVar[tuple[Item, ...]] = ({''.join(i + ', ' for i in items)})",
            f"    _REQUIRED: ClassVar[tuple[tuple[int, int], ...]] = {self.required(owner.fields)}",
            f"    _NULL_BLOCK: ClassVar[bytes] = {bytes_expr(self.null_block(owner.fields, owner.block_length, False))}",
            "",
            *constant_lines(owner.constants, self.ir, ident),
        ]
        plans = [self.plan(f) for f in owner.fields]
        for p in plans:
            lines += self.field_lines(p)
        for k, (g, entry) in enumerate(zip(owner.groups, entries)):
            a = ident(g.name)
            gdoc = (g.description + " " if g.description else "") + (
                f"Empty when the acting version predates {g.since_version}." if g.since_version else ""
            )
            lines += [
                "    @property",
                f"    def {a}(self) -> GroupView[{entry}]:",
                *docstring(gdoc or f"The entries of `{g.name}`.", "        "),
                f"        return self._group({k}, {entry})",
                "",
                f"    def encode_{g.name}(self, count: int) -> GroupWriter[{entry}]:",
                f'        """Start `{g.name}` with `count` entries; write each with `next()`."""',
                f"        return self._begin_group({k}, {entry}, count)",
                "",
            ]
        for j, d in enumerate(owner.data):
            k = len(owner.groups) + j
            a = ident(d.name)
            py_type = "str" if d.encoding == "utf8" else "bytes"
            ddoc = (d.description + " " if d.description else "") + (
                f"Empty when the acting version predates {d.since_version}." if d.since_version else ""
            )
            getter = (
                f'decode_utf8(self._get_var({k}), "{d.name}")' if py_type == "str" else f"bytes(self._get_var({k}))"
            )
            setter = f'encode_utf8(value, "{d.name}")' if py_type == "str" else "bytes(value)"
            lines += [
                "    @property",
                f"    def {a}(self) -> {py_type}:",
                *docstring(ddoc or f"The var-data `{d.name}` ({d.encoding}).", "        "),
                f"        return {getter}",
                "",
                f"    @{a}.setter",
                f"    def {a}(self, value: {py_type}) -> None:",
                f"        self._put_var({k}, {setter})",
                "",
                "    @property",
                f"    def {d.name}_view(self) -> memoryview:",
                f'        """The raw bytes of `{d.name}`, without a copy."""',
                f"        return self._get_var({k})",
                "",
            ]
        entries_iter = iter(entries)
        pairs = [f'"{p.f.name}": self.{p.attr}' for p in plans]
        for g in owner.groups:
            entry = next(entries_iter)
            pairs.append(f'"{g.name}": [e.to_dict() for e in self.{ident(g.name)}]')
        pairs += [f'"{d.name}": self.{ident(d.name)}' for d in owner.data]
        lines += [
            "    def to_dict(self) -> dict[str, object]:",
            "        return {" + ", ".join(pairs) + "}",
            "",
        ]
        return out + lines + [""]

    # ---- modules ------------------------------------------------------------------------------

    def types_module(self) -> str:
        ir = self.ir
        body: list[str] = []
        for t in ir.types:
            if t.kind == "decimal":
                info = PRIMITIVES[t.encoding or "int64"]
                body += [
                    f"class {t.name}(ExactDecimal):",
                    *docstring(
                        (t.description + "\n\n" if t.description else "")
                        + f"Exact decimal: an integer mantissa ({t.encoding} on the wire) times 10^{t.exponent}.",
                        "    ",
                    ),
                    "",
                    "    __slots__ = ()",
                    "",
                    f"    EXPONENT: ClassVar[int] = {t.exponent}",
                    f"    NULL_MANTISSA: ClassVar[int] = {PrimitiveNull(t).value}",
                    f"    MIN_MANTISSA: ClassVar[int] = {info.min_value}",
                    f"    MAX_MANTISSA: ClassVar[int] = {info.max_value}",
                    "",
                    "",
                ]
            elif t.kind == "enum":
                table = f"_{upper_snake(t.name)}_BY_VALUE"
                body += [f"class {t.name}(IntEnum):", *docstring(t.description, "    "), ""]
                body += [f"    {ident(v.name)} = {v.value}" for v in t.values]
                body += [
                    "",
                    "    @classmethod",
                    f"    def from_raw(cls, value: int) -> {t.name} | None:",
                    '        """The member for `value`; None for the null value and for values this schema does not know."""',
                    f"        return {table}.get(value)",
                    "",
                    "",
                    f"{table}: dict[int, {t.name}] = {{m.value: m for m in {t.name}}}",
                    f"{upper_snake(t.name)}_NULL = {PrimitiveNull(t).value}",
                    "",
                    "",
                ]
            elif t.kind == "set":
                body += [
                    f"class {t.name}(IntFlag, boundary=KEEP):",
                    *docstring(
                        (t.description + " " if t.description else "") + "Bits this schema does not name are kept.",
                        "    ",
                    ),
                    "",
                ]
                body += [f"    {ident(c.name)} = 1 << {c.bit}" for c in t.choices]
                body += ["", ""]
            elif t.kind in ("char", "array"):
                what = "characters, NUL-padded" if t.kind == "char" else f"elements of {t.element}"
                body += [
                    f"# {t.name}: {t.length} {what}." + (f" {t.description}" if t.description else ""),
                    f"{upper_snake(t.name)}_LENGTH = {t.length}",
                    "",
                    "",
                ]
        for t in self.composites_in_order():
            body += self.composite_class(t)
        header = [
            '"""Types of `' + ir.package + '`: enums, bit sets, exact decimals and composites."""',
            "",
            "from __future__ import annotations",
            "",
        ]
        text = "\n".join(body)
        std = []
        if "@dataclass" in text:
            std.append("from dataclasses import dataclass")
        enum_names = [n for n in ("KEEP", "IntEnum", "IntFlag") if re.search(rf"\b{n}\b", text)]
        if enum_names:
            std.append(f"from enum import {', '.join(enum_names)}")
        if "struct.error" in text:
            std.insert(0, "import struct")
        if "ClassVar" in text:
            std.append("from typing import ClassVar")
        imports = [*std, ""] if std else []
        codec = self.used(
            text, ["EncodeError", "ExactDecimal", *[s for s, _, _ in STRUCTS.values()], "decode_chars", "encode_chars"]
        )
        if codec:
            imports += [f"from .codec import {', '.join(codec)}", ""]
        exports = [t.name for t in ir.types if t.kind in ("decimal", "enum", "set", "composite")]
        exports += [f"{upper_snake(t.name)}_NULL" for t in ir.types if t.kind == "enum"]
        exports += [f"{upper_snake(t.name)}_LENGTH" for t in ir.types if t.kind in ("char", "array")]
        return "\n".join(header + imports + [f"__all__ = {all_list(exports)}", "", ""] + body) + "\n"

    def composites_in_order(self) -> list[TypeDef]:
        done: dict[str, TypeDef] = {}

        def visit(name: str) -> None:
            t = self.codecs.types.get(name)
            if t is None or name in done:
                return
            if t.kind == "array":
                visit(t.element or "")
                return
            if t.kind != "composite":
                return
            for f in t.fields:
                visit(f.type)
            done[name] = t

        for t in self.ir.types:
            visit(t.name)
        return list(done.values())

    def composite_class(self, t: TypeDef) -> list[str]:
        codecs = [(f, self.codecs.get(f.type)) for f in t.fields]
        lines = [
            "@dataclass(frozen=True, slots=True)",
            f"class {t.name}:",
            *docstring((t.description + " " if t.description else "") + f"A {t.size}-byte composite.", "    "),
            "",
            f"    SIZE: ClassVar[int] = {t.size}",
            "",
        ]
        lines += [f"    {ident(f.name)}: {c.annotation}" for f, c in codecs]
        reads = ", ".join(c.read("buf", at("offset", f.offset)) for f, c in codecs)
        nulls = ", ".join(c.null_expr for f, c in codecs)
        lines += [
            "",
            "    @classmethod",
            f"    def decode(cls, buf: memoryview, offset: int) -> {t.name}:",
            f"        return cls({reads})",
            "",
            "    def encode(self, buf: memoryview, offset: int) -> None:",
            "        try:",
        ]
        for f, c in codecs:
            lines += [
                "            " + line
                for line in c.write("buf", at("offset", f.offset), f"self.{ident(f.name)}", f"{t.name}.{f.name}")
            ]
        if not codecs:
            lines.append("            pass")
        lines += [
            "        except struct.error as exc:",
            f'            raise EncodeError(f"{t.name}: {{exc}}") from None',
            "",
            "    @classmethod",
            f"    def null(cls) -> {t.name}:",
            f"        return cls({nulls})",
            "",
            "",
        ]
        return lines

    @staticmethod
    def used(text: str, names: list[str]) -> list[str]:
        return sorted({n for n in names if re.search(rf"(?<![\w.]){n}\b", text)}, key=isort_key)

    def messages_module(self) -> str:
        ir = self.ir
        body: list[str] = []
        for m in ir.messages:
            doc = m.description or f"The message `{m.name}`."
            doc += f"\n\nTemplate id {m.id}; a {m.block_length}-byte block after the {ir.wire.header_size}-byte header."
            if m.deprecated is not None:
                doc += f" Deprecated since version {m.deprecated}."
            body += self.flyweight(m.name, "Message", m, doc, m)
        text = "\n".join(body)
        imports = ["from __future__ import annotations", ""]
        std = (
            (["import math"] if "math.isnan" in text else [])
            + (["import struct"] if "struct.error" in text else [])
            + (["from typing import ClassVar"] if "ClassVar" in text else [])
        )
        if std:
            imports += [*std, ""]
        codec = self.used(
            text,
            [
                "EncodeError",
                "Flyweight",
                "GroupView",
                "GroupWriter",
                "Item",
                "Message",
                *[s for s, _, _ in STRUCTS.values()],
                "decode_chars",
                "encode_chars",
                "decode_utf8",
                "encode_utf8",
            ],
        )
        if codec:
            imports.append(f"from .codec import {', '.join(codec)}")
        types = self.used(text, [t.name for t in ir.types if t.kind in ("decimal", "enum", "set", "composite")])
        if types:
            imports.append(f"from .types import {', '.join(types)}")
        names = [m.name for m in ir.messages]
        head = [
            '"""Messages of `' + ir.package + "`: flyweights over a buffer, read and written in place.",
            "",
            "Decode with `Cls.wrap_for_decode(buf, offset)`, encode with `Cls.wrap_and_apply_header(buf, offset)`",
            "then set fields, then groups (`encode_<group>(count)`, `next()` per entry) and var-data, in schema",
            "order; `encoded_length` is the size on the wire. Enum fields read as None when the value is null",
            "or unknown to this schema; `<field>_raw` gives the integer either way.",
            '"""',
            "",
        ]
        while imports and imports[-1] == "":
            imports.pop()
        return "\n".join(head + imports + ["", f"__all__ = {all_list(names)}", "", ""] + body) + "\n"

    def dispatch_module(self) -> str:
        ir = self.ir
        names = [m.name for m in ir.messages]
        union = " | ".join(names) if names else "Message"
        lines = [
            '"""Decode any message of `' + ir.package + '` by its template id."""',
            "",
            "from __future__ import annotations",
            "",
            "from collections.abc import Iterator",
            "",
            "from .codec import "
            + names_list(
                ["MESSAGE_HEADER", "MESSAGE_HEADER_SIZE", "Buffer", "DecodeError", "as_view", "need"]
                + ([] if names else ["Message"])
            ),
        ]
        if names:
            lines.append(f"from .messages import {names_list(names)}")
        lines += [
            "",
            '__all__ = ["MESSAGES", "SCHEMA_ID", "SCHEMA_VERSION", "AnyMessage", "decode", "decode_all"]',
            "",
            f"SCHEMA_ID = {ir.schema_id}",
            f"SCHEMA_VERSION = {ir.version}",
            "",
            f"AnyMessage = {union}",
            "",
            f"MESSAGES: dict[int, type[{union}]] = {{",
            *[f"    {m.id}: {m.name}," for m in sorted(ir.messages, key=lambda m: m.id)],
            "}",
            '"""Template id → message class."""',
            "",
            "",
            "def decode(buf: Buffer, offset: int = 0) -> AnyMessage:",
            '    """The message at `offset`, whatever its template; `DecodeError` for an unknown one."""',
            "    view = as_view(buf)",
            '    need(view, offset + MESSAGE_HEADER_SIZE, "a message header")',
            "    _, template_id, schema_id, _ = MESSAGE_HEADER.unpack_from(view, offset)",
            "    if schema_id != SCHEMA_ID:",
            '        raise DecodeError(f"schema id {schema_id} is not {SCHEMA_ID}")',
            "    cls = MESSAGES.get(template_id)",
            "    if cls is None:",
            '        raise DecodeError(f"unknown template id {template_id}")',
            "    return cls.wrap_for_decode(view, offset)",
            "",
            "",
            "def decode_all(buf: Buffer, offset: int = 0) -> Iterator[AnyMessage]:",
            '    """Every message of a buffer holding messages laid end to end."""',
            "    view = as_view(buf)",
            "    while offset < len(view):",
            "        message = decode(view, offset)",
            "        yield message",
            "        offset += message.encoded_length",
        ]
        return "\n".join(lines) + "\n"

    def batch_module(self) -> str:
        ir = self.ir
        fixed = [m for m in ir.messages if m.is_fixed_layout]
        lines = [
            '"""numpy views of the fixed-layout messages of `' + ir.package + "`, laid end to end.",
            "",
            f"Each class has a packed {ir.wire.byte_order}-endian structured `DTYPE` with the message header as its first",
            "four fields, so `np.frombuffer(buf, dtype=Cls.DTYPE)` turns a buffer of messages into columns",
            "without a Python loop. Decimal columns hold mantissas (`EXPONENTS` gives the scale), enum and",
            "set columns the integers on the wire.",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            "from typing import ClassVar",
            "",
            "import numpy as np",
            "import numpy.typing as npt",
            "",
            "from .codec import Buffer, DecodeError, EncodeError, as_view, room, writable_view",
            "",
            f"__all__ = {all_list(['BatchCodec', 'Records', *(m.name for m in fixed)])}",
            "",
            "Records = npt.NDArray[np.void]",
            "",
            "",
            "class BatchCodec:",
            '    """Shared batch logic; a subclass per message sets the constants."""',
            "",
            '    NAME: ClassVar[str] = ""',
            "    TEMPLATE_ID: ClassVar[int] = 0",
            f"    SCHEMA_ID: ClassVar[int] = {ir.schema_id}",
            f"    SCHEMA_VERSION: ClassVar[int] = {ir.version}",
            "    BLOCK_LENGTH: ClassVar[int] = 0",
            "    DTYPE: ClassVar[np.dtype[np.void]]",
            "    EXPONENTS: ClassVar[dict[str, int]] = {}",
            "    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ()",
            "    _NULLS: ClassVar[Records]",
            "    _TEMPLATE: ClassVar[Records]",
            "",
            "    @classmethod",
            "    def decode(cls, buf: Buffer, offset: int = 0, count: int = -1) -> Records:",
            '        """The messages of `buf` from `offset` as records, without a copy (unless fields newer',
            "        than some messages' version must read as null). Every header must name this message,",
            '        this schema and this block length; `DecodeError` otherwise."""',
            "        view = as_view(buf)",
            "        size = cls.DTYPE.itemsize",
            "        available = len(view) - offset",
            "        if offset < 0 or available < 0:",
            '            raise DecodeError(f"offset {offset} is outside the buffer of {len(view)} bytes")',
            "        if count < 0:",
            "            if available % size:",
            "                raise DecodeError(",
            '                    f"truncated buffer: {available} bytes are not a whole number of {size}-byte {cls.NAME} messages"',
            "                )",
            "            count = available // size",
            "        elif count * size > available:",
            (
                '            raise DecodeError(f"truncated buffer: {count} {cls.NAME} messages need {count * size} '
                'bytes, the buffer has {available}")'
            ),
            "        records: Records = np.frombuffer(view, dtype=cls.DTYPE, count=count, offset=offset)",
            "        bad = (",
            '            (records["header_template_id"] != cls.TEMPLATE_ID)',
            '            | (records["header_schema_id"] != cls.SCHEMA_ID)',
            '            | (records["header_block_length"] != cls.BLOCK_LENGTH)',
            "        )",
            "        if bad.any():",
            "            i = int(np.argmax(bad))",
            "            head = records[i]",
            "            raise DecodeError(",
            "                f\"message {i}: template {head['header_template_id']}, schema {head['header_schema_id']}, \"",
            "                f\"block length {head['header_block_length']}; a {cls.NAME} batch needs \"",
            '                f"{cls.TEMPLATE_ID}, {cls.SCHEMA_ID} and {cls.BLOCK_LENGTH}"',
            "            )",
            "        copied = False",
            "        for name, since in cls._VERSIONED:",
            '            old = records["header_version"] < since',
            "            if old.any():",
            "                if not copied:",
            "                    records = records.copy()",
            "                    copied = True",
            "                records[name][old] = cls._NULLS[name][0]",
            "        return records",
            "",
            "    @classmethod",
            "    def zeros(cls, count: int) -> Records:",
            '        """`count` records with the header set, optional fields null and the rest zero."""',
            "        return np.repeat(cls._TEMPLATE, count)",
            "",
            "    @classmethod",
            "    def _check(cls, records: Records) -> None:",
            "        if records.dtype != cls.DTYPE:",
            '            raise EncodeError(f"records of dtype {records.dtype} are not {cls.NAME} records")',
            "",
            "    @classmethod",
            "    def _apply_header(cls, records: Records) -> None:",
            '        records["header_block_length"] = cls.BLOCK_LENGTH',
            '        records["header_template_id"] = cls.TEMPLATE_ID',
            '        records["header_schema_id"] = cls.SCHEMA_ID',
            '        records["header_version"] = cls.SCHEMA_VERSION',
            "",
            "    @classmethod",
            "    def encode(cls, records: Records) -> bytes:",
            '        """The records as messages laid end to end, headers (re)written."""',
            "        cls._check(records)",
            "        out = records.copy()",
            "        cls._apply_header(out)",
            "        return out.tobytes()",
            "",
            "    @classmethod",
            "    def encode_into(cls, records: Records, buf: Buffer, offset: int = 0) -> int:",
            '        """Write the records as messages into `buf` at `offset`; return the bytes written."""',
            "        cls._check(records)",
            "        view = writable_view(buf)",
            "        size = len(records) * cls.DTYPE.itemsize",
            '        room(view, offset + size, f"{len(records)} {cls.NAME} messages")',
            "        target: Records = np.frombuffer(view, dtype=cls.DTYPE, count=len(records), offset=offset)",
            "        target[...] = records",
            "        cls._apply_header(target)",
            "        return size",
            "",
            "",
        ]
        header_format = self.codecs.order + "".join(STRUCTS[p][1] for _, p, _ in ir.wire.header_fields)
        for m in fixed:
            header = struct.pack(header_format, m.block_length, m.id, ir.schema_id, ir.version)
            exps = {
                f.name: self.codecs.types[f.type].exponent
                for f in m.fields
                if f.type in self.codecs.types and self.codecs.types[f.type].kind == "decimal"
            }
            versioned = "".join(f'("{f.name}", {f.since_version}), ' for f in m.fields if f.since_version > 0)
            lines += [
                f"class {m.name}(BatchCodec):",
                *docstring(
                    f"Columns of `{m.name}` messages: {ir.wire.header_size + m.block_length} bytes each, header included.", "    "
                ),
                "",
                f'    NAME: ClassVar[str] = "{m.name}"',
                f"    TEMPLATE_ID: ClassVar[int] = {m.id}",
                f"    BLOCK_LENGTH: ClassVar[int] = {m.block_length}",
                f"    DTYPE: ClassVar[np.dtype[np.void]] = np.dtype({self.codecs.numpy_struct(m.fields, m.block_length, True)})",
                f"    EXPONENTS: ClassVar[dict[str, int]] = {exps!r}",
                f"    _VERSIONED: ClassVar[tuple[tuple[str, int], ...]] = ({versioned})",
                "    _NULLS: ClassVar[Records] = np.frombuffer(",
                f"        {bytes_expr(header + self.null_block(m.fields, m.block_length, True))}, dtype=DTYPE",
                "    )",
                "    _TEMPLATE: ClassVar[Records] = np.frombuffer(",
                f"        {bytes_expr(header + self.null_block(m.fields, m.block_length, False))}, dtype=DTYPE",
                "    )",
                "",
                "",
            ]
        return "\n".join(lines).rstrip("\n") + "\n"

    def init_module(self) -> str:
        ir = self.ir
        types = [t.name for t in ir.types if t.kind in ("decimal", "enum", "set", "composite")]
        messages = [m.name for m in ir.messages]
        lines = [
            '"""' + (ir.description or f"Messages of `{ir.package}`.").replace('"', "'"),
            "",
            f"Generated from the schema `{ir.package}` version {ir.version} (schema id {ir.schema_id}). The numpy",
            "batch views live in the `batch` module, which needs numpy.",
            '"""',
            "",
            "from .codec import DecodeError, EncodeError, ExactDecimal, GroupView, GroupWriter, truncate_chars",
            "from .dispatch import MESSAGES, SCHEMA_ID, SCHEMA_VERSION, AnyMessage, decode, decode_all",
        ]
        if messages:
            lines.append(f"from .messages import {names_list(messages)}")
        if types:
            lines.append(f"from .types import {names_list(types)}")
        exports = [
            "DecodeError",
            "EncodeError",
            "ExactDecimal",
            "GroupView",
            "GroupWriter",
            "MESSAGES",
            "SCHEMA_ID",
            "SCHEMA_VERSION",
            "AnyMessage",
            "decode",
            "decode_all",
            "truncate_chars",
            *messages,
            *types,
        ]
        lines += ["", f"__all__ = {all_list(exports)}"]
        return "\n".join(lines) + "\n"
