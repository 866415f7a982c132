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

Roles, splits, CPUs and limits come from `hftc.passes.trading`, the analysis the C++ target
uses too, so that both languages send the same orders for the same input; its diagnostics are
reported by the passes. This module only gives them Rust names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hftc.backends.exprgen import outputs
from hftc.backends.rust.codegen import Generator
from hftc.backends.rust.naming import RUST_PRIMITIVES, camel, ident, snake, upper
from hftc.passes.trading import (
    GATEWAY_ROLES,
    SPLIT_BEFORE_BOOK,
    SPLIT_BEFORE_GATEWAY,
    SPLIT_BEFORE_RISK,
    BookGrid,
    Feed,
    FeedInput,
    GateLimits,
    Gateway,
    PipelinePlan,
    QuotingStrategy,
    SideRoles,
    analyse,
    is_integer,
    split_names,
    target_views,
)
from hftc.diagnostics.model import Diagnostic
from hftc.ir.expr import Type
from hftc.ir.model import Schema

_SPLIT_NAMES = {SPLIT_BEFORE_BOOK: "SPLIT_BEFORE_BOOK", SPLIT_BEFORE_RISK: "SPLIT_BEFORE_RISK",
                SPLIT_BEFORE_GATEWAY: "SPLIT_BEFORE_GATEWAY"}
# What a gateway writes into the field of each role: its own price/qty/side, or (expression, Rust
# type) of an integer of the order, cast when the field's type differs.
_GATEWAY_VALUE = {"price": "px", "qty": "qty", "side": "side"}
_ORDER_VALUE = {"client_order_id": ("o.client_order_id", "u64"), "instrument": ("venue_id", "u32"),
                "ts": ("o.ts_ns", "u64")}


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
    role: str  # delta | trade | snapshot | bbo | fill
    side: str  # accessor (on the message, or on the group entry for snapshots); "" for bbo
    side_set_raw: str  # encoder setter of the raw side (tests)
    side_map: SideMap | None
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
    symbol: str = ""  # accessor of the char field keying the feed's symbol table
    seq_expr: str = "0"  # the sequence number (u64), 0 when absent or null
    ts_expr: str = "0"  # the timestamp (u64), 0 when absent or null
    instrument_expr: str = ""  # Option<InstrumentId> of the venue id through `self.instruments`
    qty_int: bool = False  # an integer quantity (whole units)
    # bbo: (accessor, Rust type, is an integer) of each
    bid_price: str = ""
    bid_qty: str = ""
    ask_price: str = ""
    ask_qty: str = ""
    bbo_types: dict = field(default_factory=dict)  # accessor -> schema type
    bbo_int: set = field(default_factory=set)  # accessors of integer quantities
    # tests: schema-order (name, is the levels group, nested groups, entry var-data) and var-data
    groups: list = field(default_factory=list)
    data: list = field(default_factory=list)
    optional: set = field(default_factory=set)  # fields whose setters take Option


@dataclass(frozen=True)
class GridView(BookGrid):
    cls: str  # the grid type


@dataclass
class FeedView:
    name: str
    cls: str
    inputs: list[InputView]
    ignored: list[str]
    symbols: list[str]  # the `instruments` table, by instrument index
    symbols_const: str
    side_maps: list[SideMap]  # one per side enum of the inputs


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
    qty_int: bool  # an integer quantity (whole units)
    qty_rust: str  # its Rust type
    side_map: SideMap
    sets: list[str]  # setter calls, schema order
    groups: list[str]
    data: list[str]
    acc: dict[str, str]  # role -> decoder accessor
    acc_type: dict = field(default_factory=dict)  # role -> Rust type of the field
    uses_order: bool = False  # a setter reads the OrderRequest
    uses_venue: bool = False  # a setter writes the venue instrument id
    symbols: list = field(default_factory=list)  # symbol of each instrument index
    symbol_set: str = ""  # the symbol field's setter call, "" when none
    symbols_const: str = ""


@dataclass(frozen=True)
class RiskView(GateLimits):
    const: str  # the RiskLimits constant


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


def _suffixed(name: str, suffix: str) -> str:
    cls = camel(name)
    return cls if cls.lower().endswith(suffix.lower()) else cls + suffix


