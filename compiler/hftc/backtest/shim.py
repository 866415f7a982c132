"""The C++ source of a strategy's backtest library: exprgen's strategy, an adapter, a C ABI.

Pure: IR in, text out. `hftc.backtest.build` compiles it; `hftc.backtest.native` calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hftc.backtest.errors import BacktestError
from hftc.ir.expr import CheckedStrategy, Type
from hftc.ir.model import Strategy

#: Bump when the template or the C ABI changes shape (it is part of the cache key via the text).
SHIM_VERSION = 1

_NAMESPACE = "hftc_backtest::generated"


@dataclass(frozen=True)
class ParamSlot:
    name: str  # as declared
    field: str  # C++ member of Params
    convert: str  # C++ expression reading values[i]


@dataclass(frozen=True)
class StrategyShape:
    """What the adapter needs to know about a checked strategy."""

    checked: CheckedStrategy
    quoting: bool
    rules: dict[str, str]  # rule key -> Outputs member

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.checked.params)


def shape_of(strategy: Strategy) -> StrategyShape:
    """The strategy's checked program and its role (quoting or signal), or BacktestError."""
    checked = strategy.checked()
    rules = {r.key: r.ident for r in checked.rules} if checked is not None else {}
    quoting = {"quote.bid.price", "quote.bid.qty"} <= rules.keys() or {"quote.ask.price", "quote.ask.qty"} <= rules.keys()
    signal = bool({"entry.long", "entry.short"} & rules.keys())
    if checked is None or not (quoting or signal):
        raise BacktestError(
            "HFT1102", f"strategy `{strategy.name}` has no rules the backtester can trade",
            span=strategy.span, label="no quote or entry rules",
            help="give it `quote: {bid: {price, qty}, ask: {price, qty}}` (market making) or "
                 "`entry: {long, short}` with `exit` and `size` (signals), or a template that fills them in")
    return StrategyShape(checked, quoting, rules)


def _param_slots(checked: CheckedStrategy) -> list[ParamSlot]:
    from hftc.backends.exprgen import ident

    slots = []
    for i, p in enumerate(checked.params):
        if p.type is Type.INT:
            convert = f"static_cast<std::int64_t>(std::llround(values[{i}]))"
        elif p.type is Type.BOOL:
            convert = f"values[{i}] != 0.0"
        else:
            convert = f"values[{i}]"
        slots.append(ParamSlot(p.name, ident(p.name), convert))
    return slots


def shim_source(shape: StrategyShape) -> str:
    """The complete translation unit for `shape` (deterministic: same strategy, same text)."""
    from hftc.backends.cpp.components import split_exprgen_header
    from hftc.backends.exprgen import emit_cpp
    from hftc.backends.templating import environment

    checked = shape.checked
    preamble, includes, code = split_exprgen_header(emit_cpp(checked, namespace=_NAMESPACE))
    r = shape.rules
    view = {
        "name": checked.name,
        "preamble": preamble,
        "includes": includes,
        "code": code,
        "ns": _NAMESPACE,
        "instruments": list(checked.instruments) or [checked.name],
        "params": _param_slots(checked),
        "quoting": shape.quoting,
        "has_bid": "quote.bid.price" in r and "quote.bid.qty" in r,
        "has_ask": "quote.ask.price" in r and "quote.ask.qty" in r,
        "has_when": "when" in r,
        "has_entry_long": "entry.long" in r,
        "has_entry_short": "entry.short" in r,
        "has_exit": "exit" in r,
        "has_size": "size" in r,
        "bid_price": r.get("quote.bid.price", ""),
        "bid_qty": r.get("quote.bid.qty", ""),
        "ask_price": r.get("quote.ask.price", ""),
        "ask_qty": r.get("quote.ask.qty", ""),
        "when": r.get("when", ""),
        "entry_long": r.get("entry.long", ""),
        "entry_short": r.get("entry.short", ""),
        "exit": r.get("exit", ""),
        "size": r.get("size", ""),
    }
    return environment(__file__).get_template("shim.cpp.j2").render(**view)
