"""Constant fields (never on the wire) as class attributes of the Python flyweights."""

from __future__ import annotations

from collections.abc import Callable

from hftc.ir.model import PRIMITIVES, Constant, Schema


def constant_value(c: Constant, ir: Schema, ident: Callable[[str], str] = str) -> str:
    """The constant as a Python expression (`Side.sell`, `Px(2500)`, `"USD"`, `100`)."""
    if c.type == "char":
        return repr(chr(int(c.value)))
    if c.type in PRIMITIVES:
        return repr(float(c.value)) if PRIMITIVES[c.type].is_float else str(int(c.value))
    t = ir.type_named(c.type)
    assert t is not None
    if t.kind == "char":
        return repr(str(c.value))
    if t.kind == "enum":
        return f"{t.name}.{ident(c.value_name or '')}"
    return f"{t.name}({int(c.value)})"


def constant_type(c: Constant) -> str:
    if c.type == "char" or c.type not in PRIMITIVES and c.kind == "char":
        return "str"
    if c.type in PRIMITIVES:
        return "float" if PRIMITIVES[c.type].is_float else "int"
    return c.type


def constant_lines(constants: tuple[Constant, ...], ir: Schema, ident: Callable[[str], str]) -> list[str]:
    """`name: ClassVar[T] = value` lines, each after a comment saying it is not on the wire."""
    out: list[str] = []
    for c in constants:
        note = f" {' '.join(c.description.split())}" if c.description else ""
        out += [f"    # `{c.name}`: a constant of the schema, not on the wire.{note}",
                f"    {ident(c.name)}: ClassVar[{constant_type(c)}] = {constant_value(c, ir, ident)}"]
    return out + ([""] if constants else [])
