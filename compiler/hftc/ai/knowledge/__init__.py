"""The knowledge base: notes shipped with hftc and the user's documents, searched with SQLite FTS5 (BM25)."""

from hftc.ai.knowledge.ingest import IngestError
from hftc.ai.knowledge.notes import Note, NoteError
from hftc.ai.knowledge.store import Hit, KnowledgeBase, Unit, default_db_path

__all__ = ["Hit", "IngestError", "KnowledgeBase", "Note", "NoteError", "Unit", "default_db_path"]
