"""One engine contract: the flags the deployment backends pass are the flags the runtime parses."""

from __future__ import annotations

import re
from pathlib import Path

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
