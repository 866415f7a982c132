"""Learning paths: relevant notes plus everything they need, ordered so that prerequisites come first."""

from __future__ import annotations

from hftc.ai.knowledge.notes import Note


def closure(notes: dict[str, Note], note_id: str) -> list[str]:
    """`note_id` and all its transitive prerequisites, prerequisites first (depth-first, declared order)."""
    out: list[str] = []

    def visit(nid: str) -> None:
        if nid in out:
            return
        for pre in notes[nid].prerequisites:
            visit(pre)
        out.append(nid)

    visit(note_id)
    return out


def learning_path(notes: dict[str, Note], ranked: list[str], limit: int) -> list[str]:
    """Note ids for a path: the ranked notes taken best first, each with its missing prerequisites, as
    long as the whole fits in `limit`; a note whose prerequisites do not fit is skipped, never shown
    without them. The result is a topological order (every note after its prerequisites)."""
    path: list[str] = []
    for nid in ranked:
        if len(path) >= limit:
            break
        if nid not in notes or nid in path:
            continue
        missing = [n for n in closure(notes, nid) if n not in path]
        if len(path) + len(missing) <= limit:
            path.extend(missing)  # closure order is already prerequisites first
    return path


def is_topological(notes: dict[str, Note], path: list[str]) -> bool:
    """Every note of `path` comes after each of its prerequisites, and they are all in it."""
    seen: set[str] = set()
    for nid in path:
        if any(pre not in seen for pre in notes[nid].prerequisites):
            return False
        seen.add(nid)
    return True
