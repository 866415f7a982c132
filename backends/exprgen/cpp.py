"""C++20 emitter for checked strategies (see `backends.exprgen`).

The output compiles with `g++ -std=c++20 -Wall -Wextra -Wpedantic -Werror`,
uses only the standard library, and allocates nothing after construction:
rings are `std::array` members sized at compile time (a strategy with large
windows is big; construct it on the heap).
"""

from __future__ import annotations

from hftc.ir.expr import CheckedStrategy, Type

from hftc.backends.exprgen import Code, Lowering, ident, outputs, slot_window, typed

_CTYPE = {Type.INT: "std::int64_t", Type.FLOAT: "double", Type.BOOL: "bool"}
_ZERO = {Type.INT: "0", Type.FLOAT: "0.0", Type.BOOL: "false"}

_RUNTIME = r"""
namespace rt {

inline std::int64_t wadd(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
inline std::int64_t wsub(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
inline std::int64_t wmul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}
// int -> double through a function: g++ 12 folds `0.0 - static_cast<double>(i)`
// into `-static_cast<double>(i)` in its front end, which gives -0.0 for i == 0.
inline double to_f64(std::int64_t x) { return static_cast<double>(x); }
inline std::int64_t wneg(std::int64_t a) { return wsub(0, a); }
inline std::int64_t wabs(std::int64_t a) { return a < 0 ? wneg(a) : a; }
// Floored modulo; x % 0 == 0.
inline std::int64_t imod(std::int64_t a, std::int64_t b) {
  if (b == 0 || b == -1) return 0;
  std::int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
// Floored float modulo (sign of the divisor), nan for b == 0 or non-finite a.
inline double fmod_floor(double a, double b) {
  if (b == 0.0 || !std::isfinite(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  double r = std::fmod(a, b);
  if (r != 0.0) {
    if ((r < 0.0) != (b < 0.0)) r = r + b;
  } else {
    r = std::copysign(0.0, b);
  }
  return r;
}
template <class T> constexpr T vmin(T a, T b) { return b < a ? b : a; }
template <class T> constexpr T vmax(T a, T b) { return a < b ? b : a; }
template <class T> constexpr bool lt(T a, T b) { return a < b; }
template <class T> constexpr bool le(T a, T b) { return a <= b; }
template <class T> constexpr bool gt(T a, T b) { return a > b; }
template <class T> constexpr bool ge(T a, T b) { return a >= b; }
template <class T> constexpr bool eq(T a, T b) { return a == b; }
template <class T> constexpr bool ne(T a, T b) { return a != b; }

inline double book_mid(const BookTop& b) { return (b.bid + b.ask) / 2.0; }
inline double book_spread(const BookTop& b) { return b.ask - b.bid; }
inline double book_microprice(const BookTop& b) {
  const double d = b.bid_qty + b.ask_qty;
  if (d == 0.0) return (b.bid + b.ask) / 2.0;
  return (b.bid * b.ask_qty + b.ask * b.bid_qty) / d;
}
inline double book_imbalance(const BookTop& b) {
  const double d = b.bid_qty + b.ask_qty;
  if (d == 0.0) return 0.0;
  return (b.bid_qty - b.ask_qty) / d;
}

template <class T> struct Delta {
  T prev{};
  bool has = false;
  T update(T x) {
    T r{};
    if (has) {
      if constexpr (std::is_same_v<T, std::int64_t>) {
        r = wsub(x, prev);
      } else {
        r = x - prev;
      }
    }
    prev = x;
    has = true;
    return r;
  }
};

struct Ema {
  double alpha;
  double s = 0.0;
  bool has = false;
  explicit Ema(std::int64_t n) : alpha(2.0 / (static_cast<double>(vmax<std::int64_t>(n, 1)) + 1.0)) {}
  double update(double x) {
    if (!has) {
      s = x;
      has = true;
    } else {
      s = s + alpha * (x - s);
    }
    return s;
  }
};

struct EmaT {
  double tau;
  double s = 0.0;
  std::int64_t last_ts = 0;
  bool has = false;
  explicit EmaT(double tau_ns) : tau(tau_ns) {}
  double update(double x, std::int64_t ts) {
    if (!has) {
      s = x;
      has = true;
    } else {
      const std::int64_t dt = wsub(ts, last_ts);
      if (dt > 0) {
        double alpha = 1.0;
        if (tau > 0.0) alpha = 1.0 - std::exp(-static_cast<double>(dt) / tau);
        s = s + alpha * (x - s);
      }
    }
    last_ts = ts;
    return s;
  }
};

// Shifted running sums over the samples in a window (see hftc.ir.expr.StateSlot).
struct Sums {
  std::size_t count = 0;
  std::size_t nfin = 0;
  double k = 0.0;
  bool has_k = false;
  double s1 = 0.0;
  double s2 = 0.0;
  void add(double x) {
    count += 1;
    if (std::isfinite(x)) {
      if (!has_k) {
        k = x;
        has_k = true;
      }
      const double d = x - k;
      s1 = s1 + d;
      s2 = s2 + d * d;
      nfin += 1;
    }
  }
  void remove(double x) {
    count -= 1;
    if (std::isfinite(x)) {
      nfin -= 1;
      if (nfin == 0) {
        s1 = 0.0;
        s2 = 0.0;
        has_k = false;
      } else {
        const double d = x - k;
        s1 = s1 - d;
        s2 = s2 - d * d;
      }
    }
  }
  double mean() const {
    if (nfin != count || count == 0) return std::numeric_limits<double>::quiet_NaN();
    return k + s1 / static_cast<double>(count);
  }
  double stdev() const {
    if (nfin != count || count == 0) return std::numeric_limits<double>::quiet_NaN();
    const double n = static_cast<double>(count);
    const double m = s1 / n;
    double var = s2 / n - m * m;
    if (var < 0.0) var = 0.0;
    return std::sqrt(var);
  }
  double zscore(double x) const {
    const double sd = stdev();
    if (std::isnan(sd)) return std::numeric_limits<double>::quiet_NaN();
    if (sd == 0.0) return 0.0;
    return (x - mean()) / sd;
  }
};

template <std::size_t C> struct Window {
  std::array<double, C> ring{};
  std::size_t w;
  std::size_t head = 0;
  Sums sums;
  explicit Window(std::int64_t n)
      : w(static_cast<std::size_t>(vmin<std::int64_t>(vmax<std::int64_t>(n, 1), static_cast<std::int64_t>(C)))) {}
  void push(double x) {
    if (sums.count == w) sums.remove(ring[(head + C - w) % C]);
    ring[head] = x;
    head = (head + 1) % C;
    sums.add(x);
  }
  double update_sma(double x) {
    push(x);
    return sums.mean();
  }
  double update_std(double x) {
    push(x);
    return sums.stdev();
  }
  double update_zscore(double x) {
    push(x);
    return sums.zscore(x);
  }
};

template <std::size_t C> struct SmaT {
  std::array<double, C> xs{};
  std::array<std::int64_t, C> tss{};
  double window;
  std::size_t tail = 0;
  Sums sums;
  explicit SmaT(double window_ns) : window(window_ns) {}
  void pop() {
    sums.remove(xs[tail]);
    tail = (tail + 1) % C;
  }
  double update(double x, std::int64_t ts) {
    while (sums.count > 0 && static_cast<double>(wsub(ts, tss[tail])) >= window) pop();
    if (sums.count == C) pop();
    const std::size_t idx = (tail + sums.count) % C;
    xs[idx] = x;
    tss[idx] = ts;
    sums.add(x);
    return sums.mean();
  }
};

}  // namespace rt
"""

