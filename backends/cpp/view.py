"""The C++ backend's view model: IR names, types and layouts in C++ terms.

Templates only loop and interpolate; every C++ type spelling, null value and
layout comment is decided here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from hftc.ir.model import (
    PRIMITIVES, Constant, Field, Group, Message, Schema, TypeDef,
)

CPP_KEYWORDS = frozenset([
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch",
    "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval", "constexpr",
    "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete",
    "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for",
    "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register", "reinterpret_cast",
    "requires", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct",
    "switch", "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename",
    "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq"
])

_CPP_PRIMITIVE = {
    "int8": "std::int8_t", "int16": "std::int16_t", "int32": "std::int32_t", "int64": "std::int64_t",
    "uint8": "std::uint8_t", "uint16": "std::uint16_t", "uint32": "std::uint32_t", "uint64": "std::uint64_t",
    "float32": "float", "float64": "double", "char": "char",
}


def cpp_type(type_name: str) -> str:
    """The C++ type of a primitive, or the schema type's own name."""
    return _CPP_PRIMITIVE.get(type_name, type_name)


# Members of wire::MessageBase / wire::GroupBase and generated methods that accessors must not hide.
RESERVED_MEMBERS = frozenset([
    "ok", "error", "acting_version", "acting_block_length", "encoded_length", "rewind", "reset", "fail_wrap",
    "start", "start_from_header", "present", "cursor", "walk", "wrap_and_apply_header", "wrap_for_encode",
    "wrap_for_decode", "wrap_and_read_header", "count", "index", "has_next", "next", "open_decode",
    "open_encode", "advance", "walk_entry", "print_entry", "block_", "entry_", "cur_"
])


def ident(name: str) -> str:
    """A schema name as a C++ identifier: keywords get a trailing underscore."""
    return name + "_" if name in CPP_KEYWORDS else name


def member(name: str) -> str:
    """An accessor name: keywords and the flyweights' own members get a trailing underscore."""
    return name + "_" if name in CPP_KEYWORDS or name in RESERVED_MEMBERS else name


def snake(name: str) -> str:
    """`BookDelta` → `book_delta`; snake names pass through."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def pascal(name: str) -> str:
    """`price_levels` → `PriceLevels`; Pascal names pass through."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def int_literal(value: int, cpp: str, signed: bool, bits: int) -> str:
    lo = -(1 << (bits - 1)) if signed else 0
    hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    if value == lo and signed:
        return f"std::numeric_limits<{cpp}>::min()"
    if value == hi:
        return f"std::numeric_limits<{cpp}>::max()"
    return f"{cpp}{{{value}}}" if value >= 0 else f"static_cast<{cpp}>({value})"


