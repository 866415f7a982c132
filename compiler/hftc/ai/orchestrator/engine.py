"""`AIAutomationOrchestrator`: runs the phases in order into a run folder, skipping on resume
those whose manifest is complete and whose inputs are unchanged, and stopping at the first failure.

The seed's async methods (`run_learning_phase`, ...) run one or two phases each, so
the seed's example works as written; `run` drives the whole workflow for `hftc auto`.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from hftc.ai.orchestrator.manifest import PHASES, RunFolder, digest, write_json
from hftc.ai.orchestrator.phases import PHASE_FUNCS, Context, PhaseError
from hftc.ai.orchestrator.workflow import Settings, WorkflowError, load_settings

SEED_REQUEST = ("Create a market-making strategy for EUR/USD with 100ns latency target, deploy to NY4 colocation, "
                "and monitor performance in real-time")


class AutoError(Exception):
    """The run cannot start (HFT1370) or a phase failed (HFT1371); diagnostics say why when known."""

    def __init__(self, code: str, message: str, diagnostics: list | None = None, lookup: Any = None,
                 help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.help = code, message, help
        self.diagnostics, self.lookup = diagnostics or [], lookup


def default_run_dir(request: str) -> Path:
    slug = "-".join(re.findall(r"[a-z0-9]+", request.lower())[:5])[:40] or "run"
    return Path("hftc-runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"


class AIAutomationOrchestrator:
    """The whole workflow: learn, generate, build, optimise, deploy, monitor, report."""

    def __init__(self, request: str = SEED_REQUEST, data: Iterable[Path | str] = (), config: Path | str | None = None,
                 run_dir: Path | str | None = None, settings: Settings | None = None, env: dict[str, str] | None = None,
                 ai_config: Any = None, approve_deploy: bool = False,
                 progress: Callable[[str], None] | None = None,
                 between: Callable[[str, dict[str, Any], "AIAutomationOrchestrator"], str | None] | None = None):
        try:
            self.settings = settings or load_settings(Path(config) if config else None, env)
        except WorkflowError as exc:
            raise AutoError("HFT1370", str(exc)) from None
        data = [Path(d) for d in data]
        for d in data:
            if not d.is_file():
                raise AutoError("HFT1370", f"{d}: no such data file", help="check the paths given to --data")
        self.folder = RunFolder(Path(run_dir) if run_dir else default_run_dir(request))
        self.config_path = str(Path(config).resolve()) if config else None
        self.approve_flag = approve_deploy
        self.between = between
        self.ctx = Context(self.folder, request, data, self.settings, approve_deploy=self._approve,
                           approve_flag=approve_deploy, progress=progress or (lambda _m: None),
                           ai_config=ai_config)
        self.manifests: dict[str, dict[str, Any]] = {}

    @classmethod
    def resume(cls, run_dir: Path | str, **kwargs: Any) -> "AIAutomationOrchestrator":
        """The orchestrator of an earlier run, with its request, data and workflow file."""
        folder = RunFolder(Path(run_dir))
        info = folder.run_info()
        if info is None:
            raise AutoError("HFT1370", f"{run_dir} is not a run folder (no readable run.json)",
                            help="pass the folder an earlier `hftc auto` printed")
        kwargs.setdefault("request", info["request"])
        kwargs.setdefault("data", info.get("data") or [])
        if kwargs.get("config") is None:
            kwargs["config"] = info.get("workflow")
        orch = cls(run_dir=run_dir, **kwargs)
        orch.ctx.params = dict(info.get("params") or {})
        orch.ctx.topics = list(info.get("topics") or [])
        orch.ctx.deployment_prompt = info.get("deployment_prompt")
        return orch

    # --- state ---------------------------------------------------------------------------------------------

    @property
    def request(self) -> str:
        return self.ctx.request

    @request.setter
    def request(self, text: str) -> None:
        self.ctx.request = text
        self._save_run_info()

    def set_param(self, name: str, value: float) -> None:
        self.ctx.params[name] = value
        self._save_run_info()

    def _save_run_info(self) -> None:
        old = self.folder.run_info() or {}
        write_json(self.folder.root / "run.json", {
            "request": self.ctx.request, "data": [str(p.resolve()) for p in self.ctx.data],
            "workflow": self.config_path, "params": self.ctx.params, "topics": self.ctx.topics,
            "deployment_prompt": self.ctx.deployment_prompt, "settings": self.settings.to_json(),
            "created": old.get("created", time.time())})

    def _approve(self, info: dict[str, Any]) -> bool:
        """Deployment is applied only with explicit approval: `auto_deploy: true` and the approve flag,
        or a yes from the interactive session (through `between`). Never from the request's text."""
        if self.between is not None:
            return self.between("approve", info, self) == "yes"
        return bool(self.settings.auto_deploy and self.approve_flag)

    # --- phases --------------------------------------------------------------------------------------------

    def run_phase(self, phase: str, resume: bool = True) -> dict[str, Any]:
        """Run one phase (or skip it when resuming and it is done); raises AutoError on failure."""
        inputs_of, body = PHASE_FUNCS[phase]
        self.folder.root.mkdir(parents=True, exist_ok=True)
        if self.folder.run_info() is None:
            self._save_run_info()
        inputs = inputs_of(self.ctx)
        inputs_hash = digest(inputs)
        if resume and self.folder.done(phase, inputs_hash):
            manifest = dict(self.folder.manifest(phase) or {})
            manifest["resumed"] = True
            self.manifests[phase] = manifest
            self.ctx.progress(f"{phase}: done in an earlier run, inputs unchanged; skipped")
            return manifest
        out = self.folder.phase_dir(phase)
        out.mkdir(parents=True, exist_ok=True)
        started = time.time()
        try:
            result, outputs = body(self.ctx, out)
        except PhaseError as exc:
            self.manifests[phase] = self.folder.record(phase, "failed", inputs_hash, inputs, [], started,
                                                       error=str(exc))
            raise AutoError("HFT1371", f"phase `{phase}` failed: {exc}", exc.diagnostics, exc.lookup,
                            help=f"fix the cause and continue with `hftc auto --resume {self.folder.root}`") from None
        except Exception as exc:
            from hftc.backtest.errors import BacktestError

            if not isinstance(exc, (BacktestError, OSError)):
                raise
            diags = [exc.diagnostic()] if isinstance(exc, BacktestError) else []
            message = exc.message if isinstance(exc, BacktestError) else f"{exc.strerror or exc}"
            self.manifests[phase] = self.folder.record(phase, "failed", inputs_hash, inputs, [], started,
                                                       error=message)
            raise AutoError("HFT1371", f"phase `{phase}` failed: {message}", diags,
                            help=f"fix the cause and continue with `hftc auto --resume {self.folder.root}`") from None
        self.manifests[phase] = self.folder.record(phase, "complete", inputs_hash, inputs, outputs, started,
                                                   result=json.loads(json.dumps(result, default=str)))
        return self.manifests[phase]

    def skip_phase(self, phase: str, reason: str = "--skip") -> dict[str, Any]:
        self.folder.phase_dir(phase).mkdir(parents=True, exist_ok=True)
        self.manifests[phase] = self.folder.record(phase, "skipped", "", {}, [], time.time(), result={"reason": reason})
        self.ctx.progress(f"{phase}: skipped ({reason})")
        return self.manifests[phase]

    def planned(self, skip: Iterable[str] = ()) -> list[tuple[str, str | None]]:
        """Each phase and why it does not run (None: it runs), from --skip, the workflow and the data."""
        skip = set(skip)
        s = self.settings
        off = {"learn": "knowledge_acquisition.enabled is false" if not s.learn else None,
               "generate": "code_generation.enabled is false" if not s.generate else None,
               "build": "code_generation.enabled is false or no languages" if not s.generate or not s.targets
               else None,
               "optimize": "strategy_modeling.enabled is false" if not s.optimize else
               "no --data to backtest on" if not self.ctx.data else None,
               "monitor": "deployment.monitoring_enabled is false" if not s.monitoring else
               "no --data to replay" if not self.ctx.data else None}
        return [(p, "--skip" if p in skip else off.get(p)) for p in PHASES]

    def run(self, skip: Iterable[str] = (), resume: bool = True,
            on_phase: Callable[[str, str], None] = lambda _p, _s: None) -> dict[str, dict[str, Any]]:
        """Every phase in order; `between` (the interactive session) sees each result and may stop the run."""
        unknown = sorted(set(skip) - set(PHASES))
        if unknown:
            raise AutoError("HFT1370", f"unknown phase(s) {', '.join(unknown)} (phases: {', '.join(PHASES)})")
        self.folder.root.mkdir(parents=True, exist_ok=True)
        self._save_run_info()
        for phase, reason in self.planned(skip):
            on_phase(phase, "start")
            if reason is not None:
                self.skip_phase(phase, reason)
                on_phase(phase, "skipped")
                continue
            while True:
                manifest = self.run_phase(phase, resume)
                on_phase(phase, "resumed" if manifest.get("resumed") else "complete")
                answer = self.between(phase, manifest, self) if self.between and phase != "report" else None
                if answer == "quit":
                    return self.manifests
                if answer != "rerun":
                    break
        return self.manifests

    # --- the seed's API ------------------------------------------------------------------------------------

    async def run_learning_phase(self, topics: Iterable[str] = ()) -> dict[str, Any]:
        self.ctx.topics = list(topics)
        return self.run_phase("learn")["result"]

    async def run_code_generation_phase(self, components: Iterable[str] = ()) -> dict[str, Any]:
        """Generate the schema from the request and build its targets. The component names are kept
        in run.json; the schema's components follow from the request (feed, book, strategy, risk, gateway)."""
        self.ctx.topics = self.ctx.topics or []
        generated = self.run_phase("generate")["result"]
        built = self.run_phase("build")["result"]
        return {"schema": str(self.ctx.schema_path), "requested_components": list(components), **generated,
                "targets": built["targets"]}

    async def run_strategy_optimization_phase(self, strategies: Iterable[str] = ()) -> dict[str, Any]:
        return self.run_phase("optimize")["result"] | {"requested": list(strategies)}

    async def run_deployment_phase(self, prompt: str | None = None) -> dict[str, Any]:
        self.ctx.deployment_prompt = prompt
        return self.run_phase("deploy")["result"]

    async def start_monitoring_phase(self) -> dict[str, Any]:
        monitored = self.run_phase("monitor")["result"]
        self.run_phase("report")
        return monitored

    async def generate_performance_report(self) -> Path:
        self.run_phase("report")
        return self.folder.phase_dir("report") / "report.md"
