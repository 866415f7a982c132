"""`--target k8s`: a kustomize layout for the engine, plus node-tuning files.

Layout (`kubectl kustomize overlays/<deployment>` builds one deployment):

    base/                       schema-wide: strategy parameters, the compiled schema
                                (IR JSON) for the optimiser, alert rules, service
                                accounts, default-deny and DNS NetworkPolicies
    overlays/<deployment>/      namespace, one engine Deployment per site, SR-IOV
                                NetworkAttachmentDefinition, metrics NetworkPolicy,
                                PodDisruptionBudget, PodMonitor, Optuna Job and the
                                market-data PersistentVolumeClaim it reads
    node-tuning/<deployment>/   PerformanceProfile (OpenShift Node Tuning Operator) and
                                KubeletConfiguration (static CPU manager, single-NUMA
                                topology): node set-up, applied by the platform team

One workload per site: each site is its own failure domain with its own venue
session, so `sites: [NY4, LD4]` gives `<app>-<deployment>-ny4` and `...-ld4`,
each pinned to nodes labelled `hftc.io/site: <SITE>`. A single workload spread
over sites would let the scheduler put every replica in one site. Each
workload runs one replica with the `Recreate` strategy, so two engines never
share a venue session during a rollout.

Nodes: dedicated trading nodes carry the label `hftc.io/site` (and
`hftc.io/realtime-kernel: "true"` when the schema asks for a real-time kernel)
and the taint `hftc.io/dedicated=trading:NoSchedule`, which only the engine
tolerates; the optimisation Job never lands on them.

Image contract (`hftc.ir.engine_contract`, the same definition the engine template
renders its flags from): the container passes the engine its metrics and health
ports, the parameter overlay `/etc/hftc/params/params.yaml`, the audit journal
under `/var/lib/hftc/journal` and its shutdown deadline; the engine answers
`/livez`, `/readyz` and `/startupz` on the health port; the venue secret reaches
it only as the schema's gateway `credentials` reference names it. The same image runs the optimiser, so it must
also have the `hftc` command on PATH and a C++20 `g++` (each trial backtests a
strategy compiled in the pod): the Job runs `hftc optimize` on the schema's IR
(`hftc ir` output, from a ConfigMap, since the backend never sees the YAML),
the tape `/data/market/<strategy>.hftt` from a read-only volume and the
PostgreSQL storage URL read from a Secret file by `--storage-file`. Workers of
the Indexed Job add trials to one shared study; each seeds its sampler with
its completion index, passed with Kubernetes' own `$(VAR)` argument expansion.
"""

from __future__ import annotations

import json
import re

from hftc.backends.k8s import cpuset, lints
from hftc.backends.prometheus import rule_groups
from hftc.backends.prometheus.yamlout import dump_all, dump_yaml
from hftc.diagnostics.model import Diagnostic, error, warning
from hftc.ir.backend import BackendOptions, BackendResult, GeneratedFile
from hftc.ir import engine_contract as contract
from hftc.ir.model import Deployment, Schema, Strategy

TAINT_KEY = "hftc.io/dedicated"
TAINT_VALUE = "trading"
SITE_LABEL = "hftc.io/site"
RT_LABEL = "hftc.io/realtime-kernel"
UID = contract.ENGINE_UID
PARAMS_DIR = contract.PARAMS_DIR
VENUE_DIR = contract.CREDENTIALS_DIR
OPTUNA_DIR = "/var/run/secrets/hftc/optuna"
SCHEMA_DIR = "/etc/hftc/schema"
SCHEMA_KEY = "schema.ir.json"
MARKET_DIR = "/data/market"
OPTIMIZE_OUT = "/tmp/optimize"
# Optimiser defaults; the schema has no fields for them, so change them with a kustomize patch.
OPTIMIZER_RESOURCES = {"cpu": "2", "memory": "4Gi"}
TRIALS_PER_WORKER = 100
MARKET_DATA_SIZE = "100Gi"
# ConfigMaps hold 1 MiB; a client-side `kubectl apply` copies the object into a 256 KiB annotation.
CONFIGMAP_LIMIT = 1024 * 1024
APPLY_ANNOTATION_LIMIT = 256 * 1024
COMPLETION_INDEX = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
MONITORING_NAMESPACE = "monitoring"
CAPABILITY_REASON = (
    "IPC_LOCK: mlockall() the rings, pools and order book so no page is ever faulted in on the hot path; "
    "SYS_NICE: SCHED_FIFO priority and sched_setaffinity() for the pinned pipeline threads. "
    "Non-root processes keep added capabilities only where the runtime puts them in the effective set: "
    "check `grep Cap /proc/1/status` in the pod."
)
PROBE_NOTE = (
    "# Probes are httpGet, answered by the kubelet's HTTP client and the engine's housekeeping thread.\n"
    "# Never use exec probes here: the kubelet starts the probe process inside the container's cgroup,\n"
    "# on its exclusive (pinned) CPUs, where it preempts the busy-polling hot-path threads and shows up\n"
    "# as periodic latency spikes.\n"
)


