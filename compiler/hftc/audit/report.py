"""What a trading-controls review asks of a journal: order-to-trade ratio, rejects by reason,
the maximum exposure reached per limit, kill-switch and session events, market-data gaps,
lost records, and positions reconciled against the execution reports.

Everything is computed from the records alone (and the schema, for message meaning), so the
same journal always gives the same report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hftc.audit.decode import MessageDecoder
from hftc.audit.journal import Record

FILL_TYPES = ("trade", "fill", "partial_fill", "partially_filled", "filled")
ORDER_ROLES = ("new_order", "cancel", "replace")


@dataclass
class Reconciliation:
    instrument: str
    from_reports: Decimal
    journaled: Decimal | None  # the last `position` record, None when the engine wrote none

    @property
    def ok(self) -> bool:
        return self.journaled is None or self.journaled == self.from_reports


@dataclass
class AuditReport:
    records: int = 0
    first_ts_ns: int = 0
    last_ts_ns: int = 0
    by_type: Counter = field(default_factory=Counter)
    orders: Counter = field(default_factory=Counter)  # new_order / cancel / replace sent
    exec_reports: Counter = field(default_factory=Counter)  # by exec type name
    fills: int = 0
    risk_accepted: int = 0
    risk_rejects: Counter = field(default_factory=Counter)  # by reason name
    venue_rejects: Counter = field(default_factory=Counter)  # order_reject messages by reason
    max_exposure: dict[str, int] = field(default_factory=dict)  # per limit, over accepted orders
    kill_switch: list[dict[str, Any]] = field(default_factory=list)
    sessions: Counter = field(default_factory=Counter)
    md_gaps: int = 0
    md_missed: int = 0
    lost: int = 0
    undecodable: int = 0
    positions: list[Reconciliation] = field(default_factory=list)

    @property
    def order_to_trade(self) -> float | None:
        """Orders, modifications and cancels sent per fill (MiFID II RTS 9's ratio, by count)."""
        sent = sum(self.orders.values())
        return sent / self.fills if self.fills else None

    def as_json(self) -> dict[str, Any]:
        return {
            "records": self.records, "first_ts_ns": self.first_ts_ns, "last_ts_ns": self.last_ts_ns,
            "records_by_type": dict(self.by_type), "orders_sent": dict(self.orders),
            "execution_reports": dict(self.exec_reports), "fills": self.fills,
            "order_to_trade_ratio": self.order_to_trade, "risk_accepted": self.risk_accepted,
            "risk_rejects_by_reason": dict(self.risk_rejects), "venue_rejects_by_reason": dict(self.venue_rejects),
            "max_exposure": self.max_exposure, "kill_switch_events": self.kill_switch,
            "session_events": dict(self.sessions), "md_gaps": self.md_gaps, "md_packets_missed": self.md_missed,
            "records_lost": self.lost, "undecodable_messages": self.undecodable,
            "reconciliation": [
                {"instrument": r.instrument, "from_execution_reports": str(r.from_reports),
                 "journaled": None if r.journaled is None else str(r.journaled), "ok": r.ok}
                for r in self.positions
            ],
        }


def build_report(records: list[Record], decoder: MessageDecoder | None) -> AuditReport:
    rep = AuditReport()
    names: dict[str, dict[int, str]] = defaultdict(dict)
    position: dict[str, Decimal] = defaultdict(Decimal)
    order_instrument: dict[int, str] = {}  # client order id -> instrument, from the orders sent
    journaled: dict[str, Decimal] = {}
    for r in records:
        rep.records += 1
        rep.first_ts_ns = r.ts_ns if rep.first_ts_ns == 0 else min(rep.first_ts_ns, r.ts_ns)
        rep.last_ts_ns = max(rep.last_ts_ns, r.ts_ns)
        rep.by_type[r.type] += 1
        f = r.fields
        if r.type == "names":
            names[f.get("kind", "")].update(f.get("names", {}))
        elif r.type == "risk" and "error" not in f:
            if f["accepted"]:
                rep.risk_accepted += 1
                for limit, value in (("position_long", f["worst_long_lots"]), ("position_short", f["worst_short_lots"]),
                                     ("order_qty", f["qty_lots"]), ("order_notional", f["notional"])):
                    rep.max_exposure[limit] = max(rep.max_exposure.get(limit, 0), value)
            else:
                code = f["reason_code"]
                rep.risk_rejects[names["risk_reason"].get(code, f"reason {code}")] += 1
        elif r.type == "kill_switch" and "error" not in f:
            rep.kill_switch.append({"ts_ns": r.ts_ns, **f})
        elif r.type == "session" and "error" not in f:
            rep.sessions[f["event"]] += 1
        elif r.type == "md_gap" and "error" not in f:
            rep.md_gaps += 1
            rep.md_missed += f["missed"]
        elif r.type == "lost" and "error" not in f:
            rep.lost += f["ring_full"] + f["oversize"]
        elif r.type == "position" and "error" not in f:
            journaled[str(f["instrument"])] = f["position"]
        elif r.type == "message" and decoder is not None:
            _message(rep, r, decoder, names, position, order_instrument)
    for inst in sorted(set(position) | set(journaled)):
        rep.positions.append(Reconciliation(inst, position.get(inst, Decimal(0)), journaled.get(inst)))
    return rep


def _instrument(decoder: MessageDecoder, msg: str, values: dict) -> str | None:
    inst = decoder.value_of(msg, values, "instrument")
    if inst is None:
        inst = decoder.value_of(msg, values, "symbol") or None
    return None if inst is None else str(inst)


def _message(rep: AuditReport, r: Record, decoder: MessageDecoder, names, position, order_instrument) -> None:
    d = decoder.decode(r.payload)
    if "error" in d:
        rep.undecodable += 1
        return
    role, msg, values = d["role"], d["message"], d["values"]
    outbound = r.fields.get("direction") == "out"
    if outbound and role in ORDER_ROLES:
        rep.orders[role] += 1
        inst = _instrument(decoder, msg, values)
        orig = decoder.value_of(msg, values, "orig_client_order_id")
        if inst is None and orig is not None:
            inst = order_instrument.get(orig)
        coid = decoder.value_of(msg, values, "client_order_id")
        if coid is not None and inst is not None:
            order_instrument[coid] = inst
    elif not outbound and role == "execution_report":
        kind = decoder.code_name(msg, values, "exec_type") or "report"
        rep.exec_reports[kind] += 1
        qty = decoder.number(msg, values, "qty") or Decimal(0)
        if kind in FILL_TYPES and qty > 0:
            rep.fills += 1
            side = decoder.side(msg, values)
            # A report names its instrument, or its order does.
            inst = _instrument(decoder, msg, values)
            if inst is None:
                for role_name in ("client_order_id", "orig_client_order_id"):
                    inst = inst or order_instrument.get(decoder.value_of(msg, values, role_name))
            inst = inst or "?"
            position[inst] += qty if side == "buy" else -qty
    elif not outbound and role == "order_reject":
        code = decoder.value_of(msg, values, "reject_reason")
        rep.venue_rejects[names["reject_code"].get(code, f"code {code}") if isinstance(code, int) else str(code)] += 1