_CMP = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}


def _float_lit(v: float) -> str:
    text = repr(float(v))
    if "." not in text and "e" not in text:
        text += ".0"
    return text


class _Cpp(Lowering):
    def int_const(self, v: int) -> Code:
        return f"std::int64_t{{{v}}}", True

    def float_const(self, v: float) -> Code:
        return (_float_lit(v), True) if v >= 0 else (f"({_float_lit(v)})", True)

    def bool_const(self, v: bool) -> Code:
        return ("true" if v else "false"), True

    def param(self, name: str) -> Code:
        return f"params_.{ident(name)}", True

    def state(self, name: str) -> Code:
        return f"in.{name.replace('.', '_')}", True

    def book(self, index: int, field: str) -> Code:
        if field in ("bid", "ask", "bid_qty", "ask_qty"):
            return f"in.books[{index}].{field}", True
        return f"rt::book_{field}(in.books[{index}])", True

    def to_float(self, a: Code) -> Code:
        return f"rt::to_f64({a[0]})", True

    def neg(self, a: Code, t: Type) -> Code:
        if t is Type.INT:
            return f"rt::wneg({a[0]})", True
        return f"-{self.operand(a)}", False

    def not_(self, a: Code) -> Code:
        return f"!{self.operand(a)}", False

    def logic(self, op: str, a: Code, b: Code) -> Code:
        return f"{self.operand(a)} {'&&' if op == 'and' else '||'} {self.operand(b)}", False

    def compare(self, op: str, a: Code, b: Code) -> Code:
        # helper calls keep user comparisons such as `x < x` free of
        # -Wtautological-compare / -Wbool-compare warnings under -Werror.
        return f"rt::{_CMP[op]}({a[0]}, {b[0]})", True

    def arith(self, op: str, a: Code, b: Code, t: Type) -> Code:
        if t is Type.INT:
            fn = {"+": "wadd", "-": "wsub", "*": "wmul", "%": "imod"}[op]
            return f"rt::{fn}({a[0]}, {b[0]})", True
        if op == "%":
            return f"rt::fmod_floor({a[0]}, {b[0]})", True
        return f"{self.operand(a)} {op} {self.operand(b)}", False

    def cond(self, c: Code, a: Code, b: Code) -> Code:
        return f"{self.operand(c)} ? {self.operand(a)} : {self.operand(b)}", False

    def call(self, func: str, args: list[Code], t: Type) -> Code:
        xs = [a[0] for a in args]
        if func == "abs":
            return (f"rt::wabs({xs[0]})" if t is Type.INT else f"std::fabs({xs[0]})"), True
        if func in ("min", "max"):
            return f"rt::v{func}<{_CTYPE[t]}>({xs[0]}, {xs[1]})", True
        if func == "clamp":
            ct = _CTYPE[t]
            return f"rt::vmin<{ct}>(rt::vmax<{ct}>({xs[0]}, {xs[1]}), {xs[2]})", True
        return f"std::{func}({xs[0]})", True


