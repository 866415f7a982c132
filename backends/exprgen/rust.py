"""Rust emitter for checked strategies (see `backends.exprgen`).

The output is a `pub mod <name> { ... }` using only `std`; it passes
`rustc --edition 2021 -D warnings` as part of a library crate.  Rings are
fixed-size arrays (`[f64; C]`) allocated when the strategy is built (inside
the struct; box the strategy for large windows).  Only the runtime helpers the
strategy uses are emitted.
"""

from __future__ import annotations

from hftc.ir.expr import CheckedStrategy, Type

from hftc.backends.exprgen import Code, Lowering, ident, outputs, slot_window

_RTYPE = {Type.INT: "i64", Type.FLOAT: "f64", Type.BOOL: "bool"}
_ZERO = {Type.INT: "0", Type.FLOAT: "0.0", Type.BOOL: "false"}

# name -> (source, dependencies)
_HELPERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "imod": (
        """
    /// Floored modulo; `x % 0 == 0`.
    pub fn imod(a: i64, b: i64) -> i64 {
        if b == 0 {
            return 0;
        }
        let mut r = a.wrapping_rem(b);
        if r != 0 && ((r < 0) != (b < 0)) {
            r += b;
        }
        r
    }""",
        (),
    ),
    "fmod_floor": (
        """
    /// Floored float modulo (sign of the divisor); nan for `b == 0` or non-finite `a`.
    pub fn fmod_floor(a: f64, b: f64) -> f64 {
        if b == 0.0 || !a.is_finite() || b.is_nan() {
            return f64::NAN;
        }
        let mut r = a % b;
        if r != 0.0 {
            if (r < 0.0) != (b < 0.0) {
                r += b;
            }
        } else {
            r = 0.0_f64.copysign(b);
        }
        r
    }""",
        (),
    ),
    "vmin": (
        """
    pub fn vmin<T: PartialOrd>(a: T, b: T) -> T {
        if b < a {
            b
        } else {
            a
        }
    }""",
        (),
    ),
    "vmax": (
        """
    pub fn vmax<T: PartialOrd>(a: T, b: T) -> T {
        if a < b {
            b
        } else {
            a
        }
    }""",
        (),
    ),
    "book_mid": (
        """
    pub fn book_mid(b: &BookTop) -> f64 {
        (b.bid + b.ask) / 2.0
    }""",
        (),
    ),
    "book_spread": (
        """
    pub fn book_spread(b: &BookTop) -> f64 {
        b.ask - b.bid
    }""",
        (),
    ),
    "book_microprice": (
        """
    pub fn book_microprice(b: &BookTop) -> f64 {
        let d = b.bid_qty + b.ask_qty;
        if d == 0.0 {
            return (b.bid + b.ask) / 2.0;
        }
        (b.bid * b.ask_qty + b.ask * b.bid_qty) / d
    }""",
        (),
    ),
    "book_imbalance": (
        """
    pub fn book_imbalance(b: &BookTop) -> f64 {
        let d = b.bid_qty + b.ask_qty;
        if d == 0.0 {
            return 0.0;
        }
        (b.bid_qty - b.ask_qty) / d
    }""",
        (),
    ),
    "DeltaI": (
        """
    #[derive(Debug, Clone, Default)]
    pub struct DeltaI {
        prev: i64,
        has: bool,
    }
    impl DeltaI {
        pub fn update(&mut self, x: i64) -> i64 {
            let r = if self.has { x.wrapping_sub(self.prev) } else { 0 };
            self.prev = x;
            self.has = true;
            r
        }
    }""",
        (),
    ),
    "DeltaF": (
        """
    #[derive(Debug, Clone, Default)]
    pub struct DeltaF {
        prev: f64,
        has: bool,
    }
    impl DeltaF {
        pub fn update(&mut self, x: f64) -> f64 {
            let r = if self.has { x - self.prev } else { 0.0 };
            self.prev = x;
            self.has = true;
            r
        }
    }""",
        (),
    ),
    "Ema": (
        """
    #[derive(Debug, Clone)]
    pub struct Ema {
        alpha: f64,
        s: f64,
        has: bool,
    }
    impl Ema {
        pub fn new(n: i64) -> Self {
            Ema { alpha: 2.0 / (n.max(1) as f64 + 1.0), s: 0.0, has: false }
        }
        pub fn update(&mut self, x: f64) -> f64 {
            if !self.has {
                self.s = x;
                self.has = true;
            } else {
                self.s += self.alpha * (x - self.s);
            }
            self.s
        }
    }""",
        (),
    ),
    "EmaT": (
        """
    #[derive(Debug, Clone)]
    pub struct EmaT {
        tau: f64,
        s: f64,
        last_ts: i64,
        has: bool,
    }
    impl EmaT {
        pub fn new(tau_ns: f64) -> Self {
            EmaT { tau: tau_ns, s: 0.0, last_ts: 0, has: false }
        }
        pub fn update(&mut self, x: f64, ts: i64) -> f64 {
            if !self.has {
                self.s = x;
                self.has = true;
            } else {
                let dt = ts.wrapping_sub(self.last_ts);
                if dt > 0 {
                    let mut alpha = 1.0;
                    if self.tau > 0.0 {
                        alpha = 1.0 - f64::exp(-(dt as f64) / self.tau);
                    }
                    self.s += alpha * (x - self.s);
                }
            }
            self.last_ts = ts;
            self.s
        }
    }""",
        (),
    ),
    "Sums": (
        """
    /// Shifted running sums over the samples in a window.
    #[derive(Debug, Clone, Default)]
    pub struct Sums {
        count: usize,
        nfin: usize,
        k: f64,
        has_k: bool,
        s1: f64,
        s2: f64,
    }
    impl Sums {
        fn add(&mut self, x: f64) {
            self.count += 1;
            if x.is_finite() {
                if !self.has_k {
                    self.k = x;
                    self.has_k = true;
                }
                let d = x - self.k;
                self.s1 += d;
                self.s2 += d * d;
                self.nfin += 1;
            }
        }
        fn remove(&mut self, x: f64) {
            self.count -= 1;
            if x.is_finite() {
                self.nfin -= 1;
                if self.nfin == 0 {
                    self.s1 = 0.0;
                    self.s2 = 0.0;
                    self.has_k = false;
                } else {
                    let d = x - self.k;
                    self.s1 -= d;
                    self.s2 -= d * d;
                }
            }
        }
        fn mean(&self) -> f64 {
            if self.nfin != self.count || self.count == 0 {
                return f64::NAN;
            }
            self.k + self.s1 / self.count as f64
        }
        fn stdev(&self) -> f64 {
            if self.nfin != self.count || self.count == 0 {
                return f64::NAN;
            }
            let n = self.count as f64;
            let m = self.s1 / n;
            let mut var = self.s2 / n - m * m;
            if var < 0.0 {
                var = 0.0;
            }
            var.sqrt()
        }
        fn zscore(&self, x: f64) -> f64 {
            let sd = self.stdev();
            if sd.is_nan() {
                return f64::NAN;
            }
            if sd == 0.0 {
                return 0.0;
            }
            (x - self.mean()) / sd
        }
    }""",
        (),
    ),
    "Window": (
        """
    #[derive(Debug, Clone)]
    pub struct Window<const C: usize> {
        ring: [f64; C],
        w: usize,
        head: usize,
        sums: Sums,
    }
    impl<const C: usize> Window<C> {
        pub fn new(n: i64) -> Self {
            let w = n.max(1).min(C as i64) as usize;
            Window { ring: [0.0; C], w, head: 0, sums: Sums::default() }
        }
        fn push(&mut self, x: f64) {
            if self.sums.count == self.w {
                self.sums.remove(self.ring[(self.head + C - self.w) % C]);
            }
            self.ring[self.head] = x;
            self.head = (self.head + 1) % C;
            self.sums.add(x);
        }
        pub fn update_sma(&mut self, x: f64) -> f64 {
            self.push(x);
            self.sums.mean()
        }
        pub fn update_std(&mut self, x: f64) -> f64 {
            self.push(x);
            self.sums.stdev()
        }
        pub fn update_zscore(&mut self, x: f64) -> f64 {
            self.push(x);
            self.sums.zscore(x)
        }
    }""",
        ("Sums",),
    ),
    "SmaT": (
        """
    #[derive(Debug, Clone)]
    pub struct SmaT<const C: usize> {
        xs: [f64; C],
        tss: [i64; C],
        window: f64,
        tail: usize,
        sums: Sums,
    }
    impl<const C: usize> SmaT<C> {
        pub fn new(window_ns: f64) -> Self {
            SmaT { xs: [0.0; C], tss: [0; C], window: window_ns, tail: 0, sums: Sums::default() }
        }
        fn pop(&mut self) {
            self.sums.remove(self.xs[self.tail]);
            self.tail = (self.tail + 1) % C;
        }
        pub fn update(&mut self, x: f64, ts: i64) -> f64 {
            while self.sums.count > 0 && ts.wrapping_sub(self.tss[self.tail]) as f64 >= self.window {
                self.pop();
            }
            if self.sums.count == C {
                self.pop();
            }
            let idx = (self.tail + self.sums.count) % C;
            self.xs[idx] = x;
            self.tss[idx] = ts;
            self.sums.add(x);
            self.sums.mean()
        }
    }""",
        ("Sums",),
    ),
}

