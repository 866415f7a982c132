"""Check values against their types: enum and bitset encodings, null values,
parameter ranges, queue capacities and CPU assignments."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from hftc.diagnostics.model import Diagnostic, Label, error
from hftc.ir.model import PRIMITIVES, Constant, Field, Group, Message, Schema, TypeDef, evolve
from hftc.passes.walk import groups_of


def _check_enum(t: TypeDef, out: list[Diagnostic]) -> None:
    info = PRIMITIVES["char" if t.char_values else t.encoding or "uint8"]
    for v in t.values:
        if t.char_values and not 1 <= v.value <= 255:
            out.append(error("HFT0303", f"enum value `{v.name}` = {v.value} is not a character", v.span,
                             label="char enums hold characters 1..255 (NUL is the null)",
                             help='write one character, e.g. "0" or "J"'))
        elif not t.char_values and not (info.min_value <= v.value <= info.max_value):
            out.append(error("HFT0303", f"enum value `{v.name}` = {v.value} does not fit {info.name}", v.span,
                             label=f"{info.name} holds {info.min_value}..{info.max_value} (null {info.null_value} is reserved)",
                             help="use a wider encoding or a smaller value"))
    seen: dict[int, str] = {}
    for v in t.values:
        if v.value in seen:
            out.append(error("HFT0303", f"enum values `{seen[v.value]}` and `{v.name}` share the value {v.value}",
                             v.span, label="duplicate value"))
        seen.setdefault(v.value, v.name)


def _check_set(t: TypeDef, out: list[Diagnostic]) -> None:
    bits = PRIMITIVES[t.encoding or "uint8"].size * 8
    seen: dict[int, str] = {}
    for c in t.choices:
        if not 0 <= c.bit < bits:
            out.append(error("HFT0304", f"bit {c.bit} of choice `{c.name}` is outside {t.encoding}", c.span,
                             label=f"bits 0..{bits - 1}"))
        elif c.bit in seen:
            out.append(error("HFT0304", f"choices `{seen[c.bit]}` and `{c.name}` share bit {c.bit}", c.span,
                             label="duplicate bit"))
        seen.setdefault(c.bit, c.name)


def _null_for(f: Field, types: dict[str, TypeDef]) -> tuple[bool, float | int | None, tuple]:
    """(type has a null, default null, range of the encoding) for a field's type."""
    if f.kind == "primitive":
        info = PRIMITIVES[f.type]
        if info.is_float:
            return True, None, (info.min_value, info.max_value)  # NaN
        return True, info.null_value, (-(1 << (info.size * 8 - 1)) if info.signed else 0,
                                       (1 << (info.size * 8 - (1 if info.signed else 0))) - 1)
    t = types.get(f.type)
    if t is None:
        return False, None, ()
    if t.kind == "enum" and t.char_values:
        return True, 0, (0, 255)  # NUL, SBE's char null
    if t.kind in ("decimal", "enum"):
        info = PRIMITIVES[t.encoding or "int64"]
        return True, info.null_value, (-(1 << (info.size * 8 - 1)) if info.signed else 0,
                                       (1 << (info.size * 8 - (1 if info.signed else 0))) - 1)
    if t.kind == "char":
        return True, 0, (0, 255)
    return False, None, ()


def _check_field(f: Field, types: dict[str, TypeDef], out: list[Diagnostic]) -> Field:
    has_null, default_null, bounds = _null_for(f, types)
    if f.null_value is not None:
        value = f.null_value
        if bounds and (isinstance(value, float) and not (f.kind == "primitive" and PRIMITIVES[f.type].is_float)):
            out.append(error("HFT0312", f"null value {value} of `{f.name}` is not an integer", f.span,
                             label=f"`{f.type}` holds integers"))
        elif bounds and not (bounds[0] <= value <= bounds[1]):
            out.append(error("HFT0312", f"null value {value} of `{f.name}` does not fit `{f.type}`", f.span,
                             label=f"range {bounds[0]}..{bounds[1]}"))
        return f
    if f.optional:
        if not has_null:
            out.append(error("HFT0313", f"optional field `{f.name}` of type `{f.type}` has no null value", f.span,
                             label="no natural null for this type", help="add `null_value:`"))
            return f
        return evolve(f, null_value=default_null)
    return f


def _fields(fields: tuple[Field, ...], types: dict[str, TypeDef], out: list[Diagnostic]) -> tuple[Field, ...]:
    return tuple(_check_field(f, types, out) for f in fields)