class Types:
    """C++ spellings of IR types, resolved through the schema's type table."""

    def __init__(self, ir: Schema):
        self.ir = ir
        self.by_name = {t.name: t for t in ir.types}

    def typedef(self, name: str) -> TypeDef | None:
        return self.by_name.get(name)

    def kind(self, name: str) -> str:
        if name in PRIMITIVES:
            return "primitive"
        t = self.by_name[name]
        return t.kind

    def cpp(self, name: str) -> str:
        """The value type of `name` wherever it is a member (composites, arrays)."""
        if name in PRIMITIVES:
            return _CPP_PRIMITIVE[name]
        t = self.by_name[name]
        if t.kind == "char":
            return f"wire::Chars<{t.length}>"
        if t.kind == "array":
            return f"std::array<{self.cpp(t.element or '')}, {t.length}>"
        return t.name

    def raw(self, name: str) -> str:
        """The integer or float a decimal, enum or set is encoded as."""
        if name in PRIMITIVES:
            return _CPP_PRIMITIVE[name]
        return _CPP_PRIMITIVE[self.by_name[name].encoding or "int64"]

    def raw_null(self, name: str, override: float | None) -> str:
        """Null of an integer or float encoding as a C++ expression."""
        prim = name if name in PRIMITIVES else (self.by_name[name].encoding or "int64")
        info = PRIMITIVES[prim]
        cpp = _CPP_PRIMITIVE[prim]
        if info.is_float:
            if override is None or (isinstance(override, float) and math.isnan(override)):
                return f"std::numeric_limits<{cpp}>::quiet_NaN()"
            return f"{cpp}{{{float(override)!r}}}"
        value = override if override is not None else info.null_value
        if prim == "char":
            return f"char{{{int(value or 0)}}}"
        return int_literal(int(value), cpp, info.signed, info.size * 8)

    def null(self, name: str, override: float | None = None) -> str:
        """The value a field of this type reads as when it is newer than the writer."""
        kind = self.kind(name)
        if kind == "primitive":
            return self.raw_null(name, override)
        t = self.by_name[name]
        if kind == "decimal":
            return f"{t.name}{{{self.raw_null(name, override if override is not None else t.null_value)}}}"
        if kind == "enum":
            raw = self.raw_null(name, override if override is not None else t.null_value)
            return f"{snake(t.name)}_from_raw({raw})"
        if kind == "set":
            return f"{t.name}{{}}"
        if kind == "char":
            return f"wire::Chars<{t.length}>{{}}"
        if kind == "composite":
            return f"{t.name}::null()"
        return f"wire::filled<{self.cpp(t.element or '')}, {t.length}>({self.null(t.element or '')})"

    def random(self, name: str) -> str:
        """An expression drawing a random valid value from `rng` (tests and benchmarks)."""
        kind = self.kind(name)
        if kind == "primitive":
            info = PRIMITIVES[name]
            if info.is_float:
                return f"rand_float<{_CPP_PRIMITIVE[name]}>(rng)"
            return f"rand_int<{_CPP_PRIMITIVE[name]}>(rng)"
        t = self.by_name[name]
        if kind == "decimal":
            return f"{t.name}{{rand_int<{self.raw(name)}>(rng)}}"
        if kind == "enum":
            values = ", ".join(f"{t.name}::{ident(v.name)}" for v in t.values)
            return f"pick<{t.name}>(rng, {{{values}}})"
        if kind == "set":
            mask = sum(1 << c.bit for c in t.choices)
            return f"{t.name}{{static_cast<{self.raw(name)}>(rng() & {mask}u)}}"
        if kind == "char":
            return f"rand_chars<{t.length}>(rng)"
        if kind == "composite":
            return f"{t.name}{{{', '.join(self.random(f.type) for f in t.fields)}}}"
        element = t.element or ""
        return f"rand_array<{self.cpp(element)}, {t.length}>([&] {{ return {self.random(element)}; }})"

    def describe(self, name: str) -> str:
        """Short wire description for layout comments."""
        if name in PRIMITIVES:
            return name
        t = self.by_name[name]
        if t.kind == "decimal":
            return f"{t.name}: {t.encoding} x 10^{t.exponent}"
        if t.kind in ("enum", "set"):
            return f"{t.name}: {t.kind} {t.encoding}"
        if t.kind == "char":
            return f"{t.name}: char[{t.length}], NUL-padded"
        if t.kind == "array":
            return f"{t.name}: {t.element}[{t.length}]"
        return f"{t.name}: composite"


@dataclass(frozen=True)
class FieldView:
    name: str  # C++ identifier
    schema_name: str
    kind: str
    offset: int
    size: int
    end: int
    since: int
    versioned: bool  # newer than its block: reads check the acting version and block length
    type: str  # what the getter returns
    param: str  # what the setter takes
    raw: str  # enum encoding
    null: str  # getter's value when absent
    length: int  # char and array length
    enum_snake: str
    comment: str
    description: str
    model_type: str
    random: str
    model_null: str
    unknown_raw: str  # an enum raw value outside the schema (tests)
    raw_null: str  # enum: the integer that means null
    packed_decl: str  # benchmark baseline: member of a #pragma pack(1) struct
    packed_store: str  # ...filled from model value `x.<name>`
    packed_fold: str  # ...folded into checksum `h`
    has_expr: str  # optional fields: the C++ test for "not null"
    enum_unknown: str  # enum: the sentinel enumerator, qualified


