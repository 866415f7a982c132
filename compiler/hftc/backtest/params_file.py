"""`hftc backtest --params FILE`: parameter values for one strategy, in any of three forms.

    strategies: {mm: {params: {spread_bps: 0.7}}}   # the overlay `hftc optimize` writes
    mm: {spread_bps: 0.7}                          # per strategy
    spread_bps: 0.7                                # for the strategy being backtested

Values are checked against the declared parameters exactly as `hftc build --params` checks
them (names, types, ranges), with spans into the file.
"""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic
from hftc.ir.model import Strategy


def load_params(path: str, strategy: Strategy, sources) -> tuple[dict | None, list[Diagnostic]]:
    """The checked values for `strategy` from the file, or (None, errors)."""
    from hftc.frontend.sources import read_file
    from hftc.params_overlay import OverlayValue, check_values, parse_overlay

    doc, diags = read_file(path, sources)
    if doc is None:
        return None, diags
    root = doc.value
    entries: dict[str, OverlayValue] = {}
    if isinstance(root, dict) and "strategies" in root:
        overlay, more = parse_overlay(doc)
        if overlay is None:
            return None, diags + more
        entries = {v.param: v for v in overlay.values if v.strategy == strategy.name}
    elif isinstance(root, dict) and isinstance(root.get(strategy.name), dict):
        body = root[strategy.name]
        base: tuple = (strategy.name,)
        if set(body) == {"params"} and isinstance(body["params"], dict):
            body, base = body["params"], base + ("params",)
        entries = {str(k): OverlayValue(strategy.name, str(k), v, doc.span_of(base + (k,), key=True),
                                        doc.span_of(base + (k,))) for k, v in body.items()}
    elif isinstance(root, dict):
        entries = {str(k): OverlayValue(strategy.name, str(k), v, doc.span_of((k,), key=True), doc.span_of((k,)))
                   for k, v in root.items() if not isinstance(v, dict)}
        nested = [k for k, v in root.items() if isinstance(v, dict)]
        if nested:
            from hftc.diagnostics.model import error

            return None, diags + [error(
                "HFT1111", f"`{nested[0]}` in the params file is not strategy `{strategy.name}`",
                doc.span_of((nested[0],), key=True), label="unknown strategy",
                help=f"write `{strategy.name}: {{param: value}}`, `param: value`, or the overlay form "
                     f"`strategies: {{{strategy.name}: {{params: {{...}}}}}}`")]
    else:
        from hftc.diagnostics.model import error

        return None, diags + [error("HFT1111", "a params file must be a YAML mapping", doc.span_of(()),
                                    label="not a mapping", help="write `param: value` lines")]
    values, more = check_values(strategy, {k: v.value for k, v in entries.items()}, entries)
    if more:
        return None, diags + more
    return values, diags
