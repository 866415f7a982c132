"""The generated engine's runtime contract: what a deployment may rely on the engine to do.

One definition, rendered twice: the C++ engine template takes its flags, their help and its
health endpoints from here, and the Kubernetes backend takes the container's arguments,
probes, mounts, credential wiring and termination grace period from here. A flag the
manifests pass is a flag the engine parses, because both come from `FLAGS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from hftc.ir.model import Deployment, Schema

ENGINE_UID = 10001  # the image's USER and the manifests' runAsUser
DEFAULT_METRICS_PORT = 9100
DEFAULT_HEALTH_PORT = 8080
PARAMS_DIR = "/etc/hftc/params"
PARAMS_KEY = "params.yaml"  # an overlay, the format `hftc optimize` writes as best_params.yaml
JOURNAL_DIR = "/var/lib/hftc/journal"
CREDENTIALS_DIR = "/var/run/secrets/hftc/venue"
SHUTDOWN_DEADLINE_S = 20  # cancel everything and log out within this; the pod's grace adds a margin
GRACE_MARGIN_S = 10
MD_STALE_MS = 5000


@dataclass(frozen=True)
class Flag:
    name: str  # "--health-port"
    value: str  # "P", or "" for a switch
    help: str


#: The engine's operational flags (the market-data and venue flags are the engine's own).
FLAGS: tuple[Flag, ...] = (
    Flag("--metrics-port", "P", "serve Prometheus metrics over HTTP on port P (default: none)"),
    Flag("--health-port", "P", "serve /livez, /readyz and /startupz on port P (default: none)"),
    Flag("--params", "FILE", "parameter overlay (best_params.yaml); read at start and on SIGHUP"),
    Flag("--journal", "PREFIX", "append the audit journal to PREFIX-000001.hftj, ...; recover from it at start"),
    Flag("--shutdown-deadline-ms", "MS", "on SIGTERM/SIGINT, wait this long for cancels to be confirmed"),
    Flag("--md-stale-ms", "MS", "/readyz fails after this long without market data (default 5000)"),
    Flag("--kill-file", "PATH", "engage the kill switch while PATH exists (SIGUSR1 engages, SIGUSR2 re-arms)"),
    Flag("--kill-token-file", "PATH", "enable POST /kill and /rearm on the health port with this bearer token"),
)


#: Where the engine trades, passed when the deployment names them (`venue:`). The engine parses
#: `--md` when its pipeline's feed takes depth updates and `--venue` when the schema declares a
#: complete order-entry session; the k8s target refuses a deployment naming one it lacks (HFT0603).
ENDPOINT_FLAGS: tuple[Flag, ...] = (
    Flag("--md", "udp://ADDRESS:PORT", "market data packets, received on ADDRESS (local or multicast) and PORT"),
    Flag("--venue", "tcp://HOST:PORT", "the venue's order-entry session (HOST a DNS name or an IPv4 address)"),
)

_DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _ipv4(host: str) -> bool:
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts)


def endpoint_problem(url: str, scheme: str) -> Optional[str]:
    """Why the engine would refuse `url` as its `--md` (scheme udp) or `--venue` (tcp), or None.
    The engine reads market data on an IPv4 address; it resolves a venue host name at start."""
    prefix = f"{scheme}://"
    if not url.startswith(prefix):
        return f"it does not start with {prefix}"
    host, sep, port = url[len(prefix):].rpartition(":")
    if not sep or not host:
        return "it has no HOST:PORT"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return f"the port `{port}` is not in 1..65535"
    if _ipv4(host):
        return None
    if scheme == "udp":
        return f"`{host}` is not an IPv4 address"
    if len(host) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in host.split(".")):
        return f"`{host}` is neither a DNS name nor an IPv4 address"
    return None


@dataclass(frozen=True)
class Probe:
    kind: str  # startup | liveness | readiness
    path: str
    period_s: int
    failure_threshold: int
    timeout_s: int = 1


#: The kubelet's three questions, and how patiently each is asked.
PROBES: tuple[Probe, ...] = (
    Probe("startup", "/startupz", 2, 150),  # up to 5 minutes to the first book and logon
    Probe("liveness", "/livez", 10, 3),
    Probe("readiness", "/readyz", 2, 2),
)


@dataclass(frozen=True)
class Credentials:
    """How the venue secret reaches the engine: the gateway's reference, never its value."""

    source: str  # env | file
    ref: str  # variable name, or file path


@dataclass(frozen=True)
class EngineContract:
    metrics_port: int
    health_port: int
    params_file: Optional[str]
    journal_prefix: str
    shutdown_deadline_s: int
    md_stale_ms: int
    credentials: Optional[Credentials]
    md: Optional[str] = None  # --md, when the deployment names it
    venue: Optional[str] = None  # --venue

    @property
    def termination_grace_s(self) -> int:
        """The pod's terminationGracePeriodSeconds: the engine's deadline plus a margin to log out and flush."""
        return self.shutdown_deadline_s + GRACE_MARGIN_S

    def args(self) -> list[str]:
        """The engine's command line in a deployment, every flag one of `FLAGS`."""
        out = ["--metrics-port", str(self.metrics_port), "--health-port", str(self.health_port)]
        if self.params_file:
            out += ["--params", self.params_file]
        out += ["--journal", self.journal_prefix,
                "--shutdown-deadline-ms", str(self.shutdown_deadline_s * 1000),
                "--md-stale-ms", str(self.md_stale_ms)]
        if self.md:
            out += ["--md", self.md]
        if self.venue:
            out += ["--venue", self.venue]
        known = {f.name for f in FLAGS + ENDPOINT_FLAGS}
        assert all(a in known for a in out if a.startswith("--")), "a deployment flag the engine does not parse"
        return out


def gateway_credentials(ir: Schema, pipeline: Optional[str]) -> Optional[Credentials]:
    """The credentials reference of the pipeline's order gateway (the first pipeline when None)."""
    pipelines = [p for p in ir.pipelines if pipeline is None or p.name == pipeline]
    for p in pipelines[:1]:
        for stage in p.stages:
            c = ir.component_named(stage)
            if c is not None and c.kind == "order_gateway" and c.credentials:
                return Credentials(*c.credentials)
    return None


def engine_contract(ir: Schema, deployment: Deployment) -> EngineContract:
    k = deployment.kubernetes
    return EngineContract(
        metrics_port=k.metrics_port if k else DEFAULT_METRICS_PORT,
        health_port=k.health_port if k else DEFAULT_HEALTH_PORT,
        params_file=f"{PARAMS_DIR}/{PARAMS_KEY}" if ir.strategies else None,
        journal_prefix=f"{JOURNAL_DIR}/engine",
        shutdown_deadline_s=SHUTDOWN_DEADLINE_S,
        md_stale_ms=MD_STALE_MS,
        credentials=gateway_credentials(ir, deployment.pipeline),
        md=deployment.venue_md,
        venue=deployment.venue_orders,
    )
