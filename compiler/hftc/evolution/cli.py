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
    schemas: List[Path] = typer.Argument(..., help="OLD and NEW schema files, or one or "
                                         "more NEW files with --against."),
    against: Optional[str] = typer.Option(None, "--against", metavar="GIT_REF", help="Compare NEW with the same "
                                          "path at this git revision (HEAD, main, a tag, a commit)."),
    category: Optional[List[Category]] = typer.Option(None, "--category", help="Rule category to check; repeat "
                                                      "for several (default: wire and source)."),
    error_format: BreakingFormat = typer.Option(BreakingFormat.text, "--error-format",
                                                help="Diagnostics as text, json or github."),
) -> None:
    """Check that NEW stays compatible with OLD: exit 1 on a breaking change, 0 when compatible, 2 when a
    schema does not compile or git cannot read the old one."""
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
        print("error: give OLD and NEW schema files, or NEW... and --against GIT_REF", file=sys.stderr)
        raise typer.Exit(2)
    picked = [c.value for c in category] if category else list(CATEGORIES)

    def check(new_path: str) -> int:
        """0 compatible, 1 broken, 2 not compared (a schema does not compile, git failed)."""
        new = from_file(new_path)
        if against is None:
            old = from_file(str(schemas[0]))
        else:
            loaded = from_git(new_path, against)
            if loaded is None:
                say(f"note: {new_path} did not exist at {against}; nothing to compare")
                return 0
            if not isinstance(loaded, Side):
                emit([loaded], {})
                return 2
            old = loaded
        texts = {**old.texts, **new.texts}
        compiled = True
        for side in (old, new):
            errors = [side.diagnostic(d) for d in side.result.diagnostics if d.severity is Severity.ERROR]
            if errors or side.result.ir is None:
                emit(errors, texts)
                say(f"error: {side.name} does not compile; nothing was compared (`hftc lint` shows every problem)")
                compiled = False
        if not compiled:
            return 2
        found = sort_diagnostics(compare(old.result.ir, new.result.ir, categories=picked, old_name=old.name,
                                         old_span=old.span, new_anchors=new.anchors(), old_anchors=old.anchors()))
        emit(found, texts)
        if has_errors(found):
            return 1
        say(f"{new.name} is compatible with {old.name} ({' and '.join(picked)} rules)")
        return 0

    # with --against, every file is compared with itself at the revision (pre-commit passes several)
    codes = [check(str(path)) for path in (schemas if against is not None else schemas[-1:])]
    worst = 2 if 2 in codes else max(codes)
    if worst:
        raise typer.Exit(worst)