def _field(f: Field, owner_since: int, types: Types) -> FieldView:
    kind = f.kind
    t = types.typedef(f.type)
    is_float = f.type in PRIMITIVES and PRIMITIVES[f.type].is_float
    getter = types.cpp(f.type)
    param = getter
    model_type = getter
    null = types.null(f.type, f.null_value)
    model_null = null
    length = 0
    raw = enum_snake = unknown_raw = enum_unknown = ""
    if kind == "char":
        assert t is not None
        getter = param = "std::string_view"
        model_type, null, model_null, length = "std::string", "{}", "std::string{}", t.length
    elif kind == "array":
        assert t is not None
        length = t.length
    elif kind == "enum":
        assert t is not None
        raw, enum_snake = types.raw(f.type), snake(t.name)
        used = {v.value for v in t.values} | {t.null_value}
        enum_unknown = f"{t.name}::{'unknown_' if any(v.name == 'unknown' for v in t.values) else 'unknown'}"
        unknown_raw = str(next(i for i in range(1, 1 << 16) if i not in used and i < (1 << (t.size * 8 - 1))))
    raw_null = has_expr = ""
    if kind == "enum":
        assert t is not None
        raw_null = types.raw_null(f.type, f.null_value if f.null_value is not None else t.null_value)
    if f.optional:
        if kind == "enum":
            has_expr = f"{member(f.name)}_raw() != {raw_null}"
        elif is_float and null.endswith("quiet_NaN()"):
            has_expr = f"!std::isnan({member(f.name)}())"
        elif kind in ("primitive", "decimal"):
            has_expr = f"{member(f.name)}() != {null}"
    n = member(f.name)
    if kind in ("char", "composite", "array"):
        packed_decl = f"char {n}[{f.size}]"
        packed_store = f"wire::store_chars(p.{n}, {f.size}, x.{n})" if kind == "char" else f"wire::put(p.{n}, x.{n})"
        packed_fold = f"fold(h, wire::load_chars(p.{n}, {f.size}))" if kind == "char" else \
            f"fold(h, std::string_view(p.{n}, {f.size}))"
    else:
        raw_cpp = types.raw(f.type)
        packed_decl = f"{raw_cpp} {n}"
        value = {"decimal": f"x.{n}.mantissa", "enum": f"static_cast<{raw_cpp}>(x.{n})",
                 "set": f"x.{n}.raw"}.get(kind, f"x.{n}")
        packed_store = f"p.{n} = {value}"
        packed_fold = f"fold(h, {raw_cpp}{{p.{n}}})"
    random = types.random(f.type)
    if kind == "char":
        random = f"rand_text(rng, {length})"
    comment = types.describe(f.type)
    if f.since_version:
        comment += f", since v{f.since_version}"
    if f.optional:
        comment += f", optional (null {'NaN' if f.null_value is None else f.null_value})"
    if f.unit:
        comment += f", unit {f.unit}"
    return FieldView(
        name=n, schema_name=f.name, kind=kind, offset=f.offset, size=f.size, end=f.offset + f.size,
        since=f.since_version, versioned=f.since_version > owner_since, type=getter, param=param, raw=raw,
        null=null, length=length, enum_snake=enum_snake, comment=comment,
        description=" ".join(f.description.split()), model_type=model_type, random=random,
        model_null=model_null, unknown_raw=unknown_raw, raw_null=raw_null, has_expr=has_expr,
        enum_unknown=enum_unknown, packed_decl=packed_decl, packed_store=packed_store, packed_fold=packed_fold,
    )


@dataclass(frozen=True)
class DataView:
    name: str
    schema_name: str
    since: int
    bytes: bool  # std::span<const std::uint8_t> instead of std::string_view
    description: str


@dataclass(frozen=True)
class ConstView:
    """A constant field: a static accessor returning the schema's value."""

    name: str
    schema_name: str
    type: str
    value: str
    description: str


def _constants(constants: tuple[Constant, ...], types: Types) -> list[ConstView]:
    out = []
    for c in constants:
        t = types.typedef(c.type)
        if c.type == "char":
            ctype, value = "char", f"char{{{c.value}}}"
        elif c.type in PRIMITIVES:
            info = PRIMITIVES[c.type]
            ctype = types.raw(c.type)
            value = f"{ctype}{{{float(c.value)!r}}}" if info.is_float else \
                int_literal(int(c.value), ctype, info.signed, info.size * 8)
        elif t is not None and t.kind == "char":
            escaped = str(c.value).replace("\\", "\\\\").replace('"', '\\"')
            ctype, value = "std::string_view", f'std::string_view{{"{escaped}"}}'
        elif t is not None and t.kind == "enum":
            ctype, value = t.name, f"{t.name}::{ident(c.value_name or '')}"
        else:
            assert t is not None and t.kind == "decimal"
            info = PRIMITIVES[t.encoding or "int64"]
            ctype = t.name
            value = f"{t.name}{{{int_literal(int(c.value), types.raw(c.type), info.signed, info.size * 8)}}}"
        out.append(ConstView(member(c.name), c.name, ctype, value, " ".join(c.description.split())))
    return out


