"""Typed AST of the strategy expression language, and the checked-strategy IR.

The parser (`hftc.expr.parser`) produces *untyped* trees made of `Const`,
`Name`, `Unary`, `Binary`, `Cond` and `Call` with ``type=None``.  The checker
(`hftc.expr.typecheck`) rebuilds them into *typed* trees in which

* every node has a `Type`,
* names are resolved into `ParamRef`, `LetRef`, `StateVar` or `BookField`,
* calls of pure built-ins stay `Call`, calls of stateful functions become
  `Stateful` nodes that refer to a `StateSlot` by index,
* implicit int -> float promotion is explicit (`ToFloat`), so every binary
  operator, `min`/`max`/`clamp` and both branches of `Cond` see operands of one
  type and backends never reason about promotion.

Typing rules (the language reference; the checker enforces them):

* `int` is a 64-bit two's-complement integer; `+ - *`, unary minus and `abs`
  wrap on overflow.  `float` is IEEE-754 binary64.  `bool` is a truth value.
* Mixing `int` and `float` in arithmetic, comparisons, `min/max/clamp` or the
  branches of `if` promotes the `int` operand to `float`.
* `/` always yields `float` (`int / int` converts both operands first), so
  `inventory / limit` never truncates.  Float division follows IEEE-754
  (`x / 0.0` is +-inf or nan).
* `%` is the floored modulo (the sign follows the divisor, as in Python);
  for ints `x % 0 == 0`, for floats `x % 0.0` is nan.
* Comparisons yield `bool`; `<`, `<=`, `>`, `>=` need numbers, `==`/`!=` take
  two numbers or two bools.  `and`/`or`/`not` take bools.
* `min(a, b)` is `b < a ? b : a` and `max(a, b)` is `a < b ? b : a` (so with a
  nan operand the first argument is returned); `clamp(x, lo, hi)` is
  `min(max(x, lo), hi)`.  `sqrt/log/exp` take floats (ints are promoted) and
  follow IEEE/C semantics (`log(0.0) == -inf`, `sqrt(-1.0)` is nan).
* Every operation is total: no expression can trap or raise.  Because of that
  evaluation order of pure sub-expressions is unobservable, and stateful
  functions are updated exactly once per event whether or not the branch that
  contains them is taken (see `StateSlot`).

All nodes are frozen dataclasses and carry the `Span` of their source text.
`expr_to_json`/`expr_from_json` and `CheckedStrategy.to_json/from_json` give an
exact JSON round trip (floats are written with `float.hex`).

This module imports nothing from hftc except `hftc.diagnostics`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from hftc.diagnostics.model import Span

__all__ = [
    "BOOK_FIELDS",
    "BOOK_RAW_FIELDS",
    "MAX_WINDOW",
    "PURE_FUNCTIONS",
    "SMA_T_DEFAULT_CAPACITY",
    "STATEFUL_FUNCTIONS",
    "STATE_VARS",
    "Binary",
    "BookField",
    "Call",
    "CheckedStrategy",
    "Cond",
    "Const",
    "LetBinding",
    "LetRef",
    "Name",
    "Node",
    "ParamDecl",
    "ParamRef",
    "Rule",
    "StateSlot",
    "StateVar",
    "Stateful",
    "ToFloat",
    "Type",
    "Unary",
    "children",
    "expr_from_json",
    "expr_to_json",
    "walk",
]


class Type(str, enum.Enum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"

    @property
    def numeric(self) -> bool:
        return self is not Type.BOOL


#: Book fields: the four raw fields every input carries, then derived ones.
BOOK_RAW_FIELDS = ("bid", "ask", "bid_qty", "ask_qty")
#: Derived fields are defined exactly (all backends use these formulas):
#:   mid        = (bid + ask) / 2.0
#:   spread     = ask - bid
#:   microprice = d == 0.0 ? (bid + ask) / 2.0 : (bid * ask_qty + ask * bid_qty) / d
#:   imbalance  = d == 0.0 ? 0.0 : (bid_qty - ask_qty) / d
#: where d = bid_qty + ask_qty.  All book fields are floats.
BOOK_FIELDS = BOOK_RAW_FIELDS + ("mid", "microprice", "imbalance", "spread")

#: State variables and their types.  `last_trade.side` is +1 (buy), -1 (sell), 0 (none).
STATE_VARS: dict[str, Type] = {
    "position": Type.FLOAT,
    "pnl": Type.FLOAT,
    "last_trade.price": Type.FLOAT,
    "last_trade.qty": Type.FLOAT,
    "last_trade.side": Type.INT,
}

#: Pure built-ins and their arity.
PURE_FUNCTIONS: dict[str, int] = {
    "abs": 1,
    "min": 2,
    "max": 2,
    "clamp": 3,
    "sqrt": 1,
    "log": 1,
    "exp": 1,
}

#: Stateful built-ins: (minimum arity, maximum arity).
STATEFUL_FUNCTIONS: dict[str, tuple[int, int]] = {
    "ema": (2, 2),
    "sma": (2, 2),
    "std": (2, 2),
    "zscore": (2, 2),
    "delta": (1, 1),
    "ema_t": (2, 2),
    "sma_t": (2, 3),
}

#: Largest ring capacity (samples) a stateful function may allocate.
MAX_WINDOW = 65536
#: Ring capacity of `sma_t(x, window_ns)` when no third argument is given.
SMA_T_DEFAULT_CAPACITY = 1024


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class Const:
    value: int | float | bool
    span: Span
    type: Type | None = None


@dataclass(frozen=True)
class Name:
    """An unresolved (dotted) name as written: `mid`, `book.bid`, `ETHUSDT.mid`."""

    parts: tuple[str, ...]
    span: Span
    type: Type | None = None

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class ParamRef:
    name: str
    span: Span
    type: Type | None = None


@dataclass(frozen=True)
class LetRef:
    name: str
    span: Span
    type: Type | None = None


@dataclass(frozen=True)
class StateVar:
    """`position`, `pnl` or `last_trade.price|qty|side` (see `STATE_VARS`)."""

    name: str
    span: Span
    type: Type | None = None


@dataclass(frozen=True)
class BookField:
    """Top-of-book field `field` of `instrument` (index into the strategy's instruments)."""

    instrument: str
    index: int
    field: str
    span: Span
    type: Type | None = None


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Node
    span: Span
    type: Type | None = None


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / %  < <= > >= == !=  and or
    left: Node
    right: Node
    span: Span
    type: Type | None = None


@dataclass(frozen=True)
class Cond:
    cond: Node
    then: Node
    orelse: Node
    span: Span
    type: Type | None = None


@dataclass(frozen=True)
class Call:
    """A call; after checking only pure built-ins (`PURE_FUNCTIONS`) remain `Call`."""

    func: str
    args: tuple[Node, ...]
    span: Span
    type: Type | None = None


@dataclass(frozen=True)
class Stateful:
    """A stateful built-in; `arg` is its (typed) input, its state lives in slot `slot`."""

    func: str
    arg: Node
    slot: int
    span: Span
    type: Type | None = None


@dataclass(frozen=True)
class ToFloat:
    operand: Node
    span: Span
    type: Type | None = Type.FLOAT


Node = Const | Name | ParamRef | LetRef | StateVar | BookField | Unary | Binary | Cond | Call | Stateful | ToFloat

_NODE_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Const, Name, ParamRef, LetRef, StateVar, BookField, Unary, Binary, Cond, Call, Stateful, ToFloat)
}


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, ToFloat):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Cond):
        return (node.cond, node.then, node.orelse)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Stateful):
        return (node.arg,)
    return ()


