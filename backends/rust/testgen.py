"""The generated crate's round-trip tests and benchmark binary."""

from __future__ import annotations

from hftc.backends.rust.codegen import Generator, Owner, owners, required_versions, unknown_discriminant
from hftc.backends.rust.constants import rust_constant
from hftc.backends.rust.naming import RUST_PRIMITIVES, bytes_literal, ident, snake
from hftc.ir.model import PRIMITIVES, Field

MT64 = """\
/// `std::mt19937_64`, so the benchmark encodes the very values the C++ benchmark does.
struct Mt64 {
    state: [u64; 312],
    next: usize,
}

// A schema without floats, var-data or some other kind of field leaves helpers unused.
#[allow(dead_code)]
impl Mt64 {
    fn new(seed: u64) -> Self {
        let mut state = [0u64; 312];
        state[0] = seed;
        for i in 1..312 {
            let prev = state[i - 1];
            state[i] = 6_364_136_223_846_793_005u64
                .wrapping_mul(prev ^ (prev >> 62))
                .wrapping_add(i as u64);
        }
        Mt64 { state, next: 312 }
    }

    fn next_u64(&mut self) -> u64 {
        if self.next == 312 {
            for i in 0..312 {
                let x = (self.state[i] & 0xffff_ffff_8000_0000) | (self.state[(i + 1) % 312] & 0x7fff_ffff);
                let mag = if x & 1 == 1 { 0xb502_6f5a_a966_19e9 } else { 0 };
                self.state[i] = self.state[(i + 156) % 312] ^ (x >> 1) ^ mag;
            }
            self.next = 0;
        }
        let mut x = self.state[self.next];
        self.next += 1;
        x ^= (x >> 29) & 0x5555_5555_5555_5555;
        x ^= (x << 17) & 0x71d6_7fff_eda6_0000;
        x ^= (x << 37) & 0xfff7_eee0_0000_0000;
        x ^ (x >> 43)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `rand_float`: a 21-bit integer over 1024, exact in f32 and f64.
    fn float(&mut self) -> f64 {
        ((self.next_u64() % 2_000_001) as i64 - 1_000_000) as f64 / 1024.0
    }

    /// `rand_text`: up to `max` lowercase letters.
    fn text(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| b'a' + self.below(26) as u8).collect()
    }

    fn chars<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for (c, t) in out.iter_mut().zip(self.text(N)) {
            *c = t;
        }
        out
    }

    /// `rand_var_text` for `Shape::one`: 0 to 40 letters, "x" when that draws none.
    fn var_text(&mut self) -> Vec<u8> {
        let s = self.text(40);
        if s.is_empty() { b"x".to_vec() } else { s }
    }

    /// `rand_var_bytes` for `Shape::one`: 1 to 40 random bytes.
    fn var_bytes(&mut self) -> Vec<u8> {
        let len = 1 + self.below(40);
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
"""

RNG = """\
/// splitmix64: small, seeded, reproducible.
struct Rng(u64);

// A schema without chars, optional fields or some other kind of field leaves helpers unused.
#[allow(dead_code)]
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn chars<const N: usize>(&mut self) -> [u8; N] {
        let len = self.below(N as u64 + 1) as usize;
        let mut out = [0u8; N];
        for c in out.iter_mut().take(len) {
            *c = b'a' + self.below(26) as u8;
        }
        out
    }

    /// Entries of a group: 0, 1 or 3 by shape (0 empty, 1 one, 2 many, 3 mixed).
    fn count(&mut self, shape: u8) -> usize {
        match shape {
            0 => 0,
            1 => 1,
            2 => 3,
            _ => self.below(4) as usize,
        }
    }

    fn bytes(&mut self, shape: u8) -> Vec<u8> {
        let len = match shape {
            0 => 0,
            1 => 1,
            _ => self.below(40) as usize,
        };
        (0..len).map(|_| b'a' + self.below(26) as u8).collect()
    }

    fn opt<T: PartialEq>(&mut self, value: T, null: T) -> Option<T> {
        if self.below(4) == 0 || value == null {
            None
        } else {
            Some(value)
        }
    }
}
"""