@dataclass(frozen=True)
class GroupView:
    name: str  # accessor
    cls: str  # nested class name
    model: str  # test model struct
    qualified: str  # Message::Group::Nested
    since: int
    block_length: int
    min_block: int  # bytes every entry must carry: fields not newer than the group
    fields: list[FieldView]
    groups: list[GroupView]
    data: list[DataView]
    description: str
    constants: list[ConstView]


def _min_block(fields: list[FieldView], since: int) -> int:
    return max((f.end for f in fields if f.since <= since), default=0)


def _data(owner_data, types: Types) -> list[DataView]:
    return [DataView(member(d.name), d.name, d.since_version, d.encoding == "bytes", " ".join(d.description.split()))
            for d in owner_data]


def _group(g: Group, parent_qualified: str, parent_model: str, types: Types) -> GroupView:
    cls = pascal(g.name)
    qualified = f"{parent_qualified}::{cls}"
    model = f"{parent_model}{cls}"
    fields = [_field(f, g.since_version, types) for f in g.fields]
    return GroupView(
        name=member(g.name), cls=cls, model=model, qualified=qualified, since=g.since_version,
        block_length=g.block_length, min_block=_min_block(fields, g.since_version), fields=fields,
        groups=[_group(s, qualified, model, types) for s in g.groups], data=_data(g.data, types),
        description=" ".join(g.description.split()), constants=_constants(g.constants, types),
    )


def _all_groups(groups: list[GroupView]) -> list[GroupView]:
    out = []
    for g in groups:
        out.append(g)
        out.extend(_all_groups(g.groups))
    return out


@dataclass(frozen=True)
class MessageView:
    name: str
    snake: str
    id: int
    since: int
    block_length: int
    min_block: int
    fields: list[FieldView]
    groups: list[GroupView]
    data: list[DataView]
    all_groups: list[GroupView]  # depth first, for the test models
    has_var: bool
    description: str
    block_at: list[int]  # block length written by an encoder of each version 0..schema version
    downgrades: list[tuple[int, int]]  # (version, trailing var-data dropped) testable by splicing
    enum_fields: list[FieldView]
    char_fields: list[FieldView]  # fixed-length text fields of the block (not `char`)
    constants: list[ConstView]


def _versions_newer(g: GroupView, v: int) -> bool:
    return g.since > v or any(f.since > v for f in g.fields) or any(d.since > v for d in g.data) or \
        any(_versions_newer(s, v) for s in g.groups)


def _message(m: Message, ir: Schema, types: Types) -> MessageView:
    fields = [_field(f, m.since_version, types) for f in m.fields]
    groups = [_group(g, m.name, m.name, types) for g in m.groups]
    data = _data(m.data, types)
    block_at = [max((f.end for f in fields if f.since <= v), default=0) for v in range(ir.version + 1)]
    downgrades = []
    versioned = any(f.versioned for f in fields) or any(d.since > m.since_version for d in data)
    for v in range(m.since_version, ir.version if versioned else m.since_version):
        newer = [d.since > v for d in data]
        suffix = newer == sorted(newer)  # the newer var-data are all at the end
        if suffix and not any(_versions_newer(g, v) for g in groups):
            downgrades.append((v, sum(newer)))
    return MessageView(
        name=m.name, snake=snake(m.name), id=m.id, since=m.since_version, block_length=m.block_length,
        min_block=_min_block(fields, m.since_version), fields=fields, groups=groups, data=data,
        all_groups=_all_groups(groups), has_var=bool(m.groups or m.data),
        description=" ".join(m.description.split()), block_at=block_at, downgrades=downgrades,
        enum_fields=[f for f in fields if f.kind == "enum"],
        char_fields=[f for f in fields if f.kind == "char" and f.length],
        constants=_constants(m.constants, types),
    )


@dataclass(frozen=True)
class EnumView:
    name: str
    snake: str
    raw: str
    values: list[tuple[str, int]]
    unknown: str  # name of the sentinel enumerator
    unknown_value: str
    description: str


@dataclass(frozen=True)
class SetView:
    name: str
    raw: str
    choices: list[tuple[str, int]]
    mask: int
    description: str


@dataclass(frozen=True)
class DecimalView:
    name: str
    rep: str
    exponent: int
    description: str
    too_fine: str  # text not representable at this exponent (tests)


@dataclass(frozen=True)
class MemberView:
    name: str
    type: str
    offset: int
    null: str


