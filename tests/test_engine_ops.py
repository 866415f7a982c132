"""The engine keeps the deployment contract (hftc.ir.engine_contract): run with exactly the command
line the Kubernetes manifests pass, against `hftc venue` on loopback, it answers its startup, liveness
and readiness probes, takes a parameter overlay, obeys the kill switch over HTTP, and on SIGTERM
cancels everything it has resting, logs out and exits 0.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_engine_md import EXAMPLE, PKG, _build
from test_engine_vs_venue import _free_udp_port, through_tape
from test_venue import SECRET, _tools_missing, finish, start_venue

from hftc.ir import engine_contract

pytestmark = pytest.mark.skipif(_tools_missing() is not None, reason=_tools_missing() or "")

TOKEN = "kill-t0ken"


def _http(port: int, path: str, method: str = "GET", token: str | None = None, body: bytes = b"") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)  # direct: no proxy settings apply
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request(method, path, body=body if method == "POST" else None, headers=headers)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def _until(predicate, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_manifest_command_line_against_hftc_venue(tmp_path_factory, tmp_path: Path) -> None:
    engine = _build(EXAMPLE, PKG, tmp_path_factory).engine
    tape = tmp_path / "eurusd.hftt"
    through_tape(tape, seconds=12.0, trade_at=1.5)
    md = f"udp://127.0.0.1:{_free_udp_port()}"
    venue = start_venue(tape, tmp_path, "--md", md, "--orders", "tcp://127.0.0.1:0", "--start-delay-ms", "1500")
    params = tmp_path / "params.yaml"
    params.write_text("strategies:\n  mm:\n    params:\n      spread_bps: 0.7\n")
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    # The venue by name, as a manifest names a Service: the engine resolves it at start.
    contract = engine_contract.EngineContract(
        metrics_port=0, health_port=0, params_file=str(params), journal_prefix=str(tmp_path / "journal" / "engine"),
        shutdown_deadline_s=5, md_stale_ms=5000, credentials=None, md=md,
        venue=f"tcp://localhost:{venue.orders_port}")
    (tmp_path / "journal").mkdir()
    cmd = [str(engine), *contract.args(), "--kill-token-file", str(token), "--inline", "--no-pin"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "FX_MM_API_KEY": SECRET})
    try:
        health = None
        for _ in range(5):
            line = proc.stdout.readline()
            if line.startswith("health="):
                health = int(line.split("=")[1])
                break
        assert health, "the engine did not print its health port"
        assert _http(health, "/livez")[0] == 200
        # Started (book and first logon) and ready (fresh data, logged on, armed) once the venue replays.
        assert _until(lambda: _http(health, "/startupz")[0] == 200), _http(health, "/startupz")
        assert _until(lambda: _http(health, "/readyz")[0] == 200), _http(health, "/readyz")
        # The kill switch over HTTP: refused without the token, then engaged; readiness drops.
        assert _http(health, "/kill", "POST", "wrong", b"x")[0] == 403
        assert _http(health, "/kill", "POST", TOKEN, b"test drill")[0] == 200
        status, text = _http(health, "/readyz")
        assert status == 503 and "fail risk gate: armed" in text
        assert _http(health, "/rearm", "POST", TOKEN, b"")[0] == 200
        assert _until(lambda: _http(health, "/readyz")[0] == 200)
        # And by signal: SIGUSR1 engages, SIGUSR2 re-arms.
        proc.send_signal(signal.SIGUSR1)
        assert _until(lambda: "fail risk gate: armed" in _http(health, "/readyz")[1])
        proc.send_signal(signal.SIGUSR2)
        assert _until(lambda: _http(health, "/readyz")[0] == 200)
        time.sleep(1.0)  # quoting again
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    v = finish(venue, timeout=60)
    assert proc.returncode == 0, err
    assert SECRET not in out + err and TOKEN not in out + err
    # Nothing of the engine's rests at the venue after SIGTERM; the session ended with a logout.
    assert v["open_orders"] == 0
    assert v["connections"]["protocol_errors"] == 0 and v["connections"]["sequence_gaps"] == 0
    assert v["orders"] >= 1
    # The journal: parameters loaded, logon, the drill, the re-arm, and the order-entry messages.
    report = subprocess.run([sys.executable, "-m", "hftc", "audit", str(tmp_path / "journal"), "--schema", str(EXAMPLE),
                             "--report", "--json"], capture_output=True, text=True, timeout=60, check=False)
    assert report.returncode == 0, report.stderr
    rep = json.loads(report.stdout)
    assert [(k["action"], k["source"], k["reason"]) for k in rep["kill_switch_events"]] == [
        ("engaged", "http", "test drill"), ("rearmed", "http", ""), ("engaged", "signal", "SIGUSR1"),
        ("rearmed", "signal", "SIGUSR2")]
    assert rep["session_events"].get("logon", 0) >= 1
    assert rep["records_by_type"]["params"] == 1
    # Every order-entry message both ways, so the journal's counts are the venue's; never the secret.
    assert rep["orders_sent"].get("new_order", 0) == v["orders"]
    assert rep["orders_sent"].get("cancel", 0) == v["cancels"] and rep["orders_sent"].get("replace", 0) == v["replaces"]
    assert rep["fills"] == v["fills"] and rep["records_lost"] == 0 and rep["undecodable_messages"] == 0
    journal_bytes = b"".join(p.read_bytes() for p in (tmp_path / "journal").iterdir())
    assert SECRET.encode() not in journal_bytes


def test_an_invalid_overlay_stops_the_engine_at_start(tmp_path_factory, tmp_path: Path) -> None:
    engine = _build(EXAMPLE, PKG, tmp_path_factory).engine
    params = tmp_path / "params.yaml"
    params.write_text("strategies:\n  mm:\n    params: {spread_bps: 9.0}\n")
    run = subprocess.run([str(engine), "--params", str(params), "--duration-s", "1", "--inline", "--no-pin"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1
    assert "spread_bps is outside its range [0.1, 2.0]" in run.stderr and "line 3, column" in run.stderr
    run = subprocess.run([str(engine), "--health-port", "99999"], capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 2 and "--health-port takes a whole number" in run.stderr


def test_sighup_reloads_a_valid_overlay_and_keeps_the_old_values_otherwise(tmp_path_factory, tmp_path: Path) -> None:
    engine = _build(EXAMPLE, PKG, tmp_path_factory).engine
    params = tmp_path / "params.yaml"
    params.write_text("strategies:\n  mm:\n    params: {spread_bps: 0.7}\n")
    proc = subprocess.Popen([str(engine), "--params", str(params), "--duration-s", "6", "--inline", "--no-pin"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        params.write_text("strategies:\n  mm:\n    params: {spread_bps: 1.2}\n")
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        params.write_text("strategies:\n  mm:\n    params: {spread_bps: nope}\n")
        proc.send_signal(signal.SIGHUP)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "parameters reloaded from" in err
    assert "parameters NOT reloaded (old values kept)" in err and "`spread_bps` is not a number" in err
