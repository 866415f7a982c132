"""The offline planner of `hftc new`: golden plans and schemas, and lint-clean output for seed-like requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hftc.ai.blueprint import build_document, stage_budgets
from hftc.ai.generate import TOLERATED_WARNINGS
from hftc.ai.new import plan_schema
from hftc.ai.planner import plan_request
from hftc.ai.venues import VENUES, venue_definitions
from hftc.frontend import compile_file, compile_text

GOLDEN_REQUESTS = {
    "seed": "Create a market-making strategy for EUR/USD with 100ns latency target, deploy to NY4 colocation, "
            "and monitor performance in real-time",
    "binance_futures": "Market making on BTCUSDT on Binance futures, 2us tick-to-trade budget, 5M msgs/s, "
                       "production in TY3 with 16 cores and 64GB RAM, alert when p99 above 3us and alert if "
                       "rejects exceed 5/s",
    "stat_arb": "Statistical arbitrage between BTC/USDT and ETH/USDT on binance, sub-microsecond latency, deploy "
                "to staging in us-east-1 on c7i.metal-24xl",
    "unmapped": "Market maker for USD/JPY at LMAX with 750ns latency target in LD4, blue-green rollout, "
                "and a Slack channel for alerts\nrefresh every 250ms",
}

SEED_LIKE = [
    "Create a market-making strategy for GBP/USD with 200ns latency target, deploy to LD4 colocation, and monitor "
    "performance in real-time",
    "Build a market maker for EURUSD with a 500 ns latency target, deploy to NY4 and LD4, monitor it live",
    "Create a market-making strategy for AUD/USD with 1us latency target, deploy to TY3 colocation in production",
    "Market-making for ETH/USDT on Binance spot, 300ns latency target, deploy to NY4, monitor in real-time",
    "Create a pairs trading strategy for BTC/USDT and ETH/USDT on Binance futures with 800ns latency target, "
    "deploy to TY3 colocation with 16 cores, 64GB RAM, SR-IOV and a real-time kernel",
    "Create a market-making strategy for EUR/CHF with 150 nanoseconds latency budget, deploy to LD4 colocation, "
    "and monitor performance in real-time, alert if p999 above 400ns",
]


def untolerated(diagnostics: list) -> list:
    """Diagnostics but the warnings a planned schema may carry (pairs trading: no native pipeline)."""
    return [d for d in diagnostics if d.code not in TOLERATED_WARNINGS]


@pytest.mark.parametrize("name", sorted(GOLDEN_REQUESTS))
def test_planner_golden(name: str, golden, tmp_path: Path) -> None:
    request = GOLDEN_REQUESTS[name]
    plan = plan_request(request)
    golden.check(f"ai/plan_{name}.json", json.dumps(plan.to_json(), indent=2, default=str) + "\n")
    result = plan_schema(request, str(tmp_path / f"{name}.hftc.yaml"))
    assert result.text is not None, result.problems
    from hftc.editor_schema import installed_schema_path

    # The modeline names the JSON Schema installed on this machine; the golden holds a placeholder.
    golden.check(f"ai/plan_{name}.hftc.yaml", result.text.replace(installed_schema_path().as_posix(), "HFTC_SCHEMA", 1))
    assert untolerated(compile_text(str(tmp_path / "x.hftc.yaml"), result.text).diagnostics) == []


def test_unmapped_parts_are_listed() -> None:
    plan = plan_request(GOLDEN_REQUESTS["unmapped"])
    reasons = " ".join(u.reason for u in plan.unmapped)
    assert "`blue-green`" in reasons and "`rollout`" in reasons and "`Slack`" in reasons
    assert plan.instruments == ["USDJPY"] and plan.latency_target_ns == 750
    assert plan.monitoring["interval_ms"] == 250
    assert any("LMAX" in a for a in plan.assumptions)


@pytest.mark.parametrize("request_text", SEED_LIKE)
def test_seed_like_requests_are_lint_clean(request_text: str, tmp_path: Path) -> None:
    plan = plan_request(request_text)
    assert plan.problems == [] and plan.unmapped == [], plan.unmapped
    out = tmp_path / "x.hftc.yaml"
    result = plan_schema(request_text, str(out))
    assert result.text is not None, result.problems
    out.write_text(result.text, encoding="utf-8")
    compiled = compile_file(str(out))
    assert compiled.ok and untolerated(compiled.diagnostics) == []
    pipeline = compiled.ir.pipelines[0]
    staged = [c for c in compiled.ir.components if c.name in pipeline.stages]
    assert sum(c.budget_ns for c in staged) <= plan.latency_target_ns


@pytest.mark.parametrize("target", [5, 7, 100, 999, 2_000_000])
def test_stage_budgets_fit_the_target(target: int) -> None:
    budgets = stage_budgets(target)
    assert sum(budgets.values()) <= target and min(budgets.values()) >= 1


@pytest.mark.parametrize("name", sorted(VENUES))
def test_venue_sets_lint_clean_and_match_the_table(name: str) -> None:
    venue = VENUES[name]
    compiled = compile_file(str(venue.path))
    assert compiled.ok and compiled.diagnostics == []
    messages = venue_definitions(name)["messages"]
    assert set(venue.feed) <= set(messages) and venue.order in messages


def test_every_venue_set_builds_a_clean_schema(tmp_path: Path) -> None:
    plan = plan_request("market making on BTCUSDT, 1us latency target, deploy to NY4")
    for name in VENUES:
        plan.venue = name
        text = json.dumps(build_document(plan))
        assert compile_text(str(tmp_path / f"{name}.hftc.yaml"), text).diagnostics == []


@pytest.mark.parametrize("name", ["seed", "binance_futures"])
def test_planned_schema_builds_an_engine_without_warnings(name: str, tmp_path: Path) -> None:
    """Beyond lint: the backends find every feed role, the gateway fields and the quote rules they need."""
    from hftc.driver.build import build

    result = plan_schema(GOLDEN_REQUESTS[name], str(tmp_path / "x.hftc.yaml"))
    assert result.text is not None
    compiled = compile_text(str(tmp_path / "x.hftc.yaml"), result.text)
    report = build(compiled.ir, ["cpp", "rust", "k8s", "prometheus"], str(tmp_path / "out"))
    assert [d.code for d in report.diagnostics] == []
