"""hftc optimize: parameter overlays, the optimiser core on analytic functions, the CLI on a
synthetic tape (and the real one when present), and the seed's AIStrategyEngine API."""

from __future__ import annotations

import asyncio
import csv
import json
import math
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, REPO, require_shared_data

SCHEMA = EXAMPLES / "fx_market_maker.hftc.yaml"
HFTC = [sys.executable, "-m", "hftc"]


@pytest.fixture(scope="module")
def ir():
    from hftc.frontend import compile_file

    result = compile_file(str(SCHEMA))
    assert result.ok, result.diagnostics
    return result


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*HFTC, *args], cwd=cwd, check=False, capture_output=True, text=True, timeout=300)


# --- parameter overlays ---------------------------------------------------------------------------


def _overlay(tmp_path: Path, text: str, ir):
    from hftc.frontend.sources import SourceSet
    from hftc.params_overlay import apply_overlay, load_overlay

    path = tmp_path / "overlay.yaml"
    path.write_text(text)
    overlay, diags = load_overlay(str(path), SourceSet())
    if overlay is None:
        return None, diags
    new_ir, more = apply_overlay(ir.ir, overlay)
    return new_ir, diags + more


def test_overlay_sets_defaults_in_params_and_checked_program(tmp_path, ir):
    new_ir, diags = _overlay(tmp_path, "strategies:\n  mm:\n    params: {spread_bps: 0.7, inventory_limit: 2500.0}\n",
                             ir)
    assert diags == []
    mm, old = new_ir.strategy_named("mm"), ir.ir.strategy_named("mm")
    assert {p.name: p.default for p in mm.params} == {"spread_bps": 0.7, "inventory_limit": 2500,
                                                      "risk_factor": 0.05}
    assert isinstance(next(p for p in mm.params if p.name == "inventory_limit").default, int)
    checked = mm.checked()
    assert checked.param("spread_bps").default == 0.7 and checked.param("inventory_limit").default == 2500
    # Pure: the input IR is unchanged, and nothing but the defaults moved.
    assert old.checked().param("spread_bps").default == 0.5
    assert replace(checked, params=()) == replace(old.checked(), params=())


@pytest.mark.parametrize("text, expected", [
    ("strategies:\n  mm:\n    params:\n      spred_bps: 0.7\n",
     [("HFT1203", "strategy `mm` has no parameter `spred_bps`", 4, 7, "did you mean `spread_bps`?")]),
    ("strategies:\n  mm:\n    params:\n      inventory_limit: 20000\n",
     [("HFT1204", "20000 is outside the range of `inventory_limit` [100, 10000]", 4, 24, None)]),
    ("strategies:\n  mm:\n    params: {inventory_limit: 2.5, risk_factor: fast}\n",
     [("HFT1205", "`2.5` is not a valid value for `inventory_limit`", 3, 31, None),
      ("HFT1205", "`fast` is not a valid value for `risk_factor`", 3, 49, None)]),
    ("strategies:\n  mmx:\n    params: {x: 1}\n",
     [("HFT1202", "the schema has no strategy `mmx`", 2, 3, "did you mean `mm`?")]),
    ("strategies: [mm]\nfoo: 1\n",
     [("HFT1201", "`strategies` must map strategy names to `{params: {...}}`", 1, 13, None),
      ("HFT1201", "unknown key `foo` in a parameter overlay", 2, 1, None)]),
])
def test_overlay_diagnostics_point_into_the_overlay(tmp_path, ir, text, expected):
    _, diags = _overlay(tmp_path, text, ir)
    got = sorted((d.code, d.message, d.span.line, d.span.col) for d in diags)
    assert got == sorted((c, m, line, col) for c, m, line, col, _ in expected)
    assert all(d.span.file.endswith("overlay.yaml") for d in diags)
    for code, message, _, _, hint in expected:
        if hint:
            assert next(d for d in diags if d.message == message).help == hint


