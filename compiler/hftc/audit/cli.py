"""`hftc audit JOURNAL...`: print, filter, export, reconcile and report on an engine's journal."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

_ISO = re.compile(r"^(?P<base>\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d)?)?)(?:\.(?P<frac>\d{1,9}))?"
                  r"(?P<zone>Z|[+-]\d\d:\d\d)?$")
RECORD_TYPES = ("message", "risk", "session", "params", "kill_switch", "md_gap", "lost", "position", "names")


def _fail(code: str, message: str, hint: str, file: Path | None = None) -> None:
    from hftc.diagnostics.color import wants_color
    from hftc.diagnostics.model import Span, error
    from hftc.diagnostics.render import render_all

    span = Span.point(str(file), 1, 1) if file is not None else None
    d = error(code, message, span, help=hint)
    print(render_all([d], "text", lambda _f: None, color=wants_color(sys.stderr)), file=sys.stderr)
    raise typer.Exit(1)


def _time(text: str | None, option: str) -> int | None:
    """Nanoseconds since the epoch from an integer or an ISO 8601 time (UTC when no zone)."""
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    m = _ISO.match(text)
    try:
        if m is None:
            raise ValueError(text)
        t = datetime.fromisoformat(m["base"] + (m["zone"] or "").replace("Z", "+00:00"))
    except ValueError:
        _fail("HFT1705", f"{option} {text!r} is neither nanoseconds nor an ISO 8601 time",
              "e.g. 2026-12-07T12:00:00.000000001 (UTC) or 1765108800000000000")
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    # Whole seconds through datetime, the fraction as digits: a float would lose the nanoseconds.
    fraction = int((m["frac"] or "").ljust(9, "0")[:9] or 0)
    return int(t.timestamp()) * 1_000_000_000 + fraction


def iso(ts_ns: int) -> str:
    t = datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ts_ns % 1_000_000_000:09d}Z"


def audit_cmd(
    journals: list[Path] = typer.Argument(..., help="Journal files, directories or prefixes (`audit/engine`)."),
    schema: Optional[Path] = typer.Option(None, "--schema", help="The engine's schema: decodes messages, "
                                          "enables the order and fill counts and the reconciliation."),
    types: list[str] = typer.Option([], "--type", help=f"Only these record types: {', '.join(RECORD_TYPES)}."),
    order: Optional[int] = typer.Option(None, "--order", help="Only records about this client order id."),
    since: Optional[str] = typer.Option(None, "--since", help="From this time (ns or ISO 8601, UTC)."),
    until: Optional[str] = typer.Option(None, "--until", help="Up to this time (ns or ISO 8601, UTC)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Export the selected records as CSV."),
    parquet_out: Optional[Path] = typer.Option(None, "--parquet", help="Export the selected records as Parquet."),
    report: bool = typer.Option(False, "--report", help="Print the controls report instead of the records."),
    reconcile: bool = typer.Option(False, "--reconcile", help="Check the journaled positions against the "
                                   "execution reports; exit 1 when they differ (needs --schema)."),
    json_output: bool = typer.Option(False, "--json", help="Records as JSON lines, or the report as JSON."),
) -> None:
    """Read an engine's audit journal: the records, an export, or the report a review asks for."""
    from hftc.audit.export import rows, write_csv, write_parquet
    from hftc.audit.journal import JournalError, ReadReport, journal_paths, read_records

    unknown = [t for t in types if t not in RECORD_TYPES]
    if unknown:
        _fail("HFT1705", f"unknown record type {unknown[0]!r}", f"choose from {', '.join(RECORD_TYPES)}")
    if reconcile and schema is None:
        _fail("HFT1705", "--reconcile needs --schema", "execution reports are decoded with the engine's schema")
    lo, hi = _time(since, "--since"), _time(until, "--until")
    decoder = None
    if schema is not None:
        decoder = _decoder(schema)
    read = ReadReport()
    try:
        paths = journal_paths(journals)
        records = list(read_records(paths, read))
    except JournalError as exc:
        _fail("HFT1701", exc.message, "pass the journal's files, its directory or its prefix", exc.path)
    for problem in read.problems():
        print(f"warning: {problem}", file=sys.stderr)
    if decoder is not None:
        ids = {(f.schema_id, f.schema_version) for f in read.files}
        wrong = [sid for sid, _ in ids if sid != decoder.ir.schema_id]
        if wrong:
            _fail("HFT1703", f"the journal's messages are of schema id {wrong[0]}, {schema} is schema id "
                  f"{decoder.ir.schema_id}", "pass the schema the engine was built from", schema)
    selected = [r for r in records if _keep(r, types, order, lo, hi, decoder)]
    if report or reconcile:
        from hftc.audit.report import build_report

        rep = build_report(selected, decoder)
        if json_output:
            print(json.dumps(rep.as_json(), indent=2, default=str))
        else:
            _print_report(rep, read)
        if reconcile and not all(r.ok for r in rep.positions):
            raise typer.Exit(1)
        if read.damaged:
            raise typer.Exit(2)
        return
    table = rows(selected, decoder)
    if csv_out is not None:
        write_csv(table, csv_out)
        print(f"wrote {len(table)} records to {csv_out}", file=sys.stderr)
    if parquet_out is not None:
        try:
            write_parquet(table, parquet_out)
        except ImportError:
            _fail("HFT1704", "Parquet export needs pyarrow", "pip install pyarrow (it is in hftc's `test` extra)")
        print(f"wrote {len(table)} records to {parquet_out}", file=sys.stderr)
    if csv_out is None and parquet_out is None:
        for row in table:
            if json_output:
                print(json.dumps(row, default=str))
            else:
                print(f"{row['seq']:>8} {row['time']} {row['type']:<11} {row['direction']:<3} "
                      f"{row['message'] or '-':<16} {row['fields']}")
    if read.damaged:
        raise typer.Exit(2)


