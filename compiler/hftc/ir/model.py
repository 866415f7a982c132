"""IR: frozen dataclasses, fully resolved, with byte layouts precomputed.

Like SBE's IR or protoc's CodeGeneratorRequest, this is what backends consume;
they never see YAML. Mappings are tuples (of records or of pairs) so the IR is
immutable and its JSON form is ordered and exact. `IR_VERSION` changes whenever
a field is added, removed or changes meaning.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Optional, TypeVar, Union

from hftc.diagnostics.model import Span

_T = TypeVar("_T")

IR_VERSION = 4  # 2: message feed roles (role, field_roles), feed handler symbol tables; 3: order-entry
#             session roles, order gateway credentials reference and heartbeat; 4: Schema.wire (byte order,
#             message header, group size and var-data length encodings)

Number = Union[int, float]
Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PrimitiveInfo:
    name: str
    size: int
    signed: bool
    is_float: bool
    min_value: Number
    max_value: Number
    null_value: Number | None  # SBE convention: int min, uint max, NaN for floats (None here)


def _int_info(name: str, bits: int, signed: bool) -> PrimitiveInfo:
    lo = -(1 << (bits - 1)) if signed else 0
    hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    # Null is the value at the far end of the range, as in SBE: it is rarely a real value.
    null = lo if signed else hi
    return PrimitiveInfo(name, bits // 8, signed, False, lo + (1 if signed else 0), hi - (0 if signed else 1), null)


PRIMITIVES: dict[str, PrimitiveInfo] = {
    **{f"int{b}": _int_info(f"int{b}", b, True) for b in (8, 16, 32, 64)},
    **{f"uint{b}": _int_info(f"uint{b}", b, False) for b in (8, 16, 32, 64)},
    "float32": PrimitiveInfo("float32", 4, True, True, -3.4028234663852886e38, 3.4028234663852886e38, None),
    "float64": PrimitiveInfo("float64", 8, True, True, -1.7976931348623157e308, 1.7976931348623157e308, None),
    "char": PrimitiveInfo("char", 1, False, False, 0, 255, 0),
}

MESSAGE_HEADER_SIZE = 8  # blockLength, templateId, schemaId, version: uint16 each
GROUP_HEADER_SIZE = 4  # blockLength, numInGroup: uint16 each
VAR_DATA_LENGTH_SIZE = 4  # uint32 length prefix


@dataclass(frozen=True)
class WireFormat:
    """How a schema frames messages: byte order and the encodings of the message header, the
    group size (SBE's groupSizeEncoding) and the var-data length. Each is an unsigned integer
    primitive; the defaults are the sizes above, little-endian."""

    byte_order: str = "little"  # little | big
    block_length: str = "uint16"  # message header, in this order
    template_id: str = "uint16"
    schema_id: str = "uint16"
    version: str = "uint16"
    group_block_length: str = "uint16"  # group size: block length, then count
    group_count: str = "uint16"
    var_data_length: str = "uint32"
    span: Optional[Span] = None

    @property
    def big_endian(self) -> bool:
        return self.byte_order == "big"

    @property
    def header_fields(self) -> tuple[tuple[str, str, int], ...]:
        """(name, primitive, offset) of the message header's fields."""
        out, offset = [], 0
        for name in ("block_length", "template_id", "schema_id", "version"):
            prim = getattr(self, name)
            out.append((name, prim, offset))
            offset += PRIMITIVES[prim].size
        return tuple(out)

    @property
    def header_size(self) -> int:
        return sum(PRIMITIVES[p].size for _, p, _ in self.header_fields)

    @property
    def group_header_size(self) -> int:
        return PRIMITIVES[self.group_block_length].size + PRIMITIVES[self.group_count].size

    @property
    def var_length_size(self) -> int:
        return PRIMITIVES[self.var_data_length].size

    @property
    def is_default(self) -> bool:
        return self.framing() == WireFormat().framing()

    def framing(self) -> tuple[str, ...]:
        """Everything that decides the bytes, without the span: equal framings are wire compatible."""
        return (self.byte_order, self.block_length, self.template_id, self.schema_id, self.version,
                self.group_block_length, self.group_count, self.var_data_length)


@dataclass(frozen=True)
class EnumValue:
    name: str
    value: int
    span: Optional[Span] = None


@dataclass(frozen=True)
class Choice:
    name: str
    bit: int
    span: Optional[Span] = None


@dataclass(frozen=True)
class Field:
    """A fixed-size field of a message, group or composite."""

    name: str
    type: str  # primitive name or user type name
    kind: str  # primitive | decimal | enum | set | char | composite | array
    offset: int = -1  # -1 until the layout pass places it
    size: int = 0
    since_version: int = 0
    deprecated: Optional[int] = None
    optional: bool = False
    null_value: Optional[Number] = None
    unit: Optional[str] = None
    description: str = ""
    span: Optional[Span] = None


@dataclass(frozen=True)
class Constant:
    """A field whose value the schema fixes (SBE presence="constant"): part of the message's
    meaning, readable like a field, never on the wire."""

    name: str
    type: str  # primitive name or user type name
    kind: str  # primitive | decimal | enum | char
    # After the typecheck pass: the integer (an enum's wire value, a decimal's mantissa, a char's
    # code), the float, or the text of a char array. As written before it.
    value: Union[int, float, str] = 0
    value_name: Optional[str] = None  # the enum member, for enum constants
    description: str = ""
    span: Optional[Span] = None


@dataclass(frozen=True)
class TypeDef:
    """A user type. Only the attributes of its `kind` are meaningful."""

    name: str
    kind: str  # decimal | enum | set | char | composite | array
    encoding: Optional[str] = None  # integer primitive of decimal/enum/set
    size: int = 0
    align: int = 1
    exponent: int = 0
    values: tuple[EnumValue, ...] = ()
    choices: tuple[Choice, ...] = ()
    length: int = 0
    element: Optional[str] = None
    fields: tuple[Field, ...] = ()
    null_value: Optional[Number] = None
    description: str = ""
    span: Optional[Span] = None
    # Enum declared `enum: char`: one Latin-1 character per value on the wire (encoding uint8,
    # null NUL, as SBE's char enums); backends show the values as characters.
    char_values: bool = False


@dataclass(frozen=True)
class VarData:
    name: str
    encoding: str = "utf8"  # utf8 | bytes
    since_version: int = 0
    description: str = ""
    span: Optional[Span] = None


@dataclass(frozen=True)
class Group:
    name: str
    block_length: int = 0
    fields: tuple[Field, ...] = ()
    groups: tuple["Group", ...] = ()
    data: tuple[VarData, ...] = ()
    since_version: int = 0
    description: str = ""
    span: Optional[Span] = None
    constants: tuple[Constant, ...] = ()  # schema-fixed values of each entry, not on the wire


@dataclass(frozen=True)
class Message:
    name: str
    id: int
    block_length: int = 0
    fields: tuple[Field, ...] = ()
    groups: tuple[Group, ...] = ()
    data: tuple[VarData, ...] = ()
    since_version: int = 0
    deprecated: Optional[int] = None
    description: str = ""
    span: Optional[Span] = None
    # Feed role (hftc.ir.roles): declared, or inferred by the roles pass; None when it has none.
    role: Optional[str] = None
    role_declared: bool = False
    # (field role, field name), resolved by the roles pass; `fields_map` entries as declared.
    field_roles: Pairs = ()
    role_span: Optional[Span] = None
    fields_map_spans: tuple[tuple[str, Span], ...] = ()
    constants: tuple[Constant, ...] = ()  # schema-fixed values, not on the wire

    def field_for(self, role: str) -> Optional[str]:
        """The name of the field (or group, for `levels`) carrying `role`, once resolved."""
        return next((f for r, f in self.field_roles if r == role), None)

    @property
    def is_fixed_layout(self) -> bool:
        """Whether every instance has the same size (no groups, no var-data)."""
        return not self.groups and not self.data


@dataclass(frozen=True)
class RiskLimits:
    max_position: int
    max_order_qty: int
    max_orders_per_second: int
    price_band_bps: float
    max_notional: Optional[float] = None
    kill_switch: bool = True
    max_open_notional: Optional[float] = None
    max_open_orders: int = 1024


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # feed_handler | order_book | strategy | risk_gate | order_gateway | custom
    budget_ns: Optional[int] = None
    inputs: tuple[str, ...] = ()
    output: Optional[str] = None
    book_model: Optional[str] = None  # price_level | order_level
    depth: int = 0
    tick: Optional[str] = None  # exact decimal string
    lot: Optional[str] = None
    max_orders: int = 0
    strategy: Optional[str] = None
    limits: Optional[RiskLimits] = None
    language: Optional[str] = None
    features: tuple[str, ...] = ()
    description: str = ""
    span: Optional[Span] = None
    budget_span: Optional[Span] = None
    input_spans: tuple[Span, ...] = ()
    instruments: tuple[str, ...] = ()  # feed handler: venue symbols, the instrument index is the position
    instruments_span: Optional[Span] = None
    symbol_spans: tuple[Span, ...] = ()  # one per entry of `instruments`
    output_span: Optional[Span] = None
    strategy_span: Optional[Span] = None
    limit_spans: tuple[tuple[str, Span], ...] = ()  # risk gate: (limit key, span of its value)
    # order gateway: where the session's secret is read, ("env", NAME) or ("file", PATH), never the secret
    credentials: Optional[tuple[str, str]] = None
    credentials_span: Optional[Span] = None
    heartbeat_ms: int = 0


@dataclass(frozen=True)
class ThreadAssignment:
    stage: str
    cpu: int
    span: Optional[Span] = None


@dataclass(frozen=True)
class Pipeline:
    name: str
    stages: tuple[str, ...]
    threads: tuple[ThreadAssignment, ...] = ()
    queue_kind: str = "spsc"
    queue_capacity: int = 4096
    features: tuple[str, ...] = ()
    latency_p99_ns: Optional[int] = None
    throughput_msgs_per_s: Optional[int] = None
    memory_mb: Optional[int] = None
    description: str = ""
    span: Optional[Span] = None
    stage_spans: tuple[Span, ...] = ()
    target_span: Optional[Span] = None


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # int | float
    low: Number
    high: Number
    default: Number
    log: bool = False
    description: str = ""
    span: Optional[Span] = None


@dataclass(frozen=True)
class ExprSource:
    """An expression as written, with the span of its first character."""

    text: str
    span: Optional[Span] = None


@dataclass(frozen=True)
class NamedExpr:
    name: str
    expr: ExprSource
    name_span: Optional[Span] = None


@dataclass(frozen=True)
class Strategy:
    name: str
    template: Optional[str] = None
    description: str = ""
    instruments: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    lets: tuple[NamedExpr, ...] = ()
    signals: tuple[NamedExpr, ...] = ()
    quote_bid_price: Optional[ExprSource] = None
    quote_bid_qty: Optional[ExprSource] = None
    quote_ask_price: Optional[ExprSource] = None
    quote_ask_qty: Optional[ExprSource] = None
    when: Optional[ExprSource] = None
    entry_long: Optional[ExprSource] = None
    entry_short: Optional[ExprSource] = None
    exit: Optional[ExprSource] = None
    size: Optional[ExprSource] = None
    maximize: tuple[str, ...] = ()
    minimize: tuple[str, ...] = ()
    constraints: tuple[ExprSource, ...] = ()
    span: Optional[Span] = None
    # The type-checked program (JSON of `hftc.ir.expr.CheckedStrategy`), set by the
    # strategies pass when the strategy has rules; backends decode it with `checked()`.
    program: Optional[str] = None

    def checked(self):
        """The type-checked program, or None for a strategy without inline rules."""
        if self.program is None:
            return None
        return _decoded_program(self.program)


@functools.lru_cache(maxsize=64)
def _decoded_program(program: str):
    """A strategy's checked program, decoded once per text: the passes and several targets' checks read the
    same strategies, and the decoded program is frozen, so they can share it."""
    import json

    from hftc.ir.expr import CheckedStrategy

    return CheckedStrategy.from_json(json.loads(program))


@dataclass(frozen=True)
class NodeSpec:
    cpu_cores: int
    memory_gb: int
    hugepages_1gi: int = 0
    sriov: bool = False
    realtime_kernel: bool = False
    isolated_cpus: Optional[str] = None


@dataclass(frozen=True)
class KubernetesSpec:
    namespace: str
    image: str
    metrics_port: int = 9100
    health_port: int = 8080
    runtime_class: str = "performance-hft"
    sriov_resource: str = "intel.com/sriov_netdevice"
    credentials_secret: str = "venue-credentials"
    optimizer_workers: int = 4


@dataclass(frozen=True)
class CloudSpec:
    provider: str
    region: str
    zone: str
    instance_type: str
    placement: str = "cluster"
    count: int = 1
    node_group: str = "instances"
    ena_express: bool = False


@dataclass(frozen=True)
class Deployment:
    name: str
    environment: str
    pipeline: Optional[str]
    sites: tuple[str, ...]
    nodes: NodeSpec
    latency_tolerance_ns: Optional[int] = None
    kubernetes: Optional[KubernetesSpec] = None
    cloud: Optional[CloudSpec] = None
    tags: Pairs = ()
    span: Optional[Span] = None
    venue_orders: Optional[str] = None  # tcp://HOST:PORT, the engine's --venue in the manifests
    venue_md: Optional[str] = None  # udp://ADDRESS:PORT, its --md


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_seconds: float
    for_text: str
    severity: str
    labels: Pairs = ()
    annotations: Pairs = ()
    span: Optional[Span] = None


@dataclass(frozen=True)
class Monitoring:
    interval_ms: int = 1000
    metrics_port: int = 9100
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class Schema:
    """The root of the IR: one compiled schema with everything it imports."""

    package: str
    version: int = 1
    schema_id: int = 1
    ir_version: int = IR_VERSION
    description: str = ""
    document_kind: str = "schema"  # schema | component | strategy_template
    sources: tuple[str, ...] = ()
    types: tuple[TypeDef, ...] = ()
    messages: tuple[Message, ...] = ()
    components: tuple[Component, ...] = ()
    pipelines: tuple[Pipeline, ...] = ()
    strategies: tuple[Strategy, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    monitoring: Optional[Monitoring] = None
    wire: WireFormat = WireFormat()

    def type_named(self, name: str) -> TypeDef | None:
        return next((t for t in self.types if t.name == name), None)

    def message_named(self, name: str) -> Message | None:
        return next((m for m in self.messages if m.name == name), None)

    def component_named(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)

    def strategy_named(self, name: str) -> Strategy | None:
        return next((s for s in self.strategies if s.name == name), None)

    @property
    def package_parts(self) -> tuple[str, ...]:
        return tuple(self.package.split("."))

    @property
    def package_snake(self) -> str:
        """`fx.mm` → `fx_mm`: the Rust crate and Python package name."""
        return "_".join(self.package_parts)


__all__ = [
    "Alert", "Choice", "CloudSpec", "Component", "Deployment", "EnumValue", "ExprSource", "Field",
    "GROUP_HEADER_SIZE", "Group", "IR_VERSION", "KubernetesSpec", "MESSAGE_HEADER_SIZE", "Message",
    "Constant", "Monitoring", "NamedExpr", "NodeSpec", "PRIMITIVES", "Param", "Pipeline", "PrimitiveInfo",
    "RiskLimits", "Schema", "Span", "Strategy", "ThreadAssignment", "TypeDef", "VAR_DATA_LENGTH_SIZE",
    "VarData", "WireFormat",
]


def evolve(node: _T, **changes: Any) -> _T:
    """dataclasses.replace for the frozen IR nodes (no __post_init__, no slots), about 6x faster.

    Passes rebuild every field of every message; with replace() that dominated compiling a
    1 MB schema. Unknown names raise like replace() does.
    """
    state = node.__dict__
    unknown = changes.keys() - state.keys()
    if unknown:
        raise TypeError(f"{type(node).__name__} has no field(s) {sorted(unknown)}")
    new = object.__new__(type(node))
    new.__dict__.update(state)
    new.__dict__.update(changes)
    return new
