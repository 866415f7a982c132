"""Shared pieces of the surface models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PRIMITIVES = (
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "char",
)
INTEGER_PRIMITIVES = PRIMITIVES[:8]


class Surface(BaseModel):
    """Base for every surface model: strict types, unknown keys are errors.

    Validators are built on first use (defer_build), not at import: a lint validates one document form,
    so the other forms' validators and every sub-model's own are work it does not need."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True, defer_build=True)


def F(description: str, *examples: Any, **kwargs: Any) -> Any:
    """A pydantic Field with the hover text editors show and at least one example."""
    return Field(description=description, examples=list(examples), **kwargs)
