"""Type-check every strategy's expressions and attach the checked program.

Errors point inside the YAML scalar (the expression checker offsets spans from
the scalar's first character). Constraints compare backtest metrics with
numbers (`max_leverage <= 3.0`); they are checked for shape here and evaluated
by the optimiser.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from hftc.diagnostics.model import Diagnostic, error
from hftc.ir.model import ExprSource, Schema, Strategy

_CONSTRAINT = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*(<=|>=|<|>|==)\s*-?[0-9.]+(e-?[0-9]+)?\s*$")


def _rules(s: Strategy) -> dict[str, tuple[str, object, str]]:
    rules: dict[str, tuple[str, object, str]] = {}

    def add(key: str, src: ExprSource | None, expected: str) -> None:
        if src is not None:
            rules[key] = (src.text, src.span, expected)

    add("quote.bid.price", s.quote_bid_price, "float")
    add("quote.bid.qty", s.quote_bid_qty, "float")
    add("quote.ask.price", s.quote_ask_price, "float")
    add("quote.ask.qty", s.quote_ask_qty, "float")
    add("when", s.when, "bool")
    add("entry.long", s.entry_long, "bool")
    add("entry.short", s.entry_short, "bool")
    add("exit", s.exit, "bool")
    add("size", s.size, "float")
    for sig in s.signals:
        add(f"signal.{sig.name}", sig.expr, "float")
    return rules


def _check(s: Strategy, out: list[Diagnostic]) -> Strategy:
    from hftc.expr import check_strategy
    from hftc.ir.expr import ParamDecl, Type

    for c in s.constraints:
        if not _CONSTRAINT.match(c.text):
            out.append(error("HFT0505", f"invalid constraint `{c.text}`", c.span, label="not `metric <= number`",
                             help="write constraints like `max_leverage <= 3.0`"))
    rules = _rules(s)
    if not rules and not s.lets:
        return s
    params = {
        p.name: ParamDecl(p.name, Type(p.type), p.default if p.type == "float" else int(p.default),
                          p.low, p.high, p.span)
        for p in s.params
    }
    lets = [(let.name, let.expr.text, let.expr.span, let.name_span or let.expr.span) for let in s.lets]
    checked, diags = check_strategy(params, lets, rules, list(s.instruments), name=s.name)
    out.extend(diags)
    if checked is None:
        return s
    return replace(s, program=json.dumps(checked.to_json(), sort_keys=True, separators=(",", ":")))


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    out: list[Diagnostic] = []
    strategies = tuple(_check(s, out) for s in ir.strategies)
    return replace(ir, strategies=strategies), out
