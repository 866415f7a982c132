"""The JSON Schema editors use to validate and complete schema files."""

from __future__ import annotations

import json


def editor_json_schema() -> dict:
    from pydantic.json_schema import models_json_schema

    from hftc.schema.document import ComponentDocument, SchemaDocument, StrategyTemplateDocument

    models = [(SchemaDocument, "validation"), (ComponentDocument, "validation"), (StrategyTemplateDocument, "validation")]
    _, top = models_json_schema(models, by_alias=True, ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://hftc.dev/schemas/hftc.schema.json",
        "title": "hftc schema",
        "description": "A trading-system schema for hftc: a full schema (hftc: 1), a component document or a strategy template.",
        "anyOf": [{"$ref": f"#/$defs/{m.__name__}"} for m, _ in models],
        "$defs": top["$defs"],
    }


def editor_json_schema_text() -> str:
    return json.dumps(editor_json_schema(), indent=2, sort_keys=True) + "\n"


def ir_json_schema_text() -> str:
    from hftc.ir.serialize import ir_json_schema

    return json.dumps(ir_json_schema(), indent=2, sort_keys=True) + "\n"
