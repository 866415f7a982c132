"""Reference evaluator: the executable semantics of the expression language.

    evaluate(strategy: CheckedStrategy, events: Iterable[Event],
             params: Mapping[str, int | float | bool] | None = None) -> list[dict[str, value]]

steps a fresh `Evaluator` over `events` and returns, per event, a dict with one
entry per `let` (by name) and per rule (by `Rule.ident`).  `Evaluator` can
also be stepped one event at a time.  Generated C++, Rust and Python code must
produce bit-identical results (the differential tests check that); the
operations below are therefore spelt out exactly, in the order the backends
perform them:

* ints are 64-bit two's complement and wrap; floats are binary64 with IEEE
  semantics (division by zero gives inf/nan, never an exception);
* int `%` is floored (`x % 0 == 0`); float `%` is `r = fmod(a, b)`, then
  `r + b` if `r != 0` and the signs of `r` and `b` differ, `copysign(0, b)` if
  `r == 0`, nan if `b == 0` or `a` is not finite;
* `min(a, b) = b if b < a else a`, `max(a, b) = b if a < b else a`;
* `exp`, `log`, `sqrt` follow C99 (`exp` overflows to inf, `log(0) = -inf`,
  `log(x < 0)` and `sqrt(x < 0)` are nan).

State slots follow `hftc.ir.expr.StateSlot`; windows given as parameters are
read when the evaluator is constructed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hftc.ir.expr import (
    Binary,
    BookField,
    Call,
    CheckedStrategy,
    Cond,
    Const,
    LetRef,
    Node,
    ParamRef,
    Stateful,
    StateSlot,
    StateVar,
    ToFloat,
    Type,
    Unary,
)

__all__ = ["BookTop", "Evaluator", "Event", "evaluate"]

Value = int | float | bool
_MASK = (1 << 64) - 1
_HALF = 1 << 63


@dataclass(frozen=True)
class BookTop:
    bid: float = 0.0
    ask: float = 0.0
    bid_qty: float = 0.0
    ask_qty: float = 0.0


@dataclass(frozen=True)
class Event:
    """One input event; `books[i]` is the top of book of `strategy.instruments[i]`."""

    ts_ns: int
    books: Sequence[BookTop]
    position: float = 0.0
    pnl: float = 0.0
    last_trade_price: float = 0.0
    last_trade_qty: float = 0.0
    last_trade_side: int = 0


# ----------------------------------------------------------------------------- scalar ops


def wrap(x: int) -> int:
    return ((x + _HALF) & _MASK) - _HALF


def imod(a: int, b: int) -> int:
    if b == 0:
        return 0
    return a % b  # Python's % is floored; |result| < |b| so it never overflows


def fdiv(a: float, b: float) -> float:
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def fmod_floor(a: float, b: float) -> float:
    if b == 0.0 or not math.isfinite(a) or math.isnan(b):
        return math.nan
    r = math.fmod(a, b)
    if r != 0.0:
        if (r < 0.0) != (b < 0.0):
            r = r + b
    else:
        r = math.copysign(0.0, b)
    return r


def fexp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def flog(x: float) -> float:
    if math.isnan(x) or x < 0.0:
        return math.nan
    if x == 0.0:
        return -math.inf
    return math.log(x)


def fsqrt(x: float) -> float:
    if math.isnan(x) or x < 0.0:
        return math.nan
    return math.sqrt(x)


def vmin(a, b):
    return b if b < a else a  # noqa: FURB136 - spelt out: this is the definition backends mirror


def vmax(a, b):
    return b if a < b else a  # noqa: FURB136


def book_field(b: BookTop, name: str) -> float:
    if name == "bid":
        return b.bid
    if name == "ask":
        return b.ask
    if name == "bid_qty":
        return b.bid_qty
    if name == "ask_qty":
        return b.ask_qty
    if name == "mid":
        return fdiv(b.bid + b.ask, 2.0)
    if name == "spread":
        return b.ask - b.bid
    d = b.bid_qty + b.ask_qty
    if name == "microprice":
        if d == 0.0:
            return fdiv(b.bid + b.ask, 2.0)
        return fdiv(b.bid * b.ask_qty + b.ask * b.bid_qty, d)
    if name == "imbalance":
        if d == 0.0:
            return 0.0
        return fdiv(b.bid_qty - b.ask_qty, d)
    raise KeyError(name)


# ----------------------------------------------------------------------------- state slots


class _Delta:
    def __init__(self, is_int: bool):
        self.is_int = is_int
        self.prev: Value = 0 if is_int else 0.0
        self.has = False

    def update(self, x, ts: int):
        if self.has:
            r = wrap(x - self.prev) if self.is_int else x - self.prev
        else:
            r = 0 if self.is_int else 0.0
        self.prev = x
        self.has = True
        return r


class _Ema:
    def __init__(self, n: int):
        n = max(n, 1)
        self.alpha = fdiv(2.0, float(n) + 1.0)
        self.s = 0.0
        self.has = False

    def update(self, x: float, ts: int) -> float:
        if not self.has:
            self.s = x
            self.has = True
        else:
            self.s = self.s + self.alpha * (x - self.s)
        return self.s


class _EmaT:
    def __init__(self, tau: float):
        self.tau = float(tau)
        self.s = 0.0
        self.last_ts = 0
        self.has = False

    def update(self, x: float, ts: int) -> float:
        if not self.has:
            self.s = x
            self.has = True
        else:
            dt = wrap(ts - self.last_ts)
            if dt > 0:
                alpha = 1.0
                if self.tau > 0.0:
                    alpha = 1.0 - fexp(fdiv(-float(dt), self.tau))
                self.s = self.s + alpha * (x - self.s)
        self.last_ts = ts
        return self.s


class _Sums:
    """Shifted running sums over the samples currently in a window."""

    def __init__(self) -> None:
        self.count = 0
        self.nfin = 0
        self.k = 0.0
        self.has_k = False
        self.s1 = 0.0
        self.s2 = 0.0

    def add(self, x: float) -> None:
        self.count += 1
        if math.isfinite(x):
            if not self.has_k:
                self.k = x
                self.has_k = True
            d = x - self.k
            self.s1 = self.s1 + d
            self.s2 = self.s2 + d * d
            self.nfin += 1

    def remove(self, x: float) -> None:
        self.count -= 1
        if math.isfinite(x):
            self.nfin -= 1
            if self.nfin == 0:
                self.s1 = 0.0
                self.s2 = 0.0
                self.has_k = False
            else:
                d = x - self.k
                self.s1 = self.s1 - d
                self.s2 = self.s2 - d * d

    def mean(self) -> float:
        if self.nfin != self.count or self.count == 0:
            return math.nan
        return self.k + fdiv(self.s1, float(self.count))

    def std(self) -> float:
        if self.nfin != self.count or self.count == 0:
            return math.nan
        n = float(self.count)
        m = fdiv(self.s1, n)
        var = fdiv(self.s2, n) - m * m
        if var < 0.0:  # noqa: PLR1730 - mirrors the C++/Rust code
            var = 0.0
        return fsqrt(var)

    def zscore(self, x: float) -> float:
        sd = self.std()
        if math.isnan(sd):
            return math.nan
        if sd == 0.0:
            return 0.0
        return fdiv(x - self.mean(), sd)


class _Window:
    def __init__(self, kind: str, capacity: int, n: int):
        self.kind = kind
        self.cap = capacity
        self.w = vmin(vmax(n, 1), capacity)
        self.ring = [0.0] * capacity
        self.head = 0
        self.sums = _Sums()

    def update(self, x: float, ts: int) -> float:
        if self.sums.count == self.w:
            self.sums.remove(self.ring[(self.head + self.cap - self.w) % self.cap])
        self.ring[self.head] = x
        self.head = (self.head + 1) % self.cap
        self.sums.add(x)
        if self.kind == "sma":
            return self.sums.mean()
        if self.kind == "std":
            return self.sums.std()
        return self.sums.zscore(x)


class _SmaT:
    def __init__(self, capacity: int, window: float):
        self.cap = capacity
        self.window = float(window)
        self.xs = [0.0] * capacity
        self.tss = [0] * capacity
        self.tail = 0
        self.sums = _Sums()

    def _pop(self) -> None:
        self.sums.remove(self.xs[self.tail])
        self.tail = (self.tail + 1) % self.cap

    def update(self, x: float, ts: int) -> float:
        while self.sums.count > 0 and float(wrap(ts - self.tss[self.tail])) >= self.window:
            self._pop()
        if self.sums.count == self.cap:
            self._pop()
        idx = (self.tail + self.sums.count) % self.cap
        self.xs[idx] = x
        self.tss[idx] = ts
        self.sums.add(x)
        return self.sums.mean()


def _make_slot(slot: StateSlot, params: Mapping[str, Value]):
    window: Any = slot.window_const if slot.window_param is None else params[slot.window_param]
    if slot.kind == "delta":
        return _Delta(slot.input.type is Type.INT)
    if slot.kind == "ema":
        return _Ema(int(window))
    if slot.kind == "ema_t":
        return _EmaT(float(window))
    if slot.kind == "sma_t":
        return _SmaT(slot.capacity, float(window))
    return _Window(slot.kind, slot.capacity, int(window))


# ----------------------------------------------------------------------------- evaluator


class Evaluator:
    """Steps a checked strategy one event at a time (`step(event) -> dict`)."""

    def __init__(self, strategy: CheckedStrategy, params: Mapping[str, Value] | None = None):
        self.strategy = strategy
        values = {p.name: p.default for p in strategy.params}
        values.update(params or {})
        for p in strategy.params:
            v = values[p.name]
            values[p.name] = bool(v) if p.type is Type.BOOL else int(v) if p.type is Type.INT else float(v)
        self.params = values
        self.slots = [_make_slot(s, values) for s in strategy.slots]

    def step(self, event: Event) -> dict[str, Value]:
        env: dict[str, Value] = {}
        slot_values: dict[int, Value] = {}
        out: dict[str, Value] = {}
        items = [(b.name, b.expr, b.slots) for b in self.strategy.lets] + [
            (r.ident, r.expr, r.slots) for r in self.strategy.rules
        ]
        n_lets = len(self.strategy.lets)
        for i, (key, expr, slots) in enumerate(items):
            for k in slots:
                x = self._eval(self.strategy.slots[k].input, event, env, slot_values)
                slot_values[k] = self.slots[k].update(x, event.ts_ns)
            value = self._eval(expr, event, env, slot_values)
            if i < n_lets:
                env[key] = value
            out[key] = value
        return out

    def _eval(self, node: Node, ev: Event, env: dict, slots: dict) -> Any:
        ev_ = self._eval
        if isinstance(node, Const):
            return node.value
        if isinstance(node, ParamRef):
            return self.params[node.name]
        if isinstance(node, LetRef):
            return env[node.name]
        if isinstance(node, StateVar):
            return {
                "position": ev.position,
                "pnl": ev.pnl,
                "last_trade.price": ev.last_trade_price,
                "last_trade.qty": ev.last_trade_qty,
                "last_trade.side": ev.last_trade_side,
            }[node.name]
        if isinstance(node, BookField):
            return book_field(ev.books[node.index], node.field)
        if isinstance(node, ToFloat):
            return float(ev_(node.operand, ev, env, slots))
        if isinstance(node, Stateful):
            return slots[node.slot]
        if isinstance(node, Unary):
            v = ev_(node.operand, ev, env, slots)
            if node.op == "not":
                return not v
            return wrap(-v) if node.type is Type.INT else -v
        if isinstance(node, Cond):
            c = ev_(node.cond, ev, env, slots)
            a = ev_(node.then, ev, env, slots)
            b = ev_(node.orelse, ev, env, slots)
            return a if c else b
        if isinstance(node, Binary):
            a = ev_(node.left, ev, env, slots)
            b = ev_(node.right, ev, env, slots)
            op = node.op
            if op == "and":
                return a and b
            if op == "or":
                return a or b
            if op == "<":
                return a < b
            if op == "<=":
                return a <= b
            if op == ">":
                return a > b
            if op == ">=":
                return a >= b
            if op == "==":
                return a == b
            if op == "!=":
                return a != b
            if node.type is Type.INT:
                if op == "+":
                    return wrap(a + b)
                if op == "-":
                    return wrap(a - b)
                if op == "*":
                    return wrap(a * b)
                return imod(a, b)
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                return fdiv(a, b)
            return fmod_floor(a, b)
        if isinstance(node, Call):
            args = [ev_(a, ev, env, slots) for a in node.args]
            f = node.func
            if f == "abs":
                return wrap(abs(args[0])) if node.type is Type.INT else math.fabs(args[0])
            if f == "min":
                return vmin(args[0], args[1])
            if f == "max":
                return vmax(args[0], args[1])
            if f == "clamp":
                return vmin(vmax(args[0], args[1]), args[2])
            if f == "sqrt":
                return fsqrt(args[0])
            if f == "log":
                return flog(args[0])
            return fexp(args[0])
        raise TypeError(f"cannot evaluate {node!r}")


def evaluate(
    strategy: CheckedStrategy,
    events: Iterable[Event],
    params: Mapping[str, Value] | None = None,
) -> list[dict[str, Value]]:
    ev = Evaluator(strategy, params)
    return [ev.step(e) for e in events]
