"""Reading the engine's binary audit journal (runtime_cpp/FORMATS.md section 7).

One reader for every use (`hftc audit` printing, export, reconciliation and the report): it
checks the file header and each record's CRC, stops a file at its first bad record, and says
whether that was the torn tail a crash leaves in the last file or damage inside the journal.
Payloads are parsed here into plain dicts; schema messages are decoded by `decode.py`.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

MAGIC = b"HFTJRNL1"
FILE_HEADER = struct.Struct("<8sHHHHQQ")
RECORD_HEADER = struct.Struct("<IHHQQ")
CRC = struct.Struct("<I")

TYPES = {1: "message", 2: "risk", 3: "session", 4: "params", 5: "kill_switch", 6: "md_gap", 7: "lost",
         8: "position", 9: "names"}
SESSION_EVENTS = ("connect", "logon", "logon_rejected", "logout", "disconnect", "reconnect", "reconciled",
                  "recovered")
KILL_ACTIONS = ("engaged", "rearmed")
KILL_SOURCES = ("signal", "file", "http", "risk", "operator")
NAME_KINDS = {1: "risk_reason", 2: "logout_reason", 3: "reject_code"}

_RISK = struct.Struct("<QqqqqqqIHBB")
_SESSION = struct.Struct("<BBHIQ")
_KILL = struct.Struct("<BB6xQ")
_GAP = struct.Struct("<QQII")
_LOST = struct.Struct("<QQ")
_POSITION = struct.Struct("<qqIbbH")

_NAME = re.compile(r"^(?P<prefix>.*)-(?P<index>\d{6})\.hftj$")


class JournalError(Exception):
    """A journal that cannot be read at all (not a journal, unreadable)."""

    def __init__(self, path: Path, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Record:
    file: str
    offset: int
    seq: int
    ts_ns: int
    type: str
    flags: int
    payload: bytes
    fields: dict[str, Any]  # the parsed payload (messages: filled in by decode.py)


@dataclass
class FileInfo:
    path: Path
    index: int
    schema_id: int
    schema_version: int
    first_seq: int
    records: int = 0
    bad_offset: int | None = None  # where reading stopped early
    bad_reason: str = ""


@dataclass
class ReadReport:
    files: list[FileInfo] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Damage inside the journal, and the torn tail of the last file, as sentences."""
        out = []
        for i, f in enumerate(self.files):
            if f.bad_offset is None:
                continue
            last = i == len(self.files) - 1
            what = "torn last record (expected after a crash)" if last else "damaged"
            out.append(f"{f.path}: {what} at byte {f.bad_offset}: {f.bad_reason}; {f.records} good records before it")
        return out

    @property
    def damaged(self) -> bool:
        return any(f.bad_offset is not None for f in self.files[:-1])


def journal_paths(args: list[Path]) -> list[Path]:
    """Files named on the command line, directories (all their .hftj files) and prefixes
    (`audit/engine` for `audit/engine-000001.hftj`, ...), ordered by prefix and file index."""
    found: list[Path] = []
    for arg in args:
        if arg.is_dir():
            found.extend(sorted(arg.glob("*.hftj")))
        elif arg.is_file():
            found.append(arg)
        else:
            matches = sorted(arg.parent.glob(arg.name + "-[0-9][0-9][0-9][0-9][0-9][0-9].hftj"))
            if not matches:
                raise JournalError(arg, "no such journal file, directory or prefix")
            found.extend(matches)

    def key(p: Path) -> tuple[str, int]:
        m = _NAME.match(str(p))
        return (m["prefix"], int(m["index"])) if m else (str(p), 0)

    unique = {p.resolve(): p for p in found}
    return sorted(unique.values(), key=key)


