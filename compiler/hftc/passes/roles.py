"""Feed roles: check declared roles, infer the others, and record which field carries each role.

After this pass a message's `role` and `field_roles` say what the C++ and Rust backends do with
it; they never look at field names themselves. A declared role is checked strictly (HFT0646-0649,
each pointing at the declaration); an inferred one is simply the first role whose conventions fit
(hftc.ir.roles). Feed inputs fitting no role get HFT0640, gateway outputs HFT0642, and the
feed handlers' `instruments:` tables are checked against the symbols they key (HFT0650); each
order-entry session role is declared once, and credentials need a logon message (HFT0652).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hftc.diagnostics.model import Diagnostic, Span, did_you_mean, error, warning
from hftc.ir.model import PRIMITIVES, Component, Field, Group, Message, Schema
from hftc.ir.roles import (
    BUY_NAMES,
    CONVENTIONS,
    FIELD_KINDS,
    INFERRED_FEED_ROLES,
    KIND_TEXT,
    LEVEL_FIELD_ROLES,
    GATEWAY_ROLES,
    ROLES,
    SELL_NAMES,
    SESSION_ROLES,
)

#: How the diagnostics name where a role belongs.
_WHERE = {"feed": "feed input", "gateway": "gateway output", "session": "order-entry session"}

#: The gateway writes any integer the order carries; a feed maps only unsigned venue ids.
_GATEWAY_KINDS = {"instrument": "integer"}


@dataclass(frozen=True)
class Problem:
    field_role: str
    what: str  # missing | unknown | type
    name: str = ""  # the mapped (or found) field
    detail: str = ""


def _integer(f: Field) -> bool:
    p = PRIMITIVES.get(f.type)
    return f.kind == "primitive" and p is not None and not p.is_float and f.type != "char"


def is_buy_sell_enum(ir: Schema, f: Field) -> bool:
    t = ir.type_named(f.type) if f.kind == "enum" else None
    return t is not None and any(v.name.lower() in BUY_NAMES for v in t.values) and \
        any(v.name.lower() in SELL_NAMES for v in t.values)


def fits_kind(ir: Schema, f: Field, kind: str) -> bool:
    """Whether field `f` can carry a field role of `kind` (hftc.ir.roles.FIELD_KINDS)."""
    if kind == "decimal":
        return f.kind == "decimal"
    if kind == "quantity":  # an optional integer's null would read as a quantity
        return f.kind == "decimal" or (_integer(f) and not f.optional)
    if kind == "side":
        return is_buy_sell_enum(ir, f)
    if kind == "unsigned":
        return _integer(f) and not PRIMITIVES[f.type].signed
    if kind == "integer":
        return _integer(f)
    if kind == "chars":
        return f.kind == "char"
    if kind == "code":
        return f.kind in ("enum", "set") or (_integer(f) and not PRIMITIVES[f.type].signed)
    return False


def _kind(role: str, field_role: str) -> str:
    return _GATEWAY_KINDS.get(field_role, FIELD_KINDS[field_role]) if ROLES[role].where != "feed" \
        else FIELD_KINDS[field_role]


def _candidates(role: str, field_role: str, m: Message, fields: tuple[Field, ...]) -> list[Field]:
    """Fields named by convention for `field_role`, best first."""
    names = CONVENTIONS[field_role]
    if role == "trade" and field_role == "side":
        names = ("aggressor", "side")
    by_name = {f.name: f for f in fields}
    found = [by_name[n] for n in names if n in by_name]
    if field_role == "ts":
        if ROLES[role].where == "feed":
            found = []  # a feed's timestamp is its first integer field with unit `ns`
        found += [f for f in fields if f.unit == "ns" and _integer(f)]
    return found


def _levels(ir: Schema, m: Message, mapped: str | None) -> tuple[Group | None, Problem | None]:
    if mapped is not None:
        g = next((g for g in m.groups if g.name == mapped), None)
        if g is None:
            detail = did_you_mean(mapped, [g.name for g in m.groups]) or \
                (f"its groups: {', '.join(g.name for g in m.groups)}" if m.groups else "it has no groups")
            return None, Problem("levels", "unknown", mapped, detail)
        return g, None
    for g in m.groups:
        by = {r: [f for f in g.fields if f.name in CONVENTIONS[r]] for r in LEVEL_FIELD_ROLES}
        if all(any(fits_kind(ir, f, FIELD_KINDS[r]) for f in by[r]) for r in LEVEL_FIELD_ROLES):
            return g, None
    return None, Problem("levels", "missing")


def fit(ir: Schema, m: Message, role: str, mapping: dict[str, str],
        declared: bool = True) -> tuple[tuple[tuple[str, str], ...], list[Problem]]:
    """The (field role, field) pairs of `m` playing `role`, and what keeps it from playing it."""
    spec = ROLES[role]
    if role == "trade" and not declared and "trade" not in m.name.lower():
        return (), [Problem("side", "missing", detail="an undeclared trade's name contains `Trade`")]
    pairs: list[tuple[str, str]] = []
    problems: list[Problem] = []
    group = None
    if "levels" in spec.required:
        group, problem = _levels(ir, m, mapping.get("levels"))
        if problem:
            problems.append(problem)
        else:
            pairs.append(("levels", group.name))
    claimed: set[str] = set()
    for fr in (*spec.required, *spec.optional):
        if fr == "levels":
            continue
        in_group = group is not None and fr in LEVEL_FIELD_ROLES
        if "levels" in spec.required and fr in LEVEL_FIELD_ROLES and group is None:
            continue  # reported as the missing group
        fields = group.fields if in_group else m.fields
        kind = _kind(role, fr)
        if fr in mapping:
            f = next((f for f in fields if f.name == mapping[fr]), None)
            if f is None:
                where = f"group `{group.name}`" if in_group else f"`{m.name}`"
                problems.append(Problem(fr, "unknown", mapping[fr], did_you_mean(mapping[fr], [x.name for x in fields])
                                        or f"no field of {where} has this name"))
            elif not fits_kind(ir, f, kind):
                problems.append(Problem(fr, "type", f.name, f"`{f.name}` is `{f.type}`, not {KIND_TEXT[kind]}"))
            else:
                pairs.append((fr, f.name))
                claimed.add(f.name)
            continue
        f = next((f for f in _candidates(role, fr, m, fields) if f.name not in claimed or in_group), None)
        if f is not None and fits_kind(ir, f, kind):
            pairs.append((fr, f.name))
            claimed.add(f.name)
        elif fr in spec.required:
            found = f"`{f.name}` is `{f.type}`, not {KIND_TEXT[kind]}" if f is not None else ""
            problems.append(Problem(fr, "type" if f is not None else "missing", f.name if f else "", found))
    return tuple(pairs), problems


def _map_span(m: Message, field_role: str) -> Span | None:
    return next((s for r, s in m.fields_map_spans if r == field_role), None) or m.role_span or m.span


def _report(m: Message, problems: list[Problem], diags: list[Diagnostic]) -> None:
    role = m.role or ""
    spec = ROLES[role]
    missing = [p for p in problems if p.what == "missing"]
    if missing:
        names = ", ".join(f"`{p.field_role}` ({KIND_TEXT[FIELD_KINDS[p.field_role]]})" for p in missing)
        diags.append(error("HFT0646", f"message `{m.name}` declares role `{role}` but has no field for {names}",
                           m.role_span or m.span, label=f"{role} needs {', '.join(spec.required)}",
                           help="add the fields, or name them with `fields_map: {<role>: <field>}`"))
    for p in problems:
        if p.what == "unknown":
            diags.append(error("HFT0647", f"`fields_map.{p.field_role}` of `{m.name}` names `{p.name}`, which "
                                          f"does not exist", _map_span(m, p.field_role), label="no such field",
                               help=p.detail))
        elif p.what == "type":
            diags.append(error("HFT0648", f"field `{p.name}` of `{m.name}` cannot carry `{p.field_role}`: {p.detail}",
                               _map_span(m, p.field_role), label=f"needs {KIND_TEXT[FIELD_KINDS[p.field_role]]}",
                               help="map the role to another field with `fields_map`, or change the field's type"))


def _check_map_keys(m: Message, diags: list[Diagnostic]) -> bool:
    if m.role is None:
        if m.field_roles:
            diags.append(error("HFT0647", f"message `{m.name}` has a `fields_map` but no `role`",
                               _map_span(m, m.field_roles[0][0]), label="map of which role?",
                               help="declare the role, e.g. `role: depth_update`"))
        return False
    spec = ROLES[m.role]
    ok = True
    for fr, _ in m.field_roles:
        if fr not in spec.required and fr not in spec.optional:
            ok = False
            diags.append(error("HFT0647", f"`{fr}` is not a field role of `{m.role}`", _map_span(m, fr),
                               label="unknown field role",
                               help=f"`{m.role}` has {', '.join(spec.required + spec.optional)}"))
    return ok


def _uses(ir: Schema) -> tuple[dict[str, tuple[Component, Span | None]], dict[str, Component]]:
    """Where each message is a feed input (first use) and a gateway output."""
    inputs: dict[str, tuple[Component, Span | None]] = {}
    outputs: dict[str, Component] = {}
    for c in ir.components:
        if c.kind == "feed_handler":
            for i, name in enumerate(c.inputs):
                inputs.setdefault(name, (c, c.input_spans[i] if i < len(c.input_spans) else c.span))
        elif c.kind == "order_gateway" and c.output:
            outputs.setdefault(c.output, c)
    return inputs, outputs


def _infer(ir: Schema, m: Message, inputs, outputs, diags: list[Diagnostic]) -> Message:
    """The conventional role of `m`: a new order when a gateway encodes it, else a feed role."""
    if m.name in outputs:
        pairs, problems = fit(ir, m, "new_order", {}, declared=False)
        if not problems:
            return replace(m, role="new_order", field_roles=pairs)
        c = outputs[m.name]
        missing = ", ".join(f"{p.field_role} ({KIND_TEXT[_kind('new_order', p.field_role)]})" for p in problems)
        diags.append(error("HFT0642", f"output `{m.name}` of order gateway `{c.name}` has no field for {missing}",
                           c.output_span or c.span, label="cannot encode an order",
                           help="add the fields, name them `side`, `price`, `qty`, or declare `role: new_order` "
                                "with a `fields_map`"))
    if m.name in inputs:
        for role in INFERRED_FEED_ROLES:
            pairs, problems = fit(ir, m, role, {}, declared=False)
            if not problems:
                return replace(m, role=role, field_roles=pairs)
    if m.name in inputs:
        c, span = inputs[m.name]
        diags.append(warning(
            "HFT0640", f"input `{m.name}` of feed handler `{c.name}` fits no market data role; the generated "
                       f"handlers ignore it", span, label="no depth update, trade, snapshot or BBO fields",
            help="declare its role (`role: depth_update`, with `fields_map` for fields named otherwise), or "
                 "follow the conventions: a depth update has `side`, `price`, `qty`; a trade (name containing "
                 "`Trade`) `price`, `qty` and `aggressor` or `side`; a snapshot a group of `side`, `price`, "
                 "`qty`; a BBO `bid_px`, `bid_qty`, `ask_px`, `ask_qty`"))
    return replace(m, role=None, field_roles=())


def _resolve(ir: Schema, m: Message, inputs, outputs, diags: list[Diagnostic]) -> Message:
    if not m.role_declared:
        _check_map_keys(m, diags)  # a `fields_map` without `role`
        return _infer(ir, m, inputs, outputs, diags)
    if m.role not in ROLES or not _check_map_keys(m, diags):
        return replace(m, field_roles=())
    spec = ROLES[m.role]
    used_as = ("feed" if m.name in inputs else None) or ("gateway" if m.name in outputs else None)
    if used_as is not None and used_as != spec.where:
        what = f"input of feed handler `{inputs[m.name][0].name}`" if used_as == "feed" else \
            f"output of order gateway `{outputs[m.name].name}`"
        diags.append(error("HFT0649", f"message `{m.name}` has role `{m.role}` but is the {what}",
                           m.role_span or m.span, label=f"a {_WHERE[spec.where]} role",
                           help="feed inputs are depth_update, trade, snapshot, bbo or execution_report; a "
                                "gateway's output is new_order; cancel, replace, order_reject, logon, logout and "
                                "heartbeat are the order-entry session's and are neither"))
    pairs, problems = fit(ir, m, m.role, dict(m.field_roles))
    if problems:
        _report(m, problems, diags)
        return replace(m, field_roles=())
    return replace(m, field_roles=pairs)


def _check_instruments(ir: Schema, c: Component, diags: list[Diagnostic]) -> None:
    keyed = []
    for name in c.inputs:
        m = ir.message_named(name)
        if m is not None and m.field_for("symbol") and not m.field_for("instrument"):
            keyed.append(m)
    span = c.instruments_span or c.span

    def at(i: int) -> Span | None:
        return c.symbol_spans[i] if i < len(c.symbol_spans) else span

    seen: set[str] = set()
    for i, s in enumerate(c.instruments):
        if s in seen:
            diags.append(error("HFT0650", f"symbol `{s}` is listed twice in `instruments` of feed handler "
                                          f"`{c.name}`", at(i), label="duplicate symbol",
                               help="each symbol is one instrument; its index is its position in the list"))
        seen.add(s)
        if not s or "\0" in s or '"' in s or "\\" in s:
            diags.append(error("HFT0650", f"feed handler `{c.name}` lists a symbol that is empty or holds a NUL, "
                                          "quote or backslash", at(i), label="bad symbol",
                               help="write the venue's symbol as it appears on the wire"))
    for m in keyed[:1]:
        f = next(f for f in m.fields if f.name == m.field_for("symbol"))
        t = ir.type_named(f.type)
        width = t.length if t is not None and t.length else f.size
        for i, s in enumerate(c.instruments):
            if width and len(s.encode("utf-8")) > width:
                diags.append(error("HFT0650", f"symbol `{s}` of feed handler `{c.name}` is longer than "
                                              f"`{m.name}.{f.name}` ({width} bytes)", at(i), label="cannot match",
                                   help=f"widen the field's char type, or list the symbol as the venue sends it "
                                        f"(at most {width} bytes)"))
        if not c.instruments:
            span_in = c.input_spans[c.inputs.index(m.name)] if m.name in c.inputs and c.input_spans else c.span
            diags.append(error("HFT0650", f"input `{m.name}` of feed handler `{c.name}` is keyed by `{f.name}` "
                                          f"but the feed handler lists no `instruments`", span_in,
                               label="symbol-keyed input", help="list the venue symbols, e.g. "
                                                                "`instruments: [BTCUSDT, ETHUSDT]`; an instrument's "
                                                                "index is its position"))
    if c.instruments and not keyed:
        diags.append(warning("HFT0650", f"feed handler `{c.name}` lists `instruments` but no input is keyed by a "
                                        "`symbol` field", span, label="unused table",
                             help="map the symbol field with `fields_map: {symbol: <field>}`, or remove the list"))


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    if not ir.components and not any(m.role_declared or m.field_roles for m in ir.messages):
        return ir, diags
    inputs, outputs = _uses(ir)
    ir = replace(ir, messages=tuple(_resolve(ir, m, inputs, outputs, diags) for m in ir.messages))
    for c in ir.components:
        if c.kind == "feed_handler":
            _check_instruments(ir, c, diags)
    _check_session(ir, diags)
    return ir, diags


def _check_session(ir: Schema, diags: list[Diagnostic]) -> None:
    """One message per order-entry role (the session must know which to send), and a logon for credentials."""
    first: dict[str, Message] = {}
    for m in ir.messages:
        if not (m.role_declared and m.role in SESSION_ROLES + GATEWAY_ROLES):
            continue
        if m.role in first and m.role in SESSION_ROLES:
            diags.append(error("HFT0652", f"messages `{first[m.role].name}` and `{m.name}` both declare role "
                                          f"`{m.role}`", m.role_span or m.span, label="second declaration",
                               help=f"the order-entry session sends one `{m.role}` message; declare the role on "
                                    "one of them"))
        first.setdefault(m.role, m)
    for c in ir.components:
        if c.kind == "order_gateway" and c.credentials is not None and "logon" not in first:
            diags.append(error("HFT0652", f"order gateway `{c.name}` names credentials but no message declares "
                                          "`role: logon`", c.credentials_span or c.span,
                               label="credentials for which logon?",
                               help="declare the session's logon message, e.g. `role: logon` with a "
                                    "`credentials` char field"))
