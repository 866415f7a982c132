"""View model of the trading components for `--target cpp`.

A schema with `components` and `pipelines` also gets, over the header-only `hft::trading` runtime:

- `include/<pkg>/strategies/<name>.hpp`: each strategy with inline rules (emitted by exprgen) and
  an adapter satisfying `hft::trading::Strategy`;
- `include/<pkg>/components.hpp`: the feed handlers (dispatcher handlers producing
  `hft::trading::MarketMsg`), the order gateways (`OrderRequest` -> the output message) and the
  risk limits;
- `include/<pkg>/pipeline_<name>.hpp`: the `hft::trading::Pipeline` of each pipeline;
- `tests/components_test.cpp`: codecs -> feed handler -> pipeline -> gateway, inline and threaded.

What is generated (feed message roles, gateway field roles, grids, limits, splits, CPUs) comes
from `hftc.passes.trading`, shared with the Rust target, whose diagnostics the passes report;
this module only gives them C++ names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hftc.backends.cpp.view import cpp_type, ident, member, pascal, snake
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
from hftc.ir.model import Schema

_SPLIT_NAMES = {SPLIT_BEFORE_BOOK: "kSplitBeforeBook", SPLIT_BEFORE_RISK: "kSplitBeforeRisk",
                SPLIT_BEFORE_GATEWAY: "kSplitBeforeGateway"}
# What a gateway writes into the field of each role (from the price/qty/side it computed, or the order).
_GATEWAY_VALUE = {"price": "px", "qty": "qty", "side": "side", "client_order_id": "o.client_order_id",
                  "instrument": "venue_id(o.instrument)", "ts": "o.ts_ns", "symbol": "symbol_of(o.instrument)"}
_CAST_ROLES = ("client_order_id", "instrument", "ts")  # integers of the order, cast to the field's type


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
    role: str  # delta | trade | snapshot | bbo | fill
    side: str  # accessor (on the message, or on the group entry for snapshots); "" for bbo
    side_map: SideMap | None
    price: str
    qty: str
    instrument: str  # "" = none
    seq: str
    ts: str
    group: str  # snapshot: the group accessor
    price_type: str = ""
    qty_type: str = ""
    symbol: str = ""  # accessor of the char field keying the feed's symbol table
    seq_expr: str = "0"  # the sequence number, 0 when absent or null
    ts_expr: str = "0"  # the timestamp (std::uint64_t), 0 when absent or null
    instrument_null: str = ""  # "m.has_<instrument>()" when the field is optional
    bid_price: str = ""  # bbo accessors and types
    bid_qty: str = ""
    ask_price: str = ""
    ask_qty: str = ""
    bid_price_type: str = ""
    bid_qty_type: str = ""
    ask_price_type: str = ""
    ask_qty_type: str = ""
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
    symbols: list[str]  # the `instruments` table, by instrument index
    symbols_const: str  # its C++ constant
    side_maps: list[SideMap]  # one per side enum of the inputs


@dataclass(frozen=True)
class GridView(BookGrid):
    cls: str  # the grid struct


@dataclass
class GatewayView:
    name: str
    cls: str
    message: str
    snake: str
    max_length: int
    price_type: str
    qty_type: str
    qty_int: bool  # an integer quantity (whole units)
    side_map: SideMap
    calls: list[str]  # chained setter calls, schema order
    groups: list[str]  # top-level groups written empty
    data: list[str]  # var-data written empty
    roles: list[tuple[str, str]]  # (role, field accessor)
    acc: dict[str, str]  # role -> field accessor ("" = the message has no field for it)
    symbols: list[str]  # symbol of each instrument index, written into the symbol field


@dataclass(frozen=True)
class RiskView(GateLimits):
    const: str  # the hft::trading::RiskLimits constant


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


def split_exprgen_header(text: str) -> tuple[list[str], str, str]:
    """exprgen's C++ header as (leading comment lines, #include lines, the code from `namespace` on).

    The generated strategy headers and the backtest shim both wrap exprgen's code in their own file.
    """
    head, sep, body = text.partition("#pragma once\n")
    if not sep:
        head, body = "", text
    preamble = [line[3:] if line.startswith("// ") else line.lstrip("/") for line in head.splitlines()
                if line.startswith("//") and "Do not edit" not in line]
    includes, sep, rest = body.partition("\nnamespace ")
    if not sep:
        includes, rest = "", body
    return preamble, includes.strip("\n"), (sep.lstrip("\n") + rest).strip("\n")


def _side_map(sides: SideRoles) -> SideMap:
    return SideMap(sides.type.name, [ident(v.name) for v in sides.buy], [ident(v.name) for v in sides.sell])


def _suffixed(name: str, suffix: str) -> str:
    p = pascal(name)
    return p if p.lower().endswith(suffix.lower()) else p + suffix


def _acc(f) -> str:
    return member(f.name) if f is not None else ""


def _or_zero(f, value: str) -> str:
    """`value`, or 0 when optional field `f` holds its null."""
    return f"(m.has_{member(f.name)}() ? {value} : 0)" if f.optional else value


def _input(fi: FeedInput, view: dict) -> InputView:
    m, group = fi.message, fi.group
    mv = next(x for x in view["messages"] if x.name == m.name)
    fviews = mv.fields if group is None else next(x.fields for x in mv.groups if x.name == member(group.name))
    side_view = next((f for f in fviews if fi.side is not None and f.schema_name == fi.side.name), None)
    iv = InputView(
        name=m.name, snake=snake(m.name), role=fi.role, side=_acc(fi.side),
        side_map=_side_map(fi.sides) if fi.sides else None, price=_acc(fi.price), qty=_acc(fi.qty),
        instrument=_acc(fi.instrument), seq=_acc(fi.seq), ts=_acc(fi.ts), group=_acc(group),
        price_type=cpp_type(fi.price.type) if fi.price else "", qty_type=cpp_type(fi.qty.type) if fi.qty else "",
        side_unknown_raw=side_view.unknown_raw if side_view else "", side_raw_type=side_view.raw if side_view else "",
        symbol=_acc(fi.symbol), bid_price=_acc(fi.bid_price), bid_qty=_acc(fi.bid_qty), ask_price=_acc(fi.ask_price),
        ask_qty=_acc(fi.ask_qty), bid_price_type=cpp_type(fi.bid_price.type) if fi.bid_price else "",
        bid_qty_type=cpp_type(fi.bid_qty.type) if fi.bid_qty else "",
        ask_price_type=cpp_type(fi.ask_price.type) if fi.ask_price else "",
        ask_qty_type=cpp_type(fi.ask_qty.type) if fi.ask_qty else "")
    if fi.seq is not None:
        iv.seq_expr = _or_zero(fi.seq, f"m.{iv.seq}()")
    if fi.ts is not None:
        iv.ts_expr = _or_zero(fi.ts, f"static_cast<std::uint64_t>(m.{iv.ts}())")
    if fi.instrument is not None and fi.instrument.optional:
        iv.instrument_null = f"m.has_{iv.instrument}()"
    if group is not None:
        iv.groups = [(member(g.name), g is group, [member(n.name) for n in g.groups] if g is group else [],
                      [member(d.name) for d in g.data] if g is group else []) for g in m.groups]
        iv.data = [member(d.name) for d in m.data]
    return iv


def _feed(feed: Feed, view: dict) -> FeedView:
    inputs = [_input(fi, view) for fi in feed.inputs]
    side_maps = list({i.side_map.enum: i.side_map for i in inputs if i.side_map is not None}.values())
    return FeedView(feed.component.name, _suffixed(feed.component.name, "Handler"), inputs, list(feed.ignored),
                    list(feed.symbols), "k" + pascal(feed.component.name) + "Symbols", side_maps)


def _gateway(g: Gateway, view: dict) -> GatewayView:
    m = g.message
    mv = next(x for x in view["messages"] if x.name == m.name)
    by_name = {f.schema_name: f for f in mv.fields}
    calls, roles = [], []
    for f, role in g.fields:
        fv = by_name[f.name]
        if role is not None:
            roles.append((role, fv.name))
            v = _GATEWAY_VALUE[role]
            if role in _CAST_ROLES:
                v = f"static_cast<{fv.param}>({v})"
            calls.append(f"{fv.name}({v})")
        elif f.optional and fv.kind in ("primitive", "decimal"):
            calls.append(f"{fv.name}({fv.null})")
        elif f.optional and fv.kind == "enum":
            calls.append(f"{fv.name}_raw({fv.raw_null})")
    return GatewayView(
        name=g.component.name, cls=_suffixed(g.component.name, "Gateway"), message=m.name, snake=snake(m.name),
        max_length=g.max_length, price_type=g.price.type, qty_type=cpp_type(g.qty.type), qty_int=is_integer(g.qty),
        side_map=_side_map(g.sides),
        calls=calls, groups=[member(x.name) for x in m.groups], data=[member(d.name) for d in m.data], roles=roles,
        acc={**dict.fromkeys(GATEWAY_ROLES, ""), **dict(roles)}, symbols=list(g.symbols))


def _grid(grid: BookGrid) -> GridView:
    return GridView(**vars(grid), cls=pascal(grid.name) + "Grid")


def _risk(limits: GateLimits) -> RiskView:
    name = limits.name
    return RiskView(**vars(limits), const="k" + pascal(name) + ("" if name.lower().endswith("limits") else "Limits"))


def _strategy(s: QuotingStrategy, grid: GridView, ns: str) -> StrategyView:
    from hftc.backends.exprgen import emit_cpp

    sns = f"{ns}::strategies::{ident(s.name)}"
    preamble, includes, code = split_exprgen_header(emit_cpp(s.checked, namespace=sns))
    return StrategyView(name=s.name, ns=sns, includes=includes, code=code, preamble=preamble, grid=grid,
                        instruments=list(s.instruments), has_bid=s.has_bid, has_ask=s.has_ask, has_when=s.has_when)


def _pipeline(plan: PipelinePlan, *, strategy: StrategyView, feed: FeedView, gateway: GatewayView, risk: RiskView,
              grid: GridView) -> PipelineView:
    p = plan.pipeline
    names = split_names(plan.split_bits, _SPLIT_NAMES)
    return PipelineView(
        name=p.name, ident=ident(p.name), description=" ".join(p.description.split()), stages=list(plan.stages),
        strategy=strategy, feed=feed, gateway=gateway, risk=risk, grid=grid,
        splits=" | ".join(f"hft::trading::{n}" for n in names) if names else "hft::trading::kInline",
        split_bits=plan.split_bits, cpu=list(plan.cpu), threads=[(t.stage, t.cpu) for t in p.threads],
        queue_capacity=p.queue_capacity, instruments=plan.instruments)


def component_messages(ir: Schema) -> set[str]:
    """Names of the messages the components view reads (feed inputs, gateway orders): the view
    `build_components` needs, so a check need not build a view of every message."""
    model, _diags = analyse(ir)
    if model is None:
        return set()
    return {fi.message.name for f in model.feeds for fi in f.inputs} | {g.message.name for g in model.gateways}


def build_components(ir: Schema, view: dict) -> tuple[dict | None, list[Diagnostic]]:
    """The components view, or None when the schema has no pipeline to generate."""
    model, _diags = analyse(ir)  # the `components` pass reported these
    if model is None:
        return None, []
    ns = view["ns"]
    views = target_views(model, grid=_grid, feed=lambda f: _feed(f, view), gateway=lambda g: _gateway(g, view),
                         risk=_risk, strategy=lambda s, grid: _strategy(s, grid, ns), pipeline=_pipeline)
    integer_qty = any(is_integer(f) for feed in model.feeds for fi in feed.inputs for f in fi.qty_fields) or \
        any(is_integer(g.qty) for g in model.gateways)
    return {"ns": ns, "pkg": view["pkg"], "package": view["package"], "integer_qty": integer_qty, **views}, []
