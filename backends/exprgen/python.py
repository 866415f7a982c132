"""Python emitter for checked strategies (see `backends.exprgen`).

The output is a plain, typed, self-contained module (stdlib only) whose
arithmetic reproduces IEEE-754 semantics where Python would raise (division
by zero, `exp` overflow, `log`/`sqrt` of negatives) and 64-bit wrapping for
ints, so it agrees bit for bit with the C++ and Rust output.
"""

from __future__ import annotations

from hftc.ir.expr import CheckedStrategy, Type

from hftc.backends.exprgen import Code, Lowering, ident, outputs, slot_window

_PYTYPE = {Type.INT: "int", Type.FLOAT: "float", Type.BOOL: "bool"}
_ZERO = {Type.INT: "0", Type.FLOAT: "0.0", Type.BOOL: "False"}

_RUNTIME = r"""
_MASK = (1 << 64) - 1
_HALF = 1 << 63


def _wrap(x: int) -> int:
    return ((x + _HALF) & _MASK) - _HALF


def _imod(a: int, b: int) -> int:
    if b == 0:
        return 0
    return a % b


def _fdiv(a: float, b: float) -> float:
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _fmod_floor(a: float, b: float) -> float:
    if b == 0.0 or not math.isfinite(a) or math.isnan(b):
        return math.nan
    r = math.fmod(a, b)
    if r != 0.0:
        if (r < 0.0) != (b < 0.0):
            r = r + b
    else:
        r = math.copysign(0.0, b)
    return r


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    if math.isnan(x) or x < 0.0:
        return math.nan
    if x == 0.0:
        return -math.inf
    return math.log(x)


def _sqrt(x: float) -> float:
    if math.isnan(x) or x < 0.0:
        return math.nan
    return math.sqrt(x)


def _min(a: _T, b: _T) -> _T:
    return b if b < a else a


def _max(a: _T, b: _T) -> _T:
    return b if a < b else a


def _book_mid(b: BookTop) -> float:
    return _fdiv(b.bid + b.ask, 2.0)


def _book_spread(b: BookTop) -> float:
    return b.ask - b.bid


def _book_microprice(b: BookTop) -> float:
    d = b.bid_qty + b.ask_qty
    if d == 0.0:
        return _fdiv(b.bid + b.ask, 2.0)
    return _fdiv(b.bid * b.ask_qty + b.ask * b.bid_qty, d)


def _book_imbalance(b: BookTop) -> float:
    d = b.bid_qty + b.ask_qty
    if d == 0.0:
        return 0.0
    return _fdiv(b.bid_qty - b.ask_qty, d)


class _DeltaI:
    def __init__(self) -> None:
        self.prev = 0
        self.has = False

    def update(self, x: int) -> int:
        r = _wrap(x - self.prev) if self.has else 0
        self.prev = x
        self.has = True
        return r


class _DeltaF:
    def __init__(self) -> None:
        self.prev = 0.0
        self.has = False

    def update(self, x: float) -> float:
        r = x - self.prev if self.has else 0.0
        self.prev = x
        self.has = True
        return r


class _Ema:
    def __init__(self, n: int) -> None:
        self.alpha = _fdiv(2.0, float(_max(n, 1)) + 1.0)
        self.s = 0.0
        self.has = False

    def update(self, x: float) -> float:
        if not self.has:
            self.s = x
            self.has = True
        else:
            self.s = self.s + self.alpha * (x - self.s)
        return self.s


class _EmaT:
    def __init__(self, tau_ns: float) -> None:
        self.tau = float(tau_ns)
        self.s = 0.0
        self.last_ts = 0
        self.has = False

    def update(self, x: float, ts: int) -> float:
        if not self.has:
            self.s = x
            self.has = True
        else:
            dt = _wrap(ts - self.last_ts)
            if dt > 0:
                alpha = 1.0
                if self.tau > 0.0:
                    alpha = 1.0 - _exp(_fdiv(-float(dt), self.tau))
                self.s = self.s + alpha * (x - self.s)
        self.last_ts = ts
        return self.s


class _Sums:
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
        return self.k + _fdiv(self.s1, float(self.count))

    def stdev(self) -> float:
        if self.nfin != self.count or self.count == 0:
            return math.nan
        n = float(self.count)
        m = _fdiv(self.s1, n)
        var = _fdiv(self.s2, n) - m * m
        if var < 0.0:
            var = 0.0
        return _sqrt(var)

    def zscore(self, x: float) -> float:
        sd = self.stdev()
        if math.isnan(sd):
            return math.nan
        if sd == 0.0:
            return 0.0
        return _fdiv(x - self.mean(), sd)


class _Window:
    def __init__(self, capacity: int, n: int) -> None:
        self.cap = capacity
        self.w = _min(_max(n, 1), capacity)
        self.ring = [0.0] * capacity
        self.head = 0
        self.sums = _Sums()

    def _push(self, x: float) -> None:
        if self.sums.count == self.w:
            self.sums.remove(self.ring[(self.head + self.cap - self.w) % self.cap])
        self.ring[self.head] = x
        self.head = (self.head + 1) % self.cap
        self.sums.add(x)

    def update_sma(self, x: float) -> float:
        self._push(x)
        return self.sums.mean()

    def update_std(self, x: float) -> float:
        self._push(x)
        return self.sums.stdev()

    def update_zscore(self, x: float) -> float:
        self._push(x)
        return self.sums.zscore(x)


class _SmaT:
    def __init__(self, capacity: int, window_ns: float) -> None:
        self.cap = capacity
        self.window = float(window_ns)
        self.xs = [0.0] * capacity
        self.tss = [0] * capacity
        self.tail = 0
        self.sums = _Sums()

    def _pop(self) -> None:
        self.sums.remove(self.xs[self.tail])
        self.tail = (self.tail + 1) % self.cap

    def update(self, x: float, ts: int) -> float:
        while self.sums.count > 0 and float(_wrap(ts - self.tss[self.tail])) >= self.window:
            self._pop()
        if self.sums.count == self.cap:
            self._pop()
        idx = (self.tail + self.sums.count) % self.cap
        self.xs[idx] = x
        self.tss[idx] = ts
        self.sums.add(x)
        return self.sums.mean()
"""