def _slot_decl(s: CheckedStrategy, k: int) -> tuple[str, str]:
    slot = s.slots[k]
    window = slot_window(
        s, k, lambda p: f"params_.{ident(p)}", lambda v: f"std::int64_t{{{v}}}" if isinstance(v, int) else _float_lit(v)
    )
    if slot.kind == "delta":
        return f"rt::Delta<{_CTYPE[typed(slot.input)]}>", "{}"
    if slot.kind == "ema":
        return "rt::Ema", f"{{{window}}}"
    if slot.kind == "ema_t":
        return "rt::EmaT", f"{{static_cast<double>({window})}}"
    if slot.kind == "sma_t":
        return f"rt::SmaT<{slot.capacity}>", f"{{static_cast<double>({window})}}"
    return f"rt::Window<{slot.capacity}>", f"{{{window}}}"


def _set_param(s: CheckedStrategy) -> list[str]:
    """`set_param`: one parameter from a runtime overlay, refused outside its declared range.

    Window capacities are sized from the ranges, so a value outside one is not merely unwise:
    it would not fit. The engine validates a whole overlay with this before it applies any of it.
    """
    out = [
        "// Sets one parameter from an overlay value (`best_params.yaml`, read by the engine at start and",
        "// on SIGHUP). False, with the reason in `error` and `p` unchanged, for an unknown name, a value",
        "// outside the declared range (window capacities are sized from it), or a fraction for an int",
        "// parameter. Allocation-free: the reasons are static text.",
        "inline bool set_param([[maybe_unused]] Params& p, [[maybe_unused]] const char* name,",
        "                      [[maybe_unused]] double value, const char*& error) {",
    ]
    for prm in s.params:
        name = ident(prm.name)
        out.append(f'  if (std::strcmp(name, "{prm.name}") == 0) {{')
        if prm.type is Type.INT:
            out += ["    if (!(value == std::floor(value)) || std::fabs(value) > 9.0e15) {",
                    f'      error = "{prm.name} takes an integer";',
                    "      return false;", "    }"]
        if prm.lo is not None and prm.hi is not None and prm.type is not Type.BOOL:
            lo, hi = _float_lit(float(prm.lo)), _float_lit(float(prm.hi))
            out += [f"    if (!(value >= {lo} && value <= {hi})) {{",
                    f'      error = "{prm.name} is outside its range [{prm.lo}, {prm.hi}]";',
                    "      return false;", "    }"]
        elif prm.type is Type.FLOAT:
            out += ["    if (!std::isfinite(value)) {", f'      error = "{prm.name} must be finite";', "      return false;",
                    "    }"]
        if prm.type is Type.BOOL:
            out.append(f"    p.{name} = value != 0.0;")
        else:
            out.append(f"    p.{name} = static_cast<{_CTYPE[prm.type]}>(value);")
        out += ["    return true;", "  }"]
    out += ['  error = "unknown parameter";', "  return false;", "}"]
    return out