@dataclass(frozen=True)
class CompositeView:
    name: str
    size: int
    members: list[MemberView]
    description: str


def _composites_in_order(ir: Schema) -> list[TypeDef]:
    """Composites after the composites (and arrays of them) they contain."""
    by_name = {t.name: t for t in ir.types}
    done: list[TypeDef] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        t = by_name.get(name)
        if t is None or name in seen:
            return
        seen.add(name)
        if t.kind == "array":
            visit(t.element or "")
        for f in t.fields:
            visit(f.type)
        if t.kind == "composite":
            done.append(t)

    for t in ir.types:
        visit(t.name)
    return done


def _int_literal_for(encoding: str, value: int) -> str:
    info = PRIMITIVES[encoding]
    return int_literal(value, _CPP_PRIMITIVE[encoding], info.signed, info.size * 8)


def _wire_view(ir: Schema) -> dict:
    """The framing: the wire type of each header, group size and length field, and the wider
    type the flyweights hold a count in (at least uint16, so the API is the same for every schema)."""
    w = ir.wire

    def held(prim: str) -> str:
        return cpp_type("uint32" if prim == "uint32" else "uint16")

    header = [(name, cpp_type(prim), offset) for name, prim, offset in w.header_fields]
    return {
        "big_endian": w.big_endian,
        "custom_wire": not w.is_default,
        "header_fields": header,  # (name, wire type, offset); held as std::uint16_t
        "header_size": w.header_size,
        "group_block_cpp": cpp_type(w.group_block_length),
        "group_block_wide": w.group_block_length == "uint32",
        "group_count_cpp": cpp_type(w.group_count),
        "group_count_held": held(w.group_count),
        "group_count_size": PRIMITIVES[w.group_count].size,
        "group_block_size": PRIMITIVES[w.group_block_length].size,
        "var_length_cpp": cpp_type(w.var_data_length),
        "var_length_size": w.var_length_size,
        "var_length_type": w.var_data_length,
        "group_size_text": f"{w.group_block_length} block length, {w.group_count} count",
    }


def build_view(ir: Schema, only: set[str] | None = None) -> dict:
    """The templates' view; with `only`, of those messages alone (enough for the components view,
    which is all a backend's `check` renders)."""
    types = Types(ir)
    enums, sets, decimals = [], [], []
    for t in ir.types:
        if t.kind == "enum":
            names = {v.name for v in t.values}
            unknown = "unknown" if "unknown" not in names else "unknown_"
            enums.append(EnumView(t.name, snake(t.name), types.raw(t.name),
                                  [(ident(v.name), v.value) for v in t.values], unknown,
                                  _int_literal_for(t.encoding or "uint8", int(t.null_value)),
                                  " ".join(t.description.split())))
        elif t.kind == "set":
            sets.append(SetView(t.name, types.raw(t.name), [(ident(c.name), c.bit) for c in t.choices],
                                sum(1 << c.bit for c in t.choices), " ".join(t.description.split())))
        elif t.kind == "decimal":
            too_fine = "0." + "0" * -t.exponent + "1" if t.exponent <= 0 else "1" + "0" * (t.exponent - 1) + "1"
            decimals.append(DecimalView(t.name, types.raw(t.name), t.exponent, " ".join(t.description.split()),
                                        too_fine))
    composites = [
        CompositeView(t.name, t.size, [MemberView(ident(f.name), types.cpp(f.type), f.offset, types.null(f.type))
                                       for f in t.fields], " ".join(t.description.split()))
        for t in _composites_in_order(ir)
    ]
    messages = [_message(m, ir, types) for m in ir.messages if only is None or m.name in only]
    blocks = [m.block_length for m in messages] + [g.block_length for m in messages for g in m.all_groups]
    return {
        "package": ir.package,
        "ns": "::".join(ir.package_parts),
        "pkg": ir.package_snake,
        "schema_id": ir.schema_id,
        "version": ir.version,
        "group_header_size": ir.wire.group_header_size,
        "scratch_size": max([ir.wire.header_size, *blocks]),
        **_wire_view(ir),
        "enums": enums,
        "sets": sets,
        "decimals": decimals,
        "composites": composites,
        "messages": messages,
        "unused_template_id": next(i for i in range(min(65535, (1 << (8 * PRIMITIVES[ir.wire.template_id].size)) - 1), 0, -1)
                                   if i not in {m.id for m in ir.messages}),
        "description": " ".join(ir.description.split()),
    }