def dns(name: str) -> str:
    """A DNS-1123 label: lowercase, `-` for anything else."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def header(ir: Schema, note: str = "") -> str:
    return f"# Generated by hftc from package {ir.package}; do not edit.\n" + note


class Names:
    def __init__(self, ir: Schema):
        self.app = dns(ir.package)
        self.base_namespace = self.app
        self.params = f"{self.app}-strategy-params"
        self.sa = f"{self.app}-engine"
        self.optimizer_sa = f"{self.app}-optimizer"
        self.rules = f"{self.app}-rules"
        self.optuna_secret = f"{self.app}-optuna-storage"
        self.schema_ir = f"{self.app}-schema-ir"

    def workload(self, d: Deployment, site: str | None) -> str:
        return f"{self.app}-{dns(d.name)}" + (f"-{dns(site)}" if site else "")

    def nad(self, d: Deployment) -> str:
        return f"{self.app}-{dns(d.name)}-sriov"

    def market_data(self, d: Deployment) -> str:
        return f"{self.app}-{dns(d.name)}-market-data"


def _labels(n: Names, component: str, **extra: str) -> dict:
    return {"app.kubernetes.io/name": n.app, "app.kubernetes.io/component": component,
            "app.kubernetes.io/managed-by": "hftc", **extra}


def _skip(*checks: tuple[str, str]) -> dict:
    """checkov skip annotations, each with its reason."""
    return {f"checkov.io/skip{i}": f"{cid}={reason}" for i, (cid, reason) in enumerate(checks, 1)}


def _meta(name: str, namespace: str, labels: dict, annotations: dict | None = None) -> dict:
    meta = {"name": name, "namespace": namespace, "labels": labels}
    if annotations:
        meta["annotations"] = annotations
    return meta


def _restricted_context() -> dict:
    return {"allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": True,
            "runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "capabilities": {"drop": ["ALL"]}}


def _pod_context() -> dict:
    return {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"}}


# -- base -------------------------------------------------------------------

def _strategy_doc(s: Strategy) -> str:
    doc = {
        "strategy": s.name,
        "template": s.template,
        "instruments": list(s.instruments),
        "params": {p.name: p.default for p in s.params},
        "search_space": {p.name: {"type": p.type, "low": p.low, "high": p.high, "log": p.log} for p in s.params},
        "objectives": [{"metric": x, "direction": "maximize"} for x in s.maximize]
        + [{"metric": x, "direction": "minimize"} for x in s.minimize],
        "constraints": [c.text for c in s.constraints],
    }
    return dump_yaml(doc)


def _overlay_doc(ir: Schema) -> str:
    return dump_yaml({"strategies": {s.name: {"params": {p.name: p.default for p in s.params}} for s in ir.strategies}})


def _source_relative(path: str, sources: tuple[str, ...]) -> str:
    """`path` (as the compiler displayed it, relative to its working directory or absolute) named like
    `ir.sources`, relative to the root schema's folder: the longest source that ends `path`."""
    parts = path.replace("\\", "/").split("/")
    best: list[str] = []
    for source in sources:
        tail = [p for p in source.split("/") if p not in ("..", ".")]
        if len(tail) > len(best) and parts[-len(tail):] == tail:
            best = tail
    return "/".join(best) if best else parts[-1]


def schema_ir_json(ir: Schema) -> str:
    """The IR as `hftc ir` prints it, compact, with span files renamed relative to the schema's folder so
    the output does not depend on where `hftc build` ran."""
    from hftc.ir.serialize import ir_to_dict

    files: set[str] = set()

    def collect(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str) and "line" in node:
                files.add(node["file"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    data = ir_to_dict(ir)
    collect(data)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    # Spans appear as JSON strings and, inside the strategies' checked programs, as escaped JSON strings.
    for old in sorted(files, key=len, reverse=True):
        new = _source_relative(old, ir.sources)
        for quote in (json.dumps, lambda v: json.dumps(json.dumps(v))[1:-1]):
            text = text.replace(quote(old), quote(new))
    return text + "\n"


def _schema_ir_file(ir: Schema, n: Names, text: str) -> str:
    """`base/schema-ir.yaml`: the compiled schema (`schema_ir_json`) in a ConfigMap."""
    schema_ir = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": _meta(n.schema_ir, n.base_namespace, _labels(n, "optimizer")),
        "data": {SCHEMA_KEY: text},
    }
    return header(ir, "# The compiled schema (`hftc ir`), read by the optimisation Job's `hftc optimize`.\n") \
        + dump_yaml(schema_ir)


def base_files(ir: Schema, n: Names) -> dict[str, str]:
    ns = n.base_namespace
    params = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": _meta(n.params, ns, _labels(n, "strategy-params")),
        "data": {
            # What the engine reads (`--params`): an overlay in the format `hftc optimize` writes, so
            # `best_params.yaml` replaces it as is.
            **({contract.PARAMS_KEY: _overlay_doc(ir)} if ir.strategies else {}),
            # For people and the optimiser: each strategy's defaults and search space.
            **{f"{s.name}.yaml": _strategy_doc(s) for s in ir.strategies},
        },
    }
    sa = [{
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": _meta(name, ns, _labels(n, comp)),
        "automountServiceAccountToken": False,
    } for name, comp in ((n.sa, "engine"), (n.optimizer_sa, "optimizer"))]
    deny = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": _meta("default-deny", ns, _labels(n, "network-policy")),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    dns_egress = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": _meta("allow-dns", ns, _labels(n, "network-policy")),
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": n.app}},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }],
        },
    }
    groups, _ = rule_groups(ir)
    rule = {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
        "metadata": _meta(n.rules, ns, _labels(n, "alerting", **{"hftc.io/rules": "true"})),
        "spec": {"groups": groups},
    }
    files = {
        **({"schema-ir.yaml": _schema_ir_file(ir, n, schema_ir_json(ir))} if ir.strategies else {}),
        "strategy-params.yaml": header(ir, "# Strategy parameters (schema defaults), and for reference the search space\n"
                                                "# the optimiser takes from the compiled schema.\n")
        + dump_yaml(params),
        "serviceaccounts.yaml": header(ir, "# No API access: neither pod needs a token.\n") + dump_all(sa),
        "network-policies.yaml": header(ir, "# Deny all traffic in the namespace, then allow DNS. Overlays allow the\n"
                                        "# metrics scrape. SR-IOV (Multus) interfaces are outside NetworkPolicy:\n"
                                        "# venue traffic on the VF is not affected.\n") + dump_all([deny, dns_egress]),
        "prometheus-rule.yaml": header(ir, "# The rules of the prometheus target, for the Prometheus Operator.\n")
        + dump_yaml(rule),
    }
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "namespace": ns,
        "resources": sorted(files),
    }
    files["kustomization.yaml"] = header(ir) + dump_yaml(kustomization)
    return files