def _float_lit(v: float) -> str:
    return repr(float(v)) if v >= 0 else f"({float(v)!r})"


class _Py(Lowering):
    def int_const(self, v: int) -> Code:
        return (str(v), True) if v >= 0 else (f"({v})", True)

    def float_const(self, v: float) -> Code:
        return _float_lit(v), True

    def bool_const(self, v: bool) -> Code:
        return ("True" if v else "False"), True

    def param(self, name: str) -> Code:
        return f"p.{ident(name)}", True

    def state(self, name: str) -> Code:
        return f"inputs.{name.replace('.', '_')}", True

    def book(self, index: int, field: str) -> Code:
        if field in ("bid", "ask", "bid_qty", "ask_qty"):
            return f"inputs.books[{index}].{field}", True
        return f"_book_{field}(inputs.books[{index}])", True

    def to_float(self, a: Code) -> Code:
        return f"float({a[0]})", True

    def neg(self, a: Code, t: Type) -> Code:
        if t is Type.INT:
            return f"_wrap(-{self.operand(a)})", True
        return f"-{self.operand(a)}", False

    def not_(self, a: Code) -> Code:
        return f"not {self.operand(a)}", False

    def logic(self, op: str, a: Code, b: Code) -> Code:
        return f"{self.operand(a)} {op} {self.operand(b)}", False

    def arith(self, op: str, a: Code, b: Code, t: Type) -> Code:
        if t is Type.INT:
            if op == "%":
                return f"_imod({a[0]}, {b[0]})", True
            return f"_wrap({self.operand(a)} {op} {self.operand(b)})", True
        if op == "/":
            return f"_fdiv({a[0]}, {b[0]})", True
        if op == "%":
            return f"_fmod_floor({a[0]}, {b[0]})", True
        return f"{self.operand(a)} {op} {self.operand(b)}", False

    def cond(self, c: Code, a: Code, b: Code) -> Code:
        return f"{self.operand(a)} if {self.operand(c)} else {self.operand(b)}", False

    def call(self, func: str, args: list[Code], t: Type) -> Code:
        xs = [a[0] for a in args]
        if func == "abs":
            return (f"_wrap(abs({xs[0]}))" if t is Type.INT else f"math.fabs({xs[0]})"), True
        if func in ("min", "max"):
            return f"_{func}({xs[0]}, {xs[1]})", True
        if func == "clamp":
            return f"_min(_max({xs[0]}, {xs[1]}), {xs[2]})", True
        return f"_{func}({xs[0]})", True


