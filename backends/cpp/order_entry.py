"""View of the engine's order-entry codec (`include/<pkg>/order_entry.hpp`).

The engine speaks the order-entry session (SOFH frames over TCP, hft/session/) with the schema's
messages found by role (hftc.ir.roles): it encodes logon, logout, heartbeat, and the order
manager's new order (the gateway's output), cancel and replace; it decodes the venue's logon,
logout, heartbeat, execution report and order reject. Fields are set and read through their
field roles only, enums by their raw values, so any schema declaring the roles works.

A schema gets the codec when it declares execution_report, cancel, logon, logout and heartbeat
messages and its execution report's exec type is an enum (its value names say what a report
means); replace and order_reject are optional (without replace the order manager cancels, then
sends a new order). Without them the engine trades only against its simulated venue.
"""

from __future__ import annotations

from dataclasses import dataclass

from hftc.backends.cpp.view import cpp_type, member
from hftc.ir.model import PRIMITIVES, Field, Message, Schema
from hftc.ir.roles import BUY_NAMES, SELL_NAMES

#: Execution report exec-type value names -> hft::oms::ExecKind (the wire protocol's mapping).
EXEC_KINDS = {"accepted": "kNew", "new": "kNew", "trade": "kFill", "fill": "kFill", "partial_fill": "kFill",
              "canceled": "kCanceled", "cancelled": "kCanceled", "expired": "kCanceled", "replaced": "kReplaced",
              "rejected": "kRejected"}
#: Order status value names meaning the order still rests (a reconcile report).
OPEN_STATUS = ("open", "new", "partially_filled", "partial")

_REQUIRED = ("execution_report", "cancel", "logon", "logout", "heartbeat")
_REQUEST_ROLES = ("client_order_id", "orig_client_order_id", "side", "price", "qty")


@dataclass
class Setter:
    """One field written by an encoder: `call` is the chained setter, `check` a conversion that
    must succeed first (decimals), empty when none."""

    call: str
    check: str = ""
    decl: str = ""


@dataclass
class Encoder:
    message: str
    setters: list[Setter]


@dataclass
class Reader:
    """How a decoder reads the fields it needs: C++ expressions over the decoded message `m`."""

    message: str
    seq: str  # "" = the message has no seq field
    fields: dict[str, str]
    sides: tuple[int, int] | None = None  # raw (buy, sell) values of its side field, when an enum


def _field(m: Message, role: str) -> Field | None:
    name = m.field_for(role)
    return next((f for f in m.fields if f.name == name), None) if name else None


def _raw_type(ir: Schema, f: Field) -> str:
    t = ir.type_named(f.type)
    return cpp_type(t.encoding) if t is not None and t.encoding else "std::uint8_t"


def _set_int(f: Field, value: str) -> str:
    return f"{member(f.name)}(static_cast<{cpp_type(f.type)}>({value}))"


def _side_values(ir: Schema, f: Field) -> tuple[int, int] | None:
    t = ir.type_named(f.type) if f.kind == "enum" else None
    if t is None:
        return None
    buy = [v.value for v in t.values if v.name.lower() in BUY_NAMES]
    sell = [v.value for v in t.values if v.name.lower() in SELL_NAMES]
    return (buy[0], sell[0]) if buy and sell else None


def _code_setter(ir: Schema, f: Field, value: str) -> str | None:
    """A setter of a `code` field (reason codes): an unsigned integer or an enum/set by raw value."""
    if f.kind in ("enum", "set"):
        return f"{member(f.name)}_raw(static_cast<{_raw_type(ir, f)}>({value}))"
    if f.kind == "primitive" and f.type in PRIMITIVES and not PRIMITIVES[f.type].is_float:
        return _set_int(f, value)
    return None


def _encoder(ir: Schema, m: Message, values: dict[str, str]) -> Encoder | None:
    """Setters for the roles of `m` that `values` gives (role -> C++ value); None when a field
    cannot be written."""
    setters: list[Setter] = []
    for role, value in values.items():
        f = _field(m, role)
        if f is None:
            continue
        acc = member(f.name)
        if role in ("seq", "ts", "client_order_id", "orig_client_order_id", "instrument", "heartbeat_interval"):
            setters.append(Setter(_set_int(f, value)))
        elif role == "side":
            sides = _side_values(ir, f)
            if sides is None:
                return None
            raw = _raw_type(ir, f)
            setters.append(Setter(f"{acc}_raw(static_cast<{raw}>({value} == hft::Side::Bid ? {sides[0]} : {sides[1]}))"))
        elif role in ("price", "qty"):
            var = f"{role}_{acc}"
            conv = "from_ticks" if role == "price" else "from_lots"
            setters.append(Setter(f"{acc}({var})", f"Grid::{conv}({value}, {var})", f"{cpp_type(f.type)} {var}{{}};"))
        elif role == "credentials":
            setters.append(Setter(f"{acc}({value})"))
        elif role == "reject_reason":
            call = _code_setter(ir, f, value)
            if call is None:
                return None
            setters.append(Setter(call))
    return Encoder(m.name, setters)


