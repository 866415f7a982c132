"""benchmarks/compare_hftbacktest.py: the hftc half runs on a slice of a real capture and prints its table;
the hftbacktest half runs the same slice when hftbacktest is installed (`pip install -e '.[bench]'`)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "data" / "binance" / "usdm_btcusdt_20240808.gz"
HAS_HBT = importlib.util.find_spec("hftbacktest") is not None


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("compare_hftbacktest", REPO / "benchmarks" / "compare_hftbacktest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_hftbacktest"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sliced(tmp_path_factory) -> Path:
    """The first 20,000 lines of the USD-M capture (snapshot and diffs), still a valid capture."""
    if not SOURCE.is_file():
        pytest.skip(f"the Binance capture is not here: {SOURCE}")
    out = tmp_path_factory.mktemp("cmp") / "usdm_slice.gz"
    with gzip.open(SOURCE, "rt") as src, gzip.open(out, "wt") as dst:
        for i, line in enumerate(src):
            if i >= 20_000:
                break
            dst.write(line)
    return out


def _run(script, sliced: Path, tmp_path: Path, capsys, *extra: str) -> tuple[int, str, dict]:
    code = script.main(["--data", str(sliced), "--runs", "1", "--work-dir", str(tmp_path), *extra])
    out = capsys.readouterr().out
    last = json.loads(out.strip().splitlines()[-1]) if code == 0 else {}
    return code, out, last


def test_hftc_half_prints_the_parity_table(script, sliced, tmp_path, capsys) -> None:
    code, out, last = _run(script, sliced, tmp_path, capsys, "--hftc-only")
    assert code == 0
    labels = [line.split("  ")[1].strip() for line in out.splitlines() if line.startswith("  ") and "file" not in line
              and "hftc" not in line and "usdm_slice" not in line]
    assert labels == ["orders sent", "fills", "final position", "gross PnL", "fees", "net PnL"]
    assert "PnL and fees in USDT, linear" in out
    row = last["files"][0]
    ours = row["hftc"]
    assert ours["orders"] > 0 and ours["fills"] > 0
    assert ours["net"] == pytest.approx(ours["gross"] - ours["fees"])
    assert abs(ours["position"]) <= row["params"]["max_position"] + 1e-12
    assert row["hftbacktest"] is None and row["hftc_events_per_s"] > 0


def test_missing_hftbacktest_exits_2(script, sliced, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "hftbacktest", None)  # import fails as if not installed
    assert script.main(["--data", str(sliced), "--work-dir", str(tmp_path)]) == 2
    assert "hftbacktest is not installed" in capsys.readouterr().err


@pytest.mark.skipif(not HAS_HBT, reason="hftbacktest is not installed (pip install -e '.[bench]')")
def test_both_halves_agree_in_shape(script, sliced, tmp_path, capsys) -> None:
    code, out, last = _run(script, sliced, tmp_path, capsys)
    assert code == 0
    row = last["files"][0]
    ours, theirs = row["hftc"], row["hftbacktest"]
    assert theirs["orders"] > 0 and theirs["net"] == pytest.approx(theirs["gross"] - theirs["fees"])
    # Same strategy, same data, same models: the counts are of the same order (the README quotes the gaps).
    assert 0.5 < theirs["orders"] / ours["orders"] < 2.0
    speed = out.splitlines()[-2]
    if theirs["stop_code"] == 1:  # replayed to the end: a rate and a ratio
        assert row["hftbacktest_events_per_s"] > 0 and speed.rstrip().split()[-2].endswith("x")
    else:  # stopped on an error code: said so, and no rate or ratio is claimed
        assert f"NOT COMPARABLE: hftbacktest's wait_next_feed returned error code {theirs['stop_code']}" in out
        assert "stopped" in speed
