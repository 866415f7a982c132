"""Submit a deployment's Kubernetes manifests to the cluster of the user's kubeconfig.

The `k8s` target is built into a temporary folder; the deployment's overlay is
rendered (the small part of kustomize the backend uses: `resources`, `namespace`,
`labels`) and each object is sent with server-side apply. A server-side dry run
(`dryRun=All`) is the default: the API server validates and admits every object
but stores nothing.

The cluster is reached through a `KubeClient` (one method, `apply`), so tests and
other tools can inject their own; `connect()` makes the real one from a kubeconfig.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol

from hftc.diagnostics.model import Diagnostic, has_errors

FIELD_MANAGER = "hftc"

CLUSTER_SCOPED = frozenset({
    "APIService", "CSIDriver", "CSINode", "ClusterIssuer", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "IngressClass", "KubeletConfig", "MachineConfig", "MachineConfigPool",
    "MutatingWebhookConfiguration", "Namespace", "Node", "PerformanceProfile", "PersistentVolume", "PriorityClass",
    "RuntimeClass", "SriovNetworkNodePolicy", "StorageClass", "Tuned", "ValidatingAdmissionPolicy",
    "ValidatingWebhookConfiguration", "VolumeSnapshotClass",
})
# Objects others depend on go first: namespaces, then definitions and configuration, workloads last.
_ORDER = {"Namespace": 0, "CustomResourceDefinition": 1, "ServiceAccount": 2, "ConfigMap": 2, "Secret": 2,
          "NetworkAttachmentDefinition": 2, "Role": 3, "RoleBinding": 3, "ClusterRole": 3, "ClusterRoleBinding": 3,
          "Deployment": 5, "StatefulSet": 5, "DaemonSet": 5, "Job": 6, "CronJob": 6}
_KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "labels", "resources"}


class ApplyError(Exception):
    """Something the user must fix before anything can be applied; never a traceback."""

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic] = ()):
        super().__init__(message)
        self.diagnostics = list(diagnostics)


class ObjectError(Exception):
    """The API server (or the way to it) refused one object."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class KubeClient(Protocol):
    def apply(self, manifest: dict[str, Any], *, dry_run: bool, field_manager: str) -> None:
        """Server-side apply one object; raise `ObjectError` when it is refused."""


@dataclass
class Applied:
    kind: str
    name: str
    namespace: str | None
    status: str  # "applied", "valid" (dry run), "unchecked" or "failed"
    message: str = ""

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}" + (f" in {self.namespace}" if self.namespace else "")


@dataclass
class ApplyReport:
    dry_run: bool
    results: list[Applied] = field(default_factory=list)

    @property
    def failed(self) -> list[Applied]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed


# -- manifests -------------------------------------------------------------------