# -- overlay ----------------------------------------------------------------

def _engine(ir: Schema, n: Names, d: Deployment, site: str | None) -> dict:
    k, nodes = d.kubernetes, d.nodes
    assert k is not None
    name = n.workload(d, site)
    match = {"app.kubernetes.io/name": n.app, "app.kubernetes.io/component": "engine",
             "app.kubernetes.io/instance": name}
    labels = {**_labels(n, "engine", **{"app.kubernetes.io/instance": name, "hftc.io/deployment": dns(d.name)}),
              **({SITE_LABEL: site} if site else {})}
    resources = {"cpu": str(nodes.cpu_cores), "memory": f"{nodes.memory_gb - nodes.hugepages_1gi}Gi"}
    if nodes.hugepages_1gi:
        resources["hugepages-1Gi"] = f"{nodes.hugepages_1gi}Gi"
    if nodes.sriov:
        resources[k.sriov_resource] = "1"
    pod_annotations = {
        # CRI-O, with the Node Tuning Operator's runtime class: no CFS quota throttling, no load
        # balancing of other tasks onto, and no device IRQs on the pod's exclusive CPUs.
        "cpu-load-balancing.crio.io": "disable",
        "cpu-quota.crio.io": "disable",
        "irq-load-balancing.crio.io": "disable",
        "hftc.io/capabilities": CAPABILITY_REASON,
    }
    if nodes.sriov:
        pod_annotations["k8s.v1.cni.cncf.io/networks"] = json.dumps([{"name": n.nad(d), "interface": "net1"}])
    selector = {SITE_LABEL: site} if site else {}
    if nodes.realtime_kernel:
        selector[RT_LABEL] = "true"
    ec = contract.engine_contract(ir, d)
    mounts = [
        {"name": "params", "mountPath": PARAMS_DIR, "readOnly": True},
        {"name": "venue-credentials", "mountPath": VENUE_DIR, "readOnly": True},
        {"name": "journal", "mountPath": contract.JOURNAL_DIR},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes = [
        {"name": "params", "configMap": {"name": n.params}},
        {"name": "venue-credentials", "secret": {"secretName": k.credentials_secret, "defaultMode": 0o440}},
        # Survives container restarts (the engine recovers from it after a crash), not pod deletion.
        {"name": "journal", "emptyDir": {"sizeLimit": "10Gi"}},
        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
    ]
    if ec.credentials is not None and ec.credentials.source == "file":
        # The schema names the file the engine reads: put the secret's key there.
        folder, _, key = ec.credentials.ref.rpartition("/")
        mounts.append({"name": "venue-credential-file", "mountPath": ec.credentials.ref, "subPath": key,
                       "readOnly": True})
        volumes.append({"name": "venue-credential-file", "secret": {"secretName": k.credentials_secret,
                                                                     "defaultMode": 0o440}})
    if nodes.hugepages_1gi:
        mounts.insert(0, {"name": "hugepages", "mountPath": "/dev/hugepages"})
        volumes.insert(0, {"name": "hugepages", "emptyDir": {"medium": "HugePages-1Gi"}})
    container_ctx = _restricted_context()
    container_ctx["capabilities"] = {"drop": ["ALL"], "add": ["IPC_LOCK", "SYS_NICE"]}
    env = [{"name": "HFTC_DEPLOYMENT", "value": d.name}, {"name": "HFTC_ENVIRONMENT", "value": d.environment}]
    if site:
        env.append({"name": "HFTC_SITE", "value": site})
    if d.pipeline:
        env.append({"name": "HFTC_PIPELINE", "value": d.pipeline})
    env += [{"name": "HFTC_PARAMS_DIR", "value": PARAMS_DIR}, {"name": "HFTC_CREDENTIALS_DIR", "value": VENUE_DIR}]
    if nodes.sriov:
        env.append({"name": "HFTC_VENUE_INTERFACE", "value": "net1"})
    if ec.credentials is not None and ec.credentials.source == "env":
        # The schema names the variable the engine reads: fill it from the Secret, never a literal.
        env.append({"name": ec.credentials.ref, "valueFrom": {"secretKeyRef": {
            "name": k.credentials_secret, "key": ec.credentials.ref.lower().replace("_", "-")}}})

    def probe(p: contract.Probe) -> dict:
        return {"httpGet": {"path": p.path, "port": "health"}, "periodSeconds": p.period_s,
                "timeoutSeconds": p.timeout_s, "failureThreshold": p.failure_threshold}

    probes = {f"{p.kind}Probe": probe(p) for p in contract.PROBES}
    container = {
        "name": "engine",
        "image": k.image,
        "imagePullPolicy": "IfNotPresent",
        # Exactly the flags the engine parses (hftc.ir.engine_contract.FLAGS).
        "args": ec.args(),
        "env": env,
        "ports": [{"name": "metrics", "containerPort": k.metrics_port, "protocol": "TCP"},
                  {"name": "health", "containerPort": k.health_port, "protocol": "TCP"}],
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "securityContext": container_ctx,
        **probes,
        "volumeMounts": mounts,
    }
    pod_spec = {
        "serviceAccountName": n.sa,
        "automountServiceAccountToken": False,
        "runtimeClassName": k.runtime_class,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": ec.termination_grace_s,
        "securityContext": _pod_context(),
        "nodeSelector": selector,
        "tolerations": [{"key": TAINT_KEY, "operator": "Equal", "value": TAINT_VALUE, "effect": "NoSchedule"}],
        "containers": [container],
        "volumes": volumes,
    }
    if not selector:
        del pod_spec["nodeSelector"]
    annotations = {
        **_skip(
            ("CKV_K8S_25", "IPC_LOCK and SYS_NICE are required, see hftc.io/capabilities"),
            ("CKV_K8S_15", "IfNotPresent: restarting during trading hours must not depend on reaching the registry"),
            ("CKV_K8S_43", "the image reference is the schema's; pin a digest there to get one here"),
            *((("CKV_K8S_35", "the schema's gateway reads its venue secret from the environment variable it "
                "names; `credentials: {file: PATH}` in the schema mounts the Secret as a file instead"),)
              if ec.credentials is not None and ec.credentials.source == "env" else ()),
        ),
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _meta(name, k.namespace, labels, annotations),
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 3,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": match},
            "template": {"metadata": {"labels": labels, "annotations": pod_annotations}, "spec": pod_spec},
        },
    }