def emit_cpp(strategy: CheckedStrategy, namespace: str | None = None) -> str:
    """C++20 source (header) for `strategy` inside `namespace` (default `hftc_<name>`)."""
    s = strategy
    ns = namespace or f"hftc_{ident(s.name)}"
    low = _Cpp(s)
    n = len(s.instruments)
    names = ", ".join(f'"{i}"' for i in s.instruments)
    out: list[str] = [
        f"// Generated by hftc from strategy `{s.name}`. Do not edit.",
        "// Build with -ffp-contract=off (default for -std=c++20) and -fno-builtin-exp -fno-builtin-log",
        "// for results bit-identical to the hftc reference evaluator.",
        "#pragma once",
        "",
        "#include <array>",
        "#include <cmath>",
        "#include <cstddef>",
        "#include <cstdint>",
        "#include <cstring>",
        "#include <limits>",
        "#include <type_traits>",
        "",
        f"namespace {ns} {{",
        "",
        f"inline constexpr std::size_t kNumInstruments = {n};",
        f"inline constexpr std::array<const char*, {n}> kInstruments{{{{{names}}}}};",
        "",
        "struct BookTop {",
        "  double bid = 0.0;",
        "  double ask = 0.0;",
        "  double bid_qty = 0.0;",
        "  double ask_qty = 0.0;",
        "};",
        "",
        "struct Inputs {",
        "  std::int64_t ts_ns = 0;",
        f"  std::array<BookTop, {n}> books{{}};",
        "  double position = 0.0;",
        "  double pnl = 0.0;",
        "  double last_trade_price = 0.0;",
        "  double last_trade_qty = 0.0;",
        "  std::int64_t last_trade_side = 0;",
        "};",
        "",
        "struct Params {",
    ]
    for p in s.params:
        if p.type is Type.FLOAT:
            default = _float_lit(float(p.default))
        elif p.type is Type.INT:
            default = str(int(p.default))
        else:
            default = "true" if p.default else "false"
        out.append(f"  {_CTYPE[p.type]} {ident(p.name)} = {default};")
    out += ["};", ""] + _set_param(s) + ["", "struct Outputs {"]
    for name, t in outputs(s):
        out.append(f"  {_CTYPE[t]} {name} = {_ZERO[t]};")
    out += ["};", "", _RUNTIME.strip("\n"), ""]

    out += [
        "class Strategy {",
        " public:",
        "  explicit Strategy(const Params& params = Params{})",
        "      : params_(params)" + ("," if s.slots else " {}"),
    ]
    decls = [_slot_decl(s, k) for k in range(len(s.slots))]
    for k, (_, init) in enumerate(decls):
        sep = "," if k + 1 < len(decls) else " {}"
        out.append(f"        slot{k}_{init}{sep}")
    out += [
        "",
        "  const Params& params() const { return params_; }",
        "",
        "  Outputs update([[maybe_unused]] const Inputs& in) {",
        "    Outputs out{};",
    ]

    def emit_slot(k: int) -> str:
        slot = s.slots[k]
        arg = low.expr(slot.input)[0]
        t = _CTYPE[Type.INT if slot.kind == "delta" and slot.input.type is Type.INT else Type.FLOAT]
        if slot.kind in ("sma", "std", "zscore"):
            return f"    const {t} s{k} = slot{k}_.update_{slot.kind}({arg});"
        if slot.kind in ("ema_t", "sma_t"):
            return f"    const {t} s{k} = slot{k}_.update({arg}, in.ts_ns);"
        return f"    const {t} s{k} = slot{k}_.update({arg});"

    def emit_let(name: str, code: str, t: Type) -> str:
        return f"    const {_CTYPE[t]} l_{ident(name)} = {code};\n    out.{ident(name)} = l_{ident(name)};"

    def emit_rule(name: str, code: str, t: Type) -> str:
        return f"    out.{ident(name)} = {code};"

    out += low.steps(emit_slot, emit_let, emit_rule)
    out += ["    return out;", "  }", "", " private:", "  Params params_;"]
    for k, (typ, _) in enumerate(decls):
        out.append(f"  {typ} slot{k}_;")
    out += ["};", "", f"}}  // namespace {ns}", ""]
    return "\n".join(out)
