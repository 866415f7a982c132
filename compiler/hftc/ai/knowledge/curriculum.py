"""Learning paths: relevant notes plus everything they need, ordered so that prerequisites come first."""

from __future__ import annotations

from hftc.ai.knowledge.notes import Note

RELEVANCE_POWER = 1.5  # > 1: relevance counts for more than the number of notes it costs


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


def learning_path(notes: dict[str, Note], ranked: list[str], limit: int,
                  scores: dict[str, float] | None = None) -> list[str]:
    """Note ids for a path of at most `limit` notes, each after its prerequisites (a topological order).

    Greedy by relevance per note of study: the next note taken is the one whose score (to the
    power RELEVANCE_POWER) divided by the number of notes it adds (itself and its missing
    prerequisites) is highest, so a broad goal gets the relevant basics of each of its topics
    before one deep chain takes the whole budget, while a clearly better match still beats a
    cheap, loosely related note. A note whose prerequisites do not fit is skipped, never shown without them. Without
    `scores`, the rank order stands in for them.
    """
    candidates = [nid for nid in dict.fromkeys(ranked) if nid in notes]
    weight = scores or {nid: float(len(candidates) - i) for i, nid in enumerate(candidates)}
    path: list[str] = []
    while len(path) < limit:
        best: tuple[float, int, list[str]] | None = None
        for rank, nid in enumerate(candidates):
            if nid in path:
                continue
            missing = [n for n in closure(notes, nid) if n not in path]
            if len(path) + len(missing) > limit:
                continue
            key = (weight.get(nid, 0.0) ** RELEVANCE_POWER / len(missing), -rank)
            if best is None or key > best[:2]:
                best = (key[0], key[1], missing)
        if best is None:
            break
        path.extend(best[2])  # closure order is already prerequisites first
    return path


def is_topological(notes: dict[str, Note], path: list[str]) -> bool:
    """Every note of `path` comes after each of its prerequisites, and they are all in it."""
    seen: set[str] = set()
    for nid in path:
        if any(pre not in seen for pre in notes[nid].prerequisites):
            return False
        seen.add(nid)
    return True