def _read_docs(path: Path) -> list[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return [d for d in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (OSError, YAMLError) as exc:
        raise ApplyError(f"cannot read {path}: {exc}") from None


def _load_all(path: Path) -> list[dict[str, Any]]:
    objs = _read_docs(path)
    for d in objs:
        if not isinstance(d, dict) or "kind" not in d or "apiVersion" not in d:
            raise ApplyError(f"{path} holds something that is not a Kubernetes object")
    return objs


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """Render a kustomization that uses only `resources`, `namespace` and `labels`; refuse anything else."""
    kfile = next((directory / n for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")
                  if (directory / n).is_file()), None)
    if kfile is None:
        raise ApplyError(f"no kustomization in {directory}")
    docs = _read_docs(kfile)
    data = docs[0] if len(docs) == 1 and isinstance(docs[0], dict) else None
    if data is None:
        raise ApplyError(f"{kfile} is not one kustomization mapping")
    unsupported = sorted(set(data) - _KUSTOMIZATION_FIELDS)
    if unsupported:
        raise ApplyError(f"{kfile.name} in {directory.name} uses {', '.join(unsupported)}, which `hftc deploy --apply` "
                         "does not render; apply the build output with `kubectl apply -k` instead")
    objs: list[dict[str, Any]] = []
    for res in data.get("resources") or []:
        target = (directory / str(res)).resolve()
        objs += kustomize(target) if target.is_dir() else _load_all(target)
    pairs: dict[str, str] = {}
    for group in data.get("labels") or []:
        if group.get("includeSelectors") or group.get("includeTemplates") or set(group) - {"pairs", "includeSelectors",
                                                                                         "includeTemplates"}:
            raise ApplyError(f"{kfile.name} in {directory.name}: only plain label pairs are rendered; apply the build "
                             "output with `kubectl apply -k` instead")
        pairs.update({str(k): str(v) for k, v in (group.get("pairs") or {}).items()})
    namespace = data.get("namespace")
    for obj in objs:
        meta = obj.setdefault("metadata", {})
        if pairs:
            meta["labels"] = {**(meta.get("labels") or {}), **pairs}
        if namespace and obj["kind"] not in CLUSTER_SCOPED:
            meta["namespace"] = namespace
            if obj["kind"] in ("RoleBinding", "ClusterRoleBinding"):
                for subject in obj.get("subjects") or []:
                    if subject.get("kind") == "ServiceAccount":
                        subject["namespace"] = namespace
    return objs


def _dns(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def build_manifests(ir: Any, deployment: str) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    """Build the `k8s` target into a temporary folder and render `deployment`'s overlay, in apply order."""
    from hftc.driver.build import build
    from hftc.driver.registry import load_backend

    try:
        backend = load_backend("k8s")
    except ImportError as exc:
        backend, why = None, f" ({exc})"
    else:
        why = ""
    if backend is None:
        raise ApplyError(f"the `k8s` build target is not available in this installation{why}; "
                         "`hftc targets` lists the ones that are")
    with tempfile.TemporaryDirectory(prefix="hftc-deploy-") as tmp:
        report = build(ir, ["k8s"], tmp)
        if has_errors(report.diagnostics):
            raise ApplyError("building the `k8s` target failed", report.diagnostics)
        overlay = Path(tmp) / "k8s" / "overlays" / _dns(deployment)
        if not overlay.is_dir():
            raise ApplyError(f"the `k8s` target made no overlay for deployment `{deployment}`; a deployment needs a "
                             "`kubernetes:` section (namespace and image) to run on Kubernetes", report.diagnostics)
        objs = kustomize(overlay)
    objs.sort(key=lambda o: (_ORDER.get(o["kind"], 4), o["kind"], str(o.get("metadata", {}).get("name", ""))))
    return objs, report.diagnostics


# -- the cluster -----------------------------------------------------------------

def apply_manifests(objects: list[dict[str, Any]], client: KubeClient, dry_run: bool = True) -> ApplyReport:
    """Apply every object (in order) and record each outcome; one refusal does not stop the rest."""
    report = ApplyReport(dry_run)
    created_namespaces = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    for obj in objects:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") if obj["kind"] not in CLUSTER_SCOPED else None
        item = Applied(obj["kind"], str(meta.get("name", "")), namespace, "valid" if dry_run else "applied")
        try:
            client.apply(obj, dry_run=dry_run, field_manager=FIELD_MANAGER)
        except ObjectError as exc:
            message = str(exc)
            if (dry_run and exc.status == 404 and namespace in created_namespaces
                    and f'namespaces "{namespace}" not found' in message):
                item.status = "unchecked"
                item.message = (f"namespace {namespace} is created by this apply; a dry run cannot check objects "
                                "inside it before it exists")
            else:
                item.status, item.message = "failed", message
        report.results.append(item)
    return report


class DynamicKubeClient:
    """`KubeClient` over the official client's dynamic client (any kind the server serves, CRDs included)."""

    def __init__(self, api_client: Any = None, dynamic: Any = None):
        if dynamic is None:
            from kubernetes.dynamic import DynamicClient

            dynamic = DynamicClient(api_client)
        self.dynamic = dynamic

    def apply(self, manifest: dict[str, Any], *, dry_run: bool, field_manager: str) -> None:
        from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

        api_version, kind = manifest["apiVersion"], manifest["kind"]
        try:
            resource = self.dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            raise ObjectError(f"the cluster does not serve {kind} ({api_version}); install the operator or CRD "
                              "that defines it") from None
        meta = manifest.get("metadata") or {}
        try:
            self.dynamic.server_side_apply(
                resource, body=manifest, name=meta.get("name"),
                namespace=meta.get("namespace") if resource.namespaced else None,
                field_manager=field_manager, force_conflicts=False, dry_run="All" if dry_run else None)
        except DynamicApiError as exc:
            raise ObjectError(_api_message(exc), exc.status) from None
        except Exception as exc:  # connection resets, TLS errors: reported per object, never a traceback
            raise ObjectError(f"{type(exc).__name__}: {exc}") from None


def _api_message(exc: Any) -> str:
    """The API server's `Status.message`, else the response body, else status and reason."""
    import json

    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
    try:
        message = json.loads(body).get("message") if body else None
    except (ValueError, AttributeError):
        message = None
    return str(message or body or f"{exc.status} {exc.reason}")


def _kubeconfig_paths(kubeconfig: str | None) -> list[str]:
    raw = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    return [os.path.expanduser(p) for p in raw.split(os.pathsep) if p]


def connect(kubeconfig: str | None = None, context: str | None = None, timeout_s: float = 10.0) -> DynamicKubeClient:
    """A client for the cluster of `kubeconfig` (default: $KUBECONFIG, then ~/.kube/config), checked reachable."""
    try:
        from kubernetes import client as k8s_client, config as k8s_config
    except ImportError:
        raise ApplyError("the `kubernetes` Python package is not installed; `pip install kubernetes`") from None
    paths = _kubeconfig_paths(kubeconfig)
    existing = [p for p in paths if os.path.isfile(p)]
    try:
        if existing:
            api = k8s_config.new_client_from_config(config_file=os.pathsep.join(existing), context=context)
        elif kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            k8s_config.load_incluster_config()
            api = k8s_client.ApiClient()
        else:
            raise ApplyError(f"no kubeconfig at {', '.join(paths)}; set KUBECONFIG or pass --kubeconfig")
    except ApplyError:
        raise
    except Exception as exc:  # ConfigException, bad YAML, missing certificate files...
        raise ApplyError(f"cannot load the kubeconfig ({', '.join(existing) or 'in-cluster'}): {exc}") from None
    host = api.configuration.host
    try:
        k8s_client.VersionApi(api).get_code(_request_timeout=timeout_s)
    except Exception as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ApplyError(f"cannot reach the cluster at {host}: {reason}") from None
    try:
        return DynamicKubeClient(api)
    except Exception as exc:
        raise ApplyError(f"cannot read the API groups of the cluster at {host}: {exc}") from None
