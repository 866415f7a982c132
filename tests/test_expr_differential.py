"""Differential test: generated C++, Rust and Python against the reference evaluator.

Hypothesis draws batches of random well-typed expressions (arithmetic on ints
and floats with implicit promotion, comparisons, `and/or/not`, conditionals,
`abs/min/max/clamp/sqrt/log/exp`, every book field, state variables, and the
stateful functions `ema/sma/std/zscore/delta/ema_t/sma_t`, nested), three
`let` bindings, and a random event sequence.  Each batch becomes ONE strategy
(~150 rules) so C++ and Rust are compiled once per batch; the programs read
the events on stdin (floats as raw IEEE bit patterns) and print every output
of every event (floats as bit patterns, ints in decimal, bools as 0/1).

Float bound: 0 ulp, i.e. bit-identical results (all nans count as equal, since
their sign/payload is not specified).  Justification: every backend performs
the same IEEE-754 binary64 operations (+ - * / sqrt fmod, int->float
conversions), each correctly rounded, on the same operands in the same order
(the reference order of `hftc.expr.evaluate`; the emitters parenthesise
fully), with no FMA contraction (`-ffp-contract=off`; Rust never contracts)
and no reassociation (no fast-math).  The only operations that are not
correctly rounded are `exp` and `log`; all three call the platform libm
(glibc) at run time, and g++ is told not to constant-fold them
(`-fno-builtin-exp -fno-builtin-log`; GCC would otherwise fold with MPFR, which
can differ from glibc by 1 ulp and that error can be amplified by later
operations).  On a platform whose Python, C++ and Rust use different libms,
expressions containing exp/log/ema_t can differ; set HFTC_EXPR_ULP to a
larger bound there (it is applied to every float output).

Binaries are cached by source hash under $HFTC_BUILD_CACHE/expr/ (default
<repository>/.build-cache/expr/).  Examples are derandomised so reruns hit the
cache; set HFTC_EXPR_RANDOM=1 to draw new batches.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import types
from pathlib import Path

import pytest
from hftc.diagnostics.model import Span
from hftc.expr.evaluate import BookTop, Event, evaluate
from hftc.expr.typecheck import check_strategy
from hftc.ir.expr import CheckedStrategy, ParamDecl, Type
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hftc.backends.exprgen import emit_cpp, emit_python, emit_rust, outputs

ULP_BOUND = int(os.environ.get("HFTC_EXPR_ULP", "0"))
CACHE = Path(os.environ.get("HFTC_BUILD_CACHE", Path(__file__).resolve().parents[1] / ".build-cache")) / "expr"
CXX_FLAGS = [
    "-std=c++20",
    "-O1",
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Werror",
    "-ffp-contract=off",
    "-fno-builtin-exp",
    "-fno-builtin-log",
]
RUST_FLAGS = ["--edition", "2021", "-D", "warnings", "-C", "opt-level=0"]

needs_cxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
needs_rustc = pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")

# ----------------------------------------------------------------------------- harness


def _bits(x: float) -> str:
    return struct.pack(">d", x).hex()


def _from_bits(h: str) -> float:
    return struct.unpack(">d", bytes.fromhex(h))[0]


def encode_events(strategy: CheckedStrategy, events: list[Event]) -> str:
    lines = [str(len(events))]
    for e in events:
        toks = [str(e.ts_ns)]
        for b in e.books:
            toks += [_bits(b.bid), _bits(b.ask), _bits(b.bid_qty), _bits(b.ask_qty)]
        toks += [_bits(e.position), _bits(e.pnl), _bits(e.last_trade_price), _bits(e.last_trade_qty)]
        toks.append(str(e.last_trade_side))
        lines.append(" ".join(toks))
    return "\n".join(lines) + "\n"


def decode_outputs(strategy: CheckedStrategy, text: str) -> list[list]:
    fields = outputs(strategy)
    rows = []
    for line in text.strip().splitlines():
        toks = line.split()
        assert len(toks) == len(fields), (len(toks), len(fields))
        row = []
        for tok, (_, t) in zip(toks, fields):
            row.append(_from_bits(tok) if t is Type.FLOAT else bool(int(tok)) if t is Type.BOOL else int(tok))
        rows.append(row)
    return rows


def cpp_driver(strategy: CheckedStrategy, ns: str) -> str:
    n = len(strategy.instruments)
    reads = ["    in.ts_ns = ri(is);"]
    for i in range(n):
        reads += [f"    in.books[{i}].{f} = rd(is);" for f in ("bid", "ask", "bid_qty", "ask_qty")]
    reads += [f"    in.{f} = rd(is);" for f in ("position", "pnl", "last_trade_price", "last_trade_qty")]
    reads.append("    in.last_trade_side = ri(is);")
    writes = []
    for name, t in outputs(strategy):
        writes.append({Type.FLOAT: "pf", Type.INT: "pi", Type.BOOL: "pb"}[t] + f"(o.{name});")
    return "\n".join(
        [
            '#include "strategy.hpp"',
            "#include <bit>",
            "#include <cinttypes>",
            "#include <cstdio>",
            "#include <iostream>",
            "#include <memory>",
            "#include <string>",
            "namespace {",
            "double rd(std::istream& is) {",
            "  std::string t;",
            "  is >> t;",
            "  return std::bit_cast<double>(static_cast<std::uint64_t>(std::stoull(t, nullptr, 16)));",
            "}",
            "std::int64_t ri(std::istream& is) {",
            "  long long v = 0;",
            "  is >> v;",
            "  return static_cast<std::int64_t>(v);",
            "}",
            '[[maybe_unused]] void pf(double v) { std::printf(" %016" PRIx64, std::bit_cast<std::uint64_t>(v)); }',
            '[[maybe_unused]] void pi(std::int64_t v) { std::printf(" %" PRId64, v); }',
            '[[maybe_unused]] void pb(bool v) { std::printf(" %d", v ? 1 : 0); }',
            "}  // namespace",
            "int main() {",
            "  std::istream& is = std::cin;",
            f"  auto s = std::make_unique<{ns}::Strategy>();",
            "  long long n = 0;",
            "  is >> n;",
            "  for (long long e = 0; e < n; ++e) {",
            f"    {ns}::Inputs in{{}};",
            *reads,
            f"    const {ns}::Outputs o = s->update(in);",
            *("    " + w for w in writes),
            '    std::printf("\\n");',
            "  }",
            "  return 0;",
            "}",
            "",
        ]
    )


def rust_driver(strategy: CheckedStrategy, mod: str, module_src: str) -> str:
    n = len(strategy.instruments)
    reads = ["        inputs.ts_ns = ri(&mut it);"]
    for i in range(n):
        reads += [f"        inputs.books[{i}].{f} = rd(&mut it);" for f in ("bid", "ask", "bid_qty", "ask_qty")]
    reads += [f"        inputs.{f} = rd(&mut it);" for f in ("position", "pnl", "last_trade_price", "last_trade_qty")]
    reads.append("        inputs.last_trade_side = ri(&mut it);")
    writes = []
    for name, t in outputs(strategy):
        if t is Type.FLOAT:
            writes.append(f'        write!(w, " {{:016x}}", o.{name}.to_bits()).unwrap();')
        elif t is Type.INT:
            writes.append(f'        write!(w, " {{}}", o.{name}).unwrap();')
        else:
            writes.append(f'        write!(w, " {{}}", u8::from(o.{name})).unwrap();')
    return "\n".join(
        [
            "#![allow(dead_code)]",
            "use std::io::{Read, Write};",
            module_src,
            "fn rd<'a>(it: &mut impl Iterator<Item = &'a str>) -> f64 {",
            "    f64::from_bits(u64::from_str_radix(it.next().unwrap(), 16).unwrap())",
            "}",
            "fn ri<'a>(it: &mut impl Iterator<Item = &'a str>) -> i64 {",
            "    it.next().unwrap().parse().unwrap()",
            "}",
            "fn main() {",
            "    let mut text = String::new();",
            "    std::io::stdin().read_to_string(&mut text).unwrap();",
            "    let mut it = text.split_ascii_whitespace();",
            "    let n: usize = it.next().unwrap().parse().unwrap();",
            f"    let mut s = Box::new({mod}::Strategy::default());",
            "    let stdout = std::io::stdout();",
            "    let mut w = std::io::BufWriter::new(stdout.lock());",
            "    for _ in 0..n {",
            f"        let mut inputs = {mod}::Inputs::default();",
            *reads,
            "        let o = s.update(&inputs);",
            *writes,
            "        writeln!(w).unwrap();",
            "    }",
            "}",
            "",
        ]
    )


def _cached_build(kind: str, sources: dict[str, str], command: list[str], output: str) -> Path:
    """Build `sources` in a cache directory named by their hash; returns the binary path."""
    h = hashlib.sha256()
    h.update(kind.encode())
    h.update(" ".join(command).encode())
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    d = CACHE / f"{kind}-{h.hexdigest()[:24]}"
    binary = d / output
    if binary.exists():
        return binary
    d.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        (d / name).write_text(text)
    proc = subprocess.run(command, cwd=d, capture_output=True, text=True, check=False, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"{kind} build failed in {d}:\n{proc.stderr[-6000:]}")
    return binary


def build_cpp(strategy: CheckedStrategy) -> Path:
    ns = "hftc_diff"
    sources = {"strategy.hpp": emit_cpp(strategy, ns), "main.cpp": cpp_driver(strategy, ns)}
    return _cached_build("cpp", sources, ["g++", *CXX_FLAGS, "main.cpp", "-o", "prog"], "prog")


def build_rust(strategy: CheckedStrategy) -> Path:
    mod = "hftc_diff"
    sources = {"main.rs": rust_driver(strategy, mod, emit_rust(strategy, mod))}
    return _cached_build("rust", sources, ["rustc", *RUST_FLAGS, "main.rs", "-o", "prog"], "prog")


def run_binary(binary: Path, strategy: CheckedStrategy, events: list[Event]) -> list[list]:
    proc = subprocess.run(
        [str(binary)], input=encode_events(strategy, events), capture_output=True, check=False, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return decode_outputs(strategy, proc.stdout)


_MODULE_COUNTER = [0]


def load_python(strategy: CheckedStrategy) -> types.ModuleType:
    _MODULE_COUNTER[0] += 1
    name = f"_hftc_expr_generated_{_MODULE_COUNTER[0]}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(emit_python(strategy), f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - generated code under test
    return module


def run_python(strategy: CheckedStrategy, events: list[Event]) -> list[list]:
    mod = load_python(strategy)
    s = mod.Strategy()
    rows = []
    for e in events:
        inp = mod.Inputs(
            ts_ns=e.ts_ns,
            books=[mod.BookTop(b.bid, b.ask, b.bid_qty, b.ask_qty) for b in e.books],
            position=e.position,
            pnl=e.pnl,
            last_trade_price=e.last_trade_price,
            last_trade_qty=e.last_trade_qty,
            last_trade_side=e.last_trade_side,
        )
        o = s.update(inp)
        rows.append([getattr(o, name) for name, _ in outputs(strategy)])
    return rows


def reference_rows(strategy: CheckedStrategy, events: list[Event]) -> list[list]:
    from hftc.backends.exprgen import ident

    names = [b.name for b in strategy.lets] + [r.ident for r in strategy.rules]
    assert [ident(n) for n in names] == [n for n, _ in outputs(strategy)]
    return [[row[n] for n in names] for row in evaluate(strategy, events)]


def ulp_distance(a: float, b: float) -> int:
    def key(x: float) -> int:
        i = struct.unpack(">q", struct.pack(">d", x))[0]
        return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)

    return abs(key(a) - key(b))


def same_value(t: Type, want, got, ulps: int = ULP_BOUND) -> bool:
    if t is not Type.FLOAT:
        return type(want) is type(got) and want == got
    if not isinstance(got, float):
        return False
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if ulps == 0:
        return _bits(want) == _bits(got)
    return ulp_distance(want, got) <= ulps


def compare(strategy: CheckedStrategy, lang: str, want: list[list], got: list[list], sources: dict[str, str]) -> None:
    fields = outputs(strategy)
    assert len(got) == len(want), f"{lang}: {len(got)} rows, expected {len(want)}"
    for i, (wrow, grow) in enumerate(zip(want, got)):
        for (name, t), w, g in zip(fields, wrow, grow):
            if not same_value(t, w, g):
                raise AssertionError(
                    f"{lang} differs from the reference at event {i}, output `{name}` ({t.value}):\n"
                    f"  expression: {sources.get(name, name)}\n  reference: {w!r}\n  {lang}: {g!r}"
                )


# ----------------------------------------------------------------------------- generators

PARAMS = {
    "ni": ParamDecl("ni", Type.INT, 7, 1, 12),
    "fp": ParamDecl("fp", Type.FLOAT, 0.37, 0.0, 1.0),
    "tau": ParamDecl("tau", Type.INT, 2_000_000, 1, 1_000_000_000),
}
INSTRUMENTS = ["EURUSD", "ETHUSDT"]
FLOAT_LITS = ["0.5", "1.25", "2e-3", "3.0", "1e3", "0.1", "7.75", "1e-300", "1e300", "0.0"]
INT_LITS = ["0", "1", "2", "3", "5", "17", "4611686018427387904", "9223372036854775807"]
FLOAT_LEAVES = [
    "book.bid",
    "book.ask",
    "book.bid_qty",
    "book.ask_qty",
    "book.mid",
    "book.microprice",
    "book.imbalance",
    "book.spread",
    "ETHUSDT.mid",
    "ETHUSDT.imbalance",
    "EURUSD.microprice",
    "position",
    "pnl",
    "last_trade.price",
    "last_trade.qty",
    "fp",
]
INT_LEAVES = ["ni", "last_trade.side"]


def gen_expr(rnd: random.Random, t: str, depth: int, lets: dict[str, str]) -> str:
    """A random well-typed expression of type `t` (source text)."""
    let_names = [n for n, lt in lets.items() if lt == t]
    if depth <= 0 or rnd.randint(0, 9) < 2:
        if t == "bool":
            return rnd.choice(["true", "false"])
        choices = (FLOAT_LEAVES + FLOAT_LITS) if t == "float" else (INT_LEAVES + INT_LITS)
        return rnd.choice(choices + let_names)
    sub = lambda tt: gen_expr(rnd, tt, depth - 1, lets)
    num = lambda: sub(rnd.choice(["int", "float"]))
    if t == "bool":
        k = rnd.randint(0, 5)
        if k == 0:
            return f"({num()} {rnd.choice(['<', '<=', '>', '>=', '==', '!='])} {num()})"
        if k == 1:
            return f"({sub('bool')} {rnd.choice(['and', 'or'])} {sub('bool')})"
        if k == 2:
            return f"(not {sub('bool')})"
        if k == 3:
            return f"({sub('bool')} {rnd.choice(['==', '!='])} {sub('bool')})"
        if k == 4:
            return f"(if {sub('bool')} then {sub('bool')} else {sub('bool')})"
        return f"({num()} < {num()})"
    if t == "int":
        k = rnd.randint(0, 8)
        if k <= 2:
            return f"({sub('int')} {rnd.choice(['+', '-', '*', '%'])} {sub('int')})"
        if k == 3:
            return f"(-{sub('int')})"
        if k == 4:
            return f"abs({sub('int')})"
        if k == 5:
            return f"{rnd.choice(['min', 'max'])}({sub('int')}, {sub('int')})"
        if k == 6:
            return f"clamp({sub('int')}, {sub('int')}, {sub('int')})"
        if k == 7:
            return f"(if {sub('bool')} then {sub('int')} else {sub('int')})"
        return f"delta({sub('int')})"
    k = rnd.randint(0, 11)
    if k <= 3:
        op = rnd.choice(["+", "-", "*", "/", "%"])
        a, b = rnd.choice([("float", "float"), ("float", "int"), ("int", "float"), ("int", "int")])
        return f"({sub(a)} {op} {sub(b)})"
    if k == 4:
        return f"(-{sub('float')})"
    if k == 5:
        return f"{rnd.choice(['abs', 'sqrt', 'log', 'exp'])}({num()})"
    if k == 6:
        return f"{rnd.choice(['min', 'max'])}({sub('float')}, {num()})"
    if k == 7:
        return f"clamp({sub('float')}, {num()}, {num()})"
    if k == 8:
        return f"(if {sub('bool')} then {sub('float')} else {num()})"
    x = sub("float") if rnd.random() < 0.5 else num()
    f = rnd.choice(["ema", "sma", "std", "zscore", "delta", "ema_t", "sma_t", "sma_t3"])
    if f == "delta":
        return f"delta({sub('float')})"
    if f in ("ema", "sma", "std", "zscore"):
        return f"{f}({x}, {rnd.choice(['1', '3', '5', 'ni'])})"
    if f == "ema_t":
        return f"ema_t({x}, {rnd.choice(['1e6', '250000', 'tau', 'fp'])})"
    if f == "sma_t":
        return f"sma_t({x}, {rnd.choice(['2e6', '500000', 'tau'])})"
    return f"sma_t({x}, {rnd.choice(['3e6', '1000000'])}, {rnd.choice(['1', '4', '16'])})"


def make_batch(seed: int, n_rules: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Three lets and `n_rules` rules drawn from `seed` (hypothesis draws the seed: a
    batch of ~150 deep expressions is far beyond what hypothesis' own choice
    sequence handles quickly, and shrinking is disabled anyway)."""
    rnd = random.Random(seed)
    lets: dict[str, str] = {}
    let_src: list[tuple[str, str]] = []
    for i in range(3):
        t = rnd.choice(["int", "float", "bool"])
        let_src.append((f"v{i}", gen_expr(rnd, t, 3, lets)))
        lets[f"v{i}"] = t
    rules = []
    for _ in range(n_rules):
        t = rnd.choice(["float", "float", "float", "int", "bool"])
        rules.append((gen_expr(rnd, t, 4, lets), t))
    return let_src, rules


