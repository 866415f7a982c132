"""`strategies:` — tunable trading logic written in the expression language."""

from __future__ import annotations

from typing import Literal, Optional, Union

from hftc.schema.common import F, Surface

Number = Union[int, float]
ExprText = Union[str, int, float, bool]
Metric = Literal[
    "pnl", "sharpe_ratio", "sortino_ratio", "max_drawdown", "turnover", "fill_ratio", "latency",
]


class ParamSpec(Surface):
    """A tunable parameter: its type, search range and default.

    All three are required, except for a parameter of the strategy's template:
    what is left out is taken from the template.
    """

    type: Optional[Literal["int", "integer", "float"]] = F("Parameter type (a template's parameter keeps the template's).", "float", default=None)
    range: Optional[list[Number]] = F("Search range [low, high] for optimisation.", [0.1, 2.0], default=None, min_length=2, max_length=2)
    default: Optional[Number] = F("Value used when not optimised.", 0.5, default=None)
    log: bool = F("Search the range on a log scale.", False, default=False)
    description: str = F("What the parameter controls.", "Half-spread in bps.", default="")


class QuoteSide(Surface):
    """Price and quantity expressions of one side of a quote."""

    price: ExprText = F("Price expression.", "mid * (1 - spread_bps / 20000)")
    qty: ExprText = F("Quantity expression.", "1")


class QuoteSpec(Surface):
    """Two-sided quote; either side may be omitted."""

    bid: Optional[QuoteSide] = F("Bid side.", {"price": "mid - 0.0001", "qty": "1"}, default=None)
    ask: Optional[QuoteSide] = F("Ask side.", {"price": "mid + 0.0001", "qty": "1"}, default=None)


class Objectives(Surface):
    """What optimisation maximises and minimises."""

    maximize: list[Metric] = F("Metrics to maximise.", ["pnl", "sharpe_ratio"], default_factory=list)
    minimize: list[Metric] = F("Metrics to minimise.", ["max_drawdown"], default_factory=list)


class RuleSpec(Surface):
    """Entry or exit rules by direction."""

    long: Optional[ExprText] = F("Condition for the long side.", "zscore(spread, lookback) < -entry", default=None)
    short: Optional[ExprText] = F("Condition for the short side.", "zscore(spread, lookback) > entry", default=None)


class StrategySpec(Surface):
    """A strategy: a template or inline rules, with parameters and objectives."""

    template: Optional[str] = F("A strategy template shipped with hftc.", "market_making", default=None)
    description: str = F("What the strategy does.", "Inventory-skewed market making.", default="")
    instruments: list[str] = F("Instruments traded; the first is `book`.", ["EURUSD"], min_length=1)
    params: dict[str, ParamSpec] = F("Tunable parameters.", {"spread_bps": {"type": "float", "range": [0.1, 2.0], "default": 0.5}}, default_factory=dict)
    let: dict[str, ExprText] = F("Named intermediate values, computed in dependency order.", {"mid": "(book.bid + book.ask) / 2"}, default_factory=dict)
    signals: dict[str, ExprText] = F("Named signals published for monitoring and rules.", {"spread": "book.spread"}, default_factory=dict)
    quote: Optional[QuoteSpec] = F("Quotes to keep in the market.", {"bid": {"price": "mid - 1", "qty": "1"}}, default=None)
    when: Optional[ExprText] = F("Quote only while this holds.", "abs(position) < inventory_limit", default=None)
    entry: Optional[RuleSpec] = F("Entry conditions.", {"long": "signal < -2"}, default=None)
    exit: Optional[ExprText] = F("Exit condition (close the position).", "abs(signal) < 0.5", default=None)
    size: Optional[ExprText] = F("Order size for entries, lots.", "1", default=None)
    objectives: Objectives = F("Optimisation objectives.", {"maximize": ["pnl"]}, default_factory=Objectives)
    constraints: list[str] = F("Conditions every accepted parameter set must meet.", ["max_leverage <= 3.0"], default_factory=list)
