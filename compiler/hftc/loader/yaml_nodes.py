"""Parse YAML text into plain Python values plus a span for every key and value.

The node tree is composed here from libyaml's event stream (PyYAML's C parser) rather
than by a YAML constructor: it keeps start and end marks for every scalar and shows
duplicate keys, which a constructor would silently overwrite. Composing it ourselves,
without recursion, bounds the work any input can cause: nesting deeper than MAX_DEPTH
stops the parse at once, aliases may not expand the document past a budget linear in
its size (an "alias bomb" is 600 bytes), number literals are limited in length, and a
1 MB schema parses in well under a second where ruamel's pure-Python parser took 30 s.
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
_NUMBER_START_RE = re.compile(r"^[-+]?\.?[0-9]")

MAX_DEPTH = 64  # schemas nest a handful of levels
MAX_NUMBER_CHARS = 100  # a uint64 has 20 digits; a decimal with exponent fits easily
ALIAS_BUDGET_BASE = 10_000  # values an alias-free document of N characters has fewer than N of


class _Scalar:
    __slots__ = ("end", "start", "style", "tag", "value")

    def __init__(self, value: str, style: str | None, tag: str | None, start, end):
        self.value, self.style, self.tag, self.start, self.end = value, style, tag or "", start, end


class _Sequence:
    __slots__ = ("end", "start", "value")

    def __init__(self, start):
        self.value: list = []
        self.start, self.end = start, start


class _Mapping:
    __slots__ = ("end", "pending", "start", "value")

    def __init__(self, start):
        self.value: list = []
        self.start, self.end = start, start
        self.pending = None  # a key waiting for its value


class _TooDeep(Exception):
    pass


class _TooLarge(Exception):
    pass


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
    s, e = node.start, node.end
    return Span(file, s[0] + 1, s[1] + 1, e[0] + 1, e[1] + 1)


def _mark(mark) -> tuple[int, int]:
    return (mark.line, mark.column)


def _scalar(node) -> Any:
    """YAML 1.2 core-schema scalars; quoted scalars are always strings."""
    return _scalar_value(node.value, node.style, node.tag)


_MAY_NOT_BE_TEXT = frozenset("~nNtTfF+-.0123456789")  # first characters of null, booleans and numbers


def _scalar_value(text: str, style: str | None, tag: str | None) -> Any:
    if style in ("'", '"', "|", ">"):
        return text
    if tag and not tag.startswith("tag:yaml.org,2002:"):
        return text
    if text and text[0] not in _MAY_NOT_BE_TEXT:  # most keys and names: no pattern can match
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


def _too_long_number(text: str, style: str | None, tag: str | None) -> bool:
    return (not style and len(text) > MAX_NUMBER_CHARS and _NUMBER_START_RE.match(text) is not None
            and isinstance(_scalar_value(text[:MAX_NUMBER_CHARS], None, tag), (int, float)))


def _long_number(span: Span, text: str) -> Diagnostic:
    return error("HFT0009", f"number literal of {len(text)} characters is too long", span,
                 label=f"at most {MAX_NUMBER_CHARS}", help="no schema value needs that many digits")


class _Converter:
    def __init__(self, file: str, budget: int):
        self.file = file
        self.out = LoadedYaml(file, None)
        self.diagnostics: list[Diagnostic] = []
        self.budget = budget  # values left to produce; aliases can multiply them

    def convert(self, node, path: Path, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge(node)
        self.out.value_spans[path] = _span(self.file, node)
        if depth > MAX_DEPTH:
            raise _TooDeep(node)
        if isinstance(node, _Scalar):
            self.out.styles[path] = node.style or ""
            if _too_long_number(node.value, node.style, node.tag):
                self.diagnostics.append(_long_number(_span(self.file, node), node.value))
                return None
            return _scalar(node)
        if isinstance(node, _Sequence):
            return [self.convert(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        result: dict = {}
        first_seen: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, _Scalar):
                self.diagnostics.append(
                    error("HFT0009", "mapping keys must be plain scalars",
                          _span(self.file, key_node), label="complex key")
                )
                continue
            key = _scalar(key_node) if len(key_node.value) <= MAX_NUMBER_CHARS else key_node.value
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


def _loader_class():
    import yaml

    return getattr(yaml, "CBaseLoader", None) or yaml.BaseLoader  # libyaml when built with it


def _parser(text: str):
    return _loader_class()(text)


def _events(text: str):
    import yaml

    return yaml.parse(text, Loader=_loader_class())


class _Composer:
    """Nodes from the event stream, iteratively: the depth is checked as the parse goes."""

    def __init__(self, file: str):
        self.file = file
        self.anchors: dict[str, tuple[Any, tuple[int, int]]] = {}
        self.warnings: list[Diagnostic] = []
        self.documents: list = []

    def compose(self, text: str) -> list:
        import yaml

        stack: list = []
        for event in _events(text):
            kind = type(event)
            if kind is yaml.ScalarEvent:
                node = _Scalar(event.value, event.style, event.tag, _mark(event.start_mark), _mark(event.end_mark))
                self._anchor(event, node)
                self._add(stack, node)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                node = (_Mapping if kind is yaml.MappingStartEvent else _Sequence)(_mark(event.start_mark))
                if len(stack) >= MAX_DEPTH:
                    raise _TooDeep(node)
                self._anchor(event, node)
                stack.append(node)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                node = stack.pop()
                node.end = _mark(event.end_mark)
                self._add(stack, node)
            elif kind is yaml.AliasEvent:
                found = self.anchors.get(event.anchor)
                if found is None:
                    raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                                      event.start_mark)
                self._add(stack, found[0])
            elif kind is yaml.DocumentStartEvent:
                self.anchors = {}
                if self.documents:  # a second document: no need to parse it
                    self.documents.append(_Scalar("", None, None, _mark(event.start_mark), _mark(event.end_mark)))
                    break
        return self.documents

    def _anchor(self, event, node) -> None:
        name = event.anchor
        if name is None:
            return
        if name in self.anchors:
            line, col = node.start
            self.warnings.append(warning("HFT0009", f"YAML: found duplicate anchor {name!r}",
                                         Span.point(self.file, line + 1, col + 1), label="here"))
        self.anchors[name] = (node, node.start)

    def _add(self, stack: list, node) -> None:
        if not stack:
            self.documents.append(node)
            return
        parent = stack[-1]
        if isinstance(parent, _Sequence):
            parent.value.append(node)
        elif parent.pending is None:
            parent.pending = node
        else:
            parent.value.append((parent.pending, node))
            parent.pending = None


_SKIP = object()  # a mapping's next value is not converted (it follows a duplicate or complex key)


def _load_streaming(file: str, text: str, limit: int) -> tuple[LoadedYaml, list[Diagnostic]] | None:
    """The composer and converter in one pass over the events, building no node tree; for documents
    without anchors or aliases (nearly all), where a node is converted exactly once, in order.

    Gives what the two-pass path gives; returns None, to hand over to it, on an anchor, an alias,
    a second document or no document. Depth and literal bounds are checked as the events arrive."""
    import yaml

    scalar_event, alias_event, doc_start = yaml.ScalarEvent, yaml.AliasEvent, yaml.DocumentStartEvent
    map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    out = LoadedYaml(file, None)
    value_spans, key_spans, styles = out.value_spans, out.key_spans, out.styles
    diagnostics: list[Diagnostic] = []
    budget = limit
    stack: list[list] = []  # open collections: [container, path, start mark, pending (key, path) or _SKIP, is mapping]
    skip = 0  # open collections inside a subtree the converter would not visit
    skip_start, skip_key = None, False  # where that subtree starts; whether it is a (complex) key
    documents = 0
    have_root = False
    stream_end = yaml.StreamEndEvent
    plain: dict[str, Any] = {}  # plain untagged scalar -> its value (immutable), computed once per text
    new_span, scalar_value = Span, _scalar_value
    parser = _parser(text)
    next_event = parser.get_event
    while True:
        event = next_event()
        kind = type(event)
        if kind is scalar_event:
            if event.anchor is not None:
                return None
            if skip:
                continue
            value = event.value
            style = event.style
            tag = event.tag
            sm, em = event.start_mark, event.end_mark
            span = new_span(file, sm.line + 1, sm.column + 1, em.line + 1, em.column + 1)
            if stack:
                frame = stack[-1]
                parent = frame[0]
                if frame[4]:  # in a mapping
                    pending = frame[3]
                    if pending is None:  # a key
                        key = scalar_value(value, style, tag) if len(value) <= MAX_NUMBER_CHARS else value
                        if key.__class__ is not str:
                            key = value
                        path = frame[1] + (key,)
                        if key in parent:
                            from hftc.diagnostics.model import Label

                            diagnostics.append(
                                error("HFT0004", f"duplicate key `{key}`", span, label="defined again here",
                                      secondary=(Label(key_spans[path], "first defined here"),),
                                      help="remove one of the two; YAML would silently keep only the last"))
                            frame[3] = _SKIP
                        else:
                            key_spans[path] = span
                            frame[3] = (key, path)
                        continue
                    frame[3] = None
                    if pending is _SKIP:
                        continue
                    key, path = pending
                else:
                    path = frame[1] + (len(parent),)
            else:
                path = ()
            budget -= 1
            if budget < 0:
                return None
            value_spans[path] = span
            if not style and tag is None:  # plain and untagged: the same text always means the same value
                styles[path] = ""
                converted = plain.get(value, _SKIP)
                if converted is _SKIP:
                    if len(value) > MAX_NUMBER_CHARS and _too_long_number(value, style, tag):
                        diagnostics.append(_long_number(span, value))
                        converted = None
                    else:
                        converted = plain[value] = scalar_value(value, style, tag)
            else:
                styles[path] = style or ""
                if len(value) > MAX_NUMBER_CHARS and _too_long_number(value, style, tag):
                    diagnostics.append(_long_number(span, value))
                    converted = None
                else:
                    converted = scalar_value(value, style, tag)
            if not stack:
                out.value, have_root = converted, True
            elif frame[4]:
                parent[key] = converted
            else:
                parent.append(converted)
        elif kind is map_start or kind is seq_start:
            if event.anchor is not None:
                return None
            sm = event.start_mark
            if len(stack) + skip >= MAX_DEPTH:
                raise _TooDeep(_Sequence((sm.line, sm.column)))
            if skip:
                skip += 1
                continue
            is_map = kind is map_start
            container: Any = {} if is_map else []
            if stack:
                frame = stack[-1]
                parent = frame[0]
                if frame[4]:
                    pending = frame[3]
                    if pending is None or pending is _SKIP:  # a complex key, or a value not converted
                        skip, skip_start, skip_key = 1, sm, pending is None
                        frame[3] = None
                        continue
                    frame[3] = None
                    key, path = pending
                    parent[key] = container
                else:
                    path = frame[1] + (len(parent),)
                    parent.append(container)
            else:
                path = ()
                out.value, have_root = container, True
            budget -= 1
            if budget < 0:
                return None
            value_spans[path] = None  # the span needs the end mark; set first to keep the converter's order
            stack.append([container, path, sm, None, is_map])
        elif kind is map_end or kind is seq_end:
            em = event.end_mark
            if skip:
                skip -= 1
                if not skip and skip_key:
                    diagnostics.append(error("HFT0009", "mapping keys must be plain scalars",
                                             Span(file, skip_start.line + 1, skip_start.column + 1, em.line + 1,
                                                  em.column + 1), label="complex key"))
                    stack[-1][3] = _SKIP
                continue
            frame = stack.pop()
            sm = frame[2]
            value_spans[frame[1]] = Span(file, sm.line + 1, sm.column + 1, em.line + 1, em.column + 1)
        elif kind is alias_event:
            return None
        elif kind is doc_start:
            documents += 1
            if documents > 1:
                return None
        elif kind is stream_end or event is None:
            break
    if not have_root:
        return None
    return out, diagnostics


def _yaml_error(file: str, exc: Exception, text: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    line = mark.line + 1 if mark else 1
    col = mark.column + 1 if mark else 1
    position = getattr(exc, "position", None)  # a reader error (a forbidden character) has only an offset
    if mark is None and isinstance(position, int) and 0 <= position <= len(text):
        line = text.count("\n", 0, position) + 1
        col = position - (text.rfind("\n", 0, position) + 1) + 1
    lines = text.splitlines()
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = source_line[:len(source_line) - len(source_line.lstrip(" \t"))]
    if "\t" in problem or "\\t" in problem or ("\t" in indent and col <= len(indent) + 1):
        tab_col = source_line.find("\t") + 1 if "\t" in source_line else col
        return error("HFT0005", "tab character in indentation", Span.point(file, line, tab_col),
                     label="tab here", help="indent with spaces; YAML does not allow tabs")
    if "nesting depth" in problem:  # libyaml's own limit (1000), reached before ours when it scans ahead
        return error("HFT0009", f"nesting is deeper than {MAX_DEPTH} levels", Span.point(file, line, col),
                     label="too deep here", help="schemas nest a few levels; this looks like generated or corrupt input")
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
    if "\x00" in text:
        pos = text.index("\x00")
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return None, [error("HFT0002", "file contains NUL bytes; it is not a YAML text file",
                            Span.point(file, line, col), help="pass the schema's .yaml file")]
    import yaml

    limit = ALIAS_BUDGET_BASE + 2 * len(text)
    try:
        streamed = _load_streaming(file, text, limit)
    except yaml.YAMLError as exc:
        return None, [_yaml_error(file, exc, text)]
    except _TooDeep as exc:
        return None, [_too_deep(file, exc.args[0])]
    except (ValueError, TypeError, AttributeError, IndexError) as exc:  # never an internal error for any text
        return None, [error("HFT0003", f"YAML could not be parsed: {type(exc).__name__}",
                            Span.point(file, 1, 1), help="check the document's syntax")]
    if streamed is not None:
        return streamed
    composer = _Composer(file)
    try:
        nodes = composer.compose(text)
    except yaml.YAMLError as exc:
        return None, [_yaml_error(file, exc, text)]
    except _TooDeep as exc:
        return None, [_too_deep(file, exc.args[0])]
    except (ValueError, TypeError, AttributeError, IndexError) as exc:  # never an internal error for any text
        return None, [error("HFT0003", f"YAML could not be parsed: {type(exc).__name__}",
                            Span.point(file, 1, 1), help="check the document's syntax")]
    if not nodes:
        return None, [error("HFT0006", "the file holds no YAML document", Span.point(file, 1, 1),
                            help="start from `hftc init NAME` for a working skeleton")]
    if len(nodes) > 1:
        return None, [error("HFT0009", "only one YAML document per file is supported",
                            _span(file, nodes[1]), label="second document starts here")]
    conv = _Converter(file, limit)
    conv.diagnostics.extend(composer.warnings)
    try:
        conv.out.value = conv.convert(nodes[0], ())
    except _TooDeep as exc:
        return None, [_too_deep(file, exc.args[0])]
    except _TooLarge as exc:
        return None, [error("HFT0009", f"aliases expand the document to more than {limit} values",
                            _span(file, exc.args[0]), label="while expanding this",
                            help="each `*alias` copies its anchor's value; nested aliases multiply (an alias bomb)")]
    return conv.out, conv.diagnostics


def _too_deep(file: str, node) -> Diagnostic:
    return error("HFT0009", f"nesting is deeper than {MAX_DEPTH} levels", Span.point(file, node.start[0] + 1,
                                                                                  node.start[1] + 1),
                 label="too deep here", help="schemas nest a few levels; this looks like generated or corrupt input")
