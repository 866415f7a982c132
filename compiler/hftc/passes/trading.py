"""What the C++ and Rust targets generate for a schema's trading components, decided once for both.

Both targets must send the same orders for the same input, byte for byte. So everything that is
not a matter of language is analysed here: each feed input's role and fields, which order field
each field of a gateway's message carries, the book grids, the risk limits in the gate's units,
the strategies with inline quote rules, and each pipeline's thread splits and CPUs. A backend
names and renders this model; it decides nothing about it.

Roles and their fields come from the roles pass (hftc.passes.roles), which declared `role:`s and
the naming conventions both feed. The `components` pass runs `analyse` so that `hftc lint` reports
its diagnostics (HFT0641, HFT0643-HFT0645) exactly as `hftc build` would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from hftc.diagnostics.model import Diagnostic, error, warning
from hftc.ir.expr import CheckedStrategy
from hftc.ir.model import (
    PRIMITIVES,
    Component,
    EnumValue,
    Field,
    Group,
    Message,
    Pipeline,
    Schema,
    TypeDef,
)
from hftc.ir.roles import BUY_NAMES, SELL_NAMES

_STAGE_KINDS = ("feed_handler", "order_book", "strategy", "risk_gate", "order_gateway")

#: Thread split bits of the runtimes' pipelines (`split_before` in both): a thread starts before
#: the book (and the strategy, which always shares the book's thread), the risk gate, the gateway.
SPLIT_BEFORE_BOOK = 1
SPLIT_BEFORE_RISK = 2
SPLIT_BEFORE_GATEWAY = 4
SPLIT_BITS = (SPLIT_BEFORE_BOOK, SPLIT_BEFORE_RISK, SPLIT_BEFORE_GATEWAY)
_SPLIT_OF_KIND = {"order_book": SPLIT_BEFORE_BOOK, "strategy": SPLIT_BEFORE_BOOK, "risk_gate": SPLIT_BEFORE_RISK,
                  "order_gateway": SPLIT_BEFORE_GATEWAY}

#: Roles of an order gateway's fields, in the order they claim a field.
GATEWAY_ROLES = ("price", "qty", "side", "client_order_id", "instrument", "ts", "symbol")


@dataclass(frozen=True)
class Wording:
    """How a target speaks of what it generates, in the diagnostics it reports."""

    handler: str  # "the generated <handler> ignores it"
    pipeline: str  # "no <pipeline> is generated"
    runtime_pipeline: str  # the runtime type to wire stages by hand


#: How the `components` pass words the diagnostics: they hold for both targets.
NEUTRAL = Wording(handler="handlers", pipeline="C++ or Rust pipeline",
                  runtime_pipeline="hft::trading::Pipeline or runtime_rust::trading::Pipeline")


@dataclass(frozen=True)
class SideRoles:
    """An enum type and which of its values mean buy (bid) and sell (ask), in schema order."""

    type: TypeDef
    buy: tuple[EnumValue, ...]
    sell: tuple[EnumValue, ...]


#: The model's name of each feed role (the runtimes' message kinds).
_MODEL_ROLE = {"depth_update": "delta", "trade": "trade", "snapshot": "snapshot", "bbo": "bbo",
               "execution_report": "fill"}


@dataclass(frozen=True)
class FeedInput:
    """A feed input message and the fields carrying its market data role."""

    message: Message
    role: str  # delta | trade | snapshot | bbo | fill
    side: Field | None  # on the message, or on the levels group's entry for a snapshot; None for bbo
    sides: SideRoles | None
    price: Field | None  # None for bbo
    qty: Field | None
    instrument: Field | None  # unsigned integer
    seq: Field | None  # unsigned integer
    ts: Field | None  # the first integer field with unit `ns`
    group: Group | None  # snapshot: the levels group
    symbol: Field | None = None  # char array keying the feed's `instruments`, when no `instrument`
    bid_price: Field | None = None  # bbo
    bid_qty: Field | None = None
    ask_price: Field | None = None
    ask_qty: Field | None = None

    @property
    def qty_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in (self.qty, self.bid_qty, self.ask_qty) if f is not None)

    @property
    def price_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in (self.price, self.bid_price, self.ask_price) if f is not None)


@dataclass(frozen=True)
class Feed:
    component: Component
    inputs: tuple[FeedInput, ...]
    ignored: tuple[str, ...]  # input messages fitting no role
    symbols: tuple[str, ...] = ()  # the `instruments` table: symbol of each instrument index


@dataclass(frozen=True)
class Gateway:
    """An order gateway's output message and the order field each of its fields carries."""

    component: Component
    message: Message
    price: Field
    qty: Field
    side: Field
    sides: SideRoles
    fields: tuple[tuple[Field, str | None], ...]  # every top-level field, schema order, with its role
    max_length: int  # bytes of an encoded order: header, block, empty groups and var-data
    symbols: tuple[str, ...] = ()  # the symbol of each instrument, written into the `symbol` field


