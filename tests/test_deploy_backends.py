"""The deployment targets (k8s, terraform, prometheus, grafana) against the ecosystem's own validators.

Tools and what happens when one is missing:

* `kubernetes-validate` (pip): every built-in kind is validated `--strict` against
  Kubernetes PINNED_K8S. Custom resources are not in its schemas; they are validated
  against the schemas in CRD_SCHEMAS below instead (PodMonitor, PrometheusRule,
  NetworkAttachmentDefinition, PerformanceProfile, KubeletConfiguration).
* `kubectl` (its built-in kustomize) or `kustomize`: each overlay is built; without
  either, the overlay is assembled by resolving `resources:` and the namespace by hand.
* `checkov` (pip, in its own venv under .tools/ made by scripts/system-deps.sh: it needs a fork of python-hcl2 that
  shadows the real one): zero failed checks on the k8s and terraform output.
* `python-hcl2` (pip): every .tf file parses.
* `terraform`: `fmt -check` whenever the binary exists; `init -backend=false`,
  `validate` and an offline `plan` (fake credentials, a test-only provider override,
  checked through `terraform show -json`) when an AWS provider is available offline,
  from `HFTC_TF_PLUGIN_DIR` or Terraform's implicit local mirror directories.
* `promtool` (Debian package `prometheus`): `check rules` and `test rules`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import EXAMPLES, REPO
from hftc.backends.grafana import BACKEND as GRAFANA
from hftc.backends.k8s import BACKEND as K8S
from hftc.backends.k8s import cpuset, lints
from hftc.backends.prometheus import BACKEND as PROMETHEUS
from hftc.backends.prometheus import metrics
from hftc.backends.terraform import BACKEND as TERRAFORM
from hftc.diagnostics.codes import CODES
from hftc.diagnostics.model import Severity
from hftc.driver import registry
from hftc.frontend import compile_file
from hftc.ir.backend import BackendOptions
from hftc.ir.model import IR_VERSION, Alert, Monitoring

PINNED_K8S = "1.32.0"
EXAMPLE = EXAMPLES / "fx_market_maker.hftc.yaml"
TARGETS = {"k8s": K8S, "terraform": TERRAFORM, "prometheus": PROMETHEUS, "grafana": GRAFANA}
CRD_KINDS = {"PodMonitor", "PrometheusRule", "NetworkAttachmentDefinition", "PerformanceProfile",
             "KubeletConfiguration"}

# A second schema exercising the other branches: EKS node group, a non-metal instance type with
# ENA Express, a deployment without sites and one without Kubernetes, more alert forms.
VARIANT_DEPLOYMENTS = """
deployments:
  research:
    environment: research
    pipeline: tick_to_trade
    nodes: {cpu_cores: 8, memory_gb: 32, hugepages_1gi: 2, isolated_cpus: "2-9"}
    kubernetes: {namespace: hft-research, image: "registry.example/fx-mm:1.0.0", metrics_port: 9200, health_port: 9201, optimizer_workers: 8}
    cloud: {provider: aws, region: eu-west-2, instance_type: c7i.24xlarge, node_group: eks, ena_express: true, count: 3}
  backtest:
    environment: development
    nodes: {cpu_cores: 4, memory_gb: 16}
    cloud: {provider: aws, region: eu-west-2, zone: eu-west-2b, instance_type: c7i.8xlarge, placement: spread}

monitoring:
  interval_ms: 2000
  metrics_port: 9200
  alerts:
    - {name: TailLatency, expr: "latency_p999_ns > 2000", for: 500ms, severity: critical, labels: {team: fx}}
    - {name: MedianLatency, expr: "latency_p50_ns >= 300", for: 10s}
    - {name: FeedStalled, expr: "rate(messages_total[30s]) < 1", for: 5s, severity: critical}
    - {name: OrderBurst, expr: "increase(orders_total[1m]) > 5000", for: 2s}
    - {name: Rejecting, expr: "reject_rate > 2", for: 15s, annotations: {runbook: "https://runbooks.example/rejects"}}
    - {name: PositionLimit, expr: "abs(position) > 900000", for: 1s}
    - {name: Drawdown, expr: "pnl < -50000", for: 1m, severity: info, annotations: {summary: "PnL at {{ $value }}"}}
    - {name: Templated, expr: "position > 5", for: 3s, labels: {who: "{{ $labels.instance }}"}}
    - {name: Mystery, expr: "widget_count > 3", for: 5s}
