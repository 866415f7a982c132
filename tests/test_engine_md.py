"""The generated engine's market-data input, as real processes on loopback: `--replay TAPE` through
the generated feed handler, and `--md udp://...` fed by the generated `<pkg>_md_publish` over real
sockets (unicast and a multicast group), with packet gaps under both policies and malformed packets.

Counts are checked against the tape the test writes: every depth and trade event is one message,
each snapshot (clear + levels up to END) one message. The engine and the publisher are built once
per content hash of their generated sources and the C++ runtime headers, under the build cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, REPO, build_cache
from hftc.data.tape import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE, Instrument, write_tape

EXAMPLE = EXAMPLES / "fx_market_maker.hftc.yaml"
RUNTIME = REPO / "runtime_cpp"
PKG = "fx_mm"


@dataclass(frozen=True)
class Tools:
    engine: Path
    publish: Path


_BUILT: dict[tuple[Path, str, bool], Tools] = {}


def _build(schema: Path, pkg: str, tmp_path_factory, sanitize: bool = False) -> Tools:
    """The engine and publisher of `schema`; generated and checked against the build cache once per
    test session (several modules share them)."""
    key = (schema, pkg, sanitize)
    if key not in _BUILT:
        _BUILT[key] = _build_once(schema, pkg, tmp_path_factory, sanitize)
    return _BUILT[key]


def _build_once(schema: Path, pkg: str, tmp_path_factory, sanitize: bool) -> Tools:
    for tool in ("cmake", "ninja", "g++"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not installed")
    gen = tmp_path_factory.mktemp("md_gen")
    proc = subprocess.run([sys.executable, "-m", "hftc", "build", str(schema), "-t", "cpp", "-o", str(gen)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    src = gen / "cpp"
    assert (src / "src" / "md_publish_main.cpp").is_file()
    digest = hashlib.sha256()
    for root in (src, RUNTIME / "include"):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    home = build_cache() / ("engine_md_asan" if sanitize else "engine_md") / digest.hexdigest()[:16]
    exes = Tools(home / "build" / f"{pkg}_engine", home / "build" / f"{pkg}_md_publish")
    if not (exes.engine.is_file() and exes.publish.is_file()):
        if (home / "src").exists():
            shutil.rmtree(home / "src")
        shutil.copytree(src, home / "src")
        steps = (["cmake", "-G", "Ninja", "-S", str(home / "src"), "-B", str(home / "build"),
                  f"-DCMAKE_BUILD_TYPE={'Debug' if sanitize else 'Release'}", "-DCMAKE_CXX_COMPILER=g++",
                  f"-DHFTC_RUNTIME_DIR={RUNTIME}", f"-DHFTC_SANITIZE={'ON' if sanitize else 'OFF'}",
                  "-DHFTC_BUILD_TESTS=OFF", "-DHFTC_BUILD_BENCH=OFF"],
                 ["nice", "ninja", "-j", "2", "-C", str(home / "build"), f"{pkg}_engine", f"{pkg}_md_publish"])
        for cmd in steps:
            run = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
            assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return exes


@pytest.fixture(scope="module")
def tools(tmp_path_factory) -> Tools:
    return _build(EXAMPLE, PKG, tmp_path_factory)


@dataclass(frozen=True)
class TapeCounts:
    events: int
    messages: int  # depth/trade events outside snapshots, plus one per snapshot
    market_msgs: int  # what the feed handler publishes: a snapshot is a reset plus its levels
    snapshots: int


def synth_tape(path: Path, updates: int, snapshot_every: int, step_ns: int, seed: int = 1) -> TapeCounts:
    """EURUSD depth updates and trades around a fixed touch, a 10-level snapshot first and then every
    `snapshot_every` updates (each snapshot replaces one update)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, int, int, int]] = []
    t, mid = 1_000_000_000, 110_000
    snapshots = 0

    def snapshot() -> None:
        nonlocal snapshots
        snapshots += 1
        rows.append((t, CLEAR, SNAPSHOT, 0, 0))
        rows.append((t, CLEAR, SNAPSHOT | SIDE_ASK, 0, 0))
        for k in range(5):
            rows.append((t, DEPTH, SNAPSHOT, mid - 1 - k, 10 + k))
        for k in range(5):
            rows.append((t, DEPTH, SNAPSHOT | SIDE_ASK | (END if k == 4 else 0), mid + 1 + k, 10 + k))

    snapshot()
    for i in range(updates):
        t += step_ns
        if snapshot_every and i and i % snapshot_every == 0:
            snapshot()
        elif rng.integers(0, 10) == 0:
            rows.append((t, TRADE, END | (SIDE_ASK if rng.integers(0, 2) else 0), mid + 1, 1))
        else:
            ask = bool(rng.integers(0, 2))
            px = mid + 1 + int(rng.integers(0, 4)) if ask else mid - 1 - int(rng.integers(0, 4))
            rows.append((t, DEPTH, END | (SIDE_ASK if ask else 0), px, int(rng.integers(0, 30))))
    a = np.array(rows, dtype=np.int64)
    write_tape(path, [Instrument("EURUSD", 0.00001, 1000.0, 1.0)],
               {"local_ts": a[:, 0], "exch_ts": a[:, 0] - 500, "px": a[:, 3], "qty": a[:, 4],
                "instrument": np.zeros(len(a), np.uint16), "kind": a[:, 1].astype(np.uint8),
                "flags": a[:, 2].astype(np.uint8)}, {"synthetic": True})
    plain = len(a) - 12 * snapshots
    return TapeCounts(len(a), plain + snapshots, plain + 11 * snapshots, snapshots)