@dataclass(frozen=True)
class BookGrid:
    """An order book's integer grid: prices count ticks, quantities lots."""

    name: str
    tick: str  # exact decimal text
    lot: str
    tick_num: int
    tick_den: int
    lot_num: int
    lot_den: int
    depth: int


@dataclass(frozen=True)
class GateLimits:
    """A risk gate's limits in the units the gate takes: lots, whole bps, tick*lot notional."""

    name: str
    max_position: int
    max_order_qty: int
    max_orders_per_second: int
    price_band_bps: int
    max_notional: int
    kill_switch: bool
    notes: tuple[str, ...]  # what the conversion did, for a comment beside the limits
    max_open_notional: int  # tick*lot, 0 = none
    max_open_orders: int


@dataclass(frozen=True)
class QuotingStrategy:
    """A strategy with inline quote rules, and the book it runs on (one per generated strategy)."""

    name: str
    checked: CheckedStrategy
    grid: BookGrid
    instruments: tuple[str, ...]  # the strategy's, or its own name when it declares none
    has_bid: bool
    has_ask: bool
    has_when: bool


@dataclass(frozen=True)
class PipelinePlan:
    """A pipeline both targets generate: its stages' models, splits and CPUs."""

    pipeline: Pipeline
    stages: tuple[tuple[str, str], ...]  # (stage, component kind)
    feed: Feed
    grid: BookGrid
    strategy: QuotingStrategy
    risk: GateLimits
    gateway: Gateway
    split_bits: int  # SPLIT_BEFORE_* bits
    cpu: tuple[int, ...]  # 4 entries: the feed thread, then one per split in bit order; -1 unpinned
    instruments: int


@dataclass(frozen=True)
class TradingModel:
    """The trading components of a schema with at least one pipeline to generate."""

    grids: tuple[BookGrid, ...]  # one per order book, schema order
    feeds: tuple[Feed, ...]
    gateways: tuple[Gateway, ...]  # those whose message can carry an order
    risks: tuple[GateLimits, ...]
    strategies: tuple[QuotingStrategy, ...]
    pipelines: tuple[PipelinePlan, ...]

    @property
    def default_grid(self) -> BookGrid | None:
        """The first book's grid: the unit of every risk gate's notional."""
        return self.grids[0] if self.grids else None


def split_names(bits: int, names: dict[int, str]) -> list[str]:
    """The target's names of the split bits set in `bits`, in bit order."""
    return [names[b] for b in SPLIT_BITS if bits & b]


def is_integer(f: Field | None) -> bool:
    """An integer primitive (not char, not float): quantities counted in whole units, ids, times."""
    return f is not None and f.kind == "primitive" and f.type in PRIMITIVES and \
        not PRIMITIVES[f.type].is_float and f.type != "char"


def side_roles(ir: Schema, f: Field | None) -> SideRoles | None:
    """The buy and sell values of enum field `f`, or None when it is no such enum."""
    if f is None or f.kind != "enum":
        return None
    t = ir.type_named(f.type)
    if t is None:
        return None
    buy = tuple(v for v in t.values if v.name.lower() in BUY_NAMES)
    sell = tuple(v for v in t.values if v.name.lower() in SELL_NAMES)
    if not buy or not sell:
        return None
    return SideRoles(t, buy, sell)


def _named(fields, name: str | None) -> Field | None:
    return next((f for f in fields if f.name == name), None) if name else None


def feed_input(ir: Schema, m: Message) -> FeedInput | None:
    """The market data role of `m` as the roles pass resolved it, or None."""
    role = _MODEL_ROLE.get(m.role or "")
    if role is None or not m.field_roles:
        return None
    group = next((g for g in m.groups if g.name == m.field_for("levels")), None)
    level_fields = group.fields if group is not None else m.fields

    def top(r: str) -> Field | None:
        return _named(m.fields, m.field_for(r))

    side = _named(level_fields, m.field_for("side"))
    inst = top("instrument")
    return FeedInput(m, role, side, side_roles(ir, side), _named(level_fields, m.field_for("price")),
                     _named(level_fields, m.field_for("qty")), inst, top("seq"), top("ts"), group,
                     symbol=top("symbol") if inst is None else None, bid_price=top("bid_price"),
                     bid_qty=top("bid_qty"), ask_price=top("ask_price"), ask_qty=top("ask_qty"))