def _constant(c: Constant, types: dict[str, TypeDef], out: list[Diagnostic]) -> Constant:
    """The constant's value as the backends print it (see `Constant.value`), or a diagnostic."""
    def bad(label: str, help: str | None = None) -> Constant:
        out.append(error("HFT0314", f"constant `{c.name}` = {c.value!r} is not a valid `{c.type}`", c.span,
                         label=label, help=help))
        return c

    v = c.value
    if c.type in PRIMITIVES:
        info = PRIMITIVES[c.type]
        if c.type == "char":
            if isinstance(v, str) and len(v) == 1 and ord(v) < 256:
                return evolve(c, value=ord(v))
            return bad("a char constant is one character", 'write it in quotes, e.g. "A"')
        if info.is_float:
            return evolve(c, value=float(v)) if isinstance(v, (int, float)) else bad("expected a number")
        lo, hi = ((-(1 << (info.size * 8 - 1)), (1 << (info.size * 8 - 1)) - 1) if info.signed
                  else (0, (1 << (info.size * 8)) - 1))
        if isinstance(v, int) and lo <= v <= hi:
            return c
        return bad(f"expected an integer in {lo}..{hi}")
    t = types.get(c.type)
    if t is None:
        out.append(error("HFT0301", f"unknown type `{c.type}`", c.span, label="not a primitive or a type"))
        return c
    if t.kind == "enum":
        names = {e.name: e.value for e in t.values}
        if isinstance(v, str) and v in names:
            return evolve(c, value=names[v], value_name=v)
        return bad("expected a member of the enum", "one of: " + ", ".join(names))
    if t.kind == "char":
        if isinstance(v, str) and len(v.encode("latin-1", "replace")) <= t.length:
            return c
        return bad(f"expected text of at most {t.length} Latin-1 characters")
    if t.kind == "decimal":
        try:
            exact = Decimal(str(v)) if isinstance(v, (int, float, str)) and not isinstance(v, bool) else None
            mantissa = exact.scaleb(-t.exponent) if exact is not None else None
        except InvalidOperation:
            mantissa = None
        info = PRIMITIVES[t.encoding or "int64"]
        if mantissa is None or mantissa != mantissa.to_integral_value() or \
                not info.min_value <= int(mantissa) <= info.max_value:
            return bad(f"expected a decimal with at most {max(0, -t.exponent)} decimal places that fits {info.name}")
        return evolve(c, value=int(mantissa))
    return bad(f"a {t.kind} cannot be a constant", "constants are numbers, characters, text, decimals or enums")


def _group(g: Group, types: dict[str, TypeDef], out: list[Diagnostic]) -> Group:
    return evolve(g, fields=_fields(g.fields, types, out), groups=tuple(_group(s, types, out) for s in g.groups),
                  constants=tuple(_constant(c, types, out) for c in g.constants))


def _message(m: Message, types: dict[str, TypeDef], out: list[Diagnostic]) -> Message:
    return evolve(m, fields=_fields(m.fields, types, out), groups=tuple(_group(g, types, out) for g in m.groups),
                  constants=tuple(_constant(c, types, out) for c in m.constants))


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    out: list[Diagnostic] = []
    types = {t.name: t for t in ir.types}
    for t in ir.types:
        if t.kind == "enum":
            _check_enum(t, out)
        elif t.kind == "set":
            _check_set(t, out)
    messages = tuple(_message(m, types, out) for m in ir.messages)
    _ = groups_of  # groups are checked recursively above

    for s in ir.strategies:
        for p in s.params:
            if not p.low < p.high:
                out.append(error("HFT0502", f"range of `{p.name}` is empty: [{p.low}, {p.high}]", p.span,
                                 label="needs low < high"))
            elif not p.low <= p.default <= p.high:
                out.append(error("HFT0501", f"default {p.default} of `{p.name}` is outside [{p.low}, {p.high}]",
                                 p.span, label="default out of range"))
            if p.type == "int" and any(isinstance(v, float) and not float(v).is_integer() for v in (p.low, p.high, p.default)):
                out.append(error("HFT0103", f"int parameter `{p.name}` has a fractional bound or default", p.span,
                                 label="expected integers", help="use `type: float` or integer values"))
            if p.log and p.low <= 0:
                out.append(error("HFT0502", f"log-scale range of `{p.name}` must be positive", p.span,
                                 label="low must be > 0"))
            if any(isinstance(v, float) and not math.isfinite(v) for v in (p.low, p.high, p.default)):
                out.append(error("HFT0104", f"`{p.name}` has a non-finite bound", p.span))

    for p in ir.pipelines:
        cap = p.queue_capacity
        if cap & (cap - 1):
            out.append(error("HFT0404", f"queue capacity {cap} of `{p.name}` is not a power of two", p.span,
                             label="capacity", help=f"use {1 << (cap - 1).bit_length()}"))
        cpus: dict[int, object] = {}
        for t in p.threads:
            if t.cpu in cpus:
                first = cpus[t.cpu]
                out.append(error("HFT0405", f"CPU {t.cpu} is assigned to two threads of `{p.name}`", t.span,
                                 label=f"`{t.stage}` pinned to CPU {t.cpu}",
                                 secondary=(Label(first, "also pinned here"),) if first else ()))
            cpus.setdefault(t.cpu, t.span)
    return evolve(ir, messages=messages), out
