"""The generated engine's order entry against a venue over real loopback TCP: `--venue tcp://...`.

The venue is a small one written here in Python with the schema's generated Python package,
speaking the order-entry wire protocol (SOFH frames, the session's logon, sequence numbers,
heartbeats, reconcile, logout). It acknowledges every order, fills some, cancels and replaces on
request, and records every message with its sequence number, so the tests check what went over the
wire: the logon secret taken from the environment variable the schema names, contiguous sequence
numbers on both sides, heartbeats in quiet periods, quote management (replaces and cancels, far
fewer requests than market messages), the position built from the venue's fills only, a lost
connection followed by a reconnect and a reconcile, and a refused logon ending the engine.

The engine replays a small tape (tests/test_engine_md.py builds it); its --summary is checked
against the venue's records.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import platform
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import build_cache
from hftc.data.tape import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, Instrument, write_tape
from test_engine_md import EXAMPLE, PKG, RUNTIME, SANITIZER_ENV, _build, _summary

SECRET_ENV = "FX_MM_API_KEY"  # the example's gateway: credentials: {env: FX_MM_API_KEY}
SECRET = "s3cret-key-for-tests"
SOFH = struct.Struct(">IH")
SBE_LE = 0xEB50
PX_PER_TICK = 10_000  # Price mantissa (1e-9) per tick (0.00001)
QTY_PER_LOT = 10_000_000  # Qty mantissa (1e-4) per lot (1000)


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Path:
    return _build(EXAMPLE, PKG, tmp_path_factory).engine


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    """The example's generated Python package."""
    out = tmp_path_factory.mktemp("fx_py")
    proc = subprocess.run([sys.executable, "-m", "hftc", "build", str(EXAMPLE), "-t", "python", "-o", str(out)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    sys.path.insert(0, str(out / "python" / "src"))
    try:
        return importlib.import_module("fx_mm")
    finally:
        sys.path.remove(str(out / "python" / "src"))


def quiet_tape(path: Path, seconds_busy: float = 1.0, quiet: float = 1.6, tail: float = 0.4) -> int:
    """EURUSD around a fixed touch: a snapshot, `seconds_busy` of updates every 2 ms moving the touch,
    `quiet` seconds without anything (the engine sends nothing: heartbeats are due), then `tail`
    seconds more. Returns the number of tape events."""
    rng = np.random.default_rng(7)
    rows, t, mid = [], 1_000_000_000, 110_000
    rows.append((t, CLEAR, SNAPSHOT, 0, 0))
    rows.append((t, CLEAR, SNAPSHOT | SIDE_ASK, 0, 0))
    for k in range(5):
        rows.append((t, DEPTH, SNAPSHOT, mid - 1 - k, 10 + k))
    for k in range(5):
        rows.append((t, DEPTH, SNAPSHOT | SIDE_ASK | (END if k == 4 else 0), mid + 1 + k, 10 + k))

    def busy(span: float) -> None:
        nonlocal t, mid
        for _ in range(int(span / 0.002)):
            t += 2_000_000
            if rng.integers(0, 8) == 0:  # the touch moves a tick: new level first, then the old goes
                step = 1 if rng.integers(0, 2) else -1
                if step > 0:
                    rows.append((t, DEPTH, SIDE_ASK | END, mid + 2, 10))
                    rows.append((t, DEPTH, SIDE_ASK | END, mid + 1, 0))
                    rows.append((t, DEPTH, END, mid, 10))
                else:
                    rows.append((t, DEPTH, END, mid - 2, 10))
                    rows.append((t, DEPTH, END, mid - 1, 0))
                    rows.append((t, DEPTH, SIDE_ASK | END, mid, 10))
                mid += step
            else:
                ask = bool(rng.integers(0, 2))
                rows.append((t, DEPTH, END | (SIDE_ASK if ask else 0), mid + 1 if ask else mid - 1,
                             int(rng.integers(1, 30))))

    busy(seconds_busy)
    t += int(quiet * 1e9)
    busy(tail)
    a = np.array(rows, dtype=np.int64)
    write_tape(path, [Instrument("EURUSD", 0.00001, 1000.0, 1.0)],
               {"local_ts": a[:, 0], "exch_ts": a[:, 0] - 500, "px": a[:, 3], "qty": a[:, 4],
                "instrument": np.zeros(len(a), np.uint16), "kind": a[:, 1].astype(np.uint8),
                "flags": a[:, 2].astype(np.uint8)}, {"synthetic": True})
    return len(a)


@dataclass
class Order:
    side: int
    px: int  # Price mantissa
    qty: int  # Qty mantissa
    cum: int = 0


@dataclass
class Connection:
    logon_key: str = ""
    heartbeat_ms: int = 0
    received: list = field(default_factory=list)  # (message name, seq or None)
    seq_errors: list = field(default_factory=list)
    sent: int = 0
    ended_by: str = ""
    logout_reason: int | None = None


class FakeVenue:
    """A venue on 127.0.0.1 speaking the order-entry protocol, one connection at a time, in a thread.

    `fill_every`: fill every Nth order acknowledged (a one-lot order, when the fill keeps the net
    position within one lot). `drop_after`: close the first connection without
    a Logout once it has received that many messages (keeping its orders: the reconcile reports
    them, except `forget` of them, which the venue drops). `fault_after`: on the first connection,
    after that many messages, send a frame of the wrong encoding type (`fault="frame"`) or skip a
    sequence number (`fault="gap"`)."""

    def __init__(self, fx, key: str = SECRET, fill_every: int = 1000, drop_after: int = 0, forget: int = 0,
                 fault_after: int = 0, fault: str = "") -> None:
        self.fx, self.key, self.fill_every, self.drop_after, self.forget = fx, key, fill_every, drop_after, forget
        self.fault_after, self.fault = fault_after, fault
        self.rotate: tuple[Path, str] | None = None  # (secret file, new key), applied when dropping
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}"
        self.orders: dict[int, Order] = {}
        self.connections: list[Connection] = []
        self.position = 0  # lots, from the fills sent
        self.acks = self.exec_id = 0
        self.reconcile_reported: list[int] = []
        self.forgotten: list[int] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.server.close()
        assert not self.errors, self.errors

    # -- the protocol -------------------------------------------------------------------------

    def _serve(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    sock, _ = self.server.accept()
                except TimeoutError:
                    continue
                with sock:
                    self._session(sock, Connection())
        except Exception as exc:  # noqa: BLE001 - reported by close()
            self.errors.append(repr(exc))

    def _send(self, sock, conn: Connection, cls, **fields) -> None:
        buf = bytearray(256)
        m = cls.wrap_and_apply_header(buf)
        conn.sent += 1
        fields.setdefault("seq", conn.sent)
        for k, v in fields.items():
            setattr(m, k, v)
        n = m.encoded_length
        try:
            sock.sendall(SOFH.pack(6 + n, SBE_LE) + bytes(buf[:n]))
        except (BrokenPipeError, ConnectionResetError):
            conn.ended_by = conn.ended_by or "peer closed"  # e.g. it logged out and closed at once

    def _report(self, sock, conn, cl: int, exec_type, status, o: Order, orig: int = 0, last_px: int = 0,
                last_qty: int = 0) -> None:
        fx = self.fx
        self.exec_id += 1
        self._send(sock, conn, fx.ExecutionReport, client_order_id=cl, orig_client_order_id=orig,
                   exec_id=self.exec_id, exec_type=exec_type, order_status=status, side=fx.Side(o.side),
                   last_price=fx.Price(last_px), last_qty=fx.Qty(last_qty), leaves_qty=fx.Qty(o.qty - o.cum),
                   cum_qty=fx.Qty(o.cum), ts_exchange=time.time_ns())

    def _frames(self, sock, conn: Connection):
        buf = b""
        last_out = time.monotonic()
        sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                chunk = None
            except ConnectionResetError:
                chunk = b""
            if chunk == b"":
                conn.ended_by = conn.ended_by or "peer closed"
                return
            if chunk:
                buf += chunk
            while len(buf) >= 6:
                length, enc = SOFH.unpack_from(buf)
                if enc != SBE_LE or length < 14:
                    self.errors.append(f"bad SOFH {length} {enc:#x}")
                    return
                if len(buf) < length:
                    break
                yield self.fx.decode(buf[6:length])
                buf = buf[length:]
            if conn.heartbeat_ms and time.monotonic() - last_out > 0.4:  # our own heartbeats
                self._send(sock, conn, self.fx.Heartbeat, ts_sent=time.time_ns())
                last_out = time.monotonic()

    def _session(self, sock, conn: Connection) -> None:
        fx = self.fx
        self.connections.append(conn)
        expected = 1
        for m in self._frames(sock, conn):
            seq = getattr(m, "seq", None)
            conn.received.append((m.NAME, seq))
            if seq is not None and seq != expected:
                conn.seq_errors.append((m.NAME, seq, expected))
            expected += 1  # a message without a seq field still takes its number
            if isinstance(m, fx.Logon):
                conn.logon_key, conn.heartbeat_ms = m.api_key, m.heartbeat_ms
                if m.api_key != self.key:
                    self._send(sock, conn, fx.Logout, reason=1, ts_sent=time.time_ns())
                    conn.ended_by = "bad credentials"
                    return
                self._send(sock, conn, fx.Logon, heartbeat_ms=m.heartbeat_ms, ts_sent=time.time_ns())
                self._reconcile(sock, conn)
            elif isinstance(m, fx.NewOrder):
                o = Order(int(m.side), m.price.mantissa, m.qty.mantissa)
                self.orders[m.client_order_id] = o
                self._report(sock, conn, m.client_order_id, fx.ExecType.accepted, fx.OrderStatus.open, o)
                self._maybe_fill(sock, conn, m.client_order_id)
            elif isinstance(m, fx.CancelOrder):
                o = self.orders.pop(m.orig_client_order_id, None)
                if o is None:
                    self._send(sock, conn, fx.OrderReject, client_order_id=m.client_order_id, reject_code=7,
                               ts_exchange=time.time_ns())
                else:
                    # FIX style: the cancel request's id, the order's as the original id.
                    self._report(sock, conn, m.client_order_id, fx.ExecType.canceled, fx.OrderStatus.canceled, o,
                                 orig=m.orig_client_order_id)
            elif isinstance(m, fx.ReplaceOrder):
                old = self.orders.pop(m.orig_client_order_id, None)
                if old is None:
                    self._send(sock, conn, fx.OrderReject, client_order_id=m.client_order_id, reject_code=8,
                               ts_exchange=time.time_ns())
                else:
                    o = Order(old.side, m.price.mantissa, m.qty.mantissa, old.cum)
                    self.orders[m.client_order_id] = o
                    self._report(sock, conn, m.client_order_id, fx.ExecType.replaced, fx.OrderStatus.open, o,
                                 orig=m.orig_client_order_id)
                    self._maybe_fill(sock, conn, m.client_order_id)
            elif isinstance(m, fx.Logout):
                conn.logout_reason = m.reason
                self._send(sock, conn, fx.Logout, reason=0, ts_sent=time.time_ns())
                conn.ended_by = "logout"
                return
            if self.fault_after and len(self.connections) == 1 and len(conn.received) == self.fault_after:
                if self.fault == "frame":
                    sock.sendall(SOFH.pack(6 + 8, 0x5BE0) + bytes(8))
                else:
                    conn.sent += 1  # the next message skips a number
                    self._send(sock, conn, fx.Heartbeat, ts_sent=time.time_ns())
            if self.drop_after and len(self.connections) == 1 and len(conn.received) >= self.drop_after:
                if self.rotate is not None:  # the key changes while the engine is disconnected
                    self.rotate[0].write_text(self.rotate[1] + "\n")
                    self.key = self.rotate[1]
                conn.ended_by = "dropped"
                return  # the `with` closes the socket: no Logout, orders kept

    def _reconcile(self, sock, conn: Connection) -> None:
        fx = self.fx
        if len(self.connections) > 1:
            ids = sorted(self.orders)
            for cl in ids[: self.forget]:
                self.forgotten.append(cl)
                del self.orders[cl]
            for cl in ids[self.forget:]:
                o = self.orders[cl]
                self.reconcile_reported.append(cl)
                status = fx.OrderStatus.partially_filled if o.cum else fx.OrderStatus.open
                self._report(sock, conn, cl, fx.ExecType.accepted, status, o)
        self._send(sock, conn, fx.Heartbeat, ts_sent=time.time_ns())  # the end of the reconcile

    def _maybe_fill(self, sock, conn: Connection, cl: int) -> None:
        self.acks += 1
        o = self.orders[cl]
        signed = 1 if o.side == int(self.fx.Side.buy) else -1
        lots = (o.qty - o.cum) // QTY_PER_LOT
        if self.acks % self.fill_every or lots != 1 or abs(self.position + signed) > 1:
            return
        o.cum = o.qty
        self.position += signed
        del self.orders[cl]
        self._report(sock, conn, cl, self.fx.ExecType.trade, self.fx.OrderStatus.filled, o, last_px=o.px,
                     last_qty=QTY_PER_LOT)


def run_engine(engine: Path, tape: Path, venue: FakeVenue, summary: Path, *extra: str, key: str | None = SECRET,
               env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(env or os.environ)
    env.pop(SECRET_ENV, None)
    if key is not None:
        env[SECRET_ENV] = key
    return subprocess.run([str(engine), "--replay", str(tape), "--venue", venue.url, "--no-pin", "--summary",
                           str(summary), *extra], capture_output=True, text=True, timeout=timeout, env=env,
                          check=False)


def _names(conn: Connection) -> list[str]:
    return [n for n, _ in conn.received]


def test_orders_go_over_the_session_with_quote_management(engine: Path, fx, tmp_path: Path) -> None:
    tape = tmp_path / "t.hftt"
    quiet_tape(tape)
    # One fill, once quoting is under way (a position of a lot stops the example's strategy quoting).
    venue = FakeVenue(fx, fill_every=40)
    try:
        run = run_engine(engine, tape, venue, tmp_path / "s.json", "--inline")
    finally:
        venue.close()
    assert run.returncode == 0, run.stderr
    assert SECRET not in run.stdout + run.stderr
    s = _summary(tmp_path / "s.json")
    oe = s["order_entry"]
    assert oe["venue"] == "tcp"
    (conn,) = venue.connections
    # Logon first, with the secret from the environment and the gateway's heartbeat interval.
    assert conn.received[0] == ("Logon", 1)
    assert conn.logon_key == SECRET and conn.heartbeat_ms == 1000
    assert conn.seq_errors == [] and len(conn.received) == oe["session"]["messages_sent"]
    # The venue's sequence: the engine saw no gap and no protocol error.
    assert oe["session"]["sequence_gaps"] == 0 and oe["session"]["protocol_errors"] == 0
    assert oe["session"]["messages_received"] == conn.sent
    # A quiet second and a half on the tape: the engine heartbeats.
    assert _names(conn).count("Heartbeat") >= 1
    assert oe["session"]["heartbeats_sent"] == _names(conn).count("Heartbeat")
    assert oe["session"]["heartbeats_received"] >= 1
    # Quote management: replaces move the quotes, and requests are far fewer than market messages.
    names = _names(conn)
    news, cancels, replaces = names.count("NewOrder"), names.count("CancelOrder"), names.count("ReplaceOrder")
    assert oe["sent"] == {"new": news, "cancel": cancels, "replace": replaces}
    assert replaces >= 10 and cancels >= 1, oe["sent"]
    assert (news + cancels + replaces) / s["messages_decoded"] < 0.3, (oe["sent"], s["messages_decoded"])
    assert oe["exec_reports"]["new"] == news and oe["exec_reports"]["replaced"] <= replaces
    # Position from the venue's fills only.
    assert oe["exec_reports"]["fill"] >= 1
    assert oe["position"] == {"EURUSD": venue.position}
    assert oe["unexpected_reports"] == 0
    # A clean stop: what rested was canceled, then the session logged out.
    assert venue.orders == {} and oe["live_orders"] == 0
    assert names[-1] == "Logout" and conn.ended_by == "logout"
    assert oe["session"]["disconnects"] == 0 and oe["session"]["reconnects"] == 0


def test_disconnect_reconnect_and_reconcile(engine: Path, fx, tmp_path: Path) -> None:
    tape = tmp_path / "t.hftt"
    quiet_tape(tape, seconds_busy=1.0, quiet=0.5, tail=1.0)
    venue = FakeVenue(fx, drop_after=40, forget=1)
    try:
        run = run_engine(engine, tape, venue, tmp_path / "s.json")
    finally:
        venue.close()
    assert run.returncode == 0, run.stderr
    oe = _summary(tmp_path / "s.json")["order_entry"]
    assert len(venue.connections) == 2, [c.ended_by for c in venue.connections]
    first, second = venue.connections
    assert first.ended_by == "dropped" and second.ended_by == "logout"
    # The second connection starts over at seq 1 with a fresh logon.
    assert second.received[0] == ("Logon", 1) and second.logon_key == SECRET
    assert first.seq_errors == [] and second.seq_errors == []
    session = oe["session"]
    assert session["disconnects"] == 1 and session["reconnects"] == 1 and session["logons"] == 2
    assert oe["suspended"] == 1 and oe["marked_unknown"] >= 1
    # The venue reported what it kept open; the one it forgot was closed as canceled.
    assert venue.forgotten, "the venue held orders when the connection dropped"
    assert oe["reconcile_open"] == len(venue.reconcile_reported)
    assert oe["reconcile_closed"] >= len(venue.forgotten)
    assert oe["reconcile_foreign"] == 0
    # Trading resumed on the new connection and ended with nothing left on either side.
    assert "ReplaceOrder" in _names(second) or "NewOrder" in _names(second)
    assert venue.orders == {} and oe["live_orders"] == 0


@pytest.mark.parametrize(("fault", "reason", "counter"), [("frame", 2, "protocol_errors"),
                                                          ("gap", 3, "sequence_gaps")])
def test_protocol_errors_log_out_and_reconnect(engine: Path, fx, tmp_path: Path, fault: str, reason: int,
                                               counter: str) -> None:
    tape = tmp_path / "t.hftt"
    quiet_tape(tape, seconds_busy=1.0, quiet=0.3, tail=0.7)
    venue = FakeVenue(fx, fault_after=20, fault=fault)
    try:
        run = run_engine(engine, tape, venue, tmp_path / "s.json", "--inline")
    finally:
        venue.close()
    assert run.returncode == 0, run.stderr
    oe = _summary(tmp_path / "s.json")["order_entry"]
    first, second = venue.connections
    assert first.logout_reason == reason and first.ended_by == "logout"
    assert second.logout_reason == 0 and second.seq_errors == []
    session = oe["session"]
    assert session[counter] == 1 and session["disconnects"] == 1 and session["reconnects"] == 1
    if fault == "frame":
        assert session["frame_errors"] == {"too_long": 0, "too_short": 0, "encoding_type": 1, "decode": 0}
    # The default venue keeps no orders across connections here: the reconcile closes them all.
    assert oe["reconcile_open"] == len(venue.reconcile_reported) and oe["live_orders"] == 0


def test_a_rotated_secret_file_is_read_again_at_reconnect(tmp_path_factory, fx, tmp_path: Path) -> None:
    """The example with `credentials: {file: PATH}`: the venue drops the connection and changes the
    key in the file; the engine logs on again with the new one."""
    key_file = tmp_path / "key"
    key_file.write_text("first-key\n")
    text = EXAMPLE.read_text(encoding="utf-8").replace("credentials: {env: FX_MM_API_KEY}",
                                                        f'credentials: {{file: "{key_file}"}}')
    assert str(key_file) in text
    schema = tmp_path / "fx_file_key.hftc.yaml"
    schema.write_text(text, encoding="utf-8")
    (tmp_path / "common.hftc.yaml").write_text((EXAMPLE.parent / "common.hftc.yaml").read_text(encoding="utf-8"),
                                               encoding="utf-8")
    engine = _build(schema, PKG, tmp_path_factory).engine
    tape = tmp_path / "t.hftt"
    quiet_tape(tape, seconds_busy=1.0, quiet=0.3, tail=0.5)
    venue = FakeVenue(fx, key="first-key", drop_after=30)
    venue.rotate = (key_file, "second-key")
    try:
        run = run_engine(engine, tape, venue, tmp_path / "s.json", "--inline", key=None)
    finally:
        venue.close()
    assert run.returncode == 0, run.stderr
    first, second = venue.connections
    assert first.logon_key == "first-key" and second.logon_key == "second-key"
    assert second.ended_by == "logout"
    session = _summary(tmp_path / "s.json")["order_entry"]["session"]
    assert session["reconnects"] == 1 and session["secret_read_failures"] == 0
    assert "first-key" not in run.stderr + run.stdout and "second-key" not in run.stderr + run.stdout


def test_bad_credentials_end_the_engine_after_the_venues_logout(engine: Path, fx, tmp_path: Path) -> None:
    tape = tmp_path / "t.hftt"
    quiet_tape(tape)
    venue = FakeVenue(fx)
    try:
        run = run_engine(engine, tape, venue, tmp_path / "s.json", "--inline", key="not-the-key", timeout=30)
    finally:
        venue.close()
    assert run.returncode == 4, run.stderr
    assert "the venue refused the logon (bad credentials)" in run.stderr
    assert "not-the-key" not in run.stdout + run.stderr
    (conn,) = venue.connections
    assert conn.logon_key == "not-the-key" and conn.ended_by == "bad credentials"
    assert _names(conn) == ["Logon"]  # no order before the logon is answered
    oe = _summary(tmp_path / "s.json")["order_entry"]
    assert oe["session"]["logon_refused"] is True and oe["sent"] == {"new": 0, "cancel": 0, "replace": 0}


def test_missing_secret_is_an_error_naming_the_variable(engine: Path, fx, tmp_path: Path) -> None:
    tape = tmp_path / "t.hftt"
    quiet_tape(tape, seconds_busy=0.1, quiet=0.0, tail=0.0)
    venue = FakeVenue(fx)
    try:
        run = run_engine(engine, tape, venue, tmp_path / "s.json", key=None, timeout=30)
        bad_url = subprocess.run([str(engine), "--venue", "tcp://127.0.0.1:70000"], capture_output=True, text=True,
                                 timeout=30, check=False)
    finally:
        venue.close()
    assert run.returncode == 1
    assert f"environment variable {SECRET_ENV} is not set" in run.stderr
    assert venue.connections == []
    assert bad_url.returncode == 2 and "--venue" in bad_url.stderr and "0..65535" in bad_url.stderr


def test_synthetic_market_trades_through_the_order_managers(engine: Path, tmp_path: Path) -> None:
    """Without --venue the simulated venue answers the same requests: fills move the position."""
    runs = {}
    for ratio in ("0", "1"):
        run = subprocess.run([str(engine), "--duration-s", "0.5", "--inline", "--no-pin", "--fill-ratio", ratio],
                             capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0, run.stderr
        runs[ratio] = run.stderr
    assert "venue simulated:" in runs["0"] and ", 0 fills, position 0" in runs["0"]
    assert " replace sent" in runs["0"]
    assert ", 0 fills," not in runs["1"]


def test_order_entry_under_asan_and_ubsan(tmp_path_factory, fx, tmp_path: Path) -> None:
    """The session, the order managers and the reconnect path, built with AddressSanitizer and UBSan."""
    engine = _build(EXAMPLE, PKG, tmp_path_factory, sanitize=True).engine
    tape = tmp_path / "t.hftt"
    quiet_tape(tape, seconds_busy=1.0, quiet=0.3, tail=0.5)
    venue = FakeVenue(fx, drop_after=30, forget=1)
    try:
        run = run_engine(engine, tape, venue, tmp_path / "s.json", env={**os.environ, **SANITIZER_ENV}, timeout=120)
    finally:
        venue.close()
    assert run.returncode == 0, run.stderr
    assert "ERROR: AddressSanitizer" not in run.stderr and "runtime error" not in run.stderr
    oe = _summary(tmp_path / "s.json")["order_entry"]
    assert oe["session"]["reconnects"] == 1 and oe["live_orders"] == 0


def _tsan_engine(tmp_path_factory) -> Path:
    """The engine built with ThreadSanitizer (Debug, -O1), once per content hash of its sources."""
    for tool in ("cmake", "ninja", "g++"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not installed")
    gen = tmp_path_factory.mktemp("tsan_gen")
    proc = subprocess.run([sys.executable, "-m", "hftc", "build", str(EXAMPLE), "-t", "cpp", "-o", str(gen)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    src = gen / "cpp"
    digest = hashlib.sha256()
    for root in (src, RUNTIME / "include"):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    home = build_cache() / "engine_tsan" / digest.hexdigest()[:16]
    exe = home / "build" / f"{PKG}_engine"
    if not exe.is_file():
        if (home / "src").exists():
            shutil.rmtree(home / "src")
        shutil.copytree(src, home / "src")
        for cmd in (["cmake", "-G", "Ninja", "-S", str(home / "src"), "-B", str(home / "build"),
                     "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_CXX_COMPILER=g++", "-DCMAKE_CXX_FLAGS=-fsanitize=thread -O1 -g1",
                     "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread", f"-DHFTC_RUNTIME_DIR={RUNTIME}",
                     "-DHFTC_BUILD_TESTS=OFF", "-DHFTC_BUILD_BENCH=OFF"],
                    ["nice", "ninja", "-j", "2", "-C", str(home / "build"), f"{PKG}_engine"]):
            run = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
            assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return exe


def test_threaded_engine_order_entry_under_tsan(tmp_path_factory, fx, tmp_path: Path) -> None:
    """The schema's thread splits (the gateway thread hands quotes to the ingress thread's order entry,
    fills go back through the pipeline) with a reconnect, under ThreadSanitizer."""
    engine = _tsan_engine(tmp_path_factory)
    tape = tmp_path / "t.hftt"
    quiet_tape(tape, seconds_busy=1.0, quiet=0.3, tail=0.5)
    env = {**os.environ, "TSAN_OPTIONS": "halt_on_error=1"}
    for _ in range(2):
        venue = FakeVenue(fx, drop_after=30, forget=1, fill_every=40)
        try:
            run = run_engine(engine, tape, venue, tmp_path / "s.json", "--threads", "split", env=env, timeout=120)
        finally:
            venue.close()
        # Some kernels' ASLR layouts defeat TSan; the standard workaround is to run without it.
        if run.returncode == 0 or "unexpected memory mapping" not in run.stderr or shutil.which("setarch") is None:
            break
        engine_cmd = engine
        engine = Path(tmp_path / "no_aslr.sh")
        engine.write_text(f'#!/bin/sh\nexec setarch {platform.machine()} -R "{engine_cmd}" "$@"\n')
        engine.chmod(0o755)
    assert run.returncode == 0, run.stderr[-6000:]
    assert "ThreadSanitizer" not in run.stderr, run.stderr[-6000:]
    oe = _summary(tmp_path / "s.json")["order_entry"]
    assert oe["session"]["reconnects"] == 1 and oe["live_orders"] == 0
