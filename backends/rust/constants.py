"""Constant fields (never on the wire) as associated consts of the Rust decoders: a small view."""

from __future__ import annotations

from dataclasses import dataclass

from hftc.backends.rust.naming import RUST_PRIMITIVES, float_literal, int_literal, upper
from hftc.ir.model import PRIMITIVES, Constant, Schema


@dataclass(frozen=True)
class RustConstant:
    doc: str
    name: str  # SCREAMING_SNAKE associated const
    type: str
    value: str


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rust_constant(c: Constant, ir: Schema) -> RustConstant:
    doc = f"`{c.name}`: a constant of the schema, not on the wire." + (f" {' '.join(c.description.split())}"
                                                                       if c.description else "")
    if c.type in PRIMITIVES:
        rt = RUST_PRIMITIVES[c.type]
        value = float_literal(float(c.value), rt) if PRIMITIVES[c.type].is_float else int_literal(int(c.value), rt)
        return RustConstant(doc, upper(c.name), rt, value)
    t = ir.type_named(c.type)
    assert t is not None
    if t.kind == "char":
        return RustConstant(doc, upper(c.name), "&'static str", _string(str(c.value)))
    enc = RUST_PRIMITIVES[t.encoding or "int64"]
    ctor = "from_raw" if t.kind == "enum" else "from_mantissa"
    return RustConstant(doc, upper(c.name), t.name, f"{t.name}::{ctor}({int_literal(int(c.value), enc)})")


def constant_lines(constants: tuple[Constant, ...], ir: Schema) -> list[str]:
    """Associated const items for an `impl` block."""
    out: list[str] = []
    for c in constants:
        r = rust_constant(c, ir)
        out += [f"    /// {r.doc}", f"    pub const {r.name}: {r.type} = {r.value};", ""]
    return out
