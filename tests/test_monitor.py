"""hftc.monitor: alert state machine, exposition parsing, percentiles, reports, the
`hftc monitor` command against the runtime's demo engine (HTTP and shared memory), and
an end-to-end run with a real Prometheus server firing an alert on a latency spike."""

from __future__ import annotations

import asyncio
import json
import math
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
from pathlib import Path

import pytest
from hftc.monitor import (
    AlertManager,
    AlertRule,
    AlertState,
    ExpositionError,
    RealTimeMonitor,
    Sample,
    histogram_quantile,
    parse,
    rules_from_schema,
    samples,
)
from hftc.monitor.sources import SourceError, decode_region, normalise
from hftc.monitor.stats import Raw, snapshot

REPO = Path(__file__).resolve().parent.parent
CMAKE = shutil.which("cmake")
NINJA = shutil.which("ninja")
PROMETHEUS = shutil.which("prometheus")
TOOLS_DIR = Path(os.environ.get("HFTC_BUILD_CACHE", str(REPO / ".build-cache"))) / "runtime_cpp" / "tools"


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# ---------------------------------------------------------------------------
# Alert state machine
# ---------------------------------------------------------------------------

def test_alert_pending_then_firing_only_after_duration_then_resolves() -> None:
    clock = FakeClock()
    events: list[dict] = []
    manager = AlertManager(clock)
    manager.add_alert_rule(AlertRule("HighP99", "latency_p99_ns", 500, "gt", duration_seconds=5,
                                     severity="critical", callback=events.append))
    status = manager.status("HighP99")
    assert manager.evaluate({"latency_p99_ns": 400}) == [] and status.state is AlertState.INACTIVE

    clock.t = 1001.0
    manager.evaluate({"latency_p99_ns": 600})
    assert status.state is AlertState.PENDING and status.active_since == 1001.0
    for t in (1002.0, 1004.0, 1005.9):  # held, but not for 5 s yet
        clock.t = t
        assert manager.evaluate({"latency_p99_ns": 700}) == []
        assert status.state is AlertState.PENDING
    clock.t = 1006.0
    manager.evaluate({"latency_p99_ns": 650})
    assert status.state is AlertState.FIRING
    clock.t = 1007.0
    manager.evaluate({"latency_p99_ns": 900})  # still firing: no new event
    clock.t = 1008.0
    manager.evaluate({"latency_p99_ns": 450})
    assert status.state is AlertState.RESOLVED

    assert [(e["previous"], e["state"]) for e in events] == [
        ("inactive", "pending"), ("pending", "firing"), ("firing", "resolved")]
    assert [e["since"] for e in events] == [1001.0, 1006.0, 1008.0]
    assert events[1]["value"] == 650 and events[1]["severity"] == "critical" and events[1]["name"] == "HighP99"
    assert events[1]["active_since"] == 1001.0
    assert manager.history == events


def test_alert_pending_drops_back_and_restarts_the_clock() -> None:
    clock = FakeClock(0.0)
    manager = AlertManager(clock)
    manager.add_alert_rule(AlertRule("LowRate", "order_rate", 10, "lt", duration_seconds=2))
    status = manager.status("LowRate")
    manager.evaluate({"order_rate": 5})
    assert status.state is AlertState.PENDING
    clock.t = 1.5
    manager.evaluate({"order_rate": 50})
    assert status.state is AlertState.INACTIVE
    clock.t = 2.5
    manager.evaluate({"order_rate": 5})
    clock.t = 4.0
    manager.evaluate({"order_rate": 5})
    assert status.state is AlertState.PENDING  # 1.5 s since it started holding again
    clock.t = 4.5
    manager.evaluate({})  # a missing value never holds
    assert status.state is AlertState.INACTIVE
    clock.t = 5.0
    manager.evaluate({"order_rate": float("nan")})
    assert status.state is AlertState.INACTIVE


