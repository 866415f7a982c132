"""Where the monitor reads metrics: a Prometheus-text HTTP endpoint, or the runtime's
shared-memory metric region (layout in runtime_cpp/include/hft/metrics/registry.hpp)."""

from __future__ import annotations

import mmap
import os
import struct
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from hftc.monitor.exposition import Sample
from hftc.monitor.exposition import samples as parse_samples

MAGIC = 0x5254454D43544648  # "HFTCMETR"
VERSION = 1
HEADER_BYTES = 256
ENTRY_BYTES = 512
BUCKET_SLOTS_MAX = 64
_COUNTER, _GAUGE, _HISTOGRAM = 1, 2, 3


class SourceError(RuntimeError):
    """The source cannot be read (unreachable, missing, or not a metric region)."""


def _unescape_label(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _split_labels(rendered: str) -> tuple[tuple[str, str], ...]:
    """`a="x",b="y"` (as rendered by the runtime) → (("a", "x"), ("b", "y"))."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(rendered):
        eq = rendered.index('="', i)
        name = rendered[i:eq]
        j = eq + 2
        while rendered[j] != '"':
            j += 2 if rendered[j] == "\\" else 1
        out.append((name, _unescape_label(rendered[eq + 2:j])))
        i = j + 2 if j + 1 < len(rendered) and rendered[j + 1] == "," else j + 1
    return tuple(out)


def _cstr(buf: bytes) -> str:
    return buf.split(b"\0", 1)[0].decode("utf-8", "replace")


def decode_region(data: bytes | mmap.mmap) -> list[Sample]:
    """Samples (with Prometheus names: `_bucket{le}`, `_sum`, `_count`) from a metric region."""
    if len(data) < HEADER_BYTES:
        raise SourceError("metric region is smaller than its header")
    magic, version, header_bytes, entry_bytes, capacity, count, nbounds = struct.unpack_from("<QIIIIII", data, 0)
    if magic != MAGIC or version != VERSION or header_bytes != HEADER_BYTES or entry_bytes != ENTRY_BYTES:
        raise SourceError("not a version-1 hftc metric region (bad magic, version or sizes)")
    if nbounds + 1 > BUCKET_SLOTS_MAX or HEADER_BYTES + capacity * ENTRY_BYTES > len(data):
        raise SourceError("metric region header is inconsistent with its size")
    bounds = struct.unpack_from(f"<{nbounds}Q", data, 32)
    out: list[Sample] = []
    for i in range(min(count, capacity)):
        base = HEADER_BYTES + i * ENTRY_BYTES
        name = _cstr(bytes(data[base:base + 64]))
        labels = _split_labels(_cstr(bytes(data[base + 64:base + 192])))
        (kind,) = struct.unpack_from("<I", data, base + 320)
        (raw,) = struct.unpack_from("<Q", data, base + 328)
        if kind == _HISTOGRAM:
            counts = struct.unpack_from(f"<{nbounds + 1}Q", data, base + 336)
            cumulative = 0
            for b, c in enumerate(counts):
                cumulative += c
                le = "+Inf" if b == nbounds else str(bounds[b])
                out.append(Sample(f"{name}_bucket", labels + (("le", le),), float(cumulative)))
            out.append(Sample(f"{name}_sum", labels, float(raw)))
            out.append(Sample(f"{name}_count", labels, float(cumulative)))
        elif kind == _GAUGE:
            (value,) = struct.unpack("<d", struct.pack("<Q", raw))
            out.append(Sample(name, labels, value))
        elif kind == _COUNTER:
            out.append(Sample(name, labels, float(raw)))
    return out


def read_shm(name: str) -> list[Sample]:
    """Read the named POSIX shared-memory metric region (Linux: /dev/shm/NAME)."""
    path = os.path.join("/dev/shm", name.lstrip("/"))
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < HEADER_BYTES:
                raise SourceError(f"shm:{name} is too small to be a metric region")
            with mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) as m:
                return decode_region(m)
    except OSError as exc:
        raise SourceError(f"cannot open shm:{name}: {exc.strerror or exc}") from None


def fetch_http(url: str, timeout: float = 2.0) -> list[Sample]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            text = resp.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError(f"cannot scrape {url}: {reason}") from None
    return parse_samples(text)


def normalise(spec: str) -> str:
    """`shm:NAME` stays; an http(s) URL without a path gets `/metrics`."""
    if spec.startswith("shm:"):
        if not spec[4:].strip("/"):
            raise SourceError("shm: needs a name, e.g. shm:hftc_fx")
        return spec
    parts = urlsplit(spec)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SourceError(f"source must be an http(s) URL or shm:NAME, got {spec!r}")
    if parts.path in ("", "/"):
        return parts._replace(path="/metrics").geturl()
    return spec


def reader(spec: str, timeout: float = 2.0) -> Callable[[], list[Sample]]:
    """A function that reads the source once per call."""
    spec = normalise(spec)
    if spec.startswith("shm:"):
        name = spec[4:]
        return lambda: read_shm(name)
    return lambda: fetch_http(spec, timeout)

