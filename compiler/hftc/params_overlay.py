"""Parameter overlays: a small YAML file that changes strategy parameter defaults.

    strategies:
      mm:
        params: {spread_bps: 0.7, inventory_limit: 2500}

`hftc optimize` writes one (`best_params.yaml`); `hftc build --params` and
`hftc backtest --params` read it. Applying an overlay is a pure function over
the IR: the values become the parameters' defaults, both in `Strategy.params`
and in the type-checked program the backends generate code from. Window ring
capacities depend on a parameter's range, never its default, so no other part
of the checked program changes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from hftc.diagnostics.model import Diagnostic, Span, did_you_mean, error
from hftc.ir.model import Number, Param, Schema, Strategy

OVERLAY_CODE_FORM = "HFT1201"
OVERLAY_CODE_STRATEGY = "HFT1202"
OVERLAY_CODE_PARAM = "HFT1203"
OVERLAY_CODE_RANGE = "HFT1204"
OVERLAY_CODE_TYPE = "HFT1205"


@dataclass(frozen=True)
class OverlayValue:
    """One `param: value` entry with the spans of its key and value."""

    strategy: str
    param: str
    value: object
    key_span: Span | None = None
    value_span: Span | None = None
    strategy_span: Span | None = None


@dataclass(frozen=True)
class Overlay:
    file: str
    values: tuple[OverlayValue, ...] = ()

    def params_of(self, strategy: str) -> dict[str, object]:
        return {v.param: v.value for v in self.values if v.strategy == strategy}


def parse_overlay(doc) -> tuple[Overlay | None, list[Diagnostic]]:
    """Shape-check a loaded YAML document (`hftc.loader.yaml_nodes.LoadedYaml`)."""
    out: list[Diagnostic] = []
    root = doc.value

    def form(message: str, path: tuple, label: str, key: bool = False) -> None:
        out.append(error(OVERLAY_CODE_FORM, message, doc.span_of(path, key=key), label=label,
                         help="an overlay looks like `strategies: {NAME: {params: {PARAM: VALUE}}}`"))

    if not isinstance(root, dict):
        form("a parameter overlay must be a mapping with a `strategies:` key", (), "not a mapping")
        return None, out
    for key in root:
        if key != "strategies":
            form(f"unknown key `{key}` in a parameter overlay", (key,), "only `strategies` is allowed here", key=True)
    strategies = root.get("strategies")
    if "strategies" not in root:
        form("a parameter overlay needs a `strategies:` mapping", (), "no `strategies:` here")
    elif not isinstance(strategies, dict):
        form("`strategies` must map strategy names to `{params: {...}}`", ("strategies",), "not a mapping")
    values: list[OverlayValue] = []
    for name, body in (strategies.items() if isinstance(strategies, dict) else ()):
        base = ("strategies", name)
        if not isinstance(body, dict):
            form(f"strategy `{name}` in the overlay must be a mapping with `params:`", base, "not a mapping")
            continue
        for key in body:
            if key != "params":
                form(f"unknown key `{key}` under strategy `{name}`", base + (key,), "only `params` is allowed here",
                     key=True)
        params = body.get("params")
        if not isinstance(params, dict):
            if "params" in body:
                form(f"`params` of strategy `{name}` must map parameter names to values", base + ("params",),
                     "not a mapping")
            continue
        for pname, value in params.items():
            path = base + ("params", pname)
            values.append(OverlayValue(str(name), str(pname), value, doc.span_of(path, key=True), doc.span_of(path),
                                       doc.span_of(base, key=True)))
    if out:
        return None, out
    return Overlay(doc.file, tuple(values)), out


def load_overlay(path: str, sources) -> tuple[Overlay | None, list[Diagnostic]]:
    """Read and shape-check an overlay file; its text joins `sources` so diagnostics show snippets."""
    from hftc.frontend.sources import read_file

    doc, diags = read_file(path, sources)
    if doc is None:
        return None, diags
    overlay, more = parse_overlay(doc)
    return overlay, diags + more


def _fmt(value: Number) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def coerce_value(param: Param, value: object) -> tuple[Number | None, str | None]:
    """The value as the parameter's type, or (None, why not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, f"`{param.name}` is {'an' if param.type == 'int' else 'a'} {param.type}"
    if isinstance(value, float) and not math.isfinite(value):
        return None, "not a finite number"
    if param.type == "int":
        if isinstance(value, float):
            if not value.is_integer():
                return None, f"`{param.name}` is an int"
            value = int(value)
        return value, None
    return float(value), None