"""


# -- helpers ------------------------------------------------------------------

def _generate(target: str, ir) -> tuple[dict[str, str], tuple]:
    result = TARGETS[target].generate(ir, BackendOptions())
    return {f.path: f.content for f in result.files}, result.diagnostics


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def _codes(diags) -> list[str]:
    return [d.code for d in diags]


@pytest.fixture(scope="module")
def ir():
    result = compile_file(str(EXAMPLE))
    assert not any(d.severity is Severity.ERROR for d in result.diagnostics)
    return result.ir


@pytest.fixture(scope="module")
def variant_ir(tmp_path_factory):
    root = tmp_path_factory.mktemp("variant")
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text[: text.index("deployments:")] + VARIANT_DEPLOYMENTS.lstrip("\n")
    shutil.copy(EXAMPLES / "common.hftc.yaml", root / "common.hftc.yaml")
    (root / "variant.hftc.yaml").write_text(text, encoding="utf-8")
    result = compile_file(str(root / "variant.hftc.yaml"))
    assert not any(d.severity is Severity.ERROR for d in result.diagnostics), result.diagnostics
    return result.ir


@pytest.fixture(scope="module")
def outputs(ir, variant_ir, tmp_path_factory) -> dict[str, Path]:
    """Every target for both schemas, written to disk once: `<schema>/<target>/...`."""
    root = tmp_path_factory.mktemp("deploy")
    for name, schema in (("example", ir), ("variant", variant_ir)):
        for target in TARGETS:
            _write(root / name / target, _generate(target, schema)[0])
    return {"root": root}


# -- registry, goldens, determinism --------------------------------------------

def test_targets_are_registered() -> None:
    for name, backend in TARGETS.items():
        assert registry.load_backend(name) is backend
        assert backend.name == name and IR_VERSION in backend.ir_versions


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_golden(target, ir, golden) -> None:
    files, _ = _generate(target, ir)
    golden.check_tree(target, {rel: text.encode("utf-8") for rel, text in files.items()})


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_deterministic(target, ir) -> None:
    again = compile_file(str(EXAMPLE)).ir
    assert _generate(target, ir) == _generate(target, again)
    assert _generate(target, ir)[0] == _generate(target, copy.deepcopy(ir))[0]


def test_example_diagnostics(ir) -> None:
    """The example isolates as many host CPUs as it asks for: no lints."""
    diags = [d for t in TARGETS for d in _generate(t, ir)[1]]
    assert _codes(diags) == []


def test_isolated_cpus_mismatch_is_reported(ir) -> None:
    """16 dedicated CPUs but only 14 isolated on the host: HFT0615 at the deployment."""
    d0 = ir.deployments[0]
    narrowed = dataclasses.replace(ir, deployments=(dataclasses.replace(d0, nodes=dataclasses.replace(d0.nodes, isolated_cpus="2-15")),))
    diags = [d for t in TARGETS for d in _generate(t, narrowed)[1]]
    assert _codes(diags) == ["HFT0615"]
    assert diags[0].span is not None and diags[0].span.line == d0.span.line


def test_diagnostic_codes_are_registered(ir, variant_ir) -> None:
    for schema in (ir, variant_ir):
        for target in TARGETS:
            for d in _generate(target, schema)[1]:
                assert d.code in CODES and 610 <= int(d.code[3:]) <= 639, d.code


# -- k8s ----------------------------------------------------------------------

def _k8s_docs(root: Path) -> list[tuple[str, dict]]:
    out = []
    for path in sorted(root.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out += [(str(path.relative_to(root)), d) for d in _docs(path.read_text())]
    return out


def test_k8s_layout(ir) -> None:
    files, _ = _generate("k8s", ir)
    assert "base/kustomization.yaml" in files and "overlays/prod/kustomization.yaml" in files
    assert {"overlays/prod/engine-ny4.yaml", "overlays/prod/engine-ld4.yaml"} <= set(files)
    assert {"node-tuning/prod/performance-profile.yaml", "node-tuning/prod/kubelet-config.yaml"} <= set(files)
    for kustomization in (p for p in files if p.endswith("kustomization.yaml")):
        folder = os.path.dirname(kustomization)
        for res in yaml.safe_load(files[kustomization])["resources"]:
            target = os.path.normpath(os.path.join(folder, res))
            assert target in files or f"{target}/kustomization.yaml" in files, (kustomization, res)


def test_engine_workload_encodes_low_latency_practice(ir) -> None:
    files, _ = _generate("k8s", ir)
    d = ir.deployments[0]
    for site in d.sites:
        (wl,) = _docs(files[f"overlays/prod/engine-{site.lower()}.yaml"])
        assert wl["kind"] == "Deployment" and wl["spec"]["replicas"] == 1
        assert wl["spec"]["strategy"] == {"type": "Recreate"}
        pod = wl["spec"]["template"]
        spec = pod["spec"]
        (c,) = spec["containers"]
        res = c["resources"]
        assert res["requests"] == res["limits"]
        assert res["limits"]["cpu"] == str(d.nodes.cpu_cores)
        assert res["limits"]["hugepages-1Gi"] == f"{d.nodes.hugepages_1gi}Gi"
        assert res["limits"][d.kubernetes.sriov_resource] == "1"
        assert {"name": "hugepages", "emptyDir": {"medium": "HugePages-1Gi"}} in spec["volumes"]
        ann = pod["metadata"]["annotations"]
        for key in ("cpu-load-balancing.crio.io", "cpu-quota.crio.io", "irq-load-balancing.crio.io"):
            assert ann[key] == "disable"
        networks = json.loads(ann["k8s.v1.cni.cncf.io/networks"])
        assert networks[0]["name"] == "fx-mm-prod-sriov"
        assert "IPC_LOCK" in ann["hftc.io/capabilities"] and "SYS_NICE" in ann["hftc.io/capabilities"]
        assert spec["runtimeClassName"] == d.kubernetes.runtime_class
        assert spec["nodeSelector"]["hftc.io/site"] == site
        assert spec["tolerations"][0]["key"] == "hftc.io/dedicated"
        ctx = c["securityContext"]
        assert ctx["runAsNonRoot"] and ctx["readOnlyRootFilesystem"] and not ctx["allowPrivilegeEscalation"]
        assert ctx["capabilities"] == {"drop": ["ALL"], "add": ["IPC_LOCK", "SYS_NICE"]}
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert set(c[probe]) >= {"httpGet"} and "exec" not in c[probe]
            assert c[probe]["httpGet"]["port"] == "health"
        assert "exec probes" in files[f"overlays/prod/engine-{site.lower()}.yaml"].lower() \
            or "never use exec" in files[f"overlays/prod/engine-{site.lower()}.yaml"].lower()
        secret_volumes = [v for v in spec["volumes"] if "secret" in v]
        assert secret_volumes and all("data" not in v["secret"] for v in secret_volumes)
        assert not lints.check_guaranteed(d, wl["metadata"]["name"], spec)
    assert not any(doc.get("kind") == "Secret" for p, text in files.items() if p.endswith(".yaml")
                   for doc in _docs(text))
    assert "venue-credentials" in files["README.md"] and "hftc.io/dedicated=trading:NoSchedule" in files["README.md"]


def test_supporting_resources(ir) -> None:
    files, _ = _generate("k8s", ir)
    (params,) = _docs(files["base/strategy-params.yaml"])
    mm = yaml.safe_load(params["data"]["mm.yaml"])
    assert mm["params"] == {p.name: p.default for p in ir.strategies[0].params}
    (rule,) = _docs(files["base/prometheus-rule.yaml"])
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert [a["alert"] for a in alerts] == [a.name for a in ir.monitoring.alerts]
    deny, _dns = _docs(files["base/network-policies.yaml"])
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    allow, _opt, venue = _docs(files["overlays/prod/network-policies.yaml"])
    assert allow["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 9100}]
    # The deployment's `venue:`: orders out over TCP, market data in over UDP, on their ports.
    assert venue["spec"]["egress"] == [{"ports": [{"protocol": "TCP", "port": 9000}]}]
    assert venue["spec"]["ingress"] == [{"ports": [{"protocol": "UDP", "port": 20000}]}]
    (pdb,) = _docs(files["overlays/prod/pod-disruption-budget.yaml"])
    assert pdb["spec"]["maxUnavailable"] == 0
    (monitor,) = _docs(files["overlays/prod/pod-monitor.yaml"])
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    assert endpoint["interval"] == "100ms" and endpoint["scrapeTimeout"] == "100ms"
    (job,) = _docs(files["overlays/prod/optimizer-jobs.yaml"])
    workers = ir.deployments[0].kubernetes.optimizer_workers
    assert job["spec"]["parallelism"] == job["spec"]["completions"] == workers
    vols = job["spec"]["template"]["spec"]["volumes"]
    assert any(v.get("secret", {}).get("secretName") == "fx-mm-optuna-storage" for v in vols)
    (profile,) = _docs(files["node-tuning/prod/performance-profile.yaml"])
    assert profile["metadata"]["name"] == "hft"  # RuntimeClass performance-hft
    assert profile["spec"]["cpu"] == {"isolated": "2-17", "reserved": "0-1"}
    assert profile["spec"]["hugepages"]["pages"] == [{"size": "1G", "count": 8, "node": 0}]
    (kubelet,) = _docs(files["node-tuning/prod/kubelet-config.yaml"])
    assert kubelet["cpuManagerPolicy"] == "static" and kubelet["topologyManagerPolicy"] == "single-numa-node"
    assert kubelet["reservedSystemCPUs"] == "0-1"


def test_k8s_manifests_pass_kubernetes_validate_strict(outputs) -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
    checked = crds = 0
    for schema in ("example", "variant"):
        for rel, doc in _k8s_docs(outputs["root"] / schema / "k8s"):
            if doc["kind"] in CRD_KINDS:
                # kubernetes-validate ships no schemas for custom resources: use ours.
                jsonschema.validate(doc, CRD_SCHEMAS[doc["kind"]])
                crds += 1
                continue
            kv.validate(doc, PINNED_K8S, strict=True)
            checked += 1
    assert checked >= 20 and crds >= 9


def _kustomize_cmd() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def _assemble_by_hand(folder: Path) -> list[dict]:
    """What kustomize would build from plain `resources:` and `namespace:` (no patches are used)."""
    k = yaml.safe_load((folder / "kustomization.yaml").read_text())
    docs: list[dict] = []
    for res in k["resources"]:
        path = folder / res
        docs += _assemble_by_hand(path) if path.is_dir() else _docs(path.read_text())
    for d in docs:
        if d["kind"] == "Namespace":
            d["metadata"]["name"] = k["namespace"]
        else:
            d["metadata"]["namespace"] = k["namespace"]
    return docs


@pytest.mark.parametrize("schema", ["example", "variant"])
def test_overlays_build(schema, outputs) -> None:
    root = outputs["root"] / schema / "k8s"
    cmd = _kustomize_cmd()
    overlays = sorted((root / "overlays").iterdir())
    assert overlays
    for overlay in overlays:
        if cmd:
            run = subprocess.run([*cmd, str(overlay)], check=False, capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, run.stderr
            docs = _docs(run.stdout)
        else:
            docs = _assemble_by_hand(overlay)
        (ns,) = [d for d in docs if d["kind"] == "Namespace"]
        name = ns["metadata"]["name"]
        assert all(d["metadata"].get("namespace") == name for d in docs if d["kind"] != "Namespace")
        keys = [(d["kind"], d["metadata"]["name"]) for d in docs]
        assert len(keys) == len(set(keys))
        kinds = {d["kind"] for d in docs}
        assert {"Deployment", "ConfigMap", "NetworkPolicy", "PodDisruptionBudget", "PodMonitor", "PrometheusRule",
                "Job", "ServiceAccount"} <= kinds
        # Every ConfigMap, Secret-free ServiceAccount and NAD a pod names is in the build.
        names = {(d["kind"], d["metadata"]["name"]) for d in docs}
        for d in docs:
            if d["kind"] not in ("Deployment", "Job"):
                continue
            spec = d["spec"]["template"]["spec"]
            assert ("ServiceAccount", spec["serviceAccountName"]) in names
            for v in spec["volumes"]:
                if "configMap" in v:
                    assert ("ConfigMap", v["configMap"]["name"]) in names
                if "persistentVolumeClaim" in v:
                    assert ("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"]) in names
            nets = d["spec"]["template"]["metadata"].get("annotations", {}).get("k8s.v1.cni.cncf.io/networks")
            if nets:
                for net in json.loads(nets):
                    assert ("NetworkAttachmentDefinition", net["name"]) in names


def _optimizer_job(files: dict[str, str]) -> tuple[dict, dict]:
    (job,) = _docs(files["overlays/prod/optimizer-jobs.yaml"])
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return job, container


def test_optimizer_job_runs_the_real_cli(ir) -> None:
    """The Job's arguments parse as `hftc optimize` options, once the kubelet has expanded the worker index,
    and every path they name lies in a volume of the pod."""
    import typer.main
    from hftc.cli import app

    files, diags = _generate("k8s", ir)
    job, c = _optimizer_job(files)
    assert c["command"] == ["hftc"] and c["args"][0] == "optimize"
    env = {e["name"]: e for e in c["env"]}
    index = env["HFTC_WORKER_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert index == "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    assert "$(HFTC_WORKER_INDEX)" in c["args"]
    args = [a.replace("$(HFTC_WORKER_INDEX)", "3") for a in c["args"][1:]]
    command = typer.main.get_command(app).commands["optimize"]
    params = command.make_context("optimize", args, resilient_parsing=False).params
    assert params["strategy"] == "mm" and params["seed"] == 3 and params["jobs"] == int(c["resources"]["limits"]["cpu"])
    assert params["study"] == job["metadata"]["annotations"]["hftc.io/study"] and params["trials"] >= 1
    assert params["storage"] is None and str(params["schema"]).endswith(".ir.json")
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}

    def volume_of(path) -> dict:
        (mount,) = [m for root, m in mounts.items() if str(path).startswith(root + "/")]
        return volumes[mount["name"]] | {"readOnly": mount.get("readOnly", False)}

    schema_volume = volume_of(params["schema"])
    assert schema_volume["readOnly"] and schema_volume["configMap"]["name"] == "fx-mm-schema-ir"
    (config_map,) = _docs(files["base/schema-ir.yaml"])
    assert Path(params["schema"]).name in config_map["data"]
    (data,) = params["data"] if isinstance(params["data"], (list, tuple)) else [params["data"]]
    data_volume = volume_of(data)
    assert data_volume["readOnly"] and str(data) == "/data/market/mm.hftt"
    (claim,) = _docs(files["overlays/prod/market-data.yaml"])
    assert data_volume["persistentVolumeClaim"] == {"claimName": claim["metadata"]["name"], "readOnly": True}
    assert claim["spec"]["accessModes"] == ["ReadOnlyMany"]
    assert volume_of(params["storage_file"])["secret"]["secretName"] == "fx-mm-optuna-storage"
    assert volume_of(params["out"])["emptyDir"] and env["HFTC_CACHE_DIR"]["value"].startswith("/tmp/")
    assert c["securityContext"]["readOnlyRootFilesystem"]
    assert not lints.check_guaranteed(ir.deployments[0], job["metadata"]["name"], job["spec"]["template"]["spec"])
    _allow, egress, _venue = _docs(files["overlays/prod/network-policies.yaml"])
    assert egress["spec"]["egress"] == [{"ports": [{"protocol": "TCP", "port": 5432}]}]
    readme = files["README.md"]
    assert "hftc data convert" in readme and "g++" in readme and "mm.hftt" in readme
    assert not [d for d in diags if d.code == "HFT0629"]


def test_schema_configmap_is_the_ir_and_independent_of_the_working_directory(ir, tmp_path, monkeypatch) -> None:
    from hftc.ir.serialize import ir_from_json, ir_to_dict

    (config_map,) = _docs(_generate("k8s", ir)[0]["base/schema-ir.yaml"])
    text = config_map["data"]["schema.ir.json"]
    assert len(text.encode()) < 256 * 1024  # far below the 1 MiB ConfigMap and 256 KiB apply annotation limits
    loaded = ir_from_json(text)
    assert json.dumps(ir_to_dict(loaded), separators=(",", ":"), ensure_ascii=False) + "\n" == text
    assert [(p.name, p.default, p.low, p.high) for s in loaded.strategies for p in s.params] == \
        [(p.name, p.default, p.low, p.high) for s in ir.strategies for p in s.params]
    assert loaded.strategies[0].checked() is not None and len(loaded.messages) == len(ir.messages)
    assert {s.span.file for s in loaded.strategies} == {"fx_market_maker.hftc.yaml"}
    assert ir_to_dict(loaded)["types"] and "examples/" not in text
    monkeypatch.chdir(tmp_path)
    elsewhere = compile_file(str(EXAMPLE.resolve())).ir
    assert _generate("k8s", elsewhere)[0]["base/schema-ir.yaml"] == _generate("k8s", ir)[0]["base/schema-ir.yaml"]


def test_oversized_schema_ir_is_reported(ir, monkeypatch) -> None:
    from hftc.backends import k8s

    monkeypatch.setattr(k8s, "APPLY_ANNOTATION_LIMIT", 1024)
    (warn,) = [d for d in _generate("k8s", ir)[1] if d.code == "HFT0629"]
    assert warn.severity is Severity.WARNING and "--server-side" in warn.help
    monkeypatch.setattr(k8s, "CONFIGMAP_LIMIT", 2048)
    (err,) = [d for d in _generate("k8s", ir)[1] if d.code == "HFT0629"]
    assert err.severity is Severity.ERROR


def test_optimize_runs_on_the_schema_configmap_like_the_yaml(ir, tmp_path, monkeypatch) -> None:
    """What a worker runs: `hftc optimize` on the ConfigMap's IR gives the trials of the YAML schema."""
    import sys

    from test_optimize import write_synthetic_tape

    (config_map,) = _docs(_generate("k8s", ir)[0]["base/schema-ir.yaml"])
    schema_ir = tmp_path / "schema.ir.json"
    schema_ir.write_text(config_map["data"]["schema.ir.json"], encoding="utf-8")
    tape = write_synthetic_tape(tmp_path / "mm.hftt", steps=3000)
    fronts = []
    for schema in (schema_ir, EXAMPLE):
        run = subprocess.run([sys.executable, "-m", "hftc", "optimize", str(schema), "--strategy", "mm", "--data",
                              str(tape), "--trials", "4", "--seed", "3", "--study", "k8s", "--out",
                              str(tmp_path / f"out-{schema.suffix}"), "--json"],
                             check=False, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        summary = json.loads(run.stdout)
        assert summary["trials"] == 4 and summary["study"] == "k8s" and summary["failed"] == 0
        fronts.append([(t["trial"], t["params"], t["values"]) for t in summary["pareto"]])
        assert (tmp_path / f"out-{schema.suffix}" / "best_params.yaml").is_file()
    assert fronts[0] == fronts[1] and fronts[0]


@pytest.mark.parametrize("text, message", [
    ("{not json", "not JSON"),
    ('{"ir_version": 99}', "IR version 99"),
    ('{"ir_version": 1}', "IR version 1 is not supported"),  # before feed roles
    ('{"ir_version": 4, "package": 5}', "not an hftc IR"),
    ('{"ir_version": 3}', "IR version 3 is not supported"),  # before the framing (Schema.wire)
])
def test_bad_ir_file_is_a_diagnostic(tmp_path, text, message) -> None:
    from hftc.cli import app
    from typer.testing import CliRunner

    bad = tmp_path / "bad.ir.json"
    bad.write_text(text, encoding="utf-8")
    done = CliRunner().invoke(app, ["optimize", str(bad), "--strategy", "mm", "--data", str(tmp_path / "t.hftt"),
                                    "--out", str(tmp_path / "o")])
    assert done.exit_code == 1
    assert done.stderr.startswith("error[HFT0010]") and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()
    assert "HFT0010" in CODES


def test_variant_k8s(variant_ir) -> None:
    files, diags = _generate("k8s", variant_ir)
    assert "overlays/research/engine.yaml" in files and not any(p.startswith("overlays/backtest") for p in files)
    assert {"HFT0610", "HFT0618", "HFT0621"} <= set(_codes(diags))
    (wl,) = _docs(files["overlays/research/engine.yaml"])
    spec = wl["spec"]["template"]["spec"]
    assert "hftc.io/site" not in spec.get("nodeSelector", {})
    assert "k8s.v1.cni.cncf.io/networks" not in wl["spec"]["template"]["metadata"]["annotations"]
    assert "network-attachment.yaml" not in {p.split("/")[-1] for p in files if "research" in p}
    (job,) = _docs(files["overlays/research/optimizer-jobs.yaml"])
    assert job["spec"]["parallelism"] == 8
    (monitor,) = _docs(files["overlays/research/pod-monitor.yaml"])
    assert monitor["spec"]["podMetricsEndpoints"][0]["interval"] == "2s"


def _with_deployment(ir, **changes):
    d = ir.deployments[0]
    nodes = dataclasses.replace(d.nodes, **changes.pop("nodes", {}))
    k8s = dataclasses.replace(d.kubernetes, **changes.pop("kubernetes", {})) if d.kubernetes else None
    cloud = dataclasses.replace(d.cloud, **changes.pop("cloud", {})) if d.cloud else None
    d = dataclasses.replace(d, nodes=nodes, kubernetes=k8s, cloud=cloud, **changes)
    return dataclasses.replace(ir, deployments=(d,))


@pytest.mark.parametrize("changes, code, severity", [
    ({"kubernetes": {"health_port": 9100}}, "HFT0611", Severity.ERROR),
    ({"kubernetes": {"metrics_port": 9300}}, "HFT0612", Severity.WARNING),
    ({"nodes": {"hugepages_1gi": 64}}, "HFT0613", Severity.ERROR),
    ({"nodes": {"isolated_cpus": "2-x"}}, "HFT0614", Severity.ERROR),
    ({"nodes": {"isolated_cpus": "0-15"}}, "HFT0614", Severity.ERROR),
    ({"nodes": {"cpu_cores": 2}}, "HFT0616", Severity.ERROR),
    ({"nodes": {"hugepages_1gi": 0}}, "HFT0617", Severity.WARNING),
    ({"nodes": {"sriov": False}}, "HFT0618", Severity.WARNING),
    ({"kubernetes": {"runtime_class": "rt"}}, "HFT0619", Severity.WARNING),
    ({"sites": ()}, "HFT0621", Severity.WARNING),
])
def test_k8s_lints(ir, changes, code, severity) -> None:
    _, diags = _generate("k8s", _with_deployment(ir, **changes))
    found = [d for d in diags if d.code == code]
    assert found and found[0].severity is severity
    assert found[0].span == ir.deployments[0].span


def test_pipeline_memory_lint(ir) -> None:
    pipeline = dataclasses.replace(ir.pipelines[0], memory_mb=200_000)
    _, diags = _generate("k8s", dataclasses.replace(ir, pipelines=(pipeline,)))
    assert "HFT0622" in _codes(diags)


def test_guaranteed_qos_lint(ir) -> None:
    d = ir.deployments[0]
    pod = {"containers": [{"name": "engine", "resources": {"requests": {"cpu": "1500m", "memory": "1Gi"},
                                                           "limits": {"cpu": "1500m", "memory": "2Gi"}}}]}
    assert _codes(lints.check_guaranteed(d, "w", pod)) == ["HFT0623", "HFT0624"]
    pod = {"containers": [{"name": "engine", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "2"}}}]}
    assert _codes(lints.check_guaranteed(d, "w", pod)) == ["HFT0623"]