def test_overlay_yaml_round_trips_exactly(tmp_path, ir):
    from hftc.params_overlay import overlay_yaml

    values = {"spread_bps": 1.0000000000000002e-05 * 1e4, "inventory_limit": 123, "risk_factor": 0.01000000001}
    text = overlay_yaml("mm", values, "chosen by a test\nsecond line")
    assert text.startswith("# chosen by a test\n# second line\nstrategies:\n")
    new_ir, diags = _overlay(tmp_path, text, ir)
    assert diags == []
    assert {p.name: p.default for p in new_ir.strategy_named("mm").params} == values
    assert "1.0e-05" in overlay_yaml("mm", {"x": 1e-05})  # readable by YAML 1.1 parsers too


def test_build_params_changes_generated_defaults_and_rejects_bad_overlays(tmp_path):
    overlay = tmp_path / "best.yaml"
    overlay.write_text("strategies:\n  mm:\n    params: {spread_bps: 0.7, inventory_limit: 2500}\n")
    out = tmp_path / "out"
    done = run_cli("build", str(SCHEMA), "-o", str(out), "-t", "docs", "--params", str(overlay))
    assert done.returncode == 0, done.stderr
    readme = (out / "docs" / "README.md").read_text()
    assert "| `spread_bps` | float | [0.1, 2.0] | 0.7 |" in readme
    assert "| `inventory_limit` | int | [100, 10000] | 2500 |" in readme

    overlay.write_text("strategies:\n  mm:\n    params: {spread_bps: 9.5}\n")
    out2 = tmp_path / "out2"
    done = run_cli("build", str(SCHEMA), "-o", str(out2), "-t", "docs", "--params", str(overlay))
    assert done.returncode == 1
    assert "error[HFT1204]: 9.5 is outside the range of `spread_bps` [0.1, 2.0]" in done.stderr
    assert "best.yaml:3:26" in done.stderr and "Traceback" not in done.stderr
    assert not out2.exists()


# --- the optimiser core with analytic objectives --------------------------------------------------


def _problem(constraints=(), directions=("minimize", "minimize")):
    from hftc.ir.model import Param
    from hftc.optimize.problem import Objective, Problem

    params = (Param("x", "float", 0.0, 1.0, 0.5), Param("n", "int", 0, 4, 0))
    return Problem("s", params, (Objective("f1", directions[0]), Objective("f2", directions[1])), tuple(constraints))


def _tradeoff(params):
    """f1 and f2 trade off along x; any n > 0 is dominated by the same x with n = 0."""
    x, n = params["x"], params["n"]
    return {"f1": x + 0.25 * n, "f2": (1.0 - x) ** 2 + 0.25 * n}


def test_pareto_front_of_a_known_function():
    from hftc.optimize.pareto import dominates, pareto_front
    from hftc.optimize.study import StudySettings, run_study

    problem = _problem()
    outcome = run_study(problem, _tradeoff, StudySettings("t", trials=60, seed=11))
    assert len(outcome.trials) == 60 and outcome.failed == 0
    front = {t.number for t in outcome.front}
    # Brute force: non-dominated <=> n == 0 unless another trial with n == 0 has both f1 and f2 lower.
    for t in outcome.trials:
        dominated = any(dominates(o.values, t.values, problem.directions) for o in outcome.trials)
        assert (t.number in front) == (not dominated)
        if t.params["n"] > 0:
            assert t.number not in front
    assert front and all(outcome.trials[i].params["n"] == 0 for i in front)
    # The chosen point: best f1 on the front.
    assert outcome.chosen.values[0] == min(t.values[0] for t in outcome.front)
    # Hand-made records: duplicates stay, a dominated point goes.
    from hftc.optimize.pareto import TrialRecord

    recs = [TrialRecord(0, {}, (1.0, 2.0)), TrialRecord(1, {}, (1.0, 2.0)), TrialRecord(2, {}, (2.0, 3.0)),
            TrialRecord(3, {}, (0.5, 9.0)), TrialRecord(4, {}, (0.1, 0.1), feasible=False)]
    assert [r.number for r in pareto_front(recs, ["minimize", "minimize"])] == [0, 1, 3]
    assert [r.number for r in pareto_front(recs, ["maximize", "minimize"])] == [0, 1, 2]