def _optimizer(ir: Schema, n: Names, d: Deployment, s: Strategy) -> dict:
    k = d.kubernetes
    assert k is not None
    name = f"{n.app}-{dns(d.name)}-optimize-{dns(s.name)}"
    study = f"{ir.package}.{s.name}.{d.name}"
    labels = _labels(n, "optimizer", **{"hftc.io/deployment": dns(d.name), "hftc.io/strategy": dns(s.name)})
    resources = dict(OPTIMIZER_RESOURCES)
    container = {
        "name": "optimizer",
        "image": k.image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["hftc"],
        # `$(HFTC_WORKER_INDEX)` is expanded by the kubelet, not a shell: each worker seeds its sampler
        # differently, so parallel workers explore different points of the shared study.
        "args": ["optimize", f"{SCHEMA_DIR}/{SCHEMA_KEY}", "--strategy", s.name,
                 "--data", f"{MARKET_DIR}/{s.name}.hftt", "--study", study,
                 "--storage-file", f"{OPTUNA_DIR}/url", "--trials", str(TRIALS_PER_WORKER),
                 "--jobs", resources["cpu"], "--seed", "$(HFTC_WORKER_INDEX)", "--out", OPTIMIZE_OUT],
        "env": [
            {"name": "HFTC_WORKER_INDEX", "valueFrom": {"fieldRef": {"fieldPath": COMPLETION_INDEX}}},
            # The root filesystem is read-only: compiled strategies, g++ temporaries and outputs go to /tmp.
            {"name": "HOME", "value": "/tmp"},
            {"name": "TMPDIR", "value": "/tmp"},
            {"name": "HFTC_CACHE_DIR", "value": "/tmp/hftc-cache"},
        ],
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "securityContext": _restricted_context(),
        "volumeMounts": [
            {"name": "schema", "mountPath": SCHEMA_DIR, "readOnly": True},
            {"name": "market-data", "mountPath": MARKET_DIR, "readOnly": True},
            {"name": "optuna-storage", "mountPath": OPTUNA_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    workers = k.optimizer_workers
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": _meta(name, k.namespace, labels, {
            "hftc.io/study": study,
            **_skip(
                ("CKV_K8S_8", "a batch worker has no endpoint to probe; the Job controller tracks completion"),
                ("CKV_K8S_9", "a batch worker serves no traffic, so there is nothing to be ready for"),
                ("CKV_K8S_15", "the engine image is already on the node or pulled once per worker"),
                ("CKV_K8S_43", "the image reference is the schema's; pin a digest there to get one here"),
            ),
        }),
        "spec": {
            "completionMode": "Indexed",
            "completions": workers,
            "parallelism": workers,
            "backoffLimit": workers * 2,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": n.optimizer_sa,
                    "automountServiceAccountToken": False,
                    "restartPolicy": "Never",
                    "securityContext": _pod_context(),
                    "containers": [container],
                    "volumes": [
                        {"name": "schema", "configMap": {"name": n.schema_ir}},
                        {"name": "market-data", "persistentVolumeClaim": {"claimName": n.market_data(d),
                                                                          "readOnly": True}},
                        {"name": "optuna-storage", "secret": {"secretName": n.optuna_secret, "defaultMode": 0o440}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
                    ],
                },
            },
        },
    }


def endpoint_diagnostics(ir: Schema, d: Deployment) -> list[Diagnostic]:
    """HFT0603: a venue endpoint the generated engine would not parse (its `--md` needs a depth
    update feed, its `--venue` a complete order-entry session)."""
    if not (d.venue_md or d.venue_orders):
        return []
    from hftc.backends.cpp.order_entry import order_entry_view
    from hftc.passes.trading import analyse

    model, _ = analyse(ir)
    plan = model.pipelines[0] if model is not None and model.pipelines else None
    missing = []
    if d.venue_md and (plan is None or not any(i.role == "delta" for i in plan.feed.inputs)):
        missing.append(("md", "--md", "its pipeline's feed takes no depth updates"))
    if d.venue_orders and (plan is None or order_entry_view(ir, plan.gateway.message.name,
                                                            plan.gateway.component.name) is None):
        missing.append(("orders", "--venue", "the schema declares no complete order-entry session"))
    return [error("HFT0603", f"deployment `{d.name}`: `venue.{key}` cannot be passed: the engine has no {flag} "
                  f"because {why}", d.span, label="in this deployment",
                  help="remove the endpoint, or declare what the engine needs (see `hftc explain HFT0603`)")
            for key, flag, why in missing]


