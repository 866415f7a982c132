"""`deployments:` and `monitoring:` — where it runs and what is watched."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import field_validator

from hftc.schema.cloud_names import image_problem, region_problem, zone_problem
from hftc.schema.common import F, Surface


class NodeSpec(Surface):
    """What one trading node needs."""

    cpu_cores: int = F("Dedicated CPU cores (integer, Guaranteed QoS).", 16, ge=1, le=1024)
    memory_gb: int = F("Memory, GiB.", 64, ge=1, le=65536)
    hugepages_1gi: int = F("1 GiB huge pages.", 8, default=0, ge=0, le=4096)
    sriov: bool = F("Attach an SR-IOV virtual function via Multus.", True, default=False)
    realtime_kernel: bool = F("Schedule on nodes with a real-time kernel.", True, default=False)
    isolated_cpus: Optional[str] = F("CPU list isolated for the engine on the host (cpuset syntax).", "2-15", default=None)


class KubernetesSpec(Surface):
    """Kubernetes settings."""

    namespace: str = F("Namespace.", "hft-production")
    image: str = F("Container image of the engine.", "registry.example/fx-mm:1.0")
    metrics_port: int = F("Port of the Prometheus exporter.", 9100, default=9100, ge=1, le=65535)
    health_port: int = F("Port of the HTTP health endpoint.", 8080, default=8080, ge=1, le=65535)
    runtime_class: str = F("RuntimeClass of the low-latency runtime.", "performance-hft", default="performance-hft")
    sriov_resource: str = F("Device-plugin resource name of the SR-IOV VF.", "intel.com/sriov_netdevice", default="intel.com/sriov_netdevice")
    credentials_secret: str = F("Name of the Secret holding venue credentials (referenced, never inlined).", "venue-credentials", default="venue-credentials")
    optimizer_workers: int = F("Parallel workers of the optimisation Job.", 4, default=4, ge=1, le=1024)

    @field_validator("image")
    @classmethod
    def _image_is_a_reference(cls, value: str) -> str:
        problem = image_problem(value)  # it reaches manifests and kubectl command lines
        if problem:
            raise ValueError(problem)
        return value


class CloudSpec(Surface):
    """Cloud infrastructure settings."""

    provider: Literal["aws"] = F("Cloud provider.", "aws")
    region: str = F("Region.", "us-east-1")
    zone: Optional[str] = F("Availability zone (defaults to the region's `a` zone).", "us-east-1a", default=None)
    instance_type: str = F("Instance type.", "c7i.metal-24xl")
    placement: Literal["cluster", "spread", "partition"] = F("Placement group strategy.", "cluster", default="cluster")
    count: int = F("Number of instances.", 2, default=1, ge=1, le=1000)
    node_group: Literal["instances", "eks"] = F("Plain instances or an EKS managed node group.", "instances", default="instances")
    ena_express: bool = F("Enable ENA Express (adds latency at low rates; only when asked).", False, default=False)

    @field_validator("region")
    @classmethod
    def _region_is_a_region(cls, value: str) -> str:
        problem = region_problem(value)  # it reaches Terraform files and terraform command lines
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("zone")
    @classmethod
    def _zone_is_a_zone(cls, value: str | None) -> str | None:
        # The grammar only: a zone of another region is the terraform target's HFT0626, which
        # `hftc lint` reports with the other build checks.
        problem = None if value is None else zone_problem(value, None)
        if problem:
            raise ValueError(problem)
        return value


class VenueSpec(Surface):
    """Where a deployed engine trades: its order-entry session and its market data."""

    orders: Optional[str] = F("The venue's order-entry session, `tcp://HOST:PORT` (HOST a DNS name or an IPv4 "
                              "address, resolved when the engine starts): the engine's `--venue`.",
                              "tcp://venue.hft-production.svc:9000", default=None)
    md: Optional[str] = F("Market data, `udp://ADDRESS:PORT`: the IPv4 address to receive on (a local address, "
                          "`0.0.0.0`, or a multicast group) and the port: the engine's `--md`.",
                          "udp://239.1.1.1:20000", default=None)


class DeploymentSpec(Surface):
    """One deployment of the system."""

    environment: Literal["production", "staging", "development", "research"] = F("Environment.", "production")
    pipeline: Optional[str] = F("Pipeline to run (defaults to the only one).", "tick_to_trade", default=None)
    sites: list[str] = F("Colocation sites or cloud locations.", ["NY4", "LD4"], default_factory=list)
    latency_tolerance_ns: Optional[int] = F("Latency the deployment must hold, ns.", 200, default=None, ge=1, le=10**12)
    nodes: NodeSpec = F("Per-node resources.", {"cpu_cores": 16, "memory_gb": 64})
    kubernetes: Optional[KubernetesSpec] = F("Kubernetes settings.", {"namespace": "hft", "image": "registry.example/engine:1"}, default=None)
    cloud: Optional[CloudSpec] = F("Cloud settings.", {"provider": "aws", "region": "us-east-1", "instance_type": "c7i.metal-24xl"}, default=None)
    tags: dict[str, str] = F("Tags and labels applied to every resource.", {"team": "fx"}, default_factory=dict)
    venue: Optional[VenueSpec] = F("Where the engine trades: the manifests pass these as its `--venue` and `--md`.",
                                   {"orders": "tcp://venue.hft-production.svc:9000", "md": "udp://239.1.1.1:20000"},
                                   default=None)


class AlertSpec(Surface):
    """An alert: a PromQL-style condition that must hold for a duration."""

    name: str = F("Alert name.", "UltraHighLatency")
    expr: str = F("Condition over the engine's metrics.", "latency_p99_ns > 500")
    for_: str = F("How long the condition must hold before firing.", "5s", alias="for", default="0s")
    severity: Literal["critical", "warning", "info"] = F("Severity.", "critical", default="warning")
    labels: dict[str, str] = F("Extra labels.", {"team": "fx"}, default_factory=dict)
    annotations: dict[str, str] = F("Annotations (summary, runbook).", {"summary": "p99 above 500 ns"}, default_factory=dict)


class MonitoringSpec(Surface):
    """What is measured and alerted on."""

    interval_ms: int = F("Refresh and scrape interval, ms.", 100, default=1000, ge=1, le=3_600_000)
    metrics_port: int = F("Port of the engine's Prometheus exporter.", 9100, default=9100, ge=1, le=65535)
    alerts: list[AlertSpec] = F("Alerts.", [{"name": "UltraHighLatency", "expr": "latency_p99_ns > 500", "for": "5s"}], default_factory=list)
