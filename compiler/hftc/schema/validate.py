"""Validate loaded YAML against the surface models and turn pydantic's errors
into hftc diagnostics that point at the exact key or value in the file."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from hftc.diagnostics.model import Diagnostic, did_you_mean, error
from hftc.loader.yaml_nodes import LoadedYaml

_SCALAR_TAGS = {"str", "int", "float", "bool", "none", "list", "dict", "tuple"}
_TYPE_NAMES = {
    "string_type": "text", "int_type": "an integer", "float_type": "a number",
    "bool_type": "true or false", "dict_type": "a mapping", "list_type": "a list",
    "tuple_type": "a list", "model_type": "a mapping", "model_attributes_type": "a mapping",
}


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete alternatives of an annotation (through Annotated/Union/Optional)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is typing.Union:
        out = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def _tag_of(alternative: Any) -> set[str]:
    """Names pydantic may use in `loc` for a union member."""
    names = set()
    if isinstance(alternative, type) and issubclass(alternative, BaseModel):
        names.add(alternative.__name__)
        kind = alternative.model_fields.get("kind")
        if kind is not None:
            names.update(str(a) for a in typing.get_args(kind.annotation))
        for key in ("decimal", "enum", "set", "char", "composite", "array"):
            if key in alternative.model_fields and alternative.__name__.lower().startswith(key[:3]):
                names.add(key)
    return names


def _walk(root: type[BaseModel], value: Any, loc: tuple) -> tuple[tuple, type[BaseModel] | None, list[str]]:
    """Follow pydantic's `loc` through the data and the model types.

    Returns the data path (union tags removed), the model class reached (for
    "did you mean" on unknown keys) and the union tags met on the way.
    """
    path: list = []
    annotation: Any = root
    data = value
    tags: list[str] = []
    for elem in loc:
        alternatives = _unwrap(annotation)
        models = [a for a in alternatives if isinstance(a, type) and issubclass(a, BaseModel)]
        # A union tag selects an alternative without consuming data.
        if isinstance(elem, str) and len(alternatives) > 1:
            chosen = [a for a in alternatives if elem in _tag_of(a)] or [
                a for a in alternatives if getattr(a, "__name__", str(a)) == elem
            ]
            if chosen or elem in _SCALAR_TAGS or elem.startswith(("function-", "literal[")):
                tags.append(elem)
                annotation = chosen[0] if chosen else annotation
                continue
        if len(models) == 1 and len(alternatives) > 1 and isinstance(data, dict):
            annotation = models[0]
            alternatives = [annotation]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = None
            for name, f in annotation.model_fields.items():
                if elem == name or elem == f.alias:
                    field = f
            path.append(elem)
            data = data.get(elem) if isinstance(data, dict) else None
            annotation = field.annotation if field else None
            continue
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        path.append(elem)
        if isinstance(data, dict):
            data = data.get(elem)
        elif isinstance(data, list) and isinstance(elem, int) and 0 <= elem < len(data):
            data = data[elem]
        else:
            data = None
        if origin is dict and args:
            annotation = args[1]
        elif origin in (list, tuple) and args:
            annotation = args[0]
        else:
            annotation = None
    final = [a for a in _unwrap(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    return tuple(path), (final[0] if len(final) == 1 else None), tags


def _parent_model(root: type[BaseModel], value: Any, loc: tuple) -> type[BaseModel] | None:
    _, model, _ = _walk(root, value, loc[:-1])
    return model


def _known_keys(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _diagnostic(root: type[BaseModel], doc: LoadedYaml, err: dict) -> Diagnostic | None:
    loc = tuple(err["loc"])
    kind = err["type"]
    path, _, tags = _walk(root, doc.value, loc)
    value = err.get("input")
    if kind == "extra_forbidden":
        key = path[-1] if path else loc[-1]
        model = _parent_model(root, doc.value, loc)
        known = _known_keys(model)
        hint = did_you_mean(str(key), known)
        if hint is None and known:
            hint = "known keys here: " + ", ".join(sorted(known))
        return error("HFT0101", f"unknown key `{key}`", doc.span_of(path, key=True),
                     label="not a known key", help=hint)
    if kind == "missing":
        key = path[-1]
        return error("HFT0102", f"missing required key `{key}`", doc.span_of(path[:-1]),
                     label=f"`{key}` is required here")
    span = doc.span_of(path)
    key = next((p for p in reversed(path) if isinstance(p, str)), "value")
    if kind in ("union_tag_invalid", "literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected_tags") or err.get("ctx", {}).get("expected", "")
        options = [o.strip().strip("'") for o in str(expected).replace(" or ", ",").split(",") if o.strip()]
        shown = value.get("kind") if isinstance(value, dict) else value
        hint = did_you_mean(str(shown), options) if isinstance(shown, str) else None
        if kind == "union_tag_invalid":
            span = doc.span_of(path + ("kind",))
        return error("HFT0105", f"invalid value `{shown}` for `{key if kind != 'union_tag_invalid' else 'kind'}`",
                     span, label="not an accepted value",
                     help=hint or ("expected one of: " + ", ".join(options) if options else None))
    if kind == "union_tag_not_found":
        return error("HFT0102", "missing required key `kind`", span, label="`kind` is required here",
                     help="kind is one of feed_handler, order_book, strategy, risk_gate, order_gateway, custom")
    if kind == "type_kind":
        return error("HFT0105", f"`{key}` is not a valid type definition", span,
                     label="no distinguishing key", help=err["msg"])
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        ctx = err.get("ctx", {})
        words = {"ge": "at least", "le": "at most", "gt": "greater than", "lt": "less than"}
        bound = ", ".join(f"{words.get(k, k)} {v}" for k, v in ctx.items())
        return error("HFT0104", f"`{key}` is out of range: {value}", span, label=f"must be {bound}")
    if kind in ("too_short", "too_long"):
        return error("HFT0104", f"`{key}` has the wrong number of items", span, label=err["msg"].lower())
    if kind == "string_pattern_mismatch":
        return error("HFT0106", f"invalid name `{value}` for `{key}`", span,
                     label="not an identifier", help="use letters, digits and underscores (dots separate package parts)")
    if kind in _TYPE_NAMES or kind.endswith("_type") or kind.endswith("_parsing"):
        expected = _TYPE_NAMES.get(kind, kind.replace("_type", "").replace("_parsing", ""))
        if kind in ("int_from_float",):
            expected = "an integer"
        return error("HFT0103", f"`{key}` must be {expected}, found {_yaml_kind(value)}", span,
                     label=f"expected {expected}")
    if kind == "int_from_float":
        return error("HFT0103", f"`{key}` must be an integer, found a number with a fraction", span,
                     label="expected an integer")
    if kind == "value_error" and "error" in err.get("ctx", {}):  # our validators' own words, no "Value error, "
        return error("HFT0105", f"invalid value for `{key}`: {err['ctx']['error']}", span, label="invalid")
    return error("HFT0105", f"invalid value for `{key}`: {err['msg']}", span, label="invalid")


def _filter_union_noise(errors: list[dict], doc: LoadedYaml, root: type[BaseModel]) -> list[dict]:
    """For `str | Model` unions keep only the errors of the alternative the user meant."""
    kept = []
    for err in errors:
        loc = tuple(err["loc"])
        path, _, tags = _walk(root, doc.value, loc)
        data = doc.value
        for p in path[: len(path) - (1 if err["type"] in ("extra_forbidden", "missing") else 0)]:
            data = data.get(p) if isinstance(data, dict) else (data[p] if isinstance(data, list) and isinstance(p, int) and p < len(data) else None)
        scalar_tags = [t for t in tags if t in _SCALAR_TAGS]
        model_tags = [t for t in tags if t not in _SCALAR_TAGS]
        if scalar_tags and isinstance(data, dict) and err["type"] not in ("extra_forbidden", "missing"):
            continue  # the user wrote a mapping; the scalar alternative is noise
        if model_tags and not scalar_tags and not isinstance(data, (dict,)) and err["type"] in ("model_type", "model_attributes_type"):
            # a scalar where a model alternative was tried: the scalar alternative's error is kept instead
            if any(tuple(e["loc"])[: len(loc) - 1] == loc[:-1] and e is not err for e in errors):
                continue
        kept.append(err)
    return kept


def validate_document(model: type[BaseModel], doc: LoadedYaml) -> tuple[BaseModel | None, list[Diagnostic]]:
    """Validate; on failure return one diagnostic per distinct problem."""
    try:
        return model.model_validate(doc.value), []
    except ValidationError as exc:
        errors = _filter_union_noise(exc.errors(include_url=False), doc, model)
        diagnostics = [d for d in (_diagnostic(model, doc, e) for e in errors) if d is not None]
        return None, diagnostics


MAX_RECOVERY_ROUNDS = 4  # each round removes every failing part it found; two are enough in practice


def _prune_key(root: type[BaseModel], value: dict, path: tuple) -> tuple | None:
    """The part of the document to leave out for an error at `path`: one named definition of a section
    (`types.Price`, `components.feed`), or an optional top-level key; None when nothing can be cut."""
    if not path or not isinstance(path[0], str):
        return None
    section = value.get(path[0])
    if len(path) >= 2 and isinstance(section, dict) and isinstance(path[1], str):
        return path[:2]
    field = next((f for name, f in root.model_fields.items() if path[0] in (name, f.alias)), None)
    if field is None or not field.is_required():
        return path[:1]  # an unknown key, or one with a default
    return None


def validate_parts(model: type[BaseModel], doc: LoadedYaml) -> tuple[BaseModel | None, list[Diagnostic], frozenset[str]]:
    """Validate; when some definitions fail, validate the document without them so the semantic passes
    still check every part that is valid (one lint run reports every independent error).

    Returns the model of what validated (None when a failure cannot be isolated, e.g. a required
    top-level key), the diagnostics of every failure, and the names left out: later diagnostics that
    mention them are consequences of the removal (an "unknown type" for a type that failed validation)."""
    try:
        return model.model_validate(doc.value), [], frozenset()
    except ValidationError as exc:
        errors = _filter_union_noise(exc.errors(include_url=False), doc, model)
    diagnostics = [d for d in (_diagnostic(model, doc, e) for e in errors) if d is not None]
    if not isinstance(doc.value, dict):
        return None, diagnostics, frozenset()
    value = dict(doc.value)
    names: set[str] = set()
    for _ in range(MAX_RECOVERY_ROUNDS):
        cuts = set()
        for err in errors:
            path, _, _ = _walk(model, value, tuple(err["loc"]))
            cut = _prune_key(model, value, path)
            if cut is None:
                return None, diagnostics, frozenset()
            cuts.add(cut)
        for cut in cuts:
            if len(cut) == 2 and isinstance(value.get(cut[0]), dict):
                section = dict(value[cut[0]])  # copied: the loaded document is shared with other readers
                section.pop(cut[1], None)
                value[cut[0]] = section
            else:
                value.pop(cut[0], None)
            names.add(str(cut[-1]))
        try:
            return model.model_validate(value), diagnostics, frozenset(names)
        except ValidationError as exc:  # what fails now is a consequence of a cut: cut further, report nothing
            errors = exc.errors(include_url=False)
    return None, diagnostics, frozenset()


def mentions(diagnostic: Diagnostic, names: frozenset[str]) -> bool:
    """Whether a diagnostic names one of `names` (in backticks, as every hftc message quotes names)."""
    return any(f"`{name}`" in diagnostic.message or f"`{name}." in diagnostic.message for name in names)
