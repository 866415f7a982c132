"""The knowledge index: one SQLite file with an FTS5 table ranked by BM25.

Shipped notes are indexed on open and re-indexed when their content hash changes; the
user's documents stay until re-added (replaced when their bytes changed) or removed.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from hftc.ai.knowledge.ingest import Document, IngestError, collect, read_document
from hftc.ai.knowledge.notes import Note, load_shipped_notes

SCHEMA_VERSION = "1"
# BM25 column weights: title, tags, body (a word in a title says more than one in a paragraph).
WEIGHTS = (6.0, 3.0, 1.0)
RELEVANCE_FLOOR = 0.25  # of the best hit's score, for a note to enter a curriculum by itself
_WORD = re.compile(r"[\w]+", re.UNICODE)
# Words that carry no topic: grammar, and the filler of requests ("create a ... system", "... techniques").
_STOP = frozenset("""a an and are as at be by for from how in is it of on or the to what with i my we me our about
into this that want need learn create build develop development using use techniques patterns strategies system
systems""".split())


def default_db_path(env: dict[str, str] | None = None) -> Path:
    """$HFTC_KNOWLEDGE_DB, else $XDG_DATA_HOME/hftc/knowledge.db, else ~/.local/share/hftc/knowledge.db."""
    env = dict(os.environ) if env is None else env
    if env.get("HFTC_KNOWLEDGE_DB"):
        return Path(env["HFTC_KNOWLEDGE_DB"])
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return base / "hftc" / "knowledge.db"


@dataclass(frozen=True)
class Hit:
    """One search result: a note (`source` is `note`) or a chunk of a document (`source` is its path)."""

    id: str
    title: str
    score: float  # higher is better (the negated BM25 rank)
    source: str
    snippet: str
    kind: str = "note"
    page: int | None = None


@dataclass(frozen=True)
class Unit:
    """One step of a learning path: a note, what it needs first, and the command that exercises it."""

    id: str
    title: str
    prerequisites: tuple[str, ...]
    exercise: str
    summary: str
    links: tuple[str, ...] = ()
    pulled_in: bool = False  # added as a prerequisite of a relevant note, not found by the goal itself


def fts_query(text: str) -> str:
    """The words of `text` as an FTS5 OR-query of quoted terms, plus each pair of adjacent words as a
    phrase, so that a note about "market making" outranks notes that merely say "market" and "make"
    (no FTS syntax of the user's text reaches SQLite)."""
    words = [w.lower() for w in _WORD.findall(text)]
    terms = [w for w in words if w not in _STOP] or words
    pairs = [f"{a} {b}" for a, b in zip(words, words[1:]) if a not in _STOP and b not in _STOP]
    unique = list(dict.fromkeys(terms + pairs))
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in unique)


