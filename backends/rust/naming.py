"""Rust names and literals for schema names, types and null values."""

from __future__ import annotations

import math
import re
import struct

from hftc.ir.model import PRIMITIVES, Field, Schema, TypeDef

KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become",
    "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
}
NOT_RAW = {"self", "Self", "super", "crate"}

RUST_PRIMITIVES = {
    "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
    "float32": "f32", "float64": "f64", "char": "u8",
}
STRUCT_FORMATS = {
    "int8": "b", "int16": "h", "int32": "i", "int64": "q", "uint8": "B", "uint16": "H", "uint32": "I", "uint64": "Q",
    "float32": "f", "float64": "d", "char": "B",
}


def ident(name: str) -> str:
    """A schema name as a Rust identifier (`type` → `r#type`)."""
    if name in NOT_RAW:
        return name + "_"
    return f"r#{name}" if name in KEYWORDS else name


def camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\W]+", name) if p)


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def upper(name: str) -> str:
    return snake(name).upper()


def int_literal(value: int, rust: str) -> str:
    """An integer literal of type `rust`, using `MIN`/`MAX` at the ends of the range."""
    bits = int(rust[1:])
    signed = rust.startswith("i")
    lo = -(1 << (bits - 1)) if signed else 0
    hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    if value == hi and value > 0xFF:
        return f"{rust}::MAX"
    if value == lo and signed:
        return f"{rust}::MIN"
    return str(value)


def float_literal(value: float, rust: str) -> str:
    if math.isnan(value):
        return f"{rust}::NAN"
    if math.isinf(value):
        return f"{rust}::INFINITY" if value > 0 else f"{rust}::NEG_INFINITY"
    text = repr(float(value)) if rust == "f64" else repr(struct.unpack("<f", struct.pack("<f", value))[0])
    if "e" not in text and "." not in text:
        text += ".0"
    return f"{text}_{rust}"


def bytes_literal(data: bytes) -> str:
    """A byte-array expression: `[0; 12]` when all zero, else the bytes in hex."""
    if not any(data):
        return f"[0; {len(data)}]"
    if len(set(data)) == 1 and len(data) > 1:
        return f"[0x{data[0]:02x}; {len(data)}]"
    return "[" + ", ".join(f"0x{b:02x}" for b in data) + "]"


class Types:
    """Rust types and wire nulls of the schema's types and fields."""

    def __init__(self, ir: Schema):
        self.ir = ir
        self.types = {t.name: t for t in ir.types}
        self.order = ">" if ir.wire.big_endian else "<"  # struct's prefix for the schema's byte order

    def typedef(self, name: str) -> TypeDef | None:
        return self.types.get(name)

    def rust(self, name: str) -> str:
        if name in RUST_PRIMITIVES:
            return RUST_PRIMITIVES[name]
        t = self.types[name]
        if t.kind == "char":
            return f"[u8; {t.length}]"
        if t.kind == "array":
            return f"[{self.rust(t.element or '')}; {t.length}]"
        return t.name

    def size(self, name: str) -> int:
        if name in PRIMITIVES:
            return PRIMITIVES[name].size
        return self.types[name].size

    def type_null_int(self, t: TypeDef) -> int:
        value = t.null_value if t.null_value is not None else PRIMITIVES[t.encoding or "int64"].null_value
        return int(value or 0)

    def null_bytes(self, name: str) -> bytes:
        """The null of a type on the wire (as the Python backend's codecs define it)."""
        if name == "char":
            return bytes(1)
        if name in PRIMITIVES:
            info = PRIMITIVES[name]
            value = math.nan if info.is_float else info.null_value or 0
            return struct.pack(self.order + STRUCT_FORMATS[name], value)
        t = self.types[name]
        if t.kind in ("decimal", "enum"):
            return struct.pack(self.order + STRUCT_FORMATS[t.encoding or "int64"], self.type_null_int(t))
        if t.kind in ("set", "char"):
            return bytes(t.size)
        if t.kind == "composite":
            out = bytearray(t.size)
            for f in t.fields:
                nb = self.null_bytes(f.type)
                out[f.offset : f.offset + len(nb)] = nb
            return bytes(out)
        if t.kind == "array":
            return self.null_bytes(t.element or "") * t.length
        raise ValueError(f"type `{name}` has unsupported kind `{t.kind}`")

    def kind(self, f: Field) -> str:
        """primitive_int | float | char | decimal | enum | set | chars | composite | array"""
        if f.type in PRIMITIVES:
            info = PRIMITIVES[f.type]
            if f.type == "char":
                return "char"
            return "float" if info.is_float else "int"
        t = self.types[f.type]
        return "chars" if t.kind == "char" else t.kind

    def encoding(self, f: Field) -> str:
        """The primitive on the wire of an integer-like or float field."""
        if f.type in PRIMITIVES:
            return f.type
        return self.types[f.type].encoding or "int64"

    def field_null(self, f: Field) -> int | float | None:
        """The null of an integer, float, decimal or enum field (the field's own, else its type's)."""
        k = self.kind(f)
        if k == "float":
            return float(f.null_value) if f.null_value is not None else math.nan
        if k == "int":
            return int(f.null_value) if f.null_value is not None else int(PRIMITIVES[f.type].null_value or 0)
        if k in ("decimal", "enum"):
            t = self.types[f.type]
            return int(f.null_value) if f.null_value is not None else self.type_null_int(t)
        return None

    def field_null_bytes(self, f: Field) -> bytes:
        null = self.field_null(f)
        if null is None:
            return self.null_bytes(f.type)
        return struct.pack(self.order + STRUCT_FORMATS[self.encoding(f)], null)

    def nullable(self, f: Field) -> bool:
        """Whether the accessors use `Option` (optional integers, floats and decimals)."""
        return f.optional and self.kind(f) in ("int", "float", "decimal")