def test_cpuset() -> None:
    assert cpuset.parse("2-5,8,10-11") == (2, 3, 4, 5, 8, 10, 11)
    assert cpuset.parse("5-2") is None and cpuset.parse("") is None and cpuset.parse("a") is None
    assert cpuset.format_cpus((0, 1, 2, 4, 6, 7)) == "0-2,4,6-7"
    assert cpuset.complement_below((2, 3, 6)) == (0, 1, 4, 5)


# -- checkov (one run over k8s and terraform: it takes ~10 s to start) --------------

def _checkov() -> str | None:
    """scripts/system-deps.sh installs checkov in a venv of its own under .tools/."""
    local = REPO / ".tools" / "bin" / "checkov"
    return str(local) if local.exists() else shutil.which("checkov")


def test_checkov_zero_failed(outputs, tmp_path) -> None:
    exe = _checkov()
    if exe is None:
        pytest.skip("checkov is not installed (run scripts/system-deps.sh)")
    scan = tmp_path / "scan"
    for schema in ("example", "variant"):
        for target in ("k8s", "terraform"):
            shutil.copytree(outputs["root"] / schema / target, scan / schema / target)
    run = subprocess.run(check=False, args=[exe, "--skip-download", "-d", str(scan), "--quiet", "--compact", "-o", "json",
                          "--framework", "kubernetes", "kustomize", "terraform"],
                         capture_output=True, text=True, timeout=300)
    assert run.stdout.strip(), run.stderr
    reports = json.loads(run.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    by_type = {r.get("check_type"): r for r in reports}
    assert {"kubernetes", "terraform"} <= set(by_type), sorted(by_type)
    failed = [(r.get("check_type"), f["check_id"], f["resource"], f["file_path"])
              for r in reports for f in r.get("results", {}).get("failed_checks", [])]
    assert not failed, failed
    for r in reports:
        for s in r.get("results", {}).get("skipped_checks", []):
            assert (s.get("check_result", {}).get("suppress_comment") or "").strip(), s["check_id"]


def test_checkov_skips_carry_reasons(ir, variant_ir) -> None:
    for schema in (ir, variant_ir):
        for path, text in _generate("k8s", schema)[0].items():
            for doc in _docs(text) if path.endswith(".yaml") else ():
                for key, value in doc.get("metadata", {}).get("annotations", {}).items():
                    if key.startswith("checkov.io/skip"):
                        check, _, reason = value.partition("=")
                        assert re.fullmatch(r"CKV2?_K8S_\d+", check) and len(reason) > 20, value
        for text in _generate("terraform", schema)[0].values():
            for m in re.finditer(r"#checkov:skip=([^:\n]+)(:?)(.*)", text):
                assert m[2] and len(m[3].strip()) > 20, m[0]


# -- terraform ----------------------------------------------------------------

def test_terraform_module(ir) -> None:
    files, _ = _generate("terraform", ir)
    assert sorted(files) == ["prod/main.tf", "prod/outputs.tf", "prod/variables.tf", "prod/versions.tf"]
    main = files["prod/main.tf"]
    assert 'strategy = "cluster"' in main and 'http_tokens                 = "required"' in main
    assert "encrypted             = true" in main and "ebs_optimized = true" in main
    assert "monitoring {\n    enabled = true\n  }" in main
    assert "ena_srd_specification" not in main  # only when asked
    # c7i.metal-24xl is bare metal: no CPU options, SMT switched off at boot instead.
    assert "cpu_options" not in main and "smt/control" in main
    assert '"0.0.0.0/0"' not in main.split("ingress {", 1)[1].split("egress {", 1)[0]
    assert '"hftc:deployment" = "prod"' in main and 'team              = "fx"' in main


def test_terraform_variant(variant_ir) -> None:
    files, diags = _generate("terraform", variant_ir)
    assert {"research/main.tf", "backtest/main.tf"} <= set(files)
    research = files["research/main.tf"]
    assert "cpu_options {\n    threads_per_core = 1\n  }" in research
    assert "ena_srd_enabled = true" in research and 'resource "aws_eks_node_group" "trading"' in research
    assert 'effect = "NO_SCHEDULE"' in research and '"hftc.io/dedicated"' in research
    assert 'resource "aws_instance"' not in research
    assert 'strategy     = "spread"' in files["backtest/main.tf"]
    assert {"HFT0627", "HFT0628"} <= set(_codes(diags))
    _, diags = _generate("terraform", _with_deployment(variant_ir, cloud={"zone": "us-east-1a"}))
    assert "HFT0626" in _codes(diags)
    # A zone of another region that merely starts with this region's name (us-east-12 vs us-east-1).
    _, diags = _generate("terraform", _with_deployment(variant_ir, cloud={"region": "us-east-1", "zone": "us-east-12a"}))
    assert "HFT0626" in _codes(diags)
    _, diags = _generate("terraform", _with_deployment(variant_ir, cloud={"region": "us-east-1", "zone": "us-east-1b"}))
    assert "HFT0626" not in _codes(diags)


def test_hcl2_parses_every_tf_file(outputs) -> None:
    hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 is not installed")
    tf_files = sorted(outputs["root"].rglob("*.tf"))
    assert len(tf_files) >= 12
    for path in tf_files:
        with path.open() as f:
            parsed = hcl2.load(f)
        assert parsed, path
    main = hcl2.loads((outputs["root"] / "example/terraform/prod/main.tf").read_text())
    lts = next(v for r in main["resource"] for k, v in r.items() if k.strip('"') == "aws_launch_template")
    lt = next(v for k, v in lts.items() if k.strip('"') == "engine")
    md = lt["metadata_options"]
    md = md[0] if isinstance(md, list) else md
    assert md["http_tokens"].strip('"') == "required"


def _terraform_plugin_dir() -> str | None:
    candidates = [os.environ.get("HFTC_TF_PLUGIN_DIR", "")]
    data_home = os.environ.get("XDG_DATA_HOME", os.path.expanduser("~/.local/share"))
    candidates += [os.path.expanduser("~/.terraform.d/plugins"), os.path.join(data_home, "terraform/plugins"),
                   "/usr/local/share/terraform/plugins", "/usr/share/terraform/plugins"]
    for c in candidates:
        if c and (Path(c) / "registry.terraform.io/hashicorp/aws").is_dir():
            return c
    return None


def _terraform(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(["terraform", *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=240, env=env)


def test_terraform_fmt(outputs) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform binary not found")
    for schema in ("example", "variant"):
        run = _terraform(["fmt", "-check", "-recursive", "-diff", "."], outputs["root"] / schema / "terraform")
        assert run.returncode == 0, run.stdout + run.stderr


def test_terraform_validate(outputs) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform binary not found")
    plugins = _terraform_plugin_dir()
    if plugins is None:
        pytest.skip("no AWS provider available offline: set HFTC_TF_PLUGIN_DIR to a plugin directory holding "
                    "registry.terraform.io/hashicorp/aws")
    modules = sorted(p.parent for p in outputs["root"].rglob("versions.tf"))
    # Every module needs the same provider: initialise one and share its .terraform with the rest;
    # validate them in parallel (each validate loads the provider's schema, ~10 s).
    first = modules[0]
    init = _terraform(["init", "-backend=false", "-input=false", f"-plugin-dir={plugins}"], first)
    assert init.returncode == 0, init.stdout + init.stderr
    for module in modules[1:]:
        (module / ".terraform").symlink_to(first / ".terraform", target_is_directory=True)
        shutil.copy(first / ".terraform.lock.hcl", module / ".terraform.lock.hcl")
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    procs = [(m, subprocess.Popen(["terraform", "validate", "-no-color"], cwd=m, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)) for m in modules]
    for module, proc in procs:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0, module.name + ": " + out


# Test-only provider override: fake credentials and no AWS API call at plan time. Planning
# creates only; with `account_id` given, the module reads no data source over the network.
OFFLINE_PROVIDER = """provider "aws" {
  access_key                  = "fake"
  secret_key                  = "fake"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
"""
PLAN_VARS = {"account_id": "123456789012", "ami_id": "ami-0123456789abcdef0", "eks_cluster_name": "trading",
             "eks_node_role_arn": "arn:aws:iam::123456789012:role/eks-node"}


def _plans(outputs, tmp_path: Path) -> dict[str, dict]:
    """`terraform plan` of every module offline, as `terraform show -json` documents keyed by `<schema>/<module>`."""
    plugins = _terraform_plugin_dir()
    if shutil.which("terraform") is None or plugins is None:
        pytest.skip("terraform plan needs the terraform binary and an AWS provider available offline "
                    "(HFTC_TF_PLUGIN_DIR holding registry.terraform.io/hashicorp/aws)")
    modules = {}
    for versions in sorted(outputs["root"].rglob("terraform/*/versions.tf")):
        src = versions.parent
        key = f"{src.parent.parent.name}/{src.name}"
        dst = tmp_path / key.replace("/", "-")
        dst.mkdir()
        for tf in src.glob("*.tf"):
            shutil.copy(tf, dst / tf.name)
        (dst / "offline_override.tf").write_text(OFFLINE_PROVIDER, encoding="utf-8")
        modules[key] = dst
    first = next(iter(modules.values()))
    init = _terraform(["init", "-backend=false", "-input=false", f"-plugin-dir={plugins}"], first)
    assert init.returncode == 0, init.stdout + init.stderr
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "AWS_ACCESS_KEY_ID": "fake",
           "AWS_SECRET_ACCESS_KEY": "fake", "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    procs = {}
    for key, module in modules.items():
        if module != first:
            (module / ".terraform").symlink_to(first / ".terraform", target_is_directory=True)
            shutil.copy(first / ".terraform.lock.hcl", module / ".terraform.lock.hcl")
        declared = (module / "variables.tf").read_text(encoding="utf-8")
        var_args = [f"-var={k}={v}" for k, v in PLAN_VARS.items() if f'variable "{k}"' in declared]
        procs[key] = subprocess.Popen(["terraform", "plan", "-input=false", "-no-color", "-lock=false", "-refresh=false",
                                       "-out=plan.bin", *var_args], cwd=module, env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    plans = {}
    for key, proc in procs.items():
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0, key + ": " + out
        show = subprocess.run(["terraform", "show", "-json", "plan.bin"], cwd=modules[key], env=env,
                              capture_output=True, text=True, check=False, timeout=120)
        assert show.returncode == 0, show.stderr
        plans[key] = json.loads(show.stdout)
    return plans


def _planned(plan: dict, address: str) -> dict:
    for r in plan["planned_values"]["root_module"]["resources"]:
        if r["address"] == address:
            return r["values"]
    raise AssertionError(f"{address} not in the plan: {[r['address'] for r in plan['resource_changes']]}")


def test_terraform_plan_offline(outputs, tmp_path) -> None:
    plans = _plans(outputs, tmp_path)
    assert sorted(plans) == ["example/prod", "variant/backtest", "variant/research"]
    for key, plan in plans.items():
        actions = {r["address"]: r["change"]["actions"] for r in plan["resource_changes"]}
        assert all(a == ["create"] for a in actions.values()), (key, actions)
        assert not any(a.startswith("data.aws_caller_identity") for a in actions), key
        lt = _planned(plan, "aws_launch_template.engine")
        assert lt["metadata_options"][0]["http_tokens"] == "required", key
        assert lt["metadata_options"][0]["http_put_response_hop_limit"] == 1
        ebs = lt["block_device_mappings"][0]["ebs"][0]
        assert ebs["encrypted"] == "true" and ebs["volume_type"] == "gp3", key
        assert lt["ebs_optimized"] == "true" and lt["monitoring"] == [{"enabled": True}], key
        nic = lt["network_interfaces"][0]
        assert nic["associate_public_ip_address"] == "false", key
        sg = _planned(plan, "aws_security_group.engine")
        assert all("0.0.0.0/0" not in rule["cidr_blocks"] for rule in sg["ingress"]), key
        key_policy = json.loads(_planned(plan, "aws_kms_key.logs")["policy"])
        assert key_policy["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::123456789012:root"

    prod = plans["example/prod"]
    assert _planned(prod, "aws_placement_group.trading")["strategy"] == "cluster"
    lt = _planned(prod, "aws_launch_template.engine")
    assert lt["cpu_options"] == [] and lt["user_data"]  # bare metal: SMT off at boot
    assert lt["placement"][0]["group_name"] == "fx-mm-prod"
    engines = [r for r in prod["planned_values"]["root_module"]["resources"] if r["type"] == "aws_instance"]
    assert len(engines) == 2 and all(e["values"]["metadata_options"][0]["http_tokens"] == "required" for e in engines)
    assert engines[0]["values"]["tags"]["hftc:deployment"] == "prod"

    research = plans["variant/research"]
    lt = _planned(research, "aws_launch_template.engine")
    assert lt["cpu_options"][0]["threads_per_core"] == 1
    assert lt["network_interfaces"][0]["ena_srd_specification"][0]["ena_srd_enabled"] is True
    group = _planned(research, "aws_eks_node_group.trading")
    assert group["scaling_config"][0]["desired_size"] == 3
    assert group["taint"] == [{"key": "hftc.io/dedicated", "value": "trading", "effect": "NO_SCHEDULE"}]
    assert _planned(plans["variant/backtest"], "aws_placement_group.trading")["strategy"] == "spread"


# -- prometheus ---------------------------------------------------------------

def test_alert_translation() -> None:
    t = metrics.translate("latency_p99_ns > 500 and rate(orders_rejected_total{venue=\"x\"}[1m]) > 10")
    assert t.promql == ("hftc:tick_to_order_latency_ns:p99 > 500 and "
                        "rate(hftc_orders_rejected_total{venue=\"x\"}[1m]) > 10")
    assert t.unknown == ()
    t = metrics.translate("sum by (instance, position) (position) > 1e3 or widget > 5m")
    assert t.promql == "sum by (instance, position) (hftc_position) > 1e3 or widget > 5m"
    assert t.unknown == ("widget",)
    assert metrics.prom_duration(0.5) == "500ms" and metrics.prom_duration(90) == "1m30s"
    assert metrics.prom_duration(3600) == "1h"


def test_prometheus_rules(ir) -> None:
    files, _ = _generate("prometheus", ir)
    rules = yaml.safe_load(files["rules.yml"])
    records = {r["record"]: r["expr"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    assert records["hftc:tick_to_order_latency_ns:p99"] == \
        "histogram_quantile(0.99, rate(hftc_tick_to_order_latency_ns_bucket[1m]))"
    assert {"hftc:tick_to_order_latency_ns:p50", "hftc:tick_to_order_latency_ns:p999", "hftc:messages:rate1m",
            "hftc:orders:rate1m", "hftc:orders_rejected:rate1m"} <= set(records)
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert alerts["UltraHighLatency"] == {
        "alert": "UltraHighLatency", "expr": "hftc:tick_to_order_latency_ns:p99 > 500", "for": "5s",
        "labels": {"severity": "critical"}, "annotations": {"summary": "Tick-to-order p99 above 500 ns"}}
    assert alerts["OrderRejects"]["expr"] == "rate(hftc_orders_rejected_total[1m]) > 10"
    tests = yaml.safe_load(files["rules_test.yml"])
    assert len(tests["tests"]) == len(ir.monitoring.alerts)


def test_prometheus_variant_diagnostics(variant_ir) -> None:
    files, diags = _generate("prometheus", variant_ir)
    codes = _codes(diags)
    assert codes.count("HFT0630") == 1 and "widget_count" in diags[codes.index("HFT0630")].message
    # abs(position) and the unknown metric have no generated test; every other alert has one.
    untested = sorted(d.message.split("`")[1] for d in diags if d.code == "HFT0631")
    assert untested == ["Mystery", "PositionLimit", "Templated"]
    tests = yaml.safe_load(files["rules_test.yml"])["tests"]
    assert len(tests) == len(variant_ir.monitoring.alerts) - 3
    drawdown = next(t for t in tests if "Drawdown" in str(t))
    assert "alertstate=\"firing\"" in str(drawdown["promql_expr_test"]) and "exp_annotations" not in str(drawdown)


def _promtool(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("schema", ["example", "variant"])
def test_promtool(schema, outputs) -> None:
    if shutil.which("promtool") is None:
        pytest.skip("promtool not found (Debian package `prometheus`)")
    folder = outputs["root"] / schema / "prometheus"
    check = _promtool(["check", "rules", "rules.yml"], folder)
    assert check.returncode == 0, check.stdout + check.stderr
    test = _promtool(["test", "rules", "rules_test.yml"], folder)
    assert test.returncode == 0, test.stdout + test.stderr


def test_promtool_catches_a_broken_alert(ir, tmp_path) -> None:
    """The generated tests are not vacuous: an alert whose threshold the data never crosses fails them."""
    if shutil.which("promtool") is None:
        pytest.skip("promtool not found (Debian package `prometheus`)")
    files, _ = _generate("prometheus", ir)
    _write(tmp_path, files)
    rules = (tmp_path / "rules.yml").read_text().replace("p99 > 500", "p99 > 5000")
    (tmp_path / "rules.yml").write_text(rules)
    assert _promtool(["test", "rules", "rules_test.yml"], tmp_path).returncode != 0


def test_prometheus_without_alerts(ir) -> None:
    files, diags = _generate("prometheus", dataclasses.replace(ir, monitoring=Monitoring()))
    assert sorted(files) == ["rules.yml"] and not diags
    files, _ = _generate("prometheus", dataclasses.replace(ir, monitoring=Monitoring(alerts=(
        Alert("Flat", "pnl < 0", 0.0, "0s", "warning"),))))
    test = yaml.safe_load(files["rules_test.yml"])["tests"][0]
    assert "promql_expr_test" not in test and test["alert_rule_test"][0]["exp_alerts"]


# -- grafana ------------------------------------------------------------------

# The essentials of Grafana's dashboard JSON model (schemaVersion 39+) that this backend relies on.
DASHBOARD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["uid", "title", "schemaVersion", "panels", "templating", "time", "refresh", "annotations"],
    "properties": {
        "uid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "title": {"type": "string", "minLength": 1},
        "schemaVersion": {"type": "integer", "minimum": 39},
        "version": {"type": "integer"},
        "editable": {"type": "boolean"},
        "graphTooltip": {"enum": [0, 1, 2]},
        "timezone": {"type": "string"},
        "refresh": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h|d)$"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "time": {"type": "object", "required": ["from", "to"],
                 "properties": {"from": {"type": "string"}, "to": {"type": "string"}}},
        "annotations": {"type": "object", "required": ["list"], "properties": {"list": {"type": "array"}}},
        "templating": {
            "type": "object", "required": ["list"],
            "properties": {"list": {"type": "array", "items": {
                "type": "object", "required": ["name", "type"],
                "properties": {"name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                               "type": {"enum": ["query", "datasource", "custom", "constant", "interval",
                                                 "textbox", "adhoc"]}},
            }}},
        },
        "panels": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/panel"}},
    },
    "$defs": {
        "datasource": {"type": "object", "required": ["type", "uid"],
                       "properties": {"type": {"const": "prometheus"}, "uid": {"type": "string"}}},
        "panel": {
            "type": "object",
            "required": ["id", "type", "title", "gridPos", "datasource", "targets", "fieldConfig", "options"],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "type": {"enum": ["timeseries", "heatmap", "stat", "gauge", "bargauge", "table", "text"]},
                "title": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
                "datasource": {"$ref": "#/$defs/datasource"},
                "gridPos": {
                    "type": "object", "required": ["h", "w", "x", "y"], "additionalProperties": False,
                    "properties": {"h": {"type": "integer", "minimum": 1},
                                   "w": {"type": "integer", "minimum": 1, "maximum": 24},
                                   "x": {"type": "integer", "minimum": 0, "maximum": 23},
                                   "y": {"type": "integer", "minimum": 0}},
                },
                "fieldConfig": {"type": "object", "required": ["defaults", "overrides"],
                                "properties": {"defaults": {"type": "object"}, "overrides": {"type": "array"}}},
                "options": {"type": "object"},
                "targets": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["refId", "expr", "datasource"],
                    "properties": {"refId": {"type": "string", "pattern": "^[A-Z]$"},
                                   "expr": {"type": "string", "minLength": 1},
                                   "legendFormat": {"type": "string"},
                                   "format": {"enum": ["time_series", "table", "heatmap"]},
                                   "datasource": {"$ref": "#/$defs/datasource"}},
                }},
            },
        },
    },
}