def _reader(ir: Schema, m: Message, roles: tuple[str, ...]) -> Reader:
    seq = _field(m, "seq")
    fields = dict.fromkeys(roles, "")  # a role the message lacks reads as empty in the template
    for role in roles:
        f = _field(m, role)
        if f is not None:
            raw = f.kind in ("enum", "set")
            fields[role] = f"m.{member(f.name)}{'_raw' if raw else ''}()"
    side = _field(m, "side") if "side" in roles else None
    sides = _side_values(ir, side) if side is not None else None
    return Reader(m.name, f"m.{member(seq.name)}()" if seq is not None else "", fields, sides)


def order_entry_view(ir: Schema, gateway_message: str, gateway_component: str) -> dict | None:
    """What order_entry.hpp.j2 needs, or None when the schema has no complete order-entry session."""
    by_role = {m.role: m for m in ir.messages if m.role_declared or m.role == "new_order"}
    if any(r not in by_role for r in _REQUIRED):
        return None
    new = ir.message_named(gateway_message)
    report = by_role["execution_report"]
    exec_f = _field(report, "exec_type")
    exec_t = ir.type_named(exec_f.type) if exec_f is not None and exec_f.kind == "enum" else None
    side_f = _field(report, "side")
    sides = _side_values(ir, side_f) if side_f is not None else None
    if new is None or exec_t is None or sides is None:
        return None
    kinds = [(v.value, EXEC_KINDS[v.name.lower()]) for v in exec_t.values if v.name.lower() in EXEC_KINDS]
    status_f = _field(report, "order_status")
    status_t = ir.type_named(status_f.type) if status_f is not None and status_f.kind == "enum" else None
    open_values = [v.value for v in status_t.values if v.name.lower() in OPEN_STATUS] if status_t else []
    order = {"seq": "seq", "ts": "ts_ns", "client_order_id": "request_id", "orig_client_order_id": "a.orig_cl_ord_id",
             "instrument": "instrument", "side": "a.side", "price": "a.px", "qty": "a.qty"}
    cancel_values = {**order, "orig_client_order_id": "a.cl_ord_id"}
    del cancel_values["price"], cancel_values["qty"]
    encoders = {
        "logon": _encoder(ir, by_role["logon"], {"seq": "seq", "ts": "ts_ns", "heartbeat_interval": "heartbeat_ms",
                                                 "credentials": "secret"}),
        "logout": _encoder(ir, by_role["logout"], {"seq": "seq", "ts": "ts_ns", "reject_reason": "reason"}),
        "heartbeat": _encoder(ir, by_role["heartbeat"], {"seq": "seq", "ts": "ts_ns"}),
        "new": _encoder(ir, new, {k: v for k, v in order.items() if k != "orig_client_order_id"}),
        "cancel": _encoder(ir, by_role["cancel"], cancel_values),
        "replace": _encoder(ir, by_role["replace"], order) if "replace" in by_role else None,
    }
    if any(e is None for k, e in encoders.items() if k != "replace"):
        return None
    encoded = [new, *(by_role[r] for r in ("logon", "logout", "heartbeat", "cancel", "replace") if r in by_role)]
    if any(m.groups or m.data for m in encoded):
        return None  # the encoders write fixed blocks only
    if "replace" in by_role and encoders["replace"] is None:
        return None
    logon = by_role["logon"]
    cred = _field(logon, "credentials")
    readers = {
        "logon": _reader(ir, logon, ()),
        "logout": _reader(ir, by_role["logout"], ("reject_reason",)),
        "heartbeat": _reader(ir, by_role["heartbeat"], ()),
        "report": _reader(ir, report, ("client_order_id", "orig_client_order_id", "exec_type", "order_status",
                                       "side", "price", "qty")),
        "reject": _reader(ir, by_role["order_reject"], ("client_order_id",)) if "order_reject" in by_role else None,
        # The engine's own requests, read back from its audit journal when it recovers.
        "new": _reader(ir, new, _REQUEST_ROLES),
        "cancel": _reader(ir, by_role["cancel"], _REQUEST_ROLES),
        "replace": _reader(ir, by_role["replace"], _REQUEST_ROLES) if "replace" in by_role else None,
    }
    report_price = _field(report, "price")
    report_qty = _field(report, "qty")
    sizes = [m.block_length for m in (new, logon, by_role["logout"], by_role["heartbeat"], by_role["cancel"])]
    if "replace" in by_role:
        sizes.append(by_role["replace"].block_length)
    return {
        "component": gateway_component,
        "encoders": encoders,
        "readers": readers,
        "has_replace": "replace" in by_role,
        "exec_kinds": kinds,
        "open_values": open_values,
        "sides": sides,
        "price_type": cpp_type(report_price.type) if report_price else "",
        "qty_type": cpp_type(report_qty.type) if report_qty else "",
        "credentials_bytes": cred.size if cred is not None else 0,
        "max_block": max(sizes),
    }