def overlay_diagnostics(ir: Schema, n: Names, d: Deployment) -> list[Diagnostic]:
    """What `overlay_files` reports: the QoS checks of the engine and optimiser pods it writes."""
    diags: list[Diagnostic] = []
    pods = [_engine(ir, n, d, site) for site in d.sites or (None,)] + [_optimizer(ir, n, d, s) for s in ir.strategies]
    for wl in pods:
        diags += lints.check_guaranteed(d, wl["metadata"]["name"], wl["spec"]["template"]["spec"])
    return diags


def overlay_files(ir: Schema, n: Names, d: Deployment) -> tuple[dict[str, str], list[Diagnostic]]:
    k, nodes = d.kubernetes, d.nodes
    assert k is not None
    ns = k.namespace
    dep = dns(d.name)
    files: dict[str, str] = {}
    diags: list[Diagnostic] = []
    namespace = {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "labels": {**_labels(n, "namespace"), "hftc.io/environment": d.environment,
                                            "pod-security.kubernetes.io/enforce": "baseline",
                                            "pod-security.kubernetes.io/warn": "restricted"}},
    }
    files["namespace.yaml"] = header(ir, "# `baseline` is enforced: `restricted` forbids adding IPC_LOCK and SYS_NICE.\n") \
        + dump_yaml(namespace)
    for site in d.sites or (None,):
        wl = _engine(ir, n, d, site)
        diags += lints.check_guaranteed(d, wl["metadata"]["name"], wl["spec"]["template"]["spec"])
        fname = f"engine-{dns(site)}.yaml" if site else "engine.yaml"
        files[fname] = header(ir, f"# Engine at {site or 'any site'}: Guaranteed QoS (requests == limits, whole CPUs)\n"
                              "# so the static CPU manager gives it exclusive cores.\n" + PROBE_NOTE) + dump_yaml(wl)
    if nodes.sriov:
        config = {"cniVersion": "1.0.0", "name": n.nad(d), "type": "sriov", "spoofchk": "off", "trust": "on",
                  "ipam": {}}
        nad = {
            "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": _meta(n.nad(d), ns, _labels(n, "network"),
                              {"k8s.v1.cni.cncf.io/resourceName": k.sriov_resource}),
            "spec": {"config": json.dumps(config, indent=2)},
        }
        files["network-attachment.yaml"] = header(ir, "# The venue-facing SR-IOV VF. No IPAM: the engine's kernel-bypass"
                                                  " stack owns the VF's addressing.\n") + dump_yaml(nad)
    engine_match = {"app.kubernetes.io/name": n.app, "app.kubernetes.io/component": "engine",
                    "hftc.io/deployment": dep}
    metrics_policy = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": _meta(f"{n.app}-{dep}-allow-metrics", ns, _labels(n, "network-policy")),
        "spec": {
            "podSelector": {"matchLabels": engine_match},
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}],
                "ports": [{"protocol": "TCP", "port": k.metrics_port}],
            }],
        },
    }
    optimizer_policy = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": _meta(f"{n.app}-{dep}-optimizer-egress", ns, _labels(n, "network-policy")),
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": n.app, "app.kubernetes.io/component": "optimizer",
                                            "hftc.io/deployment": dep}},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"protocol": "TCP", "port": 5432}]}],
        },
    }
    policies = [metrics_policy, optimizer_policy]
    if d.venue_orders or d.venue_md:
        # The engine's own venue traffic over the cluster network (`venue:`): orders out over TCP,
        # market data in over UDP, on their ports.
        venue_spec: dict = {"podSelector": {"matchLabels": engine_match}, "policyTypes": []}
        if d.venue_orders:
            venue_spec["policyTypes"].append("Egress")
            venue_spec["egress"] = [{"ports": [{"protocol": "TCP", "port": int(d.venue_orders.rsplit(":", 1)[1])}]}]
        if d.venue_md:
            venue_spec["policyTypes"].append("Ingress")
            venue_spec["ingress"] = [{"ports": [{"protocol": "UDP", "port": int(d.venue_md.rsplit(":", 1)[1])}]}]
        policies.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": _meta(f"{n.app}-{dep}-allow-venue", ns, _labels(n, "network-policy")),
                         "spec": venue_spec})
    files["network-policies.yaml"] = header(ir, "# Prometheus (namespace `monitoring`) may scrape the metrics port; the\n"
                                            "# optimiser may reach PostgreSQL; the engine its venue (`venue:`). Kubelet\n"
                                            "# probes come from the node and are not subject to NetworkPolicy in\n"
                                            "# common CNIs.\n") \
        + dump_all(policies)
    pdb = {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": _meta(f"{n.app}-{dep}-engine", ns, _labels(n, "engine"),
                          {"hftc.io/reason": "an engine is never evicted voluntarily: drain a trading node only "
                                             "after the engine has flattened and stopped"}),
        "spec": {"maxUnavailable": 0, "selector": {"matchLabels": engine_match}},
    }
    files["pod-disruption-budget.yaml"] = header(ir) + dump_yaml(pdb)
    interval_ms = ir.monitoring.interval_ms if ir.monitoring else 1000
    interval = f"{interval_ms}ms" if interval_ms % 1000 else f"{interval_ms // 1000}s"
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
        "metadata": _meta(f"{n.app}-{dep}-engine", ns, _labels(n, "engine")),
        "spec": {
            "selector": {"matchLabels": engine_match},
            "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": interval,
                                     "scrapeTimeout": interval}],
        },
    }
    files["pod-monitor.yaml"] = header(ir, "# The scrape timeout equals the interval: Prometheus rejects a timeout\n"
                                       "# longer than the interval, and the default (10s) is.\n") + dump_yaml(monitor)
    jobs = [_optimizer(ir, n, d, s) for s in ir.strategies]
    for job in jobs:
        diags += lints.check_guaranteed(d, job["metadata"]["name"], job["spec"]["template"]["spec"])
    if jobs:
        files["optimizer-jobs.yaml"] = header(ir, f"# Optuna: {k.optimizer_workers} parallel workers per strategy, "
                                              f"{TRIALS_PER_WORKER} trials each, add to one study\n# in PostgreSQL. "
                                              f"The storage URL (postgresql://...) is read from Secret "
                                              f"`{n.optuna_secret}`,\n# key `url`, mounted as a file; it is never "
                                              "written here. Without the trading taint's\n# toleration the workers "
                                              "never run on trading nodes. Guaranteed QoS (requests == limits)\n# "
                                              "keeps trial timings steady.\n") + dump_all(jobs)
        claim = {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": _meta(n.market_data(d), ns, _labels(n, "market-data")),
            "spec": {"accessModes": ["ReadOnlyMany"], "volumeMode": "Filesystem",
                     "resources": {"requests": {"storage": MARKET_DATA_SIZE}}},
        }
        tapes = ", ".join(f"`{s.name}.hftt`" for s in ir.strategies)
        files["market-data.yaml"] = header(ir, f"# Market-data tapes for the optimiser, mounted read-only at {MARKET_DIR}: "
                                           f"{tapes}.\n# Fill the volume before running the Job, with "
                                           "`hftc data convert CAPTURE... -o <volume>/<strategy>.hftt`\n"
                                           "# (see README.md). No storageClassName: the cluster default is used; "
                                           "ReadOnlyMany needs a\n# shared-filesystem class (NFS, CephFS, EFS) or a "
                                           "pre-provisioned PersistentVolume.\n") + dump_yaml(claim)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "namespace": ns,
        "labels": [{"pairs": {"hftc.io/deployment": dep, "hftc.io/environment": d.environment,
                              **{f"hftc.io/{dns(key)}": value for key, value in d.tags}},
                    "includeSelectors": False}],
        "resources": ["../../base"] + sorted(files),
    }
    files["kustomization.yaml"] = header(ir) + dump_yaml(kustomization)
    return files, diags


