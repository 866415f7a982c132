"""The two sides of `hftc breaking`: compiled schema files, or a file as it was at a git revision."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, replace

from hftc.diagnostics.model import Diagnostic, Label, Span, error
from hftc.frontend.compile import CompileResult, compile_file

GIT_TIMEOUT_S = 60
MAX_GIT_FILES = 2000  # schema files copied out of one revision (the schema's folder tree)
MAX_GIT_BYTES = 64 * 1024 * 1024
SCHEMA_SUFFIXES = (".yaml", ".yml")  # what imports can name


@dataclass
class Side:
    """One compiled schema and how to show its places (git revisions get `REF:path` names)."""

    result: CompileResult
    name: str  # as the user would say it: a path, or REF:path
    texts: dict[str, str]
    renames: dict[str, str]

    def span(self, span: Span | None) -> Span | None:
        if span is None:
            return None
        return replace(span, file=self.renames.get(span.file, span.file))

    def diagnostic(self, d: Diagnostic) -> Diagnostic:
        return replace(d, span=self.span(d.span),
                       secondary=tuple(Label(self.span(s.span), s.message) for s in d.secondary))

    def anchors(self) -> dict[str, Span]:
        """Spans of top-level keys of the root file, for schema-level findings."""
        root = self.result.ir.sources[0] if self.result.ir is not None and self.result.ir.sources else None
        docs = self.result.sources.docs
        doc = next((doc for file, doc in docs.items()
                    if root is not None and os.path.basename(file) == os.path.basename(root)), None)
        doc = doc or next(iter(docs.values()), None)
        if doc is None:
            return {}
        out: dict[str, Span] = {"": self.span(Span.point(doc.file, 1, 1))}
        for key in ("version", "schema_id", "package"):
            if (key,) in doc.value_spans:
                out[key] = self.span(doc.value_spans[(key,)])
        for key in ("messages", "types", "encoding", "byte_order"):
            if (key,) in doc.key_spans:
                out[key] = self.span(doc.key_spans[(key,)])
        return out


def from_file(path: str) -> Side:
    result = compile_file(path)
    return Side(result, path, dict(result.sources.texts), {})


class GitError(Exception):
    pass


def _git(cwd: str, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=GIT_TIMEOUT_S,
                              check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"`git {' '.join(args)}` took over {GIT_TIMEOUT_S} s") from None
    if done.returncode != 0:
        words = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"`git {' '.join(args)}` failed: {words[-1] if words else f'exit {done.returncode}'}")
    return done.stdout


def _blobs(top: str, ref: str, names: list[str]) -> dict[str, bytes]:
    """The other schema files of the folder tree at `ref` (for imports), read by one `git cat-file --batch`
    instead of a `git show` each; files past MAX_GIT_BYTES in all are left out (an import of one fails)."""
    if not names:
        return {}
    out = _git(top, "cat-file", "--batch", stdin="".join(f"{ref}:{n}\n" for n in names).encode())
    blobs: dict[str, bytes] = {}
    pos, total = 0, 0
    for name in names:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue  # "missing" (no size follows) or not a file
        size = int(header[2])
        if total + size <= MAX_GIT_BYTES:
            blobs[name] = out[pos:pos + size]
            total += size
        pos += size + 1
    return blobs


def from_git(path: str, ref: str) -> Side | None | Diagnostic:
    """`path` as it was at `ref`, with the schema files of its folder tree for imports.

    None when the file did not exist at `ref` (a new schema: nothing to compare); a diagnostic when
    git cannot answer."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    try:
        top = _git(folder, "rev-parse", "--show-toplevel").decode().strip()
        _git(folder, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError as exc:
        return error("HFT0725", f"cannot read `{path}` at `{ref}`: {exc}", None,
                     help="run inside a git work tree and name a revision: a branch, tag, commit or HEAD~1")
    rel_file = os.path.relpath(os.path.realpath(path), os.path.realpath(top)).replace(os.sep, "/")
    rel_dir = os.path.dirname(rel_file)
    try:
        listing = _git(top, "ls-tree", "-r", "-z", "--name-only", ref, "--", rel_dir or ".").decode("utf-8", "replace")
        names = [n for n in listing.split("\0") if n.endswith(SCHEMA_SUFFIXES)]
        if rel_file not in names:
            return None
        names = [rel_file] + [n for n in names if n != rel_file][:MAX_GIT_FILES - 1]
        blobs = {rel_file: _git(top, "show", f"{ref}:{rel_file}")}
        blobs.update(_blobs(top, ref, names[1:]))
        with tempfile.TemporaryDirectory(prefix="hftc-breaking-") as tmp:
            for name, data in blobs.items():
                target = os.path.join(tmp, *name.split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as out:
                    out.write(data)
            result = compile_file(os.path.join(tmp, *rel_file.split("/")))
    except GitError as exc:
        return error("HFT0725", f"cannot read `{path}` at `{ref}`: {exc}", None)
    real_tmp = os.path.realpath(tmp)
    renames = {}
    for file in result.sources.texts:
        real = os.path.realpath(file)
        if real.startswith(real_tmp + os.sep):
            renames[file] = f"{ref}:{os.path.relpath(real, real_tmp).replace(os.sep, '/')}"
    texts = {renames.get(f, f): t for f, t in result.sources.texts.items()}
    return Side(result, f"{ref}:{rel_file}", texts, renames)
