"""The user's own documents (Markdown, text, PDF) cut into chunks that remember their file and page."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".pdf": "pdf"}
CHUNK_CHARS = 1200  # about 200 words: small enough that BM25 points at the passage, not the whole file
MAX_FILE_BYTES = 64 * 1024 * 1024


class IngestError(ValueError):
    """A document cannot be read (missing, unsupported type, unreadable PDF, not UTF-8 text)."""


@dataclass(frozen=True)
class Chunk:
    title: str
    page: int | None  # 1-based PDF page; None for text files
    text: str


@dataclass(frozen=True)
class Document:
    source: str  # absolute path
    kind: str
    digest: str
    chunks: tuple[Chunk, ...]


def collect(paths: list[Path]) -> list[Path]:
    """Files to ingest: each file given, and the supported files under each folder given (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise IngestError(f"{path}: unsupported document type `{path.suffix or '(none)'}` "
                                  f"(supported: {', '.join(sorted(SUFFIXES))})")
            found.append(path)
        else:
            raise IngestError(f"{path}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for p in found:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(r)
    return unique


def chunk_text(text: str, limit: int = CHUNK_CHARS) -> list[str]:
    """Paragraph-aligned pieces of at most about `limit` characters (a longer paragraph is cut at words)."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    pieces: list[str] = []
    current = ""
    for para in filter(None, paragraphs):
        while len(para) > limit:
            cut = para.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit  # at the last word boundary; a word longer than `limit` is cut
            if current:
                pieces.append(current)
                current = ""
            pieces.append(para[:cut].strip())
            para = para[cut:].strip()
        if current and len(current) + 2 + len(para) > limit:
            pieces.append(current)
            current = ""
        current = f"{current}\n\n{para}" if current else para
    if current:
        pieces.append(current)
    return pieces


def _title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            return line.lstrip("#").strip() or fallback
        if line:
            return line[:80]
    return fallback


def read_document(path: Path) -> Document:
    """`path` read and chunked; IngestError when it cannot be."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise IngestError(f"{path}: unsupported document type `{path.suffix}`")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise IngestError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if kind == "pdf":
        chunks = _pdf_chunks(path, data)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IngestError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        if kind == "markdown" and text.startswith("---\n"):
            end = text.find("\n---\n", 4)
            text = text[end + 5:] if end > 0 else text
        title = _title(text, path.stem)
        chunks = [Chunk(title, None, piece) for piece in chunk_text(text)]
    return Document(str(path), kind, digest, tuple(chunks))


def _pdf_chunks(path: Path, data: bytes) -> list[Chunk]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise IngestError(f"{path}: the PDF is encrypted")
        title = ""
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title)
        chunks = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            for piece in chunk_text(text):
                chunks.append(Chunk(title or _title(text, path.stem), number, piece))
    except IngestError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(f"{path}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    return chunks
