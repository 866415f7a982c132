"""What the schema language says about a place in a document: the pydantic surface models read through
the same path walk validation uses, so hovers and completions follow the models without a copy."""

from __future__ import annotations

import enum
import typing
from typing import Any

from pydantic import BaseModel

from hftc.schema.document import MODELS, document_kind


def primitive_names() -> tuple[str, ...]:
    from hftc.ir.model import PRIMITIVES

    return tuple(PRIMITIVES)


def _root(value: Any) -> type[BaseModel]:
    return MODELS[document_kind(value) or "schema"]


def _choose(models: list[type[BaseModel]], data: Any) -> type[BaseModel] | None:
    """The alternative of a union the data at hand is meant to be: by its `kind`, else by its keys."""
    if len(models) <= 1:
        return models[0] if models else None
    if not isinstance(data, dict):
        return None
    kind = data.get("kind")
    for m in models:
        field = m.model_fields.get("kind")
        if field is not None and kind in typing.get_args(field.annotation):
            return m

    def fit(m: type[BaseModel]) -> tuple[int, int]:
        known = {f.alias or n for n, f in m.model_fields.items()}
        return (sum(k in known for k in data), -sum(k not in known for k in data))

    best = max(models, key=fit)
    return best if fit(best)[0] else None


def _annotation_at(value: Any, path: tuple) -> Any:
    """The type annotation of the value at `path`, following models, unions, dicts and lists."""
    from hftc.schema.validate import _unwrap

    annotation: Any = _root(value)
    for i, step in enumerate(path):
        data = _data(value, path[:i])
        alternatives = _unwrap(annotation)
        container = None
        for a in alternatives:
            origin, args = typing.get_origin(a), typing.get_args(a)
            if origin is dict and isinstance(data, dict) and args:
                container = args[1]
            elif origin in (list, tuple) and isinstance(data, list) and args:
                container = args[0]
        if container is not None:
            annotation = container
            continue
        model = _choose([a for a in alternatives if isinstance(a, type) and issubclass(a, BaseModel)], data)
        annotation = _annotation(model, step)
        if annotation is None:
            return None
    return annotation


def model_at(value: Any, path: tuple) -> type[BaseModel] | None:
    """The surface model of the mapping at `path` (None for a scalar or an unknown place)."""
    from hftc.schema.validate import _unwrap

    annotation = _annotation_at(value, path)
    if annotation is None:
        return None
    models = [a for a in _unwrap(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    return _choose(models, _data(value, path))


def _data(value: Any, path: tuple) -> Any:
    for step in path:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            return None
    return value


def _annotation(model: type[BaseModel] | None, key: Any) -> Any:
    if model is None:
        return None
    for name, f in model.model_fields.items():
        if key in (name, f.alias):
            return f.annotation
    return None


def _alternatives(annotation: Any) -> list[Any]:
    from hftc.schema.validate import _unwrap

    out = []
    for a in _unwrap(annotation):
        origin = typing.get_origin(a)
        if origin in (dict, list, tuple):
            args = typing.get_args(a)
            out.extend(_alternatives(args[-1] if origin is dict else args[0]) if args else [])
        else:
            out.append(a)
    return out


def _describe(annotation: Any) -> str:
    text = str(annotation).replace("typing.", "")
    for prefix in ("hftc.schema.", "<class '"):
        text = text.replace(prefix, "")
    return text.replace("'>", "")


def field_info(value: Any, path: tuple) -> tuple[str, str, str] | None:
    """(key, description, type) of the key at the end of `path`."""
    if not path or not isinstance(path[-1], str):
        return None
    parent = model_at(value, path[:-1])
    if parent is None:
        return None
    for name, f in parent.model_fields.items():
        if path[-1] in (name, f.alias):
            return f.alias or name, f.description or "", _describe(f.annotation)
    return None


def keys_at(value: Any, path: tuple) -> list[tuple[str, str]]:
    """The keys the mapping at `path` accepts, with their descriptions."""
    model = model_at(value, path)
    if model is None:
        return []
    return [(f.alias or name, f.description or "") for name, f in model.model_fields.items()]


def literal_values(value: Any, path: tuple) -> list[str]:
    """The values a key with a fixed set of choices accepts (a Literal or an Enum)."""
    if not path:
        return []
    annotation = _annotation_at(value, path)
    out: list[str] = []
    for a in _alternatives(annotation):
        if typing.get_origin(a) is typing.Literal:
            out.extend(str(x) for x in typing.get_args(a))
        elif isinstance(a, type) and issubclass(a, enum.Enum):
            out.extend(str(m.value) for m in a)
    return list(dict.fromkeys(out))


def component_kinds() -> list[str]:
    from hftc.schema.system import Component

    kinds = []
    for a in _alternatives(Component):
        if isinstance(a, type) and issubclass(a, BaseModel) and "kind" in a.model_fields:
            kinds.extend(typing.get_args(a.model_fields["kind"].annotation))
    return kinds