def _decoder(schema: Path):
    from hftc.audit.decode import MessageDecoder
    from hftc.diagnostics.color import wants_color
    from hftc.diagnostics.model import has_errors
    from hftc.diagnostics.render import render_all
    from hftc.frontend.compile import compile_file

    compiled = compile_file(str(schema))
    if not compiled.ok or has_errors(compiled.diagnostics):
        print(render_all(compiled.diagnostics, "text", compiled.sources.lookup, color=wants_color(sys.stderr)),
              file=sys.stderr)
        raise typer.Exit(1)
    return MessageDecoder(compiled.ir)


def _keep(r, types, order, lo, hi, decoder) -> bool:
    if types and r.type not in types:
        return False
    if lo is not None and r.ts_ns < lo:
        return False
    if hi is not None and r.ts_ns > hi:
        return False
    if order is None:
        return True
    if r.type == "risk":
        return r.fields.get("client_order_id") == order
    if r.type == "message" and decoder is not None:
        d = decoder.decode(r.payload)
        if "error" in d:
            return False
        ids = (decoder.value_of(d["message"], d["values"], "client_order_id"),
               decoder.value_of(d["message"], d["values"], "orig_client_order_id"))
        return order in ids
    return False


def _print_report(rep, read) -> None:
    from hftc.audit.cli import iso as _iso

    files = len(read.files)
    span = f"{_iso(rep.first_ts_ns)} .. {_iso(rep.last_ts_ns)}" if rep.records else "no records"
    print(f"journal: {files} file(s), {rep.records} records, {span}")
    print(f"orders sent: {dict(rep.orders) or 0}; fills: {rep.fills}; order-to-trade ratio: "
          f"{'n/a (no fills)' if rep.order_to_trade is None else f'{rep.order_to_trade:.2f}'}")
    print(f"execution reports: {dict(rep.exec_reports) or 0}")
    print(f"risk gate: {rep.risk_accepted} accepted, rejects by reason: {dict(rep.risk_rejects) or 'none'}")
    print(f"venue rejects by reason: {dict(rep.venue_rejects) or 'none'}")
    print("maximum exposure reached (accepted orders): "
          + (", ".join(f"{k} {v}" for k, v in sorted(rep.max_exposure.items())) or "none"))
    print(f"kill switch: {len(rep.kill_switch)} event(s)")
    for k in rep.kill_switch:
        print(f"  {_iso(k['ts_ns'])} {k['action']} by {k['source']}, {k['orders_canceled']} canceled: {k['reason']}")
    print(f"session events: {dict(rep.sessions) or 'none'}")
    print(f"market-data gaps: {rep.md_gaps} ({rep.md_missed} packets missed)")
    print(f"records lost before the journal: {rep.lost}; undecodable messages: {rep.undecodable}")
    for r in rep.positions:
        journaled = "not journaled" if r.journaled is None else f"journaled {r.journaled}"
        print(f"position {r.instrument}: {r.from_reports} from execution reports, {journaled}: "
              f"{'ok' if r.ok else 'MISMATCH'}")
    for problem in read.problems():
        print(f"journal problem: {problem}")
