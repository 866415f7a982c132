"""The notes shipped with hftc: Markdown files with a YAML front matter, read and checked here.

Front matter keys: id, title, summary, prerequisites (note ids), tags, links (what in hftc
demonstrates the topic: `example:`, `schema:`, `runtime:`, `bench:`, `doc:` or `command:`
followed by a repository path or a name) and exercise (one `hftc ...` command that runs from
the repository root over files shipped in it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

NOTE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LINK_KINDS = ("example", "schema", "runtime", "bench", "doc", "command", "test")
REQUIRED = ("id", "title", "summary", "prerequisites", "tags", "links", "exercise")


class NoteError(ValueError):
    """A shipped or user note is malformed (bad front matter, unknown prerequisite, cycle)."""


@dataclass(frozen=True)
class Note:
    id: str
    title: str
    summary: str
    prerequisites: tuple[str, ...]
    tags: tuple[str, ...]
    links: tuple[str, ...]
    exercise: str
    body: str
    path: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)


def split_front_matter(text: str, where: str) -> tuple[dict, str]:
    """(front matter mapping, Markdown body) of a note; NoteError when the front matter is missing or bad."""
    if not text.startswith("---\n"):
        raise NoteError(f"{where}: a note starts with a `---` line and a YAML front matter")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise NoteError(f"{where}: the front matter is not closed by a `---` line")
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError as exc:
        raise NoteError(f"{where}: the front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise NoteError(f"{where}: the front matter must be a mapping")
    return meta, text[end + 5:].strip() + "\n"


def parse_note(text: str, where: str) -> Note:
    meta, body = split_front_matter(text, where)
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise NoteError(f"{where}: front matter lacks {', '.join(missing)}")
    note_id = str(meta["id"])
    if not NOTE_ID.match(note_id):
        raise NoteError(f"{where}: id `{note_id}` must be lower-case letters, digits and dashes")
    lists = {}
    for key in ("prerequisites", "tags", "links"):
        value = meta[key] or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise NoteError(f"{where}: `{key}` must be a list of strings")
        lists[key] = tuple(value)
    for link in lists["links"]:
        kind = link.partition(":")[0]
        if kind not in LINK_KINDS:
            raise NoteError(f"{where}: link `{link}` must start with one of {', '.join(k + ':' for k in LINK_KINDS)}")
    exercise = str(meta["exercise"]).strip()
    if not exercise.startswith("hftc "):
        raise NoteError(f"{where}: the exercise must be one `hftc ...` command, not `{exercise}`")
    return Note(note_id, str(meta["title"]).strip(), " ".join(str(meta["summary"]).split()), lists["prerequisites"],
                lists["tags"], lists["links"], exercise, body, where,
                {k: v for k, v in meta.items() if k not in REQUIRED})


def shipped_note_files() -> list[tuple[str, str]]:
    """(file name, text) of every shipped note, sorted by name."""
    folder = resources.files("hftc.ai.knowledge") / "notes"
    files = [(p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".md")]
    return sorted(files)


def notes_digest(files: list[tuple[str, str]]) -> str:
    """Content hash of the shipped notes: the index is rebuilt when it changes."""
    h = hashlib.sha256()
    for name, text in files:
        h.update(name.encode() + b"\0" + text.encode("utf-8") + b"\0")
    return h.hexdigest()


def check_graph(notes: dict[str, Note]) -> None:
    """NoteError on a prerequisite that names no note or on a prerequisite cycle."""
    for note in notes.values():
        for pre in note.prerequisites:
            if pre not in notes:
                raise NoteError(f"{note.path}: prerequisite `{pre}` is not a note id")
    state: dict[str, int] = {}

    def visit(nid: str, trail: list[str]) -> None:
        if state.get(nid) == 2:
            return
        if state.get(nid) == 1:
            cycle = trail[trail.index(nid):] + [nid]
            raise NoteError(f"prerequisite cycle: {' -> '.join(cycle)}")
        state[nid] = 1
        for pre in notes[nid].prerequisites:
            visit(pre, trail + [nid])
        state[nid] = 2

    for nid in sorted(notes):
        visit(nid, [])


def load_shipped_notes() -> tuple[dict[str, Note], str]:
    """The shipped notes by id and their digest; NoteError when one is malformed or the graph is broken."""
    files = shipped_note_files()
    notes: dict[str, Note] = {}
    for name, text in files:
        note = parse_note(text, f"notes/{name}")
        if note.id in notes:
            raise NoteError(f"notes/{name}: id `{note.id}` is also used by {notes[note.id].path}")
        if Path(name).stem != note.id:
            raise NoteError(f"notes/{name}: the file name must be the id (`{note.id}.md`)")
        notes[note.id] = note
    check_graph(notes)
    return notes, notes_digest(files)