def read_records(paths: list[Path], report: ReadReport) -> Iterator[Record]:
    """Every good record of the files, in order; problems go into `report`."""
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise JournalError(path, exc.strerror or str(exc)) from None
        if len(data) < FILE_HEADER.size or data[:8] != MAGIC:
            raise JournalError(path, "not an hftc audit journal (no HFTJRNL1 header)")
        _, version, schema_id, schema_version, _, index, first_seq = FILE_HEADER.unpack_from(data)
        if version != 1:
            raise JournalError(path, f"journal format version {version}; this hftc reads version 1")
        info = FileInfo(path, index, schema_id, schema_version, first_seq)
        report.files.append(info)
        at = FILE_HEADER.size
        while at < len(data):
            if at + RECORD_HEADER.size + CRC.size > len(data):
                info.bad_offset, info.bad_reason = at, "record header cut short"
                break
            length, rtype, flags, seq, ts = RECORD_HEADER.unpack_from(data, at)
            end = at + RECORD_HEADER.size + length
            if end + CRC.size > len(data):
                info.bad_offset, info.bad_reason = at, f"payload of {length} bytes runs past the end of the file"
                break
            (crc,) = CRC.unpack_from(data, end)
            if crc != zlib.crc32(data[at:end]):
                info.bad_offset, info.bad_reason = at, "CRC mismatch"
                break
            payload = data[at + RECORD_HEADER.size : end]
            name = TYPES.get(rtype, f"type_{rtype}")
            info.records += 1
            yield Record(str(path), at, seq, ts, name, flags, payload, parse_payload(name, payload, flags))
            at = end + CRC.size


def _text(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def parse_payload(kind: str, p: bytes, flags: int) -> dict[str, Any]:
    """The fixed-layout payloads as dicts; a short payload gives {"error": ...}."""
    try:
        if kind == "message":
            return {"direction": "in" if flags & 1 else "out"}
        if kind == "risk":
            (coid, px, qty, pos, wl, ws, notional, inst, reason, side, accepted) = _RISK.unpack_from(p)
            return {"client_order_id": coid, "price_ticks": px, "qty_lots": qty, "position_lots": pos,
                    "worst_long_lots": wl, "worst_short_lots": ws, "notional": notional, "instrument": inst,
                    "reason_code": reason, "side": "sell" if side else "buy", "accepted": bool(accepted)}
        if kind == "session":
            event, _, reason, attempt, open_orders = _SESSION.unpack_from(p)
            name = SESSION_EVENTS[event] if event < len(SESSION_EVENTS) else f"event_{event}"
            return {"event": name, "reason_code": reason, "attempt": attempt, "open_orders": open_orders}
        if kind == "params":
            return {"applied": bool(p[0]), "text": _text(p[8:])}
        if kind == "kill_switch":
            action, source, canceled = _KILL.unpack_from(p)
            return {"action": KILL_ACTIONS[action] if action < 2 else f"action_{action}",
                    "source": KILL_SOURCES[source] if source < len(KILL_SOURCES) else f"source_{source}",
                    "orders_canceled": canceled, "reason": _text(p[_KILL.size :])}
        if kind == "md_gap":
            expected, received, channel, _ = _GAP.unpack_from(p)
            return {"channel": channel, "expected_seq": expected, "received_seq": received,
                    "missed": max(0, received - expected)}
        if kind == "lost":
            full, oversize = _LOST.unpack_from(p)
            return {"ring_full": full, "oversize": oversize}
        if kind == "position":
            pos, cash, inst, qexp, cexp, _ = _POSITION.unpack_from(p)
            return {"instrument": inst, "position": Decimal(pos).scaleb(qexp), "cash": Decimal(cash).scaleb(cexp)}
        if kind == "names":
            names = {}
            for line in _text(p[8:]).splitlines():
                code, _, name = line.partition("=")
                if code.strip().isdigit():
                    names[int(code)] = name.strip()
            return {"kind": NAME_KINDS.get(p[0], f"kind_{p[0]}"), "names": names}
    except (struct.error, IndexError):
        return {"error": f"{kind} payload of {len(p)} bytes is too short"}
    return {}
