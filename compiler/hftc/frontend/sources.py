"""Reading schema files: bytes to text, imports, cycles."""

from __future__ import annotations

import hashlib
import os
import stat
from collections import OrderedDict
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
    import_roots: tuple[str, ...] = ()  # resolved folders imports may read from (see import_roots)
    # Every path the compilation read or looked for, in order: what its result depends on (the lint cache).
    probed: dict[str, None] = field(default_factory=dict)

    def lookup(self, file: str) -> str | None:
        return self.texts.get(file)


def read_bounded(path: str, file: str, what: str = "schema") -> tuple[bytes | None, list[Diagnostic]]:
    """A regular file's bytes, at most MAX_FILE_BYTES; devices and pipes are refused (they may never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO would block an ordinary open
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError
            if not stat.S_ISREG(info.st_mode):
                return None, [error("HFT0001", f"`{file}` is not a regular file", None,
                                    help=f"pass a {what} file; devices and pipes are not read")]
            chunks, size = [], 0
            while size <= MAX_FILE_BYTES:  # bounded even if the file grows while read
                chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
        finally:
            os.close(fd)
    except IsADirectoryError:
        return None, [error("HFT0001", f"`{file}` is a directory, not a {what} file", None)]
    except FileNotFoundError:
        return None, [error("HFT0001", f"cannot read `{file}`: no such file", None)]
    except OSError as exc:
        return None, [error("HFT0001", f"cannot read `{file}`: {exc.strerror or exc}", None)]
    if len(data) > MAX_FILE_BYTES:
        return None, [error("HFT0001", f"`{file}` is too large for a {what} file (over {MAX_FILE_BYTES} bytes)",
                            Span.point(file, 1, 1))]
    return data, []


# Files parsed before, by path and content: a long-lived process (the language server, which
# recompiles on every edit) re-reads an unchanged import or strategy template from here. Reading the
# bytes is cheap next to parsing them, and keying on them (not on size and modification time, which a
# quick rewrite of the same length can leave equal) never serves an old parse. Loaded documents are
# never modified after parsing, so sharing them is safe.
_PARSED: OrderedDict[tuple, tuple[str, LoadedYaml | None, tuple[Diagnostic, ...]]] = OrderedDict()
PARSED_CACHE_FILES = 64


def read_file(path: str, sources: SourceSet) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    file = display_path(path)
    sources.probed[path] = None
    if file in sources.docs:
        return sources.docs[file], []
    data, diags = read_bounded(path, file)
    if data is None:
        return None, diags
    key = (os.path.realpath(path), file, hashlib.blake2b(data, digest_size=16).digest())
    cached = _PARSED.get(key)
    if cached is not None:
        _PARSED.move_to_end(key)
        text, doc, parse_diags = cached
        sources.texts[file] = text
        if doc is not None:
            sources.docs[file] = doc
        return doc, list(parse_diags)
    text, diags = decode(file, data)
    if text is None:
        return None, diags
    sources.texts[file] = text
    doc, diags = load_yaml_text(file, text)
    if doc is not None:
        sources.docs[file] = doc
    _PARSED[key] = (text, doc, tuple(diags))
    while len(_PARSED) > PARSED_CACHE_FILES:
        _PARSED.popitem(last=False)
    return doc, diags


def import_roots(schema_path: str, import_paths: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
    """The folders imports may come from: the compiled schema's folder tree and each --import-path."""
    return tuple(dict.fromkeys(os.path.realpath(p) for p in (os.path.dirname(os.path.abspath(schema_path)),
                                                             *import_paths)))


def inside_roots(path: str, roots: tuple[str, ...]) -> bool:
    """Whether `path`, with every symbolic link resolved, lies under one of `roots`."""
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)
