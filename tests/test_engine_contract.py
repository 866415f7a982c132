"""One engine contract: the flags the deployment backends pass are the flags the runtime parses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hftc.ir import engine_contract

REPO = Path(__file__).resolve().parents[1]
OPS = REPO / "runtime_cpp" / "include" / "hft" / "engine" / "ops.hpp"


def test_runtime_parses_exactly_the_contract_flags():
    text = OPS.read_text()
    block = re.search(r"kOpsFlags\[\] = \{(.*?)\};", text, re.S)
    assert block, "kOpsFlags not found in ops.hpp"
    runtime = re.findall(r'"(--[a-z-]+)"', block.group(1))
    contract = [f.name for f in engine_contract.FLAGS if f.name != "--metrics-port"]  # the engine's own flag
    assert runtime == contract
    for flag in contract:
        assert f'flag == "{flag}"' in text, f"{flag} is listed but not parsed"


def test_deployment_args_are_contract_flags_and_grace_exceeds_the_deadline():
    c = engine_contract.EngineContract(9100, 8080, "/etc/hftc/params/params.yaml", "/var/lib/hftc/journal/engine",
                                       20, 5000, None)
    args = c.args()
    names = {f.name for f in engine_contract.FLAGS}
    assert [a for a in args if a.startswith("--")] == ["--metrics-port", "--health-port", "--params", "--journal",
                                                       "--shutdown-deadline-ms", "--md-stale-ms"]
    assert all(a in names for a in args if a.startswith("--"))
    assert c.termination_grace_s > c.shutdown_deadline_s
    assert args[args.index("--shutdown-deadline-ms") + 1] == str(c.shutdown_deadline_s * 1000)


def test_venue_endpoints_become_the_engines_md_and_venue_flags():
    c = engine_contract.EngineContract(9100, 8080, None, "/var/lib/hftc/journal/engine", 20, 5000, None,
                                       md="udp://239.1.1.1:20000", venue="tcp://fx-venue.prod.svc:9000")
    args = c.args()
    assert args[-4:] == ["--md", "udp://239.1.1.1:20000", "--venue", "tcp://fx-venue.prod.svc:9000"]
    # The engine template parses both (when its schema has the inputs: HFT0603 otherwise).
    engine = (REPO / "backends" / "cpp" / "templates" / "engine_main.cpp.j2").read_text()
    for f in engine_contract.ENDPOINT_FLAGS:
        assert f'a == "{f.name}"' in engine


@pytest.mark.parametrize(("url", "scheme", "problem"), [
    ("tcp://venue.prod.svc:9000", "tcp", None),
    ("tcp://10.0.0.7:1", "tcp", None),
    ("udp://0.0.0.0:20000", "udp", None),
    ("udp://venue:20000", "udp", "is not an IPv4 address"),
    ("tcp://venue:0", "tcp", "not in 1..65535"),
    ("tcp://venue:http", "tcp", "not in 1..65535"),
    ("tcp://-bad-.name:1", "tcp", "neither a DNS name"),
    ("http://venue:80", "tcp", "does not start with tcp://"),
    ("tcp://:80", "tcp", "no HOST:PORT"),
    ("udp://300.1.1.1:5", "udp", "is not an IPv4 address"),
])
def test_endpoint_problems(url, scheme, problem):
    got = engine_contract.endpoint_problem(url, scheme)
    assert (got is None) if problem is None else (got is not None and problem in got), got


def _lint(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "s.hftc.yaml"
    path.write_text(text)
    for imported in (REPO / "examples").glob("common*.yaml"):  # what the example imports, beside it
        (tmp_path / imported.name).write_text(imported.read_text())
    return subprocess.run([sys.executable, "-m", "hftc", "lint", "--no-cache", str(path)], capture_output=True,
                          text=True, timeout=120, check=False)


def test_a_bad_endpoint_and_one_the_engine_lacks_are_refused(tmp_path: Path):
    example = (REPO / "examples" / "fx_market_maker.hftc.yaml").read_text()
    good = 'venue: {orders: "tcp://fx-venue.hft-production.svc:9000", md: "udp://239.1.1.1:20000"}'
    assert good in example
    bad = _lint(tmp_path, example.replace(good, 'venue: {orders: "tcp://fx venue:9000", md: "udp://fx-venue:2"}'))
    assert bad.returncode == 1
    assert bad.stderr.count("error[HFT0620]") == 2, bad.stderr
    line = example[:example.index(good)].count("\n") + 1
    assert f"s.hftc.yaml:{line}:" in bad.stderr and "Traceback" not in bad.stderr
    # A schema whose engine takes no --venue (its session lacks the heartbeat role): refused.
    lacking = example.replace("    role: heartbeat\n", "", 1)
    assert lacking != example
    assert _lint(tmp_path, lacking.replace(good, "")).returncode == 0
    out = _lint(tmp_path, lacking)
    assert out.returncode == 1 and "HFT0603" in out.stderr and "no --venue" in out.stderr, out.stderr
