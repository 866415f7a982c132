"""The generated engine (`--target cpp`: `src/engine_main.cpp`, CMake target `<pkg>_engine`) under
real monitoring: its exporter serves the metric contract of the prometheus target, its shared-memory
region is readable by `hftc monitor`, it stops cleanly on SIGTERM, and a real Prometheus server
scraping it with the generated rules takes the latency alert from pending to firing when the
engine's injected latency spike starts.

The engine is built once per content hash of its generated sources and the C++ runtime headers,
under the build cache.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from hftc.backends.prometheus import metrics as contract
from hftc.monitor import parse

EXAMPLE = EXAMPLES / "fx_market_maker.hftc.yaml"
RUNTIME = REPO / "runtime_cpp"
PROMETHEUS = shutil.which("prometheus")
PIPELINE = "tick_to_trade"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def engine_exe(tmp_path_factory) -> Path:
    """The example's Release engine: the same build (and build-cache folder) as the market-data tests'."""
    from test_engine_md import PKG, _build

    exe = _build(EXAMPLE, PKG, tmp_path_factory).engine
    assert exe.is_file()
    return exe


class Engine:
    """A running engine; stop() sends SIGTERM and returns the exit code and stderr."""

    def __init__(self, exe: Path, *args: str) -> None:
        self.started = time.time()
        self.proc = subprocess.Popen([str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.port = 0
        self.shm = ""
        assert self.proc.stdout is not None
        for _ in range(("--metrics-port" in args) + ("--shm" in args)):
            line = self.proc.stdout.readline().strip()
            key, _, value = line.partition("=")
            if key == "port":
                self.port = int(value)
            elif key == "shm":
                self.shm = value
            else:
                _, err = self.stop()
                raise AssertionError(f"engine did not start: {line!r} {err}")

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


def _scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        families = parse(resp.read().decode())
    return {(s.name, s.labels): s.value for f in families.values() for s in f.samples}


def _value(series: dict, name: str, **labels: str) -> float:
    want = {"pipeline": PIPELINE, **labels}
    return sum(v for (n, ls), v in series.items() if n == name and want.items() <= dict(ls).items())


def _schema(tmp_path: Path, monitoring: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text[: text.index("monitoring:")] + textwrap.dedent(monitoring)
    shutil.copy(EXAMPLES / "common.hftc.yaml", tmp_path / "common.hftc.yaml")
    path = tmp_path / "engine.hftc.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def running(engine_exe: Path) -> Iterator[Engine]:
    """The engine on the schema's own threads (unpinned: the CPUs may not exist here)."""
    engine = Engine(engine_exe, "--metrics-port", "0", "--bind", "127.0.0.1", "--shm", f"hftc_engine_{os.getpid()}",
                    "--no-pin", "--rate-hz", "20000")
    try:
        yield engine
    finally:
        engine.stop()


