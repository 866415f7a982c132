"""SBE XML read into a small element tree that remembers each element's line and column,
with `xi:include` expanded; DOCTYPEs (and so entity expansion) are refused."""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

from hftc.diagnostics.model import Diagnostic, Span, error

XINCLUDE = "http://www.w3.org/2001/XInclude"
MAX_INCLUDE_DEPTH = 16


@dataclass
class Element:
    tag: str  # local name, namespace dropped
    attrs: dict[str, str]
    span: Span
    children: list[Element] = field(default_factory=list)
    text: str = ""


class SbeXmlError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _local(name: str) -> tuple[str, str]:
    """(namespace, local name) of an expat name with namespace processing (`ns local`)."""
    if " " in name:
        ns, local = name.split(" ", 1)
        return ns, local
    return "", name.split(":")[-1]


def parse(path: Path, sources: dict[str, str], depth: int = 0, root_dir: Path | None = None) -> Element:
    """The root element of `path`; its text is recorded in `sources` for diagnostics. Includes
    must stay inside the folder tree of the top schema (`root_dir`), as hftc's own imports do."""
    file = str(path)
    root_dir = root_dir or path.resolve().parent
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SbeXmlError(error("HFT1401", f"cannot read `{path}`: {exc.strerror}", None)) from None
    sources[file] = data.decode("utf-8", "replace")
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    stack: list[Element] = []
    root: list[Element] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        ns, local = _local(name)
        span = Span.point(file, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1, len(local) + 1)
        el = Element(local if ns != XINCLUDE else "xi:" + local, {_local(k)[1]: v for k, v in attrs.items()}, span)
        (stack[-1].children if stack else root).append(el)
        stack.append(el)

    def end(_name: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].text += text

    def doctype(*_args: object) -> None:
        raise SbeXmlError(error("HFT1401", "DOCTYPE declarations are not accepted in SBE schemas",
                                Span.point(file, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1),
                                label="remove the DOCTYPE"))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise SbeXmlError(error("HFT1401", f"not well-formed XML: {xml.parsers.expat.ErrorString(exc.code)}",
                                Span.point(file, exc.lineno, exc.offset + 1), label="here")) from None
    _expand_includes(root[0], path, sources, depth, root_dir)
    return root[0]


def _expand_includes(el: Element, path: Path, sources: dict[str, str], depth: int, root_dir: Path) -> None:
    out: list[Element] = []
    for child in el.children:
        if child.tag != "xi:include":
            _expand_includes(child, path, sources, depth, root_dir)
            out.append(child)
            continue
        href = child.attrs.get("href")
        if not href:
            raise SbeXmlError(error("HFT1401", "xi:include without `href`", child.span, label="needs href"))
        if depth >= MAX_INCLUDE_DEPTH:
            raise SbeXmlError(error("HFT1401", f"xi:include nested deeper than {MAX_INCLUDE_DEPTH} (a cycle?)",
                                    child.span, label="included here"))
        target = (path.parent / href).resolve()
        if not target.is_relative_to(root_dir):
            raise SbeXmlError(error("HFT1401", f"included file `{href}` is outside the schema's folder tree",
                                    child.span, label="not read", help=f"keep includes under {root_dir.name}/"))
        if not target.is_file():
            raise SbeXmlError(error("HFT1401", f"included file `{href}` not found", child.span,
                                    label=f"looked for {target.name} next to {path.name}"))
        included = parse(target, sources, depth + 1, root_dir)
        # An included document contributes its root element (e.g. <types>).
        out.append(included)
    el.children = out
