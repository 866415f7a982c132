"""The seed's workflow file (`automation:` keys) and environment variables, read into `Settings`.

Each key and variable is either honoured (it changes what a phase does) or
ignored with a note saying why; the notes are printed and kept in run.json.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LANGUAGE_TARGETS = {"cpp20": "cpp", "cpp": "cpp", "c++": "cpp", "python311": "python", "python": "python",
                    "rust": "rust"}
SAMPLERS = {"bayesian": "tpe", "tpe": "tpe", "random": "random", "grid": "random", "nsga2": "nsga2",
            "cmaes": "cmaes"}
KNOWN = {
    "knowledge_acquisition": {"enabled", "sources", "update_interval_hours"},
    "code_generation": {"enabled", "languages", "optimization_level"},
    "strategy_modeling": {"enabled", "optimization_method", "backtest_period_days", "trials", "seed"},
    "deployment": {"auto_deploy", "environment", "monitoring_enabled"},
    "monitoring": {"update_interval_ms", "alert_channels", "auto_optimization", "duration_s", "engine_seconds"},
}
ENV_VARS = ("LATENCY_TARGET_NS", "THROUGHPUT_TARGET_OPS", "AUTO_OPTIMIZATION_ENABLED", "PROMETHEUS_URL",
            "GRAFANA_URL", "KUBERNETES_NAMESPACE", "AWS_REGION")
MAX_TRIALS = 200


class WorkflowError(ValueError):
    """The workflow file cannot be used."""


@dataclass
class Settings:
    learn: bool = True
    sources: list[str] = field(default_factory=list)
    generate: bool = True
    targets: list[str] = field(default_factory=lambda: ["cpp", "python", "rust"])
    optimize: bool = True
    auto_optimization: bool = True
    sampler: str = "tpe"
    trials: int = 8
    seed: int = 7
    auto_deploy: bool = False
    environment: str | None = None
    monitoring: bool = True
    interval_ms: int = 100
    monitor_seconds: float = 300.0
    engine_seconds: int = 5
    latency_target_ns: int | None = None
    throughput_ops: int | None = None
    kubernetes_namespace: str | None = None
    aws_region: str | None = None
    prometheus_url: str | None = None
    grafana_url: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return value.strip().lower() in ("1", "true", "yes", "on")
    raise WorkflowError(f"{where} must be true or false, not {value!r}")


def _int(value: Any, where: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise WorkflowError(f"{where} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise WorkflowError(f"{where} must be between {low} and {high}, not {number}")
    return number


def load_settings(path: Path | None, env: dict[str, str] | None = None) -> Settings:
    """Settings from the workflow file (if any) and the environment; WorkflowError on bad values."""
    env = dict(os.environ) if env is None else env
    s = Settings()
    data: dict[str, Any] = {}
    if path is not None:
        from ruamel.yaml import YAML, YAMLError

        try:
            loaded = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, YAMLError) as exc:
            raise WorkflowError(f"cannot read workflow file {path}: {exc}") from None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("automation", {}), dict):
            raise WorkflowError(f"{path}: the workflow file must be a mapping with an `automation:` mapping")
        data = loaded.get("automation") or {}
        unknown = sorted(set(data) - set(KNOWN))
        if unknown:
            raise WorkflowError(f"{path}: unknown section(s) automation.{', automation.'.join(unknown)} "
                                f"(known: {', '.join(KNOWN)})")
        for section, keys in KNOWN.items():
            value = data.get(section) or {}
            if not isinstance(value, dict):
                raise WorkflowError(f"{path}: automation.{section} must be a mapping")
            extra = sorted(set(value) - keys)
            if extra:
                raise WorkflowError(f"{path}: unknown key(s) {', '.join(f'automation.{section}.{k}' for k in extra)}"
                                    f" (known: {', '.join(sorted(keys))})")
    _apply_file(s, data)
    _apply_env(s, env)
    return s


def _apply_file(s: Settings, data: dict[str, Any]) -> None:
    note = s.notes.append
    ka = data.get("knowledge_acquisition") or {}
    if "enabled" in ka:
        s.learn = _bool(ka["enabled"], "automation.knowledge_acquisition.enabled")
    for src in ka.get("sources") or []:
        if Path(str(src)).exists():
            s.sources.append(str(src))
        else:
            note(f"knowledge_acquisition.sources `{src}` ignored: hftc does not fetch from the network; list local "
                 "Markdown, text or PDF files or folders to add them to the knowledge base")
    if "update_interval_hours" in ka:
        note("knowledge_acquisition.update_interval_hours ignored: a run learns once; schedule `hftc auto` to repeat")
    cg = data.get("code_generation") or {}
    if "enabled" in cg:
        s.generate = _bool(cg["enabled"], "automation.code_generation.enabled")
    if "languages" in cg:
        targets = []
        for lang in cg["languages"] or []:
            t = LANGUAGE_TARGETS.get(str(lang).lower())
            if t is None:
                raise WorkflowError(f"automation.code_generation.languages: `{lang}` is not one of "
                                    f"{', '.join(LANGUAGE_TARGETS)}")
            targets.append(t)
        s.targets = list(dict.fromkeys(targets))
    if "optimization_level" in cg:
        note(f"code_generation.optimization_level `{cg['optimization_level']}` ignored: generated code is always "
             "built for latency (Release flags are chosen by the generated CMake/Cargo files)")
    sm = data.get("strategy_modeling") or {}
    if "enabled" in sm:
        s.optimize = _bool(sm["enabled"], "automation.strategy_modeling.enabled")
    if "optimization_method" in sm:
        method = str(sm["optimization_method"]).lower()
        if method not in SAMPLERS:
            raise WorkflowError(f"automation.strategy_modeling.optimization_method: `{method}` is not one of "
                                f"{', '.join(SAMPLERS)}")
        s.sampler = SAMPLERS[method]
    if "trials" in sm:
        s.trials = _int(sm["trials"], "automation.strategy_modeling.trials", 1, MAX_TRIALS)
    if "seed" in sm:
        s.seed = _int(sm["seed"], "automation.strategy_modeling.seed", 0, 2**31 - 1)
    if "backtest_period_days" in sm:
        note(f"strategy_modeling.backtest_period_days ({sm['backtest_period_days']}) ignored: the backtest covers "
             "the whole of the --data files given")
    dep = data.get("deployment") or {}
    if "auto_deploy" in dep:
        s.auto_deploy = _bool(dep["auto_deploy"], "automation.deployment.auto_deploy")
    if "environment" in dep:
        s.environment = str(dep["environment"])
    if "monitoring_enabled" in dep:
        s.monitoring = _bool(dep["monitoring_enabled"], "automation.deployment.monitoring_enabled")
    mon = data.get("monitoring") or {}
    if "update_interval_ms" in mon:
        s.interval_ms = _int(mon["update_interval_ms"], "automation.monitoring.update_interval_ms", 1, 3_600_000)
    if "duration_s" in mon:
        s.monitor_seconds = float(_int(mon["duration_s"], "automation.monitoring.duration_s", 1, 3600))
    if "engine_seconds" in mon:
        s.engine_seconds = _int(mon["engine_seconds"], "automation.monitoring.engine_seconds", 0, 3600)
    if "alert_channels" in mon:
        note(f"monitoring.alert_channels {list(mon['alert_channels'] or [])} ignored: alerts of a run go to its "
             "report; route live alerts with the generated Prometheus rules and your Alertmanager")
    if "auto_optimization" in mon:
        s.auto_optimization = _bool(mon["auto_optimization"], "automation.monitoring.auto_optimization")


def _apply_env(s: Settings, env: dict[str, str]) -> None:
    note = s.notes.append
    if env.get("LATENCY_TARGET_NS"):
        s.latency_target_ns = _int(env["LATENCY_TARGET_NS"], "LATENCY_TARGET_NS", 1, 10**12)
        note(f"LATENCY_TARGET_NS={s.latency_target_ns}: the pipeline's p99 target and stage budgets")
    if env.get("THROUGHPUT_TARGET_OPS"):
        s.throughput_ops = _int(env["THROUGHPUT_TARGET_OPS"], "THROUGHPUT_TARGET_OPS", 1, 10**12)
        note(f"THROUGHPUT_TARGET_OPS={s.throughput_ops}: the pipeline's throughput target (msgs/s)")
    if env.get("AUTO_OPTIMIZATION_ENABLED"):
        s.auto_optimization = _bool(env["AUTO_OPTIMIZATION_ENABLED"], "AUTO_OPTIMIZATION_ENABLED")
        note(f"AUTO_OPTIMIZATION_ENABLED={env['AUTO_OPTIMIZATION_ENABLED']}: "
             + ("parameters are optimised" if s.auto_optimization else "the strategy is backtested with its "
                                                                        "defaults, no optimisation trials"))
    if env.get("KUBERNETES_NAMESPACE"):
        s.kubernetes_namespace = env["KUBERNETES_NAMESPACE"]
        note(f"KUBERNETES_NAMESPACE={s.kubernetes_namespace}: the deployment's Kubernetes namespace")
    if env.get("AWS_REGION"):
        s.aws_region = env["AWS_REGION"]
        note(f"AWS_REGION={s.aws_region}: the region of the deployment's cloud section, when it has one")
    if env.get("PROMETHEUS_URL"):
        s.prometheus_url = env["PROMETHEUS_URL"]
        note("PROMETHEUS_URL ignored for the run's own monitoring: it evaluates the schema's alert rules "
             "in-process on the replay; the report links the generated rules for the server at this URL")
    if env.get("GRAFANA_URL"):
        s.grafana_url = env["GRAFANA_URL"]
        note("GRAFANA_URL: nothing is uploaded; the report names the generated dashboard to import there")