price = st.floats(90.0, 110.0, allow_nan=False)
qty = st.one_of(st.just(0.0), st.floats(0.0, 10.0, allow_nan=False))
special = st.sampled_from([0.0, -0.0, 1e-310, 1e300, -1e300, math.inf, -math.inf, math.nan])


@st.composite
def event_lists(draw, n_events: int):
    ts = draw(st.integers(0, 10**12))
    events = []
    for _ in range(n_events):
        ts += draw(st.sampled_from([0, 1, 100_000, 500_000, 1_000_000, 3_000_000]))
        books = []
        for _ in INSTRUMENTS:
            bid = draw(price)
            books.append(BookTop(bid, bid + draw(st.floats(0.0, 0.5)), draw(qty), draw(qty)))
        events.append(
            Event(
                ts_ns=ts,
                books=books,
                position=draw(st.one_of(st.floats(-50.0, 50.0), special))
                if draw(st.integers(0, 19)) == 0
                else draw(st.floats(-50.0, 50.0)),
                pnl=draw(st.floats(-1e4, 1e4)),
                last_trade_price=draw(price),
                last_trade_qty=draw(qty),
                last_trade_side=draw(st.sampled_from([-1, 0, 1])),
            )
        )
    return events


#: Always part of a batch, so every batch exercises each stateful function and book field.
FIXED_RULES = [
    ("ema(book.mid, 3) + sma(ETHUSDT.microprice, ni) + std(book.bid, 4) + zscore(last_trade.price, 5)", "float"),
    ("ema_t(book.imbalance, 1e6) - sma_t(position, 2e6, 4) + delta(book.spread) + ema(pnl, ni)", "float"),
    ("delta(last_trade.side) * 3 % 2 - -last_trade.side + abs(ni - 9)", "int"),
    ("if zscore(book.ask_qty, ni) > 0.5 then sma_t(book.bid_qty, tau) else ema_t(last_trade.qty, tau)", "float"),
    ("not (std(delta(book.mid), 3) >= 0.01) or position / 0 > 1", "bool"),
    ("log(abs(position)) + exp(pnl / 1e3) + sqrt(position) + position % 0.7 + pnl % -3", "float"),
]