def walk(node: Node) -> Iterator[Node]:
    """All nodes of a tree in post-order (children before parents, left to right)."""
    for child in children(node):
        yield from walk(child)
    yield node


# --------------------------------------------------------------------------- strategy IR


@dataclass(frozen=True)
class ParamDecl:
    """A strategy parameter; `lo`/`hi` are the declared range (inclusive) if any."""

    name: str
    type: Type
    default: int | float | bool
    lo: int | float | None = None
    hi: int | float | None = None
    span: Span | None = None


@dataclass(frozen=True)
class StateSlot:
    """Per-strategy state of one stateful call, with a size fixed at compile time.

    `kind` is the function name.  Semantics (the reference is
    `hftc.expr.evaluate`; all backends implement exactly these steps):

    * `delta(x)`: `x - previous x`; 0 on the first event (ints wrap).
    * `ema(x, n)`: `alpha = 2.0 / (double(n) + 1.0)`; first sample `s = x`,
      then `s = s + alpha * (x - s)`.  `n` is clamped to >= 1.  No ring.
    * `sma/std/zscore(x, n)`: a ring of `capacity` samples; the window is the
      last `w = clamp(n, 1, capacity)` samples (fewer at start).  O(1) per
      update with running sums of `x - k` and `(x - k)^2`, where the shift
      `k` is the first finite sample since the window last held no finite
      sample (this keeps the sums well conditioned for prices).  Non-finite
      samples are counted instead of summed; while one is in the window the
      result is nan.  `sma` is the mean, `std` the population standard
      deviation (ddof = 0), `zscore` is `(x - mean) / std` over the window
      including `x` (0.0 when std is 0).
    * `ema_t(x, tau_ns)`: time-decayed EMA; first sample `s = x`, then with
      `dt = ts - last_ts` (ns): if `dt > 0`, `alpha = 1 - exp(-dt / tau)` (1 when
      `tau <= 0`) and `s = s + alpha * (x - s)`; samples with `dt <= 0` leave
      `s` unchanged.  No ring.
    * `sma_t(x, window_ns[, capacity])`: mean of the samples with timestamp in
      `(ts - window_ns, ts]`, kept in a ring of `capacity` timestamped samples
      (default `SMA_T_DEFAULT_CAPACITY`).  Capacity rule: if more than
      `capacity` samples fall inside the window the oldest are evicted, so the
      mean covers only the newest `capacity` samples; choose
      `capacity >= window_ns / (minimum event spacing)`.  Expiry is amortised
      O(1) per update (each sample is evicted once) and bounded by `capacity`.

    The window/tau is `window_const` when given as a literal, otherwise the
    parameter `window_param`, read once when the strategy is constructed.
    `capacity` is the ring size (0 for slots without a ring): the constant
    window, or the upper bound of an int parameter's range.

    Slots are numbered in evaluation order: lets in topological order, then
    rules in declaration order, and within one expression in post-order (inner
    stateful calls first).  Every slot is updated exactly once per event.
    """

    index: int
    kind: str
    input: Node
    capacity: int
    window_const: int | float | None
    window_param: str | None
    span: Span


