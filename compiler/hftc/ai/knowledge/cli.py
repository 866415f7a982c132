"""The `hftc learn` commands; imports only typer at load so `hftc --help` stays fast."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

learn_app = typer.Typer(help="The knowledge base: notes shipped with hftc and your own documents.",
                        no_args_is_help=True, add_completion=False)


class Kind(str, Enum):
    all = "all"
    note = "note"
    doc = "doc"


def _db_option():
    return typer.Option(None, "--db", help="Index file (default: $HFTC_KNOWLEDGE_DB, then "
                        "$XDG_DATA_HOME/hftc/knowledge.db).")


def _fail(code: str, message: str, help: str | None = None, json_output: bool = False,
          exit_code: int = 1) -> typer.Exit:
    from hftc.diagnostics.model import error
    from hftc.diagnostics.render import render_all

    diag = error(code, message, None, help=help)
    if json_output:
        print(render_all([diag], "json", {}))
    else:
        print(render_all([diag], "text", {}), file=sys.stderr)
    return typer.Exit(exit_code)


def _open(db: Path | None, json_output: bool):
    import sqlite3

    from hftc.ai.knowledge import KnowledgeBase, NoteError

    try:
        return KnowledgeBase.open(db)
    except NoteError as exc:
        raise _fail("HFT1341", f"the shipped notes are broken: {exc}", "reinstall hftc", json_output)
    except (sqlite3.Error, OSError) as exc:
        where = db or "the default index"
        raise _fail("HFT1341", f"cannot open the knowledge index {where}: {exc}",
                    "pass --db FILE or set HFTC_KNOWLEDGE_DB to a writable place", json_output)


def _print_json(data) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False))


@learn_app.command("add")
def add_cmd(
    paths: list[Path] = typer.Argument(..., help="Markdown (.md), text (.txt) or PDF files, or folders of them."),
    db: Path | None = _db_option(),
    json_output: bool = typer.Option(False, "--json", help="Print what was indexed as JSON."),
) -> None:
    """Index your own documents (chunked, with file and page); re-adding an unchanged file does nothing."""
    from hftc.ai.knowledge import IngestError

    kb = _open(db, json_output)
    try:
        before = {s for s, _k, _c in kb.documents()}
        changed = kb.add_paths(paths)
    except IngestError as exc:
        raise _fail("HFT1340", str(exc), "supported: .md, .markdown, .txt, .text, .pdf; nothing was indexed",
                    json_output)
    docs = kb.documents()
    stats = kb.stats()
    kb.close()
    if json_output:
        _print_json({"changed": changed, "documents": [{"source": s, "kind": k, "chunks": c,
                                                          "new": s not in before} for s, k, c in docs],
                     "index": stats})
        return
    print(f"indexed {changed} new or changed document(s); {stats['documents']} document(s), "
          f"{stats['chunks']} chunk(s) and {stats['notes']} notes in {stats['path']}", file=sys.stderr)


@learn_app.command("remove")
def remove_cmd(
    paths: list[Path] = typer.Argument(..., help="Documents to forget (as added)."),
    db: Path | None = _db_option(),
) -> None:
    """Forget documents added with `hftc learn add`."""
    kb = _open(db, False)
    removed = kb.remove(paths)
    kb.close()
    print(f"removed {removed} document(s)", file=sys.stderr)


@learn_app.command("search")
def search_cmd(
    topic: str = typer.Argument(..., help="What to look for, in plain words."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=200, help="Most results to show."),
    kind: Kind = typer.Option(Kind.all, "--kind", help="all, note (shipped notes) or doc (your documents)."),
    db: Path | None = _db_option(),
    json_output: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Rank notes and your documents for TOPIC (SQLite FTS5, BM25)."""
    from hftc.ai.knowledge.store import hits_to_json

    kb = _open(db, json_output)
    hits = kb.search(topic, limit, None if kind is Kind.all else kind.value)
    kb.close()
    if json_output:
        _print_json({"query": topic, "results": hits_to_json(hits)})
        return
    if not hits:
        print(f"nothing found for `{topic}`", file=sys.stderr)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    table = Table(title=escape(f"hftc learn search: {topic}"))
    for col in ("#", "score", "id / source", "title", "snippet"):
        table.add_column(col, overflow="fold")
    for n, h in enumerate(hits, start=1):
        where = h.id if h.kind == "note" else h.source + (f" p.{h.page}" if h.page else "")
        table.add_row(str(n), f"{h.score:.2f}", Text(where), Text(h.title), Text(h.snippet))
    Console().print(table)


@learn_app.command("notes")
def notes_cmd(
    db: Path | None = _db_option(),
    json_output: bool = typer.Option(False, "--json", help="Print the notes as JSON."),
) -> None:
    """List the notes shipped with hftc (prerequisites first) and the documents you added."""
    from hftc.ai.knowledge.curriculum import closure

    kb = _open(db, json_output)
    order: list[str] = []
    for nid in sorted(kb.notes):
        order.extend(n for n in closure(kb.notes, nid) if n not in order)
    notes = [kb.notes[n] for n in order]
    docs = kb.documents()
    kb.close()
    if json_output:
        _print_json({"notes": [{"id": n.id, "title": n.title, "prerequisites": list(n.prerequisites),
                                "tags": list(n.tags), "links": list(n.links), "exercise": n.exercise} for n in notes],
                     "documents": [{"source": s, "kind": k, "chunks": c} for s, k, c in docs]})
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(notes)} notes, {len(docs)} document(s)")
    for col in ("id", "title", "needs"):
        table.add_column(col, overflow="fold")
    for n in notes:
        table.add_row(n.id, Text(n.title), ", ".join(n.prerequisites) or "-")
    Console().print(table)