def test_grafana_dashboard(ir) -> None:
    files, diags = _generate("grafana", ir)
    assert sorted(files) == ["dashboard.json"] and not diags
    dash = json.loads(files["dashboard.json"])
    jsonschema.Draft202012Validator.check_schema(DASHBOARD_SCHEMA)
    jsonschema.Draft202012Validator(DASHBOARD_SCHEMA).validate(dash)
    panels = dash["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for p in panels:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not (mine & cells), f"panel {p['title']} overlaps another"
        cells |= mine
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs))
    types = {p["type"] for p in panels}
    assert {"heatmap", "timeseries"} <= types
    heat = next(p for p in panels if p["type"] == "heatmap")
    assert heat["targets"][0]["format"] == "heatmap" and "_bucket" in heat["targets"][0]["expr"]
    # Every series a panel reads is a metric the engine exports or one of the recording rules.
    known = {name for name, _, _ in metrics.METRICS}
    known |= {f"{name}_bucket" for name, kind, _ in metrics.METRICS if kind == "histogram"}
    known |= {metrics.latency_rule(s) for s, _ in metrics.QUANTILES}
    known |= {r for r, _ in metrics.RATE_RULES}
    used = set()
    for p in panels:
        for t in p["targets"]:
            body = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", t["expr"])
            used |= {n for n in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", body)
                     if n not in {"sum", "by", "le", "stage", "rate", "increase", "histogram_quantile"}}
    assert used and used <= known, used - known
    text = json.dumps(dash)
    for needle in ("hftc:tick_to_order_latency_ns:p99", metrics.PNL, metrics.POSITION, metrics.REJECTS.replace(
            "_total", ""), metrics.CPU, metrics.MEMORY):
        assert needle.split("_total")[0] in text or needle in text
    percentiles = next(p for p in panels if p["title"] == "Tick-to-order latency percentiles")
    assert percentiles["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"] == 500


