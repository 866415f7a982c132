"""The strategy expression language: parser, type checker and reference evaluator.

    parse_expression(text, origin, *, indent=0) -> (Node | None, [Diagnostic])
    check_strategy(params, lets, rules, instruments, *, name="strategy", indent=0)
        -> (CheckedStrategy | None, [Diagnostic])
    check_expression(text, origin, expected, *, params=None, instruments=("X",))
        -> (CheckedStrategy | None, [Diagnostic])
    evaluate(strategy, events, params=None) -> [ {output name: value} per event ]
    Evaluator(strategy, params=None).step(event) -> {output name: value}

The typed AST and the `CheckedStrategy` IR live in `hftc.ir.expr` (with the
typing rules); code generators for C++, Rust and Python in `backends.exprgen`.
"""

from hftc.expr.evaluate import BookTop, Evaluator, Event, evaluate
from hftc.expr.parser import parse_expression
from hftc.expr.typecheck import check_expression, check_strategy

__all__ = [
    "BookTop",
    "Evaluator",
    "Event",
    "check_expression",
    "check_strategy",
    "evaluate",
    "parse_expression",
]