_CMP = {"<", "<=", ">", ">=", "==", "!="}


def _float_lit(v: float) -> str:
    text = repr(float(v))
    if "." not in text and "e" not in text:
        text += ".0"
    return f"{text}_f64" if v >= 0 else f"({text}_f64)"


class _Rust(Lowering):
    def int_const(self, v: int) -> Code:
        return (f"{v}_i64", True) if v >= 0 else (f"({v}_i64)", True)

    def float_const(self, v: float) -> Code:
        return _float_lit(v), True

    def bool_const(self, v: bool) -> Code:
        return ("true" if v else "false"), True

    def param(self, name: str) -> Code:
        return f"self.params.{ident(name)}", True

    def state(self, name: str) -> Code:
        return f"inputs.{name.replace('.', '_')}", True

    def book(self, index: int, field: str) -> Code:
        if field in ("bid", "ask", "bid_qty", "ask_qty"):
            return f"inputs.books[{index}].{field}", True
        return f"{self.helper('book_' + field)}(&inputs.books[{index}])", True

    def to_float(self, a: Code) -> Code:
        return f"{self.operand(a)} as f64", False

    def neg(self, a: Code, t: Type) -> Code:
        if t is Type.INT:
            return f"i64::wrapping_neg({a[0]})", True
        return f"-{self.operand(a)}", False

    def not_(self, a: Code) -> Code:
        return f"!{self.operand(a)}", False

    def logic(self, op: str, a: Code, b: Code) -> Code:
        return f"{self.operand(a)} {'&&' if op == 'and' else '||'} {self.operand(b)}", False

    def compare(self, op: str, a: Code, b: Code) -> Code:
        return f"{self.operand(a)} {op} {self.operand(b)}", False

    def arith(self, op: str, a: Code, b: Code, t: Type) -> Code:
        if t is Type.INT:
            if op == "%":
                return f"{self.helper('imod')}({a[0]}, {b[0]})", True
            fn = {"+": "wrapping_add", "-": "wrapping_sub", "*": "wrapping_mul"}[op]
            return f"i64::{fn}({a[0]}, {b[0]})", True
        if op == "%":
            return f"{self.helper('fmod_floor')}({a[0]}, {b[0]})", True
        return f"{self.operand(a)} {op} {self.operand(b)}", False

    def cond(self, c: Code, a: Code, b: Code) -> Code:
        return f"if {c[0]} {{ {a[0]} }} else {{ {b[0]} }}", False

    def call(self, func: str, args: list[Code], t: Type) -> Code:
        xs = [a[0] for a in args]
        if func == "abs":
            return (f"i64::wrapping_abs({xs[0]})" if t is Type.INT else f"f64::abs({xs[0]})"), True
        if func in ("min", "max"):
            return f"{self.helper('v' + func)}({xs[0]}, {xs[1]})", True
        if func == "clamp":
            return f"{self.helper('vmin')}({self.helper('vmax')}({xs[0]}, {xs[1]}), {xs[2]})", True
        return f"f64::{'ln' if func == 'log' else func}({xs[0]})", True