class KnowledgeBase:
    """Shipped notes and the user's documents behind one BM25 search."""

    def __init__(self, conn: sqlite3.Connection, path: Path, notes: dict[str, Note]):
        self.conn, self.path, self.notes = conn, path, notes
        # One connection, usable from any thread (an async caller may hand work to a thread pool);
        # the lock keeps one thread's transaction from interleaving with another's statements.
        self.lock = threading.RLock()

    @classmethod
    def open(cls, path: Path | None = None) -> KnowledgeBase:
        """Open (creating if needed) the index at `path` (None: `default_db_path()`), notes up to date."""
        path = Path(path) if path is not None else default_db_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        notes, digest = load_shipped_notes()
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        kb = cls(conn, path, notes)
        kb._prepare(digest)
        return kb

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- index maintenance -------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _prepare(self, digest: str) -> None:
        with self.lock, self.conn:
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            if self._meta("schema_version") not in (None, SCHEMA_VERSION):
                for table in ("entries", "documents"):
                    self.conn.execute(f"DROP TABLE IF EXISTS {table}")
                self.conn.execute("DELETE FROM meta")
            self.conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS entries USING fts5("
                "title, tags, body, ref UNINDEXED, kind UNINDEXED, source UNINDEXED, page UNINDEXED, "
                "tokenize = 'porter unicode61')")
            self.conn.execute("CREATE TABLE IF NOT EXISTS documents (source TEXT PRIMARY KEY, kind TEXT NOT NULL, "
                              "digest TEXT NOT NULL, chunks INTEGER NOT NULL)")
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            if self._meta("notes_digest") != digest:
                self.conn.execute("DELETE FROM entries WHERE kind = 'note'")
                for note in self.notes.values():
                    self.conn.execute(
                        "INSERT INTO entries (title, tags, body, ref, kind, source, page) "
                        "VALUES (?, ?, ?, ?, 'note', 'note', NULL)",
                        (note.title, " ".join(note.tags), f"{note.summary}\n\n{note.body}", note.id))
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('notes_digest', ?)", (digest,))

    @property
    def notes_digest(self) -> str:
        return self._meta("notes_digest") or ""

    def add_paths(self, paths) -> int:
        """Ingest files and folders (Markdown, text, PDF). Returns how many documents were added or
        updated; a document whose bytes did not change since it was added is skipped (idempotent).
        Raises IngestError before indexing anything if one of them cannot be read."""
        files = collect([Path(p) for p in paths])
        docs = [read_document(f) for f in files]  # read every file before writing: all or nothing
        changed = 0
        with self.lock, self.conn:
            for doc in docs:
                row = self.conn.execute("SELECT digest FROM documents WHERE source = ?", (doc.source,)).fetchone()
                if row is not None and row[0] == doc.digest:
                    continue
                self._replace(doc)
                changed += 1
        return changed

    def _replace(self, doc: Document) -> None:
        self.conn.execute("DELETE FROM entries WHERE kind = 'doc' AND source = ?", (doc.source,))
        for number, chunk in enumerate(doc.chunks, start=1):
            ref = f"{doc.source}#{number}"
            self.conn.execute(
                "INSERT INTO entries (title, tags, body, ref, kind, source, page) VALUES (?, '', ?, ?, 'doc', ?, ?)",
                (chunk.title, chunk.text, ref, doc.source, chunk.page))
        self.conn.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?)",
                          (doc.source, doc.kind, doc.digest, len(doc.chunks)))

    def remove(self, paths) -> int:
        """Forget documents (by the path they were added with). Returns how many were known."""
        removed = 0
        with self.lock, self.conn:
            for p in paths:
                source = str(Path(p).resolve())
                cur = self.conn.execute("DELETE FROM documents WHERE source = ?", (source,))
                self.conn.execute("DELETE FROM entries WHERE kind = 'doc' AND source = ?", (source,))
                removed += cur.rowcount
        return removed

    def documents(self) -> list[tuple[str, str, int]]:
        """(source, kind, chunks) of every ingested document."""
        with self.lock:
            rows = self.conn.execute("SELECT source, kind, chunks FROM documents ORDER BY source").fetchall()
        return [tuple(r) for r in rows]

    # -- queries -----------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 10, kind: str | None = None) -> list[Hit]:
        """Notes and document chunks best matching `query`, best first (BM25; `kind` = note or doc)."""
        match = fts_query(query)
        if not match or limit <= 0:
            return []
        sql = ("SELECT ref, title, kind, source, page, bm25(entries, ?, ?, ?) AS rank, "
               "snippet(entries, 2, '[', ']', ' ... ', 16) FROM entries WHERE entries MATCH ?")
        args: list = [*WEIGHTS, match]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        sql += " ORDER BY rank, ref LIMIT ?"
        args.append(int(limit))
        hits = []
        with self.lock:
            rows = self.conn.execute(sql, args).fetchall()
        for ref, title, k, source, page, rank, snippet in rows:
            hits.append(Hit(ref, title, round(-float(rank), 6), source, " ".join(snippet.split()), k,
                            int(page) if page is not None else None))
        return hits

    def passage(self, ref: str) -> str:
        """The whole indexed text of a hit (a note's summary and body, or a document chunk)."""
        with self.lock:
            row = self.conn.execute("SELECT body FROM entries WHERE ref = ?", (ref,)).fetchone()
        return row[0] if row else ""

    def note(self, note_id: str) -> Note | None:
        return self.notes.get(note_id)

    def curriculum(self, goal: str, limit: int = 8) -> list[Unit]:
        """The notes relevant to `goal` with their prerequisites pulled in, in an order where every
        note comes after the notes it needs (at most `limit` units; a note is left out rather than
        shown without its prerequisites)."""
        from hftc.ai.knowledge.curriculum import learning_path

        hits = self.search(goal, limit=max(3 * limit, 12), kind="note")
        # Notes far below the best match only share common words with the goal: leave them out.
        kept = [h for h in hits if h.score >= RELEVANCE_FLOOR * hits[0].score] if hits else []
        ranked = [h.id for h in kept]
        path = learning_path(self.notes, ranked, limit, {h.id: h.score for h in kept})
        found = set(ranked)
        units = []
        for nid in path:
            n = self.notes[nid]
            units.append(Unit(n.id, n.title, n.prerequisites, n.exercise, n.summary, n.links, nid not in found))
        return units

    def stats(self) -> dict:
        with self.lock:
            docs = self.conn.execute("SELECT count(*), coalesce(sum(chunks), 0) FROM documents").fetchone()
        return {"path": str(self.path), "notes": len(self.notes), "documents": docs[0], "chunks": docs[1],
                "notes_digest": self.notes_digest}


def hits_to_json(hits: list[Hit]) -> list[dict]:
    return [{"id": h.id, "title": h.title, "score": h.score, "kind": h.kind, "source": h.source, "page": h.page,
             "snippet": h.snippet} for h in hits]


def units_to_json(units: list[Unit]) -> list[dict]:
    return [{"id": u.id, "title": u.title, "prerequisites": list(u.prerequisites), "exercise": u.exercise,
             "summary": u.summary, "links": list(u.links), "pulled_in": u.pulled_in} for u in units]


__all__ = ["Hit", "IngestError", "KnowledgeBase", "Unit", "default_db_path", "hits_to_json", "units_to_json"]