def check_values(strategy: Strategy, values: Mapping[str, object], where: Mapping[str, OverlayValue] | None = None,
                 ) -> tuple[dict[str, Number], list[Diagnostic]]:
    """Check `values` against the strategy's declared params; returns the coerced values."""
    out: list[Diagnostic] = []
    declared = {p.name: p for p in strategy.params}
    good: dict[str, Number] = {}
    for name, raw in values.items():
        entry = where.get(name) if where else None
        key_span = entry.key_span if entry else None
        value_span = entry.value_span if entry else None
        param = declared.get(name)
        if param is None:
            hint = did_you_mean(name, declared)
            known = ", ".join(f"`{p}`" for p in declared) or "none"
            out.append(error(OVERLAY_CODE_PARAM, f"strategy `{strategy.name}` has no parameter `{name}`", key_span,
                             label="unknown parameter", help=hint or f"its parameters are: {known}"))
            continue
        value, why = coerce_value(param, raw)
        if value is None:
            shown = ("true" if raw else "false") if isinstance(raw, bool) else raw
            out.append(error(OVERLAY_CODE_TYPE, f"`{shown}` is not a valid value for `{name}`", value_span,
                             label=why or "wrong type",
                             help=f"give {'a whole number' if param.type == 'int' else 'a number'} in "
                                  f"[{_fmt(param.low)}, {_fmt(param.high)}]"))
            continue
        if not param.low <= value <= param.high:
            secondary: tuple = ()
            if param.span is not None:
                from hftc.diagnostics.model import Label

                secondary = (Label(param.span, f"`{name}` is declared with range [{_fmt(param.low)}, "
                                               f"{_fmt(param.high)}] here"),)
            out.append(error(OVERLAY_CODE_RANGE, f"{_fmt(value)} is outside the range of `{name}` "
                                                 f"[{_fmt(param.low)}, {_fmt(param.high)}]",
                             value_span, label="out of range", secondary=secondary,
                             help="choose a value within the declared range, or widen the range in the schema"))
            continue
        good[name] = value
    return good, out


def with_defaults(strategy: Strategy, values: Mapping[str, Number]) -> Strategy:
    """The strategy with these (already checked) parameter defaults."""
    if not values:
        return strategy
    params = tuple(replace(p, default=values[p.name]) if p.name in values else p for p in strategy.params)
    program = strategy.program
    if program is not None:
        data = json.loads(program)
        _set_program_defaults(data, values)
        program = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return replace(strategy, params=params, program=program)


def _set_program_defaults(data: dict, values: Mapping[str, Number]) -> None:
    """Change `default` of the ParamDecl records in the checked program's JSON."""
    from hftc.ir.expr import CheckedStrategy, ParamDecl

    checked = CheckedStrategy.from_json(data)
    decls = tuple(replace(d, default=values[d.name]) if d.name in values else d for d in checked.params)
    assert all(isinstance(d, ParamDecl) for d in decls)
    data.clear()
    data.update(replace(checked, params=decls).to_json())


def apply_overlay(ir: Schema, overlay: Overlay) -> tuple[Schema, list[Diagnostic]]:
    """The IR with the overlay's values as parameter defaults, or the IR unchanged plus errors."""
    out: list[Diagnostic] = []
    by_strategy: dict[str, dict[str, OverlayValue]] = {}
    for v in overlay.values:
        by_strategy.setdefault(v.strategy, {})[v.param] = v
    checked: dict[str, dict[str, Number]] = {}
    names = [s.name for s in ir.strategies]
    for name, entries in by_strategy.items():
        strategy = ir.strategy_named(name)
        if strategy is None:
            first = next(iter(entries.values()))
            hint = did_you_mean(name, names)
            known = ", ".join(f"`{n}`" for n in names) or "none"
            out.append(error(OVERLAY_CODE_STRATEGY, f"the schema has no strategy `{name}`", first.strategy_span,
                             label="unknown strategy", help=hint or f"the schema's strategies are: {known}"))
            continue
        good, diags = check_values(strategy, {k: v.value for k, v in entries.items()}, entries)
        out.extend(diags)
        checked[name] = good
    if out:
        return ir, out
    strategies = tuple(with_defaults(s, checked.get(s.name, {})) for s in ir.strategies)
    return replace(ir, strategies=strategies), out


def overlay_yaml(strategy: str, params: Mapping[str, Number], comment: str = "") -> str:
    """The overlay text for one strategy, parameters in the given order."""
    lines = [f"# {line}" if line else "#" for line in comment.splitlines()]
    lines += ["strategies:", f"  {strategy}:", "    params:"]
    for name, value in params.items():
        lines.append(f"      {name}: {_yaml_number(value)}")
    return "\n".join(lines) + "\n"


def _yaml_number(value: Number) -> str:
    if isinstance(value, bool):
        raise TypeError("parameters are numbers")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"parameter values are finite numbers, not {value!r}")
    text = repr(float(value))
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"  # `1.0e-05`, not `1e-05`: YAML 1.1 readers take the latter for a string
    return mantissa + (f"e{exponent}" if e else "")


__all__ = ["Overlay", "OverlayValue", "apply_overlay", "check_values", "coerce_value", "load_overlay",
           "overlay_yaml", "parse_overlay", "with_defaults"]