def _summary(path: Path) -> dict:
    return json.loads(path.read_text())


def test_replay_at_max_speed_decodes_every_tape_event(tools: Tools, tmp_path: Path) -> None:
    tape = tmp_path / "t.hftt"
    counts = synth_tape(tape, updates=20_000, snapshot_every=1_000, step_ns=10_000)
    out = tmp_path / "s.json"
    run = subprocess.run([str(tools.engine), "--replay", str(tape), "--speed", "max", "--inline", "--no-pin",
                          "--summary", str(out)], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    s = _summary(out)
    assert s["source"] == "replay"
    assert s["tape_events"] == counts.events
    assert s["messages_encoded"] == counts.messages
    assert s["events_skipped"] == dict.fromkeys(s["events_skipped"], 0)
    assert s["messages_decoded"] == counts.messages
    assert s["decode_errors"] == 0
    assert s["feed_drops"] == {"unknown_instrument": 0, "bad_side": 0, "off_grid": 0}
    assert s["market_msgs_published"] == counts.market_msgs
    assert s["market_msgs_dropped"] == 0
    assert s["orders"] >= 1  # the strategy quoted the two-sided book
    assert f"replay: {counts.messages} messages decoded" in run.stderr


def test_replay_keeps_the_recorded_pace(tools: Tools, tmp_path: Path) -> None:
    tape = tmp_path / "t.hftt"
    counts = synth_tape(tape, updates=1_000, snapshot_every=0, step_ns=400_000)  # 0.4 s of tape
    for speed, span in (("1", 0.4), ("4", 0.1)):
        out = tmp_path / f"s{speed}.json"
        run = subprocess.run([str(tools.engine), "--replay", str(tape), "--speed", speed, "--no-pin",
                              "--summary", str(out)], capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0, run.stderr
        s = _summary(out)
        assert s["messages_decoded"] == counts.messages
        assert s["seconds"] >= span * 0.95, (speed, s["seconds"])


@pytest.mark.skipif(shutil.which("taskset") is None, reason="`taskset` (util-linux) is not installed")
def test_threads_auto_runs_one_thread_when_the_cpus_cannot_hold_the_split(tools: Tools, tmp_path: Path) -> None:
    """The example's split has two busy-polling threads: on one CPU `--threads auto` (the default) runs
    the stages on one thread and says so; `--threads split` keeps the split; a bad mode is a usage error."""
    tape = tmp_path / "t.hftt"
    counts = synth_tape(tape, updates=500, snapshot_every=0, step_ns=10_000)
    said = "the stages run on one thread"
    for mode, expect in (([], True), (["--threads", "auto"], True), (["--threads", "split"], False)):
        run = subprocess.run(["taskset", "-c", "0", str(tools.engine), "--replay", str(tape), "--speed", "max",
                              "--no-pin", *mode], capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0, run.stderr
        assert (said in run.stderr) is expect, (mode, run.stderr)
        assert f"replay: {counts.messages} messages decoded" in run.stderr
    run = subprocess.run([str(tools.engine), "--threads", "two"], capture_output=True, text=True, timeout=30,
                         check=False)
    assert run.returncode == 2 and "--threads is auto, split or inline" in run.stderr


def test_replay_refuses_a_file_that_is_not_a_tape(tools: Tools, tmp_path: Path) -> None:
    bad = tmp_path / "capture.gz"
    bad.write_bytes(b"1723161255000000000 {\"stream\": \"btcusdt@trade\"}\n" * 4)
    run = subprocess.run([str(tools.engine), "--replay", str(bad), "--no-pin"], capture_output=True, text=True,
                         timeout=30, check=False)
    assert run.returncode == 1
    assert "not a tape (bad magic" in run.stderr and str(bad) in run.stderr
    assert "hftc data convert CAPTURE -o TAPE.hftt" in run.stderr
    run = subprocess.run([str(tools.engine), "--replay", str(bad), "--md", "udp://127.0.0.1:0"],
                         capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 2 and "pick one" in run.stderr
    run = subprocess.run([str(tools.engine), "--speed", "fast"], capture_output=True, text=True, timeout=30,
                         check=False)
    assert run.returncode == 2 and "--speed" in run.stderr


class UdpEngine:
    """An engine on --md; stop() sends SIGTERM and returns (exit code, stderr, summary)."""

    def __init__(self, tools: Tools, tmp_path: Path, url: str, *args: str, env: dict | None = None) -> None:
        self.summary = tmp_path / "engine.json"
        self.proc = subprocess.Popen([str(tools.engine), "--md", url, "--no-pin", "--summary", str(self.summary),
                                      *(args or ("--inline",))],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("md=udp://"):
            self.proc.kill()
            raise AssertionError(f"engine did not bind: {line!r} {self.proc.communicate()[1]}")
        self.url = line.partition("=")[2]
        self.port = int(self.url.rpartition(":")[2])

    def stop(self, timeout: float = 10) -> tuple[int, str, dict]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err, _summary(self.summary) if self.summary.exists() else {}


def _publish(tools: Tools, tape: Path, url: str, *args: str) -> dict[str, int]:
    run = subprocess.run([str(tools.publish), "--tape", str(tape), "--md", url, *args],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    return {k: int(v) for k, v in (kv.split("=") for kv in run.stdout.split())}


def _settle(engine: UdpEngine, seconds: float = 0.5) -> None:
    """Give the busy-polling engine time to drain what loopback already delivered."""
    time.sleep(seconds)


@pytest.mark.parametrize("host", ["127.0.0.1", "239.255.77.12"], ids=["unicast", "multicast"])
def test_udp_packets_from_the_publisher_are_all_decoded(tools: Tools, tmp_path: Path, host: str) -> None:
    tape = tmp_path / "t.hftt"
    counts = synth_tape(tape, updates=4_000, snapshot_every=500, step_ns=50_000)
    engine = UdpEngine(tools, tmp_path, f"udp://{host}:0")
    try:
        sent = _publish(tools, tape, engine.url)
        _settle(engine)
    finally:
        rc, err, s = engine.stop()
    assert rc == 0, err
    assert sent["messages"] == counts.messages and sent["skipped"] == 0
    assert s["packets"] == sent["packets"]
    assert s["packets_dropped"] == dict.fromkeys(s["packets_dropped"], 0)
    assert s["messages_decoded"] == counts.messages
    assert s["market_msgs_published"] == counts.market_msgs
    assert s["gaps"] == 0 and s["resyncs"] == 0
    assert s["kernel_timestamps"] is True


def test_udp_gap_resyncs_on_the_next_snapshot(tools: Tools, tmp_path: Path) -> None:
    tape = tmp_path / "t.hftt"
    counts = synth_tape(tape, updates=4_000, snapshot_every=500, step_ns=50_000)
    # At recorded pace every packet holds one message (one tape timestamp). Packet 700 is lost in
    # the middle (the snapshot of update 1000 ends the wait); the one before last after the final
    # snapshot, so that instrument is still waiting when the engine stops.
    last = counts.messages
    (tmp_path / "journal").mkdir()
    engine = UdpEngine(tools, tmp_path, "udp://127.0.0.1:0", "--journal", str(tmp_path / "journal" / "engine"))
    try:
        sent = _publish(tools, tape, engine.url, "--skip-packets", f"700,{last - 1}")
        _settle(engine)
    finally:
        rc, err, s = engine.stop()
    assert rc == 0, err
    assert sent["packets"] == counts.messages - 2 and sent["skipped"] == 2
    assert s["gap_policy"] == "resync"
    assert s["gaps"] == 2 and s["packets_missed"] == 2
    assert s["resyncs"] == 1
    assert s["instruments_waiting_snapshot"] == 1
    assert s["messages_decoded"] == counts.messages - 2
    assert "packet(s) missed on channel 0 before seq 701: waiting for snapshots" in err
    # Both gaps are in the audit journal, with the sequence numbers around them.
    audit = subprocess.run([sys.executable, "-m", "hftc", "audit", str(tmp_path / "journal"), "--type", "md_gap",
                            "--json"], capture_output=True, text=True, timeout=60, check=False)
    assert audit.returncode == 0, audit.stderr
    gaps = [json.loads(json.loads(line)["fields"]) for line in audit.stdout.splitlines()]
    assert [(g["expected_seq"], g["received_seq"]) for g in gaps] == [(700, 701), (last - 1, last)], gaps


def test_udp_gap_with_halt_policy_stops_the_engine(tools: Tools, tmp_path: Path) -> None:
    tape = tmp_path / "t.hftt"
    synth_tape(tape, updates=2_000, snapshot_every=500, step_ns=20_000)
    engine = UdpEngine(tools, tmp_path, "udp://127.0.0.1:0", "--inline", "--gap-policy", "halt")
    try:
        _publish(tools, tape, engine.url, "--skip-packets", "100")
        rc = engine.proc.wait(timeout=10)  # exits on its own
    finally:
        rc, err, s = engine.stop()
    assert rc == 3, err
    assert s["halted"] is True and s["gap_policy"] == "halt"
    assert s["gaps"] == 1
    assert s["messages_decoded"] == 99  # packets 1..99, none after the gap
    assert "HALTED on a gap" in err


def _header(seq: int, channel: int, count: int) -> bytes:
    return struct.pack("<QQHH", seq, time.time_ns(), channel, count)


def test_malformed_and_truncated_packets_are_counted_and_the_engine_keeps_running(
        tools: Tools, tmp_path: Path) -> None:
    _bad_packets_then_a_tape(tools, tmp_path)


def _bad_packets_then_a_tape(tools: Tools, tmp_path: Path, *args: str, env: dict | None = None) -> None:
    tape = tmp_path / "t.hftt"
    counts = synth_tape(tape, updates=2_000, snapshot_every=500, step_ns=20_000)
    engine = UdpEngine(tools, tmp_path, "udp://127.0.0.1:0", *args, env=env)
    bad = {
        "truncated": [b"", b"\x01\x02\x03", _header(1, 9, 1) + b"\x01",  # header cut, frame header cut
                      _header(1, 9, 2) + struct.pack("<H", 3) + b"abc" + struct.pack("<H", 40) + b"x"],
        "malformed": [_header(1, 9, 1) + struct.pack("<H", 0),  # empty frame
                      _header(1, 9, 0) + b"trailing"],
        # Framing is fine but the message is not one of the schema's: counted once per packet.
        "decode": [_header(1, 5, 2) + struct.pack("<H", 12) + b"\xff" * 12 + struct.pack("<H", 3) + b"abc"],
        "duplicate": [_header(1, 5, 0)],  # channel 5 already saw seq 1
    }
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for packets in bad.values():
                for p in packets:
                    s.sendto(p, ("127.0.0.1", engine.port))
        time.sleep(0.2)
        assert engine.proc.poll() is None
        sent = _publish(tools, tape, engine.url)
        _settle(engine)
    finally:
        rc, err, s = engine.stop()
    assert rc == 0, err
    assert s["packets_dropped"] == {"truncated": 4, "malformed": 2, "oversize": 0, "decode": 1, "duplicate": 1}
    assert s["packets"] == sent["packets"] + 8
    assert s["decode_errors"] == 2
    assert s["messages_decoded"] == counts.messages
    assert s["gaps"] == 0
    # Logged, but at most once a second per reason.
    assert err.count("dropped a truncated packet") == 1
    assert "dropped a decode packet (seq 1)" in err


def test_replay_of_a_feed_without_instrument_or_trade_messages(tmp_path_factory, tmp_path: Path) -> None:
    """tests/schemas/roles_depth_snapshot: depth updates named otherwise (fields_map) with no
    instrument or sequence field, decimal sizes, a snapshot group named `entries`, and no trade
    message: trades are skipped and counted, everything else decoded."""
    tools = _build(REPO / "tests" / "schemas" / "roles_depth_snapshot.hftc.yaml", "roles_depth", tmp_path_factory)
    tape = tmp_path / "xyz.hftt"
    rows = [(1, CLEAR, SNAPSHOT, 0, 0), (1, CLEAR, SNAPSHOT | SIDE_ASK, 0, 0), (1, DEPTH, SNAPSHOT, 200, 5),
            (1, DEPTH, SNAPSHOT | SIDE_ASK | END, 202, 5)]
    for i in range(1_000):
        t = 2 + i * 1_000
        rows.append((t, DEPTH, END | (SIDE_ASK if i % 2 else 0), 202 if i % 2 else 200, 1 + i % 7))
        rows.append((t, TRADE, END, 201, 1))
    a = np.array(rows, dtype=np.int64)
    # Tick 0.5 and lot 0.001 like the schema's book; the tape's symbol is the strategy's.
    write_tape(tape, [Instrument("XYZ", 0.5, 0.001, 1.0)],
               {"local_ts": a[:, 0], "exch_ts": a[:, 0], "px": a[:, 3], "qty": a[:, 4],
                "instrument": np.zeros(len(a), np.uint16), "kind": a[:, 1].astype(np.uint8),
                "flags": a[:, 2].astype(np.uint8)})
    out = tmp_path / "s.json"
    run = subprocess.run([str(tools.engine), "--replay", str(tape), "--speed", "max", "--inline", "--no-pin",
                          "--summary", str(out)], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    s = _summary(out)
    assert s["tape_events"] == len(a)
    assert s["messages_encoded"] == s["messages_decoded"] == 1_001  # 1,000 levels and one snapshot
    assert s["events_skipped"]["no_message_for_event"] == 1_000  # the trades
    assert s["market_msgs_published"] == 1_003  # the snapshot is a reset and two levels
    assert s["feed_drops"] == {"unknown_instrument": 0, "bad_side": 0, "off_grid": 0}
    assert s["orders"] >= 1


SANITIZER_ENV = {"ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


def test_engine_and_publisher_under_asan_and_ubsan(tmp_path_factory, tmp_path: Path) -> None:
    """The engine's threaded pipeline (the schema's splits, unpinned) replaying a tape, then taking
    bad packets and a tape over UDP, built with AddressSanitizer and UBSan (Debug)."""
    env = {**os.environ, **SANITIZER_ENV}
    tools = _build(EXAMPLE, PKG, tmp_path_factory, sanitize=True)
    tape = tmp_path / "t.hftt"
    counts = synth_tape(tape, updates=5_000, snapshot_every=1_000, step_ns=10_000)
    run = subprocess.run([str(tools.engine), "--replay", str(tape), "--speed", "max", "--no-pin"],
                         capture_output=True, text=True, timeout=120, check=False, env=env)
    assert run.returncode == 0, run.stderr
    assert f"replay: {counts.messages} messages decoded" in run.stderr
    udp = tmp_path / "udp"
    udp.mkdir()
    _bad_packets_then_a_tape(tools, udp, "--gap-policy", "resync", env=env)


def test_replay_maps_tape_instruments_by_symbol_into_a_symbol_keyed_feed(tmp_path_factory, tmp_path: Path) -> None:
    """A symbol-keyed feed (tests/schemas/roles_symbol_bbo with a depth update message added) with
    integer share quantities: tape instruments are matched by symbol whatever their order, one
    that is not an engine instrument is skipped and counted."""
    text = (REPO / "tests" / "schemas" / "roles_symbol_bbo.hftc.yaml").read_text()
    text = text.replace("  Fill:\n    id: 3", "  Level:\n    id: 4\n    role: depth_update\n    fields:\n"
                        "      symbol: Ticker\n      side: Side\n      price: Price\n      qty: uint32\n"
                        "  Fill:\n    id: 3")
    text = text.replace("input: [Quote, Trade, Fill]", "input: [Level, Trade, Fill]")
    schema = tmp_path / "roles_symbol_depth.hftc.yaml"
    schema.write_text(text)
    tools = _build(schema, "roles_bbo", tmp_path_factory)
    rows = []
    for i in range(2_000):
        ask = (i // 3) % 2 == 1
        rows.append((1_000 + i * 1_000, DEPTH, END | (SIDE_ASK if ask else 0), 10_000 + (1 if ask else -1), 3, i % 3))
        rows.append((1_000 + i * 1_000, TRADE, END, 10_000, 1, i % 3))
    a = np.array(rows, dtype=np.int64)
    tape = tmp_path / "stocks.hftt"
    write_tape(tape, [Instrument("MSFT", 0.01, 100.0), Instrument("AAPL", 0.01, 100.0), Instrument("GOOG", 0.01, 100.0)],
               {"local_ts": a[:, 0], "exch_ts": a[:, 0], "px": a[:, 3], "qty": a[:, 4],
                "instrument": a[:, 5].astype(np.uint16), "kind": a[:, 1].astype(np.uint8),
                "flags": a[:, 2].astype(np.uint8)})
    out = tmp_path / "s.json"
    run = subprocess.run([str(tools.engine), "--replay", str(tape), "--speed", "max", "--inline", "--no-pin",
                          "--summary", str(out)], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    s = _summary(out)
    goog = int(np.count_nonzero(a[:, 5] == 2))
    assert s["events_skipped"]["unmapped_instrument"] == goog
    assert s["messages_encoded"] == s["messages_decoded"] == len(a) - goog
    assert s["feed_drops"] == {"unknown_instrument": 0, "bad_side": 0, "off_grid": 0}  # symbols resolved
    assert "tape instrument 'GOOG' is not an engine instrument" in run.stderr
    assert "no tape symbol matches" not in run.stderr  # matched by symbol, not by position