@pytest.mark.parametrize("op,value,holds", [
    ("gt", 10, False), ("gt", 11, True), ("ge", 10, True), ("lt", 9, True), ("lt", 10, False),
    ("le", 10, True), ("eq", 10, True), ("eq", 10.5, False),
])
def test_alert_operators(op: str, value: float, holds: bool) -> None:
    assert AlertRule("r", "m", 10, op).holds(value) is holds


def test_alert_zero_duration_fires_at_once_and_rejects_bad_rules() -> None:
    events: list[dict] = []
    manager = AlertManager(FakeClock())
    manager.add_alert_rule(AlertRule("Now", "pnl", 0, "lt", callback=events.append))
    manager.evaluate({"pnl": -1})
    assert [(e["previous"], e["state"]) for e in events] == [("inactive", "firing")]
    with pytest.raises(ValueError):
        AlertRule("x", "m", 1, "ne")
    with pytest.raises(ValueError):
        manager.add_alert_rule(AlertRule("Now", "pnl", 0))


def test_async_callbacks_called_once_per_transition() -> None:
    clock = FakeClock(0.0)
    seen: list[tuple[str, str]] = []

    async def notify(event: dict) -> None:
        await asyncio.sleep(0)
        seen.append((event["name"], event["state"]))

    manager = AlertManager(clock)
    manager.add_alert_rule(AlertRule("A", "latency_p99_ns", 100, "gt", 1.0, callback=notify))

    async def scenario() -> None:
        for t, v in ((0.0, 200), (0.5, 200), (1.0, 200), (1.5, 200), (2.0, 50), (2.5, 50)):
            clock.t = t
            await manager.evaluate_async({"latency_p99_ns": v})
        clock.t = 3.0
        manager.evaluate({"latency_p99_ns": 500})  # sync entry point inside a loop: scheduled as a task
        await manager.drain()

    asyncio.run(scenario())
    assert seen == [("A", "pending"), ("A", "firing"), ("A", "resolved"), ("A", "pending")]
    clock.t = 4.0
    manager.evaluate({"latency_p99_ns": 500})  # no running loop: run to completion
    assert seen[-1] == ("A", "firing")


def test_rules_from_schema_maps_simple_exprs_and_reports_the_rest(tmp_path: Path) -> None:
    from hftc.frontend import compile_file

    schema = tmp_path / "mon.hftc.yaml"
    schema.write_text(textwrap.dedent("""\
        hftc: 1
        package: mon.rules
        monitoring:
          interval_ms: 250
          alerts:
            - {name: HighP99, expr: "latency_p99_ns > 500", for: 5s, severity: critical}
            - {name: LowPnl, expr: "pnl <= -1e3", for: 1m, severity: warning}
            - {name: Rejects, expr: "rate(orders_rejected_total[1m]) > 10", for: 30s, severity: warning}
            - {name: Pos, expr: "position > 100", for: 0s, severity: info}
        """), encoding="utf-8")
    result = compile_file(str(schema))
    assert result.ok, result.diagnostics
    rules, unsupported = rules_from_schema(result.ir.monitoring)
    assert [(r.name, r.metric, r.operator, r.threshold, r.duration_seconds, r.severity) for r in rules] == [
        ("HighP99", "latency_p99_ns", "gt", 500.0, 5.0, "critical"),
        ("LowPnl", "pnl", "le", -1000.0, 60.0, "warning"),
    ]
    assert [u.name for u in unsupported] == ["Rejects", "Pos"]
    assert "Prometheus evaluates" in unsupported[0].reason
    assert "`position` is not a value the monitor computes" in unsupported[1].reason


# ---------------------------------------------------------------------------
# Exposition parsing and percentiles
# ---------------------------------------------------------------------------

