"""Surface models: the schema language as users write it (pydantic v2)."""