def test_engine_exports_the_metric_contract(running: Engine, tmp_path: Path) -> None:
    deadline = time.monotonic() + 20
    series = _scrape(running.port)
    while _value(series, contract.ORDERS) < 10 and time.monotonic() < deadline:
        time.sleep(0.2)
        series = _scrape(running.port)
    names = {n for n, _ in series}
    for name, kind, _ in contract.METRICS:
        expected = {f"{name}_bucket", f"{name}_sum", f"{name}_count"} if kind == "histogram" else {name}
        assert expected <= names, name
    stages = {dict(ls)["stage"] for n, ls in series if n == f"{contract.STAGE_LATENCY}_count"}
    assert stages == {"feed", "quoter", "gateway"}
    assert {dict(ls).get("instrument") for n, ls in series if n == contract.POSITION} == {"EURUSD"}
    orders = _value(series, contract.ORDERS)
    assert orders >= 10
    # One latency sample per order sent, one feed-stage sample per message decoded.
    assert abs(_value(series, f"{contract.LATENCY}_count") - orders) <= 2
    # The engine records and counts each message back to back, but a scrape of the running engine
    # reads the histogram and the counter at slightly different moments: allow the messages the
    # market (20,000/s) can produce while one scrape is read, and no more.
    for _ in range(3):
        start = time.monotonic()
        sample = _scrape(running.port)
        drift = 1 + int(20_000 * (time.monotonic() - start) * 2)
        decoded, counted = _value(sample, f"{contract.STAGE_LATENCY}_count", stage="feed"), \
            _value(sample, contract.MESSAGES)
        assert abs(decoded - counted) <= drift, (decoded, counted, drift)
    # The risk gate's 2000 orders/s limit refuses part of what the strategy asks at this rate.
    later = _scrape(running.port)
    while _value(later, contract.REJECTS) == 0 and time.monotonic() < deadline + 10:
        time.sleep(0.3)
        later = _scrape(running.port)
    assert _value(later, contract.MESSAGES) > _value(series, contract.MESSAGES)
    assert _value(later, contract.ORDERS) > orders and _value(later, contract.REJECTS) > 0
    assert 0 < later[("process_start_time_seconds", ())] <= time.time()
    assert later[("process_resident_memory_bytes", ())] > 0 and later[("process_open_fds", ())] >= 3

    # The same registry, read from shared memory by `hftc monitor`.
    schema = _schema(tmp_path, """\
        monitoring:
          interval_ms: 100
          alerts:
            - {name: HighP99, expr: "latency_p99_ns > 1000000", for: 1s, severity: critical}
        """)
    proc = subprocess.run([sys.executable, "-m", "hftc", "monitor", str(schema), f"shm:{running.shm}", "--once",
                           "--json"], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    snap = json.loads(proc.stdout)
    assert snap["pipelines"] == [PIPELINE] and set(snap["positions"]) == {"EURUSD"}
    assert snap["latency_ns"]["count"] > 0 and snap["totals"]["orders_total"] >= orders

    code, err = running.stop()
    assert code == 0, err
    assert "fx_mm_engine:" in err and "orders sent" in err
    assert not Path("/dev/shm", running.shm).exists()  # the owner unlinks its region


def test_engine_help_describes_every_option(engine_exe: Path) -> None:
    for flag in ("--help", "-h"):
        proc = subprocess.run([str(engine_exe), flag], capture_output=True, text=True, check=False, timeout=30)
        assert proc.returncode == 0 and proc.stderr == "", (flag, proc.stderr)
        assert proc.stdout.startswith("usage: fx_mm_engine ")
        for option in ("--metrics-port", "--bind", "--shm", "--duration-s", "--rate-hz", "--fill-ratio", "--seed",
                       "--inline", "--no-pin", "--spike-after-s"):
            assert f"\n  {option} " in proc.stdout, option


def test_engine_rejects_bad_arguments(engine_exe: Path) -> None:
    for args in (["--rate-hz", "fast"], ["--spike-ns", "5000"], ["--what"], ["--fill-ratio", "2"]):
        proc = subprocess.run([str(engine_exe), *args], capture_output=True, text=True, check=False, timeout=30)
        assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "usage:" in proc.stderr, args


def _alerts(prom_port: int, name: str) -> list[dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/api/v1/alerts", timeout=2) as resp:
            body = json.load(resp)
    except OSError:
        return []
    return [a for a in body.get("data", {}).get("alerts", []) if a["labels"].get("alertname") == name]


def _unix(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339).timestamp()


@pytest.mark.skipif(PROMETHEUS is None, reason="the prometheus server binary (Debian package `prometheus`) is not "
                                               "on PATH")
def test_prometheus_fires_on_the_engines_latency_spike(engine_exe: Path, tmp_path: Path) -> None:
    # Inline: one engine thread, so the latency before the spike is not the machine's scheduling noise.
    spike_after_s, threshold_ns, spike_ns = 6, 20_000, 60_000
    schema = _schema(tmp_path, f"""\
        monitoring:
          interval_ms: 100
          alerts:
            - name: EngineLatencySpike
              expr: "latency_p99_ns > {threshold_ns}"
              for: 3s
              severity: critical
              annotations: {{summary: "Tick-to-order p99 above {threshold_ns} ns"}}
        """)
    out = tmp_path / "gen"
    gen = subprocess.run([sys.executable, "-m", "hftc", "build", str(schema), "-t", "prometheus", "-o", str(out)],
                         capture_output=True, text=True, check=False, timeout=120)
    assert gen.returncode == 0, gen.stderr
    rules = out / "prometheus" / "rules.yml"
    assert f"hftc:tick_to_order_latency_ns:p99 > {threshold_ns}" in rules.read_text()

    engine = Engine(engine_exe, "--metrics-port", "0", "--bind", "127.0.0.1", "--inline", "--no-pin",
                    "--rate-hz", "20000", "--spike-after-s", str(spike_after_s), "--spike-ns", str(spike_ns))
    prom: subprocess.Popen[bytes] | None = None
    log_path = tmp_path / "prometheus.log"
    seen: list[tuple[str, float]] = []
    try:
        config = tmp_path / "prometheus.yml"
        config.write_text(textwrap.dedent(f"""\
            global:
              scrape_interval: 1s
              scrape_timeout: 900ms
              evaluation_interval: 1s
            rule_files:
              - {rules}
            scrape_configs:
              - job_name: hftc-engine
                static_configs:
                  - targets: ["127.0.0.1:{engine.port}"]
            """), encoding="utf-8")
        prom_port = _free_port()
        with log_path.open("w") as log:
            prom = subprocess.Popen([PROMETHEUS or "prometheus", f"--config.file={config}",
                                     f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                     f"--web.listen-address=127.0.0.1:{prom_port}"],
                                    stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and not (seen and seen[-1][0] == "firing"):
            assert prom.poll() is None, log_path.read_text()[-2000:]
            assert engine.proc.poll() is None, engine.stop()[1]
            for alert in _alerts(prom_port, "EngineLatencySpike"):
                if not seen or seen[-1][0] != alert["state"]:
                    seen.append((alert["state"], _unix(alert["activeAt"])))
            time.sleep(0.25)
    finally:
        if prom is not None:
            prom.terminate()
            try:
                prom.wait(timeout=15)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        code, err = engine.stop()
    assert [s for s, _ in seen[:2]] == ["pending", "firing"], (seen, log_path.read_text()[-2000:])
    # The alert became active because of the spike, not before it (a second of clock slack).
    assert seen[0][1] >= engine.started + spike_after_s - 1, (seen, engine.started)
    assert code == 0, err