EXPOSITION = """\
# HELP hftc_tick_to_order_latency_ns Tick-to-order latency, ns.
# TYPE hftc_tick_to_order_latency_ns histogram
hftc_tick_to_order_latency_ns_bucket{pipeline="fx",le="100"} 10
hftc_tick_to_order_latency_ns_bucket{pipeline="fx",le="200"} 60
hftc_tick_to_order_latency_ns_bucket{pipeline="fx",le="500"} 90
hftc_tick_to_order_latency_ns_bucket{pipeline="fx",le="+Inf"} 100
hftc_tick_to_order_latency_ns_sum{pipeline="fx"} 25000
hftc_tick_to_order_latency_ns_count{pipeline="fx"} 100
# HELP hftc_orders_total Orders sent.
# TYPE hftc_orders_total counter
hftc_orders_total{pipeline="fx"} 1000 1700000000000
hftc_orders_rejected_total{pipeline="fx"} 10
# HELP hftc_pnl PnL \\\\ with a backslash\\nand a newline.
# TYPE hftc_pnl gauge
hftc_pnl{pipeline="fx",instrument="EUR\\"USD"} -1.5e3
hftc_pnl{pipeline="fx",instrument="GBPUSD"} NaN
hftc_position { pipeline = "fx" , instrument="X" , } +Inf
"""


def test_exposition_parsing() -> None:
    fams = parse(EXPOSITION)
    assert list(fams) == ["hftc_tick_to_order_latency_ns", "hftc_orders_total", "hftc_orders_rejected_total",
                          "hftc_pnl", "hftc_position"]
    lat = fams["hftc_tick_to_order_latency_ns"]
    assert lat.type == "histogram" and lat.help == "Tick-to-order latency, ns."
    assert [s.name for s in lat.samples][-2:] == ["hftc_tick_to_order_latency_ns_sum",
                                                  "hftc_tick_to_order_latency_ns_count"]
    assert lat.samples[3].labels == (("pipeline", "fx"), ("le", "+Inf"))
    orders = fams["hftc_orders_total"].samples[0]
    assert orders.value == 1000 and orders.timestamp_ms == 1700000000000
    pnl = fams["hftc_pnl"]
    assert pnl.help == "PnL \\ with a backslash\nand a newline."
    assert pnl.samples[0].label("instrument") == 'EUR"USD' and pnl.samples[0].value == -1500.0
    assert math.isnan(pnl.samples[1].value)
    assert fams["hftc_position"].samples[0].value == math.inf
    assert fams["hftc_position"].samples[0].labels == (("pipeline", "fx"), ("instrument", "X"))
    for bad in ("metric{a=\"x} 1", "metric", "metric 1 2 3", "9metric 1", "m{a=1} 2", "m abc"):
        with pytest.raises(ExpositionError):
            parse(bad)


def test_histogram_quantile_matches_hand_computation() -> None:
    buckets = [(100.0, 10.0), (200.0, 60.0), (500.0, 90.0), (math.inf, 100.0)]
    # p50: rank 50 in (100, 200] holding 50 → 100 + 100 * (50 - 10) / 50 = 180
    assert histogram_quantile(0.5, buckets) == pytest.approx(180.0)
    # p05: rank 5 in the first bucket, lower bound 0 → 100 * 5 / 10 = 50
    assert histogram_quantile(0.05, buckets) == pytest.approx(50.0)
    # p90: rank 90 in (200, 500] holding 30 → 200 + 300 * (90 - 60) / 30 = 500
    assert histogram_quantile(0.9, buckets) == pytest.approx(500.0)
    # p75: 200 + 300 * 15 / 30 = 350
    assert histogram_quantile(0.75, buckets) == pytest.approx(350.0)
    # p99 falls in +Inf: the highest finite bound
    assert histogram_quantile(0.99, buckets) == 500.0
    assert histogram_quantile(0.5, [(100.0, 0.0), (math.inf, 0.0)]) is None
    assert histogram_quantile(0.5, [(100.0, 5.0)]) is None  # no +Inf bucket
    assert histogram_quantile(0.5, list(reversed(buckets))) == pytest.approx(180.0)  # order does not matter
    assert histogram_quantile(1.5, buckets) == math.inf and histogram_quantile(-1, buckets) == -math.inf


