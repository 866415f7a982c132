"""Passes over the IR: pure functions `(Schema) -> (Schema, diagnostics)`, run in order.

Every pass tolerates what earlier passes reported (unresolved names, bad values)
so one run reports every problem instead of stopping at the first.
"""

from __future__ import annotations

from typing import Callable

from hftc.diagnostics.model import Diagnostic
from hftc.ir.model import Schema
from hftc.passes import (budgets, components, framing, layout, lints, resolve, risk_limits, roles, strategies,
                         typecheck, versioning)

Pass = Callable[[Schema], tuple[Schema, list[Diagnostic]]]

PASSES: tuple[tuple[str, Pass], ...] = (
    ("resolve", resolve.run),
    ("typecheck", typecheck.run),
    ("strategies", strategies.run),
    ("layout", layout.run),
    ("framing", framing.run),
    ("versioning", versioning.run),
    ("budgets", budgets.run),
    ("roles", roles.run),
    ("components", components.run),
    ("risk_limits", risk_limits.run),
    ("lints", lints.run),
)


def run_passes(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    for _name, run in PASSES:
        ir, found = run(ir)
        diagnostics.extend(found)
    return ir, diagnostics