def _feed(ir: Schema, c: Component) -> Feed:
    inputs, ignored = [], []
    for name in c.inputs:
        m = ir.message_named(name)
        if m is None:
            continue
        fi = feed_input(ir, m)
        if fi is None:
            ignored.append(name)  # the roles pass reported it (HFT0640, or the declaration's errors)
        else:
            inputs.append(fi)
    return Feed(c, tuple(inputs), tuple(ignored), c.instruments)


def _symbols_of_gateways(ir: Schema) -> dict[str, tuple[str, ...]]:
    """The symbol table of the feed handler each gateway shares a pipeline with (the first one)."""
    out: dict[str, tuple[str, ...]] = {}
    for p in ir.pipelines:
        comps = [c for c in (ir.component_named(s) for s in p.stages) if c is not None]
        feed = next((c for c in comps if c.kind == "feed_handler" and c.instruments), None)
        for c in comps:
            if feed is not None and c.kind == "order_gateway":
                out.setdefault(c.name, feed.instruments)
    return out


def _gateway(ir: Schema, c: Component, symbols: tuple[str, ...]) -> Gateway | None:
    m = ir.message_named(c.output or "")
    if m is None or m.role != "new_order" or not m.field_roles:
        return None  # the roles pass reported why (HFT0642, HFT0646-HFT0649)
    price, qty, side = (_named(m.fields, m.field_for(r)) for r in ("price", "qty", "side"))
    sides = side_roles(ir, side)
    if price is None or qty is None or sides is None:
        return None
    # Without a symbol table the `symbol` field is left empty, like any field without a role; so
    # are the order-entry roles the gateway does not fill from an order (tif, flags, order_type,
    # seq): zero, or null when optional, as the message's initial block.
    role_of = {f: r for r, f in m.field_roles if r in GATEWAY_ROLES and (r != "symbol" or symbols)}
    w = ir.wire
    max_length = w.header_size + m.block_length + w.group_header_size * len(m.groups) + \
        w.var_length_size * len(m.data)
    return Gateway(c, m, price, qty, side, sides, tuple((f, role_of.get(f.name)) for f in m.fields), max_length,
                   symbols if "symbol" in role_of.values() else ())


def _grid(c: Component) -> BookGrid:
    tick = Fraction(c.tick) if c.tick else Fraction(1)
    lot = Fraction(c.lot) if c.lot else Fraction(1)
    return BookGrid(c.name, c.tick or "1", c.lot or "1", tick.numerator, tick.denominator, lot.numerator,
                    lot.denominator, c.depth or 64)


def gate_limits(c: Component, grid: BookGrid | None) -> GateLimits:
    """The limits of risk gate `c`; the notionals become tick*lot units of `grid` (rounded down, never
    looser; at least 1, since 0 means "no limit" to the gate)."""
    lim = c.limits
    assert lim is not None
    notes = []
    band = int(lim.price_band_bps)
    if band != lim.price_band_bps:
        notes.append(f"price_band_bps {lim.price_band_bps} rounded down to {band} (the gate takes whole bps)")
    tick = Fraction(grid.tick) if grid else Fraction(1)
    lot = Fraction(grid.lot) if grid else Fraction(1)

    def units(key: str, value: float | None) -> int:
        if not value:
            return 0
        notes.append(f"{key} {value} in tick*lot units of book `{grid.name if grid else '-'}`")
        return max(1, min(int(Fraction(str(value)) / (tick * lot)), (1 << 63) - 1))

    notional = units("max_notional", lim.max_notional)
    open_notional = units("max_open_notional", lim.max_open_notional)
    return GateLimits(c.name, lim.max_position, lim.max_order_qty, lim.max_orders_per_second, band, notional,
                      lim.kill_switch, tuple(notes), open_notional, lim.max_open_orders)


def _quoting_strategy(ir: Schema, name: str, grid: BookGrid) -> QuotingStrategy | None:
    s = ir.strategy_named(name)
    checked = s.checked() if s is not None else None
    if checked is None:
        return None
    rules = {r.ident for r in checked.rules}
    has_bid = {"quote_bid_price", "quote_bid_qty"} <= rules
    has_ask = {"quote_ask_price", "quote_ask_qty"} <= rules
    if not (has_bid or has_ask):
        return None
    return QuotingStrategy(name, checked, grid, tuple(checked.instruments) or (name,), has_bid, has_ask,
                           "when" in rules)


