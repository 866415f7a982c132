"""`hftc strategy add`: offline kind templates and the model path against the loopback server; the
entry is compiled into the schema, shown as a diff, written only with --write, backtested on --data."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import require_shared_data
from hftc.ai.strategy_add import KIND_NAMES, detect_kind, plan_strategy
from hftc.cli import app
from hftc.frontend import compile_file
from llm_loopback import LoopbackLLM, Step

REPO = Path(__file__).resolve().parent.parent
KEY = "sk-loopback-STRATEGY-SECRET-7"
MOMENTUM = {
    "description": "EMA crossover.", "instruments": ["EURUSD"],
    "params": {"fast": {"type": "int", "range": [2, 100], "default": 10},
               "slow": {"type": "int", "range": [20, 2000], "default": 200},
               "margin_bps": {"type": "float", "range": [0.1, 10.0], "default": 1.0}},
    "let": {"trend_bps": "(ema(book.mid, fast) - ema(book.mid, slow)) / book.mid * 10000"},
    "entry": {"long": "trend_bps > margin_bps", "short": "trend_bps < -margin_bps"},
    "exit": "abs(trend_bps) < margin_bps / 4", "size": "1",
}


@pytest.fixture
def schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("HFTC_AI_PROVIDER", "HFTC_AI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HFTC_AI_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("HFTC_AI_CACHE", str(tmp_path / "cache"))
    for name in ("fx_market_maker.hftc.yaml", "common.hftc.yaml"):
        shutil.copy(REPO / "examples" / name, tmp_path / name)
    return tmp_path / "fx_market_maker.hftc.yaml"


def _run(args: list[str]):
    return CliRunner().invoke(app, args)


@pytest.mark.parametrize("request_text, kind", [
    ("plain market making, 3 bps spread", "market_making"), ("inventory-skewed quotes, 4 bps skew", "skewed_quoting"),
    ("quote around the microprice, 2 bps spread", "microprice_quoting"), ("momentum over 30 ticks", "momentum"),
    ("mean reversion at 2.5 sigma", "mean_reversion")])
def test_every_kind_compiles_clean_into_the_schema(schema: Path, request_text: str, kind: str) -> None:
    assert detect_kind(request_text).name == kind
    result = plan_strategy(str(schema), schema.read_text(), request_text, None)
    assert result.text is not None, result.problems
    assert result.kind == kind
    assert any("from the request" in r for r in result.read)  # the stated number was read


def test_kind_table_is_complete() -> None:
    assert set(KIND_NAMES) == {"market_making", "skewed_quoting", "microprice_quoting", "momentum", "mean_reversion"}


def test_diff_only_without_write_then_write_keeps_comments(schema: Path) -> None:
    before = schema.read_text()
    shown = _run(["strategy", "add", str(schema), "mean reversion, lookback 300 events", "--name", "fade"])
    assert shown.exit_code == 0, shown.output
    assert "+  fade:" in shown.stdout and "+      z: zscore(mid, lookback_window)" in shown.stdout
    assert "lookback_window: {type: int, range: [20, 5000], default: 300}" in shown.stdout
    assert schema.read_text() == before
    written = _run(["strategy", "add", str(schema), "mean reversion, lookback 300 events", "--name", "fade",
                    "--write"])
    assert written.exit_code == 0, written.output
    after = schema.read_text()
    assert after.startswith(before.split("strategies:")[0])  # comments and layout before the entry kept
    assert "# yaml-language-server" in after
    ir = compile_file(str(schema)).ir
    assert [s.name for s in ir.strategies] == ["mm", "fade"]
    again = _run(["strategy", "add", str(schema), "momentum", "--name", "fade"])
    assert again.exit_code == 1 and "HFT1362" in again.output


def test_sanity_backtest_on_data(schema: Path, tmp_path: Path) -> None:
    src = require_shared_data("binance/spot_btcusdt_20240808.gz")
    data = tmp_path / "slice.gz"
    with gzip.open(src, "rt") as f, gzip.open(data, "wt") as out:
        for i, line in enumerate(f):
            if i >= 3000:
                break
            out.write(line)
    result = _run(["strategy", "add", str(schema), "momentum, 1 bps entry", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "backtest of `mom`" in result.stderr and " fills of " in result.stderr
    assert "by position" in result.stderr  # EURUSD strategy replayed on a BTCUSDT tape: said, not hidden


def _model_env(monkeypatch: pytest.MonkeyPatch, server: LoopbackLLM) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")


def test_model_answer_is_accepted(schema: Path, server: LoopbackLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    _model_env(monkeypatch, server)
    server.play(Step(answer=MOMENTUM))
    result = _run(["strategy", "add", str(schema), "EMA crossover momentum", "--provider", "openai",
                   "--name", "trend", "--write"])
    assert result.exit_code == 0, result.output
    assert len(server.requests) == 1
    body = server.requests[0].body
    assert body["response_format"]["type"] == "json_schema"
    assert "<request>\nEMA crossover momentum\n</request>" in body["messages"][1]["content"]
    assert KEY not in result.output
    assert "trend" in [s.name for s in compile_file(str(schema)).ir.strategies]


def test_answer_failing_the_type_check_is_repaired(schema: Path, server: LoopbackLLM,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _model_env(monkeypatch, server)
    bad = dict(MOMENTUM, entry={"long": "trend_bps + margin_bps", "short": "trend_bps < -margin_bps"})
    server.play(Step(answer=bad), Step(answer=MOMENTUM))
    result = _run(["strategy", "add", str(schema), "EMA crossover momentum", "--provider", "openai",
                   "--name", "trend", "--write"])
    assert result.exit_code == 0, result.output
    assert len(server.requests) == 2
    feedback = server.requests[1].body["messages"][1]["content"]
    assert "<diagnostics>" in feedback and "error[HFT05" in feedback  # the type checker's finding went back


def test_never_clean_answer_writes_nothing(schema: Path, server: LoopbackLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    _model_env(monkeypatch, server)
    before = schema.read_text()
    bad = dict(MOMENTUM, exit="trend_bps + 1")
    server.play(*[Step(answer=dict(bad, description=f"try {i}")) for i in range(3)])
    result = _run(["strategy", "add", str(schema), "momentum", "--provider", "openai", "--repair-rounds", "2",
                   "--write"])
    assert result.exit_code == 1 and "HFT1364" in result.output
    assert len(server.requests) == 3
    assert schema.read_text() == before
