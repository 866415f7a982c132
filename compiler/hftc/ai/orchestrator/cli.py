"""The `hftc auto` command; imports only typer at load so `hftc --help` stays fast."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from hftc.ai.cli import Format, _emit, _fail


def auto_cmd(
    request: Optional[str] = typer.Argument(None, help="What to build, in plain English; `-` reads stdin "
                                            "(optional with --resume)."),
    data: Optional[List[Path]] = typer.Option(None, "--data", "-d", help="Market data for the backtest, optimisation "
                                              "and replay (a .hftt tape or captures; repeatable)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Workflow file (the seed's `automation:` keys)."),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Show each phase's result; edit the "
                                     "request, parameters or schema between phases; ask before deploying."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Run folder of an earlier run: phases whose "
                                          "manifest is complete and whose inputs are unchanged are skipped."),
    skip: Optional[List[str]] = typer.Option(None, "--skip", help="Phase to skip (repeatable): learn, generate, "
                                             "build, optimize, deploy, monitor, report."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Run folder (default: ./hftc-runs/<time>-<words>)."),
    approve_deploy: bool = typer.Option(False, "--approve-deploy", help="With `auto_deploy: true` in the workflow "
                                        "file: apply the deployment to the cluster of the current kubeconfig."),
    error_format: Format = typer.Option(Format.text, "--error-format", help="Diagnostics as text, json or github."),
) -> None:
    """Run the whole workflow from a request: learn, generate the schema, build, backtest and
    optimise, write deployment files, replay under the schema's alert rules, report."""
    from rich.console import Console

    from hftc.ai.config import ConfigError, load_config
    from hftc.ai.orchestrator.engine import AIAutomationOrchestrator, AutoError

    fmt = error_format.value
    console = Console(stderr=True, highlight=False)
    text = sys.stdin.read() if request == "-" else request
    if resume is None and not (text or "").strip():
        raise _fail("HFT1307", "the request is empty", fmt, exit_code=2,
                    help='say what to build, e.g. hftc auto "market making on BTC/USDT, 1us target" --data day.gz')
    try:
        ai_config = load_config()
        ai_config = ai_config.resolved() if ai_config.configured else ai_config
    except ConfigError as exc:
        raise _fail("HFT1301", str(exc), fmt, exit_code=2)
    progress = (lambda m: console.print(f"  [dim]{m}[/dim]")) if fmt == "text" else (lambda _m: None)
    between = None
    if interactive:
        from hftc.ai.orchestrator.interactive import Session

        between = Session().between
    started = time.monotonic()
    kwargs = dict(config=config, ai_config=ai_config, approve_deploy=approve_deploy, progress=progress,
                  between=between)
    try:
        if resume is not None:
            extra = {"request": text} if (text or "").strip() else {}
            if data:
                extra["data"] = data
            orch = AIAutomationOrchestrator.resume(resume, **extra, **kwargs)
        else:
            orch = AIAutomationOrchestrator(text or "", data or [], run_dir=run_dir, **kwargs)
        if fmt == "text":
            console.print(f"run folder: {orch.folder.root}")
            for note in orch.settings.notes:
                console.print(f"note: {note}")

        def on_phase(phase: str, state: str) -> None:
            if fmt != "text":
                return
            if state == "start":
                console.rule(f"[bold]{phase}", align="left")
            else:
                m = orch.manifests.get(phase, {})
                shown = {"complete": "[green]done", "resumed": "[cyan]done earlier", "skipped": "[yellow]skipped"}
                console.print(f"{shown.get(state, state)}[/] {phase}" + (f" ({m.get('seconds', 0):.1f} s)"
                                                                        if state == "complete" else ""))

        if fmt == "text":
            with console.status("running", spinner="dots"):
                manifests = orch.run(skip or [], resume=resume is not None, on_phase=on_phase)
        else:
            manifests = orch.run(skip or [], resume=resume is not None, on_phase=on_phase)
    except AutoError as exc:
        _emit(exc.diagnostics, exc.lookup, fmt)
        raise _fail(exc.code, exc.message, fmt, help=exc.help)
    seconds = time.monotonic() - started
    report = orch.folder.phase_dir("report") / "report.md"
    if fmt == "text":
        console.print(f"finished in {seconds:.1f} s; report: {report}" if report.is_file()
                      else f"finished in {seconds:.1f} s")
    else:
        import json

        print(json.dumps({"run_dir": str(orch.folder.root), "seconds": round(seconds, 3),
                          "phases": {p: m.get("status") for p, m in manifests.items()}}, indent=2))