class ComponentsView:
    """Builds the view; `diagnostics` collects what the shared analysis reports, worded for Rust."""

    def __init__(self, ir: Schema, gen: Generator):
        self.ir = ir
        self.gen = gen
        self.diagnostics: list[Diagnostic] = []

    def side_map(self, sides: SideRoles) -> SideMap:
        t = sides.type
        variant = {v.name: n for (n, _), v in zip(self.gen.enum_variants(t), t.values)}
        used = {v.value for v in t.values} | {self.gen.t.type_null_int(t)}
        bits = t.size * 8
        unknown = next(i for i in range(1, 1 << min(bits, 16)) if i not in used)
        return SideMap(t.name, [variant[v.name] for v in sides.buy], [variant[v.name] for v in sides.sell],
                       RUST_PRIMITIVES[t.encoding or "uint8"], unknown)

    def input_view(self, fi: FeedInput) -> InputView:
        m, group, inst, seq, ts = fi.message, fi.group, fi.instrument, fi.seq, fi.ts

        def acc(f) -> str:
            return ident(f.name) if f is not None else ""

        view = InputView(
            name=m.name, handler=f"on_{snake(m.name)}", decoder=f"{m.name}Decoder", role=fi.role,
            side=acc(fi.side), side_set_raw=f"set_{fi.side.name}_raw" if fi.side else "",
            side_map=self.side_map(fi.sides) if fi.sides else None,
            price=acc(fi.price), qty=acc(fi.qty), price_type=fi.price.type if fi.price else "",
            qty_type=fi.qty.type if fi.qty else "", instrument=acc(inst), seq=acc(seq), ts=acc(ts),
            ts_cast=ts is not None and ts.type != "uint64", seq_cast=seq is not None and seq.type != "uint64",
            instrument_cast=inst is not None and inst.type not in ("uint8", "uint16", "uint32", "uint64"),
            group=acc(group), symbol=acc(fi.symbol), qty_int=is_integer(fi.qty),
            bid_price=acc(fi.bid_price), bid_qty=acc(fi.bid_qty), ask_price=acc(fi.ask_price),
            ask_qty=acc(fi.ask_qty))
        nullable = self.gen.t.nullable
        if seq is not None:
            view.seq_expr = f"m.{view.seq}().map_or(0, u64::from)" if nullable(seq) else \
                (f"u64::from(m.{view.seq}())" if view.seq_cast else f"m.{view.seq}()")
        if ts is not None:
            as_u64 = " as u64" if view.ts_cast else ""
            view.ts_expr = (f"m.{view.ts}().map_or(0, |t| t{as_u64})" if as_u64 else f"m.{view.ts}().unwrap_or(0)") \
                if nullable(ts) else f"m.{view.ts}(){as_u64}"
        if inst is not None:
            def venue(x: str) -> str:
                return f"{x} as u64" if view.instrument_cast else f"u64::from({x})"

            view.instrument_expr = f"m.{view.instrument}().and_then(|v| self.instruments.index_of({venue('v')}))" \
                if nullable(inst) else f"self.instruments.index_of({venue(f'm.{view.instrument}()')})"
        for f in (fi.bid_price, fi.bid_qty, fi.ask_price, fi.ask_qty):
            if f is not None:
                view.bbo_types[ident(f.name)] = f.type
                if is_integer(f):
                    view.bbo_int.add(ident(f.name))
        fields = m.fields if group is None else group.fields
        view.optional = {f.name for f in [*m.fields, *fields] if self.gen.t.nullable(f)}
        if group is not None:
            view.groups = [(g.name, g is group, [n.name for n in g.groups] if g is group else [],
                            [d.name for d in g.data] if g is group else []) for g in m.groups]
            view.data = [d.name for d in m.data]
        return view

    def feed(self, feed: Feed) -> FeedView:
        name = feed.component.name
        inputs = [self.input_view(fi) for fi in feed.inputs]
        side_maps = list({i.side_map.enum: i.side_map for i in inputs if i.side_map is not None}.values())
        return FeedView(name, _suffixed(name, "Handler"), inputs, list(feed.ignored), list(feed.symbols),
                        upper(name) + "_SYMBOLS", side_maps)

    def gateway(self, g: Gateway) -> GatewayView:
        m = g.message
        sets, acc, acc_type = [], dict.fromkeys(GATEWAY_ROLES, ""), dict.fromkeys(GATEWAY_ROLES, "")
        symbol_set = ""
        for f, role in g.fields:
            if role is None:
                continue  # zero, or null when optional: the encoder's initial block
            want = self.gen.t.rust(f.type)
            acc[role] = ident(f.name)
            acc_type[role] = want
            if role == "symbol":  # a fallible setter: written after the chain
                symbol_set = f"set_{f.name}(Self::symbol_of(o.instrument))"
                continue
            if role in _ORDER_VALUE:
                expr, rt = _ORDER_VALUE[role]
                value = expr if want == rt else f"{expr} as {want}"
            else:
                value = _GATEWAY_VALUE[role]
            if self.gen.t.nullable(f):
                value = f"Some({value})"
            sets.append(f"set_{f.name}({value})")
        return GatewayView(
            name=g.component.name, cls=_suffixed(g.component.name, "Gateway"), message=m.name,
            encoder=f"{m.name}Encoder", decoder=f"{m.name}Decoder", max_length=g.max_length,
            price_type=g.price.type, qty_type=g.qty.type, qty_int=is_integer(g.qty), qty_rust=self.gen.t.rust(g.qty.type),
            side_map=self.side_map(g.sides),
            sets=sets,
            groups=[x.name for x in m.groups], data=[d.name for d in m.data], acc=acc, acc_type=acc_type,
            uses_order=any("o." in x for x in [*sets, symbol_set]), uses_venue=any("venue_id" in x for x in sets),
            symbols=list(g.symbols), symbol_set=symbol_set, symbols_const="SYMBOLS")

    @staticmethod
    def grid(grid: BookGrid) -> GridView:
        return GridView(**vars(grid), cls=camel(grid.name) + "Grid")

    @staticmethod
    def risk(limits: GateLimits) -> RiskView:
        name = limits.name
        return RiskView(**vars(limits), const=upper(name) + ("" if name.lower().endswith("limits") else "_LIMITS"))

    @staticmethod
    def strategy(s: QuotingStrategy, grid: GridView) -> StrategyView:
        from hftc.backends.exprgen import emit_rust

        types = dict(outputs(s.checked))
        return StrategyView(
            name=s.name, module=ident(snake(s.name)), rules=emit_rust(s.checked, module="rules"), grid=grid,
            instruments=list(s.instruments), has_bid=s.has_bid, has_ask=s.has_ask, has_when=s.has_when,
            bid_qty_int=types.get("quote_bid_qty") is Type.INT, ask_qty_int=types.get("quote_ask_qty") is Type.INT)

    @staticmethod
    def pipeline(plan: PipelinePlan, *, strategy: StrategyView, feed: FeedView, gateway: GatewayView,
                 risk: RiskView, grid: GridView) -> PipelineView:
        p = plan.pipeline
        names = split_names(plan.split_bits, _SPLIT_NAMES)
        return PipelineView(
            name=p.name, module=ident(snake(p.name)), description=" ".join(p.description.split()),
            stages=list(plan.stages), strategy=strategy, feed=feed, gateway=gateway, risk=risk, grid=grid,
            splits=" | ".join(f"trading::{n}" for n in names) if names else "trading::SPLIT_INLINE",
            split_bits=plan.split_bits, cpu=list(plan.cpu), threads=[(t.stage, t.cpu) for t in p.threads],
            queue_capacity=p.queue_capacity, instruments=plan.instruments)

    def build(self) -> dict | None:
        ir = self.ir
        model, _diags = analyse(ir)  # the `components` pass reported these
        if model is None:
            return None
        views = target_views(model, grid=self.grid, feed=self.feed, gateway=self.gateway, risk=self.risk,
                             strategy=self.strategy, pipeline=self.pipeline)
        feeds, gateways = views["feeds"], views["gateways"]
        used_decimals = set()
        for f in feeds:
            for i in f.inputs:
                used_decimals |= {i.price_type, i.qty_type, *i.bbo_types.values()}
        for g in gateways:
            used_decimals |= {g.price_type, g.qty_type}
        decimals = []
        for t in ir.types:
            if t.kind == "decimal" and t.name in used_decimals:
                decimals.append((t.name, RUST_PRIMITIVES[t.encoding or "int64"]))
        sides = {i.side_map.enum for f in feeds for i in f.inputs if i.side_map} | {g.side_map.enum for g in gateways}
        integer_qty = any(i.qty_int or i.bbo_int for f in feeds for i in f.inputs) or any(g.qty_int for g in gateways)
        return {
            "integer_qty": integer_qty,
            "type_imports": sorted(sides | {name for name, _ in decimals}),
            "package": ir.package,
            "crate": ir.package_snake,
            "decimals": decimals,
            **views,
        }