def test_snapshot_rates_windows_and_friendly_values() -> None:
    old = Raw.from_samples(samples(EXPOSITION), 100.0)
    newer = EXPOSITION.replace("} 1000 1700000000000", "} 1500").replace("rejected_total{pipeline=\"fx\"} 10",
                                                                            "rejected_total{pipeline=\"fx\"} 20")
    newer = newer.replace('le="+Inf"} 100', 'le="+Inf"} 200').replace("_count{pipeline=\"fx\"} 100",
                                                                      "_count{pipeline=\"fx\"} 200")
    new = Raw.from_samples(samples(newer), 102.0)
    snap = snapshot(new, old, old, "test")
    assert snap.rates["order_rate"] == pytest.approx(250.0)
    assert snap.rates["reject_rate"] == pytest.approx(5.0)
    assert snap.reject_ratio == pytest.approx(10 / 500)
    assert snap.latency_window == "2.0s"
    assert snap.latency_count == 100  # only the +Inf bucket grew: every new sample is above 500 ns
    assert snap.latency_ns["p50"] == 500.0
    values = snap.values()
    assert values["latency_p50_ns"] == 500.0 and values["orders_total"] == 1500
    assert math.isnan(values["pnl"])  # NaN gauge summed in: never holds an alert
    as_json = json.loads(json.dumps(snap.to_json(), allow_nan=False))
    assert as_json["pnl"] == {'EUR"USD': -1500.0, "GBPUSD": None} and as_json["positions"] == {"X": None}
    assert snap.pipelines == ("fx",)
    cumulative = snapshot(new, None, None, "test")
    assert cumulative.latency_window == "cumulative" and cumulative.rates["order_rate"] is None
    restarted = Raw.from_samples(samples(EXPOSITION.replace("} 1000 1700000000000", "} 50")), 103.0)
    assert snapshot(restarted, new, new, "t").rates["order_rate"] == pytest.approx(50.0)  # counter reset


def test_decode_region_and_source_specs() -> None:
    import struct

    bounds = [10, 100]
    header = struct.pack("<QIIIIII", 0x5254454D43544648, 1, 256, 512, 2, 2, len(bounds))
    header += struct.pack("<2Q", *bounds)
    header = header.ljust(256, b"\0")

    def entry(name: str, labels: str, kind: int, value: int, buckets: list[int]) -> bytes:
        e = name.encode().ljust(64, b"\0") + labels.encode().ljust(128, b"\0") + b"help".ljust(128, b"\0")
        e += struct.pack("<IIQ", kind, 0, value) + struct.pack(f"<{len(buckets)}Q", *buckets)
        return e.ljust(512, b"\0")

    region = header + entry("lat_ns", 'pipeline="a\\"b"', 3, 555, [1, 2, 3]) \
        + entry("g", "", 2, struct.unpack("<Q", struct.pack("<d", -2.5))[0], [])
    got = decode_region(region)
    assert got[:3] == [Sample("lat_ns_bucket", (("pipeline", 'a"b'), ("le", "10")), 1.0),
                       Sample("lat_ns_bucket", (("pipeline", 'a"b'), ("le", "100")), 3.0),
                       Sample("lat_ns_bucket", (("pipeline", 'a"b'), ("le", "+Inf")), 6.0)]
    assert got[3:] == [Sample("lat_ns_sum", (("pipeline", 'a"b'),), 555.0),
                       Sample("lat_ns_count", (("pipeline", 'a"b'),), 6.0), Sample("g", (), -2.5)]
    with pytest.raises(SourceError):
        decode_region(b"\0" * 256)
    assert normalise("http://h:9100") == "http://h:9100/metrics"
    assert normalise("http://h:9100/x") == "http://h:9100/x"
    for bad in ("h:9100", "ftp://x/", "shm:"):
        with pytest.raises(SourceError):
            normalise(bad)