@dataclass(frozen=True)
class LetBinding:
    name: str
    expr: Node
    span: Span
    slots: tuple[int, ...] = ()  # slots to update (in order) before evaluating `expr`


@dataclass(frozen=True)
class Rule:
    """A rule such as `quote.bid.price` or `when`; `ident` is a unique identifier for it."""

    key: str
    ident: str
    expr: Node
    expected: Type
    span: Span
    slots: tuple[int, ...] = ()


@dataclass(frozen=True)
class CheckedStrategy:
    """A type-checked strategy: what every backend needs to generate its `update`.

    Per event, backends evaluate `lets` (already in dependency order) and then
    `rules`; before each binding/rule they update its `slots` in order.
    `instruments[0]` is the instrument `book.*` refers to.
    """

    name: str
    instruments: tuple[str, ...]
    params: tuple[ParamDecl, ...]
    lets: tuple[LetBinding, ...]
    rules: tuple[Rule, ...]
    slots: tuple[StateSlot, ...]

    def param(self, name: str) -> ParamDecl:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def to_json(self) -> dict:
        return _to_json(self)

    @staticmethod
    def from_json(data: dict) -> CheckedStrategy:
        result = _from_json(data)
        assert isinstance(result, CheckedStrategy)
        return result


_ALL_CLASSES: dict[str, type] = dict(
    _NODE_CLASSES,
    ParamDecl=ParamDecl,
    StateSlot=StateSlot,
    LetBinding=LetBinding,
    Rule=Rule,
    CheckedStrategy=CheckedStrategy,
)


# --------------------------------------------------------------------------- JSON


def _value_to_json(value: Any) -> Any:
    if isinstance(value, Type):  # before `str`: Type is a str enum and must keep its identity
        return {"$type": value.value}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"$float": value.hex()}
    if isinstance(value, Span):
        return {"$span": [value.file, value.line, value.col, value.end_line, value.end_col]}
    if isinstance(value, tuple):
        return [_value_to_json(v) for v in value]
    if type(value).__name__ in _ALL_CLASSES:
        return _to_json(value)
    raise TypeError(f"cannot serialise {value!r}")


def _to_json(obj: Any) -> dict:
    out: dict[str, Any] = {"$node": type(obj).__name__}
    for f in fields(obj):
        out[f.name] = _value_to_json(getattr(obj, f.name))
    return out


def _value_from_json(data: Any) -> Any:
    if isinstance(data, list):
        return tuple(_value_from_json(v) for v in data)
    if isinstance(data, dict):
        if "$node" in data:
            return _from_json(data)
        if "$float" in data:
            return float.fromhex(data["$float"])
        if "$type" in data:
            return Type(data["$type"])
        if "$span" in data:
            return Span(*data["$span"])
        raise ValueError(f"unknown JSON object {data!r}")
    return data


def _from_json(data: dict) -> Any:
    cls = _ALL_CLASSES.get(data.get("$node", ""))
    if cls is None:
        raise ValueError(f"unknown node kind {data.get('$node')!r}")
    kwargs = {f.name: _value_from_json(data[f.name]) for f in fields(cls) if f.name in data}
    return cls(**kwargs)


def expr_to_json(node: Node) -> dict:
    """A JSON-compatible dict for `node`; `expr_from_json` inverts it exactly."""
    return _to_json(node)


def expr_from_json(data: dict) -> Node:
    node = _from_json(data)
    if type(node).__name__ not in _NODE_CLASSES:
        raise ValueError(f"{data.get('$node')!r} is not an expression node")
    return node
