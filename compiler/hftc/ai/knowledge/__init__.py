"""The knowledge base: notes shipped with hftc and the user's documents, searched with SQLite FTS5 (BM25)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hftc.ai.knowledge.ingest import IngestError
    from hftc.ai.knowledge.notes import Note, NoteError
    from hftc.ai.knowledge.store import Hit, KnowledgeBase, Unit, default_db_path

# Loaded on first use, so that `hftc --help` (which registers `hftc learn`) does not pay for SQLite and YAML.
_WHERE = {"IngestError": "ingest", "Note": "notes", "NoteError": "notes", "Hit": "store", "KnowledgeBase": "store",
          "Unit": "store", "default_db_path": "store"}

__all__ = ["Hit", "IngestError", "KnowledgeBase", "Note", "NoteError", "Unit", "default_db_path"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"hftc.ai.knowledge.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'hftc.ai.knowledge' has no attribute {name!r}")
