"""benchmarks/compare_hftbacktest.py: the hftc half runs on a slice of a real capture and prints its table;
the hftbacktest half runs the same slices of the USD-M and coin-M captures to their end when hftbacktest is
installed (`pip install -e '.[bench]'`). Those slices made hftbacktest 2.4.4's partial-fill exchange stop
with code 14 before the script's workarounds (benchmarks/hbt_partial_fills.py)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "binance"
SOURCE = DATA / "usdm_btcusdt_20240808.gz"
HAS_HBT = importlib.util.find_spec("hftbacktest") is not None
#: Leading lines of each capture (its snapshot and the first diffs, still a valid capture): enough for
#: hftbacktest to stop with code 14 without the workarounds (coin-M a few seconds in, USD-M a minute).
SLICES = {"usdm_btcusdt_20240808.gz": 20_000, "cm_btcusd_perp_20240808.gz": 5_000}


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("compare_hftbacktest", REPO / "benchmarks" / "compare_hftbacktest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_hftbacktest"] = module
    spec.loader.exec_module(module)
    return module


def _slice(name: str, folder: Path) -> Path:
    source = DATA / name
    if not source.is_file():
        pytest.skip(f"the Binance capture is not here: {source}")
    out = folder / name  # the capture's own name, so the tables name the file
    with gzip.open(source, "rt") as src, gzip.open(out, "wt") as dst:
        for i, line in enumerate(src):
            if i >= SLICES[name]:
                break
            dst.write(line)
    return out


@pytest.fixture(scope="module")
def sliced(tmp_path_factory) -> Path:
    """The first 20,000 lines of the USD-M capture."""
    return _slice("usdm_btcusdt_20240808.gz", tmp_path_factory.mktemp("cmp"))


@pytest.fixture(scope="module", params=sorted(SLICES))
def any_slice(request, tmp_path_factory) -> Path:
    return _slice(request.param, tmp_path_factory.mktemp("cmp"))


def _run(script, sliced: Path, tmp_path: Path, capsys, *extra: str) -> tuple[int, str, dict]:
    code = script.main(["--data", str(sliced), "--runs", "1", "--work-dir", str(tmp_path), *extra])
    out = capsys.readouterr().out
    last = json.loads(out.strip().splitlines()[-1]) if code == 0 else {}
    return code, out, last


def test_hftc_half_prints_the_parity_table(script, sliced, tmp_path, capsys) -> None:
    code, out, last = _run(script, sliced, tmp_path, capsys, "--hftc-only")
    assert code == 0
    labels = [line.split("  ")[1].strip() for line in out.splitlines() if line.startswith("  ") and "file" not in line
              and "hftc" not in line and "usdm_btcusdt" not in line]
    assert labels == ["orders sent", "post-only rejects", "fills", "final position", "gross PnL", "fees", "net PnL"]
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
def test_both_halves_replay_to_the_end_and_agree(script, any_slice, tmp_path, capsys) -> None:
    code, out, last = _run(script, any_slice, tmp_path, capsys)
    assert code == 0
    assert "NOT COMPARABLE" not in out
    row = last["files"][0]
    ours, theirs = row["hftc"], row["hftbacktest"]
    # hftbacktest replayed the whole slice (1 = end of data), not stopped on an error code such as 14.
    assert theirs["stop_code"] == 1, f"hftbacktest stopped with code {theirs['stop_code']}"
    if "cm_" in any_slice.name:
        assert "PnL and fees in BTC, inverse" in out and row["multiplier"] == 100.0
    else:
        assert "PnL and fees in USDT, linear" in out
    # Same strategy, same data, same models: orders and fills of the same order, the same sign of PnL.
    assert theirs["orders"] > 0 and theirs["fills"] > 0 and ours["fills"] > 0
    assert 0.5 < theirs["orders"] / ours["orders"] < 2.0
    assert 0.5 < theirs["fills"] / ours["fills"] < 2.0
    assert theirs["fees"] / ours["fees"] == pytest.approx(theirs["fills"] / ours["fills"], rel=0.25)
    assert theirs["net"] == pytest.approx(theirs["gross"] - theirs["fees"])
    assert abs(theirs["position"]) <= row["params"]["max_position"] + 1e-12
    # The position is booked in whole lots from the orders (hftbacktest's own state misses partial fills).
    lots = theirs["position"] / row["params"]["order_qty"]
    assert lots == pytest.approx(round(lots), abs=1e-9)
    speed = out.splitlines()[-2]
    assert row["hftbacktest_events_per_s"] > 0 and speed.rstrip().split()[-2].endswith("x")


@pytest.mark.skipif(not HAS_HBT, reason="hftbacktest is not installed (pip install -e '.[bench]')")
def test_speed_script_runs_both_engines_to_the_same_activity(sliced, tmp_path, capsys) -> None:
    """benchmarks/backtest_vs_hftbacktest.py: both market makers quote (hftbacktest's once stopped quoting
    for good after a NaN mid), with partial fills on both sides, timed in interleaved rounds."""
    spec = importlib.util.spec_from_file_location("backtest_vs_hftbacktest",
                                                  REPO / "benchmarks" / "backtest_vs_hftbacktest.py")
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    assert speed.main(["--data", str(sliced), "--runs", "5", "--work-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    last = json.loads(out.strip().splitlines()[-1])
    assert last["partial_fills"] is True
    assert len(last["hftc_seconds"]) == len(last["hftbacktest_seconds"]) == 5
    assert last["hftc_orders"] > 0 and last["hftbacktest_orders"] > 0
    assert 0.5 < last["hftbacktest_orders"] / last["hftc_orders"] < 2.0
    assert last["ratio"] > 0 and last["ratio_paired_median"] > 0
    assert "median of 5 interleaved rounds" in out
