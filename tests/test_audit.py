"""`hftc audit` on journals written by the runtime's own journal writer (hft/audit/journal.hpp).

A small C++ tool (runtime_cpp/tools/hft_journal_tool.cpp) writes the journal; the schema
messages in it are encoded from the example schema by the reference codec of the
cross-language vectors. So these tests check the C++ writer and the Python reader against
each other and against FORMATS.md section 7.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from hftc.frontend.compile import compile_file
from hftc.vectors import Codec

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "fx_market_maker.hftc.yaml"
GXX = shutil.which("g++")
SECRET = "sup3r-s3cret-key"

pytestmark = pytest.mark.skipif(GXX is None, reason="g++ is not on PATH")


@pytest.fixture(scope="module")
def tool(tmp_path_factory) -> Path:
    exe = tmp_path_factory.mktemp("tool") / "hft_journal_tool"
    proc = subprocess.run(
        [GXX, "-std=c++20", "-O1", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I", str(REPO / "runtime_cpp/include"),
         str(REPO / "runtime_cpp/tools/hft_journal_tool.cpp"), "-pthread", "-o", str(exe)],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return exe


@pytest.fixture(scope="module")
def ir():
    compiled = compile_file(str(EXAMPLE))
    assert compiled.ok
    return compiled.ir


def encode(ir, name: str, **values) -> bytes:
    """A message of the example with the given values, everything else zero or empty."""
    codec = Codec(ir)
    m = next(x for x in ir.messages if x.name == name)
    full = {}
    for f in m.fields:
        full[f.name] = values.get(f.name, "" if codec.kind(f.type) in ("chars", "char") else 0)
    for g in m.groups:
        full[g.name] = values.get(g.name, [])
    for d in m.data:
        full[d.name] = values.get(d.name, "")
    return codec.encode_message(m, full, ir.version)


RISK = struct.Struct("<QqqqqqqIHBB")
T0 = 1_765_108_800_000_000_000  # 2025-12-07T12:00:00Z


def risk(coid, qty, accepted, reason=0, worst_long=0, worst_short=0, notional=0, side=0) -> bytes:
    return RISK.pack(coid, 1_100_000, qty, 0, worst_long, worst_short, notional, 1, reason, side, int(accepted))


def journal_lines(ir) -> list[tuple[int, int, int, bytes]]:
    """A session: logon, two orders (one rejected by risk), fills, a cancel, a venue reject, a gap,
    a kill switch and the engine's final position."""
    px = 1_100_000_000  # 1.1 at exponent -9
    out = [
        (9, 0, T0, bytes([1]) + bytes(7) + b"1=max_position\n2=max_order_qty\n"),
        (3, 0, T0 + 1, struct.pack("<BBHIQ", 0, 0, 0, 0, 0)),
        (1, 0, T0 + 2, encode(ir, "Logon", seq=1, heartbeat_ms=1000, api_key=SECRET)),
        (1, 1, T0 + 3, encode(ir, "Logon", seq=1, heartbeat_ms=1000)),
        (3, 0, T0 + 4, struct.pack("<BBHIQ", 1, 0, 0, 0, 0)),
        (2, 0, T0 + 10, risk(101, 10_000, True, worst_long=10_000, notional=11_000)),
        (1, 0, T0 + 11, encode(ir, "NewOrder", client_order_id=101, instrument=1, side=1, price=px, qty=10_000)),
        (2, 0, T0 + 12, risk(102, 99_000_000, False, reason=2)),
        (1, 1, T0 + 20, encode(ir, "ExecutionReport", client_order_id=101, exec_type=0, side=1, seq=2)),
        (1, 1, T0 + 21, encode(ir, "ExecutionReport", client_order_id=101, exec_type=1, side=1, last_price=px,
                               last_qty=4_000, cum_qty=4_000, leaves_qty=6_000, seq=3)),
        (1, 0, T0 + 30, encode(ir, "CancelOrder", client_order_id=103, orig_client_order_id=101, instrument=1,
                               side=1, seq=3)),
        (1, 1, T0 + 31, encode(ir, "ExecutionReport", client_order_id=101, exec_type=2, side=1, seq=4)),
        (2, 0, T0 + 40, risk(104, 5_000, True, worst_short=5_000, notional=5_500, side=1)),
        (1, 0, T0 + 41, encode(ir, "NewOrder", client_order_id=104, instrument=1, side=2, price=px, qty=5_000)),
        (1, 1, T0 + 42, encode(ir, "OrderReject", client_order_id=104, reject_code=7, seq=5)),
        (6, 0, T0 + 50, struct.pack("<QQII", 10, 13, 1, 0)),
        (5, 0, T0 + 60, struct.pack("<BB6xQ", 0, 2, 0) + b"operator via /kill"),
        (8, 0, T0 + 70, struct.pack("<qqIbbH", 4_000, -4_400_000, 1, -4, -9, 0)),
    ]
    return out


