"""Metric regions in shared memory across languages and processes: a Rust writer
(`runtime_rust`'s `metrics_tool serve`) read by a C++ `hft::metrics::ShmMetricsReader`, by
Rust and by `hftc monitor`; and a C++ `hft::metrics::ShmMetrics` writer read by Rust. Both
writers replay the same events, so all readers must print byte-identical Prometheus text.

The C++ side is a small program over `runtime_cpp` (below), compiled once per content hash;
cargo builds into the shared build cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, build_cache
from hftc.monitor import parse
from hftc.monitor.sources import read_shm

RUST_DIR = REPO / "runtime_rust"
EVENTS = 1000

# Replays metrics_tool's `serve --events N --pipeline xl --latency-ns 100` sequence in C++ (write),
# or prints a region's exposition through the C++ reader (read).
XLANG_CPP = r"""
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hft/metrics/shm_metrics.hpp"

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const std::string mode = argv[1];
  try {
    if (mode == "read") {
      hft::metrics::ShmMetricsReader reader(argv[2]);
      const std::string text = reader.expose();
      std::fwrite(text.data(), 1, text.size(), stdout);
      const auto orders = reader.find("hftc_orders_total", "pipeline=\"xl\"");
      std::fprintf(stderr, "orders=%.0f\n", orders ? orders->value : -1.0);
      return 0;
    }
    if (mode != "write" || argc != 4) return 2;
    hft::metrics::ShmMetrics shm(argv[2], 16);
    auto& reg = shm.registry();
    const auto latency = reg.histogram("hftc_tick_to_order_latency_ns",
                                       "Tick-to-order latency, ns.", {{"pipeline", "xl"}});
    const auto messages =
        reg.counter("hftc_messages_total", "Market-data messages decoded.", {{"pipeline", "xl"}});
    const auto orders = reg.counter("hftc_orders_total", "Orders sent.", {{"pipeline", "xl"}});
    const auto rejects =
        reg.counter("hftc_orders_rejected_total", "Orders rejected.", {{"pipeline", "xl"}});
    const auto position = reg.gauge("hftc_position", "Signed position, lots.",
                                    {{"pipeline", "xl"}, {"instrument", "EURUSD"}});
    const auto pnl = reg.gauge("hftc_pnl", "PnL.", {{"pipeline", "xl"}, {"instrument", "EURUSD"}});
    const unsigned long long n = std::strtoull(argv[3], nullptr, 10);
    for (unsigned long long i = 0; i < n; ++i) {
      messages.inc(3);
      orders.inc(1);
      if (i % 50 == 0) rejects.inc(1);
      latency.record(100 - 20 + i % 41);
      position.add(i % 2 == 0 ? 1.0 : -1.0);
      pnl.set(static_cast<double>(i) / 4.0);
    }
    std::printf("ready\n");
    std::fflush(stdout);
    while (std::getchar() != EOF) {
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
"""


@pytest.fixture(scope="module")
def xlang() -> Path:
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("g++ is not installed")
    headers = REPO / "runtime_cpp" / "include" / "hft" / "metrics"
    digest = hashlib.sha256(XLANG_CPP.encode())
    for path in sorted(headers.glob("*.hpp")):
        digest.update(path.read_bytes())
    home = build_cache() / "shm_metrics_xlang" / digest.hexdigest()[:16]
    exe = home / "xlang"
    if not exe.is_file():
        home.mkdir(parents=True, exist_ok=True)
        (home / "xlang.cpp").write_text(XLANG_CPP, encoding="utf-8")
        proc = subprocess.run(["nice", compiler, "-std=c++20", "-O1", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                               f"-I{REPO / 'runtime_cpp' / 'include'}", str(home / "xlang.cpp"), "-o",
                               str(home / "xlang.tmp"), "-pthread"],
                              capture_output=True, text=True, check=False, timeout=300)
        assert proc.returncode == 0, proc.stderr
        os.replace(home / "xlang.tmp", exe)
    return exe


@pytest.fixture(scope="module")
def metrics_tool() -> Path:
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not on PATH")
    target = build_cache() / "cargo"
    env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
    proc = subprocess.run(["nice", "cargo", "build", "--release", "--bin", "metrics_tool"], cwd=RUST_DIR, env=env,
                          capture_output=True, text=True, check=False, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return target / "release" / "metrics_tool"


def _name(tag: str) -> str:
    return f"hftc_xlang_{tag}_{os.getpid()}"


def _samples(text: str) -> list:
    return [s for f in parse(text).values() for s in f.samples]


def _dump(tool: Path, name: str) -> str:
    proc = subprocess.run([str(tool), "dump", name], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _cpp_read(xlang: Path, name: str) -> str:
    proc = subprocess.run([str(xlang), "read", name], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == f"orders={EVENTS}\n"
    return proc.stdout


def _expected_text() -> str:
    """The exposition both writers must produce, computed independently of either."""
    bounds = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000,
              2000000, 5000000, 10000000]
    values = [80 + i % 41 for i in range(EVENTS)]
    lines = ["# HELP hftc_tick_to_order_latency_ns Tick-to-order latency, ns.",
             "# TYPE hftc_tick_to_order_latency_ns histogram"]
    lab = 'pipeline="xl"'
    for b in bounds:
        lines.append(f'hftc_tick_to_order_latency_ns_bucket{{{lab},le="{b}"}} {sum(v <= b for v in values)}')
    lines += [f'hftc_tick_to_order_latency_ns_bucket{{{lab},le="+Inf"}} {EVENTS}',
              f"hftc_tick_to_order_latency_ns_sum{{{lab}}} {sum(values)}",
              f"hftc_tick_to_order_latency_ns_count{{{lab}}} {EVENTS}"]
    for name, help_, value in (("hftc_messages_total", "Market-data messages decoded.", 3 * EVENTS),
                               ("hftc_orders_total", "Orders sent.", EVENTS),
                               ("hftc_orders_rejected_total", "Orders rejected.", EVENTS // 50)):
        lines += [f"# HELP {name} {help_}", f"# TYPE {name} counter", f"{name}{{{lab}}} {value}"]
    inst = f'{lab},instrument="EURUSD"'
    lines += ["# HELP hftc_position Signed position, lots.", "# TYPE hftc_position gauge",
              f"hftc_position{{{inst}}} 0", "# HELP hftc_pnl PnL.", "# TYPE hftc_pnl gauge",
              f"hftc_pnl{{{inst}}} {(EVENTS - 1) / 4}"]
    return "\n".join(lines) + "\n"


def test_rust_writer_read_by_cpp_rust_python_and_hftc_monitor(metrics_tool: Path, xlang: Path,
                                                             tmp_path: Path) -> None:
    name = _name("rs")
    proc = subprocess.Popen([str(metrics_tool), "serve", "--shm", name, "--events", str(EVENTS), "--pipeline", "xl",
                             "--latency-ns", "100", "--port", "0", "--bind", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip().removeprefix("port="))
        assert proc.stdout.readline().strip() == f"shm={name}"
        expected = _expected_text()
        assert _cpp_read(xlang, name) == expected
        assert _dump(metrics_tool, name) == expected
        assert [(s.name, s.labels, s.value) for s in read_shm(name)] == \
               [(s.name, s.labels, s.value) for s in _samples(expected)]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            body = resp.read().decode()
        assert body.startswith(expected)
        process = {s.name for s in _samples(body[len(expected):])}
        assert process == {"process_cpu_seconds_total", "process_virtual_memory_bytes",
                           "process_resident_memory_bytes", "process_open_fds", "process_max_fds",
                           "process_start_time_seconds"}

        schema = tmp_path / "watch.hftc.yaml"
        schema.write_text(textwrap.dedent("""\
            hftc: 1
            package: mon.xlang
            monitoring:
              interval_ms: 100
              alerts:
                - {name: HighP99, expr: "latency_p99_ns > 100", for: 1s, severity: critical}
            """), encoding="utf-8")
        mon = subprocess.run([sys.executable, "-m", "hftc", "monitor", str(schema), f"shm:{name}", "--once", "--json"],
                             capture_output=True, text=True, check=False, timeout=60)
        assert mon.returncode == 0, mon.stderr
        snap = json.loads(mon.stdout)
        assert snap["pipelines"] == ["xl"] and snap["totals"]["orders_total"] == EVENTS
        assert snap["latency_ns"]["count"] == EVENTS and 100 <= snap["latency_ns"]["p99"] <= 200
        assert set(snap["positions"]) == {"EURUSD"}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert not Path("/dev/shm", name).exists()


def test_cpp_writer_read_by_rust(metrics_tool: Path, xlang: Path) -> None:
    name = _name("cpp")
    proc = subprocess.Popen([str(xlang), "write", name, str(EVENTS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n", proc.stderr.read() if proc.stderr else ""
        text = _dump(metrics_tool, name)
        assert text == _expected_text()
        assert text == _cpp_read(xlang, name)
    finally:
        _, err = proc.communicate(input="", timeout=10)
    assert proc.returncode == 0, err
    assert not Path("/dev/shm", name).exists()
    missing = subprocess.run([str(metrics_tool), "dump", name], capture_output=True, text=True, check=False,
                             timeout=30)
    assert missing.returncode == 1 and missing.stderr.startswith(f"error: cannot read {name}")
