"""`hftc venue` as real processes on loopback: the generated `<pkg>_venue` publishes a small tape as UDP
market data and takes order-entry sessions over TCP (SOFH frames of the schema's messages), matching
orders with the backtest engine's rules; a Python client (the generated Python codecs) logs on with good
and bad credentials, trades, and the venue's JSON summary is checked against what it did.

The tape is written here: a stable EURUSD book (bids 1.09999.., asks 1.10001..) refreshed every 50 ms,
and at 3 s a seller trades through 1.09998, which fills a resting bid at 1.09999 whole. The venue is
built once per content hash of its generated sources and the runtime, under the build cache.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES
from hftc.data.tape import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE, Instrument, write_tape

EXAMPLE = EXAMPLES / "fx_market_maker.hftc.yaml"
SECRET = "s3cret-key"
T0 = 1_000_000_000
MID = 110_000  # ticks of 0.00001
PX = 10_000  # raw Price (10^-9) per tick
LOT = 10_000_000  # raw Qty (10^-4) per lot of 1000


def _tools_missing() -> str | None:
    import shutil

    missing = [t for t in ("cmake", "ninja", "g++") if shutil.which(t) is None]
    return f"`{missing[0]}` is not installed" if missing else None


pytestmark = pytest.mark.skipif(_tools_missing() is not None, reason=_tools_missing() or "")


def write_venue_tape(path: Path, seconds: float = 4.0, trade_at: float = 3.0) -> int:
    """The test tape; returns its rows."""
    rows: list[tuple[int, int, int, int, int]] = []
    rows.append((T0, CLEAR, SNAPSHOT, 0, 0))
    rows.append((T0, CLEAR, SNAPSHOT | SIDE_ASK, 0, 0))
    for k in range(5):
        rows.append((T0, DEPTH, SNAPSHOT, MID - 1 - k, 10 + k))
    for k in range(5):
        rows.append((T0, DEPTH, SNAPSHOT | SIDE_ASK | (END if k == 4 else 0), MID + 1 + k, 10 + k))
    t = T0
    traded = False
    while t < T0 + int(seconds * 1e9):
        t += 50_000_000
        if not traded and t >= T0 + int(trade_at * 1e9):
            rows.append((t, TRADE, END | SIDE_ASK, MID - 2, 1))  # a seller through our bid at MID - 1
            traded = True
        else:
            rows.append((t, DEPTH, END | SIDE_ASK, MID + 5, 14))  # the same level again: the book stays
    a = np.array(rows, dtype=np.int64)
    write_tape(path, [Instrument("EURUSD", 0.00001, 1000.0, 1.0)],
               {"local_ts": a[:, 0], "exch_ts": a[:, 0] - 500, "px": a[:, 3], "qty": a[:, 4],
                "instrument": np.zeros(len(a), np.uint16), "kind": a[:, 1].astype(np.uint8),
                "flags": a[:, 2].astype(np.uint8)}, {"synthetic": True})
    return len(a)


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    """The generated Python codecs of the example (the client's side of the wire)."""
    out = tmp_path_factory.mktemp("venue_py")
    proc = subprocess.run([sys.executable, "-m", "hftc", "build", str(EXAMPLE), "-t", "python", "-o", str(out)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    sys.path.insert(0, str(out / "python" / "src"))
    try:
        import fx_mm.dispatch
        import fx_mm.messages
        import fx_mm.types

        yield fx_mm
    finally:
        sys.path.remove(str(out / "python" / "src"))


@pytest.fixture(scope="module")
def tape(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("venue_tape") / "eurusd.hftt"
    write_venue_tape(path)
    return path


def _frame(msg: bytes) -> bytes:
    return struct.pack(">IH", 6 + len(msg), 0xEB50) + msg


class Client:
    """One order-entry session: SOFH frames of the generated codecs, seq numbers checked."""

    def __init__(self, fx, port: int):
        self.fx = fx
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        self.out_seq = 0
        self.in_seq = 0

    def send(self, cls, **fields) -> None:
        buf = bytearray(512)
        m = cls.wrap_and_apply_header(buf)
        self.out_seq += 1
        for name, value in fields.items():
            setattr(m, name, value)
        if "seq" in cls.__dict__:
            m.seq = self.out_seq
        self.sock.sendall(_frame(bytes(buf[:m.encoded_length])))

    def recv(self, timeout: float = 5.0):
        """The next message, or None when the venue closed the connection."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 6:
                length, enc = struct.unpack_from(">IH", self.buf)
                assert enc == 0xEB50 and 6 + 8 <= length <= 65536
                if len(self.buf) >= length:
                    msg = self.fx.dispatch.decode(self.buf[6:length])
                    self.buf = self.buf[length:]
                    self.in_seq += 1
                    assert msg.seq == self.in_seq, f"venue seq {msg.seq}, expected {self.in_seq}"
                    return msg
            left = deadline - time.monotonic()
            assert left > 0, "no message from the venue in time"
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return None
                self.buf += chunk

    def recv_app(self, timeout: float = 5.0):
        """The next message that is not a heartbeat (each heartbeat is answered: the session stays alive)."""
        while True:
            m = self.recv(timeout)
            if m is None or type(m).__name__ != "Heartbeat":
                return m
            self.send(self.fx.messages.Heartbeat, ts_sent=time.time_ns())

    def logon(self, key: str) -> None:
        self.send(self.fx.messages.Logon, heartbeat_ms=1000, api_key=key, ts_sent=time.time_ns())

    def close(self) -> None:
        self.sock.close()


@dataclass
class Venue:
    proc: subprocess.Popen
    md_port: int
    orders_port: int
    summary: Path
    stderr: list[str] = field(default_factory=list)


def start_venue(tape: Path, tmp_path: Path, *extra: str, sanitize: bool = False) -> Venue:
    summary = tmp_path / "summary.json"
    env = {**os.environ, "VENUE_TEST_KEY": SECRET}
    cmd = [sys.executable, "-m", "hftc", "venue", str(EXAMPLE), "--data", str(tape), "--summary", str(summary),
           "--credentials-env", "VENUE_TEST_KEY", "--latency-ns", "1000000", "--fee-profile", "none", *extra]
    if sanitize:
        cmd.append("--sanitize")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    urls = {}
    deadline = time.monotonic() + 900  # a cold build compiles the venue first
    while len(urls) < 2:
        assert time.monotonic() < deadline, "the venue did not start in time"
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=10)
            pytest.fail(f"hftc venue exited ({proc.returncode}) before listening:\n{proc.stderr.read()}")
        key, _, url = line.strip().partition("=")
        urls[key] = url
    md_port = int(urls["md"].rsplit(":", 1)[1])
    orders_port = int(urls["orders"].rsplit(":", 1)[1])
    assert urls["md"].startswith("udp://127.0.0.1:") and md_port > 0
    assert urls["orders"].startswith("tcp://127.0.0.1:") and orders_port > 0
    return Venue(proc, md_port, orders_port, summary)


def finish(v: Venue, timeout: float = 30) -> dict:
    _out, err = v.proc.communicate(timeout=timeout)
    assert v.proc.returncode == 0, err
    return json.loads(v.summary.read_text(encoding="utf-8"))


def md_packets(sock: socket.socket, fx, wait: float) -> list:
    """Market-data messages received within `wait` s (the packets of FORMATS.md §6)."""
    msgs = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            break
        data = sock.recv(65536)
        seq, _sent, _channel, count = struct.unpack_from("<QQHH", data)
        pos = 20
        for _ in range(count):
            (n,) = struct.unpack_from("<H", data, pos)
            msgs.append((seq, fx.dispatch.decode(data[pos + 2:pos + 2 + n])))
            pos += 2 + n
        if msgs:
            break
    return msgs


def test_a_session_trades_against_the_replayed_book(fx, tape, tmp_path):
    m, t = fx.messages, fx.types
    v = start_venue(tape, tmp_path, "--start-delay-ms", "800")
    try:
        md = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        md.bind(("127.0.0.1", v.md_port))
        # Bad credentials: Logout(reason 1), then the venue closes.
        bad = Client(fx, v.orders_port)
        bad.logon("wrong")
        out = bad.recv()
        assert type(out).__name__ == "Logout" and out.reason == 1
        assert bad.recv() is None
        bad.close()
        # Good credentials: Logon back, then the (empty) reconcile ends with a heartbeat.
        c = Client(fx, v.orders_port)
        c.logon(SECRET)
        assert type(c.recv()).__name__ == "Logon"
        assert type(c.recv()).__name__ == "Heartbeat"
        # The market data: the snapshot comes first, as the schema's Snapshot message.
        first = md_packets(md, fx, 5.0)
        assert first and first[0][0] == 1 and type(first[0][1]).__name__ == "Snapshot"

        def order(cid, side, ticks, lots, flags=0, tif=t.TimeInForce.gtc):
            c.send(m.NewOrder, client_order_id=cid, instrument=0, symbol="EURUSD", side=side, price_raw=ticks * PX,
                   qty_raw=lots * LOT, flags=t.OrderFlags(flags), tif=tif, ts_sent=time.time_ns())

        def report():
            r = c.recv_app()
            assert r is not None
            return r

        # 1: a post-only bid below the touch rests (accepted, open).
        order(1, t.Side.buy, MID - 1, 2, t.OrderFlags.post_only)
        r = report()
        assert (r.client_order_id, r.exec_type, r.order_status) == (1, t.ExecType.accepted, t.OrderStatus.open)
        assert (r.leaves_qty_raw, r.cum_qty_raw) == (2 * LOT, 0)
        # 2: a post-only bid at the best ask would take liquidity: rejected (the backtest's rule).
        order(2, t.Side.buy, MID + 1, 1, t.OrderFlags.post_only)
        r = report()
        assert (r.client_order_id, r.exec_type, r.order_status) == (2, t.ExecType.rejected, t.OrderStatus.rejected)
        assert "post-only" in r.reject_reason
        # 3: an IOC buy through the ask takes 3 lots at the best ask (10 there), taker.
        order(3, t.Side.buy, MID + 2, 3, tif=t.TimeInForce.ioc)
        r = report()
        assert (r.client_order_id, r.exec_type) == (3, t.ExecType.accepted)
        r = report()
        assert (r.exec_type, r.order_status, r.last_price_raw, r.last_qty_raw, r.cum_qty_raw, r.leaves_qty_raw) == \
            (t.ExecType.trade, t.OrderStatus.filled, (MID + 1) * PX, 3 * LOT, 3 * LOT, 0)
        # 4: a resting ask, then canceled.
        order(4, t.Side.sell, MID + 4, 1, t.OrderFlags.post_only)
        assert report().exec_type == t.ExecType.accepted
        c.send(m.CancelOrder, client_order_id=40, orig_client_order_id=4, instrument=0, side=t.Side.sell,
               ts_sent=time.time_ns())
        r = report()
        assert (r.exec_type, r.order_status, r.orig_client_order_id, r.leaves_qty_raw) == \
            (t.ExecType.canceled, t.OrderStatus.canceled, 4, 0)
        # A cancel of an order the venue does not hold: an OrderReject with the request's id.
        c.send(m.CancelOrder, client_order_id=41, orig_client_order_id=4, instrument=0, side=t.Side.sell,
               ts_sent=time.time_ns())
        r = report()
        assert type(r).__name__ == "OrderReject" and (r.client_order_id, r.reject_code) == (41, 1)
        # 5: a resting ask replaced to a new price and size under a new id.
        order(5, t.Side.sell, MID + 5, 1, t.OrderFlags.post_only)
        assert report().exec_type == t.ExecType.accepted
        c.send(m.ReplaceOrder, client_order_id=6, orig_client_order_id=5, instrument=0, side=t.Side.sell,
               price_raw=(MID + 3) * PX, qty_raw=2 * LOT, ts_sent=time.time_ns())
        r = report()
        assert (r.exec_type, r.client_order_id, r.orig_client_order_id, r.last_price_raw, r.leaves_qty_raw) == \
            (t.ExecType.replaced, 6, 5, (MID + 3) * PX, 2 * LOT)
        # At 3 s of tape a seller trades through 1.09998: order 1 fills whole at its price, maker.
        r = c.recv_app(timeout=10)
        assert (r.client_order_id, r.exec_type, r.order_status, r.last_price_raw, r.last_qty_raw) == \
            (1, t.ExecType.trade, t.OrderStatus.filled, (MID - 1) * PX, 2 * LOT)
        # Disconnect with order 6 resting: canceled on disconnect.
        c.close()
        md.close()
        s = finish(v)
    finally:
        if v.proc.poll() is None:
            v.proc.kill()
            v.proc.wait()
    assert s["ended"] == "end_of_tape" and s["rows_replayed"] == s["rows"] and s["packets"] > 0
    assert (s["orders"], s["cancels"], s["replaces"], s["fills"], s["rejects"]) == (5, 2, 1, 2, 2)
    assert s["canceled_on_disconnect"] == 1 and s["open_orders"] == 0
    assert s["connections"]["accepted"] == 2 and s["connections"]["bad_credentials"] == 1
    (sess,) = s["sessions"]
    assert sess["position_lots"] == {"EURUSD": 5} and sess["position"] == {"EURUSD": 5000}
    # Bought 3 at 1.10001 and 2 at 1.09999, marked at the mid 1.10000, no fees.
    assert sess["pnl"] == pytest.approx(5000 * 1.1 - 3000 * 1.10001 - 2000 * 1.09999, abs=1e-9)


def test_bad_input_is_a_coded_diagnostic(tape, tmp_path):
    def run(*args, env=None):
        return subprocess.run([sys.executable, "-m", "hftc", "venue", *args], capture_output=True, text=True,
                              check=False, timeout=120, env=env)

    proc = run(str(EXAMPLE), "--data", str(tmp_path / "missing.hftt"))
    assert proc.returncode == 1 and "HFT1112" in proc.stderr and "Traceback" not in proc.stderr
    proc = run(str(EXAMPLE), "--data", str(tape), "--orders", "tcp://localhost:99999")
    assert proc.returncode == 1 and "HFT1502" in proc.stderr and "Traceback" not in proc.stderr
    proc = run(str(EXAMPLE), "--data", str(tape), "--credentials-env", "HFTC_TEST_UNSET_VARIABLE")
    assert proc.returncode == 1 and "HFT1503" in proc.stderr
    # An orders port another socket holds: the program says why and the command gives HFT1505.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        proc = run(str(EXAMPLE), "--data", str(tape), "--orders", f"tcp://127.0.0.1:{held.getsockname()[1]}")
    assert proc.returncode == 1 and "HFT1505" in proc.stderr and "listen on" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    # A schema without order-entry roles has no venue.
    plain = tmp_path / "plain.hftc.yaml"
    text = EXAMPLE.read_text(encoding="utf-8").replace(", credentials: {env: FX_MM_API_KEY}", "")
    for role in ("logon", "logout", "heartbeat"):
        text = text.replace(f"    role: {role}\n", "")
    plain.write_text(text, encoding="utf-8")
    (tmp_path / "common.hftc.yaml").write_text((EXAMPLES / "common.hftc.yaml").read_text(encoding="utf-8"),
                                               encoding="utf-8")
    proc = run(str(plain), "--data", str(tape))
    assert proc.returncode == 1 and "HFT1501" in proc.stderr and "`logon`" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    # A snapshot channel needs a snapshot message in the feed.
    no_snapshot = tmp_path / "no_snapshot.hftc.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "input: [BookDelta, Trade, Snapshot]" in text
    no_snapshot.write_text(text.replace("input: [BookDelta, Trade, Snapshot]", "input: [BookDelta, Trade]"),
                           encoding="utf-8")
    proc = run(str(no_snapshot), "--data", str(tape), "--snapshot-interval-ms", "100")
    assert proc.returncode == 1 and "HFT1506" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_venue_under_asan_and_ubsan(fx, tape, tmp_path):
    """The same program built with AddressSanitizer and UBSan: a session trades and drops, the venue ends clean."""
    m, t = fx.messages, fx.types
    v = start_venue(tape, tmp_path, "--start-delay-ms", "500", "--speed", "4", sanitize=True)
    try:
        c = Client(fx, v.orders_port)
        c.logon(SECRET)
        assert type(c.recv()).__name__ == "Logon"
        time.sleep(0.7)  # the snapshot is in the book
        for cid, side, ticks, flags in ((1, t.Side.buy, MID + 2, t.OrderFlags.ioc),
                                        (2, t.Side.sell, MID + 3, t.OrderFlags.post_only)):
            c.send(m.NewOrder, client_order_id=cid, instrument=0, symbol="EURUSD", side=side, price_raw=ticks * PX,
                   qty_raw=LOT, flags=flags, tif=t.TimeInForce.gtc, ts_sent=time.time_ns())
        kinds = [c.recv_app().exec_type for _ in range(3)]
        assert kinds == [t.ExecType.accepted, t.ExecType.trade, t.ExecType.accepted]
        c.send(m.Heartbeat, ts_sent=time.time_ns())
        c.close()
        s = finish(v, timeout=60)
    finally:
        if v.proc.poll() is None:
            v.proc.kill()
            v.proc.wait()
    assert (s["orders"], s["fills"], s["canceled_on_disconnect"]) == (2, 1, 1)
    assert s["sessions"][0]["position_lots"] == {"EURUSD": 1}


def test_sigint_is_forwarded_and_the_summary_still_written(fx, tape, tmp_path):
    """Ctrl-C on `hftc venue` reaches the program: sessions are logged out, the summary says why it ended."""
    v = start_venue(tape, tmp_path, "--start-delay-ms", "200")
    try:
        c = Client(fx, v.orders_port)
        c.logon(SECRET)
        assert type(c.recv()).__name__ == "Logon"
        time.sleep(0.5)
        v.proc.send_signal(signal.SIGINT)
        assert type(c.recv_app(timeout=10)).__name__ == "Logout"
        c.close()
        s = finish(v)
    finally:
        if v.proc.poll() is None:
            v.proc.kill()
            v.proc.wait()
    assert s["ended"] == "signal" and 0 < s["rows_replayed"] < s["rows"]
    assert s["sessions"][0]["connections"] == 1


def test_kept_orders_are_reconciled_on_the_next_logon(fx, tape, tmp_path):
    """With --keep-orders-on-disconnect an order outlives its connection and the next logon of the same
    credential gets it back (one execution report per open order, then the heartbeat that ends the reconcile)."""
    m, t = fx.messages, fx.types
    v = start_venue(tape, tmp_path, "--start-delay-ms", "300", "--keep-orders-on-disconnect")
    try:
        c = Client(fx, v.orders_port)
        c.logon(SECRET)
        assert type(c.recv()).__name__ == "Logon"
        time.sleep(0.6)
        c.send(m.NewOrder, client_order_id=77, instrument=0, symbol="EURUSD", side=t.Side.sell,
               price_raw=(MID + 3) * PX, qty_raw=2 * LOT, flags=t.OrderFlags.post_only, tif=t.TimeInForce.gtc,
               ts_sent=time.time_ns())
        assert c.recv_app().exec_type == t.ExecType.accepted
        c.close()
        time.sleep(0.3)
        again = Client(fx, v.orders_port)  # sequence numbers restart at 1 on the new connection
        again.logon(SECRET)
        assert type(again.recv()).__name__ == "Logon"
        r = again.recv()
        assert (type(r).__name__, r.client_order_id, r.exec_type, r.order_status, r.leaves_qty_raw) == \
            ("ExecutionReport", 77, t.ExecType.accepted, t.OrderStatus.open, 2 * LOT)
        assert type(again.recv()).__name__ == "Heartbeat"
        again.close()
        v.proc.send_signal(signal.SIGINT)
        s = finish(v)
    finally:
        if v.proc.poll() is None:
            v.proc.kill()
            v.proc.wait()
    assert s["open_orders"] == 1 and s["canceled_on_disconnect"] == 0
    assert s["sessions"][0]["connections"] == 2 and len(s["sessions"]) == 1
