"""Records as flat rows, and their CSV and Parquet files (written atomically)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from hftc.audit.journal import Record
from hftc.fileio import write_atomically

COLUMNS = ("seq", "ts_ns", "time", "type", "direction", "message", "role", "fields", "file", "offset")


def rows(records: list[Record], decoder) -> list[dict[str, Any]]:
    """One row per record: messages decoded when a decoder is given, other payloads as parsed."""
    from hftc.audit.cli import iso

    out = []
    for r in records:
        fields: dict[str, Any] = dict(r.fields)
        direction = fields.pop("direction", "")
        message = role = ""
        if r.type == "message":
            if decoder is None:
                fields = {"hex": r.payload.hex()}
            else:
                d = decoder.decode(r.payload)
                message, role = d.get("message", ""), d.get("role") or ""
                fields = d.get("values", {"error": d.get("error")})
        out.append({"seq": r.seq, "ts_ns": r.ts_ns, "time": iso(r.ts_ns), "type": r.type, "direction": direction,
                    "message": message, "role": role, "fields": json.dumps(fields, default=str, sort_keys=True),
                    "file": r.file, "offset": r.offset})
    return out


def write_csv(table: list[dict[str, Any]], path: Path) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(table)
    write_atomically(path, buf.getvalue().encode())


def write_parquet(table: list[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa  # only this export needs it
    import pyarrow.parquet as pq

    columns = {c: [row[c] for row in table] for c in COLUMNS}
    schema = pa.schema([("seq", pa.uint64()), ("ts_ns", pa.uint64()), ("time", pa.string()), ("type", pa.string()),
                        ("direction", pa.string()), ("message", pa.string()), ("role", pa.string()),
                        ("fields", pa.string()), ("file", pa.string()), ("offset", pa.uint64())])
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns, schema=schema), sink)
    write_atomically(path, sink.getvalue().to_pybytes())
