"""The phases of an automation run. Each reads the run context, writes into its own folder and
returns (result, outputs); the engine records the manifest around it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hftc.ai.orchestrator.manifest import RunFolder, file_digest, write_json
from hftc.ai.orchestrator.workflow import Settings
from hftc.fileio import write_atomically

SCHEMA_FILE = "schema.hftc.yaml"
DEPLOY_TARGETS = ("k8s", "terraform", "prometheus", "grafana")


class PhaseError(RuntimeError):
    """A phase failed; `diagnostics` (when any) say why in the compiler's terms."""

    def __init__(self, message: str, diagnostics: list | None = None, lookup: Any = None):
        super().__init__(message)
        self.diagnostics = diagnostics or []
        self.lookup = lookup


@dataclass
class Context:
    """What every phase may read: the request, data, settings, edits made between phases."""

    folder: RunFolder
    request: str
    data: list[Path]
    settings: Settings
    topics: list[str] = field(default_factory=list)
    params: dict[str, float] = field(default_factory=dict)
    deployment_prompt: str | None = None
    approve_deploy: Callable[[dict[str, Any]], bool] = lambda _info: False
    approve_flag: bool = False  # --approve-deploy: part of the deploy phase's inputs, so adding it reruns deploy
    progress: Callable[[str], None] = lambda _m: None
    ai_config: Any = None

    @property
    def schema_path(self) -> Path:
        return self.folder.phase_dir("generate") / SCHEMA_FILE

    def schema_hash(self) -> str | None:
        return file_digest(self.schema_path) if self.schema_path.is_file() else None

    def data_hashes(self) -> list[str]:
        return [file_digest(p) for p in self.data]

    def compile(self):
        from hftc.diagnostics.model import has_errors
        from hftc.frontend.compile import compile_text

        if not self.schema_path.is_file():
            raise PhaseError("no schema yet: the generate phase has not run (do not skip it on a new run)")
        result = compile_text(str(self.schema_path), self.schema_path.read_text(encoding="utf-8"))
        if result.ir is None or has_errors(result.diagnostics):
            raise PhaseError(f"{self.schema_path} does not compile", list(result.diagnostics), result.sources.lookup)
        return result

    def best_params(self) -> dict[str, float]:
        """The optimiser's choice (if any) overlaid by the user's edits."""
        m = self.folder.manifest("optimize") or {}
        chosen = dict(((m.get("result") or {}).get("best_params")) or {})
        chosen.update(self.params)
        return chosen


# --- learn --------------------------------------------------------------------------------------------------

def learn_inputs(ctx: Context) -> dict[str, Any]:
    return {"request": ctx.request, "topics": ctx.topics, "sources": ctx.settings.sources}


def learn(ctx: Context, out: Path) -> tuple[dict[str, Any], list[Path]]:
    from hftc.ai.knowledge import KnowledgeBase
    from hftc.ai.knowledge.store import hits_to_json, units_to_json

    with KnowledgeBase.open() as kb:
        added = kb.add_paths([Path(s) for s in ctx.settings.sources]) if ctx.settings.sources else 0
        units = kb.curriculum(ctx.request, limit=8)
        topics = {t: hits_to_json(kb.search(t, limit=5)) for t in ctx.topics}
    lines = [f"# Curriculum for: {ctx.request.strip()}", ""]
    for i, u in enumerate(units, 1):
        lines += [f"## {i}. {u.title} (`{u.id}`)", "", u.summary, ""]
        if u.prerequisites:
            lines += ["Prerequisites: " + ", ".join(f"`{p}`" for p in u.prerequisites), ""]
        lines += ["Exercise:", "", "```sh", u.exercise, "```", ""]
    for topic, hits in topics.items():
        lines += [f"## Reading on: {topic}", ""] + [f"- `{h['id']}` {h['title']}" for h in hits] + [""]
    write_json(out / "curriculum.json", {"units": units_to_json(units), "topics": topics, "documents_added": added})
    write_atomically(str(out / "curriculum.md"), "\n".join(lines).encode("utf-8"))
    ctx.progress(f"curriculum of {len(units)} unit(s)" + (f"; {added} document(s) added" if added else ""))
    return ({"units": [u.id for u in units], "documents_added": added, "topics": list(topics)},
            [out / "curriculum.json", out / "curriculum.md"])


# --- generate -----------------------------------------------------------------------------------------------