@learn_app.command("show")
def show_cmd(
    note_id: str = typer.Argument(..., help="A note id, e.g. lock-free-rings."),
    db: Path | None = _db_option(),
) -> None:
    """Print a note with its prerequisites, links and exercise."""
    kb = _open(db, False)
    note = kb.note(note_id)
    known = sorted(kb.notes)
    kb.close()
    if note is None:
        from hftc.diagnostics.model import did_you_mean

        raise _fail("HFT1342", f"no note `{note_id}`", did_you_mean(note_id, known) or "see `hftc learn search`")
    print(f"# {note.title}  [{note.id}]\n")
    print(f"prerequisites: {', '.join(note.prerequisites) or 'none'}")
    print(f"links: {', '.join(note.links)}")
    print(f"exercise: {note.exercise}\n")
    print(note.body)


@learn_app.command("curriculum")
def curriculum_cmd(
    goal: str = typer.Argument(..., help="What you want to learn, in plain words."),
    limit: int = typer.Option(8, "--limit", "-n", min=1, max=100, help="Most units in the path."),
    db: Path | None = _db_option(),
    json_output: bool = typer.Option(False, "--json", help="Print the path (and summary) as JSON."),
    provider: str | None = typer.Option(None, "--provider", help="Summarise with a model: openai, anthropic, google or a custom model name (default: the AI config, else no summary)."),
    model: str | None = typer.Option(None, "--model", help="Model id (default: the provider's)."),
    offline: bool = typer.Option(False, "--offline", help="With a model configured: use only its reply cache."),
    no_summary: bool = typer.Option(False, "--no-summary", help="Never ask a model, even when one is configured."),
    config_file: Path | None = typer.Option(None, "--config", help="AI config file (default: $HFTC_AI_CONFIG, then ~/.config/hftc/ai.toml)."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Reply cache folder (default: $HFTC_AI_CACHE, then the build cache)."),
) -> None:
    """A learning path for GOAL: the relevant notes, prerequisites first, each with an exercise that runs."""
    import dataclasses

    from hftc.ai.config import ConfigError, load_config
    from hftc.ai.knowledge.engine import AILearningEngine
    from hftc.ai.providers import ProviderError

    try:
        config = load_config(config_file)
    except ConfigError as exc:
        raise _fail("HFT1301", str(exc), json_output=json_output, exit_code=2)
    config = dataclasses.replace(config, provider=provider or config.provider, model=model or config.model)
    _open(db, json_output).close()  # a clear diagnostic for an unusable index before anything else
    engine = AILearningEngine(db, config, offline=offline, cache_dir=cache_dir)
    import asyncio

    try:
        result = asyncio.run(engine.generate_curriculum(goal, limit, summarize=not no_summary))
    except ConfigError as exc:
        raise _fail("HFT1301", str(exc), "or pass --no-summary", json_output, exit_code=2)
    except ProviderError as exc:
        raise _fail("HFT1302", str(exc), "check the provider settings, pass --offline, or --no-summary", json_output)
    finally:
        engine.close()
    summary = result["summary"]
    if summary and summary["dropped_citations"]:
        from hftc.diagnostics.model import warning
        from hftc.diagnostics.render import render_all

        diag = warning("HFT1343", "the model's summary cited ids that are not notes of this path: "
                       + ", ".join(summary["dropped_citations"]) + "; they were removed", None)
        if not json_output:
            print(render_all([diag], "text", {}), file=sys.stderr)
    if json_output:
        _print_json(result)
        return
    _print_path(goal, result, config.provider is not None and not no_summary, offline)


def _print_path(goal: str, result: dict, wanted_summary: bool, offline: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    units = result["units"]
    if not units:
        print(f"no note matches `{goal}`; try other words, or `hftc learn search`", file=sys.stderr)
        return
    table = Table(title=escape(f"Learning path: {goal}"))
    for col in ("#", "id", "title", "needs", "exercise"):
        table.add_column(col, overflow="fold")
    for n, u in enumerate(units, start=1):
        title = u["title"] + (" (prerequisite)" if u["pulled_in"] else "")
        table.add_row(str(n), u["id"], escape(title), ", ".join(u["prerequisites"]) or "-", escape(u["exercise"]))
    console.print(table)
    summary = result["summary"]
    if summary:
        console.print(f"\n[bold]Summary[/bold] ({summary['rounds']} round(s); cites {', '.join(summary['cited'])}):")
        console.print(summary["text"], markup=False)
        if summary["usage"]:
            u = summary["usage"]
            print(f"usage: {u['calls']} call(s), {u['cached']} from cache; tokens {u['input_tokens']} in, "
                  f"{u['output_tokens']} out", file=sys.stderr)
    elif wanted_summary and offline:
        print("note: offline and no cached summary for this path", file=sys.stderr)
    print("Exercises run from the hftc repository root; `hftc learn show ID` prints a note.", file=sys.stderr)
