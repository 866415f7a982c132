"""Parse the Prometheus text exposition format (version 0.0.4) into samples."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ExpositionError(ValueError):
    """The text is not valid exposition format; the message names the line."""


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float
    timestamp_ms: int | None = None

    def label(self, key: str, default: str = "") -> str:
        return next((v for k, v in self.labels if k == key), default)


@dataclass
class Family:
    name: str
    type: str = "untyped"
    help: str = ""
    samples: list[Sample] = field(default_factory=list)


def parse_value(text: str) -> float:
    special = {"+Inf": math.inf, "Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}
    if text in special:
        return special[text]
    return float(text)


def _unescape(text: str, quotes: bool) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "n":
                out.append("\n")
            elif n == "\\":
                out.append("\\")
            elif n == '"' and quotes:
                out.append('"')
            else:
                out.append(c + n)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _parse_labels(text: str, pos: int, lineno: int) -> tuple[tuple[tuple[str, str], ...], int]:
    """Parse `{a="x",b="y"}` starting at the `{` at `pos`; return labels and the index after `}`."""
    labels: list[tuple[str, str]] = []
    i = pos + 1
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "}":
            return tuple(labels), i + 1
        m = _LABEL_NAME.match(text, i)
        if not m:
            raise ExpositionError(f"line {lineno}: bad label name")
        i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i >= len(text) or text[i] != "=":
            raise ExpositionError(f"line {lineno}: expected = after label {m.group()}")
        i += 1
        while i < len(text) and text[i] in " \t":
            i += 1
        if i >= len(text) or text[i] != '"':
            raise ExpositionError(f"line {lineno}: expected a quoted value for label {m.group()}")
        i += 1
        start = i
        while i < len(text) and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        if i >= len(text):
            raise ExpositionError(f"line {lineno}: unterminated label value")
        labels.append((m.group(), _unescape(text[start:i], True)))
        i += 1
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ",":
            i += 1
        elif i >= len(text) or text[i] != "}":
            raise ExpositionError(f"line {lineno}: expected , or }} in labels")


def _family_of(name: str, families: dict[str, Family]) -> Family:
    for suffix in ("_bucket", "_sum", "_count", "_total", "_created", ""):
        if suffix and name.endswith(suffix):
            base = name[: -len(suffix)]
            if base in families and families[base].type in ("histogram", "summary", "counter"):
                return families[base]
    if name not in families:
        families[name] = Family(name)
    return families[name]


def parse(text: str) -> dict[str, Family]:
    """Families by name, in order of appearance. Raises ExpositionError on malformed lines."""
    families: dict[str, Family] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                fam = families.setdefault(parts[2], Family(parts[2]))
                rest = parts[3] if len(parts) > 3 else ""
                if parts[1] == "HELP":
                    fam.help = _unescape(rest, False)
                else:
                    fam.type = rest.strip() or "untyped"
            continue
        m = _NAME.match(line)
        if not m:
            raise ExpositionError(f"line {lineno}: expected a metric name: {raw!r}")
        name, i = m.group(), m.end()
        labels: tuple[tuple[str, str], ...] = ()
        while i < len(line) and line[i] in " \t":
            i += 1
        if i < len(line) and line[i] == "{":
            labels, i = _parse_labels(line, i, lineno)
        fields = line[i:].split()
        if not fields or len(fields) > 2:
            raise ExpositionError(f"line {lineno}: expected a value (and optional timestamp): {raw!r}")
        try:
            value = parse_value(fields[0])
            ts = int(fields[1]) if len(fields) == 2 else None
        except ValueError as exc:
            raise ExpositionError(f"line {lineno}: bad number: {exc}") from None
        _family_of(name, families).samples.append(Sample(name, labels, value, ts))
    return families


def samples(text: str) -> list[Sample]:
    return [s for fam in parse(text).values() for s in fam.samples]