def _slot_type(s: CheckedStrategy, k: int) -> tuple[str, str, str]:
    """(helper name, field type, initialiser)."""
    slot = s.slots[k]
    window = slot_window(
        s, k, lambda p: f"params.{ident(p)}", lambda v: f"{v}_i64" if isinstance(v, int) else _float_lit(v)
    )
    if slot.kind == "delta":
        name = "DeltaI" if slot.input.type is Type.INT else "DeltaF"
        return name, name, f"{name}::default()"
    if slot.kind == "ema":
        return "Ema", "Ema", f"Ema::new({window})"
    if slot.kind == "ema_t":
        return "EmaT", "EmaT", f"EmaT::new({_time_window(s, slot, window)})"
    if slot.kind == "sma_t":
        w = _time_window(s, slot, window)
        return "SmaT", f"SmaT<{slot.capacity}>", f"SmaT::new({w})"
    return "Window", f"Window<{slot.capacity}>", f"Window::new({window})"


def _time_window(s: CheckedStrategy, slot, window: str) -> str:
    if slot.window_param is None:
        return _float_lit(float(slot.window_const))
    return f"{window} as f64" if s.param(slot.window_param).type is Type.INT else window


def emit_rust(strategy: CheckedStrategy, module: str | None = None) -> str:
    """A `pub mod` (default name `hftc_<strategy>`) with the strategy's types and `Strategy`."""
    s = strategy
    mod = module or f"hftc_{ident(s.name)}"
    low = _Rust(s)
    n = len(s.instruments)
    names = ", ".join(f'"{i}"' for i in s.instruments)
    slot_types = [_slot_type(s, k) for k in range(len(s.slots))]
    for helper, _, _ in slot_types:
        low.helper(helper)

    def emit_slot(k: int) -> str:
        slot = s.slots[k]
        arg = low.expr(slot.input)[0]
        t = "i64" if slot.kind == "delta" and slot.input.type is Type.INT else "f64"
        if slot.kind in ("sma", "std", "zscore"):
            return f"        let s{k}: {t} = self.slot{k}.update_{slot.kind}({arg});"
        if slot.kind in ("ema_t", "sma_t"):
            return f"        let s{k}: {t} = self.slot{k}.update({arg}, inputs.ts_ns);"
        return f"        let s{k}: {t} = self.slot{k}.update({arg});"

    def emit_let(name: str, code: str, t: Type) -> str:
        return f"        let l_{ident(name)}: {_RTYPE[t]} = {code};\n        out.{ident(name)} = l_{ident(name)};"

    def emit_rule(name: str, code: str, t: Type) -> str:
        return f"        out.{ident(name)} = {code};"

    body = ["    " + line.replace("\n", "\n    ") for line in low.steps(emit_slot, emit_let, emit_rule)]
    uses_inputs = any("inputs." in line for line in body)

    out = [
        f"/// Generated by hftc from strategy `{s.name}`. Do not edit.",
        f"pub mod {mod} {{",
        f"    pub const INSTRUMENTS: [&str; {n}] = [{names}];",
        "",
        "    #[derive(Debug, Clone, Copy, Default, PartialEq)]",
        "    pub struct BookTop {",
        "        pub bid: f64,",
        "        pub ask: f64,",
        "        pub bid_qty: f64,",
        "        pub ask_qty: f64,",
        "    }",
        "",
        "    #[derive(Debug, Clone, Copy, Default, PartialEq)]",
        "    pub struct Inputs {",
        "        pub ts_ns: i64,",
        f"        pub books: [BookTop; {n}],",
        "        pub position: f64,",
        "        pub pnl: f64,",
        "        pub last_trade_price: f64,",
        "        pub last_trade_qty: f64,",
        "        pub last_trade_side: i64,",
        "    }",
        "",
        # Without parameters a derived Default is the same (clippy: derivable_impls).
        f"    #[derive(Debug, Clone, Copy, {'' if s.params else 'Default, '}PartialEq)]",
        "    pub struct Params {",
    ]
    for p in s.params:
        out.append(f"        pub {ident(p.name)}: {_RTYPE[p.type]},")
    out += ["    }", ""]
    if s.params:
        out += ["    impl Default for Params {", "        fn default() -> Self {", "            Params {"]
    for p in s.params:
        if p.type is Type.FLOAT:
            default = _float_lit(float(p.default))
        elif p.type is Type.INT:
            default = f"{int(p.default)}_i64" if int(p.default) >= 0 else f"({int(p.default)}_i64)"
        else:
            default = "true" if p.default else "false"
        out.append(f"                {ident(p.name)}: {default},")
    if s.params:
        out += ["            }", "        }", "    }", ""]
    out += [
        "    #[derive(Debug, Clone, Copy, Default, PartialEq)]",
        "    pub struct Outputs {",
    ]
    for name, t in outputs(s):
        out.append(f"        pub {name}: {_RTYPE[t]},")
    out += ["    }", ""]

    # runtime helpers actually used (plus their dependencies), in a fixed order
    needed = set(low.used)
    for name in list(needed):
        needed.update(_HELPERS[name][1])
    for name, (src, _) in _HELPERS.items():
        if name in needed:
            out.append(src.strip("\n"))
            out.append("")

    out += ["    #[derive(Debug, Clone)]", "    pub struct Strategy {", "        params: Params,"]
    for k, (_, typ, _) in enumerate(slot_types):
        out.append(f"        slot{k}: {typ},")
    out += [
        "    }",
        "",
        "    impl Strategy {",
        "        pub fn new(params: Params) -> Self {",
        "            Strategy {",
    ]
    for k, (_, _, init) in enumerate(slot_types):
        out.append(f"                slot{k}: {init},")
    out += [
        "                params,",
        "            }",
        "        }",
        "",
        "        pub fn params(&self) -> &Params {",
        "            &self.params",
        "        }",
        "",
        "        /// Evaluates lets and rules for one event (O(1); `sma_t` expiry is amortised O(1)).",
        "        #[allow(",
        "            unused_comparisons,",
        "            clippy::absurd_extreme_comparisons,",
        "            clippy::bool_comparison,",
        "            clippy::eq_op,",
        "            clippy::erasing_op,",
        "            clippy::field_reassign_with_default,",
        "            clippy::identity_op,",
        "            clippy::if_same_then_else,",
        "            clippy::neg_cmp_op_on_partial_ord,",
        "            clippy::neg_multiply,",
        "            clippy::nonminimal_bool,",
        "            clippy::overly_complex_bool_expr,",
        "            clippy::precedence,",
        "            clippy::unnecessary_cast,",
        "            clippy::zero_divided_by_zero",
        "        )]",
        f"        pub fn update(&mut self, {'inputs' if uses_inputs else '_inputs'}: &Inputs) -> Outputs {{",
    ]
    out.append("            let mut out = Outputs::default();" if body else "            let out = Outputs::default();")
    out += body
    out += [
        "            out",
        "        }",
        "    }",
        "",
        "    impl Default for Strategy {",
        "        fn default() -> Self {",
        "            Strategy::new(Params::default())",
        "        }",
        "    }",
        "}",
        "",
    ]
    return "\n".join(out)
