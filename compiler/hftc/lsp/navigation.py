"""Go to definition (types, imports, strategy templates, components, messages, pipelines) and the
document's outline."""

from __future__ import annotations

import os

from lsprotocol import types

from hftc.loader.yaml_nodes import LoadedYaml
from hftc.lsp.analysis import Analysis, path_to_uri
from hftc.lsp.positions import Lines

SECTION_KIND = {"types": types.SymbolKind.Class, "messages": types.SymbolKind.Struct,
                "components": types.SymbolKind.Object, "pipelines": types.SymbolKind.Event,
                "strategies": types.SymbolKind.Function, "deployments": types.SymbolKind.Package}
# What a scalar value names, by the key it is the value of (or its list's key).
REFERENCES = {"type": "types", "element": "types", "stages": "components", "strategy": "strategies",
              "pipeline": "pipelines", "input": "messages", "output": "messages"}


def _value(doc: LoadedYaml, path: tuple):
    value = doc.value
    for step in path:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            return None
    return value


def _target_section(path: tuple) -> str | None:
    keys = [p for p in path if isinstance(p, str)]
    if not keys:
        return None
    if len(path) >= 2 and path[-2] == "fields":
        return "types"  # `name: Type`
    if path[0] == "components" and keys[-1] in ("input",):
        return "messages"
    return REFERENCES.get(keys[-1])


def _location(file: str, span, texts: dict[str, str]) -> types.Location:
    lines = Lines(texts.get(file, ""))
    return types.Location(uri=path_to_uri(file), range=lines.range(span))


def definition(analysis: Analysis, path: tuple, on_key: bool) -> list[types.Location]:
    doc = analysis.doc
    if doc is None or on_key or not path:
        return []
    value = _value(doc, path)
    if not isinstance(value, str):
        return []
    texts = analysis.result.sources.texts
    if path[0] == "imports":
        target = os.path.normpath(os.path.join(os.path.dirname(analysis.file), value))
        if os.path.isfile(target):
            start = types.Position(line=0, character=0)
            return [types.Location(uri=path_to_uri(target), range=types.Range(start=start, end=start))]
        return []
    if path[-1] == "template":
        from hftc.frontend.templates import ALIASES, templates_dir

        target = templates_dir() / f"{ALIASES.get(value, value)}.hftc.yaml"
        if target.is_file():
            start = types.Position(line=0, character=0)
            return [types.Location(uri=target.resolve().as_uri(), range=types.Range(start=start, end=start))]
        return []
    section = _target_section(path)
    if section is None:
        return []
    found = []
    for file, other in analysis.result.sources.docs.items():  # this file and every import
        span = other.key_spans.get((section, value))
        if span is not None:
            absolute = file if os.path.isabs(file) else os.path.abspath(file)
            found.append(_location(absolute, span, {absolute: texts.get(file, "")}))
    return found


def _symbol(doc: LoadedYaml, lines: Lines, path: tuple, kind: types.SymbolKind, detail: str = "",
            children=None) -> types.DocumentSymbol | None:
    key = doc.key_spans.get(path)
    value = doc.value_spans.get(path)
    if key is None:
        return None
    whole = lines.range(key if value is None else type(key)(key.file, key.line, key.col, value.end_line, value.end_col))
    return types.DocumentSymbol(name=str(path[-1]), kind=kind, range=whole, selection_range=lines.range(key),
                                detail=detail or None, children=children or None)


def document_symbols(analysis: Analysis) -> list[types.DocumentSymbol]:
    doc = analysis.doc
    if doc is None or not isinstance(doc.value, dict):
        return []
    lines = Lines(analysis.text)
    out = []
    for section, body in doc.value.items():
        children = []
        if section in SECTION_KIND and isinstance(body, dict):
            for name, spec in body.items():
                members = []
                if section == "messages" and isinstance(spec, dict) and isinstance(spec.get("fields"), dict):
                    for field, ftype in spec["fields"].items():
                        shown = ftype if isinstance(ftype, str) else (ftype.get("type", "") if isinstance(ftype, dict) else "")
                        s = _symbol(doc, lines, (section, name, "fields", field), types.SymbolKind.Field, str(shown))
                        if s:
                            members.append(s)
                detail = spec.get("kind", "") if isinstance(spec, dict) and section == "components" else ""
                s = _symbol(doc, lines, (section, name), SECTION_KIND[section], str(detail), members)
                if s:
                    children.append(s)
        s = _symbol(doc, lines, (section,), types.SymbolKind.Namespace, "", children)
        if s:
            out.append(s)
    return out