def _inexact(ir: Schema, g: Gateway, grid: BookGrid) -> str:
    """Why the gateway's decimals cannot hold every tick/lot multiple exactly, or ""."""
    for what, tname, step in (("price", g.price.type, grid.tick), ("qty", g.qty.type, grid.lot)):
        t = ir.type_named(tname)
        if t is None and tname not in PRIMITIVES:
            continue
        unit = Fraction(10) ** (t.exponent if t is not None else 0)  # an integer counts whole units
        if (Fraction(step) / unit).denominator != 1:
            return (f"`{tname}` (10^{t.exponent}) cannot represent a {what} step of {step} of book `{grid.name}` "
                    f"exactly")
    return ""


def _splits_and_cpus(p: Pipeline, kinds: dict[str, str]) -> tuple[int, tuple[int, ...]]:
    """The split bits of `p`'s threads and the CPU of each thread (feed first, then by bit)."""
    bits, cpu0, cpu_by_bit = 0, -1, {}
    for t in p.threads:
        kind = kinds.get(t.stage, "")
        if kind == "feed_handler" or t.stage == p.stages[0]:
            cpu0 = t.cpu
            continue
        bit = _SPLIT_OF_KIND.get(kind)
        if bit is None:
            continue
        bits |= bit
        cpu_by_bit[bit] = t.cpu
    cpu = [cpu0] + [cpu_by_bit[b] for b in SPLIT_BITS if b in cpu_by_bit]
    return bits, tuple(cpu + [-1] * (4 - len(cpu)))


def analyse(ir: Schema, wording: Wording = NEUTRAL) -> tuple[TradingModel | None, list[Diagnostic]]:
    """The trading model of `ir`, or None when it has no pipeline to generate; and the diagnostics."""
    diags: list[Diagnostic] = []
    if not ir.components:
        return None, diags
    books = [c for c in ir.components if c.kind == "order_book"]
    grids = {c.name: _grid(c) for c in books}
    default_grid = grids[books[0].name] if books else None
    feeds = {c.name: _feed(ir, c) for c in ir.components if c.kind == "feed_handler"}
    gateways = {}
    symbols = _symbols_of_gateways(ir)
    for c in ir.components:
        if c.kind == "order_gateway":
            g = _gateway(ir, c, symbols.get(c.name, ()))
            if g is not None:
                gateways[c.name] = g
    risks = {c.name: gate_limits(c, default_grid) for c in ir.components if c.kind == "risk_gate" and c.limits}
    strategies: dict[str, QuotingStrategy] = {}
    pipelines: list[PipelinePlan] = []
    for p in ir.pipelines:
        by_kind: dict[str, Component] = {}
        for s in p.stages:
            c = ir.component_named(s)
            if c is not None:
                by_kind.setdefault(c.kind, c)
        need = [k for k in _STAGE_KINDS if k not in by_kind]
        if need:
            diags.append(warning("HFT0643", f"pipeline `{p.name}` has no {', '.join(need)} stage; no "
                                            f"{wording.pipeline} is generated for it", p.span,
                                 label="incomplete pipeline"))
            continue
        grid = grids[by_kind["order_book"].name]
        sname = by_kind["strategy"].strategy or ""
        if sname in strategies and strategies[sname].grid.name != grid.name:
            diags.append(warning("HFT0643", f"strategy `{sname}` already runs on book `{strategies[sname].grid.name}`; "
                                            f"no {wording.pipeline} is generated for `{p.name}` on book `{grid.name}`",
                                 p.span, label="one book per generated strategy"))
            continue
        if sname not in strategies:
            qs = _quoting_strategy(ir, sname, grid)
            written = next((s for s in ir.strategies if s.name == sname), None)
            if qs is None and written is not None and written.program is None and written.quote_bid_price is not None:
                continue  # it has quote rules that failed to type-check: those errors say it all
            if qs is None:
                diags.append(warning("HFT0645", f"strategy `{sname}` of pipeline `{p.name}` has no inline quote "
                                                f"rules; no {wording.pipeline} is generated for it",
                                     by_kind["strategy"].strategy_span or p.span, label="no quote.bid/quote.ask",
                                     help="write `quote.bid`/`quote.ask` rules, or plug a hand-written strategy "
                                          f"into {wording.runtime_pipeline}"))
                continue
            strategies[sname] = qs
        strategy = strategies[sname]
        gateway = gateways.get(by_kind["order_gateway"].name)
        risk = risks.get(by_kind["risk_gate"].name)
        if gateway is None or risk is None:
            continue
        feed = feeds[by_kind["feed_handler"].name]
        if feed.symbols and len(strategy.instruments) > len(feed.symbols):
            diags.append(error("HFT0650", f"strategy `{sname}` trades {len(strategy.instruments)} instruments but "
                                          f"feed handler `{feed.component.name}` lists {len(feed.symbols)} "
                                          f"symbol{'s' if len(feed.symbols) != 1 else ''}",
                               feed.component.instruments_span or p.span, label="instruments without a symbol",
                               help="list one symbol per instrument of the strategy, in the same order"))
            continue
        declared = tuple(strategy.checked.instruments)
        if feed.symbols and declared and declared != feed.symbols[:len(declared)]:
            diags.append(warning("HFT0650", f"strategy `{sname}` trades {', '.join(declared)} but feed handler "
                                            f"`{feed.component.name}` lists {', '.join(feed.symbols)}: instrument i "
                                            "is the feed's i-th symbol", feed.component.instruments_span or p.span,
                                 label="another order", help="list the strategy's instruments first, in its order"))
        inexact = _inexact(ir, gateway, grid)
        if inexact:
            diags.append(error("HFT0644", inexact, by_kind["order_gateway"].span or p.span,
                               label="inexact price or quantity"))
            continue
        kinds = {s: (ir.component_named(s).kind if ir.component_named(s) else "") for s in p.stages}
        if {"order_book", "strategy"} <= {kinds.get(t.stage) for t in p.threads}:
            b = next(t for t in p.threads if kinds.get(t.stage) == "order_book")
            diags.append(error("HFT0641", f"pipeline `{p.name}` starts a thread on both the order book and the "
                                          "strategy", b.span or p.span, label="book and strategy threaded",
                               help="the book always runs on the strategy's thread; keep one of the two"))
            continue
        bits, cpu = _splits_and_cpus(p, kinds)
        pipelines.append(PipelinePlan(
            pipeline=p, stages=tuple((s, kinds[s]) for s in p.stages), feed=feeds[by_kind["feed_handler"].name],
            grid=grid, strategy=strategy, risk=risk, gateway=gateway, split_bits=bits, cpu=cpu,
            instruments=max(len(strategy.instruments), len(feeds[by_kind["feed_handler"].name].symbols), 1)))
    if not pipelines:
        return None, diags
    return TradingModel(tuple(grids.values()), tuple(feeds.values()), tuple(gateways.values()),
                        tuple(risks.values()), tuple(strategies.values()), tuple(pipelines)), diags


