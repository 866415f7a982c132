"""Reading schema files: bytes to text, imports, cycles."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hftc.diagnostics.model import Diagnostic, Span, error
from hftc.loader.yaml_nodes import LoadedYaml, load_yaml_text

MAX_FILE_BYTES = 16 * 1024 * 1024


def display_path(path: str) -> str:
    """Paths in diagnostics and outputs: relative to the working directory when below it."""
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute)
    except ValueError:
        return absolute
    return absolute if rel.startswith("..") and os.path.isabs(path) else rel


def decode(file: str, data: bytes) -> tuple[str | None, list[Diagnostic]]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [error("HFT0002", f"file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                            Span.point(file, line, col), help="schemas are UTF-8 YAML; check that this is the right file")]
    return text, []


@dataclass
class SourceSet:
    """Every file read for one compilation, by display path."""

    texts: dict[str, str] = field(default_factory=dict)
    docs: dict[str, LoadedYaml] = field(default_factory=dict)

    def lookup(self, file: str) -> str | None:
        return self.texts.get(file)


def read_file(path: str, sources: SourceSet) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    file = display_path(path)
    if file in sources.docs:
        return sources.docs[file], []
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            return None, [error("HFT0001", f"file is too large for a schema ({size} bytes)", Span.point(file, 1, 1))]
        with open(path, "rb") as handle:
            data = handle.read()
    except IsADirectoryError:
        return None, [error("HFT0001", f"`{file}` is a directory, not a schema file", None)]
    except FileNotFoundError:
        return None, [error("HFT0001", f"cannot read `{file}`: no such file", None)]
    except OSError as exc:
        return None, [error("HFT0001", f"cannot read `{file}`: {exc.strerror or exc}", None)]
    text, diags = decode(file, data)
    if text is None:
        return None, diags
    sources.texts[file] = text
    doc, diags = load_yaml_text(file, text)
    if doc is not None:
        sources.docs[file] = doc
    return doc, diags