# -- node tuning ------------------------------------------------------------

def node_tuning_files(ir: Schema, d: Deployment, plan: lints.CpuPlan) -> dict[str, str]:
    k, nodes = d.kubernetes, d.nodes
    assert k is not None
    profile = k.runtime_class.removeprefix("performance-") or "hft"
    reserved, isolated = cpuset.format_cpus(plan.reserved), cpuset.format_cpus(plan.isolated)
    spec: dict = {
        "cpu": {"isolated": isolated, "reserved": reserved},
    }
    if nodes.hugepages_1gi:
        spec["hugepages"] = {"defaultHugepagesSize": "1G",
                             "pages": [{"size": "1G", "count": nodes.hugepages_1gi, "node": 0}]}
    spec.update({
        "realTimeKernel": {"enabled": nodes.realtime_kernel},
        "numa": {"topologyPolicy": "single-numa-node"},
        "workloadHints": {"realTime": True, "highPowerConsumption": True, "perPodPowerManagement": False},
        "globallyDisableIrqLoadBalancing": False,
        "additionalKernelArgs": ["nmi_watchdog=0", "audit=0", "mce=off", "processor.max_cstate=1",
                                 "intel_idle.max_cstate=0", "tsc=reliable"],
        "nodeSelector": {f"node-role.kubernetes.io/{profile}": ""},
        "machineConfigPoolSelector": {f"pools.operator.machineconfiguration.openshift.io/{profile}": ""},
    })
    pp = {"apiVersion": "performance.openshift.io/v2", "kind": "PerformanceProfile",
          "metadata": {"name": profile}, "spec": spec}
    # Memory reserved for the system must equal kube-reserved + system-reserved + the hard eviction threshold.
    kubelet = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "cpuManagerPolicy": "static",
        "cpuManagerPolicyOptions": {"full-pcpus-only": "true"},
        "cpuManagerReconcilePeriod": "10s",
        "reservedSystemCPUs": reserved,
        "topologyManagerPolicy": "single-numa-node",
        "topologyManagerScope": "pod",
        "memoryManagerPolicy": "Static",
        "kubeReserved": {"memory": "1Gi"},
        "systemReserved": {"memory": "1Gi"},
        "evictionHard": {"memory.available": "100Mi"},
        "reservedMemory": [{"numaNode": 0, "limits": {"memory": "2148Mi"}}],
    }
    return {
        "performance-profile.yaml": header(ir, "# OpenShift Node Tuning Operator. It creates RuntimeClass "
                                           f"`performance-{profile}`, which the engine\n# uses; isolated CPUs get "
                                           "nohz_full, rcu_nocbs and no IRQs. Reserved and isolated must\n# together "
                                           "cover every online CPU of the node: extend `isolated` on larger hosts.\n")
        + dump_yaml(pp),
        "kubelet-config.yaml": header(ir, "# For kubelets configured by file (kubeadm and the like): exclusive whole "
                                      "cores for\n# Guaranteed pods, CPUs, memory and huge pages from one NUMA node, "
                                      f"housekeeping on CPUs {reserved}.\n# Reserved memory = kube-reserved 1Gi + "
                                      "system-reserved 1Gi + eviction 100Mi.\n") + dump_yaml(kubelet),
    }


