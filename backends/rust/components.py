"""View model of the trading components for `--target rust`.

A schema whose pipelines have a feed handler, an order book, a strategy with inline quote rules,
a risk gate and an order gateway also gets, over `runtime_rust::trading`:

- `src/strategies.rs`: each strategy's rules (emitted by exprgen's `emit_rust`) and an `Adapter`
  implementing `runtime_rust::trading::Strategy`, the Rust twin of the C++ adapter;
- `src/components.rs`: exact decimals for the grids, the grids, the feed handlers (dispatcher
  handlers producing `MarketMsg`), the order gateways (`OrderRequest` -> the output message) and
  the risk limits;
- `src/pipelines.rs`: one module per pipeline (its strategy, limits, splits, config, `make`);
- `tests/components.rs`: codecs -> feed handler -> pipeline (inline and threaded) -> gateway;
- `src/bin/replay.rs`: a capture of encoded messages through the first pipeline, inline, printing
  the encoded orders (the C++ and Rust pipelines are compared byte for byte with it).

Roles, splits and limits follow the C++ target's rules exactly (`hftc.backends.cpp.components`),
so that both languages send the same orders for the same input: feed message roles are decided
from field names and types (trade: the name contains `Trade` and it has `price`, `qty`,
`aggressor` or `side`; book delta: `side`, `price`, `qty`; snapshot: a repeating group of those),
`price`/`qty` are decimals and `side` an enum with buy/sell values. The same diagnostics
(HFT0640-HFT0645) are reported, worded for this target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from hftc.backends.exprgen import outputs
from hftc.backends.rust.codegen import Generator
from hftc.backends.rust.naming import RUST_PRIMITIVES, camel, ident, snake, upper
from hftc.diagnostics.model import Diagnostic, error, warning
from hftc.ir.expr import Type
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
_SPLIT = {"order_book": 1, "strategy": 1, "risk_gate": 2, "order_gateway": 4}
_SPLIT_NAMES = ((1, "SPLIT_BEFORE_BOOK"), (2, "SPLIT_BEFORE_RISK"), (4, "SPLIT_BEFORE_GATEWAY"))


@dataclass
class SideMap:
    enum: str  # Rust enum type
    buy: list[str]  # variants meaning Bid
    sell: list[str]
    raw: str  # Rust type of the raw value
    unknown_raw: int  # a raw value outside the enum (tests)


@dataclass
class InputView:
    name: str
    handler: str  # on_<snake>
    decoder: str
    role: str  # delta | trade | snapshot
    side: str  # accessor (on the message, or on the group entry for snapshots)
    side_set_raw: str  # encoder setter of the raw side (tests)
    side_map: SideMap
    price: str
    qty: str
    price_type: str
    qty_type: str
    instrument: str  # "" = none
    seq: str
    ts: str
    ts_cast: bool  # the timestamp's type is not u64
    seq_cast: bool
    instrument_cast: bool
    group: str = ""
    # tests: schema-order (name, is the levels group, nested groups, entry var-data) and var-data
    groups: list = field(default_factory=list)
    data: list = field(default_factory=list)
    optional: set = field(default_factory=set)  # fields whose setters take Option


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
class FeedView:
    name: str
    cls: str
    inputs: list[InputView]
    ignored: list[str]


@dataclass
class GatewayView:
    name: str
    cls: str
    message: str
    encoder: str
    decoder: str
    max_length: int
    price_type: str
    qty_type: str
    side_map: SideMap
    sets: list[str]  # setter calls, schema order
    groups: list[str]
    data: list[str]
    acc: dict[str, str]  # role -> decoder accessor
    acc_type: dict = field(default_factory=dict)  # role -> Rust type of the field
    uses_order: bool = False  # a setter reads the OrderRequest
    uses_venue: bool = False  # a setter writes the venue instrument id


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
    module: str
    rules: str  # emit_rust output
    grid: GridView
    instruments: list[str]
    has_bid: bool
    has_ask: bool
    has_when: bool
    bid_qty_int: bool
    ask_qty_int: bool


@dataclass
class PipelineView:
    name: str
    module: str
    description: str
    stages: list[tuple[str, str]]
    strategy: StrategyView
    feed: FeedView
    gateway: GatewayView
    risk: RiskView
    grid: GridView
    splits: str
    split_bits: int
    cpu: list[int]
    threads: list[tuple[str, int]]
    queue_capacity: int
    instruments: int


def _field(fields, names) -> Field | None:
    for n in names:
        for f in fields:
            if f.name == n:
                return f
    return None


def _decimal(f: Field | None) -> bool:
    return f is not None and f.kind == "decimal"


def _unsigned(f: Field | None) -> bool:
    return f is not None and f.kind == "primitive" and f.type in PRIMITIVES and \
        not PRIMITIVES[f.type].signed and not PRIMITIVES[f.type].is_float


def _integer(f: Field) -> bool:
    return f.kind == "primitive" and f.type in PRIMITIVES and not PRIMITIVES[f.type].is_float and f.type != "char"


def _ts_field(fields) -> Field | None:
    return next((f for f in fields if f.unit == "ns" and _integer(f)), None)


class ComponentsView:
    """Builds the view; `diagnostics` collects what the C++ target would report, for Rust."""

    def __init__(self, ir: Schema, gen: Generator):
        self.ir = ir
        self.gen = gen
        self.diagnostics: list[Diagnostic] = []

    def side_map(self, f: Field | None) -> SideMap | None:
        if f is None or f.kind != "enum":
            return None
        t = self.ir.type_named(f.type)
        if t is None:
            return None
        variants = self.gen.enum_variants(t)
        buy = [n for (n, _), v in zip(variants, t.values) if v.name.lower() in _BUY]
        sell = [n for (n, _), v in zip(variants, t.values) if v.name.lower() in _SELL]
        if not buy or not sell:
            return None
        used = {v.value for v in t.values} | {self.gen.t.type_null_int(t)}
        bits = t.size * 8
        unknown = next(i for i in range(1, 1 << min(bits, 16)) if i not in used)
        return SideMap(t.name, buy, sell, RUST_PRIMITIVES[t.encoding or "uint8"], unknown)

    def input_role(self, m: Message) -> InputView | None:
        price, qty = _field(m.fields, _PRICE), _field(m.fields, _QTY)
        role = side_f = group = None
        if _decimal(price) and _decimal(qty):
            if "trade" in m.name.lower():
                side_f = _field(m.fields, ("aggressor", "side"))
                role = "trade" if self.side_map(side_f) else None
            if role is None:
                side_f = _field(m.fields, ("side",))
                role = "delta" if self.side_map(side_f) else None
        if role is None:
            for g in m.groups:
                price, qty, side_f = _field(g.fields, _PRICE), _field(g.fields, _QTY), _field(g.fields, ("side",))
                if _decimal(price) and _decimal(qty) and self.side_map(side_f):
                    role, group = "snapshot", g
                    break
        if role is None:
            return None
        inst, seq, ts = _field(m.fields, ("instrument",)), _field(m.fields, ("seq",)), _ts_field(m.fields)
        inst = inst if _unsigned(inst) else None
        seq = seq if _unsigned(seq) else None
        view = InputView(
            name=m.name, handler=f"on_{snake(m.name)}", decoder=f"{m.name}Decoder", role=role,
            side=ident(side_f.name), side_set_raw=f"set_{side_f.name}_raw", side_map=self.side_map(side_f),
            price=ident(price.name), qty=ident(qty.name), price_type=price.type, qty_type=qty.type,
            instrument=ident(inst.name) if inst else "", seq=ident(seq.name) if seq else "",
            ts=ident(ts.name) if ts else "",
            ts_cast=ts is not None and ts.type != "uint64", seq_cast=seq is not None and seq.type != "uint64",
            instrument_cast=inst is not None and inst.type not in ("uint8", "uint16", "uint32", "uint64"),
            group=ident(group.name) if group else "")
        fields = m.fields if group is None else group.fields
        view.optional = {f.name for f in [*m.fields, *fields] if self.gen.t.nullable(f)}
        if group is not None:
            view.groups = [(g.name, g is group, [n.name for n in g.groups] if g is group else [],
                            [d.name for d in g.data] if g is group else []) for g in m.groups]
            view.data = [d.name for d in m.data]
        return view

    def grid(self, c: Component) -> GridView:
        tick = Fraction(c.tick) if c.tick else Fraction(1)
        lot = Fraction(c.lot) if c.lot else Fraction(1)
        return GridView(c.name, camel(c.name) + "Grid", c.tick or "1", c.lot or "1", tick.numerator,
                        tick.denominator, lot.numerator, lot.denominator, c.depth or 64)

    def feed(self, c: Component) -> FeedView:
        inputs, ignored = [], []
        for i, name in enumerate(c.inputs):
            m = self.ir.message_named(name)
            if m is None:
                continue
            role = self.input_role(m)
            if role is None:
                ignored.append(name)
                span = c.input_spans[i] if i < len(c.input_spans) else c.span
                self.diagnostics.append(warning(
                    "HFT0640", f"input `{name}` of feed handler `{c.name}` fits no market data role; the generated "
                               "Rust handler ignores it", span, label="no book delta, trade or snapshot fields",
                    help="a book delta has `side`, `price`, `qty`; a trade (name containing `Trade`) `price`, `qty` "
                         "and `aggressor` or `side`; a snapshot a group of `side`, `price`, `qty`; prices and "
                         "quantities are decimals and `side` an enum with buy/sell values"))
            else:
                inputs.append(role)
        cls = camel(c.name)
        return FeedView(c.name, cls if cls.lower().endswith("handler") else cls + "Handler", inputs, ignored)

    def gateway(self, c: Component) -> GatewayView | None:
        m = self.ir.message_named(c.output or "")
        if m is None:
            return None
        price, qty, side_f = _field(m.fields, _PRICE), _field(m.fields, _QTY), _field(m.fields, ("side",))
        side = self.side_map(side_f)
        missing = [n for n, ok in (("price (decimal)", _decimal(price)), ("qty (decimal)", _decimal(qty)),
                                   ("side (buy/sell enum)", side is not None)) if not ok]
        if missing:
            self.diagnostics.append(error(
                "HFT0642", f"output `{m.name}` of order gateway `{c.name}` has no field for {', '.join(missing)}",
                c.output_span or c.span, label="cannot encode an order",
                help="add the fields, or name them `side`, `price`, `qty`"))
            return None
        oid = _field(m.fields, _ORDER_ID)
        inst = _field(m.fields, ("instrument",))
        ts = _field(m.fields, _TS) or _ts_field(m.fields)
        role_of = {price.name: "price", qty.name: "qty", side_f.name: "side"}
        source = {"client_order_id": ("o.client_order_id", "u64"), "instrument": ("venue_id", "u32"),
                  "ts": ("o.ts_ns", "u64")}
        for role, f in (("client_order_id", oid), ("instrument", inst), ("ts", ts)):
            if f is not None and _integer(f) and f.name not in role_of:
                role_of[f.name] = role
        roles = ("price", "qty", "side", "client_order_id", "instrument", "ts")
        sets, acc, acc_type = [], dict.fromkeys(roles, ""), dict.fromkeys(roles, "")
        for f in m.fields:
            role = role_of.get(f.name)
            if role is None:
                continue  # zero, or null when optional: the encoder's initial block
            acc[role] = ident(f.name)
            acc_type[role] = self.gen.t.rust(f.type)
            if role in source:
                expr, rt = source[role]
                want = self.gen.t.rust(f.type)
                value = expr if want == rt else f"{expr} as {want}"
            else:
                value = {"price": "px", "qty": "qty", "side": "side"}[role]
            if self.gen.t.nullable(f):
                value = f"Some({value})"
            sets.append(f"set_{f.name}({value})")
        max_length = MESSAGE_HEADER_SIZE + m.block_length + GROUP_HEADER_SIZE * len(m.groups) + \
            VAR_DATA_LENGTH_SIZE * len(m.data)
        cls = camel(c.name)
        return GatewayView(
            name=c.name, cls=cls if cls.lower().endswith("gateway") else cls + "Gateway", message=m.name,
            encoder=f"{m.name}Encoder", decoder=f"{m.name}Decoder", max_length=max_length, price_type=price.type,
            qty_type=qty.type, side_map=side, sets=sets, groups=[g.name for g in m.groups],
            data=[d.name for d in m.data], acc=acc, acc_type=acc_type, uses_order=any("o." in x for x in sets),
            uses_venue=any("venue_id" in x for x in sets))

    @staticmethod
    def risk(c: Component, grid: GridView | None) -> RiskView:
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
        const = upper(c.name) + ("" if c.name.lower().endswith("limits") else "_LIMITS")
        return RiskView(c.name, const, lim.max_position, lim.max_order_qty, lim.max_orders_per_second, band,
                        notional, lim.kill_switch, notes)

    def strategy(self, name: str, grid: GridView) -> StrategyView | None:
        from hftc.backends.exprgen import emit_rust

        s = self.ir.strategy_named(name)
        checked = s.checked() if s is not None else None
        if checked is None:
            return None
        types = dict(outputs(checked))
        rules = {r.ident for r in checked.rules}
        has_bid = {"quote_bid_price", "quote_bid_qty"} <= rules
        has_ask = {"quote_ask_price", "quote_ask_qty"} <= rules
        if not (has_bid or has_ask):
            return None
        return StrategyView(
            name=name, module=ident(snake(name)), rules=emit_rust(checked, module="rules"), grid=grid,
            instruments=list(checked.instruments) or [name], has_bid=has_bid, has_ask=has_ask,
            has_when="when" in rules, bid_qty_int=types.get("quote_bid_qty") is Type.INT,
            ask_qty_int=types.get("quote_ask_qty") is Type.INT)

    def exactness(self, g: GatewayView, grid: GridView) -> str:
        for what, tname, step in (("price", g.price_type, grid.tick), ("qty", g.qty_type, grid.lot)):
            t = self.ir.type_named(tname)
            if t is None:
                continue
            unit = Fraction(10) ** t.exponent
            if (Fraction(step) / unit).denominator != 1:
                return (f"`{tname}` (10^{t.exponent}) cannot represent a {what} step of {step} of book "
                        f"`{grid.name}` exactly")
        return ""

    def build(self) -> dict | None:
        ir = self.ir
        if not ir.components:
            return None
        books = [c for c in ir.components if c.kind == "order_book"]
        grids = {c.name: self.grid(c) for c in books}
        default_grid = grids[books[0].name] if books else None
        feeds = [self.feed(c) for c in ir.components if c.kind == "feed_handler"]
        gateways = {}
        for c in ir.components:
            if c.kind == "order_gateway":
                g = self.gateway(c)
                if g is not None:
                    gateways[c.name] = g
        risks = {c.name: self.risk(c, default_grid) for c in ir.components if c.kind == "risk_gate" and c.limits}
        strategies: dict[str, StrategyView] = {}
        pipelines: list[PipelineView] = []
        for p in ir.pipelines:
            by_kind: dict[str, Component] = {}
            for s in p.stages:
                c = ir.component_named(s)
                if c is not None:
                    by_kind.setdefault(c.kind, c)
            need = [k for k in ("feed_handler", "order_book", "strategy", "risk_gate", "order_gateway")
                    if k not in by_kind]
            if need:
                self.diagnostics.append(warning(
                    "HFT0643", f"pipeline `{p.name}` has no {', '.join(need)} stage; no Rust pipeline is generated "
                               "for it", p.span, label="incomplete pipeline"))
                continue
            book = grids[by_kind["order_book"].name]
            sname = by_kind["strategy"].strategy or ""
            if sname in strategies and strategies[sname].grid.name != book.name:
                self.diagnostics.append(warning(
                    "HFT0643", f"strategy `{sname}` already runs on book `{strategies[sname].grid.name}`; no Rust "
                               f"pipeline is generated for `{p.name}` on book `{book.name}`", p.span,
                    label="one book per generated strategy"))
                continue
            if sname not in strategies:
                sv = self.strategy(sname, book)
                if sv is None:
                    self.diagnostics.append(warning(
                        "HFT0645", f"strategy `{sname}` of pipeline `{p.name}` has no inline quote rules; no Rust "
                                   "pipeline is generated for it", by_kind["strategy"].strategy_span or p.span,
                        label="no quote.bid/quote.ask",
                        help="write `quote.bid`/`quote.ask` rules, or plug a hand-written strategy into "
                             "runtime_rust::trading::Pipeline"))
                    continue
                strategies[sname] = sv
            sv = strategies[sname]
            feed = next(f for f in feeds if f.name == by_kind["feed_handler"].name)
            gw = gateways.get(by_kind["order_gateway"].name)
            risk = risks.get(by_kind["risk_gate"].name)
            if gw is None or risk is None:
                continue
            inexact = self.exactness(gw, book)
            if inexact:
                self.diagnostics.append(error("HFT0644", inexact, by_kind["order_gateway"].span or p.span,
                                              label="inexact price or quantity"))
                continue
            kinds = {s: (ir.component_named(s).kind if ir.component_named(s) else "") for s in p.stages}
            threaded_kinds = {kinds.get(t.stage) for t in p.threads}
            if {"order_book", "strategy"} <= threaded_kinds:
                b = next(t for t in p.threads if kinds.get(t.stage) == "order_book")
                self.diagnostics.append(error(
                    "HFT0641", f"pipeline `{p.name}` starts a thread on both the order book and the strategy",
                    b.span or p.span, label="book and strategy threaded",
                    help="the book always runs on the strategy's thread; keep one of the two"))
                continue
            bits, cpu0, cpu_by_bit = 0, -1, {}
            for t in p.threads:
                kind = kinds.get(t.stage, "")
                if kind == "feed_handler" or t.stage == p.stages[0]:
                    cpu0 = t.cpu
                    continue
                bit = _SPLIT.get(kind)
                if bit is None:
                    continue
                bits |= bit
                cpu_by_bit[bit] = t.cpu
            cpu = [cpu0] + [cpu_by_bit[b] for b in (1, 2, 4) if b in cpu_by_bit]
            cpu += [-1] * (4 - len(cpu))
            names = [n for b, n in _SPLIT_NAMES if bits & b]
            splits = " | ".join(f"trading::{n}" for n in names) if names else "trading::SPLIT_INLINE"
            pipelines.append(PipelineView(
                name=p.name, module=ident(snake(p.name)), description=" ".join(p.description.split()),
                stages=[(s, kinds[s]) for s in p.stages], strategy=sv, feed=feed, gateway=gw, risk=risk, grid=book,
                splits=splits, split_bits=bits, cpu=cpu, threads=[(t.stage, t.cpu) for t in p.threads],
                queue_capacity=p.queue_capacity, instruments=max(len(sv.instruments), 1)))
        if not pipelines:
            return None
        used_decimals = set()
        for f in feeds:
            for i in f.inputs:
                used_decimals |= {i.price_type, i.qty_type}
        for g in gateways.values():
            used_decimals |= {g.price_type, g.qty_type}
        decimals = []
        for t in ir.types:
            if t.kind == "decimal" and t.name in used_decimals:
                decimals.append((t.name, RUST_PRIMITIVES[t.encoding or "int64"]))
        sides = {i.side_map.enum for f in feeds for i in f.inputs} | {g.side_map.enum for g in gateways.values()}
        test = pipelines[0]
        return {
            "type_imports": sorted(sides | {name for name, _ in decimals}),
            "package": ir.package,
            "crate": ir.package_snake,
            "decimals": decimals,
            "grids": list(grids.values()),
            "default_grid": default_grid,
            "feeds": feeds,
            "gateways": list(gateways.values()),
            "risks": list(risks.values()),
            "strategies": list(strategies.values()),
            "pipelines": pipelines,
            "test": test,
            "t_delta": next((i for i in test.feed.inputs if i.role == "delta"), None),
            "t_snapshot": next((i for i in test.feed.inputs if i.role == "snapshot"), None),
            "t_trade": next((i for i in test.feed.inputs if i.role == "trade"), None),
        }
