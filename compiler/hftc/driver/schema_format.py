"""`hftc format`: the canonical layout of a schema file, comments kept.

ruamel's round trip keeps comments, key order, flow or block style and quoting; the layout is made
canonical around them: two spaces per mapping level, list items indented two under their key, no
line wrapping, no trailing spaces, at most one blank line in a row, one final newline. The result
is checked to mean exactly what the input meant (the compiler's own loader reads both), so
formatting never changes a schema.
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass

from hftc.diagnostics.model import Diagnostic, Span, error
from hftc.loader.yaml_nodes import load_yaml_text

_BLANK_RUN = re.compile(r"\n{3,}")


@dataclass
class Formatted:
    text: str | None  # None when the file could not be formatted (see diagnostics)
    diagnostics: list[Diagnostic]


def _round_trip(text: str) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 1 << 20  # never rewrap: a long expression stays on its line
    yaml.explicit_start = False
    data = yaml.load(text)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    tidy = _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n")
    return tidy + "\n" if tidy else ""


def _comments(text: str, doc) -> list[str]:
    """The comments of a document in order: a `#` outside every scalar, at a line start or after a space."""
    inside: dict[int, list[tuple[int, int]]] = {}
    spans = [doc.value_spans[p] for p in doc.styles] + list(doc.key_spans.values())
    for s in spans:
        for line in range(s.line, s.end_line + 1):
            start = s.col if line == s.line else 1
            end = s.end_col if line == s.end_line else 1 << 30
            inside.setdefault(line, []).append((start, end))
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        col = line.find("#")
        while col >= 0:
            if (col == 0 or line[col - 1] in " \t") and not any(a <= col + 1 < b for a, b in inside.get(number, ())):
                found.append(line[col:].rstrip())
                break
            col = line.find("#", col + 1)
    return found


def format_schema_text(file: str, text: str) -> Formatted:
    """The canonical text of a schema, or diagnostics when the text is not YAML hftc reads."""
    before, diags = load_yaml_text(file, text)
    if before is None or any(d.severity.value == "error" for d in diags):
        return Formatted(None, diags)
    try:
        laid_out = _round_trip(text)
    except Exception as exc:  # ruamel rejects a few documents libyaml reads: say so, change nothing
        return Formatted(None, [error("HFT0830", f"cannot format: {type(exc).__name__}: {str(exc).splitlines()[0]}",
                                      Span.point(file, 1, 1), help="the file is left as it is")])
    for candidate in (_tidy(laid_out), laid_out):  # trailing spaces may belong to a block scalar
        after, _ = load_yaml_text(file, candidate)
        if after is not None and after.value == before.value:
            if _comments(candidate, after) != _comments(text, before):  # ruamel drops those inside a flow mapping
                return Formatted(None, [error("HFT0830", "formatting would drop or move a comment (one inside a "
                                              "`{...}` or `[...]` spread over lines?); the file is left as it is",
                                              Span.point(file, 1, 1), help="move the comment out of the flow "
                                              "collection, or write the collection in block style")])
            return Formatted(candidate, [])
    return Formatted(None, [error("HFT0830", "formatting would change what the schema means; the file is left as "
                                  "it is", Span.point(file, 1, 1),
                                  help="please report this with the file: the formatter must preserve meaning")])


def format_files(paths: list[str], check: bool, emit) -> int:
    """Format files in place (atomically), or with `check` only report which would change.
    Returns the exit status: 1 when a file would change (check) or could not be formatted."""
    from hftc.fileio import write_atomically
    from hftc.frontend.sources import decode, display_path, read_bounded

    status = 0
    for path in paths:
        file = display_path(path)
        data, diags = read_bounded(path, file)
        text = None
        if data is not None:
            text, diags = decode(file, data)
        if text is None:
            emit(diags, {})
            status = 1
            continue
        result = format_schema_text(file, text)
        if result.text is None:
            emit(result.diagnostics, {file: text})
            status = 1
        elif result.text != text:
            if check:
                print(f"would reformat {file}", file=sys.stderr)
                status = 1
            else:
                write_atomically(path, result.text.encode("utf-8"))
                print(f"reformatted {file}", file=sys.stderr)
    return status
