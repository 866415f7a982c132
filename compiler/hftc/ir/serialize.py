"""Exact JSON round trip of the IR, and its published JSON Schema."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from hftc.ir.model import Schema


@lru_cache(maxsize=1)
def _adapter():
    from pydantic import TypeAdapter

    return TypeAdapter(Schema)


def ir_to_dict(ir: Schema) -> dict[str, Any]:
    return _adapter().dump_python(ir, mode="json")


def ir_to_json(ir: Schema, indent: int | None = 2) -> str:
    return json.dumps(ir_to_dict(ir), indent=indent, sort_keys=False, ensure_ascii=False) + "\n"


def ir_from_json(text: str | bytes) -> Schema:
    return _adapter().validate_python(json.loads(text))


def ir_json_schema() -> dict[str, Any]:
    schema = _adapter().json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "hftc IR"
    return schema
