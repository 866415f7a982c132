"""The trading components' checks that the C++ and Rust targets rely on, run for every schema.

`analyse` decides what both targets generate; running it here means `hftc lint` (and an editor
or CI running it) reports every problem `hftc build -t cpp` or `-t rust` would, before any build.
"""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic
from hftc.ir.model import Schema
from hftc.passes.trading import analyse


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    if ir.document_kind != "schema" or not ir.components:
        return ir, []
    _model, diags = analyse(ir)
    return ir, diags
