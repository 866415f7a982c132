"""`hftc auto --interactive`: a prompt_toolkit session driven through a pipe with real answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from hftc.ai.orchestrator import AIAutomationOrchestrator
from hftc.ai.orchestrator.engine import SEED_REQUEST
from hftc.ai.orchestrator.interactive import Session
from hftc.frontend import compile_file


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list:
    for name in ("HFTC_AI_PROVIDER", "LATENCY_TARGET_NS", "KUBERNETES_NAMESPACE", "AUTO_OPTIMIZATION_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HFTC_AI_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("HFTC_KNOWLEDGE_DB", str(tmp_path / "kb.sqlite"))
    calls: list = []
    monkeypatch.setattr("hftc.deploy.apply.connect", lambda *a, **k: calls.append("connect") or object())
    monkeypatch.setattr("hftc.deploy.apply.apply_manifests",
                        lambda objects, client, dry_run=True: calls.append(("apply", dry_run)) or "ok")
    return calls


def _run(tmp_path: Path, answers: str) -> tuple[AIAutomationOrchestrator, Session]:
    with create_pipe_input() as pipe:
        pipe.send_text(answers)
        session = Session(input=pipe, output=DummyOutput())
        orch = AIAutomationOrchestrator(SEED_REQUEST, [], run_dir=tmp_path / "run", between=session.between)
        orch.run(skip=["build"])
    return orch, session


def test_edit_request_and_schema_then_refuse_deploy(tmp_path: Path, _isolated: list) -> None:
    replacement = tmp_path / "mine.hftc.yaml"
    answers = "\n".join([
        "",  # learn: continue
        "show",  # generate: show the result, then change the request: generate runs again
        "request Create a market-making strategy for BTC/USDT with 2us latency target, deploy to NY4",
        "help",  # the second generate result: an unknown word lists the commands
        f"schema {tmp_path / 'missing.yaml'}",
        f"schema {replacement}",
        "",
        "no",  # deploy: do not apply
        "",  # deploy result: continue
        "",  # monitor (skipped without data: no question)
    ]) + "\n"
    orch, session = _run_with_replacement(tmp_path, answers, replacement)
    text = "\n".join(session.log)
    assert "generate: complete" in text and "request changed" in text
    assert "commands: continue" in text and "cannot read" in text and "schema replaced" in text
    schema = orch.ctx.schema_path.read_text()
    assert "replaced by hand" in schema
    ir = compile_file(str(orch.ctx.schema_path)).ir
    assert ir.strategies[0].instruments == ("BTCUSDT",)
    assert orch.manifests["deploy"]["result"]["applied"] is False
    assert _isolated == []
    assert orch.manifests["report"]["status"] == "complete"


def _run_with_replacement(tmp_path: Path, answers: str, replacement: Path):
    # The replacement is the schema generated for the edited request, with a comment of the user's.
    from hftc.ai.orchestrator.phases import _planned_document
    from hftc.ai.new import check_document

    probe = AIAutomationOrchestrator("Create a market-making strategy for BTC/USDT with 2us latency target, "
                                     "deploy to NY4", [], run_dir=tmp_path / "probe")
    _plan, document = _planned_document(probe.ctx)
    replacement.write_text(check_document(document, str(replacement), ["replaced by hand"]).text)
    return _run(tmp_path, answers)


def test_yes_applies_and_quit_stops(tmp_path: Path, _isolated: list) -> None:
    orch, session = _run(tmp_path, "\n\nyes\nquit\n")
    assert orch.manifests["deploy"]["result"]["applied"] is True
    assert _isolated[0] == "connect" and _isolated[1] == ("apply", False)
    assert "monitor" not in orch.manifests and "report" not in orch.manifests  # stopped after deploy
    assert any("--resume" in line for line in session.log)
