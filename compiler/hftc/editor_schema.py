"""The JSON Schema editors use to validate and complete schema files."""

from __future__ import annotations

import json
import re
from pathlib import Path

SCHEMA_FILE = "hftc.schema.json"


def _human_title(model: type) -> str:
    """A model's title: the first sentence of its docstring when short, else its name in words."""
    doc = (model.__doc__ or "").strip()
    first = re.split(r"(?<=[.:;])\s", doc, maxsplit=1)[0].rstrip(".:;") if doc else ""
    if first and len(first) <= 60 and "\n" not in first:
        return first[0].upper() + first[1:]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", model.__name__).lower()
    return words[0].upper() + words[1:]


def _generator():
    from pydantic.json_schema import GenerateJsonSchema

    class EditorSchema(GenerateJsonSchema):
        """Titles people read: a property gets none (editors then show its description, not pydantic's
        `Budget Ns`, which some showed twice for an optional field), a model gets its docstring's."""

        def field_title_should_be_set(self, schema) -> bool:
            return False

        def model_schema(self, schema):
            out = super().model_schema(schema)
            cls = schema.get("cls")
            if cls is not None and isinstance(out, dict) and "title" in out:
                out["title"] = _human_title(cls)
            return out

    return EditorSchema


def _strip_auto_titles(node) -> None:
    """Titles pydantic derives from names inside unions and type aliases ("Budget Ns") go too. The
    alternatives of a union of plain types are sorted: Python caches equal unions, so their order
    otherwise depends on which module spelt the union first."""
    if isinstance(node, dict):
        if isinstance(node.get("title"), str) and "description" not in node and "properties" not in node:
            del node["title"]
        alternatives = node.get("anyOf")
        if isinstance(alternatives, list) and all(isinstance(a, dict) and set(a) == {"type"} for a in alternatives):
            alternatives.sort(key=lambda a: str(a["type"]))
        for value in node.values():
            _strip_auto_titles(value)
    elif isinstance(node, list):
        for value in node:
            _strip_auto_titles(value)


def editor_json_schema() -> dict:
    from pydantic.json_schema import models_json_schema

    from hftc.schema.document import ComponentDocument, SchemaDocument, StrategyTemplateDocument

    models = [(SchemaDocument, "validation"), (ComponentDocument, "validation"), (StrategyTemplateDocument, "validation")]
    _, top = models_json_schema(models, by_alias=True, ref_template="#/$defs/{model}",
                                schema_generator=_generator())
    defs = top["$defs"]
    for definition in defs.values():
        for prop in definition.get("properties", {}).values():
            _strip_auto_titles(prop)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://hftc.dev/schemas/hftc.schema.json",
        "title": "hftc schema",
        "description": "A trading-system schema for hftc: a full schema (hftc: 1), a component document or a strategy template.",
        "anyOf": [{"$ref": f"#/$defs/{m.__name__}"} for m, _ in models],
        "$defs": defs,
    }


def editor_json_schema_text() -> str:
    return json.dumps(editor_json_schema(), indent=2, sort_keys=True) + "\n"


def installed_schema_path() -> Path:
    """The editor JSON Schema file installed with hftc (`schemas/` in a source checkout); tests keep it
    equal to `hftc schema`, so a modeline pointing here works offline and matches this compiler."""
    package = Path(__file__).resolve().parent
    checkout = package.parent.parent / "schemas" / SCHEMA_FILE
    return checkout if checkout.is_file() else package / SCHEMA_FILE


def modeline() -> str:
    """The first line of a schema file that tells yaml-language-server which JSON Schema to use."""
    return f"# yaml-language-server: $schema={installed_schema_path().as_posix()}"


def ir_json_schema_text() -> str:
    from hftc.ir.serialize import ir_json_schema

    return json.dumps(ir_json_schema(), indent=2, sort_keys=True) + "\n"