def generate_inputs(ctx: Context) -> dict[str, Any]:
    s = ctx.settings
    provider = getattr(ctx.ai_config, "provider", None)
    return {"request": ctx.request, "latency": s.latency_target_ns, "throughput": s.throughput_ops,
            "namespace": s.kubernetes_namespace, "region": s.aws_region, "environment": s.environment,
            "provider": provider}


def _planned_document(ctx: Context):
    from hftc.ai.blueprint import build_document
    from hftc.ai.planner import plan_request

    s = ctx.settings
    plan = plan_request(ctx.request)
    if plan.problems:
        raise PhaseError("the request cannot be planned: " + "; ".join(plan.problems))
    if s.latency_target_ns is not None:
        plan.latency_target_ns = s.latency_target_ns
    if s.throughput_ops is not None:
        plan.throughput_msgs_per_s = s.throughput_ops
    if s.environment:
        plan.deployment_name = s.environment
        plan.deployment["environment"] = s.environment if s.environment in (
            "production", "staging", "development", "test") else plan.deployment.get("environment", "staging")
    document = build_document(plan)
    for entry in document.get("deployments", {}).values():
        if s.kubernetes_namespace and isinstance(entry.get("kubernetes"), dict):
            entry["kubernetes"]["namespace"] = s.kubernetes_namespace
        if s.aws_region and isinstance(entry.get("cloud"), dict):
            entry["cloud"]["region"] = s.aws_region
    return plan, document


def generate(ctx: Context, out: Path) -> tuple[dict[str, Any], list[Path]]:
    from hftc.ai.new import check_document, header_lines, model_schema

    s = ctx.settings
    overridden = any(v is not None for v in (s.latency_target_ns, s.throughput_ops, s.kubernetes_namespace,
                                             s.aws_region, s.environment))
    usage = None
    if ctx.ai_config is not None and ctx.ai_config.configured and not overridden:
        from hftc.ai.providers import ProviderError

        try:
            got = model_schema(ctx.request, str(ctx.schema_path), ctx.ai_config, offline=False,
                               progress=ctx.progress)
        except ProviderError as exc:
            raise PhaseError(f"the model did not answer: {exc}") from None
        if got.text is None:
            raise PhaseError("; ".join(got.problems) or "no lint-clean schema", got.diagnostics, got.lookup)
        text, plan, how, usage = got.text, got.plan, got.how, got.usage
    else:
        if ctx.ai_config is not None and ctx.ai_config.configured:
            ctx.progress("the planner writes the schema: LATENCY_TARGET_NS, THROUGHPUT_TARGET_OPS, "
                         "KUBERNETES_NAMESPACE, AWS_REGION or deployment.environment override what it reads")
        plan, document = _planned_document(ctx)
        candidate = check_document(document, str(ctx.schema_path), header_lines(ctx.request, "offline planner"))
        if not candidate.clean:
            raise PhaseError("the planned schema is not lint-clean", candidate.diagnostics, candidate.lookup)
        text, how = candidate.text, "offline planner"
    write_atomically(str(ctx.schema_path), text.encode("utf-8"))
    write_json(out / "plan.json", plan.to_json())
    ctx.progress(f"schema {ctx.schema_path.name} ({how}; lint-clean)")
    return ({"how": how, "plan": {k: plan.to_json()[k] for k in ("instruments", "venue", "strategy",
                                                                 "latency_target_ns")},
             "unmapped": [u.text for u in plan.unmapped], "assumptions": plan.assumptions,
             "usage": usage.to_json() if usage else None},
            [ctx.schema_path, out / "plan.json"])


# --- build --------------------------------------------------------------------------------------------------

def build_inputs(ctx: Context) -> dict[str, Any]:
    return {"schema": ctx.schema_hash(), "targets": ctx.settings.targets}


def build(ctx: Context, out: Path) -> tuple[dict[str, Any], list[Path]]:
    from hftc.diagnostics.model import has_errors
    from hftc.driver.build import build as run_build

    result = ctx.compile()
    gen = out / "generated"
    report = run_build(result.ir, list(ctx.settings.targets), str(gen))
    if has_errors(report.diagnostics):
        raise PhaseError("code generation failed", report.diagnostics, result.sources.lookup)
    files = {o.target: len(o.files) for o in report.outputs}
    ctx.progress("generated " + ", ".join(f"{t} ({n} files)" for t, n in files.items()))
    return {"targets": files}, [gen]


# --- optimize -----------------------------------------------------------------------------------------------