def _fake_scrape(t: float, p99_target: float) -> list[Sample]:
    n = t * 1000
    slow = n * 0.02 if p99_target > 1000 else 0.0
    text = textwrap.dedent(f"""\
        hftc_tick_to_order_latency_ns_bucket{{pipeline="fx",le="500"}} {n - slow}
        hftc_tick_to_order_latency_ns_bucket{{pipeline="fx",le="5000"}} {n}
        hftc_tick_to_order_latency_ns_bucket{{pipeline="fx",le="+Inf"}} {n}
        hftc_tick_to_order_latency_ns_sum{{pipeline="fx"}} {n * 300}
        hftc_tick_to_order_latency_ns_count{{pipeline="fx"}} {n}
        hftc_messages_total{{pipeline="fx"}} {3 * n}
        hftc_orders_total{{pipeline="fx"}} {n}
        hftc_orders_rejected_total{{pipeline="fx"}} {n / 100}
        hftc_pnl{{pipeline="fx",instrument="EURUSD"}} {t}
        """)
    return samples(text)


@pytest.mark.parametrize("matplotlib_present", [False, True])
def test_performance_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, matplotlib_present: bool) -> None:
    if matplotlib_present:
        pytest.importorskip("matplotlib")
    else:
        monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails → SVG sparkline
    clock = FakeClock(0.0)
    monitor = RealTimeMonitor(update_interval=0.1, clock=clock, window_seconds=1.0, rate_window_seconds=1.0)
    monitor.alert_manager.add_alert_rule(AlertRule("HighP99", "latency_p99_ns", 1000, "gt", 1.0, "critical"))
    for i in range(1, 41):
        clock.t = i * 0.1
        monitor.ingest(_fake_scrape(clock.t, 2000 if clock.t > 2.0 else 200))
    assert monitor.alert_manager.status("HighP99").state is AlertState.FIRING
    report = asyncio.run(monitor.generate_performance_report(tmp_path / "rep", title="FX report"))
    md = report.markdown
    assert md.startswith("# FX report\n")
    for needle in ("## Tick-to-order latency", "| p50 |", "| p99.9 |", "## Throughput and errors",
                   "| orders / s | 1,000.0 |", "| messages / s | 3,000.0 |", "| reject ratio | 1.00 % |",
                   "| HighP99 | latency_p99_ns > 1000 | 1s | critical | firing |", "inactive → pending",
                   "pending → firing"):
        assert needle in md, needle
    assert report.summary["latency_ns"]["p50"] == pytest.approx(250.0, rel=0.05)
    assert report.html.startswith("<!DOCTYPE html>") and "<table>" in report.html
    names = sorted(p.name for p in report.files)
    if matplotlib_present:
        assert report.plot_format == "png" and "p99.png" in names
        assert (tmp_path / "rep" / "p99.png").read_bytes().startswith(b"\x89PNG")
    else:
        assert report.plot_format == "svg" and names == ["p99.svg", "report.html", "report.md"]
        svg = (tmp_path / "rep" / "p99.svg").read_text()
        assert svg.startswith("<svg") and "<polyline" in svg and "<svg" in report.html
        assert "![p99 over time](p99.svg)" in md
    assert (tmp_path / "rep" / "report.md").read_text() == md


def test_monitor_without_source_and_unreachable_source() -> None:
    monitor = RealTimeMonitor()
    with pytest.raises(SourceError):
        asyncio.run(monitor.poll())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once closed
    monitor.set_source(f"http://127.0.0.1:{port}/metrics", timeout=0.5)

    async def run_briefly() -> None:
        task = asyncio.create_task(monitor.start_monitoring())
        await asyncio.sleep(0.3)
        monitor.stop()
        await task

    asyncio.run(run_briefly())
    assert monitor.errors and "cannot scrape" in (monitor.last_error or "")