def write_journal(tool: Path, prefix: Path, lines, schema_id=7, version=2) -> None:
    text = "".join(f"{t} {fl} {ts} {p.hex() or '-'}\n" for t, fl, ts, p in lines)
    proc = subprocess.run([str(tool), "write", str(prefix), str(schema_id), str(version)], input=text,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr


def hftc(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "hftc", *args], capture_output=True, text=True, timeout=120,
                          env=env, check=False)


@pytest.fixture()
def journal(tool, ir, tmp_path) -> Path:
    prefix = tmp_path / "audit" / "engine"
    prefix.parent.mkdir()
    write_journal(tool, prefix, journal_lines(ir))
    return prefix


def test_records_print_decoded_and_the_secret_never_appears(journal):
    r = hftc("audit", str(journal), "--schema", str(EXAMPLE))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 18
    assert "NewOrder" in lines[6] and '"client_order_id": 101' in lines[6]
    assert SECRET not in r.stdout
    assert "<redacted>" in lines[2]
    # Without the schema, messages are shown as hex (the engine blanks credentials before it
    # journals a logon; hftc audit redacts them again when it can decode); other records decode.
    raw = hftc("audit", str(journal), "--type", "risk", "--json")
    rows = [json.loads(line) for line in raw.stdout.splitlines()]
    assert [json.loads(x["fields"])["client_order_id"] for x in rows] == [101, 102, 104]
    assert [json.loads(x["fields"])["accepted"] for x in rows] == [True, False, True]


def test_report_counts_what_a_review_asks_for(journal):
    r = hftc("audit", str(journal), "--schema", str(EXAMPLE), "--report", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["records"] == 18
    assert rep["orders_sent"] == {"new_order": 2, "cancel": 1}
    assert rep["fills"] == 1
    assert rep["order_to_trade_ratio"] == 3.0
    assert rep["execution_reports"] == {"accepted": 1, "trade": 1, "canceled": 1}
    assert rep["risk_accepted"] == 2
    assert rep["risk_rejects_by_reason"] == {"max_order_qty": 1}
    assert rep["venue_rejects_by_reason"] == {"code 7": 1}
    assert rep["max_exposure"] == {"position_long": 10_000, "position_short": 5_000, "order_qty": 10_000,
                                   "order_notional": 11_000}
    assert rep["session_events"] == {"connect": 1, "logon": 1}
    assert rep["md_gaps"] == 1 and rep["md_packets_missed"] == 3
    assert [k["source"] for k in rep["kill_switch_events"]] == ["http"]
    assert rep["kill_switch_events"][0]["reason"] == "operator via /kill"
    assert rep["reconciliation"] == [{"instrument": "1", "from_execution_reports": "0.4000", "journaled": "0.4000",
                                      "ok": True}]
    text = hftc("audit", str(journal), "--schema", str(EXAMPLE), "--report")
    assert "order-to-trade ratio: 3.00" in text.stdout
    assert "position 1: 0.4000 from execution reports, journaled 0.4000: ok" in text.stdout


def test_reconcile_fails_when_the_journaled_position_disagrees(tool, ir, tmp_path):
    lines = journal_lines(ir)
    lines[-1] = (8, 0, T0 + 70, struct.pack("<qqIbbH", 5_000, 0, 1, -4, -9, 0))
    prefix = tmp_path / "bad"
    write_journal(tool, prefix, lines)
    r = hftc("audit", str(prefix), "--schema", str(EXAMPLE), "--reconcile")
    assert r.returncode == 1
    assert "MISMATCH" in r.stdout
    ok = hftc("audit", str(prefix), "--schema", str(EXAMPLE), "--reconcile", "--until", str(T0 + 69))
    assert ok.returncode == 0, ok.stdout  # before the wrong position record there is nothing to disagree with


def test_filters_by_order_type_and_time(journal):
    r = hftc("audit", str(journal), "--schema", str(EXAMPLE), "--order", "101", "--json")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["message"] or x["type"] for x in rows] == ["risk", "NewOrder", "ExecutionReport", "ExecutionReport",
                                                        "CancelOrder", "ExecutionReport"]
    r = hftc("audit", str(journal), "--since", "2025-12-07T12:00:00.000000040", "--until", str(T0 + 60))
    assert len(r.stdout.splitlines()) == 5  # risk 104, NewOrder 104, OrderReject, md_gap, kill switch at +60
    r = hftc("audit", str(journal), "--type", "kill_switch", "--type", "md_gap")
    assert len(r.stdout.splitlines()) == 2