def test_constraints_are_respected():
    from hftc.optimize.problem import Constraint, parse_constraint
    from hftc.optimize.study import StudySettings, run_study

    c, diags = parse_constraint("f1 >= 0.3")
    assert c is None and [d.code for d in diags] == ["HFT1213"]  # f1 is not a backtest metric
    c, diags = parse_constraint("sharpe >= 1e-3")
    assert diags == [] and (c.metric, c.op, c.bound) == ("sharpe_ratio", ">=", 0.001)
    problem = _problem([Constraint("f1", ">=", 0.3, "f1 >= 0.3")])
    outcome = run_study(problem, _tradeoff, StudySettings("t", trials=40, seed=3))
    infeasible = [t for t in outcome.trials if not t.feasible]
    assert infeasible and all(t.values[0] < 0.3 for t in infeasible)
    assert all(t.feasible and t.values[0] >= 0.3 for t in outcome.front)
    assert outcome.chosen.values[0] >= 0.3
    assert outcome.chosen.values[0] == min(t.values[0] for t in outcome.trials if t.feasible)

    impossible = _problem([Constraint("f1", ">", 5.0)])
    outcome = run_study(impossible, _tradeoff, StudySettings("t", trials=8, seed=3))
    assert outcome.chosen is None and outcome.front == []

    strict = Constraint("m", "<", 3.0)
    assert not strict.holds(3.0) and strict.holds(math.nextafter(3.0, 0)) and Constraint("m", "<=", 3.0).holds(3.0)
    assert Constraint("m", ">", 1.0).violation(1.0) > 0 and not Constraint("m", "<=", 1.0).holds(math.nan)


def test_seed_makes_trials_reproducible_with_one_job():
    from hftc.optimize.study import StudySettings, run_study

    def params_of(seed, sampler):
        outcome = run_study(_problem(), _tradeoff, StudySettings("t", trials=30, seed=seed, sampler=sampler))
        return [t.params for t in outcome.trials]

    for sampler in ("tpe", "nsga2"):
        assert params_of(5, sampler) == params_of(5, sampler)
        assert params_of(5, sampler) != params_of(6, sampler)


def test_sqlite_study_resumes_and_refuses_a_different_setup(tmp_path):
    from hftc.optimize.study import OptimizeError, StudySettings, run_study

    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = run_study(_problem(), _tradeoff, StudySettings("s", trials=5, storage=url, seed=1,
                                                           identity={"data": "a"}))
    second = run_study(_problem(), _tradeoff, StudySettings("s", trials=4, storage=url, seed=1, jobs=2,
                                                            identity={"data": "a"}))
    assert [t.number for t in first.trials] == list(range(5))
    assert [t.number for t in second.trials] == list(range(9)) and second.new_trials == 4
    # Resuming reseeds with the stored trial count, so it does not repeat the first run's samples.
    assert [t.params for t in second.trials[5:]] != [t.params for t in first.trials[:4]]
    with pytest.raises(OptimizeError) as info:
        run_study(_problem(), _tradeoff, StudySettings("s", trials=1, storage=url, identity={"data": "b"}))
    assert info.value.diagnostics[0].code == "HFT1216" and "data 'a' (now 'b')" in info.value.diagnostics[0].message
    with pytest.raises(OptimizeError) as info:
        run_study(_problem(directions=("maximize", "minimize")), _tradeoff,
                  StudySettings("s", trials=1, storage=url, identity={"data": "a"}))
    assert info.value.diagnostics[0].code == "HFT1216"


