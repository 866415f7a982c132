"""Build-time checks of a deployment's Kubernetes settings (HFT0610-HFT0624).

Each diagnostic points at the deployment in the schema. Errors stop the build;
warnings flag settings that deploy but defeat the low-latency intent.
"""

from __future__ import annotations

from dataclasses import dataclass

from hftc.backends.k8s import cpuset
from hftc.diagnostics.model import Diagnostic, error, warning
from hftc.ir.model import Deployment, Schema

GUARANTEED_RESOURCES = ("cpu", "memory")


@dataclass(frozen=True)
class CpuPlan:
    """Host CPUs split between housekeeping (reserved) and the engine (isolated)."""

    reserved: tuple[int, ...]
    isolated: tuple[int, ...]


def cpu_plan(d: Deployment) -> tuple[CpuPlan, list[Diagnostic]]:
    n = d.nodes
    default = CpuPlan((0, 1), tuple(range(2, 2 + n.cpu_cores)))
    if n.isolated_cpus is None:
        return default, []
    isolated = cpuset.parse(n.isolated_cpus)
    if isolated is None:
        return default, [error("HFT0614", f"deployment `{d.name}`: `isolated_cpus` `{n.isolated_cpus}` is not a "
                               "cpuset list", d.span, label="in this deployment",
                               help="write CPU lists like `2-15` or `2-7,10-15`")]
    reserved = cpuset.complement_below(isolated)
    if not reserved:
        return default, [error("HFT0614", f"deployment `{d.name}`: `isolated_cpus` `{n.isolated_cpus}` leaves no "
                               "CPU for housekeeping", d.span, label="in this deployment",
                               help="keep at least CPU 0 (and its SMT sibling) out of the isolated set for the "
                                    "kernel, kubelet and runtime")]
    diags = []
    if n.cpu_cores > len(isolated):
        diags.append(warning("HFT0615", f"deployment `{d.name}` asks for {n.cpu_cores} dedicated CPUs but "
                             f"`isolated_cpus` `{n.isolated_cpus}` holds {len(isolated)}; "
                             f"{n.cpu_cores - len(isolated)} of the engine's CPUs will take kernel noise "
                             "(timer ticks, IRQs, kworkers)", d.span, label="in this deployment",
                             help="isolate at least `cpu_cores` CPUs, or lower `cpu_cores`"))
    return CpuPlan(reserved, isolated), diags


def check_deployment(ir: Schema, d: Deployment) -> list[Diagnostic]:
    """Checks of one deployment that has a `kubernetes` section."""
    k, n = d.kubernetes, d.nodes
    assert k is not None
    where = {"label": "in this deployment"}
    diags: list[Diagnostic] = []
    if k.metrics_port == k.health_port:
        diags.append(error("HFT0611", f"deployment `{d.name}`: metrics port and health port are both {k.metrics_port}",
                           d.span, help="give the Prometheus exporter and the health endpoint different ports", **where))
    if ir.monitoring is not None and ir.monitoring.metrics_port != k.metrics_port:
        diags.append(warning("HFT0612", f"deployment `{d.name}` exposes metrics on port {k.metrics_port} but "
                             f"`monitoring.metrics_port` is {ir.monitoring.metrics_port}", d.span,
                             help="the PodMonitor scrapes the deployment's port; make the two agree", **where))
    if n.hugepages_1gi >= n.memory_gb:
        diags.append(error("HFT0613", f"deployment `{d.name}`: {n.hugepages_1gi} GiB of 1 GiB huge pages leave none of "
                           f"the {n.memory_gb} GiB of memory for the process", d.span,
                           help="`memory_gb` is the node memory the engine needs, huge pages included: raise it above "
                                "`hugepages_1gi`", **where))
    pipeline = next((p for p in ir.pipelines if p.name == d.pipeline), None)
    if pipeline is None and len(ir.pipelines) == 1:
        pipeline = ir.pipelines[0]
    if pipeline is not None:
        pinned = len({t.cpu for t in pipeline.threads})
        if pinned >= n.cpu_cores:
            diags.append(error("HFT0616", f"deployment `{d.name}`: pipeline `{pipeline.name}` pins {pinned} threads but "
                               f"the pod has {n.cpu_cores} CPUs", d.span,
                               help="leave at least one CPU for the housekeeping thread that serves metrics and "
                                    "health probes", **where))
        if "hugepages" in pipeline.features and n.hugepages_1gi == 0:
            diags.append(warning("HFT0617", f"pipeline `{pipeline.name}` uses huge pages but deployment `{d.name}` "
                                 "requests none (`nodes.hugepages_1gi` is 0)", d.span,
                                 help="request 1 GiB huge pages, or the pools fall back to 4 KiB pages and TLB misses",
                                 **where))
        if pipeline.memory_mb and pipeline.memory_mb > n.memory_gb * 1024:
            diags.append(warning("HFT0622", f"pipeline `{pipeline.name}` targets {pipeline.memory_mb} MB but deployment "
                                 f"`{d.name}` provides {n.memory_gb} GiB", d.span, **where))
    if not n.sriov:
        diags.append(warning("HFT0618", f"deployment `{d.name}` has no SR-IOV interface: order traffic uses the cluster "
                             "network, which the generated default-deny NetworkPolicy blocks", d.span,
                             help="set `nodes.sriov: true`, or add a NetworkPolicy allowing egress to the venue", **where))
    if not k.runtime_class.startswith("performance-"):
        diags.append(warning("HFT0619", f"deployment `{d.name}`: runtime class `{k.runtime_class}` does not match the "
                             "`performance-<profile>` RuntimeClass the Node Tuning Operator creates", d.span,
                             help="name it `performance-<name>`; the generated PerformanceProfile is then `<name>`",
                             **where))
    if not d.sites:
        diags.append(warning("HFT0621", f"deployment `{d.name}` lists no sites: its engine may land on any dedicated "
                             "node", d.span, help="list the colocation sites, e.g. `sites: [NY4]`", **where))
    return diags


def _parse_quantity(value: object) -> float | None:
    text = str(value)
    suffixes = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, scale in suffixes.items():
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * scale
            except ValueError:
                return None
    try:
        return float(text)
    except ValueError:
        return None


def check_guaranteed(d: Deployment, workload: str, pod_spec: dict) -> list[Diagnostic]:
    """The pod must be Guaranteed QoS with whole CPUs, or the static CPU manager will not pin it."""
    diags = []
    for c in pod_spec.get("containers", []):
        res = c.get("resources", {})
        requests, limits = res.get("requests", {}), res.get("limits", {})
        for key in sorted(set(requests) | set(limits)):
            if requests.get(key) != limits.get(key):
                diags.append(error("HFT0623", f"`{workload}` container `{c['name']}`: {key} request "
                                   f"{requests.get(key)} differs from its limit {limits.get(key)}", d.span,
                                   label="in this deployment",
                                   help="requests must equal limits for Guaranteed QoS and exclusive CPUs"))
        for key in GUARANTEED_RESOURCES:
            if key not in limits:
                diags.append(error("HFT0623", f"`{workload}` container `{c['name']}` has no {key} limit", d.span,
                                   label="in this deployment", help="Guaranteed QoS needs CPU and memory limits"))
        cpu = _parse_quantity(limits.get("cpu", "0"))
        if cpu is None or cpu != int(cpu) or cpu < 1:
            diags.append(error("HFT0624", f"`{workload}` container `{c['name']}` asks for {limits.get('cpu')} CPUs",
                               d.span, label="in this deployment",
                               help="the static CPU manager pins only whole CPUs; use an integer"))
    return diags