def emit_python(strategy: CheckedStrategy) -> str:
    """A Python module defining BookTop, Inputs, Params, Outputs and Strategy for `strategy`."""
    s = strategy
    low = _Py(s)
    n = len(s.instruments)
    out = [
        f'"""Generated by hftc from strategy `{s.name}`. Do not edit."""',
        "",
        "from __future__ import annotations",
        "",
        "import math",
        "from dataclasses import dataclass, field",
        "from typing import TypeVar",
        "",
        '_T = TypeVar("_T", int, float)',
        "",
        f"INSTRUMENTS: tuple[str, ...] = ({''.join(repr(i) + ', ' for i in s.instruments)})",
        "",
        "",
        "@dataclass",
        "class BookTop:",
        "    bid: float = 0.0",
        "    ask: float = 0.0",
        "    bid_qty: float = 0.0",
        "    ask_qty: float = 0.0",
        "",
        "",
        "@dataclass",
        "class Inputs:",
        "    ts_ns: int = 0",
        f"    books: list[BookTop] = field(default_factory=lambda: [BookTop() for _ in range({n})])",
        "    position: float = 0.0",
        "    pnl: float = 0.0",
        "    last_trade_price: float = 0.0",
        "    last_trade_qty: float = 0.0",
        "    last_trade_side: int = 0",
        "",
        "",
        "@dataclass(frozen=True)",
        "class Params:",
    ]
    for p in s.params:
        if p.type is Type.FLOAT:
            default = _float_lit(float(p.default))
        elif p.type is Type.INT:
            default = str(int(p.default))
        else:
            default = "True" if p.default else "False"
        out.append(f"    {ident(p.name)}: {_PYTYPE[p.type]} = {default}")
    if not s.params:
        out.append("    pass")
    out += ["", "", "@dataclass", "class Outputs:"]
    for name, t in outputs(s):
        out.append(f"    {name}: {_PYTYPE[t]} = {_ZERO[t]}")
    if not outputs(s):
        out.append("    pass")
    out += ["", _RUNTIME.strip("\n"), "", ""]

    def ctor(k: int) -> str:
        slot = s.slots[k]
        window = slot_window(s, k, lambda p: f"params.{ident(p)}", lambda v: repr(v))
        if slot.kind == "delta":
            return "_DeltaI()" if slot.input.type is Type.INT else "_DeltaF()"
        if slot.kind == "ema":
            return f"_Ema({window})"
        if slot.kind == "ema_t":
            return f"_EmaT({window})"
        if slot.kind == "sma_t":
            return f"_SmaT({slot.capacity}, {window})"
        return f"_Window({slot.capacity}, {window})"

    out += [
        "class Strategy:",
        "    def __init__(self, params: Params | None = None) -> None:",
        "        params = params if params is not None else Params()",
        "        self.params = params",
    ]
    for k in range(len(s.slots)):
        out.append(f"        self.slot{k} = {ctor(k)}")

    def emit_slot(k: int) -> str:
        slot = s.slots[k]
        arg = low.expr(slot.input)[0]
        if slot.kind in ("sma", "std", "zscore"):
            return f"        s{k} = self.slot{k}.update_{slot.kind}({arg})"
        if slot.kind in ("ema_t", "sma_t"):
            return f"        s{k} = self.slot{k}.update({arg}, inputs.ts_ns)"
        return f"        s{k} = self.slot{k}.update({arg})"

    def emit_let(name: str, code: str, t: Type) -> str:
        return f"        l_{ident(name)} = {code}\n        out.{ident(name)} = l_{ident(name)}"

    def emit_rule(name: str, code: str, t: Type) -> str:
        return f"        out.{ident(name)} = {code}"

    out += [
        "",
        "    def update(self, inputs: Inputs) -> Outputs:",
        "        p = self.params  # noqa: F841",
        "        out = Outputs()",
    ]
    out += low.steps(emit_slot, emit_let, emit_rule)
    out += ["        return out", ""]
    return "\n".join(out)
