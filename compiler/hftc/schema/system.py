"""`components:`, `pipelines:` — what runs and how it is wired."""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import Field

from hftc.schema.common import F, Surface

Feature = Literal[
    "lock_free_queues", "memory_pools", "cpu_affinity", "numa_aware", "hugepages",
    "kernel_bypass", "busy_poll", "simd",
]
Language = Literal["cpp20", "cpp", "rust", "python", "python311"]


class _ComponentBase(Surface):
    budget_ns: Optional[int] = F("Latency budget of this stage in ns, checked against the pipeline target.", 50, default=None, ge=1, le=10**12)
    description: str = F("What the component does.", "Decodes market data.", default="")


class FeedHandler(_ComponentBase):
    """Decodes market-data messages and applies them to the book."""

    kind: Literal["feed_handler"] = F("Component kind.", "feed_handler")
    input: list[str] = F("Messages it decodes.", ["BookDelta", "Trade"], default_factory=list)
    instruments: list[str] = F(
        "Venue symbols of a feed keyed by a `symbol` char field: the instrument index of each is its position.",
        ["BTCUSDT", "ETHUSDT"], default_factory=list)


class OrderBookComponent(_ComponentBase):
    """The order book the strategy reads."""

    kind: Literal["order_book"] = F("Component kind.", "order_book")
    model: Literal["price_level", "order_level"] = F("L2 (price_level) or L3 (order_level) book.", "price_level", default="price_level")
    depth: int = F("Price levels per side kept in the window around the touch.", 64, default=64, ge=1, le=1_000_000)
    tick: Union[str, float] = F("Tick size as a decimal string.", "0.00001")
    lot: Union[str, float] = F("Lot (quantity step) as a decimal string.", "1", default="1")
    max_orders: int = F("Order pool size for an order_level book.", 1_000_000, default=1_000_000, ge=1, le=1 << 31)


class StrategyComponent(_ComponentBase):
    """Runs a strategy from `strategies:` on every book update."""

    kind: Literal["strategy"] = F("Component kind.", "strategy")
    strategy: str = F("Name of the strategy under `strategies:`.", "mm")


class RiskLimits(Surface):
    """Limits the risk gate enforces before any order leaves."""

    max_position: int = F("Largest worst-case position per instrument, in lots: position plus the open orders "
                          "on one side plus the new order.", 5_000_000, ge=0, le=(1 << 62))
    max_order_qty: int = F("Largest order quantity, in lots.", 1_000_000, ge=1, le=(1 << 62))
    max_orders_per_second: int = F("Order-rate limit (token bucket refilled per second).", 2000, ge=1, le=10**9)
    price_band_bps: float = F("Price collar: largest distance of an order price from the current book's mid, in "
                              "basis points.", 25, gt=0, le=10_000)
    max_notional: Optional[float] = F("Largest notional of one order, in quote currency.", 1e6, default=None, gt=0)
    kill_switch: bool = F("Whether a kill switch is wired (it rejects every order once tripped, until re-armed).",
                          True, default=True)
    max_open_notional: Optional[float] = F("Largest gross notional of all open orders together (the new one "
                                           "included), in quote currency.", 5e6, default=None, gt=0)
    max_open_orders: int = F("Most orders open at once, all instruments (it also sizes the gate's open-order "
                             "table).", 64, default=1024, ge=1, le=1 << 20)


class RiskGate(_ComponentBase):
    """Checks every order against the limits."""

    kind: Literal["risk_gate"] = F("Component kind.", "risk_gate")
    limits: RiskLimits = F("The limits.", {"max_position": 5000000, "max_order_qty": 1000000, "max_orders_per_second": 2000, "price_band_bps": 25})


class CredentialsRef(Surface):
    """Where the order-entry session reads its secret at logon: one environment variable or one file.

    The schema names the secret, it never holds it: a secret written here would end up in generated
    code, manifests and version control."""

    env: Optional[str] = F("Name of the environment variable holding the secret.", "VENUE_API_KEY",
                           default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)
    file: Optional[str] = F("Path of a file holding the secret (trailing newline ignored), e.g. a mounted "
                            "k8s secret.", "/var/run/secrets/venue/api_key", default=None, min_length=1,
                            max_length=4096)


class OrderGateway(_ComponentBase):
    """Encodes orders that passed the risk gate and runs the order-entry session."""

    kind: Literal["order_gateway"] = F("Component kind.", "order_gateway")
    output: str = F("Message it encodes for each order.", "NewOrder")
    credentials: Optional[CredentialsRef] = F(
        "Where the session's logon secret is read: `{env: NAME}` or `{file: PATH}`, exactly one; never the "
        "secret itself.", {"env": "VENUE_API_KEY"}, default=None)
    heartbeat_ms: int = F("Session heartbeat interval: a heartbeat is sent after this long without traffic.",
                          1000, default=1000, ge=10, le=3_600_000)


class CustomComponent(_ComponentBase):
    """A hand-written module wired into the pipeline (the seed's component form lowers to these)."""

    kind: Literal["custom"] = F("Component kind.", "custom")
    language: Language = F("Implementation language.", "cpp20", default="cpp20")
    features: list[Feature] = F("Runtime features it relies on.", ["lock_free_queues"], default_factory=list)


Component = Annotated[
    Union[FeedHandler, OrderBookComponent, StrategyComponent, RiskGate, OrderGateway, CustomComponent],
    Field(discriminator="kind"),
]


class ThreadSpec(Surface):
    """A thread that runs a stage (and the inline stages after it)."""

    cpu: int = F("CPU the thread is pinned to.", 2, ge=0, le=4095)


class QueueSpec(Surface):
    """The queue between threads."""

    kind: Literal["spsc", "shm"] = F("In-process SPSC ring, or a shared-memory ring between processes.", "spsc", default="spsc")
    capacity: int = F("Slots in the ring (a power of two).", 4096, default=4096, ge=2, le=1 << 30)


class Targets(Surface):
    """Performance targets of the pipeline."""

    latency_p99_ns: Optional[int] = F("Tick-to-order p99 latency target, ns.", 500, default=None, ge=1, le=10**12)
    throughput_msgs_per_s: Optional[int] = F("Messages per second the pipeline must sustain.", 10_000_000, default=None, ge=1, le=10**12)
    memory_mb: Optional[int] = F("Memory limit, MiB.", 1024, default=None, ge=1, le=10**7)


class PipelineSpec(Surface):
    """Stages in order from market data to order, and how they map to threads."""

    stages: list[str] = F("Component names, market data first.", ["feed", "book", "quoter", "risk", "gateway"], min_length=1)
    threads: dict[str, ThreadSpec] = F("Stages that start a new thread; the others run inline.", {"feed": {"cpu": 2}}, default_factory=dict)
    queue: QueueSpec = F("Queue between threads.", {"kind": "spsc", "capacity": 4096}, default_factory=QueueSpec)
    features: list[Feature] = F("Runtime features to enable.", ["lock_free_queues", "cpu_affinity"], default_factory=list)
    targets: Targets = F("Performance targets.", {"latency_p99_ns": 500}, default_factory=Targets)
    description: str = F("What the pipeline does.", "Tick to trade.", default="")