def make_strategy(let_src, rules) -> tuple[CheckedStrategy, dict[str, str]]:
    rules = FIXED_RULES + list(rules)
    lets = [(name, text, Span("gen.yaml", i + 1, 1, i + 1, 2)) for i, (name, text) in enumerate(let_src)]
    rule_map = {f"r{i}": (text, Span("gen.yaml", 100 + i, 1, 100 + i, 2), t) for i, (text, t) in enumerate(rules)}
    strategy, diags = check_strategy(PARAMS, lets, rule_map, INSTRUMENTS, name="diff")
    assert strategy is not None, [d.message for d in diags]
    sources = {name: text for name, text in let_src}
    sources.update({f"r{i}": text for i, (text, _) in enumerate(rules)})
    return strategy, sources


def check_all_backends(strategy: CheckedStrategy, events: list[Event], sources: dict[str, str]) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:  # compile C++ and Rust in parallel
        cpp = pool.submit(build_cpp, strategy) if shutil.which("g++") else None
        rust = pool.submit(build_rust, strategy) if shutil.which("rustc") else None
        want = reference_rows(strategy, events)
        compare(strategy, "python", want, run_python(strategy, events), sources)
        if cpp is not None:
            compare(strategy, "c++", want, run_binary(cpp.result(), strategy, events), sources)
        if rust is not None:
            compare(strategy, "rust", want, run_binary(rust.result(), strategy, events), sources)


RANDOM = os.environ.get("HFTC_EXPR_RANDOM") == "1"


@pytest.mark.skipif(
    shutil.which("g++") is None or shutil.which("rustc") is None,
    reason="the differential test needs both g++ and rustc",
)
@settings(
    max_examples=4,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each step recompiles
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(seed=st.integers(0, 2**64 - 1), events=event_lists(50))
def test_backends_agree_with_reference(seed, events):
    let_src, rules = make_batch(seed, 150)
    strategy, sources = make_strategy(let_src, rules)
    check_all_backends(strategy, events, sources)
