"""The tape's data-quality record is honoured wherever a tape is replayed: the Python API
(`CompiledStrategy.run`), `hftc optimize` and the seed's AIStrategyEngine report it and refuse a
tape with unresolved problems (HFT1118) unless dirty tapes are allowed."""

from __future__ import annotations

import json

import pytest
from test_optimize import SCHEMA, write_synthetic_tape
from typer.testing import CliRunner

from hftc.cli import app


def _quality(unresolved: int) -> dict:
    problems = {"bad_quantity": {"count": unresolved, "action": "kept"}} if unresolved else {}
    return {"version": 1, "problems": problems, "gaps": 0, "dropped_rows": 0, "unresolved": unresolved,
            "clock": None}


@pytest.fixture(scope="module")
def tapes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tapes")
    return {"dirty": write_synthetic_tape(folder / "dirty.hftt", steps=1500, meta={"quality": _quality(2)}),
            "clean": write_synthetic_tape(folder / "clean.hftt", steps=1500, meta={"quality": _quality(0)}),
            "old": write_synthetic_tape(folder / "old.hftt", steps=1500)}


@pytest.fixture(scope="module")
def engine():
    from hftc.backtest import compile_strategy
    from hftc.frontend import compile_file

    result = compile_file(str(SCHEMA))
    assert result.ok, result.diagnostics
    return compile_strategy(result.ir, "mm")


def test_api_refuses_a_dirty_tape_unless_allowed_and_reports_the_record(engine, tapes):
    from hftc.backtest import BacktestError

    with pytest.raises(BacktestError) as info:
        engine.run(tapes["dirty"])
    assert info.value.code == "HFT1118" and "2 unresolved" in info.value.diagnostic().message
    allowed = engine.run(tapes["dirty"], allow_dirty=True)
    assert allowed.summary["data_quality"]["unresolved"] == 2
    assert engine.run(tapes["clean"]).summary["data_quality"] == _quality(0)
    assert engine.run(tapes["old"]).summary["data_quality"] is None  # written before tapes had a record


def test_optimize_cli_prints_the_record_and_refuses_a_dirty_tape(tmp_path, tapes):
    out = tmp_path / "refused"
    done = CliRunner().invoke(app, ["optimize", str(SCHEMA), "--strategy", "mm", "--data", str(tapes["dirty"]),
                                    "--trials", "2", "--out", str(out)])
    assert done.exit_code == 1
    assert done.stderr.startswith("error[HFT1118]") and "Traceback" not in done.output
    assert "2 unresolved" in done.stderr and "2 bad_quantity (kept)" in done.stderr  # what the record says
    assert not out.exists()  # refused before the study started


def test_optimize_cli_allow_dirty_runs_and_puts_the_record_in_its_json(tmp_path, tapes):
    out = tmp_path / "allowed"
    done = CliRunner().invoke(app, ["optimize", str(SCHEMA), "--strategy", "mm", "--data", str(tapes["dirty"]),
                                    "--trials", "2", "--seed", "1", "--out", str(out), "--json", "--allow-dirty"])
    assert done.exit_code == 0, done.output
    assert "· data quality: 0 gap(s), 0 row(s) dropped, 2 bad_quantity (kept), 2 unresolved" in done.stderr
    assert json.loads(done.stdout)["data_quality"] == _quality(2)
    assert json.loads((out / "summary.json").read_text())["data_quality"] == _quality(2)


def test_seed_engine_refuses_a_dirty_tape_unless_allowed(tmp_path, tapes):
    from hftc import AIStrategyEngine
    from hftc.optimize.study import OptimizeError

    config = {"parameters": {"spread_bps": {"min": 0.5, "max": 2.0}}}
    strict = AIStrategyEngine(schema=SCHEMA, data=tapes["dirty"], trials=2, seed=1, out=tmp_path / "strict")
    for call in (lambda: strict.optimize_strategy_sync(config), lambda: strict.run_backtest_sync(None)):
        with pytest.raises(OptimizeError) as info:
            call()
        assert info.value.diagnostics[0].code == "HFT1118"
    lenient = AIStrategyEngine(schema=SCHEMA, data=tapes["dirty"], trials=2, seed=1, out=tmp_path / "lenient",
                               allow_dirty=True)
    assert lenient.optimize_strategy_sync(config)["data_quality"] == _quality(2)
    assert lenient.run_backtest_sync(None)["data_quality"] == _quality(2)
    clean = AIStrategyEngine(schema=SCHEMA, data=tapes["clean"], trials=2, seed=1, out=tmp_path / "clean")
    assert clean.run_backtest_sync(None)["data_quality"]["unresolved"] == 0