# ---------------------------------------------------------------------------
# Against the runtime's demo engine
# ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_exe() -> Path:
    if CMAKE is None:
        pytest.skip("cmake is not on PATH")
    TOOLS_DIR.mkdir(parents=True, exist_ok=True)
    gen = ["-G", "Ninja"] if NINJA and not (TOOLS_DIR / "CMakeCache.txt").exists() else []
    configure = subprocess.run(
        [CMAKE, "-S", str(REPO / "runtime_cpp"), "-B", str(TOOLS_DIR), *gen, "-DCMAKE_BUILD_TYPE=Release",
         "-DHFT_BUILD_TESTS=OFF", "-DHFT_BUILD_TOOLS=ON", "-DHFT_INSTALL=OFF"],
        capture_output=True, text=True, check=False, timeout=300)
    assert configure.returncode == 0, configure.stdout + configure.stderr
    build = subprocess.run([CMAKE, "--build", str(TOOLS_DIR), "--target", "hft_metrics_demo"],
                           capture_output=True, text=True, check=False, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    exe = TOOLS_DIR / "hft_metrics_demo"
    assert exe.is_file()
    return exe


class Demo:
    def __init__(self, exe: Path, *args: str) -> None:
        self.proc = subprocess.Popen([str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.port = 0
        self.shm = ""
        assert self.proc.stdout is not None
        for _ in range(2 if "--shm" in args and "--port" in args else 1):
            line = self.proc.stdout.readline().strip()
            key, _, value = line.partition("=")
            if key == "port":
                self.port = int(value)
            elif key == "shm":
                self.shm = value
            else:
                self.stop()
                raise AssertionError(f"demo did not start: {line!r} {self.proc.stderr.read() if self.proc.stderr else ''}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def demo(demo_exe: Path) -> Iterator[Demo]:
    d = Demo(demo_exe, "--port", "0", "--bind", "127.0.0.1", "--shm", f"hftc_test_monitor_{os.getpid()}",
             "--duration-s", "60", "--latency-ns", "100", "--pipeline", "testpipe")
    try:
        time.sleep(0.3)
        yield d
    finally:
        d.stop()


def _schema(tmp_path: Path, threshold: int = 500, for_text: str = "2s") -> Path:
    path = tmp_path / "watch.hftc.yaml"
    path.write_text(textwrap.dedent(f"""\
        hftc: 1
        package: mon.watch
        monitoring:
          interval_ms: 100
          alerts:
            - {{name: HighP99, expr: "latency_p99_ns > {threshold}", for: {for_text}, severity: critical}}
            - {{name: Rejects, expr: "rate(orders_rejected_total[1m]) > 10", for: 30s, severity: warning}}
        """), encoding="utf-8")
    return path


def _monitor_json(schema: Path, source: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "hftc", "monitor", str(schema), source, "--once", "--json"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _check_demo_snapshot(snap: dict) -> None:
    assert snap["pipelines"] == ["testpipe"]
    lat = snap["latency_ns"]
    assert lat["window"] == "cumulative" and lat["count"] > 100
    assert 50 <= lat["p50"] <= 200 and 100 <= lat["p99"] <= 200  # 80..120 ns, buckets 50/100/200
    assert 80 <= lat["mean"] <= 120
    tp = snap["throughput_per_s"]
    assert tp["order_rate"] > 1000 and tp["message_rate"] == pytest.approx(3 * tp["order_rate"], rel=0.05)
    assert snap["totals"]["orders_total"] > 0 and set(snap["positions"]) == {"EURUSD", "USDJPY"}
    assert [(a["name"], a["state"]) for a in snap["alerts"]] == [("HighP99", "inactive")]
    assert [u["name"] for u in snap["unsupported_alerts"]] == ["Rejects"]


def test_hftc_monitor_once_json_over_http(demo: Demo, tmp_path: Path) -> None:
    snap = _monitor_json(_schema(tmp_path), f"http://127.0.0.1:{demo.port}")
    assert snap["source"] == f"http://127.0.0.1:{demo.port}/metrics"
    _check_demo_snapshot(snap)
    with urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/healthz", timeout=5) as resp:
        assert resp.read() == b"ok\n"


def test_hftc_monitor_once_json_over_shm(demo: Demo, tmp_path: Path) -> None:
    snap = _monitor_json(_schema(tmp_path), f"shm:{demo.shm}")
    assert snap["source"] == f"shm:{demo.shm}"
    _check_demo_snapshot(snap)


def test_hftc_monitor_bad_source(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "hftc", "monitor", str(_schema(tmp_path)), "shm:hftc_no_such_region",
                           "--once", "--json"], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 1 and "cannot open shm:hftc_no_such_region" in proc.stderr


def test_realtime_monitor_fires_on_live_spike_over_shm(demo_exe: Path) -> None:
    d = Demo(demo_exe, "--shm", f"hftc_test_spike_{os.getpid()}", "--duration-s", "30", "--latency-ns", "100",
             "--spike-after-s", "1", "--spike-latency-ns", "5000", "--pipeline", "spike")
    events: list[dict] = []
    try:
        monitor = RealTimeMonitor(update_interval=0.05, source=f"shm:{d.shm}", window_seconds=0.5)
        monitor.alert_manager.add_alert_rule(
            AlertRule("HighP99", "latency_p99_ns", 1000, "gt", 0.5, "critical", callback=events.append))

        async def watch() -> None:
            task = asyncio.create_task(monitor.start_monitoring())
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not any(e["state"] == "firing" for e in events):
                await asyncio.sleep(0.05)
            monitor.stop()
            await task

        asyncio.run(watch())
    finally:
        d.stop()
    assert [e["state"] for e in events][:2] == ["pending", "firing"], events
    assert events[1]["since"] - events[0]["since"] >= 0.5
    assert events[1]["value"] > 1000


# ---------------------------------------------------------------------------
# End to end with a real Prometheus server
# ---------------------------------------------------------------------------

def _alert_states(prom_port: int, name: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/api/v1/alerts", timeout=2) as resp:
            body = json.load(resp)
    except OSError:
        return []
    return [a["state"] for a in body.get("data", {}).get("alerts", []) if a["labels"].get("alertname") == name]


@pytest.mark.slow
@pytest.mark.skipif(PROMETHEUS is None, reason="the prometheus server binary is not on PATH")
def test_prometheus_fires_latency_alert_on_spike(demo_exe: Path, tmp_path: Path) -> None:
    schema = _schema(tmp_path, threshold=1000, for_text="3s")
    out = tmp_path / "gen"
    gen = subprocess.run([sys.executable, "-m", "hftc", "build", str(schema), "-t", "prometheus", "-o", str(out)],
                         capture_output=True, text=True, check=False, timeout=120)
    assert gen.returncode == 0, gen.stderr
    rules = out / "prometheus" / "rules.yml"
    assert "hftc:tick_to_order_latency_ns:p99 > 1000" in rules.read_text()

    demo = Demo(demo_exe, "--port", "0", "--bind", "127.0.0.1", "--duration-s", "60",
                "--latency-ns", "100", "--spike-after-s", "3", "--spike-latency-ns", "5000", "--pipeline", "e2e")
    prom: subprocess.Popen[bytes] | None = None
    log_path = tmp_path / "prometheus.log"
    seen: list[str] = []
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
                  - targets: ["127.0.0.1:{demo.port}"]
            """), encoding="utf-8")
        promtool = shutil.which("promtool")
        if promtool is not None:
            check = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True,
                                   check=False, timeout=60)
            assert check.returncode == 0, check.stdout + check.stderr
        prom_port = _free_port()
        with log_path.open("w") as log:
            prom = subprocess.Popen([PROMETHEUS or "prometheus", f"--config.file={config}",
                                     f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                     f"--web.listen-address=127.0.0.1:{prom_port}"],
                                    stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and "firing" not in seen:
            assert prom.poll() is None, log_path.read_text()[-2000:]
            for state in _alert_states(prom_port, "HighP99"):
                if not seen or seen[-1] != state:
                    seen.append(state)
            time.sleep(0.25)
    finally:
        if prom is not None:
            prom.terminate()
            try:
                prom.wait(timeout=15)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        demo.stop()
    assert seen[:2] == ["pending", "firing"], (seen, log_path.read_text()[-2000:])
