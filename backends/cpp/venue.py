"""View of the generated venue (`src/venue_main.cpp`, CMake target `<pkg>_venue`).

The venue publishes a tape as the schema's market data (as `<pkg>_md_publish` does) and accepts
order-entry sessions over TCP, matching their orders with the backtest engine's rules
(`hft/venue/matcher.hpp`). It is generated when the schema has what both sides need: the
engine's tape messages (a depth_update input) and the order-entry messages found by role
(new_order, execution_report, logon, logout, heartbeat; cancel, replace and order_reject when
declared). This module names, for the template, each role message's accessors and how the
schema's codes (exec types, order statuses, order flags) spell the venue's outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hftc.backends.cpp.view import cpp_type, member, snake
from hftc.ir.model import Message, Schema
from hftc.ir.roles import FIELD_KINDS

#: Roles the venue cannot work without, and those it uses when declared.
REQUIRED = ("new_order", "execution_report", "logon", "logout", "heartbeat")
OPTIONAL = ("cancel", "replace", "order_reject")

#: Enum value names that spell each execution-report outcome (wire protocol: by value NAME).
EXEC_TYPE_NAMES = {
    "accepted": ("accepted", "new", "ack"),
    "trade": ("trade", "fill", "partial_fill"),
    "canceled": ("canceled", "cancelled", "expired"),
    "replaced": ("replaced",),
    "rejected": ("rejected",),
}
STATUS_NAMES = {
    "open": ("open", "new", "accepted"),
    "partially_filled": ("partially_filled", "partial", "partially_filled_open"),
    "filled": ("filled",),
    "canceled": ("canceled", "cancelled", "expired"),
    "replaced": ("replaced",),
    "rejected": ("rejected",),
}
#: Order instructions the venue honours, by choice (flags) or value (tif, order_type) name.
POST_ONLY_NAMES = ("post_only", "gtx", "maker_only", "limit_maker", "add_liquidity_only")
IOC_NAMES = ("ioc", "immediate_or_cancel")
FOK_NAMES = ("fok", "fill_or_kill")
#: Var-data of an execution report that carries the reject text.
TEXT_DATA = ("reject_reason", "text", "reason")


@dataclass
class Code:
    """How one outcome is written into a code field: an enum value, or a plain integer."""

    setter: str  # e.g. `exec_type(ExecType::accepted)` or `exec_type(static_cast<std::uint8_t>(0))`


@dataclass
class RoleMessage:
    cls: str
    snake: str  # the dispatcher's on_<snake> handler
    acc: dict[str, str]  # field role -> accessor ("" = absent)
    types: dict[str, str]  # field role -> C++ type of its setter's parameter
    rest: list[str]  # setter calls for the fields no role fills (null when optional)
    groups: list[str]  # top-level groups, written empty
    data: list[str]  # var-data, written empty (text: the reject text)
    text: str = ""  # the var-data carrying the reject text, when there is one
    credentials_len: int = 0
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> outcome -> setter
    post_only: str = "false"  # C++ tests of the message `m`
    ioc: str = "false"
    fok: str = "false"
    side_enum: str = ""
    side_buy: str = ""
    side_sell: str = ""
    exec_id: str = ""  # an integer `exec_id` field, numbered by the venue
    # Outbound: grid conversions (variable, C++ type, Grid function, source) and the setter calls
    # of the role fields, over the encoder's locals (see venue_main.cpp.j2).
    conv: list[tuple[str, str, str, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)


def _by_role(ir: Schema) -> dict[str, Message]:
    found: dict[str, Message] = {}
    for m in ir.messages:
        if m.role and m.role not in found and (m.role_declared or m.role == "new_order"):
            found[m.role] = m
    return found


def _codes(ir: Schema, m: Message, role: str, names: dict[str, tuple[str, ...]]) -> dict[str, str]:
    name = m.field_for(role)
    if name is None:
        return {}
    f = next(x for x in m.fields if x.name == name)
    acc = member(f.name)
    t = ir.type_named(f.type) if f.kind == "enum" else None
    out = {}
    for i, (outcome, spellings) in enumerate(names.items()):
        value = next((v for v in (t.values if t else ()) if v.name.lower() in spellings), None)
        if value is not None:
            out[outcome] = f"{acc}({t.name}::{member(value.name)})"
        else:  # a plain integer code, or an enum without that value: the outcome's index
            out[outcome] = f"{acc}_raw({i})" if t is not None else f"{acc}(static_cast<{cpp_type(f.type)}>({i}))"
    return out


def _instructions(ir: Schema, m: Message, acc: dict[str, str]) -> tuple[str, str, str]:
    """C++ tests (on message `m`) for post-only, IOC and FOK from the flags, tif and order_type fields."""
    tests: dict[str, list[str]] = {"post": [], "ioc": [], "fok": []}
    for role in ("flags", "tif", "order_type"):
        name = m.field_for(role)
        if name is None:
            continue
        f = next(x for x in m.fields if x.name == name)
        t = ir.type_named(f.type)
        if t is None:
            continue
        for key, spellings in (("post", POST_ONLY_NAMES), ("ioc", IOC_NAMES), ("fok", FOK_NAMES)):
            if f.kind == "set":
                for c in t.choices:
                    if c.name.lower() in spellings:
                        tests[key].append(f"m.{acc[role]}().has({t.name}::Choice::{member(c.name)})")
            elif f.kind == "enum":
                for v in t.values:
                    if v.name.lower() in spellings:
                        tests[key].append(f"m.{acc[role]}() == {t.name}::{member(v.name)}")
    return tuple(" || ".join(v) or "false" for v in tests.values())  # type: ignore[return-value]


def _message(ir: Schema, view: dict, m: Message) -> RoleMessage:
    mv = next(x for x in view["messages"] if x.name == m.name)
    by_name = {f.schema_name: f for f in mv.fields}
    roles = dict(m.field_roles)
    acc = {**dict.fromkeys(FIELD_KINDS, ""), **{r: member(n) for r, n in roles.items()}}
    types = {r: by_name[n].param for r, n in roles.items() if n in by_name}
    mapped = set(roles.values())
    rest = []
    exec_id = ""
    for f in m.fields:
        fv = by_name[f.name]
        if f.name in mapped:
            continue
        if f.name == "exec_id" and fv.kind == "primitive":
            exec_id = fv.name
        elif f.optional and fv.kind in ("primitive", "decimal"):
            rest.append(f"{fv.name}({fv.null})")
        elif f.optional and fv.kind == "enum":
            rest.append(f"{fv.name}_raw({fv.raw_null})")
    data = [member(d.name) for d in m.data]
    text = next((member(d.name) for d in m.data if d.name in TEXT_DATA and d.encoding == "utf8"), "")
    rm = RoleMessage(cls=m.name, snake=snake(m.name), acc=acc, types=types, rest=rest, groups=[member(g.name) for g in m.groups],
                     data=data, text=text, exec_id=exec_id)
    cred = roles.get("credentials")
    if cred is not None:
        f = next(x for x in m.fields if x.name == cred)
        t = ir.type_named(f.type)
        rm.credentials_len = t.length if t is not None and t.length else f.size
    if m.role == "execution_report":
        rm.codes = {"exec_type": _codes(ir, m, "exec_type", EXEC_TYPE_NAMES),
                    "order_status": _codes(ir, m, "order_status", STATUS_NAMES)}
    side = roles.get("side")
    if side is not None:
        t = ir.type_named(next(x for x in m.fields if x.name == side).type)
        buy = next(v for v in t.values if v.name.lower() in ("buy", "bid", "b"))
        sell = next(v for v in t.values if v.name.lower() in ("sell", "ask", "offer", "s"))
        rm.side_enum, rm.side_buy, rm.side_sell = t.name, member(buy.name), member(sell.name)
    rm.post_only, rm.ioc, rm.fok = _instructions(ir, m, acc)
    if m.role in ("execution_report", "order_reject", "logon", "logout", "heartbeat"):
        _outbound(ir, m, rm)
    return rm


#: The encoder's local holding each field role's value (venue_main.cpp.j2, `encode_*`).
_SOURCES = {"client_order_id": "id", "orig_client_order_id": "orig_id", "instrument": "inst", "seq": "seq",
            "ts": "ts", "reject_reason": "reason", "heartbeat_interval": "heartbeat_ms"}
#: Quantities and prices: (encoder local, Grid function, value in ticks or lots).
_GRID = {"price": ("px", "from_ticks", "px_ticks"), "qty": ("qty", "from_lots", "qty_lots"),
         "leaves_qty": ("leaves", "from_lots", "leaves_lots"), "cum_qty": ("cum", "from_lots", "cum_lots")}


def _outbound(ir: Schema, m: Message, rm: RoleMessage) -> None:
    """The setter calls that write an outbound message's role fields."""
    fields = {f.name: f for f in m.fields}
    for role, name in m.field_roles:
        f = fields.get(name)
        if f is None:
            continue
        acc = member(name)
        if role in _GRID:
            var, fn, src = _GRID[role]
            rm.conv.append((var, rm.types[role], fn, src))
            rm.calls.append(f"{acc}({var})")
        elif role == "side":
            rm.calls.append(f"{acc}(buy ? {rm.side_enum}::{rm.side_buy} : {rm.side_enum}::{rm.side_sell})")
        elif role == "symbol":
            rm.calls.append(f"{acc}(symbol_of(inst))")
        elif role in _SOURCES:
            if f.kind == "enum":
                t = ir.type_named(f.type)
                rm.calls.append(f"{acc}_raw(static_cast<{cpp_type(t.encoding)}>({_SOURCES[role]}))")
            elif f.kind == "primitive":
                rm.calls.append(f"{acc}(static_cast<{cpp_type(f.type)}>({_SOURCES[role]}))")


def venue_messages(ir: Schema) -> set[str]:
    """Names of the messages the venue view reads (a check builds the view of these only)."""
    return {m.name for m in _by_role(ir).values()}


def missing_roles(ir: Schema) -> list[str]:
    """The order-entry roles a venue needs that no message of `ir` declares."""
    found = _by_role(ir)
    return [r for r in REQUIRED if r not in found]


def venue_view(ir: Schema, view: dict, engine: dict | None) -> dict | None:
    """What venue_main.cpp.j2 needs, or None when the schema cannot have a venue."""
    if engine is None or not engine["md"] or missing_roles(ir):
        return None
    found = _by_role(ir)
    grid = engine["pipeline"].grid
    return {
        "roles": {r: _message(ir, view, found[r]) for r in REQUIRED + OPTIONAL if r in found},
        # quote currency of one tick x lot of the book's grid (multiplier 1)
        "value": f"({grid.tick_num}.0 / {grid.tick_den}.0) * ({grid.lot_num}.0 / {grid.lot_den}.0)",
    }