def optimize_inputs(ctx: Context) -> dict[str, Any]:
    s = ctx.settings
    return {"schema": ctx.schema_hash(), "data": ctx.data_hashes(), "trials": s.trials, "sampler": s.sampler,
            "seed": s.seed, "auto": s.auto_optimization, "params": ctx.params}


def _tape(ctx: Context) -> Path:
    from hftc.backtest.inputs import resolve_tape

    if not ctx.data:
        raise PhaseError("no market data: pass --data FILE (a .hftt tape or a capture) or skip this phase")
    return resolve_tape(ctx.data, ctx.progress)


def _figures(summary: dict[str, Any]) -> dict[str, Any]:
    keys = ("events", "fills", "orders", "pnl", "sharpe", "max_drawdown", "fill_ratio", "turnover")
    return {k: summary.get(k) for k in keys}


def optimize(ctx: Context, out: Path) -> tuple[dict[str, Any], list[Path]]:
    from hftc.backtest import BacktestError, BacktestOptions, compile_strategy
    from hftc.optimize.run import OptimizeRequest
    from hftc.optimize.run import optimize as run_optimize
    from hftc.optimize.study import OptimizeError

    result = ctx.compile()
    ir = result.ir
    if not ir.strategies:
        raise PhaseError("the schema has no strategy to backtest")
    name = ir.strategies[0].name
    try:
        tape = _tape(ctx)
        strategy = compile_strategy(ir, name)
        # The generated strategy names the request's instruments; the data may hold others. Map
        # them by position explicitly (and say so below) rather than refuse the run.
        options = BacktestOptions(instrument_map=None if strategy.names_on(tape) else "position")
        base = strategy.run(tape, ctx.params, options)
    except BacktestError as exc:
        raise PhaseError(f"backtest of `{name}` failed", [exc.diagnostic()]) from None
    data = {"strategy": name, "tape": str(tape), "instrument_map": base.summary.get("instrument_map"),
            "instrument_map_how": base.summary.get("instrument_map_how"), "baseline": _figures(base.summary),
            "baseline_params": base.summary.get("params"), "best_params": None, "trials": 0, "notes": []}
    ctx.progress(f"baseline backtest of `{name}`: {data['baseline']['fills']} fills, PnL {data['baseline']['pnl']:.6g}")
    if options.instrument_map == "position":
        ctx.progress(f"note: the data holds other instruments; mapped by position {data['instrument_map']} "
                     "(sizes and PnL are in the data's units)")
    outputs = [out / "backtest.json"]
    if ctx.settings.auto_optimization and ctx.settings.optimize:
        study = out / "study"
        request = OptimizeRequest(name, str(tape), str(study), trials=ctx.settings.trials, seed=ctx.settings.seed,
                                  sampler=ctx.settings.sampler, options=options)
        try:
            report, _notes = run_optimize(ir, request, on_trial=lambda _t: None)
            chosen = report.outcome.chosen
            data["trials"] = len(report.outcome.trials)
            data["best_params"] = dict(chosen.params)
            data["best_metrics"] = dict(chosen.metrics)
            ctx.progress(f"{data['trials']} trial(s); best {data['best_params']}")
        except OptimizeError as exc:
            diags = getattr(exc, "diagnostics", [])
            if not any(d.code == "HFT1219" for d in diags):
                raise PhaseError("optimisation failed", diags) from None
            if exc.report is not None:
                data["trials"] = len(exc.report.outcome.trials)
                if exc.report.activity_line():
                    data["notes"].append(exc.report.activity_line())
            data["notes"].append("no trial met every constraint; the strategy keeps its default parameters")
        outputs.append(study)
    else:
        data["notes"].append("optimisation off (AUTO_OPTIMIZATION_ENABLED / auto_optimization / strategy_modeling); "
                             "backtested with the defaults")
    write_json(out / "backtest.json", data)
    return data, outputs


# --- deploy -------------------------------------------------------------------------------------------------

def deploy_inputs(ctx: Context) -> dict[str, Any]:
    return {"schema": ctx.schema_hash(), "prompt": ctx.deployment_prompt, "auto_deploy": ctx.settings.auto_deploy,
            "approve": ctx.approve_flag}