def readme(ir: Schema, n: Names, deployments: list[Deployment]) -> str:
    rows = []
    for d in deployments:
        k, nodes = d.kubernetes, d.nodes
        assert k is not None
        sites = ", ".join(d.sites) or "any"
        workloads = ", ".join(f"`{n.workload(d, s)}`" for s in (d.sites or (None,)))
        rows.append(f"| `{dns(d.name)}` | `{k.namespace}` | {sites} | {workloads} | {nodes.cpu_cores} | "
                    f"{nodes.memory_gb - nodes.hugepages_1gi}Gi | {nodes.hugepages_1gi}Gi | "
                    f"{'`' + k.sriov_resource + '`' if nodes.sriov else 'no'} |")
    secrets = sorted({(d.kubernetes.namespace, d.kubernetes.credentials_secret) for d in deployments if d.kubernetes})
    lines = [
        f"# Kubernetes deployment of `{ir.package}`",
        "",
        "Generated by hftc; do not edit. Build and apply one deployment with",
        "`kubectl apply -k overlays/<deployment>` (or `kubectl kustomize overlays/<deployment>`).",
        "",
        "| deployment | namespace | sites | workloads | CPUs | memory | 1Gi huge pages | SR-IOV VF |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "## Layout",
        "",
        "- `base/`: strategy parameters (ConfigMap), the compiled schema for the optimiser (ConfigMap with the",
        "  `hftc ir` JSON), alert and recording rules (PrometheusRule), service accounts, default-deny and DNS",
        "  NetworkPolicies.",
        "- `overlays/<deployment>/`: namespace, one engine Deployment per site (one replica, `Recreate`, so two",
        "  engines never share a venue session; the deployment's `venue:` endpoints are its `--venue` and `--md`),",
        "  SR-IOV NetworkAttachmentDefinition, metrics NetworkPolicy (and one for the venue's ports),",
        "  PodDisruptionBudget (`maxUnavailable: 0`), PodMonitor, Optuna optimisation Job and the market-data",
        "  PersistentVolumeClaim it reads.",
        "- `node-tuning/<deployment>/`: PerformanceProfile (OpenShift Node Tuning Operator) or",
        "  KubeletConfiguration (static CPU manager, single-NUMA-node topology, reserved CPUs) for the nodes.",
        "",
        "## Before applying",
        "",
        f"- Trading nodes carry the label `{SITE_LABEL}=<SITE>` (and `{RT_LABEL}=true` where a real-time kernel is",
        f"  required) and the taint `{TAINT_KEY}={TAINT_VALUE}:NoSchedule`, which only the engine tolerates.",
        "- The cluster runs Multus and the SR-IOV device plugin (for SR-IOV deployments), the Prometheus",
        f"  Operator, and Prometheus in namespace `{MONITORING_NAMESPACE}` (the only source allowed to scrape); that",
        "  Prometheus selects the PodMonitors of these namespaces and PrometheusRules labelled `hftc.io/rules=true`.",
        "- Secrets are referenced, never generated. Create them out of band:",
        *[f"  - `{name}` in `{ns}`: venue credentials, mounted as files under `{VENUE_DIR}`." for ns, name in secrets],
        f"  - `{n.optuna_secret}` in each namespace, key `url`: the PostgreSQL URL of the Optuna study storage.",
        "",
        "## Optimisation Job",
        "",
        "Each strategy gets an Indexed Job per deployment: `optimizer_workers` pods, each running",
        f"`hftc optimize {SCHEMA_DIR}/{SCHEMA_KEY} --strategy <strategy> --data {MARKET_DIR}/<strategy>.hftt",
        f"--study <study> --storage-file {OPTUNA_DIR}/url --trials {TRIALS_PER_WORKER} --jobs {OPTIMIZER_RESOURCES['cpu']}",
        f"--seed <completion index> --out {OPTIMIZE_OUT}`.",
        "All workers add trials to the same PostgreSQL study (named in the Job's `hftc.io/study` annotation).",
        "",
        f"- Market data: the PersistentVolumeClaim `{n.app}-<deployment>-market-data` ({MARKET_DATA_SIZE},",
        f"  `ReadOnlyMany`) is mounted read-only at `{MARKET_DIR}`. It uses the cluster's default storage",
        "  class: patch in a `storageClassName` that supports ReadOnlyMany (NFS, CephFS, EFS) or bind it to a",
        "  pre-provisioned PersistentVolume. Fill the backing share before starting the Job, one tape per strategy:",
        "  `hftc data convert CAPTURE... -o <share>/<strategy>.hftt`.",
        f"- Tapes for this schema: {', '.join(f'`{s.name}.hftt`' for s in ir.strategies) or 'none'}.",
        "- Results stay in the study. Fetch the Pareto front and `best_params.yaml` from anywhere that reaches",
        "  the database by resuming it: `hftc optimize SCHEMA --strategy <strategy> --data TAPE --storage URL",
        "  --study <study> --trials 1 --out DIR`, then `hftc build SCHEMA --params DIR/best_params.yaml`.",
        "",
        "## Engine image contract",
        "",
        "Build the engine image from the C++ target: `hftc build SCHEMA -t cpp`, then `docker build -t IMAGE",
        "hftc-out/<package>/cpp` (its Dockerfile: distroless, UID " + str(UID) + ", nothing written outside the mounted",
        "volumes). The container runs the engine with exactly the flags it parses (`hftc.ir.engine_contract`):",
        "",
        *[f"    {f.name} {f.value}".rstrip() + f"  # {f.help}" for f in contract.FLAGS],
        "",
        "Metrics on the metrics port at `/metrics`; `/livez`, `/readyz` and `/startupz` on the health port.",
        f"Strategy parameters: `{PARAMS_DIR}/{contract.PARAMS_KEY}`, an overlay in the format of `hftc optimize`'s",
        "`best_params.yaml` (replace the ConfigMap key with it, then send SIGHUP or restart the pod); an invalid",
        "file is refused and the old values kept. The venue secret reaches the engine only as the gateway's",
        "`credentials` reference names it (an environment variable filled from the Secret, or a file mounted",
        f"where the schema says). The audit journal is written under `{contract.JOURNAL_DIR}` (an emptyDir: it",
        "survives container restarts, so the engine recovers its orders after a crash). On SIGTERM the engine",
        f"stops quoting, cancels its resting orders, waits up to {contract.SHUTDOWN_DEADLINE_S} s for the cancels to be confirmed, logs out",
        f"and exits; the pod's termination grace period is {contract.SHUTDOWN_DEADLINE_S + contract.GRACE_MARGIN_S} s.",
        "The optimisation Job runs the same image: it needs the `hftc` command on PATH and a C++20 `g++`, since",
        "every trial backtests the strategy compiled in the pod (into `/tmp`; the root filesystem is read-only).",
        "",
    ]
    return "\n".join(lines)


