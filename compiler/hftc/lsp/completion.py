"""Completion: keys the schema language accepts here, type names, enum and other fixed values, component
kinds, stage and other definition names, strategy templates and their parameters, and inside strategy
expressions the functions, book fields, state, parameters and lets."""

from __future__ import annotations

from lsprotocol import types

from hftc.lsp.analysis import Analysis
from hftc.lsp.context import Place
from hftc.lsp.schema_info import component_kinds, keys_at, literal_values, primitive_names

EXPRESSION_KEYS = {"let", "quote", "when", "entry", "exit", "size", "signals"}
Kind = types.CompletionItemKind


def _item(label: str, kind: types.CompletionItemKind, detail: str = "", doc: str = "") -> types.CompletionItem:
    return types.CompletionItem(label=label, kind=kind, detail=detail or None,
                                documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=doc) if doc else None)


def _names(value, section: str) -> list[str]:
    found = value.get(section) if isinstance(value, dict) else None
    return list(found) if isinstance(found, dict) else []


def _type_names(analysis: Analysis | None, value) -> list[types.CompletionItem]:
    items = [_item(p, Kind.TypeParameter, "primitive") for p in primitive_names()]
    user = dict.fromkeys(_names(value, "types"))
    if analysis is not None and analysis.ir is not None:
        user.update(dict.fromkeys(t.name for t in analysis.ir.types))  # imported ones too
    described = {t.name: t for t in analysis.ir.types} if analysis is not None and analysis.ir is not None else {}
    for name in user:
        t = described.get(name)
        items.append(_item(name, Kind.Class, f"{t.kind}, {t.size} B" if t else "type", t.description if t else ""))
    return items


def _template_items() -> list[types.CompletionItem]:
    from hftc.frontend.templates import TemplateLibrary, shipped_names

    library = TemplateLibrary()
    items = []
    for name in shipped_names():
        template = library.get(name)
        items.append(_item(name, Kind.Module, "strategy template", template.strategy.description if template else ""))
    return items


def _template_params(value, strategy: str) -> list[types.CompletionItem]:
    from hftc.frontend.templates import TemplateLibrary

    spec = value.get("strategies", {}).get(strategy) if isinstance(value, dict) else None
    name = spec.get("template") if isinstance(spec, dict) else None
    template = TemplateLibrary().get(name) if isinstance(name, str) else None
    if template is None:
        return []
    return [_item(p.name, Kind.Property, f"{p.type} in [{p.low}, {p.high}], default {p.default}", p.description)
            for p in template.strategy.params]


def _expression_items(value, strategy: str, word: str, analysis: Analysis | None) -> list[types.CompletionItem]:
    from hftc.ir.expr import BOOK_FIELDS, PURE_FUNCTIONS, STATE_VARS, STATEFUL_FUNCTIONS

    if word.startswith("book."):
        return [_item(f"book.{f}", Kind.Field, "book field (float)") for f in BOOK_FIELDS]
    if word.startswith("last_trade."):
        return [_item(k, Kind.Field, f"state ({t.value})") for k, t in STATE_VARS.items() if k.startswith("last_trade.")]
    items = [_item(f, Kind.Function, f"{n} argument{'s' if n != 1 else ''}") for f, n in PURE_FUNCTIONS.items()]
    items += [_item(f, Kind.Function, f"stateful, {lo}..{hi} arguments") for f, (lo, hi) in STATEFUL_FUNCTIONS.items()]
    items += [_item(f"book.{f}", Kind.Field, "book field (float)") for f in BOOK_FIELDS]
    items += [_item(k, Kind.Variable, f"state ({t.value})") for k, t in STATE_VARS.items()]
    spec = value.get("strategies", {}).get(strategy) if isinstance(value, dict) else None
    if isinstance(spec, dict):
        for p in (spec.get("params") or {}):
            items.append(_item(p, Kind.Variable, "parameter"))
        for let in (spec.get("let") or {}):
            items.append(_item(let, Kind.Variable, "let"))
        for instrument in spec.get("instruments") or []:
            items += [_item(f"{instrument}.{f}", Kind.Field, "book field of an instrument") for f in BOOK_FIELDS]
    known = {i.label for i in items}
    items += [i for i in _template_params(value, strategy) if i.label not in known]
    return items


def _values(place: Place, value, analysis: Analysis | None) -> list[types.CompletionItem]:
    path = place.path
    key = path[-1] if path else ""
    section = path[0] if path else ""
    if section == "strategies" and len(path) >= 3 and path[2] in EXPRESSION_KEYS:
        return _expression_items(value, path[1], place.word, analysis)
    if key in ("type", "element") or (len(path) >= 2 and path[-2] == "fields"):
        return _type_names(analysis, value)
    if key == "kind" and section == "components":
        return [_item(k, Kind.EnumMember, "component kind") for k in component_kinds()]
    if key == "stages" and section == "pipelines":
        return [_item(c, Kind.Reference, "component") for c in _names(value, "components")]
    if key == "pipeline":
        return [_item(p, Kind.Reference, "pipeline") for p in _names(value, "pipelines")]
    if key == "template":
        return _template_items()
    if key == "strategy" and section == "components":
        return [_item(s, Kind.Reference, "strategy") for s in _names(value, "strategies")]
    if key in ("input", "output") and section == "components":
        return [_item(m, Kind.Reference, "message") for m in _names(value, "messages")]
    model_path = _model_path(path, place.in_list)
    return [_item(v, Kind.EnumMember, key) for v in literal_values(value, model_path)]


def _model_path(path: tuple, in_list: bool) -> tuple:
    return path + (0,) if in_list else path


def complete(place: Place, value, analysis: Analysis | None) -> list[types.CompletionItem]:
    """The completion items for a place; `value` is the last document that parsed."""
    value = value if isinstance(value, dict) else {}
    if place.mode == "value":
        return _values(place, value, analysis)
    path = place.path
    if len(path) == 3 and path[0] == "strategies" and path[2] == "params":
        return _template_params(value, path[1])
    if len(path) == 3 and path[0] == "pipelines" and path[2] == "threads":
        spec = value.get("pipelines", {}).get(path[1])
        stages = spec.get("stages") if isinstance(spec, dict) else None
        return [_item(s, Kind.Reference, "stage") for s in stages or []]
    if len(path) == 1 and path[0] in ("types", "messages", "components", "pipelines", "strategies", "deployments"):
        return []  # a new name: nothing to complete
    return [_item(k, Kind.Property, "key", d) for k, d in keys_at(value, path)]