def _apply_prompt(ctx: Context) -> str | None:
    """The seed's deployment prompt, read by the rule parser into the schema's deployment entry."""
    from hftc.deploy.prompt import DeploymentConfig
    from hftc.deploy.schema_edit import edit_schema_text, existing_entry, write_validated

    if not ctx.deployment_prompt:
        return None
    config = DeploymentConfig.from_prompt(ctx.deployment_prompt)
    stated = config.to_dict()
    text = ctx.schema_path.read_text(encoding="utf-8")
    ir = ctx.compile().ir
    # What the prompt states, over the generated deployment (nodes, image... it leaves out).
    first = ir.deployments[0].name if ir.deployments else None
    entry = dict(existing_entry(text, first) or {}) if first else {}
    for key, value in stated.items():
        entry[key] = {**entry[key], **value} if isinstance(value, dict) and isinstance(entry.get(key), dict) else value
    environment = str(entry.get("environment", "production"))
    name = ctx.settings.environment or {"production": "prod", "development": "dev"}.get(environment, environment)
    if ir.pipelines:
        entry.setdefault("pipeline", ir.pipelines[0].name)
    written = write_validated(str(ctx.schema_path), edit_schema_text(text, name, entry))
    if not written.written:
        raise PhaseError("the deployment prompt gives an entry that does not compile", written.diagnostics,
                         written.sources.lookup if written.sources else None)
    return name


def deploy(ctx: Context, out: Path) -> tuple[dict[str, Any], list[Path]]:
    from hftc.diagnostics.model import has_errors
    from hftc.driver.build import build as run_build

    edited = _apply_prompt(ctx)
    result = ctx.compile()
    ir = result.ir
    files = out / "files"
    report = run_build(ir, list(DEPLOY_TARGETS), str(files))
    if has_errors(report.diagnostics):
        raise PhaseError("deployment files could not be generated", report.diagnostics, result.sources.lookup)
    deployments = [d.name for d in ir.deployments]
    info = {"deployments": deployments, "files": str(files.relative_to(ctx.folder.root)),
            "auto_deploy": ctx.settings.auto_deploy, "edited_from_prompt": edited}
    approved = bool(ctx.approve_deploy(info))
    info["approved"] = approved
    info["applied"] = False
    if approved and deployments:
        from hftc.deploy.apply import ApplyError, apply_manifests, build_manifests, connect

        objects, diags = build_manifests(ir, deployments[0])
        if has_errors(diags):
            raise PhaseError("the Kubernetes objects could not be built", diags, result.sources.lookup)
        try:
            applied = apply_manifests(objects, connect(), dry_run=False)
        except ApplyError as exc:
            raise PhaseError(f"applying to the cluster failed: {exc}") from None
        info["applied"] = True
        info["apply_report"] = str(applied)
    write_json(out / "deployment.json", info)
    ctx.progress(("applied" if info["applied"] else "written, not applied (needs approval)")
                 + f": {', '.join(DEPLOY_TARGETS)}")
    return info, [files, out / "deployment.json"]


# --- monitor ------------------------------------------------------------------------------------------------

def monitor_inputs(ctx: Context) -> dict[str, Any]:
    return {"schema": ctx.schema_hash(), "data": ctx.data_hashes(), "params": ctx.best_params(),
            "interval_ms": ctx.settings.interval_ms, "seconds": ctx.settings.monitor_seconds,
            "engine_seconds": ctx.settings.engine_seconds}