# -- schemas of the custom resources (the fields the generated manifests use) ------

def _obj(required: list[str], props: dict, closed: bool = True) -> dict:
    return {"type": "object", "required": required, "properties": props, "additionalProperties": not closed}


_META = _obj(["name"], {"name": {"type": "string"}, "namespace": {"type": "string"},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "annotations": {"type": "object", "additionalProperties": {"type": "string"}}})
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_SELECTOR = _obj([], {"matchLabels": _LABELS})
_DURATION = {"type": "string", "pattern": "^(([0-9]+)(y|w|d|h|m|s|ms))+$"}
_RULE = {
    "type": "object", "required": ["expr"], "additionalProperties": False,
    "oneOf": [{"required": ["record"]}, {"required": ["alert"]}],
    "properties": {"record": {"type": "string"}, "alert": {"type": "string"}, "expr": {"type": "string"},
                   "for": _DURATION, "labels": _LABELS, "annotations": _LABELS},
}
_CPUSET = {"type": "string", "pattern": r"^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$"}

CRD_SCHEMAS = {
    # monitoring.coreos.com/v1 (prometheus-operator)
    "PodMonitor": _obj(["apiVersion", "kind", "metadata", "spec"], {
        "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "PodMonitor"}, "metadata": _META,
        "spec": _obj(["selector", "podMetricsEndpoints"], {
            "selector": _SELECTOR,
            "podMetricsEndpoints": {"type": "array", "minItems": 1, "items": _obj(["port"], {
                "port": {"type": "string"}, "path": {"type": "string"}, "interval": _DURATION,
                "scrapeTimeout": _DURATION})},
        }),
    }),
    "PrometheusRule": _obj(["apiVersion", "kind", "metadata", "spec"], {
        "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "PrometheusRule"}, "metadata": _META,
        "spec": _obj(["groups"], {"groups": {"type": "array", "items": _obj(["name", "rules"], {
            "name": {"type": "string"}, "interval": _DURATION, "rules": {"type": "array", "items": _RULE}})}}),
    }),
    # k8s.cni.cncf.io/v1 (Multus)
    "NetworkAttachmentDefinition": _obj(["apiVersion", "kind", "metadata", "spec"], {
        "apiVersion": {"const": "k8s.cni.cncf.io/v1"}, "kind": {"const": "NetworkAttachmentDefinition"},
        "metadata": _META, "spec": _obj(["config"], {"config": {"type": "string"}}),
    }),
    # performance.openshift.io/v2 (Node Tuning Operator)
    "PerformanceProfile": _obj(["apiVersion", "kind", "metadata", "spec"], {
        "apiVersion": {"const": "performance.openshift.io/v2"}, "kind": {"const": "PerformanceProfile"},
        "metadata": _META,
        "spec": _obj(["cpu", "nodeSelector"], {
            "cpu": _obj(["isolated", "reserved"], {"isolated": _CPUSET, "reserved": _CPUSET}),
            "hugepages": _obj(["pages"], {
                "defaultHugepagesSize": {"enum": ["1G", "2M", "32M", "512M"]},
                "pages": {"type": "array", "items": _obj(["size", "count"], {
                    "size": {"enum": ["1G", "2M", "32M", "512M"]}, "count": {"type": "integer", "minimum": 1},
                    "node": {"type": "integer", "minimum": 0}})}}),
            "realTimeKernel": _obj([], {"enabled": {"type": "boolean"}}),
            "numa": _obj([], {"topologyPolicy": {"enum": ["none", "best-effort", "restricted",
                                                          "single-numa-node"]}}),
            "workloadHints": _obj([], {"realTime": {"type": "boolean"}, "highPowerConsumption": {"type": "boolean"},
                                       "perPodPowerManagement": {"type": "boolean"}}),
            "globallyDisableIrqLoadBalancing": {"type": "boolean"},
            "additionalKernelArgs": {"type": "array", "items": {"type": "string"}},
            "nodeSelector": _LABELS,
            "machineConfigPoolSelector": _LABELS,
        }),
    }),
    # kubelet.config.k8s.io/v1beta1 (the fields used here)
    "KubeletConfiguration": _obj(["apiVersion", "kind", "cpuManagerPolicy", "reservedSystemCPUs"], {
        "apiVersion": {"const": "kubelet.config.k8s.io/v1beta1"}, "kind": {"const": "KubeletConfiguration"},
        "cpuManagerPolicy": {"enum": ["none", "static"]},
        "cpuManagerPolicyOptions": {"type": "object", "additionalProperties": {"type": "string"}},
        "cpuManagerReconcilePeriod": _DURATION,
        "reservedSystemCPUs": _CPUSET,
        "topologyManagerPolicy": {"enum": ["none", "best-effort", "restricted", "single-numa-node"]},
        "topologyManagerScope": {"enum": ["container", "pod"]},
        "memoryManagerPolicy": {"enum": ["None", "Static"]},
        "kubeReserved": _LABELS, "systemReserved": _LABELS, "evictionHard": _LABELS,
        "reservedMemory": {"type": "array", "items": _obj(["numaNode", "limits"], {
            "numaNode": {"type": "integer", "minimum": 0}, "limits": _LABELS})},
        "featureGates": {"type": "object", "additionalProperties": {"type": "boolean"}},
    }),
}


def test_crd_schemas_reject_mistakes(ir) -> None:
    files, _ = _generate("k8s", ir)
    (monitor,) = _docs(files["overlays/prod/pod-monitor.yaml"])
    bad = copy.deepcopy(monitor)
    bad["spec"]["podMetricsEndpoints"][0]["intervall"] = "1s"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, CRD_SCHEMAS["PodMonitor"])
    (profile,) = _docs(files["node-tuning/prod/performance-profile.yaml"])
    bad = copy.deepcopy(profile)
    bad["spec"]["cpu"]["isolated"] = "2..15"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, CRD_SCHEMAS["PerformanceProfile"])