def target_views(
    model: TradingModel,
    *,
    grid: Callable[[BookGrid], Any],
    feed: Callable[[Feed], Any],
    gateway: Callable[[Gateway], Any],
    risk: Callable[[GateLimits], Any],
    strategy: Callable[[QuotingStrategy, Any], Any],
    pipeline: Callable[..., Any],
) -> dict[str, Any]:
    """The model as a target's views, each object rendered once by the target's function.

    `strategy` gets the view of the strategy's grid; `pipeline` gets the plan and, by keyword, the
    views of its strategy, feed, gateway, risk and grid. The result holds the lists of views, the
    first book's grid (`default_grid`), the first pipeline (`test`, which the generated tests run)
    and its feed's first delta, snapshot, trade and BBO inputs (`t_delta`, ..., or None).
    """
    grids = {g.name: grid(g) for g in model.grids}
    feeds = {f.component.name: feed(f) for f in model.feeds}
    gateways = {g.component.name: gateway(g) for g in model.gateways}
    risks = {r.name: risk(r) for r in model.risks}
    strategies = {s.name: strategy(s, grids[s.grid.name]) for s in model.strategies}
    pipelines = [pipeline(plan, strategy=strategies[plan.strategy.name], feed=feeds[plan.feed.component.name],
                          gateway=gateways[plan.gateway.component.name], risk=risks[plan.risk.name],
                          grid=grids[plan.grid.name]) for plan in model.pipelines]
    test = pipelines[0]
    return {
        "grids": list(grids.values()),
        "default_grid": grids[model.default_grid.name] if model.default_grid else None,
        "feeds": list(feeds.values()),
        "gateways": list(gateways.values()),
        "risks": list(risks.values()),
        "strategies": list(strategies.values()),
        "pipelines": pipelines,
        "test": test,
        "t_delta": next((i for i in test.feed.inputs if i.role == "delta"), None),
        "t_snapshot": next((i for i in test.feed.inputs if i.role == "snapshot"), None),
        "t_trade": next((i for i in test.feed.inputs if i.role == "trade"), None),
        "t_bbo": next((i for i in test.feed.inputs if i.role == "bbo"), None),
    }