def _schema_ir_size(ir: Schema, manifest: str) -> list[Diagnostic]:
    size = len(manifest.encode("utf-8"))
    if size > CONFIGMAP_LIMIT:
        return [error("HFT0629", f"the compiled schema takes {size // 1024} KiB, more than a ConfigMap holds "
                      f"({CONFIGMAP_LIMIT // 1024} KiB), so the optimiser Job cannot get it", None,
                      help="split the schema, or bake `hftc ir` output into the image and patch the Job's volume")]
    if size > APPLY_ANNOTATION_LIMIT:
        return [warning("HFT0629", f"the compiled schema takes {size // 1024} KiB: a client-side `kubectl apply` "
                        f"fails above {APPLY_ANNOTATION_LIMIT // 1024} KiB", None,
                        help="apply with `kubectl apply --server-side -k ...`")]
    return []


def _schema_ir_size_check(ir: Schema, n: Names) -> list[Diagnostic]:
    """What `_schema_ir_size` reports on `base/schema-ir.yaml`, without writing that file when a bound
    on its size shows it is under both limits. YAML writes a printable ASCII character as at most two
    (a doubled quote, an escaped backslash) and any other as at most ten (`\\U0001F600`); folding at
    width 1000 adds under one per cent; the ConfigMap around the text is far under the slack."""
    if not ir.strategies:
        return []  # no optimiser Job, no schema ConfigMap
    text = schema_ir_json(ir)
    if _schema_ir_file_bound(ir, text) < min(APPLY_ANNOTATION_LIMIT, CONFIGMAP_LIMIT):
        return []
    return _schema_ir_size(ir, _schema_ir_file(ir, n, text))


def _schema_ir_file_bound(ir: Schema, text: str) -> float:
    """More bytes than `_schema_ir_file` writes for `text`."""
    other = len(_NOT_PRINTABLE_ASCII.findall(text))
    return 2.1 * (len(text) - other) + 10 * other + 4096 + len(ir.package) * 8


_NOT_PRINTABLE_ASCII = re.compile(r"[^ -~]")


class K8sBackend:
    name = "k8s"
    description = "Kubernetes: kustomize base and per-deployment overlays, node tuning (PerformanceProfile, kubelet)"
    ir_versions = (4,)

    def generate(self, ir: Schema, options: BackendOptions) -> BackendResult:
        n = Names(ir)
        files: dict[str, str] = {}
        diags: list[Diagnostic] = []
        deployments = [d for d in ir.deployments if d.kubernetes is not None]
        for d in ir.deployments:
            if d.kubernetes is None:
                diags.append(warning("HFT0610", f"deployment `{d.name}` has no `kubernetes` section; no overlay is "
                                     "generated for it", d.span, label="in this deployment"))
        if not deployments:
            return BackendResult(diagnostics=tuple(diags))
        for rel, text in base_files(ir, n).items():
            files[f"base/{rel}"] = text
        diags += _schema_ir_size(ir, files.get("base/schema-ir.yaml", ""))
        for d in deployments:
            diags += lints.check_deployment(ir, d)
            diags += endpoint_diagnostics(ir, d)
            plan, plan_diags = lints.cpu_plan(d)
            diags += plan_diags
            overlay, overlay_diags = overlay_files(ir, n, d)
            diags += overlay_diags
            for rel, text in overlay.items():
                files[f"overlays/{dns(d.name)}/{rel}"] = text
            for rel, text in node_tuning_files(ir, d, plan).items():
                files[f"node-tuning/{dns(d.name)}/{rel}"] = text
        files["README.md"] = readme(ir, n, deployments)
        return BackendResult(files=tuple(GeneratedFile(p, files[p]) for p in sorted(files)),
                             diagnostics=tuple(diags))

    def check(self, ir: Schema, options: BackendOptions) -> tuple[Diagnostic, ...]:
        """What `generate` reports, with the manifests built as data but never written as YAML
        (writing them is most of the work, and `hftc lint` runs this on every keystroke)."""
        n = Names(ir)
        diags: list[Diagnostic] = []
        deployments = [d for d in ir.deployments if d.kubernetes is not None]
        for d in ir.deployments:
            if d.kubernetes is None:
                diags.append(warning("HFT0610", f"deployment `{d.name}` has no `kubernetes` section; no overlay is "
                                     "generated for it", d.span, label="in this deployment"))
        if not deployments:
            return tuple(diags)
        diags += _schema_ir_size_check(ir, n)
        for d in deployments:
            diags += lints.check_deployment(ir, d)
            diags += lints.cpu_plan(d)[1]
            diags += overlay_diagnostics(ir, n, d)
            diags += endpoint_diagnostics(ir, d)
        return tuple(diags)


BACKEND = K8sBackend()
