"""`hftc breaking`: exit 1 when NEW cannot replace OLD on the wire (or in generated code)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer


class Category(str, Enum):
    wire = "wire"
    source = "source"


class BreakingFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def breaking_cmd(
    schemas: List[Path] = typer.Argument(..., metavar="[OLD] NEW", help="OLD and NEW schema files, or NEW alone "
                                         "with --against."),
    against: Optional[str] = typer.Option(None, "--against", metavar="GIT_REF", help="Compare NEW with the same "
                                          "path at this git revision (HEAD, main, a tag, a commit)."),
    category: Optional[List[Category]] = typer.Option(None, "--category", help="Rule category to check; repeat "
                                                      "for several (default: wire and source)."),
    error_format: BreakingFormat = typer.Option(BreakingFormat.text, "--error-format",
                                                help="Diagnostics as text, json or github."),
) -> None:
    """Check that NEW stays compatible with OLD: exit 1 on a breaking change, 0 when compatible."""
    from hftc.diagnostics.color import wants_color
    from hftc.diagnostics.model import Severity, has_errors, sort_diagnostics
    from hftc.diagnostics.render import render_all
    from hftc.evolution import CATEGORIES, compare
    from hftc.evolution.load import Side, from_file, from_git

    def emit(diagnostics, texts) -> None:
        if diagnostics:
            stream = sys.stderr if error_format is BreakingFormat.text else sys.stdout
            print(render_all(diagnostics, error_format.value, texts, color=wants_color(stream)), file=stream)

    def say(text: str) -> None:
        if error_format is BreakingFormat.text:
            print(text, file=sys.stderr)

    if against is None and len(schemas) != 2:
        print("error: give OLD and NEW schema files, or NEW and --against GIT_REF", file=sys.stderr)
        raise typer.Exit(2)
    if against is not None and len(schemas) != 1:
        print("error: with --against give only NEW (OLD is NEW's path at the revision)", file=sys.stderr)
        raise typer.Exit(2)
    new = from_file(str(schemas[-1]))
    if against is None:
        old = from_file(str(schemas[0]))
    else:
        loaded = from_git(str(schemas[-1]), against)
        if loaded is None:
            say(f"note: {schemas[-1]} did not exist at {against}; nothing to compare")
            raise typer.Exit(0)
        if not isinstance(loaded, Side):
            emit([loaded], {})
            raise typer.Exit(2)
        old = loaded
    texts = {**old.texts, **new.texts}
    broken = False
    for side in (old, new):
        errors = [side.diagnostic(d) for d in side.result.diagnostics if d.severity is Severity.ERROR]
        if errors or side.result.ir is None:
            emit(errors, texts)
            say(f"error: {side.name} does not compile; nothing was compared (`hftc lint` shows every problem)")
            broken = True
    if broken:
        raise typer.Exit(2)
    picked = [c.value for c in category] if category else list(CATEGORIES)
    found = compare(old.result.ir, new.result.ir, categories=picked, old_name=old.name, old_span=old.span,
                    new_anchors=new.anchors(), old_anchors=old.anchors())
    found = sort_diagnostics(found)
    emit(found, texts)
    if has_errors(found):
        raise typer.Exit(1)
    say(f"{new.name} is compatible with {old.name} ({' and '.join(picked)} rules)")
