"""Rust expressions of owned messages (`owned::X { .. }`) from vector values (see `hftc.vectors`).

Used to turn cross-language test vectors into Rust test code.
"""

from __future__ import annotations

import math
from typing import Any

from hftc.backends.rust.codegen import owners
from hftc.backends.rust.naming import RUST_PRIMITIVES, Types, float_literal, ident, int_literal
from hftc.ir.model import PRIMITIVES, Field, Message, Schema


def byte_string(data: bytes) -> str:
    """A Rust byte-string literal."""
    out = []
    for b in data:
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\x{b:02x}")
    return 'b"' + "".join(out) + '"'


class Literals:
    def __init__(self, ir: Schema):
        self.ir = ir
        self.t = Types(ir)

    def value(self, type_name: str, v: Any, null: Any = None) -> str:
        if type_name == "char":
            raw = (v or "").encode("latin-1")
            return str(raw[0]) if raw else "0"
        if type_name in PRIMITIVES:
            rt = RUST_PRIMITIVES[type_name]
            if PRIMITIVES[type_name].is_float:
                return float_literal(math.nan if v is None else float(v), rt) if v is not None or null is None \
                    else float_literal(float(null), rt)
            return int_literal(int(v), rt)
        t = self.t.typedef(type_name)
        enc = RUST_PRIMITIVES.get(t.encoding or "", "")
        if t.kind == "decimal":
            return f"{t.name}::from_mantissa({int_literal(int(v), enc)})"
        if t.kind == "enum":
            return f"{t.name}::from_raw({int_literal(int(v), enc)})"
        if t.kind == "set":
            return f"{t.name}::from_bits({int_literal(int(v), enc)})"
        if t.kind == "char":
            return "*" + byte_string((v or "").encode("latin-1").ljust(t.length, b"\0"))
        if t.kind == "composite":
            inner = ", ".join(f"{ident(f.name)}: {self.value(f.type, v[f.name])}" for f in t.fields)
            return f"{t.name} {{ {inner} }}"
        if t.kind == "array":
            return "[" + ", ".join(self.value(t.element or "", x) for x in v) + "]"
        raise ValueError(t.kind)

    def field(self, f: Field, v: Any) -> str:
        if self.t.nullable(f):
            return "None" if v is None else f"Some({self.value(f.type, v)})"
        return self.value(f.type, v, self.t.field_null(f))

    def message(self, m: Message, values: dict) -> str:
        def node(o, vals: dict) -> str:
            parts = [f"{ident(f.name)}: {self.field(f, vals[f.name])}" for f in o.node.fields]
            for g, e in zip(o.node.groups, o.entries):
                parts.append(f"{ident(g.name)}: vec![{', '.join(node(e, x) for x in vals[g.name])}]")
            for d in o.node.data:
                raw = vals[d.name].encode("utf-8") if d.encoding == "utf8" else bytes.fromhex(vals[d.name])
                parts.append(f"{ident(d.name)}: {byte_string(raw)}.to_vec()")
            return f"owned::{o.name} {{ {', '.join(parts)} }}"

        return node(owners(m), values)
