"""Parse YAML text into plain Python values plus a span for every key and value.

We use ruamel.yaml's composer rather than its constructor: the node tree keeps
start and end marks for every scalar, and it shows duplicate keys, which the
constructor would silently overwrite.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from hftc.diagnostics.model import Diagnostic, Span, error, warning

Path = tuple  # of str keys and int indices

_INT_RE = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_HEX_RE = re.compile(r"^0x[0-9a-fA-F_]+$")
_OCT_RE = re.compile(r"^0o[0-7_]+$")
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")


@dataclass
class LoadedYaml:
    """Plain values (dict/list/str/int/float/bool/None) and their spans by path."""

    file: str
    value: Any
    value_spans: dict[Path, Span] = field(default_factory=dict)
    key_spans: dict[Path, Span] = field(default_factory=dict)
    # Style of each scalar value by path: '' plain, '"' or "'" quoted, '|' '>' block.
    styles: dict[Path, str] = field(default_factory=dict)

    def span_of(self, path: Path, *, key: bool = False) -> Span | None:
        """The span at `path`, or the nearest enclosing one that is known."""
        p = tuple(path)
        if key and p in self.key_spans:
            return self.key_spans[p]
        while p:
            if p in self.value_spans:
                return self.value_spans[p]
            p = p[:-1]
        return self.value_spans.get(())


def _span(file: str, node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(file, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


def _scalar(node) -> Any:
    """YAML 1.2 core-schema scalars; quoted scalars are always strings."""
    text = node.value
    if node.style in ("'", '"', "|", ">"):
        return text
    tag = node.tag.value if hasattr(node.tag, "value") else str(node.tag)
    if tag and not tag.startswith("tag:yaml.org,2002:"):
        return text
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT_RE.match(text):
        return int(text.replace("_", ""))
    if _HEX_RE.match(text):
        return int(text.replace("_", ""), 16)
    if _OCT_RE.match(text):
        return int(text[2:].replace("_", ""), 8)
    if _FLOAT_RE.match(text):
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            return text
        return value if math.isfinite(value) else text
    if text in (".inf", "+.inf", ".Inf", "-.inf", "-.Inf", ".nan", ".NaN"):
        return text  # non-finite numbers are never valid schema values
    return text


class _Converter:
    def __init__(self, file: str):
        self.file = file
        self.out = LoadedYaml(file, None)
        self.diagnostics: list[Diagnostic] = []

    def convert(self, node, path: Path, depth: int = 0) -> Any:
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        self.out.value_spans[path] = _span(self.file, node)
        if depth > 64:
            self.diagnostics.append(
                error("HFT0009", "nesting is too deep", _span(self.file, node),
                      help="schemas nest a few levels; this looks like generated or corrupt input")
            )
            return None
        if isinstance(node, ScalarNode):
            self.out.styles[path] = node.style or ""
            return _scalar(node)
        if isinstance(node, SequenceNode):
            return [self.convert(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            result: dict = {}
            first_seen: dict = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    self.diagnostics.append(
                        error("HFT0009", "mapping keys must be plain scalars",
                              _span(self.file, key_node), label="complex key")
                    )
                    continue
                key = _scalar(key_node)
                key = key if isinstance(key, str) else str(key_node.value)
                key_span = _span(self.file, key_node)
                if key in first_seen:
                    from hftc.diagnostics.model import Label

                    self.diagnostics.append(
                        error("HFT0004", f"duplicate key `{key}`", key_span,
                              label="defined again here",
                              secondary=(Label(first_seen[key], "first defined here"),),
                              help="remove one of the two; YAML would silently keep only the last")
                    )
                    continue
                first_seen[key] = key_span
                self.out.key_spans[path + (key,)] = key_span
                result[key] = self.convert(value_node, path + (key,), depth + 1)
            return result
        return None


def _yaml_error(file: str, exc: Exception, text: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    line = mark.line + 1 if mark else 1
    col = mark.column + 1 if mark else 1
    lines = text.splitlines()
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in problem or ("\t" in source_line[: max(col, 1)] and "tab" in problem.lower()) or (
        "\\t" in problem
    ):
        tab_col = source_line.find("\t") + 1 if "\t" in source_line else col
        return error("HFT0005", "tab character in indentation", Span.point(file, line, tab_col),
                     label="tab here", help="indent with spaces; YAML does not allow tabs")
    message = f"YAML syntax error: {problem}"
    context_mark = getattr(exc, "context_mark", None)
    secondary = ()
    if context and context_mark is not None and mark is not None and context_mark is not mark:
        from hftc.diagnostics.model import Label

        secondary = (Label(Span.point(file, context_mark.line + 1, context_mark.column + 1), str(context)),)
    if line > len(lines) and lines:  # past the end: point at the end of the last line instead
        line, col = len(lines), len(lines[-1]) + 1
    return error("HFT0003", message, Span.point(file, line, col), label="here", secondary=secondary,
                 help="check quotes, brackets and indentation just before this point")


def load_yaml_text(file: str, text: str) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    """Parse one YAML document; never raises for bad input, returns diagnostics."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if "\x00" in text:
        pos = text.index("\x00")
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return None, [error("HFT0002", "file contains NUL bytes; it is not a YAML text file",
                            Span.point(file, line, col), help="pass the schema's .yaml file")]
    import warnings

    yaml = YAML(typ="rt", pure=True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            nodes = list(yaml.compose_all(text))
    except YAMLError as exc:
        return None, [_yaml_error(file, exc, text)]
    except (RecursionError, ValueError, TypeError, AttributeError, IndexError) as exc:
        return None, [error("HFT0003", f"YAML could not be parsed: {type(exc).__name__}",
                            Span.point(file, 1, 1), help="simplify the document's nesting")]
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        return None, [error("HFT0006", "the file holds no YAML document", Span.point(file, 1, 1),
                            help="start from `hftc init NAME` for a working skeleton")]
    if len(nodes) > 1:
        return None, [error("HFT0009", "only one YAML document per file is supported",
                            _span(file, nodes[1]), label="second document starts here")]
    conv = _Converter(file)
    for w in caught:  # e.g. a reused anchor: report it like any other finding, never as a Python warning
        text_of = str(w.message)
        places = re.findall(r"line (\d+), column (\d+)", text_of)  # ruamel prints 1-based marks
        where = Span.point(file, int(places[-1][0]), int(places[-1][1])) if places else Span.point(file, 1, 1)
        problem = text_of.strip().splitlines()[0] if text_of.strip() else type(w.message).__name__
        conv.diagnostics.append(warning("HFT0009", f"YAML: {problem}", where, label="here"))
    try:
        conv.out.value = conv.convert(nodes[0], ())
    except RecursionError:
        return None, [error("HFT0009", "nesting is too deep", Span.point(file, 1, 1))]
    return conv.out, conv.diagnostics
