"""The three document forms hftc accepts, and which one a YAML mapping is."""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from hftc.schema.common import F, Surface
from hftc.schema.deploy import DeploymentSpec, MonitoringSpec
from hftc.schema.messages import MessageSpec
from hftc.schema.strategy import Number, StrategySpec
from hftc.schema.system import Component, Feature, Language, PipelineSpec
from hftc.schema.types import TypeDef
from hftc.schema.wire import ByteOrder, WireEncoding


class SchemaDocument(Surface):
    """A complete hftc schema (language version 1)."""

    hftc: int = F("Schema language version.", 1)
    package: str = F("Package name: C++ namespace fx::mm, Rust crate fx_mm, Python package fx_mm.", "fx.mm", pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
    version: int = F("Schema version, for wire evolution.", 2, default=1, ge=0, le=65535)
    schema_id: int = F("Schema id written in every message header.", 1, default=1, ge=0, le=65535)
    description: str = F("What the system is.", "EUR/USD market maker.", default="")
    byte_order: ByteOrder = F("Byte order of every field, header, group size and var-data length on the wire.", "big",
                              default="little")
    encoding: Optional[WireEncoding] = F(
        "Custom message header, group size and var-data length encodings (SBE's messageHeader, groupSizeEncoding, "
        "varDataEncoding); absent means four uint16, two uint16 and uint32.",
        {"group_size": {"block_length": "uint16", "count": "uint8"}, "var_data_length": "uint8"}, default=None)
    imports: list[str] = F("Other schema files, relative to this one.", ["common.hftc.yaml"], default_factory=list)
    types: dict[str, TypeDef] = F("User-defined wire types.", {"Price": {"decimal": "int64", "exponent": -9}}, default_factory=dict)
    messages: dict[str, MessageSpec] = F("Binary messages.", {"Heartbeat": {"id": 9, "fields": {"ts": "uint64"}}}, default_factory=dict)
    components: dict[str, Component] = F("Components of the trading system.", {"feed": {"kind": "feed_handler", "input": ["BookDelta"]}}, default_factory=dict)
    pipelines: dict[str, PipelineSpec] = F("How components are wired.", {"tick_to_trade": {"stages": ["feed", "book"]}}, default_factory=dict)
    strategies: dict[str, StrategySpec] = F("Strategies and their parameters.", {}, default_factory=dict)
    deployments: dict[str, DeploymentSpec] = F("Where the system runs.", {}, default_factory=dict)
    monitoring: Optional[MonitoringSpec] = F("Metrics and alerts.", {"interval_ms": 100}, default=None)


class ModuleSpec(Surface):
    """One module of a component document."""

    name: str = F("Module name.", "core")
    language: Language = F("Implementation language.", "cpp20")
    features: list[Feature] = F("Runtime features it relies on.", ["lock_free_queues", "memory_pools"], default_factory=list)


class PerformanceSpec(Surface):
    """Performance targets of a component document."""

    latency_target_ns: Optional[int] = F("Latency target, ns.", 100, default=None, ge=1, le=10**12)
    throughput_target_ops: Optional[int] = F("Operations per second.", 1_000_000, default=None, ge=1, le=10**12)
    memory_limit_mb: Optional[int] = F("Memory limit, MiB.", 1024, default=None, ge=1, le=10**7)


class ComponentDocument(Surface):
    """The seed's component form: one component with modules and performance targets."""

    name: str = F("Component name.", "execution-engine", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    type: Literal["hft_component"] = F("Document form marker.", "hft_component")
    version: Union[str, int, float] = F("Component version.", "1.0")
    description: str = F("What the component does.", "Order execution engine.", default="")
    modules: list[ModuleSpec] = F("Modules.", [{"name": "core", "language": "cpp20", "features": ["lock_free_queues"]}], min_length=1)
    performance: PerformanceSpec = F("Targets.", {"latency_target_ns": 100}, default_factory=PerformanceSpec)


class TemplateParam(Surface):
    """A parameter of a strategy template document."""

    type: Optional[Literal["integer", "int", "float"]] = F("Parameter type (a template's parameter keeps the template's).", "integer", default=None)
    range: Optional[list[Number]] = F("Search range [low, high].", [20, 200], default=None, min_length=2, max_length=2)
    default: Optional[Number] = F("Default value.", 60, default=None)
    description: str = F("What it controls.", "Lookback in events.", default="")


class TemplateObjectives(Surface):
    """Objectives of a strategy template document."""

    primary: str = F("Primary objective, `maximize_<metric>` or `minimize_<metric>`.", "maximize_sharpe_ratio")
    secondary: Union[str, list[str], None] = F("Secondary objective(s).", "minimize_max_drawdown", default=None)
    constraints: list[Union[dict[str, Number], str]] = F("Upper bounds, as `- name: value` or `name <= value`.", [{"max_leverage": 3.0}], default_factory=list)


class StrategyTemplateDocument(Surface):
    """The seed's strategy template form."""

    name: str = F("Strategy name.", "statistical-arbitrage", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    type: str = F("Template kind, e.g. pairs_trading or market_making.", "pairs_trading")
    description: str = F("What the strategy does.", "Statistical arbitrage.", default="")
    instruments: list[str] = F("Instruments (defaults to the template's).", ["BTCUSDT", "ETHUSDT"], default_factory=list)
    parameters: dict[str, TemplateParam] = F("Tunable parameters.", {"lookback_window": {"type": "integer", "range": [20, 200], "default": 60}})
    objectives: TemplateObjectives = F("Objectives.", {"primary": "maximize_sharpe_ratio"})


DocumentKind = Literal["schema", "component", "strategy_template"]


def document_kind(value: Any) -> DocumentKind | None:
    """Which document form a top-level mapping is, from its marker keys."""
    if not isinstance(value, dict):
        return None
    if "hftc" in value:
        return "schema"
    if value.get("type") == "hft_component" or "modules" in value:
        return "component"
    if "parameters" in value or "objectives" in value:
        return "strategy_template"
    return None


MODELS = {
    "schema": SchemaDocument,
    "component": ComponentDocument,
    "strategy_template": StrategyTemplateDocument,
}