def test_problem_from_the_schema_strategy(ir):
    from hftc.optimize.problem import problem_from_strategy

    problem, diags = problem_from_strategy(ir.ir.strategy_named("mm"))
    assert diags == []
    assert [(o.metric, o.direction) for o in problem.objectives] == [
        ("pnl", "maximize"), ("sharpe_ratio", "maximize"), ("max_drawdown", "minimize")]
    # The declared constraint, then the default minimum activity (a trial that never trades has a
    # drawdown of 0 that nothing beats).
    assert [(c.metric, c.op, c.bound, c.activity) for c in problem.constraints] == [
        ("max_leverage", "<=", 3.0, False), ("fills", ">=", 10.0, True)]
    assert problem.activity is problem.constraints[1]
    assert not problem.feasible({"max_leverage": 1.0, "fills": 9}) and problem.feasible({"max_leverage": 1.0,
                                                                                          "fills": 10})
    off, _ = problem_from_strategy(ir.ir.strategy_named("mm"), min_fills=0)
    assert [c.metric for c in off.constraints] == ["max_leverage"] and off.activity is None
    own = replace(ir.ir.strategy_named("mm"), constraints=(replace(ir.ir.strategy_named("mm").constraints[0],
                                                                     text="fills >= 3"),))
    mine, _ = problem_from_strategy(own)  # a declared fills constraint replaces the default
    assert [(c.metric, c.bound, c.activity) for c in mine.constraints] == [("fills", 3.0, False)]
    # Latency is the backtest's input: refused as an objective with a warning, never optimised.
    lat, diags = problem_from_strategy(ir.ir.strategy_named("mm"), minimize=("max_drawdown", "latency"))
    assert [d.code for d in diags] == ["HFT1222"] and [o.metric for o in lat.objectives] == [
        "pnl", "sharpe_ratio", "max_drawdown"]
    bare = replace(ir.ir.strategy_named("mm"), maximize=(), minimize=(), constraints=())
    problem, diags = problem_from_strategy(bare)
    assert [d.code for d in diags] == ["HFT1212"] and problem.objectives[0].metric == "pnl"
    _, diags = problem_from_strategy(bare, maximize=("profit",))
    assert [d.code for d in diags] == ["HFT1213"] and diags[0].help == "metrics: " + ", ".join(
        sorted({"pnl", "sharpe_ratio", "sharpe", "sortino_ratio", "sortino", "max_drawdown", "turnover",
                "fill_ratio", "max_leverage", "max_correlation", "fees", "fills", "orders", "latency"}))


def test_pareto_svg_is_well_formed_for_one_and_two_objectives():
    from hftc.optimize.pareto import TrialRecord, pareto_front
    from hftc.optimize.plot import pareto_svg

    recs = [TrialRecord(i, {"x": i / 10}, (i / 10, 1 - (i / 10) ** 0.5), feasible=i != 3) for i in range(10)]
    front = pareto_front(recs, ["minimize", "minimize"])
    for labels in (["a", "b"], ["a"]):
        svg = pareto_svg(recs, front, front[0], labels, ["minimize"] * len(labels), "t & <x>")
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg") and svg.count("<circle") >= len(recs) - 1


_SVG = "{http://www.w3.org/2000/svg}"


def _panels(svg: str):
    """(x label, y label, frame rect, [(state, x, y, clipped)]) of every panel of a Pareto SVG."""
    import re

    out = []
    for panel in ET.fromstring(svg).iter(f"{_SVG}g"):
        if panel.get("class") != "panel":
            continue
        rect = panel.find(f"{_SVG}rect")
        box = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))
        points = []
        for g in panel.iter(f"{_SVG}g"):
            cls = (g.get("class") or "").split()
            if cls and cls[0] == "trial":
                x, y = map(float, re.match(r"translate\(([-\d.]+) ([-\d.]+)\)", g.get("transform")).groups())
                points.append((cls[1], x, y, "clipped" in cls, g.find(f"{_SVG}title").text))
        out.append((panel.get("data-x"), panel.get("data-y"), box, points))
    return out


@pytest.mark.parametrize("k", [2, 3, 4])
def test_pareto_svg_has_a_panel_per_objective_pair_and_clips_an_outlier(k):
    import random

    from hftc.optimize.pareto import TrialRecord, choose, pareto_front
    from hftc.optimize.plot import pareto_svg

    rng = random.Random(k)
    labels = ["pnl", "max_drawdown", "max_leverage", "turnover"][:k]
    directions = ["maximize"] + ["minimize"] * (k - 1)
    recs = [TrialRecord(i, {"x": rng.random()}, tuple(rng.uniform(0, 10) for _ in range(k)), feasible=i % 5 != 0)
            for i in range(50)]
    # One wild trial on the first objective: it must not squash the other 50 into a corner.
    recs.append(TrialRecord(50, {"x": 0.5}, (1e6,) + (5.0,) * (k - 1)))
    front = pareto_front(recs, directions)
    chosen = choose(front, directions)
    assert chosen is not None and chosen.number == 50  # the outlier is the best pnl: still shown, at the edge
    svg = pareto_svg(recs, front, chosen, labels, directions, "study")
    panels = _panels(svg)
    assert len(panels) == k * (k - 1) // 2
    assert {(x, y) for x, y, _, _ in panels} == {(labels[i], labels[j]) for i in range(k) for j in range(i + 1, k)}
    for xl, _, (bx, by, bw, bh), points in panels:
        assert len(points) == len(recs)
        assert {s for s, *_ in points} == {"front", "feasible", "infeasible"}
        for _, x, y, _, _ in points:  # every point inside its frame
            assert bx - 0.1 <= x <= bx + bw + 0.1 and by - 0.1 <= y <= by + bh + 0.1
        clipped = [p for p in points if p[3]]
        if xl == "pnl":
            assert len(clipped) == 1 and "trial 50" in clipped[0][4] and "1.00e+06" in clipped[0][4]
            assert clipped[0][1] == pytest.approx(bx + bw, abs=0.2)  # on the right edge
            xs = [p[1] for p in points if not p[3]]
            assert max(xs) - min(xs) > 0.6 * bw  # the others spread over the panel, not squashed
        else:
            assert not clipped
    assert svg.count('class="chosen"') == len(panels) and "clip-note" in svg


