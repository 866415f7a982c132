"""Rust source for one schema: value types, flyweight codecs, dispatcher, owned model.

Code is assembled line by line; the driver formats it with rustfmt.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from hftc.backends.rust.naming import (
    RUST_PRIMITIVES,
    Types,
    bytes_literal,
    camel,
    float_literal,
    ident,
    int_literal,
    snake,
    upper,
)
from hftc.backends.rust.constants import constant_lines
from hftc.ir.model import PRIMITIVES, Field, Group, Message, PrimitiveInfo, Schema, VarData


def doc(text: str, indent: str = "") -> list[str]:
    return [f"{indent}/// {line}".rstrip() for line in text.strip().splitlines()] if text.strip() else []


@dataclass
class Owner:
    """A message or a group entry, with the Rust names of its types."""

    node: Message | Group
    name: str  # owned struct name, e.g. SnapshotLevels
    is_message: bool
    entries: list[Owner]  # one per group, in order

    @property
    def decoder(self) -> str:
        return self.name + "Decoder"

    @property
    def encoder(self) -> str:
        return self.name + "Encoder"

    @property
    def group_encoder(self) -> str:
        return self.name + "GroupEncoder"

    @property
    def items(self) -> list[Group | VarData]:
        return [*self.node.groups, *self.node.data]

    def walk(self):
        yield self
        for e in self.entries:
            yield from e.walk()


def unknown_discriminant(used: set[int], encoding: PrimitiveInfo) -> int | None:
    """The first value of the wire type, counting up from 0 (then down from -1), that is not in
    `used` (an enum's member values): `Unknown`'s discriminant, and the value the generated tests
    decode as unknown. None when the members use every value."""
    lo, hi = int(encoding.min_value), int(encoding.max_value)
    candidates = itertools.chain(range(0, hi + 1), range(-1, lo - 1, -1))
    return next((v for v in candidates if v not in used), None)


def owners(m: Message) -> Owner:
    def entry(parent: str, g: Group) -> Owner:
        name = parent + camel(g.name)
        return Owner(g, name, False, [entry(name, sub) for sub in g.groups])

    return Owner(m, m.name, True, [entry(m.name, g) for g in m.groups])


def required_versions(fields: tuple[Field, ...], block_length: int) -> list[tuple[int, int]]:
    """(since_version, block bytes needed from that version on), newest first."""
    by_version: dict[int, int] = {}
    for f in fields:
        by_version[f.since_version] = max(by_version.get(f.since_version, 0), f.offset + f.size)
    out: list[tuple[int, int]] = []
    running = 0
    for v in sorted(by_version):
        running = max(running, by_version[v])
        out.append((v, running))
    return list(reversed(out)) or [(0, 0)]


class Generator:
    def __init__(self, ir: Schema):
        self.ir = ir
        self.t = Types(ir)
        self.problems: list[str] = []
        self.count_rs = "u32" if ir.wire.group_count == "uint32" else "u16"  # a group's entry count

    # ---- types ----------------------------------------------------------------------------------

    def types_module(self) -> str:
        out = [
            f"//! Value types of `{self.ir.package}`: exact decimals, enums with an `Unknown` variant,",
            "//! bit sets that keep unknown bits, and composites.",
            "",
            "#![forbid(unsafe_code)]",
            "",
        ]
        body: list[str] = []
        for t in self.ir.types:
            if t.kind == "decimal":
                body += self.decimal_type(t)
            elif t.kind == "enum":
                body += self.enum_type(t)
            elif t.kind == "set":
                body += self.set_type(t)
            elif t.kind == "composite":
                body += self.composite_type(t)
            elif t.kind in ("char", "array"):
                what = "bytes, NUL-padded" if t.kind == "char" else f"elements of `{t.element}`"
                body += doc(f"`{t.name}`: {t.length} {what}." + (f" {t.description}" if t.description else ""))
                body += [f"pub type {t.name} = {self.t.rust(t.name)};", ""]
        text = "\n".join(body)
        uses = []
        if "fmt::" in text:
            uses.append("use core::fmt;")
        if "FromStr" in text:
            uses.append("use core::str::FromStr;")
        if "wire::" in text or "Fixed" in text:
            items = [n for n in ("Fixed", "ParseDecimalError") if n in text]
            uses.append("use crate::wire::{" + ", ".join(items) + "};" if len(items) > 1 else f"use crate::wire::{items[0]};")
        if "BitOr" in text:
            uses.append("use core::ops::{BitAnd, BitOr, BitOrAssign};")
        return "\n".join(out + sorted(uses) + ["", *body])

    def decimal_type(self, t) -> list[str]:
        enc = RUST_PRIMITIVES[t.encoding or "int64"]
        info = PRIMITIVES[t.encoding or "int64"]
        null = self.t.type_null_int(t)
        return [
            *doc((t.description + "\n\n" if t.description else "") + f"Exact decimal: a `{enc}` mantissa times 10^{t.exponent}."
                 " `Display` and `FromStr` are exact; the null mantissa prints as `null`."),
            "#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]",
            f"pub struct {t.name} {{",
            "    /// The integer on the wire.",
            f"    pub mantissa: {enc},",
            "}",
            "",
            f"impl {t.name} {{",
            "    /// The power of ten the mantissa is scaled by.",
            f"    pub const EXPONENT: i32 = {t.exponent};",
            "    /// The null value (SBE's null of the encoding).",
            f"    pub const NULL: Self = Self {{ mantissa: {int_literal(null, enc)} }};",
            "    /// The smallest mantissa that is not null.",
            f"    pub const MIN_MANTISSA: {enc} = {int_literal(int(info.min_value), enc)};",
            "    /// The largest mantissa that is not null.",
            f"    pub const MAX_MANTISSA: {enc} = {int_literal(int(info.max_value), enc)};",
            "",
            "    /// The value `mantissa × 10^EXPONENT`.",
            f"    pub const fn from_mantissa(mantissa: {enc}) -> Self {{",
            "        Self { mantissa }",
            "    }",
            "",
            "    /// Whether this is the null value.",
            "    pub const fn is_null(self) -> bool {",
            "        self.mantissa == Self::NULL.mantissa",
            "    }",
            "",
            "    /// The value as a float (rounded); NaN for the null value.",
            "    pub fn to_f64(self) -> f64 {",
            "        if self.is_null() {",
            "            return f64::NAN;",
            "        }",
            "        self.mantissa as f64 * 10f64.powi(Self::EXPONENT)",
            "    }",
            "}",
            "",
            f"impl fmt::Display for {t.name} {{",
            "    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {",
            "        if self.is_null() {",
            '            return f.pad("null");',
            "        }",
            "        crate::wire::fmt_decimal(f, i128::from(self.mantissa), Self::EXPONENT)",
            "    }",
            "}",
            "",
            f"impl FromStr for {t.name} {{",
            "    type Err = ParseDecimalError;",
            "",
            '    /// Exact: `"1.08125"`, `"-3"`, `"null"`; text finer than 10^EXPONENT or out of range is an error.',
            "    fn from_str(text: &str) -> Result<Self, ParseDecimalError> {",
            '        if text.trim() == "null" {',
            "            return Ok(Self::NULL);",
            "        }",
            "        let mantissa = crate::wire::parse_decimal(",
            "            text,",
            "            Self::EXPONENT,",
            "            i128::from(Self::MIN_MANTISSA),",
            "            i128::from(Self::MAX_MANTISSA),",
            "        )?;",
            f"        {enc}::try_from(mantissa).map(Self::from_mantissa).map_err(|_| ParseDecimalError)",
            "    }",
            "}",
            "",
            f"impl Fixed for {t.name} {{",
            f"    const SIZE: usize = {t.size};",
            "    #[inline(always)]",
            "    fn read(b: &[u8]) -> Self {",
            f"        Self {{ mantissa: {enc}::read(b) }}",
            "    }",
            "    #[inline(always)]",
            "    fn write(self, b: &mut [u8]) {",
            "        self.mantissa.write(b);",
            "    }",
            "}",
            "",
        ]

    def enum_variants(self, t) -> list[tuple[str, int]]:
        names = [camel(v.name) or "Value" for v in t.values]
        return [(n + "Value" if n == "Unknown" else n, v.value) for n, v in zip(names, t.values)]

    def enum_type(self, t) -> list[str]:
        enc = RUST_PRIMITIVES[t.encoding or "uint8"]
        variants = self.enum_variants(t)
        null = self.t.type_null_int(t)
        lines = [
            *doc((t.description + "\n\n" if t.description else "")
                 + f"On the wire: `{enc}`. Values this schema does not know (and the null value) decode as"
                 " `Unknown(raw)`, never an error."),
        ]
        free = unknown_discriminant({value for _, value in variants}, PRIMITIVES[t.encoding or "uint8"])
        if free is not None:
            lines += [
                "// The discriminants are the wire values (`Unknown` takes one no member uses), so `raw` and",
                "// `from_raw` compile to a select instead of a branch per member.",
                f"#[repr({enc})]",
            ]
        lines += ["#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]", f"pub enum {t.name} {{"]
        for (name, value), v in zip(variants, t.values):
            lines += [f"    /// `{v.name}` = {value}.", f"    {name}{'' if free is None else f' = {value}'},"]
        lines += [
            "    /// A value this schema does not name.",
            f"    Unknown({enc}){'' if free is None else f' = {free}'},",
            "}",
            "",
            f"impl {t.name} {{",
            "    /// The null value on the wire.",
            f"    pub const NULL_RAW: {enc} = {int_literal(null, enc)};",
            "",
            "    /// The member for `raw`; `Unknown(raw)` when the schema does not name it.",
            f"    pub const fn from_raw(raw: {enc}) -> Self {{",
            "        match raw {",
            *[f"            {value} => Self::{name}," for name, value in variants],
            "            other => Self::Unknown(other),",
            "        }",
            "    }",
            "",
            "    /// The integer on the wire.",
            f"    pub const fn raw(self) -> {enc} {{",
            "        match self {",
            *[f"            Self::{name} => {value}," for name, value in variants],
            "            Self::Unknown(raw) => raw,",
            "        }",
            "    }",
            "",
            "    /// The schema's name of the value; `None` for `Unknown`.",
            "    pub const fn name(self) -> Option<&'static str> {",
            "        match self {",
            *[f'            Self::{name} => Some("{v.name}"),' for (name, _), v in zip(variants, t.values)],
            "            Self::Unknown(_) => None,",
            "        }",
            "    }",
            "}",
            "",
            f"impl Fixed for {t.name} {{",
            f"    const SIZE: usize = {t.size};",
            "    #[inline(always)]",
            "    fn read(b: &[u8]) -> Self {",
            f"        Self::from_raw({enc}::read(b))",
            "    }",
            "    #[inline(always)]",
            "    fn write(self, b: &mut [u8]) {",
            "        self.raw().write(b);",
            "    }",
            "}",
            "",
        ]
        return lines

    def set_type(self, t) -> list[str]:
        enc = RUST_PRIMITIVES[t.encoding or "uint8"]
        lines = [
            *doc((t.description + "\n\n" if t.description else "")
                 + f"A bit set on a `{enc}`; bits this schema does not name are kept."),
            "#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]",
            f"pub struct {t.name}(pub {enc});",
            "",
            f"impl {t.name} {{",
        ]
        for c in t.choices:
            lines += [f"    /// `{c.name}`: bit {c.bit}.", f"    pub const {upper(c.name)}: Self = Self({hex(1 << c.bit)});"]
        lines += [
            "",
            "    /// No bits set.",
            "    pub const fn empty() -> Self {",
            "        Self(0)",
            "    }",
            "",
            "    /// The set with exactly these bits (unknown ones kept).",
            f"    pub const fn from_bits(bits: {enc}) -> Self {{",
            "        Self(bits)",
            "    }",
            "",
            "    /// The integer on the wire.",
            f"    pub const fn bits(self) -> {enc} {{",
            "        self.0",
            "    }",
            "",
            "    /// Whether every bit of `other` is set.",
            "    pub const fn contains(self, other: Self) -> bool {",
            "        self.0 & other.0 == other.0",
            "    }",
            "",
            "    /// Sets the bits of `other`.",
            "    pub fn insert(&mut self, other: Self) {",
            "        self.0 |= other.0;",
            "    }",
            "",
            "    /// Clears the bits of `other`.",
            "    pub fn remove(&mut self, other: Self) {",
            "        self.0 &= !other.0;",
            "    }",
            "}",
            "",
            f"impl BitOr for {t.name} {{",
            "    type Output = Self;",
            "    fn bitor(self, other: Self) -> Self {",
            "        Self(self.0 | other.0)",
            "    }",
            "}",
            "",
            f"impl BitOrAssign for {t.name} {{",
            "    fn bitor_assign(&mut self, other: Self) {",
            "        self.0 |= other.0;",
            "    }",
            "}",
            "",
            f"impl BitAnd for {t.name} {{",
            "    type Output = Self;",
            "    fn bitand(self, other: Self) -> Self {",
            "        Self(self.0 & other.0)",
            "    }",
            "}",
            "",
            f"impl Fixed for {t.name} {{",
            f"    const SIZE: usize = {t.size};",
            "    #[inline(always)]",
            "    fn read(b: &[u8]) -> Self {",
            f"        Self({enc}::read(b))",
            "    }",
            "    #[inline(always)]",
            "    fn write(self, b: &mut [u8]) {",
            "        self.0.write(b);",
            "    }",
            "}",
            "",
        ]
        return lines

    def composite_type(self, t) -> list[str]:
        lines = [
            *doc((t.description + "\n\n" if t.description else "") + f"A {t.size}-byte composite."),
            "#[derive(Clone, Copy, Debug, PartialEq)]",
            f"pub struct {t.name} {{",
        ]
        for f in t.fields:
            lines += [*doc(f.description, "    "), f"    pub {ident(f.name)}: {self.t.rust(f.type)},"]
        lines += ["}", "", f"impl {t.name} {{"]
        lines += [
            "    /// Every field null.",
            "    pub fn null() -> Self {",
            f"        Self::read(&{bytes_literal(self.t.null_bytes(t.name))})",
            "    }",
            "}",
            "",
            f"impl Fixed for {t.name} {{",
            f"    const SIZE: usize = {t.size};",
            "    #[inline(always)]",
            f"    fn read({'b' if t.fields else '_b'}: &[u8]) -> Self {{",
            "        Self {",
        ]
        for f in t.fields:
            src = f"&b[{f.offset}..]" if f.offset else "b"
            lines.append(f"            {ident(f.name)}: <{self.t.rust(f.type)}>::read({src}),")
        lines += [
            "        }",
            "    }",
            "    #[inline(always)]",
            f"    fn write(self, {'b' if t.fields else '_b'}: &mut [u8]) {{",
        ]
        for f in t.fields:
            dst = f"&mut b[{f.offset}..]" if f.offset else "b"
            lines.append(f"        self.{ident(f.name)}.write({dst});")
        lines += ["    }", "}", ""]
        return lines

    # ---- fields ---------------------------------------------------------------------------------

    def value_type(self, f: Field) -> str:
        rt = self.t.rust(f.type)
        return f"Option<{rt}>" if self.t.nullable(f) else rt

    def null_literal(self, f: Field) -> str:
        """The field's null as a Rust expression of its type (integers, floats, decimals)."""
        k = self.t.kind(f)
        null = self.t.field_null(f)
        if k == "float":
            return float_literal(float(null), self.t.rust(f.type))
        if k == "int":
            return int_literal(int(null), self.t.rust(f.type))
        if k == "decimal":
            enc = RUST_PRIMITIVES[self.t.encoding(f)]
            return f"{f.type}::from_mantissa({int_literal(int(null), enc)})"
        raise ValueError(k)

    def getter(self, f: Field, fixed: int) -> list[str]:
        """Fields every version carries read from `self.fixed`, an array of `fixed` bytes, so
        their offsets need no run-time bounds check; later fields from the whole `self.block`."""
        k = self.t.kind(f)
        source = f"        let block: &'a [u8] = self.block;" if f.since_version else \
            f"        let block: &'a [u8; {fixed}] = self.fixed;"
        name = ident(f.name)
        o, n = f.offset, f.size
        rng = f"block[{o}..{o + n}]"
        src = f"&block[{o}..]" if o else "block"
        if f.since_version:
            absent = bytes_literal(self.t.field_null_bytes(f))
            if k == "chars":
                src_exact = f"if self.version < {f.since_version} {{ &{absent} }} else {{ &{rng} }}"
            src = f"if self.version < {f.since_version} {{ &{absent} }} else {{ {src} }}"
        else:
            src_exact = f"&{rng}"
        desc = f.description
        if f.unit:
            desc = f"{desc} Unit: {f.unit}." if desc else f"Unit: {f.unit}."
        if f.since_version:
            desc = f"{desc} Since version {f.since_version}; null before." if desc else f"Since version {f.since_version}; null before."
        lines = [*doc(desc or f"`{f.name}` at offset {o}.", "    ")]
        rt = self.t.rust(f.type)
        if k == "chars":
            lines += [
                "    #[inline]",
                f"    pub fn {name}(&self) -> &'a {rt} {{",
                source,
                f"        let b: &'a [u8] = {src_exact};",
                f"        <&{rt}>::try_from(b).unwrap_or(&[0; {n}])",
                "    }",
                "",
            ]
            return lines
        lines += ["    #[inline]", f"    pub fn {name}(&self) -> {self.value_type(f)} {{", source]
        if self.t.nullable(f):
            lines.append(f"        let v = <{rt}>::read({src});")
            null = self.t.field_null(f)
            if k == "float" and isinstance(null, float) and math.isnan(null):
                lines.append("        Some(v).filter(|v| !v.is_nan())")
            elif k == "decimal":
                lines.append(f"        Some(v).filter(|v| *v != {self.null_literal(f)})")
            else:
                lines.append(f"        Some(v).filter(|&v| v != {self.null_literal(f)})")
        else:
            lines.append(f"        <{rt}>::read({src})")
        lines += ["    }", ""]
        if k == "enum":
            enc = RUST_PRIMITIVES[self.t.encoding(f)]
            lines += [
                f"    /// The integer on the wire of `{f.name}`, even when not a member.",
                "    #[inline]",
                f"    pub fn {f.name}_raw(&self) -> {enc} {{",
                source,
                f"        {enc}::read({src})",
                "    }",
                "",
            ]
        return lines

    def setter(self, f: Field) -> list[str]:
        """A setter on an encoder whose `block` is the fixed-size block array."""
        k = self.t.kind(f)
        o, n = f.offset, f.size
        dst = f"&mut self.block[{o}..]" if o else "self.block.as_mut_slice()"
        chars_dst = f"&mut self.block[{o}..{o + n}]"
        lines = [f"    /// Sets `{f.name}`" + (" (`None` writes the null value)." if self.t.nullable(f) else ".")]
        if k == "chars":
            lines += [
                f"    /// Shorter values are NUL-padded; longer than {n} bytes is `TooLong`.",
                "    #[inline]",
                f"    pub fn set_{f.name}(&mut self, value: &[u8]) -> Result<&mut Self, EncodeError> {{",
                f"        wire::put_chars({chars_dst}, value)?;",
                "        Ok(self)",
                "    }",
                "",
                f"    /// Sets `{f.name}` to the first {n} bytes of `value` at most, dropping the rest.",
                "    #[inline]",
                f"    pub fn set_{f.name}_truncated(&mut self, value: &[u8]) -> &mut Self {{",
                f"        wire::put_chars_truncated({chars_dst}, value);",
                "        self",
                "    }",
                "",
            ]
            return lines
        lines += ["    #[inline]", f"    pub fn set_{f.name}(&mut self, value: {self.value_type(f)}) -> &mut Self {{"]
        if self.t.nullable(f):
            lines.append(f"        value.unwrap_or({self.null_literal(f)}).write({dst});")
        else:
            lines.append(f"        value.write({dst});")
        lines += ["        self", "    }", ""]
        if k == "enum":
            enc = RUST_PRIMITIVES[self.t.encoding(f)]
            lines += [
                f"    /// Sets the integer on the wire of `{f.name}`.",
                "    #[inline]",
                f"    pub fn set_{f.name}_raw(&mut self, value: {enc}) -> &mut Self {{",
                f"        value.write({dst});",
                "        self",
                "    }",
                "",
            ]
        return lines

    def init_block(self, node: Message | Group) -> bytes:
        block = bytearray(node.block_length)
        for f in node.fields:
            if f.optional:
                nb = self.t.field_null_bytes(f)
                block[f.offset : f.offset + len(nb)] = nb
        return bytes(block)

    def required_fn(self, node: Message | Group) -> list[str]:
        versions = required_versions(node.fields, node.block_length)
        if len(versions) == 1:
            return [
                "    /// The block bytes the fields of `version` and older need.",
                "    #[inline]",
                "    pub const fn required_block(_version: u16) -> usize {",
                f"        {versions[0][1]}",
                "    }",
                "",
            ]
        chain = " else ".join(f"if version >= {v} {{ {need} }}" for v, need in versions[:-1])
        chain = f"        {chain} else {{ {versions[-1][1]} }}"
        return [
            "    /// The block bytes the fields of `version` and older need.",
            "    #[inline]",
            "    pub const fn required_block(version: u16) -> usize {",
            chain,
            "    }",
            "",
        ]

    # ---- decoders -------------------------------------------------------------------------------

    @staticmethod
    def item_var(item: Group | VarData) -> str:
        """The decoder field (and local) holding a group's entries or a var-data's bytes.

        The suffixes keep these apart from each other and from the decoder's own names."""
        return f"{item.name}_entries" if isinstance(item, Group) else f"{item.name}_bytes"

    def scan_lines(self, o: Owner, checked: bool) -> list[str]:
        """Locate every group and var-data after the block, from `pos` on.

        Checked (when wrapping): every length against the buffer, `?` on failure. Trusted
        (when iterating a group of a message already checked): no error handling."""
        lines = []
        for item in o.items:
            var = self.item_var(item)
            if isinstance(item, Group):
                entry = o.entries[o.node.groups.index(item)]
                call = (f"wire::take_group::<{entry.decoder}<'a>>(buf, pos, version)?" if checked
                        else f"wire::group_at::<{entry.decoder}<'a>>(buf, pos, version)")
                absent = "GroupIter::empty()"
            else:
                call = "wire::take_var(buf, pos)?" if checked else "wire::var_at(buf, pos)"
                absent = "&[][..]"
            if item.since_version:
                lines += [
                    f"        // `{item.name}` is absent before version {item.since_version}.",
                    f"        let ({var}, pos) = if version >= {item.since_version} {{",
                    f"            {call}",
                    "        } else {",
                    f"            ({absent}, pos)",
                    "        };",
                ]
            else:
                lines.append(f"        let ({var}, pos) = {call};")
        return lines

    def item_accessors(self, o: Owner) -> list[str]:
        lines = []
        for item in o.items:
            var = self.item_var(item)
            absent = f" Empty when the acting version predates {item.since_version}." if item.since_version else ""
            if isinstance(item, Group):
                entry = o.entries[o.node.groups.index(item)]
                lines += [
                    *doc((item.description or f"The entries of `{item.name}`.") + absent, "    "),
                    "    #[inline]",
                    f"    pub fn {ident(item.name)}(&self) -> GroupIter<'a, {entry.decoder}<'a>> {{",
                    f"        self.{var}",
                    "    }",
                    "",
                ]
            else:
                lines += [
                    *doc((item.description or f"The var-data `{item.name}` ({item.encoding}).") + absent, "    "),
                    "    #[inline]",
                    f"    pub fn {ident(item.name)}(&self) -> &'a [u8] {{",
                    f"        self.{var}",
                    "    }",
                    "",
                ]
                if item.encoding == "utf8":
                    lines += [
                        f"    /// `{item.name}` as text; `InvalidUtf8` when it is not UTF-8.",
                        "    #[inline]",
                        f"    pub fn {item.name}_str(&self) -> Result<&'a str, DecodeError> {{",
                        f"        wire::utf8(self.{var})",
                        "    }",
                        "",
                    ]
        return lines

    def decoder(self, o: Owner) -> list[str]:
        node = o.node
        # The acting version is kept for the message, and for entries whose fields need it.
        versioned = o.is_message or any(f.since_version for f in node.fields)
        version_param = versioned or bool(node.groups) or any(i.since_version for i in o.items)
        # Fields every version carries lie in the first `fixed` bytes, which wrapping checked.
        fixed = max((f.offset + f.size for f in node.fields if not f.since_version), default=0)
        keep_block = o.is_message or any(f.since_version for f in node.fields) or not (fixed or o.items)
        fields = ((["    block: &'a [u8],"] if keep_block else [])
                  + ([f"    fixed: &'a [u8; {fixed}],"] if fixed else [])
                  + (["    version: u16,"] if versioned else []))
        for item in o.items:
            if isinstance(item, Group):
                entry = o.entries[o.node.groups.index(item)]
                fields.append(f"    {self.item_var(item)}: GroupIter<'a, {entry.decoder}<'a>>,")
            else:
                fields.append(f"    {self.item_var(item)}: &'a [u8],")
        if o.is_message:
            fields.append("    length: usize,")
        what = f"`{node.name}` message" if o.is_message else f"entry of the group `{node.name}`"
        lines = [
            *doc(f"Decodes a {what} in place: every length was checked when it was wrapped."),
            "#[derive(Clone, Copy)]",
            f"pub struct {o.decoder}<'a> {{",
            *fields,
            "}",
            "",
        ]

        def built(fixed_from: str, *extra: str) -> str:
            """`Self { .. }`, the fixed-field array taken by the expression `fixed_from`."""
            parts = ((["block"] if keep_block else []) + ([f"fixed: {fixed_from}"] if fixed else [])
                     + (["version"] if versioned else []) + [self.item_var(i) for i in o.items] + list(extra))
            return "Self { " + ", ".join(parts) + " }"

        from_block = f"wire::head::<{fixed}>(block)"
        impl = [f"impl<'a> {o.decoder}<'a> {{", *constant_lines(node.constants, self.ir)]
        if o.is_message:
            m = node
            impl += [
                f"    /// The template id of `{m.name}`.",
                f"    pub const TEMPLATE_ID: u16 = {m.id};",
                "    /// The block length this schema writes.",
                f"    pub const BLOCK_LENGTH: usize = {m.block_length};",
                "",
                *self.required_fn(node),
                "    /// Reads the header at `offset` and checks the whole message against the buffer.",
                "    #[inline]",
                "    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {",
                "        let header = MessageHeader::read(buf, offset)?;",
                "        if header.template_id != Self::TEMPLATE_ID {",
                "            return Err(DecodeError::WrongTemplate { expected: Self::TEMPLATE_ID, found: header.template_id });",
                "        }",
                "        if header.schema_id != SCHEMA_ID {",
                "            return Err(DecodeError::WrongSchema { expected: SCHEMA_ID, found: header.schema_id });",
                "        }",
                "        let version = header.version;",
                "        let block_length = usize::from(header.block_length);",
                "        let required = Self::required_block(version);",
                "        if block_length < required {",
                "            return Err(DecodeError::BlockTooShort { block_length, required });",
                "        }",
                "        let start = offset + MESSAGE_HEADER_SIZE;",
                "        let block = wire::slice(buf, start, block_length)?;",
                "        let pos = start + block_length;",
                *self.scan_lines(o, checked=True),
                f"        Ok({built(from_block, 'length: pos - offset')})",
                "    }",
                "",
                "    /// Bytes from the header to the end of the message.",
                "    #[inline]",
                "    pub fn encoded_length(&self) -> usize {",
                "        self.length",
                "    }",
                "",
                "    /// The schema version the message was written with (the header's).",
                "    #[inline]",
                "    pub fn acting_version(&self) -> u16 {",
                "        self.version",
                "    }",
                "",
                "    /// The block length the header declares.",
                "    #[inline]",
                "    pub fn acting_block_length(&self) -> usize {",
                "        self.block.len()",
                "    }",
                "",
            ]
        else:
            impl += [*self.required_fn(node)]
        for f in node.fields:
            impl += self.getter(f, fixed)
        impl += self.item_accessors(o)
        if impl[-1] == "":
            impl.pop()
        impl.append("}")
        lines += impl + [""]
        if not o.is_message:
            version_arg = "version" if version_param else "_version"
            bind = "let block = " if keep_block or fixed else ""
            # Iterating: an entry that keeps only its fixed fields reads them with one bounds check.
            trusted_block = ["        let block = wire::block_at(buf, offset, block_length);"] if keep_block else []
            trusted = built(from_block if keep_block else f"wire::head_at::<{fixed}>(buf, offset)")
            lines += [
                f"impl<'a> Entry<'a> for {o.decoder}<'a> {{",
                f"    const BLOCK_LENGTH: usize = {node.block_length};",
                f"    const HAS_ITEMS: bool = {'true' if o.items else 'false'};",
                "    #[inline]",
                "    fn required_block(version: u16) -> usize {",
                "        Self::required_block(version)",
                "    }",
                "    #[inline]",
                f"    fn decode_at(buf: &'a [u8], offset: usize, block_length: usize, {version_arg}: u16) "
                "-> Result<(Self, usize), DecodeError> {",
                f"        {bind}wire::slice(buf, offset, block_length)?;",
                "        let pos = offset + block_length;",
                *self.scan_lines(o, checked=True),
                f"        Ok(({built(from_block)}, pos))",
                "    }",
                "    #[inline]",
                f"    fn at(buf: &'a [u8], offset: usize, block_length: usize, {version_arg}: u16) -> (Self, usize) {{",
                *trusted_block,
                "        let pos = offset + block_length;",
                *self.scan_lines(o, checked=False),
                f"        ({trusted}, pos)",
                "    }",
                "}",
                "",
            ]
        return lines

    # ---- encoders -------------------------------------------------------------------------------

    def encoder_items(self, o: Owner) -> list[str]:
        lines = []
        limit = "&mut self.limit" if o.is_message else "self.limit"
        relimit = "&mut self.limit" if o.is_message else "&mut *self.limit"
        buf = "self.rest"
        base = "0" if o.is_message else "self.base"
        for item in o.items:
            if isinstance(item, Group):
                entry = o.entries[o.node.groups.index(item)]
                lines += [
                    f"    /// Writes the header of `{item.name}`; then call `next_entry()` exactly `count` times.",
                    "    /// Groups and var-data must be written once each, in schema order.",
                    "    #[inline]",
                    f"    pub fn encode_{item.name}(&mut self, count: {self.count_rs}) -> Result<{entry.group_encoder}<'_>, EncodeError> {{",
                    f"        wire::put_group_header({buf}, {base}, {limit}, {entry.node.block_length}, count)?;",
                    f"        Ok({entry.group_encoder} {{ buf: &mut *{buf}, base: {base}, limit: {relimit}, count, remaining: count }})",
                    "    }",
                    "",
                ]
                if self.fixed_entries(entry):
                    lines += self.encode_group_from(item, entry, buf, base, limit)
            else:
                lines += [
                    f"    /// Writes the var-data `{item.name}` ({item.encoding}), in schema order.",
                    "    #[inline]",
                    f"    pub fn put_{item.name}(&mut self, value: &[u8]) -> Result<&mut Self, EncodeError> {{",
                    f"        wire::put_var({buf}, {base}, {limit}, value)?;",
                    "        Ok(self)",
                    "    }",
                    "",
                ]
        return lines

    @staticmethod
    def fixed_entries(entry: Owner) -> bool:
        """Entries of one size (fields, no nested groups or var-data): all reserved at once."""
        return bool(entry.node.fields) and not entry.items

    def encode_group_from(self, g: Group, entry: Owner, buf: str, base: str, limit: str) -> list[str]:
        n = entry.node.block_length
        return [
            f"    /// Writes the whole group `{g.name}`, one entry per item of `entries`, each block started",
            "    /// as `next_entry()` starts it and then set by `fill`. Room for the header and every entry is",
            "    /// checked once up front, so the entries are written at constant offsets without more checks.",
            "    /// Instead of `encode_" + g.name + "`; groups and var-data must be written once each, in schema order.",
            "    #[inline]",
            f"    pub fn encode_{g.name}_from<T>(",
            "        &mut self,",
            "        entries: &[T],",
            f"        mut fill: impl FnMut(&T, &mut {entry.encoder}<'_>) -> Result<(), EncodeError>,",
            "    ) -> Result<&mut Self, EncodeError> {",
            "        let count = wire::entry_count(entries.len())?;",
            f"        let blocks = wire::put_group_entries({buf}, {base}, {limit}, {n}, count)?;",
            f"        for (x, block) in entries.iter().zip(blocks.chunks_exact_mut({n})) {{",
            f"            let block: &mut [u8; {n}] = block",
            "                .try_into()",
            f"                .map_err(|_| EncodeError::BufferTooSmall {{ needed: {n}, capacity: 0 }})?;",
            f"            *block = {entry.group_encoder}::INIT_BLOCK;",
            f"            fill(x, &mut {entry.encoder} {{ block }})?;",
            "        }",
            "        Ok(self)",
            "    }",
            "",
        ]

    def encoder(self, o: Owner) -> list[str]:
        node = o.node
        init = bytes_literal(self.init_block(node))
        if o.is_message:
            m = node
            lines = [
                *doc(f"Encodes a `{m.name}` in place: fields in any order, then groups and var-data in schema order."),
                f"pub struct {o.encoder}<'a> {{",
                *([f"    block: &'a mut [u8; {m.block_length}],"] if m.fields else []),
                *(["    rest: &'a mut [u8],", "    limit: usize,"] if o.items else []),
                *(["    buf: core::marker::PhantomData<&'a mut [u8]>,"] if not (m.fields or o.items) else []),
                "}",
                "",
                f"impl<'a> {o.encoder}<'a> {{",
                "    /// The template id of `" + m.name + "`.",
                f"    pub const TEMPLATE_ID: u16 = {m.id};",
                "    /// The block length this schema writes.",
                f"    pub const BLOCK_LENGTH: usize = {m.block_length};",
                f"    const INIT_BLOCK: [u8; {m.block_length}] = {init};",
                "",
                "    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.",
                "    #[inline]",
                "    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {",
                "        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;",
                f"        let (head, {'rest' if o.items else '_rest'}) = buf[offset..].split_at_mut(end - offset);",
                "        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);",
                "        MessageHeader {",
                f"            block_length: {m.block_length},",
                "            template_id: Self::TEMPLATE_ID,",
                "            schema_id: SCHEMA_ID,",
                "            version: SCHEMA_VERSION,",
                "        }",
                "        .write(header);",
                f"        let block: &'a mut [u8; {m.block_length}] = block",
                "            .try_into()",
                "            .map_err(|_| EncodeError::BufferTooSmall { needed: end, capacity: end })?;",
                "        *block = Self::INIT_BLOCK;",
                "        Ok(Self {" + (" block," if m.fields else "") + (" rest, limit: 0" if o.items else "")
                + ("" if (m.fields or o.items) else " buf: core::marker::PhantomData") + " })",
                "    }",
                "",
                "    /// Bytes written from the header to the end of the message so far.",
                "    #[inline]",
                "    pub fn encoded_length(&self) -> usize {",
                "        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH" + (" + self.limit" if o.items else ""),
                "    }",
                "",
            ]
        else:
            lines = [
                *doc(f"Encodes the entries of the group `{node.name}`: `next_entry()` once per declared entry."),
                f"pub struct {o.group_encoder}<'b> {{",
                "    buf: &'b mut [u8],",
                "    base: usize,",
                "    limit: &'b mut usize,",
                f"    count: {self.count_rs},",
                f"    remaining: {self.count_rs},",
                "}",
                "",
                f"impl {o.group_encoder}<'_> {{",
                f"    const INIT_BLOCK: [u8; {node.block_length}] = {init};",
                "",
                "    /// Starts the next entry (optional fields null, the rest zero); `GroupFull` past the count.",
                "    #[inline]",
                f"    pub fn next_entry(&mut self) -> Result<{o.encoder}<'_>, EncodeError> {{",
                "        let start = wire::begin_entry(self.buf, self.base, self.limit, &mut self.remaining, self.count, &Self::INIT_BLOCK)?;",
                f"        let ({'block' if node.fields else '_block'}, {'rest' if o.items else '_rest'}) = self.buf[start..].split_at_mut({node.block_length});",
                *([f"        let block: &mut [u8; {node.block_length}] = block",
                   "            .try_into()",
                   "            .map_err(|_| EncodeError::BufferTooSmall { needed: start, capacity: start })?;"]
                  if node.fields else []),
                f"        Ok({o.encoder} {{"
                + (" block," if node.fields else "")
                + (" rest, base: *self.limit, limit: &mut *self.limit," if o.items else "")
                + ("" if (node.fields or o.items) else " buf: core::marker::PhantomData")
                + " })",
                "    }",
                "",
                "    /// Entries declared but not started yet.",
                "    #[inline]",
                f"    pub fn remaining(&self) -> {self.count_rs} {{",
                "        self.remaining",
                "    }",
                "}",
                "",
                *doc(f"Encodes one entry of the group `{node.name}`."),
                f"pub struct {o.encoder}<'b> {{",
                *([f"    block: &'b mut [u8; {node.block_length}],"] if node.fields else []),
                *(["    rest: &'b mut [u8],", "    base: usize,", "    limit: &'b mut usize,"] if o.items else []),
                *(["    buf: core::marker::PhantomData<&'b mut [u8]>,"] if not (node.fields or o.items) else []),
                "}",
                "",
                f"impl {o.encoder}<'_> {{",
            ]
        for f in node.fields:
            lines += self.setter(f)
        lines += self.encoder_items(o)
        if lines[-1] == "":
            lines.pop()
        lines += ["}", ""]
        return lines

    def messages_module(self) -> str:
        body: list[str] = []
        for m in self.ir.messages:
            root = owners(m)
            for o in root.walk():
                self.check_names(o)
                body += self.decoder(o)
                body += self.encoder(o)
        text = "\n".join(body)
        wire_items = ["self", "DecodeError", "EncodeError", "Fixed", "MessageHeader", "MESSAGE_HEADER_SIZE", "SCHEMA_ID",
                      "SCHEMA_VERSION"]
        if "GroupIter" in text:
            wire_items += ["Entry", "GroupIter"]
        wire_items = [w for w in wire_items if w == "self" or w in text
                      or (w == "Fixed" and ("::read(" in text or ".write(" in text))]
        type_names = sorted({t.name for t in self.ir.types if t.kind in ("decimal", "enum", "set", "composite")
                             and (f"<{t.name}>" in text or f"{t.name}::" in text)})
        uses = ["use crate::wire::{" + ", ".join(wire_items) + "};"]
        if type_names:
            uses.insert(0, "use crate::types::{" + ", ".join(type_names) + "};" if len(type_names) > 1
                        else f"use crate::types::{type_names[0]};")
        head = [
            f"//! Flyweight codecs of `{self.ir.package}`: decoders over `&[u8]` and encoders over `&mut [u8]`.",
            "//!",
            "//! `XDecoder::wrap(buf, offset)` checks the header and every length once; accessors then",
            "//! read in place. `XEncoder::wrap_and_apply_header(buf, offset)` starts a message; set",
            "//! fields in any order, then write groups (`encode_<group>(count)`, `next_entry()` per entry)",
            "//! and var-data (`put_<name>`) once each, in schema order. Nothing allocates or panics.",
            "",
            "#![forbid(unsafe_code)]",
            "",
            *uses,
            "",
        ]
        return "\n".join(head + body)

    def name_problems(self) -> list[str]:
        """What `check_names` finds in every message and group entry, without generating any module:
        `hftc lint` runs this instead of the whole generator."""
        for m in self.ir.messages:
            for o in owners(m).walk():
                self.check_names(o)
        return sorted(set(self.problems))

    def check_names(self, o: Owner) -> None:
        seen: dict[str, str] = {}
        reserved = {"wrap", "encoded_length", "acting_version", "acting_block_length", "required_block",
                    "wrap_and_apply_header", "next_entry", "remaining", "end", "decode_at"}

        def claim(name: str, what: str) -> None:
            if name in reserved:
                self.problems.append(f"{o.name}: {what} would shadow the generated method `{name}`")
            elif name in seen:
                self.problems.append(f"{o.name}: {what} and {seen[name]} both need the method `{name}`")
            seen[name] = what

        for f in o.node.fields:
            claim(f.name, f"field `{f.name}`")
            claim("set_" + f.name, f"field `{f.name}`")
            if self.t.kind(f) == "enum":
                claim(f.name + "_raw", f"field `{f.name}`")
                claim(f"set_{f.name}_raw", f"field `{f.name}`")
        for g in o.node.groups:
            claim(g.name, f"group `{g.name}`")
            claim("encode_" + g.name, f"group `{g.name}`")
            claim(f"encode_{g.name}_from", f"group `{g.name}`")
        for d in o.node.data:
            claim(d.name, f"var-data `{d.name}`")
            claim("put_" + d.name, f"var-data `{d.name}`")
            if d.encoding == "utf8":
                claim(d.name + "_str", f"var-data `{d.name}`")

    # ---- dispatch -------------------------------------------------------------------------------

    def dispatch_module(self) -> str:
        ms = sorted(self.ir.messages, key=lambda m: m.id)
        lines = [
            f"//! Decode any message of `{self.ir.package}` by its template id and hand it to a [`Handler`].",
            "",
            "#![forbid(unsafe_code)]",
            "",
        ]
        if ms:
            lines.append("use crate::messages::{" + ", ".join(f"{m.name}Decoder" for m in ms) + "};")
        lines += [
            "use crate::wire::{DecodeError, MessageHeader, SCHEMA_ID};",
            "",
            "/// One method per message; each defaults to ignoring it.",
            "pub trait Handler {",
        ]
        for m in ms:
            lines += [
                f"    /// A `{m.name}` (template {m.id}).",
                f"    fn on_{snake(m.name)}(&mut self, message: {m.name}Decoder<'_>) {{",
                "        let _ = message;",
                "    }",
                "",
            ]
        if lines[-1] == "":
            lines.pop()
        lines += [
            "}",
            "",
            "/// Decodes the message at `offset` and calls the handler's method for it; returns the",
            "/// message's length on the wire. Unknown templates and other schemas are errors.",
            "#[inline]",
            "pub fn dispatch<H: Handler + ?Sized>(buf: &[u8], offset: usize, handler: &mut H) -> Result<usize, DecodeError> {",
            "    let header = MessageHeader::read(buf, offset)?;",
            "    if header.schema_id != SCHEMA_ID {",
            "        return Err(DecodeError::WrongSchema { expected: SCHEMA_ID, found: header.schema_id });",
            "    }",
            "    match header.template_id {",
        ]
        if not ms:
            lines[-1] = "    let _ = handler;"
            lines.append("    Err(DecodeError::UnknownTemplate(header.template_id))")
            lines.append("}")
        else:
            for m in ms:
                lines += [
                    f"        {m.id} => {{",
                    f"            let message = {m.name}Decoder::wrap(buf, offset)?;",
                    "            let length = message.encoded_length();",
                    f"            handler.on_{snake(m.name)}(message);",
                    "            Ok(length)",
                    "        }",
                ]
            lines += ["        other => Err(DecodeError::UnknownTemplate(other)),", "    }", "}"]
        lines += [
            "",
            "/// Dispatches every message of a buffer holding messages laid end to end; returns how many.",
            "pub fn dispatch_all<H: Handler + ?Sized>(buf: &[u8], handler: &mut H) -> Result<usize, DecodeError> {",
            "    let mut offset = 0;",
            "    let mut count = 0;",
            "    while offset < buf.len() {",
            "        offset += dispatch(buf, offset, handler)?;",
            "        count += 1;",
            "    }",
            "    Ok(count)",
            "}",
            "",
        ]
        return "\n".join(lines)

    # ---- owned model ----------------------------------------------------------------------------

    def owned_module(self) -> str:
        lines = [
            f"//! Owned copies of the messages of `{self.ir.package}`: plain structs with `Vec`s for groups",
            "//! and var-data, for tests, tools and replay. They allocate; the hot path uses the",
            "//! flyweights in [`crate::messages`].",
            "",
            "#![forbid(unsafe_code)]",
            "",
        ]
        body: list[str] = []
        names: set[str] = set()
        for m in self.ir.messages:
            root = owners(m)
            for o in root.walk():
                names.add(o.decoder)
                if o.is_message:
                    names.add(o.encoder)
                else:
                    names.add(o.encoder)
                body += self.owned_struct(o)
        text = "\n".join(body)
        type_names = sorted({t.name for t in self.ir.types if t.kind in ("decimal", "enum", "set", "composite")
                             and (f"{t.name}" in text)})
        uses = []
        if type_names:
            uses.append("use crate::types::{" + ", ".join(type_names) + "};" if len(type_names) > 1
                        else f"use crate::types::{type_names[0]};")
        used = sorted(n for n in names if n in text)
        if used:
            uses.append("use crate::messages::{" + ", ".join(used) + "};")
        wire_items = [w for w in ("self", "DecodeError", "EncodeError") if w == "self" and "wire::" in text or w in text and w != "self"]
        if wire_items:
            uses.append("use crate::wire::{" + ", ".join(wire_items) + "};" if len(wire_items) > 1 else f"use crate::wire::{wire_items[0]};")
        lines += uses + [""]
        lines += [
            "/// A message as an owned value: decode from bytes, encode to bytes.",
            "pub trait OwnedMessage: Sized {",
            "    /// The template id.",
            "    const TEMPLATE_ID: u16;",
            "    /// Decodes the message at `offset`.",
            "    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError>;",
            "    /// Encodes the message at `offset`; returns its length on the wire.",
            "    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError>;",
            "}",
            "",
        ]
        return "\n".join(lines + body)

    def owned_field_read(self, f: Field) -> str:
        if self.t.kind(f) == "chars":
            return f"*d.{ident(f.name)}()"
        return f"d.{ident(f.name)}()"

    def owned_struct(self, o: Owner) -> list[str]:
        node = o.node
        lines = [
            *doc(node.description or (f"The message `{node.name}`." if o.is_message else f"An entry of `{node.name}`.")),
            "#[derive(Clone, Debug, PartialEq)]",
            f"pub struct {o.name} {{",
        ]
        for f in node.fields:
            lines += [*doc(f.description, "    "), f"    pub {ident(f.name)}: {self.value_type(f)},"]
        for g, e in zip(node.groups, o.entries):
            lines += [*doc(g.description, "    "), f"    pub {ident(g.name)}: Vec<{e.name}>,"]
        for d in node.data:
            lines += [*doc(d.description, "    "), f"    pub {ident(d.name)}: Vec<u8>,"]
        lines += ["}", ""]
        reads = [f"            {ident(f.name)}: {self.owned_field_read(f)}," for f in node.fields]
        reads += [f"            {ident(g.name)}: d.{ident(g.name)}().map(|e| {e.name}::from_decoder(&e)).collect(),"
                  for g, e in zip(node.groups, o.entries)]
        reads += [f"            {ident(d.name)}: d.{ident(d.name)}().to_vec()," for d in node.data]
        sets = []
        for f in node.fields:
            if self.t.kind(f) == "chars":
                sets.append(f"        e.set_{f.name}(&self.{ident(f.name)})?;")
            else:
                sets.append(f"        e.set_{f.name}(self.{ident(f.name)});")
        for g, ent in zip(node.groups, o.entries):
            if self.fixed_entries(ent):
                sets.append(f"        e.encode_{g.name}_from(&self.{ident(g.name)}, |x, entry| x.encode_entry(entry))?;")
                continue
            sets += [
                "        {",
                f"            let mut group = e.encode_{g.name}(wire::entry_count(self.{ident(g.name)}.len())?)?;",
                f"            for entry in &self.{ident(g.name)} {{",
                "                entry.encode_entry(&mut group.next_entry()?)?;",
                "            }",
                "        }",
            ]
        for d in node.data:
            sets.append(f"        e.put_{d.name}(&self.{ident(d.name)})?;")
        dname = "d" if reads else "_d"
        if o.is_message:
            lines += [
                f"impl {o.name} {{",
                "    /// Copies every field, group and var-data out of a decoder.",
                f"    pub fn from_decoder({dname}: &{o.decoder}<'_>) -> Self {{",
                "        Self {" if reads else "        Self {}",
                *reads,
                *(["        }"] if reads else []),
                "    }",
                "}",
                "",
                f"impl OwnedMessage for {o.name} {{",
                f"    const TEMPLATE_ID: u16 = {node.id};",
                "",
                "    fn decode(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {",
                f"        Ok(Self::from_decoder(&{o.decoder}::wrap(buf, offset)?))",
                "    }",
                "",
                "    #[inline]",
                "    fn encode(&self, buf: &mut [u8], offset: usize) -> Result<usize, EncodeError> {",
                f"        let {'mut ' if sets else ''}e = {o.encoder}::wrap_and_apply_header(buf, offset)?;",
                *sets,
                "        Ok(e.encoded_length())",
                "    }",
                "}",
                "",
            ]
        else:
            ename = "e" if sets else "_e"
            lines += [
                f"impl {o.name} {{",
                "    /// Copies every field, nested group and var-data out of a decoder.",
                f"    pub fn from_decoder({dname}: &{o.decoder}<'_>) -> Self {{",
                "        Self {" if reads else "        Self {}",
                *reads,
                *(["        }"] if reads else []),
                "    }",
                "",
                "    /// Writes this entry into a started entry of the group.",
                "    #[inline]",
                f"    pub fn encode_entry(&self, {ename}: &mut {o.encoder}<'_>) -> Result<(), EncodeError> {{",
                *sets,
                "        Ok(())",
                "    }",
                "}",
                "",
            ]
        return lines