def monitor(ctx: Context, out: Path) -> tuple[dict[str, Any], list[Path]]:
    """Replay the data through the strategy with the chosen parameters, feeding the schema's alert
    rules the values the replay yields, on the tape's clock."""
    from hftc.backtest import BacktestError, BacktestOptions, compile_strategy
    from hftc.monitor.alerts import AlertManager, rules_from_schema

    result = ctx.compile()
    ir = result.ir
    name = ir.strategies[0].name
    tape = _tape(ctx)
    params = ctx.best_params()
    step_ns = ctx.settings.interval_ms * 1_000_000
    try:
        strategy = compile_strategy(ir, name)
        first = strategy.run(tape, params, BacktestOptions(
            sample_ns=step_ns, instrument_map=None if strategy.names_on(tape) else "position"))
    except BacktestError as exc:
        raise PhaseError(f"replay of `{name}` failed", [exc.diagnostic()]) from None
    equity = first.equity
    start = int(equity["ts"][0]) if len(equity) else 0
    bound = start + int(ctx.settings.monitor_seconds * 1e9)
    rows = equity[equity["ts"] <= bound] if len(equity) else equity
    events: list[dict[str, Any]] = []
    manager = AlertManager(clock=lambda: 0.0)
    rules, unsupported = rules_from_schema(ir.monitoring, callback=events.append)
    for rule in rules:
        manager.add_alert_rule(rule)
    fed = {"pnl"}
    for row in rows:
        manager.evaluate({"pnl": float(row["pnl"])}, now=int(row["ts"]) / 1e9)
    statuses = [s.to_json() for s in manager.statuses()]
    not_fed = [r.name for r in rules if r.metric not in fed]
    lines = ["ts_ns,pnl,equity,position0,mid0"] + [
        f"{int(r['ts'])},{r['pnl']:.6f},{r['equity']:.6f},{int(r['position0'])},{r['mid0']:.6f}" for r in rows]
    write_atomically(str(out / "timeline.csv"), ("\n".join(lines) + "\n").encode())
    data = {"strategy": name, "params": params, "samples": int(len(rows)), "interval_ms": ctx.settings.interval_ms,
            "replayed_seconds": round((int(rows["ts"][-1]) - start) / 1e9, 3) if len(rows) else 0.0,
            "alerts": statuses, "alert_events": events,
            "not_evaluated": [{"name": n, "reason": "the replay yields no value for its metric (only pnl); the "
                               "engine's exporter feeds it in production"} for n in not_fed]
            + [u.to_json() for u in unsupported],
            "final_pnl": float(rows["pnl"][-1]) if len(rows) else 0.0}
    outputs = [out / "timeline.csv", out / "alerts.json"]
    if ctx.settings.engine_seconds > 0:
        data["engine"] = _engine(ctx, result, rules_from_schema(ir.monitoring)[0], out)
        if data["engine"].get("alerts"):
            fed_by_engine = {a["name"] for a in data["engine"]["alerts"] if a.get("value") is not None}
            data["not_evaluated"] = [n for n in data["not_evaluated"] if n["name"] not in fed_by_engine]
            outputs.append(out / "engine")
    write_json(out / "alerts.json", data)
    firing = [s["name"] for s in statuses if s["state"] == "firing"]
    ctx.progress(f"replayed {data['replayed_seconds']} s in {data['samples']} samples; "
                 + (f"firing: {', '.join(firing)}" if firing else "no alert firing"))
    return {k: v for k, v in data.items() if k != "alert_events"} | {"events": len(events)}, outputs


def _engine(ctx: Context, compiled, rules: list, out: Path) -> dict[str, Any]:
    """The generated engine for `engine_seconds` under the alert rules; what could not run is said."""
    from hftc.ai.orchestrator.engine_run import EngineRunError, build_engine, missing_tools, run_engine
    from hftc.diagnostics.model import has_errors
    from hftc.driver.build import build as run_build

    missing = missing_tools()
    if missing:
        return {"ran": False, "reason": f"not run: {', '.join(missing)} not installed"}
    src = out / "engine-src"
    report = run_build(compiled.ir, ["cpp"], str(src))
    if has_errors(report.diagnostics):
        raise PhaseError("the engine's C++ could not be generated", report.diagnostics, compiled.sources.lookup)
    try:
        exe = build_engine(src / "cpp", ctx.progress)
        ctx.progress(f"running the engine for {ctx.settings.engine_seconds} s under the alert rules")
        got = run_engine(exe, float(ctx.settings.engine_seconds), ctx.settings.interval_ms / 1000, rules,
                         out / "engine")
    except EngineRunError as exc:
        raise PhaseError(f"engine run failed: {exc}") from None
    return {"ran": True, "binary": exe.name, **got}


def report_inputs(ctx: Context) -> dict[str, Any]:
    from hftc.ai.orchestrator.manifest import PHASES

    return {p: (ctx.folder.manifest(p) or {}).get("inputs_hash") for p in PHASES if p != "report"}


def report(ctx: Context, out: Path) -> tuple[dict[str, Any], list[Path]]:
    from hftc.ai.orchestrator.report import write_report

    paths = write_report(ctx.folder, ctx.request, ctx.settings, out)
    ctx.progress(f"report {paths[0].relative_to(ctx.folder.root)}")
    return {"files": [str(p.relative_to(ctx.folder.root)) for p in paths]}, paths


PHASE_FUNCS: dict[str, tuple[Callable, Callable]] = {
    "learn": (learn_inputs, learn), "generate": (generate_inputs, generate), "build": (build_inputs, build),
    "optimize": (optimize_inputs, optimize), "deploy": (deploy_inputs, deploy), "monitor": (monitor_inputs, monitor),
    "report": (report_inputs, report),
}


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