def test_pareto_svg_does_not_clip_when_most_trials_agree():
    """Most trials with drawdown 0 and a few with some: the few are the point, not outliers."""
    from hftc.optimize.pareto import TrialRecord, pareto_front
    from hftc.optimize.plot import pareto_svg

    recs = [TrialRecord(i, {}, (float(i), 0.0 if i < 45 else 50.0 * i)) for i in range(50)]
    front = pareto_front(recs, ["maximize", "minimize"])
    svg = pareto_svg(recs, front, None, ["pnl", "dd"], ["maximize", "minimize"], "t")
    (panel,) = _panels(svg)
    assert not any(p[3] for p in panel[3]) and "clip-note" not in svg


# --- end to end on a synthetic tape ---------------------------------------------------------------


def write_synthetic_tape(path: Path, steps: int = 6000, seed: int = 7, meta: dict | None = None) -> Path:
    """A random-walk book (3 levels a side, tick 0.01) with trades that sometimes sweep several ticks."""
    from hftc.data.tape import DEPTH, END, SIDE_ASK, TRADE, Instrument, write_tape

    rng = np.random.default_rng(seed)
    mid = 100_000 + np.cumsum(rng.integers(-1, 2, steps))
    cols: dict[str, list] = {k: [] for k in ("local_ts", "exch_ts", "px", "qty", "instrument", "kind", "flags")}

    def add(ts, px, qty, kind, flags):
        for key, value in zip(cols, (ts + 2_000_000, ts, px, qty, 0, kind, flags)):
            cols[key].append(value)

    t, prev = 1_700_000_000_000_000_000, None
    for i in range(steps):
        t += int(rng.integers(5_000_000, 20_000_000))
        bid, ask = int(mid[i]) - 1, int(mid[i]) + 1
        if prev is not None:
            for px in range(prev[0] - 2, prev[0] + 1):
                if px > bid:
                    add(t, px, 0, DEPTH, 0)
            for px in range(prev[1], prev[1] + 3):
                if px < ask:
                    add(t, px, 0, DEPTH, SIDE_ASK)
        for k in range(3):
            add(t, bid - k, int(rng.integers(1, 50)), DEPTH, 0)
            add(t, ask + k, int(rng.integers(1, 50)), DEPTH, SIDE_ASK)
        cols["flags"][-1] |= END
        prev = (bid, ask)
        if rng.random() < 0.5:
            t += 1_000_000
            seller = int(rng.integers(0, 2))
            k = int(rng.integers(0, 25))
            add(t, bid - k if seller else ask + k, int(rng.integers(1, 30)), TRADE, (SIDE_ASK if seller else 0) | END)
    return write_tape(path, [Instrument("EURUSD", 0.01, 0.001, 1.0)], {k: np.array(v) for k, v in cols.items()},
                      {"source": "synthetic test tape",
                       "instruments": [{"symbol": "EURUSD", "contract_type": "linear", "settlement_currency": "USD"}],
                       **(meta or {})})


@pytest.fixture(scope="module")
def tape(tmp_path_factory):
    return write_synthetic_tape(tmp_path_factory.mktemp("tape") / "synthetic.hftt")