def test_csv_and_parquet_exports_hold_every_selected_record(journal, tmp_path):
    out_csv, out_pq = tmp_path / "j.csv", tmp_path / "j.parquet"
    r = hftc("audit", str(journal), "--schema", str(EXAMPLE), "--csv", str(out_csv), "--parquet", str(out_pq))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 18
    assert [int(x["seq"]) for x in rows] == list(range(1, 19))
    assert rows[6]["message"] == "NewOrder" and rows[6]["role"] == "new_order"
    assert SECRET not in out_csv.read_text()
    import pyarrow.parquet as pq

    table = pq.read_table(out_pq)
    assert table.num_rows == 18
    assert table.column("type").to_pylist() == [x["type"] for x in rows]


def test_torn_tail_is_a_warning_and_damage_in_the_middle_an_error(tool, ir, journal, tmp_path):
    first = journal.parent / "engine-000001.hftj"
    with first.open("ab") as f:
        f.write(b"\x20\x00\x00\x00\x01\x00")  # half a record: a crash mid-write
    r = hftc("audit", str(journal))
    assert r.returncode == 0
    assert "torn last record" in r.stderr and len(r.stdout.splitlines()) == 18
    # A restart continues in a new file; the torn record is now inside the journal.
    write_journal(tool, journal, journal_lines(ir)[:2])
    assert (journal.parent / "engine-000002.hftj").exists()
    r = hftc("audit", str(journal.parent))
    assert r.returncode == 2
    assert "damaged" in r.stderr
    assert len(r.stdout.splitlines()) == 20
    seqs = [int(line.split()[0]) for line in r.stdout.splitlines()]
    assert seqs == list(range(1, 21))  # numbering carried on after the restart
    # A flipped bit is caught by the CRC.
    data = bytearray(first.read_bytes())
    data[40] ^= 0x01
    first.write_bytes(bytes(data))
    r = hftc("audit", str(first))
    assert "CRC mismatch" in r.stderr


def test_bad_input_is_a_coded_error_without_traceback(tool, ir, journal, tmp_path):
    not_journal = tmp_path / "x.hftj"
    not_journal.write_bytes(b"hello")
    r = hftc("audit", str(not_journal))
    assert r.returncode == 1 and "HFT1701" in r.stderr and "Traceback" not in r.stderr
    r = hftc("audit", str(tmp_path / "missing"))
    assert r.returncode == 1 and "HFT1701" in r.stderr
    other = tmp_path / "other"
    write_journal(tool, other, journal_lines(ir)[:3], schema_id=8)
    r = hftc("audit", str(other), "--schema", str(EXAMPLE))
    assert r.returncode == 1 and "HFT1703" in r.stderr, r.stderr
    r = hftc("audit", str(journal), "--type", "orders")
    assert r.returncode == 1 and "HFT1705" in r.stderr
    r = hftc("audit", str(journal), "--reconcile")
    assert r.returncode == 1 and "HFT1705" in r.stderr
    r = hftc("audit", str(journal), "--since", "yesterday")
    assert r.returncode == 1 and "HFT1705" in r.stderr


@pytest.mark.parametrize("schema", ["wire_custom", "wire_wide"])
def test_messages_decode_under_the_schemas_own_framing(schema):
    """Big-endian, custom header, 3- and 8-byte group sizes, short var-data lengths: the journal's
    messages are read as the schema frames them (the cross-language vectors are the reference)."""
    from hftc.audit.decode import MessageDecoder
    from hftc.vectors import make_vectors

    compiled = compile_file(str(REPO / "tests" / "schemas" / f"{schema}.hftc.yaml"))
    assert compiled.ok
    decoder = MessageDecoder(compiled.ir)
    vectors = make_vectors(compiled.ir, count_per_message=2)["vectors"]
    assert vectors
    for v in vectors:
        got = decoder.decode(bytes.fromhex(v["current_hex"]))
        assert got.get("message") == v["message"], got
        assert json.loads(json.dumps(got["values"], default=str)) == json.loads(json.dumps(v["values"], default=str))
