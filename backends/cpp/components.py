"""View model of the trading components for `--target cpp`.

A schema with `components` and `pipelines` also gets, over the header-only `hft::trading` runtime:

- `include/<pkg>/strategies/<name>.hpp`: each strategy with inline rules (emitted by exprgen) and
  an adapter satisfying `hft::trading::Strategy`;
- `include/<pkg>/components.hpp`: the feed handlers (dispatcher handlers producing
  `hft::trading::MarketMsg`), the order gateways (`OrderRequest` -> the output message) and the
  risk limits;
- `include/<pkg>/pipeline_<name>.hpp`: the `hft::trading::Pipeline` of each pipeline;
- `tests/components_test.cpp`: codecs -> feed handler -> pipeline -> gateway, inline and threaded.

Feed message roles are decided from field names and types (see `_input_role`):

- trade: the message name contains `Trade`, and it has `price`, `qty` and `aggressor` (or `side`);
- book delta: it has `side`, `price` and `qty`;
- snapshot: it has a repeating group with `side`, `price` and `qty` (book reset, then the levels);

in that order of precedence. `price` and `qty` must be decimals, `side` an enum whose values include
buy/bid and sell/ask (or offer). Optional fields: `instrument` (unsigned integer, the venue's
instrument id), `seq` (unsigned integer) and the first integer field with unit `ns` (the timestamp
used when the caller gives no receive time). An input message fitting no role gets HFT0640 and is
ignored by the generated handler.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

from hftc.backends.cpp.view import ident, member, pascal, snake
from hftc.diagnostics.model import Diagnostic, error, warning
from hftc.ir.model import (
    GROUP_HEADER_SIZE,
    MESSAGE_HEADER_SIZE,
    PRIMITIVES,
    VAR_DATA_LENGTH_SIZE,
    Component,
    Field,
    Message,
    Schema,
)

_BUY = ("buy", "bid", "b")
_SELL = ("sell", "ask", "offer", "s")
_PRICE = ("price", "px")
_QTY = ("qty", "quantity", "size")
_ORDER_ID = ("client_order_id", "cl_ord_id", "clordid", "order_id")
_TS = ("ts_sent", "ts", "ts_ns", "sending_time")

# Thread split bit of a stage kind (hft::trading::split_before).
_SPLIT = {"order_book": "kSplitBeforeBook", "strategy": "kSplitBeforeBook", "risk_gate": "kSplitBeforeRisk",
          "order_gateway": "kSplitBeforeGateway"}
_SPLIT_BIT = {"kSplitBeforeBook": 1, "kSplitBeforeRisk": 2, "kSplitBeforeGateway": 4}


@dataclass
class SideMap:
    enum: str  # C++ enum type
    buy: list[str]  # enumerators meaning Bid
    sell: list[str]


@dataclass
class InputView:
    """One feed input message with the accessors of its roles."""

    name: str
    snake: str
    role: str  # delta | trade | snapshot
    side: str  # accessor (on the message, or on the group entry for snapshots)
    side_map: SideMap
    price: str
    qty: str
    instrument: str  # "" = none
    seq: str
    ts: str
    group: str  # snapshot: the group accessor
    price_type: str = ""
    qty_type: str = ""
    side_unknown_raw: str = ""  # a raw side value outside the enum (tests)
    side_raw_type: str = ""  # the enum's encoding
    # snapshot (tests): (group, is the levels group, nested groups, entry var-data) in schema order
    groups: list = dataclasses.field(default_factory=list)
    data: list = dataclasses.field(default_factory=list)


@dataclass
class FeedView:
    name: str
    cls: str
    inputs: list[InputView]
    ignored: list[str]


@dataclass
class GridView:
    name: str
    cls: str
    tick: str
    lot: str
    tick_num: int
    tick_den: int
    lot_num: int
    lot_den: int
    depth: int


@dataclass
class GatewayView:
    name: str
    cls: str
    message: str
    snake: str
    max_length: int
    price_type: str
    qty_type: str
    side_map: SideMap
    calls: list[str]  # chained setter calls, schema order
    groups: list[str]  # top-level groups written empty
    data: list[str]  # var-data written empty
    roles: list[tuple[str, str]]  # (role, field accessor)
    acc: dict[str, str]  # role -> field accessor


@dataclass
class RiskView:
    name: str
    const: str
    max_position: int
    max_order_qty: int
    max_orders_per_second: int
    price_band_bps: int
    max_notional: int
    kill_switch: bool
    notes: list[str]


@dataclass
class StrategyView:
    name: str
    ns: str
    includes: str  # exprgen's #include lines
    code: str  # the rest of exprgen's output
    preamble: list[str]  # exprgen's leading comment lines
    grid: GridView
    instruments: list[str]
    has_bid: bool
    has_ask: bool
    has_when: bool


@dataclass
class PipelineView:
    name: str
    ident: str
    description: str
    stages: list[tuple[str, str]]  # (stage, kind)
    strategy: StrategyView
    feed: FeedView
    gateway: GatewayView
    risk: RiskView
    grid: GridView
    splits: str  # C++ expression
    split_bits: int
    cpu: list[int]
    threads: list[tuple[str, int]]
    queue_capacity: int
    instruments: int


def _fraction(text: str | None) -> Fraction:
    return Fraction(text) if text else Fraction(1)


def _field(fields, names) -> Field | None:
    for n in names:
        for f in fields:
            if f.name == n:
                return f
    return None


def _side_map(ir: Schema, f: Field | None) -> SideMap | None:
    if f is None or f.kind != "enum":
        return None
    t = ir.type_named(f.type)
    if t is None:
        return None
    buy = [ident(v.name) for v in t.values if v.name.lower() in _BUY]
    sell = [ident(v.name) for v in t.values if v.name.lower() in _SELL]
    if not buy or not sell:
        return None
    return SideMap(t.name, buy, sell)


def _decimal(f: Field | None) -> bool:
    return f is not None and f.kind == "decimal"


def _unsigned(f: Field | None) -> bool:
    return f is not None and f.kind == "primitive" and f.type in PRIMITIVES and \
        not PRIMITIVES[f.type].signed and not PRIMITIVES[f.type].is_float


def _integer(f: Field) -> bool:
    return f.kind == "primitive" and f.type in PRIMITIVES and not PRIMITIVES[f.type].is_float and f.type != "char"


def _ts_field(fields) -> Field | None:
    return next((f for f in fields if f.unit == "ns" and _integer(f)), None)


def _input_role(ir: Schema, m: Message, view: dict) -> InputView | None:
    """The feed role of `m` (see the module docstring), or None."""
    mv = next(x for x in view["messages"] if x.name == m.name)
    price, qty = _field(m.fields, _PRICE), _field(m.fields, _QTY)
    role = side_f = group = None
    if _decimal(price) and _decimal(qty):
        if "trade" in m.name.lower():
            side_f = _field(m.fields, ("aggressor", "side"))
            role = "trade" if _side_map(ir, side_f) else None
        if role is None:
            side_f = _field(m.fields, ("side",))
            role = "delta" if _side_map(ir, side_f) else None
    if role is None:
        for g in m.groups:
            price, qty, side_f = _field(g.fields, _PRICE), _field(g.fields, _QTY), _field(g.fields, ("side",))
            if _decimal(price) and _decimal(qty) and _side_map(ir, side_f):
                role, group = "snapshot", g
                break
    if role is None:
        return None
    inst, seq, ts = _field(m.fields, ("instrument",)), _field(m.fields, ("seq",)), _ts_field(m.fields)
    fviews = mv.fields if group is None else next(x.fields for x in mv.groups if x.name == member(group.name))
    side_view = next(f for f in fviews if f.schema_name == side_f.name)
    view_ = InputView(
        name=m.name, snake=snake(m.name), role=role, side=member(side_f.name), side_map=_side_map(ir, side_f),
        price=member(price.name), qty=member(qty.name), instrument=member(inst.name) if _unsigned(inst) else "",
        seq=member(seq.name) if _unsigned(seq) else "", ts=member(ts.name) if ts else "",
        group=member(group.name) if group else "", price_type=price.type, qty_type=qty.type,
        side_unknown_raw=side_view.unknown_raw, side_raw_type=side_view.raw)
    if group is not None:
        view_.groups = [(member(g.name), g is group, [member(n.name) for n in g.groups] if g is group else [],
                         [member(d.name) for d in g.data] if g is group else []) for g in m.groups]
        view_.data = [member(d.name) for d in m.data]
    return view_


def _grid(c: Component) -> GridView:
    tick, lot = _fraction(c.tick), _fraction(c.lot)
    return GridView(c.name, pascal(c.name) + "Grid", c.tick or "1", c.lot or "1", tick.numerator, tick.denominator,
                    lot.numerator, lot.denominator, c.depth or 64)


def _suffixed(name: str, suffix: str) -> str:
    p = pascal(name)
    return p if p.lower().endswith(suffix.lower()) else p + suffix


def _feed(ir: Schema, c: Component, view: dict, diags: list[Diagnostic]) -> FeedView:
    inputs, ignored = [], []
    for i, name in enumerate(c.inputs):
        m = ir.message_named(name)
        if m is None:
            continue
        role = _input_role(ir, m, view)
        if role is None:
            ignored.append(name)
            span = c.input_spans[i] if i < len(c.input_spans) else c.span
            diags.append(warning(
                "HFT0640", f"input `{name}` of feed handler `{c.name}` fits no market data role; the generated "
                           "handler ignores it", span, label="no book delta, trade or snapshot fields",
                help="a book delta has `side`, `price`, `qty`; a trade (name containing `Trade`) `price`, `qty` "
                     "and `aggressor` or `side`; a snapshot a group of `side`, `price`, `qty`; prices and "
                     "quantities are decimals and `side` an enum with buy/sell values"))
        else:
            inputs.append(role)
    return FeedView(c.name, _suffixed(c.name, "Handler"), inputs, ignored)


def _gateway(ir: Schema, c: Component, view: dict, diags: list[Diagnostic]) -> GatewayView | None:
    m = ir.message_named(c.output or "")
    if m is None:
        return None
    mv = next(x for x in view["messages"] if x.name == m.name)
    price, qty, side_f = _field(m.fields, _PRICE), _field(m.fields, _QTY), _field(m.fields, ("side",))
    side = _side_map(ir, side_f)
    missing = [n for n, ok in (("price (decimal)", _decimal(price)), ("qty (decimal)", _decimal(qty)),
                               ("side (buy/sell enum)", side is not None)) if not ok]
    if missing:
        diags.append(error("HFT0642", f"output `{m.name}` of order gateway `{c.name}` has no field for "
                                      f"{', '.join(missing)}", c.output_span or c.span,
                           label="cannot encode an order", help="add the fields, or name them `side`, `price`, `qty`"))
        return None
    oid = _field(m.fields, _ORDER_ID)
    inst = _field(m.fields, ("instrument",))
    ts = _field(m.fields, _TS) or _ts_field(m.fields)
    by_name = {f.schema_name: f for f in mv.fields}
    calls, roles = [], []
    role_of = {price.name: "price", qty.name: "qty", side_f.name: "side"}
    if oid is not None and _integer(oid):
        role_of[oid.name] = "client_order_id"
    if inst is not None and _integer(inst):
        role_of[inst.name] = "instrument"
    if ts is not None and _integer(ts):
        role_of[ts.name] = "ts"
    value = {"price": "px", "qty": "qty", "side": "side", "client_order_id": "o.client_order_id",
             "instrument": "venue_id(o.instrument)", "ts": "o.ts_ns"}
    for f in m.fields:
        fv = by_name[f.name]
        role = role_of.get(f.name)
        if role is not None:
            roles.append((role, fv.name))
            v = value[role]
            if role in ("client_order_id", "instrument", "ts"):
                v = f"static_cast<{fv.param}>({v})"
            calls.append(f"{fv.name}({v})")
        elif f.optional and fv.kind in ("primitive", "decimal"):
            calls.append(f"{fv.name}({fv.null})")
        elif f.optional and fv.kind == "enum":
            calls.append(f"{fv.name}_raw({fv.raw_null})")
    max_length = MESSAGE_HEADER_SIZE + m.block_length + GROUP_HEADER_SIZE * len(m.groups) + \
        VAR_DATA_LENGTH_SIZE * len(m.data)
    return GatewayView(
        name=c.name, cls=_suffixed(c.name, "Gateway"), message=m.name, snake=snake(m.name), max_length=max_length,
        price_type=price.type, qty_type=qty.type, side_map=side, calls=calls,
        groups=[member(g.name) for g in m.groups], data=[member(d.name) for d in m.data], roles=roles,
        acc=dict(roles))


def _risk(c: Component, grid: GridView | None) -> RiskView:
    lim = c.limits
    assert lim is not None
    notes = []
    band = int(lim.price_band_bps)
    if band != lim.price_band_bps:
        notes.append(f"price_band_bps {lim.price_band_bps} rounded down to {band} (the gate takes whole bps)")
    notional = 0
    if lim.max_notional:
        tick = Fraction(grid.tick) if grid else Fraction(1)
        lot = Fraction(grid.lot) if grid else Fraction(1)
        notional = int(Fraction(str(lim.max_notional)) / (tick * lot))
        notes.append(f"max_notional {lim.max_notional} in tick*lot units of book `{grid.name if grid else '-'}`")
    return RiskView(c.name, "k" + pascal(c.name) + ("" if c.name.lower().endswith("limits") else "Limits"),
                    lim.max_position, lim.max_order_qty, lim.max_orders_per_second, band, notional,
                    lim.kill_switch, notes)


def _strategy(ir: Schema, name: str, grid: GridView, ns: str) -> StrategyView | None:
    from hftc.backends.exprgen import emit_cpp

    s = ir.strategy_named(name)
    if s is None:
        return None
    checked = s.checked()
    if checked is None:
        return None
    rules = {r.ident for r in checked.rules}
    has_bid = {"quote_bid_price", "quote_bid_qty"} <= rules
    has_ask = {"quote_ask_price", "quote_ask_qty"} <= rules
    if not (has_bid or has_ask):
        return None
    sns = f"{ns}::strategies::{ident(name)}"
    text = emit_cpp(checked, namespace=sns)
    head, sep, body = text.partition("#pragma once\n")
    if not sep:
        head, body = "", text
    preamble = [line[3:] if line.startswith("// ") else line.lstrip("/") for line in head.splitlines()
                if line.startswith("//") and "Do not edit" not in line]
    includes, sep, rest = body.partition("\nnamespace ")
    if not sep:
        includes, rest = "", body
    return StrategyView(name=name, ns=sns, includes=includes.strip("\n"), code=(sep.lstrip("\n") + rest).strip("\n"),
                        preamble=preamble, grid=grid,
                        instruments=list(checked.instruments) or [name], has_bid=has_bid, has_ask=has_ask,
                        has_when="when" in rules)


def build_components(ir: Schema, view: dict) -> tuple[dict | None, list[Diagnostic]]:
    """The components view, or None when the schema has no pipeline to generate."""
    diags: list[Diagnostic] = []
    if not ir.components:
        return None, diags
    ns = view["ns"]
    books = [c for c in ir.components if c.kind == "order_book"]
    grids = {c.name: _grid(c) for c in books}
    default_grid = grids[books[0].name] if books else None
    feeds = [_feed(ir, c, view, diags) for c in ir.components if c.kind == "feed_handler"]
    gateways = {}
    for c in ir.components:
        if c.kind == "order_gateway":
            g = _gateway(ir, c, view, diags)
            if g is not None:
                gateways[c.name] = g
    risks = {c.name: _risk(c, default_grid) for c in ir.components if c.kind == "risk_gate" and c.limits}
    strategies: dict[str, StrategyView] = {}
    pipelines: list[PipelineView] = []
    for p in ir.pipelines:
        comps = [ir.component_named(s) for s in p.stages]
        by_kind: dict[str, Component] = {}
        for c in comps:
            if c is not None:
                by_kind.setdefault(c.kind, c)
        need = [k for k in ("feed_handler", "order_book", "strategy", "risk_gate", "order_gateway") if k not in by_kind]
        if need:
            diags.append(warning("HFT0643", f"pipeline `{p.name}` has no {', '.join(need)} stage; no C++ pipeline "
                                            "is generated for it", p.span, label="incomplete pipeline"))
            continue
        book = grids[by_kind["order_book"].name]
        sname = by_kind["strategy"].strategy or ""
        key = sname
        if key in strategies and strategies[key].grid.name != book.name:
            diags.append(warning("HFT0643", f"strategy `{sname}` already runs on book `{strategies[key].grid.name}`; "
                                            f"no C++ pipeline is generated for `{p.name}` on book `{book.name}`",
                                 p.span, label="one book per generated strategy"))
            continue
        if key not in strategies:
            sv = _strategy(ir, sname, book, ns)
            if sv is None:
                diags.append(warning("HFT0645", f"strategy `{sname}` of pipeline `{p.name}` has no inline quote "
                                                "rules; no C++ pipeline is generated for it",
                                     by_kind["strategy"].strategy_span or p.span, label="no quote.bid/quote.ask",
                                     help="write `quote.bid`/`quote.ask` rules, or plug a hand-written strategy "
                                          "into hft::trading::Pipeline"))
                continue
            strategies[key] = sv
        sv = strategies[key]
        feed = next(f for f in feeds if f.name == by_kind["feed_handler"].name)
        gw = gateways.get(by_kind["order_gateway"].name)
        risk = risks.get(by_kind["risk_gate"].name)
        if gw is None or risk is None:
            continue
        inexact = _exactness(ir, gw, book)
        if inexact:
            diags.append(error("HFT0644", inexact, by_kind["order_gateway"].span or p.span,
                               label="inexact price or quantity"))
            continue
        kinds = {s: (ir.component_named(s).kind if ir.component_named(s) else "") for s in p.stages}
        threaded = {t.stage: t for t in p.threads}
        if "order_book" in {kinds.get(s) for s in threaded} and "strategy" in {kinds.get(s) for s in threaded}:
            b = next(t for t in p.threads if kinds.get(t.stage) == "order_book")
            diags.append(error("HFT0641", f"pipeline `{p.name}` starts a thread on both the order book and the "
                                          "strategy", b.span or p.span, label="book and strategy threaded",
                               help="the book always runs on the strategy's thread; keep one of the two"))
            continue
        bits = 0
        cpu_by_bit: dict[int, int] = {}
        cpu0 = -1
        for t in p.threads:
            kind = kinds.get(t.stage, "")
            if kind == "feed_handler" or t.stage == p.stages[0]:
                cpu0 = t.cpu
                continue
            split = _SPLIT.get(kind)
            if split is None:
                continue
            bits |= _SPLIT_BIT[split]
            cpu_by_bit[_SPLIT_BIT[split]] = t.cpu
        cpu = [cpu0] + [cpu_by_bit[b] for b in (1, 2, 4) if b in cpu_by_bit]
        cpu += [-1] * (4 - len(cpu))
        names = [n for n, b in (("kSplitBeforeBook", 1), ("kSplitBeforeRisk", 2), ("kSplitBeforeGateway", 4))
                 if bits & b]
        splits = " | ".join(f"hft::trading::{n}" for n in names) if names else "hft::trading::kInline"
        pipelines.append(PipelineView(
            name=p.name, ident=ident(p.name), description=" ".join(p.description.split()),
            stages=[(s, kinds[s]) for s in p.stages], strategy=sv, feed=feed, gateway=gw, risk=risk, grid=book,
            splits=splits, split_bits=bits, cpu=cpu, threads=[(t.stage, t.cpu) for t in p.threads],
            queue_capacity=p.queue_capacity, instruments=max(len(sv.instruments), 1)))
    if not pipelines:
        return None, diags
    return {
        "ns": ns,
        "pkg": view["pkg"],
        "package": view["package"],
        "grids": list(grids.values()),
        "default_grid": default_grid,
        "feeds": feeds,
        "gateways": list(gateways.values()),
        "risks": list(risks.values()),
        "strategies": list(strategies.values()),
        "pipelines": pipelines,
        "test": pipelines[0],
        "t_delta": next((i for i in pipelines[0].feed.inputs if i.role == "delta"), None),
        "t_snapshot": next((i for i in pipelines[0].feed.inputs if i.role == "snapshot"), None),
        "t_trade": next((i for i in pipelines[0].feed.inputs if i.role == "trade"), None),
    }, diags


def _exactness(ir: Schema, g: GatewayView, grid: GridView | None) -> str:
    """Why the gateway's decimals cannot hold every tick/lot multiple exactly, or ""."""
    if grid is None:
        return ""
    for what, tname, step in (("price", g.price_type, grid.tick), ("qty", g.qty_type, grid.lot)):
        t = ir.type_named(tname)
        if t is None:
            continue
        unit = Fraction(10) ** t.exponent
        if (Fraction(step) / unit).denominator != 1:
            return (f"`{tname}` (10^{t.exponent}) cannot represent a {what} step of {step} of book `{grid.name}` "
                    f"exactly")
    return ""