class TestGen:
    def __init__(self, gen: Generator):
        self.g = gen
        self.t = gen.t
        self.ir = gen.ir

    # random values ---------------------------------------------------------------------------

    def random_type(self, name: str) -> str:
        if name == "char":
            return "b'a' + rng.below(26) as u8"
        if name in PRIMITIVES:
            rt = RUST_PRIMITIVES[name]
            if rt == "f64":
                return "(rng.below(2_000_001) as f64) / 1024.0 - 1000.0"
            if rt == "f32":
                return "(rng.below(20_001) as f32) / 16.0 - 600.0"
            return "rng.next_u64()" if rt == "u64" else f"rng.next_u64() as {rt}"
        t = self.t.typedef(name)
        if t.kind == "decimal":
            enc = RUST_PRIMITIVES[t.encoding or "int64"]
            return f"{t.name}::from_mantissa({'rng.next_u64()' if enc == 'u64' else f'rng.next_u64() as {enc}'})"
        if t.kind == "enum":
            enc = RUST_PRIMITIVES[t.encoding or "uint8"]
            if not t.values:
                return f"{t.name}::from_raw(rng.next_u64() as {enc})"
            values = ", ".join(f"{v.value}{enc}" if i == 0 else str(v.value) for i, v in enumerate(t.values))
            return (f"{t.name}::from_raw(if rng.below(5) == 0 {{ rng.next_u64() as {enc} }} else {{ "
                    f"[{values}][rng.below({len(t.values)}) as usize] }})")
        if t.kind == "set":
            enc = RUST_PRIMITIVES[t.encoding or "uint8"]
            return f"{t.name}::from_bits({'rng.next_u64()' if enc == 'u64' else f'rng.next_u64() as {enc}'})"
        if t.kind == "char":
            return f"rng.chars::<{t.length}>()"
        if t.kind == "composite":
            inner = ", ".join(f"{ident(f.name)}: {self.random_type(f.type)}" for f in t.fields)
            return f"{t.name} {{ {inner} }}"
        if t.kind == "array":
            return f"core::array::from_fn(|_| {self.random_type(t.element or '')})"
        raise ValueError(t.kind)

    def random_field(self, f: Field) -> str:
        value = self.random_type(f.type)
        if self.t.nullable(f):
            k = self.t.kind(f)
            if k == "float":
                return f"if rng.below(4) == 0 {{ None }} else {{ Some({value}) }}"
            return f"{{ let v = {value}; rng.opt(v, {self.g.null_literal(f)}) }}"
        return value

    def random_fn(self, o: Owner) -> list[str]:
        node = o.node
        lines = [f"fn random_{snake(o.name)}(rng: &mut Rng, shape: u8) -> owned::{o.name} {{"]
        if not (node.groups or node.data):
            lines = [f"fn random_{snake(o.name)}(rng: &mut Rng, _shape: u8) -> owned::{o.name} {{"]
        if not (node.fields or node.groups or node.data):
            lines = [f"fn random_{snake(o.name)}(_rng: &mut Rng, _shape: u8) -> owned::{o.name} {{"]
        parts = [f"        {ident(f.name)}: {self.random_field(f)}," for f in node.fields]
        for g, e in zip(node.groups, o.entries):
            parts.append(f"        {ident(g.name)}: (0..rng.count(shape)).map(|_| random_{snake(e.name)}(rng, shape)).collect(),")
        for d in node.data:
            parts.append(f"        {ident(d.name)}: rng.bytes(shape),")
        if parts:
            lines += [f"    owned::{o.name} {{", *parts, "    }", "}", ""]
        else:
            lines += [f"    owned::{o.name} {{}}", "}", ""]
        return lines

    def absent(self, f: Field) -> str:
        if self.t.nullable(f):
            return "None"
        return f"<{self.t.rust(f.type)}>::read(&{bytes_literal(self.t.field_null_bytes(f))})"

    def at_version_fn(self, o: Owner) -> list[str]:
        node = o.node
        body = []
        for f in node.fields:
            if f.since_version:
                body.append(f"    if version < {f.since_version} {{ x.{ident(f.name)} = {self.absent(f)}; }}")
        for g, e in zip(node.groups, o.entries):
            if g.since_version:
                body.append(f"    if version < {g.since_version} {{ x.{ident(g.name)}.clear(); }}")
            body.append(f"    for e in &mut x.{ident(g.name)} {{ at_version_{snake(e.name)}(e, version); }}")
        for d in node.data:
            if d.since_version:
                body.append(f"    if version < {d.since_version} {{ x.{ident(d.name)}.clear(); }}")
        args = "x" if body else "_x"
        ver = "version" if body else "_version"
        return [f"fn at_version_{snake(o.name)}({args}: &mut owned::{o.name}, {ver}: u16) {{", *body, "}", ""]

    def versioned_items(self, o: Owner) -> bool:
        return any(i.since_version for i in o.items) or any(self.versioned_items(e) for e in o.entries)

    def versions_of(self, o: Owner) -> set[int]:
        out = {f.since_version for f in o.node.fields} | {i.since_version for i in o.items}
        for e in o.entries:
            out |= self.versions_of(e)
        return out

    def roundtrip(self) -> str:
        ir = self.ir
        lines = [
            f"//! Round trips of every message of `{ir.package}` with seeded random values: group counts",
            "//! 0, 1 and many, nested groups, var-data, truncation at every length, acting versions.",
            "",
            "#![forbid(unsafe_code)]",
            "",
            f"use {ir.package_snake}::owned::{{self, OwnedMessage}};",
        ]
        types = [t.name for t in ir.types if t.kind in ("decimal", "enum", "set", "composite")]
        body: list[str] = [RNG]
        w = ir.wire
        hs = w.header_size
        if not w.is_default:  # the header's fields are not at the default offsets: go through its codec
            body += [
                "/// Rewrites the block length and version of the message header at the start of `b`.",
                "fn set_header(b: &mut [u8], block_length: Option<u16>, version: Option<u16>) {",
                f"    let mut h = {ir.package_snake}::wire::MessageHeader::read(b, 0).expect(\"header\");",
                "    h.block_length = block_length.unwrap_or(h.block_length);",
                "    h.version = version.unwrap_or(h.version);",
                "    h.write(b);",
                "}",
                "",
            ]

        def set_block(target: str, value: str) -> str:
            if w.is_default:
                return f"{target}[..2].copy_from_slice(&({value}).to_le_bytes());"
            return f"set_header(&mut {target}, Some({value}), None);"

        def set_version(target: str, value: str) -> str:
            if w.is_default:
                value = f"({value})" if " " in value else value
                return f"{target}[6..8].copy_from_slice(&{value}.to_le_bytes());"
            return f"set_header(&mut {target}, None, Some({value}));"

        body += [
            "/// Encodes, decodes, re-encodes; checks truncation, small buffers and acting versions.",
            "fn check<M: OwnedMessage + PartialEq + core::fmt::Debug + Clone>(x: &M, at_version: impl Fn(&mut M, u16), versions: &[u16]) {",
            "    let mut buf = vec![0u8; 1 << 16];",
            "    let n = x.encode(&mut buf, 0).expect(\"encode\");",
            "    let bytes = buf[..n].to_vec();",
            "    let y = M::decode(&bytes, 0).expect(\"decode\");",
            "    assert_eq!(&y, x);",
            "    let mut again = vec![0u8; n];",
            "    assert_eq!(y.encode(&mut again, 0), Ok(n));",
            "    assert_eq!(again, bytes);",
            "    // Dispatch agrees on the length; messages laid end to end all dispatch.",
            "    struct Ignore;",
            f"    impl {ir.package_snake}::Handler for Ignore {{}}",
            f"    assert_eq!({ir.package_snake}::dispatch(&bytes, 0, &mut Ignore), Ok(n));",
            "    let twice = [bytes.clone(), bytes.clone()].concat();",
            f"    assert_eq!({ir.package_snake}::dispatch_all(&twice, &mut Ignore), Ok(2));",
            "    // Every truncation is an error, never a panic; so is every short buffer when encoding.",
            "    for len in 0..n {",
            "        assert!(M::decode(&bytes[..len], 0).is_err(), \"decoded {len} of {n} bytes\");",
            f"        assert!({ir.package_snake}::dispatch(&bytes[..len], 0, &mut Ignore).is_err());",
            "        let mut small = vec![0u8; len];",
            "        assert!(x.encode(&mut small, 0).is_err(), \"encoded into {len} of {n} bytes\");",
            "    }",
            "    // Any one byte changed (lengths and counts included): an error or a message, never a panic.",
            "    for i in 0..n {",
            "        for v in [0x00, 0x01, 0x7f, 0xff] {",
            "            let mut bad = bytes.clone();",
            "            bad[i] = v;",
            "            let _ = M::decode(&bad, 0);",
            f"            let _ = {ir.package_snake}::dispatch(&bad, 0, &mut Ignore);",
            "        }",
            "    }",
            "    // A newer writer: a longer block (unknown trailing fields) and a higher version.",
            "    let block_length = usize::from(u16::from_le_bytes([bytes[0], bytes[1]]));" if w.is_default else
            f"    let block_length = usize::from({ir.package_snake}::wire::MessageHeader::read(&bytes, 0).expect(\"header\").block_length);",
            f"    let mut newer = bytes[..{hs} + block_length].to_vec();",
            "    newer.extend_from_slice(&[0xab; 3]);",
            f"    newer.extend_from_slice(&bytes[{hs} + block_length..]);",
            "    " + set_block("newer", "block_length as u16 + 3"),
            "    " + set_version("newer", f"{ir.package_snake}::SCHEMA_VERSION + 1"),
            "    assert_eq!(M::decode(&newer, 0).expect(\"newer\"), y);",
            "    // An older writer: fields newer than its version read as null (messages whose groups and",
            "    // var-data all date from version 0; the cross-language vectors cover the others).",
            "    for &version in versions {",
            "        let mut old = bytes.clone();",
            "        " + set_version("old", "version"),
            "        let mut expected = x.clone();",
            "        at_version(&mut expected, version);",
                "        assert_eq!(M::decode(&old, 0).expect(\"old\"), expected, \"acting version {version}\");",
            "    }",
            "}",
            "",
        ]
        for m in ir.messages:
            root = owners(m)
            for o in root.walk():
                body += self.random_fn(o)
                body += self.at_version_fn(o)
            versions = sorted(v for v in self.versions_of(root) if v < ir.version)
            # an acting version for every schema version a part of the message was added after
            acting = sorted({v - 1 for v in self.versions_of(root) if v > 0} | set(versions))
            acting = [v for v in acting if v < ir.version]
            if self.versioned_items(root):
                acting = []
            name = snake(m.name)
            body += [
                "#[test]",
                f"fn {name}_round_trips() {{",
                f"    let mut rng = Rng({0x5EED + m.id});",
                "    for trial in 0..64u32 {",
                "        let shape = (trial % 4) as u8;",
                f"        let x = random_{name}(&mut rng, shape);",
                f"        check(&x, at_version_{name}, &[{', '.join(str(v) for v in acting)}]);",
                "    }",
                "}",
                "",
            ]
            # a block trimmed to an old version's fields, for old versions of top-level fields
            trims = [(v, need) for v, need in required_versions(m.fields, m.block_length)]
            olds = []
            for since in sorted({f.since_version for f in m.fields if f.since_version}):
                need = max((f.offset + f.size for f in m.fields if f.since_version < since), default=0)
                olds.append((since - 1, need))
            if olds and not self.versioned_items(root):
                body += [
                    "#[test]",
                    f"fn {name}_old_block_lengths() {{",
                    f"    let mut rng = Rng({0xB10C + m.id});",
                    "    for trial in 0..16u32 {",
                    f"        let x = random_{name}(&mut rng, (trial % 4) as u8);",
                    "        let mut buf = vec![0u8; 1 << 16];",
                    "        let n = x.encode(&mut buf, 0).expect(\"encode\");",
                    f"        const OLD: &[(u16, usize)] = &[{', '.join(f'({v}, {need})' for v, need in olds)}];",
                    "        for &(version, block) in OLD {",
                    f"            let mut old = buf[..{hs}].to_vec();",
                    "            " + set_block("old", "block as u16"),
                    "            " + set_version("old", "version"),
                    f"            old.extend_from_slice(&buf[{hs}..{hs} + block]);",
                    f"            old.extend_from_slice(&buf[{hs} + {m.block_length}..n]);",
                    "            let mut expected = x.clone();",
                    f"            at_version_{name}(&mut expected, version);",
                    f"            assert_eq!(owned::{m.name}::decode(&old, 0).expect(\"old block\"), expected);",
                    "            if block > 0 {",
                    "                " + set_block("old", "block as u16 - 1"),
                    f"                assert!(owned::{m.name}::decode(&old, 0).is_err());",
                    "            }",
                    "        }",
                    "    }",
                    "}",
                    "",
                ]
            del trims
        # decimals: exact text both ways
        for t in ir.types:
            if t.kind == "decimal":
                enc = RUST_PRIMITIVES[t.encoding or "int64"]
                body += [
                    "#[test]",
                    f"fn {snake(t.name)}_text_is_exact() {{",
                    f"    let mut rng = Rng({len(t.name)});",
                    "    for _ in 0..1000 {",
                    f"        let x = {t.name}::from_mantissa(rng.next_u64() as {enc});",
                    "        let text = x.to_string();",
                    f"        assert_eq!(text.parse::<{t.name}>(), Ok(x), \"{{text}}\");",
                    "    }",
                    f'    assert_eq!({t.name}::NULL.to_string(), "null");',
                    f'    assert!("1e3".parse::<{t.name}>().is_err());',
                    f'    assert!("".parse::<{t.name}>().is_err());',
                    f'    assert!("1.".parse::<{t.name}>().is_err());',
                    f"    assert!(format!(\"0.{{}}1\", \"0\".repeat({max(0, -t.exponent)})).parse::<{t.name}>().is_err());",
                    "}",
                    "",
                ]
            if t.kind == "enum" and t.values:
                enc = RUST_PRIMITIVES[t.encoding or "uint8"]
                unknown = unknown_discriminant({v.value for v in t.values}, PRIMITIVES[t.encoding or "uint8"])
                body += [
                    "#[test]",
                    f"fn {snake(t.name)}_{'raw_values_round_trip' if unknown is None else 'unknown_values_are_kept'}() {{",
                    *([f"    assert_eq!({t.name}::from_raw({unknown}), {t.name}::Unknown({unknown}));",
                       f"    assert_eq!({t.name}::from_raw({unknown}).raw(), {unknown}{enc});"]
                      if unknown is not None else []),
                    f"    assert_eq!({t.name}::from_raw({t.values[0].value}).raw(), {t.values[0].value});",
                    "}",
                    "",
                ]
        for m in ir.messages:
            consts = [(o, c) for o in owners(m).walk() for c in o.node.constants]
            if consts:
                body += ["#[test]", f"fn {snake(m.name)}_constants_are_the_schema_values() {{"]
                for o, c in consts:
                    r = rust_constant(c, ir)
                    body.append(f"    assert_eq!({ir.package_snake}::messages::{o.decoder}::{r.name}, {r.value});")
                body += ["}", ""]
        if any(t.kind == "char" for t in ir.types):
            body += [
                "#[test]",
                "fn text_longer_than_a_char_field_is_an_error_unless_truncated() {",
                "    let mut b = [0xffu8; 4];",
                f"    assert_eq!({ir.package_snake}::wire::put_chars(&mut b, b\"abcde\"),",
                f"               Err({ir.package_snake}::wire::EncodeError::TooLong {{ length: 5, capacity: 4 }}));",
                "    assert_eq!(b, [0xff; 4]);",
                f"    {ir.package_snake}::wire::put_chars_truncated(&mut b, b\"abcde\");",
                "    assert_eq!(&b, b\"abcd\");",
                f"    {ir.package_snake}::wire::put_chars_truncated(&mut b, b\"ab\");",
                "    assert_eq!(&b, b\"ab\\0\\0\");",
                "}",
                "",
            ]
        text = "\n".join(body)
        used = [n for n in types if n in text]
        if used:
            lines.append(f"use {ir.package_snake}::types::{{{', '.join(used)}}};")
        if "::read(" in text:
            lines.append(f"use {ir.package_snake}::wire::Fixed;")
        return "\n".join(lines + ["", text])

    # bench -------------------------------------------------------------------------------------

    def checksum_fn(self, o: Owner) -> list[str]:
        node = o.node
        lines = [f"fn sum_{snake(o.name)}(d: &{o.decoder}<'_>) -> u64 {{", "    let mut h = 0u64;"]
        def lift(expr: str, rust: str) -> str:
            if rust == "u64":
                return ".unwrap_or(0)"
            if rust in ("u8", "u16", "u32"):
                return ".map_or(0, u64::from)"
            return f".map_or(0, |v| {expr} as u64)"

        def as64(expr: str, rust: str) -> str:
            if rust == "u64":
                return expr
            if rust in ("u8", "u16", "u32"):
                return f"u64::from({expr})"
            return f"{expr} as u64"

        for f in node.fields:
            k = self.t.kind(f)
            get = f"d.{ident(f.name)}()"
            enc = RUST_PRIMITIVES.get(self.t.encoding(f)) if k in ("int", "float", "decimal", "enum", "set") else None
            if k == "int":
                expr = f"{get}{lift('v', enc)}" if self.t.nullable(f) else as64(get, enc)
            elif k == "float":
                bits = "u32" if enc == "f32" else "u64"
                expr = f"{get}.map_or(0, |v| {as64('v.to_bits()', bits)})" if self.t.nullable(f) else as64(f"{get}.to_bits()", bits)
            elif k == "char":
                expr = f"u64::from({get})"
            elif k == "decimal":
                expr = f"{get}.map_or(0, |v| {as64('v.mantissa', enc)})" if self.t.nullable(f) else as64(f"{get}.mantissa", enc)
            elif k == "enum":
                expr = as64(f"d.{f.name}_raw()", enc)
            elif k == "set":
                expr = as64(f"{get}.bits()", enc)
            elif k == "chars":
                expr = f"{get}.iter().fold(0u64, |a, &c| fold(a, u64::from(c)))"
            else:
                expr = f"fold_debug(&{get})"
            lines.append(f"    h = fold(h, {expr});")
        for g, e in zip(node.groups, o.entries):
            lines.append(f"    for e in d.{ident(g.name)}() {{ h = fold(h, sum_{snake(e.name)}(&e)); }}")
        for dd in node.data:
            lines.append(f"    h = fold_bytes(h, d.{ident(dd.name)}());")
        if len(lines) == 2:
            return [f"fn sum_{snake(o.name)}(_d: &{o.decoder}<'_>) -> u64 {{", "    0", "}", ""]
        lines += ["    h", "}", ""]
        return lines

    def bench(self) -> str:
        ir = self.ir
        pkg = ir.package_snake
        decoders = []
        body: list[str] = []
        for m in ir.messages:
            root = owners(m)
            for o in root.walk():
                decoders.append(o.decoder)
                body += self.checksum_fn(o)
        text = "\n".join(body)
        lines = [
            f"//! Encode and decode time per message of `{ir.package}`, against a raw `copy_from_slice` of the",
            "//! same bytes. Prints JSON: {\"results\": [{name, unit, median, p99, target, baseline}]}, where",
            "//! target is 1.2x the baseline's median. Run with `cargo run --release --bin bench`.",
            "//!",
            "//! Each message is the C++ benchmark's: `std::mt19937_64` seeded 42 drawing every value the way",
            "//! the C++ models' `randomize(rng, Shape::one, x)` does (one entry per group, 1 to 40 bytes of",
            "//! var-data), so both languages encode and decode the same bytes. `--inputs` prints those bytes",
            "//! ({\"inputs\": {message: hex}}) instead of timing, as the C++ benchmark's `--inputs` does.",
            "",
            "#![forbid(unsafe_code)]",
            "",
            "use std::hint::black_box;",
            "use std::time::Instant;",
            "",
        ]
        examples: list[str] = []
        for m in ir.messages:
            for o in owners(m).walk():
                examples += self.bench_value_fn(o)
        all_text = text + "\n".join(examples)
        types = [t.name for t in ir.types if t.kind in ("decimal", "enum", "set", "composite") and t.name in all_text]
        if decoders:
            lines.append(f"use {pkg}::messages::{{{', '.join(decoders)}}};")
            lines.append(f"use {pkg}::owned::{{self, OwnedMessage}};")
        if types:
            lines.append(f"use {pkg}::types::{{{', '.join(types)}}};")
        lines += [
            "",
            "const BATCH: usize = 1000;",
            "const SAMPLES: usize = 301;",
            "",
            "/// Nanoseconds per operation: batches of 1000, median and p99 over 301 batches.",
            "fn measure(mut op: impl FnMut()) -> (f64, f64) {",
            "    for _ in 0..BATCH * 10 {",
            "        op();",
            "    }",
            "    let mut ns = Vec::with_capacity(SAMPLES);",
            "    for _ in 0..SAMPLES {",
            "        let t0 = Instant::now();",
            "        for _ in 0..BATCH {",
            "            op();",
            "        }",
            "        ns.push(t0.elapsed().as_nanos() as f64 / BATCH as f64);",
            "    }",
            "    ns.sort_by(f64::total_cmp);",
            "    (ns[ns.len() / 2], ns[ns.len() * 99 / 100])",
            "}",
            "",
            "fn fold(h: u64, v: u64) -> u64 {",
            "    (h ^ v).wrapping_mul(0x0100_0000_01b3)",
            "}",
            "",
        ]
        if "fold_bytes" in text:
            lines += [
                "/// The length, then every byte, as the C++ benchmark folds var-data. Out of line so the",
                "/// per-byte loop has registers to itself, as it does in the C++ benchmark.",
                "#[inline(never)]",
                "fn fold_bytes(h: u64, bytes: &[u8]) -> u64 {",
                "    let h = fold(h, bytes.len() as u64);",
                "    bytes.iter().fold(h, |h, &c| fold(h, u64::from(c)))",
                "}",
                "",
            ]
        if "fold_debug" in text:
            lines += [
                "fn fold_debug<T: core::fmt::Debug>(v: &T) -> u64 {",
                "    black_box(v);",
                "    1",
                "}",
                "",
            ]
        lines += [
            "fn result(name: &str, codec: (f64, f64), baseline: (f64, f64)) -> String {",
            "    format!(",
            '        "    {{\\"name\\": \\"{name}\\", \\"unit\\": \\"ns\\", \\"median\\": {:.2}, \\"p99\\": {:.2}, \\"target\\": {:.2}, \\"baseline\\": {:.2}}}",',
            "        codec.0,",
            "        codec.1,",
            "        1.2 * baseline.0,",
            "        baseline.0",
            "    )",
            "}",
            "",
            "/// The encode buffer: like the C++ benchmark's, 64-byte aligned and of a size known when compiling.",
            "#[repr(align(64))]",
            "struct Buf([u8; 1 << 16]);",
            "",
            "fn bench<M: OwnedMessage>(name: &str, x: &M, sum: impl Fn(&[u8]) -> u64, out: &mut Vec<String>) {",
            "    let mut buf = Buf([0u8; 1 << 16]);",
            "    let buf = &mut buf.0;",
            "    let n = x.encode(buf, 0).expect(\"encode\");",
            "    let bytes = buf[..n].to_vec();",
            "    let encode = measure(|| {",
            "        let n = black_box(x).encode(buf, 0).unwrap_or(0);",
            "        black_box(n);",
            "    });",
            "    let encode_baseline = measure(|| {",
            "        buf[..n].copy_from_slice(black_box(&bytes));",
            "        black_box(&buf);",
            "    });",
            "    let decode = measure(|| {",
            "        black_box(sum(black_box(&bytes)));",
            "    });",
            "    let mut copy = vec![0u8; n];",
            "    let decode_baseline = measure(|| {",
            "        copy.copy_from_slice(black_box(&bytes));",
            "        black_box(&copy);",
            "    });",
            '    out.push(result(&format!("{name}.encode"), encode, encode_baseline));',
            '    out.push(result(&format!("{name}.decode"), decode, decode_baseline));',
            "}",
            "",
            "/// `\"name\": \"hex\"` of the bytes `x` encodes to: what `--inputs` prints.",
            "fn input<M: OwnedMessage>(name: &str, x: &M) -> String {",
            "    let mut buf = vec![0u8; 1 << 16];",
            "    let n = x.encode(&mut buf, 0).expect(\"encode\");",
            "    let hex: String = buf[..n].iter().map(|b| format!(\"{b:02x}\")).collect();",
            "    format!(\"    \\\"{name}\\\": \\\"{hex}\\\"\")",
            "}",
            "",
            "/// `--inputs`: the bytes each message's benchmark uses, as {\"inputs\": {message: hex}}. Kept out",
            "/// of `main` so that adding it does not move the timed code.",
            "#[cold]",
            "#[inline(never)]",
            "fn print_inputs() {",
            "    let inputs: Vec<String> = vec![",
            *[f"        input(\"{m.name}\", &bench_{snake(m.name)}(&mut Mt64::new(42)))," for m in ir.messages],
            "    ];",
            '    println!("{{\\"inputs\\": {{\\n{}\\n}}}}", inputs.join(",\\n"));',
            "}",
            "",
            "fn main() {",
            "    if std::env::args().nth(1).as_deref() == Some(\"--inputs\") {",
            "        print_inputs();",
            "        return;",
            "    }",
            "    let mut out = Vec::new();",
        ]
        for m in ir.messages:
            lines += [
                f"    bench(\"{m.name}\", &bench_{snake(m.name)}(&mut Mt64::new(42)), |b| {{",
                f"        {m.name}Decoder::wrap(b, 0).map_or(0, |d| sum_{snake(m.name)}(&d))",
                "    }, &mut out);",
            ]
        lines += [
            '    println!("{{\\"results\\": [\\n{}\\n]}}", out.join(",\\n"));',
            "}",
            "",
        ]
        return "\n".join(lines + body + [MT64] + examples)

    def cpp_random_type(self, name: str) -> str:
        """A value drawn from `rng` (`Mt64`) exactly as the C++ models' `randomize` draws it."""
        if name == "char":
            return "rng.next_u64() as u8"
        if name in PRIMITIVES:
            rt = RUST_PRIMITIVES[name]
            if rt.startswith("f"):
                return f"rng.float() as {rt}" if rt == "f32" else "rng.float()"
            return "rng.next_u64()" if rt == "u64" else f"rng.next_u64() as {rt}"
        t = self.t.typedef(name)
        if t.kind == "decimal":
            enc = RUST_PRIMITIVES[t.encoding or "int64"]
            return f"{t.name}::from_mantissa({'rng.next_u64()' if enc == 'u64' else f'rng.next_u64() as {enc}'})"
        if t.kind == "enum":
            enc = RUST_PRIMITIVES[t.encoding or "uint8"]
            if not t.values:
                return f"{t.name}::from_raw(rng.next_u64() as {enc})"
            values = ", ".join(f"{v.value}{enc}" if i == 0 else str(v.value) for i, v in enumerate(t.values))
            return f"{t.name}::from_raw([{values}][rng.below({len(t.values)})])"
        if t.kind == "set":
            enc = RUST_PRIMITIVES[t.encoding or "uint8"]
            mask = sum(1 << c.bit for c in t.choices)
            return f"{t.name}::from_bits((rng.next_u64() & {mask}) as {enc})"
        if t.kind == "char":
            return f"rng.chars::<{t.length}>()"
        if t.kind == "composite":
            inner = ", ".join(f"{ident(f.name)}: {self.cpp_random_type(f.type)}" for f in t.fields)
            return f"{t.name} {{ {inner} }}"
        if t.kind == "array":
            return f"core::array::from_fn(|_| {self.cpp_random_type(t.element or '')})"
        raise ValueError(t.kind)

    def bench_value_fn(self, o: Owner) -> list[str]:
        """The C++ benchmark's value (`randomize(rng, Shape::one, x)`): one entry per group."""
        node = o.node
        parts = []
        for f in node.fields:
            v = self.cpp_random_type(f.type)
            null = self.g.null_literal(f) if self.t.nullable(f) else ""
            if "NAN" in null:
                v = f"Some({v})"  # random floats are finite, never the NaN null
            elif null:
                v = f"{{ let v = {v}; if v == {null} {{ None }} else {{ Some(v) }} }}"
            parts.append(f"        {ident(f.name)}: {v},")
        for g, e in zip(node.groups, o.entries):
            parts.append(f"        {ident(g.name)}: vec![bench_{snake(e.name)}(rng)],")
        for d in node.data:
            parts.append(f"        {ident(d.name)}: rng.{'var_bytes' if d.encoding == 'bytes' else 'var_text'}(),")
        arg = "rng" if parts else "_rng"
        head = f"fn bench_{snake(o.name)}({arg}: &mut Mt64) -> owned::{o.name} {{"
        if parts:
            return [head, f"    owned::{o.name} {{", *parts, "    }", "}", ""]
        return [head, f"    owned::{o.name} {{}}", "}", ""]