def test_cli_optimises_walks_forward_and_feeds_build(tmp_path, tape):
    out = tmp_path / "opt"
    done = run_cli("optimize", str(SCHEMA), "--strategy", "mm", "--data", str(tape), "--trials", "8",
                   "--seed", "1", "--walk-forward", "0.7", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["trials"] == 8 and summary["study"] == "mm-wf0.7" and summary["failed"] == 0
    assert [o["metric"] for o in summary["objectives"]] == ["pnl", "sharpe_ratio", "max_drawdown"]
    chosen = summary["chosen"]
    front = summary["pareto"]
    assert chosen["trial"] in {p["trial"] for p in front} and chosen["feasible"]
    assert chosen["values"]["pnl"] == max(p["values"]["pnl"] for p in front)
    assert chosen["metrics"]["max_leverage"] <= 3.0
    # Minimum activity by default: every front trial traded; the count kept off is said and recorded.
    assert summary["min_fills"] == 10 and all(p["metrics"]["fills"] >= 10 for p in front)
    inactive = sum(1 for r in csv.DictReader(open(out / "trials.csv")) if float(r["fills"]) < 10)
    assert summary["inactive_trials"] == inactive
    assert f"{inactive} of 8 trials made fewer than 10 fills" in done.stderr
    assert "fees: maker 0 bp, taker 0 bp (no venue profile" in done.stderr
    wf = summary["walk_forward"]
    assert wf["split_ns"] > 0 and {r["trial"] for r in wf["trials"]} == {p["trial"] for p in front}
    row = next(r for r in wf["trials"] if r["trial"] == chosen["trial"])
    assert row["in_sample"]["pnl"] == chosen["metrics"]["pnl"] and "pnl" in row["out_of_sample"]
    for name in ("best_params.yaml", "pareto.csv", "pareto.svg", "trials.csv", "walk_forward.csv", "summary.json",
                 "study.db"):
        assert (out / name).is_file(), name
    with open(out / "trials.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 and sum(r["chosen"] == "true" for r in rows) == 1
    ET.parse(out / "pareto.svg")
    assert "progress" not in done.stdout and "trials" in done.stderr  # the bar goes to stderr

    # The overlay reproduces the chosen trial: same defaults in the build, same backtest metrics.
    built = tmp_path / "built"
    done = run_cli("build", str(SCHEMA), "-o", str(built), "-t", "docs", "--params", str(out / "best_params.yaml"))
    assert done.returncode == 0, done.stderr
    assert f"| `inventory_limit` | int | [100, 10000] | {chosen['params']['inventory_limit']} |" in \
        (built / "docs" / "README.md").read_text()

    # Resume with two threads: the stored study grows.
    done = run_cli("optimize", str(SCHEMA), "--strategy", "mm", "--data", str(tape), "--trials", "4", "--jobs", "2",
                   "--walk-forward", "0.7", "--out", str(out), "--json", "--sampler", "nsga2")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["trials"] == 12


@pytest.mark.parametrize("args, code", [
    (["--strategy", "mn"], "HFT1210"),
    (["--strategy", "mm", "--walk-forward", "1.5"], "HFT1218"),
    (["--strategy", "mm", "--data", "/nonexistent/tape.hftt"], "HFT1112"),
    (["--strategy", "mm", "--storage", "postgresql+psycopg2://nobody@127.0.0.1:1/none"], "HFT1215"),
])
def test_cli_reports_bad_input_without_traceback(tmp_path, tape, args, code):
    from typer.testing import CliRunner

    from hftc.cli import app

    data = [] if "--data" in args else ["--data", str(tape)]
    done = CliRunner().invoke(app, ["optimize", str(SCHEMA), *data, *args, "--trials", "2", "--out",
                                    str(tmp_path / "o")])
    assert done.exit_code == 1
    assert done.stderr.startswith(f"error[{code}]")  # alone: no progress bar before input errors
    assert not (tmp_path / "o" / "best_params.yaml").exists()


def test_seed_api_optimises_and_backtests(tmp_path, tape, monkeypatch):
    from hftc import AIStrategyEngine
    from hftc.optimize.study import OptimizeError

    engine = AIStrategyEngine(schema=SCHEMA, data=tape, trials=8, seed=2, out=tmp_path / "seed")
    config = {
        "name": "adaptive-market-making",  # the seed's label; the schema's only strategy is used
        "parameters": {"spread_bps": {"min": 0.5, "max": 2.0}, "inventory_limit": {"min": 100, "max": 10000},
                       "risk_factor": {"min": 0.01, "max": 0.1}},
        "objectives": {"maximize": ["pnl", "sharpe_ratio"], "minimize": ["max_drawdown", "latency"]},
    }

    async def session():
        optimization = await engine.optimize_strategy(config)
        backtest = await engine.run_backtest(config["name"], optimization["best_params"])
        return optimization, backtest

    optimization, backtest = asyncio.run(session())
    assert optimization["strategy"] == "mm" and optimization["trials"] == 8
    # `latency` is the backtest's input: ignored as an objective, and the result says so.
    assert list(optimization["best_values"]) == ["pnl", "sharpe_ratio", "max_drawdown"]
    assert [n.split(":")[0] for n in optimization["notes"]] == ["HFT1222"]
    assert optimization["fees"]["source"].startswith("no venue profile")
    assert all(0.5 <= p["params"]["spread_bps"] <= 2.0 for p in optimization["pareto"])
    assert backtest["pnl"] == optimization["best_metrics"]["pnl"]  # deterministic replay
    assert backtest["latency"] == 1_000_000.0 and backtest["result"].equity.size > 0

    for bad, code in (({"parameters": {"spread_bps": {"min": 0.01, "max": 2.0}}}, "HFT1220"),
                      ({"parameters": {"nope": {"min": 0, "max": 1}}}, "HFT1220"),
                      ({"objectives": {"maximize": ["profit"]}}, "HFT1213")):
        with pytest.raises(OptimizeError) as info:
            asyncio.run(engine.optimize_strategy(bad))
        assert info.value.diagnostics[0].code == code
    monkeypatch.delenv("HFTC_DATA", raising=False)
    with pytest.raises(OptimizeError) as info:
        AIStrategyEngine(schema=SCHEMA).optimize_strategy_sync({})
    assert info.value.diagnostics[0].code == "HFT1214"


def test_import_hftc_stays_light():
    code = "import sys, hftc; print(any(m.startswith(('optuna', 'hftc.optimize')) for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=REPO)
    assert done.stdout.strip() == "False", done.stderr


BTC_MM_SCHEMA = """\
hftc: 1
package: test.btc_mm
strategies:
  mm:
    template: market_making
    instruments: [BTCUSDT]
    params:
      order_qty: {range: [0.001, 0.1], default: 0.01}
      max_inventory: {range: [0.01, 1.0], default: 0.1}
"""


def test_real_tape_few_trials(tmp_path):
    """The bundled BTCUSDT capture, converted by `hftc data convert` into a tape of the test's own."""
    capture = require_shared_data("binance/usdm_btcusdt_20240808.gz")
    real_tape = tmp_path / "btcusdt.hftt"
    converted = run_cli("data", "convert", str(capture), "-o", str(real_tape))
    assert converted.returncode == 0, converted.stderr
    assert real_tape.is_file()
    schema = tmp_path / "btc_mm.hftc.yaml"
    schema.write_text(BTC_MM_SCHEMA)
    done = run_cli("optimize", str(schema), "--strategy", "mm", "--data", str(real_tape), "--trials", "6",
                   "--seed", "1", "--jobs", "2", "--out", str(tmp_path / "real"), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["trials"] == 6 and summary["chosen"] is not None
    assert summary["chosen"]["metrics"]["fills"] > 0 and summary["chosen"]["metrics"]["max_leverage"] <= 3.0


def test_cli_reports_an_unwritable_out_folder(tmp_path, tape):
    from typer.testing import CliRunner

    from hftc.cli import app

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    done = CliRunner().invoke(app, ["optimize", str(SCHEMA), "--strategy", "mm", "--data", str(tape),
                                    "--trials", "2", "--out", str(blocker)])
    assert done.exit_code == 1
    assert done.stderr.startswith("error[HFT1221]")
    assert blocker.read_text() == "not a folder\n"


def test_cli_takes_a_capture_like_backtest(tmp_path, tape):
    """`--data` accepts what `hftc backtest` accepts: here an hftbacktest npz, converted once."""
    from hftc.data.hftbacktest import write_npz
    from hftc.data.tape import open_tape

    capture = write_npz(open_tape(tape), 0, tmp_path / "eurusd.npz")
    # An npz does not say whether the contract is linear or inverse: refused before anything compiles.
    done = run_cli("optimize", str(SCHEMA), "--strategy", "mm", "--data", str(capture), "--trials", "2",
                   "--seed", "1", "--out", str(tmp_path / "opt"), "--json")
    assert done.returncode == 1 and "error[HFT1121]" in done.stderr and "--contract linear" in done.stderr
    assert "compil" not in done.stderr.lower()
    done = run_cli("optimize", str(SCHEMA), "--strategy", "mm", "--data", str(capture), "--trials", "2",
                   "--seed", "1", "--out", str(tmp_path / "opt"), "--json", "--contract", "linear")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["trials"] == 2
    assert "converting eurusd.npz" in done.stderr or "using cached tape" in done.stderr  # cached across runs


def test_minimum_activity_keeps_idle_trials_off_the_front(ir):
    from hftc.optimize.pareto import TrialRecord, pareto_front
    from hftc.optimize.problem import problem_from_strategy

    problem, _ = problem_from_strategy(ir.ir.strategy_named("mm"), minimize=("max_drawdown",), maximize=("pnl",))
    runs = [({"pnl": 0.0, "max_drawdown": 0.0, "fills": 0, "max_leverage": 0.0}),  # never trades: unbeatable dd
            ({"pnl": 5.0, "max_drawdown": 2.0, "fills": 40, "max_leverage": 1.0}),
            ({"pnl": 3.0, "max_drawdown": 1.0, "fills": 12, "max_leverage": 1.0})]
    records = [TrialRecord(i, {}, (m["pnl"], m["max_drawdown"]), m, feasible=problem.feasible(m))
               for i, m in enumerate(runs)]
    assert [t.number for t in pareto_front(records, problem.directions)] == [1, 2]
    off, _ = problem_from_strategy(ir.ir.strategy_named("mm"), minimize=("max_drawdown",), maximize=("pnl",),
                                   min_fills=0)
    records = [TrialRecord(i, {}, (m["pnl"], m["max_drawdown"]), m, feasible=off.feasible(m))
               for i, m in enumerate(runs)]
    assert [t.number for t in pareto_front(records, off.directions)] == [0, 1, 2]


def test_fee_profiles_follow_the_tapes_venue():
    from hftc.backtest.fees import profile_of_meta, resolve_fees

    def meta(*instruments, fmt="binance"):
        return {"sources": [{"file": "x.gz", "format": fmt}], "instruments": list(instruments)}

    usdm = {"symbol": "BTCUSDT", "market": "futures"}
    coinm = {"symbol": "BTCUSD_PERP", "market": "futures", "contract": "inverse (coin-margined): ..."}
    spot = {"symbol": "BTCUSDT", "market": "spot"}
    assert profile_of_meta(meta(usdm)).name == "binance-usdm"
    assert profile_of_meta(meta(coinm)).name == "binance-coinm"
    assert profile_of_meta(meta(spot)).name == "binance-spot"
    assert profile_of_meta(meta(spot, usdm)) is None  # mixed venues: no single profile
    assert profile_of_meta(meta(usdm, fmt="tardis")) is None
    fees = resolve_fees(meta(usdm), None, None)
    assert (fees.maker_bps, fees.taker_bps) == (2.0, 5.0) and "binance-usdm" in fees.source
    fees = resolve_fees(meta(usdm), -1.0, None)  # a rebate given; the taker rate still from the profile
    assert (fees.maker_bps, fees.taker_bps) == (-1.0, 5.0) and fees.source.startswith("given")
    fees = resolve_fees(meta(usdm), None, None, profile="none")
    assert (fees.maker_bps, fees.taker_bps, fees.source) == (0.0, 0.0, "profile none")
    fees = resolve_fees({}, None, None)
    assert (fees.maker_bps, fees.taker_bps) == (0.0, 0.0) and "no venue profile" in fees.line()
