"""`hftc monitor` with stdout not a terminal: one plain timestamped line per refresh, no ANSI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hftc.monitor.view import plain_line

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z mon\.plain ")


class _Metrics(BaseHTTPRequestHandler):
    """A Prometheus text endpoint whose counters and latency histogram grow with every scrape."""

    scrapes = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).scrapes += 1
        n = type(self).scrapes
        body = textwrap.dedent(f"""\
            # TYPE hftc_tick_to_order_latency_ns histogram
            hftc_tick_to_order_latency_ns_bucket{{pipeline="p",le="500"}} {60 * n}
            hftc_tick_to_order_latency_ns_bucket{{pipeline="p",le="1000"}} {90 * n}
            hftc_tick_to_order_latency_ns_bucket{{pipeline="p",le="+Inf"}} {100 * n}
            hftc_tick_to_order_latency_ns_sum{{pipeline="p"}} {50000 * n}
            hftc_tick_to_order_latency_ns_count{{pipeline="p"}} {100 * n}
            # TYPE hftc_messages_total counter
            hftc_messages_total{{pipeline="p"}} {1000 * n}
            hftc_orders_total{{pipeline="p"}} {10 * n}
            hftc_orders_rejected_total{{pipeline="p"}} {n}
            """).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _schema(tmp_path: Path) -> Path:
    path = tmp_path / "plain.hftc.yaml"
    path.write_text(textwrap.dedent("""\
        hftc: 1
        package: mon.plain
        monitoring:
          interval_ms: 100
          alerts:
            - {name: HighP99, expr: "latency_p99_ns > 500", for: 0s, severity: critical}
        """), encoding="utf-8")
    return path


def _monitor(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TERM": "xterm", "FORCE_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "hftc", "monitor", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, env=env)


def test_plain_lines_when_stdout_is_a_pipe(endpoint, tmp_path) -> None:
    done = _monitor(str(_schema(tmp_path)), endpoint, "--interval", "100", "--count", "4")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4, done.stdout
    assert "\x1b" not in done.stdout and "╭" not in done.stdout and "┏" not in done.stdout
    for line in lines:
        assert LINE.match(line), line
        assert "p50=" in line and "p99=" in line and "samples=" in line
    stamps = [line.split(" ", 1)[0] for line in lines]
    assert stamps == sorted(stamps)
    # from the second scrape on the rates are known: 1000 messages and 10 orders per scrape
    assert "msgs/s=-" in lines[0] and re.search(r"msgs/s=[1-9]", lines[-1]), lines
    assert "reject_ratio=10.00%" in lines[-1]
    assert "alerts: HighP99=firing" in lines[-1]  # p99 of the histogram lies between 900 and 1000 ns


def test_json_stream_is_bounded_by_count(endpoint, tmp_path) -> None:
    import json

    done = _monitor(str(_schema(tmp_path)), endpoint, "--interval", "50", "--count", "3", "--json")
    assert done.returncode == 0, done.stderr
    snaps = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(snaps) == 3 and all(s["pipelines"] == ["p"] for s in snaps)


def test_plain_lines_report_an_unreachable_source_and_go_on(tmp_path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = _monitor(str(_schema(tmp_path)), f"http://127.0.0.1:{port}/metrics", "--interval", "50", "--count", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(LINE.match(line) and " error: " in line for line in lines), lines


def test_plain_line_format() -> None:
    assert plain_line(None, "pkg", None, [], now=0.25) == "1970-01-01T00:00:00.250Z pkg waiting for the first scrape"
    assert plain_line(None, "pkg", "refused", [], now=0) == "1970-01-01T00:00:00.000Z pkg error: refused"
