"""Lower a checked strategy (`hftc.ir.expr.CheckedStrategy`) to C++, Rust or Python.

    emit_cpp(strategy, namespace=None) -> str      # C++20 header text
    emit_rust(strategy, module=None) -> str        # a `pub mod` (std only)
    emit_python(strategy) -> str                   # a Python module

Each output is self-contained and defines, inside its own namespace/module,
the same four types with the same fields in the same order:

* `BookTop {bid, ask, bid_qty, ask_qty}` (floats),
* `Inputs {ts_ns: i64, books: [BookTop; N], position, pnl, last_trade_price,
  last_trade_qty: f64, last_trade_side: i64}` with `books[i]` the top of book
  of `INSTRUMENTS[i]`,
* `Params` (one field per parameter, initialised to its default),
* `Outputs` (one field per `let`, named after it, then one per rule, named
  `Rule.ident`),

plus `Strategy`, constructed from `Params` (windows given by parameters are
read then; state is allocated then and never again), whose
`update(inputs) -> Outputs` evaluates lets and rules in O(1) per event
(`sma_t` expiry is amortised O(1)).  All three evaluate every operation in
the order of the reference evaluator `hftc.expr.evaluate`, so results are
bit-identical to it, given IEEE binary64 without FMA contraction (g++'s
default in `-std=c++20` mode; pass `-ffp-contract=off` otherwise) and the same
libm for `exp`/`log` (with g++ also pass `-fno-builtin-exp -fno-builtin-log`
so calls with constant arguments are not folded with a differently rounded
implementation).

This package imports only `hftc.ir`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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
    StateVar,
    ToFloat,
    Type,
    Unary,
)

__all__ = ["RESERVED", "Lowering", "emit_cpp", "emit_python", "emit_rust", "ident"]

#: Words that cannot be used as identifiers in at least one target language.
RESERVED = frozenset(
    [
        "alignas",
        "alignof",
        "and",
        "and_eq",
        "asm",
        "auto",
        "bitand",
        "bitor",
        "bool",
        "break",
        "case",
        "catch",
        "char",
        "char8_t",
        "char16_t",
        "char32_t",
        "class",
        "compl",
        "concept",
        "const",
        "consteval",
        "constexpr",
        "constinit",
        "const_cast",
        "continue",
        "co_await",
        "co_return",
        "co_yield",
        "decltype",
        "default",
        "delete",
        "do",
        "double",
        "dynamic_cast",
        "else",
        "enum",
        "explicit",
        "export",
        "extern",
        "false",
        "float",
        "for",
        "friend",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "mutable",
        "namespace",
        "new",
        "noexcept",
        "not",
        "not_eq",
        "nullptr",
        "operator",
        "or",
        "or_eq",
        "private",
        "protected",
        "public",
        "register",
        "reinterpret_cast",
        "requires",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "static_assert",
        "static_cast",
        "struct",
        "switch",
        "template",
        "this",
        "thread_local",
        "throw",
        "true",
        "try",
        "typedef",
        "typeid",
        "typename",
        "union",
        "unsigned",
        "using",
        "virtual",
        "void",
        "volatile",
        "wchar_t",
        "while",
        "xor",
        "xor_eq",
        "as",
        "async",
        "await",
        "crate",
        "dyn",
        "extern",
        "fn",
        "impl",
        "in",
        "let",
        "loop",
        "match",
        "mod",
        "move",
        "mut",
        "pub",
        "ref",
        "self",
        "Self",
        "super",
        "trait",
        "type",
        "unsafe",
        "use",
        "where",
        "abstract",
        "become",
        "box",
        "final",
        "macro",
        "override",
        "priv",
        "typeof",
        "unsized",
        "virtual",
        "yield",
        "try",
        "gen",
        "False",
        "None",
        "True",
        "assert",
        "def",
        "del",
        "elif",
        "except",
        "finally",
        "from",
        "global",
        "import",
        "is",
        "lambda",
        "nonlocal",
        "pass",
        "raise",
        "with",
        "print",
        "math",
        "params",
        "inputs",
        "out",
        "state",
        "std",
    ]
)


def ident(name: str) -> str:
    """A valid, non-reserved identifier in all three target languages for `name`."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not out or out[0].isdigit():
        out = "_" + out
    if out in RESERVED or out.startswith("__"):
        out = out + "_"
    return out


def camel(name: str) -> str:
    parts = re.split(r"[^A-Za-z0-9]+", name)
    out = "".join(p[:1].upper() + p[1:] for p in parts if p)
    return out if out and not out[0].isdigit() else "S" + out


def typed(node: Node) -> Type:
    """The type of a checked node (backends only accept type-checked strategies)."""
    if node.type is None:
        raise ValueError(f"expression at {node.span} is not type-checked")
    return node.type


Code = tuple[str, bool]  # (text, is_atomic: needs no parentheses as an operand)


class Lowering:
    """Shared expression walker; subclasses supply the spelling of each operation."""

    def __init__(self, strategy: CheckedStrategy):
        self.strategy = strategy
        self.used: set[str] = set()  # runtime helpers the generated code calls

    # --- hooks (override) -------------------------------------------------
    def int_const(self, v: int) -> Code:
        raise NotImplementedError

    def float_const(self, v: float) -> Code:
        raise NotImplementedError

    def bool_const(self, v: bool) -> Code:
        raise NotImplementedError

    def param(self, name: str) -> Code:
        raise NotImplementedError

    def let(self, name: str) -> Code:
        return f"l_{ident(name)}", True

    def slot(self, k: int) -> Code:
        return f"s{k}", True

    def state(self, name: str) -> Code:
        raise NotImplementedError

    def book(self, index: int, field: str) -> Code:
        raise NotImplementedError

    def to_float(self, a: Code) -> Code:
        raise NotImplementedError

    def neg(self, a: Code, t: Type) -> Code:
        raise NotImplementedError

    def not_(self, a: Code) -> Code:
        raise NotImplementedError

    def logic(self, op: str, a: Code, b: Code) -> Code:
        raise NotImplementedError

    def compare(self, op: str, a: Code, b: Code) -> Code:
        return f"{self.operand(a)} {op} {self.operand(b)}", False

    def arith(self, op: str, a: Code, b: Code, t: Type) -> Code:
        raise NotImplementedError

    def cond(self, c: Code, a: Code, b: Code) -> Code:
        raise NotImplementedError

    def call(self, func: str, args: list[Code], t: Type) -> Code:
        raise NotImplementedError

    # --- driver -------------------------------------------------------------
    @staticmethod
    def operand(code: Code) -> str:
        text, atomic = code
        return text if atomic else f"({text})"

    def helper(self, name: str) -> str:
        self.used.add(name)
        return name

    def expr(self, node: Node) -> Code:
        if isinstance(node, Const):
            if isinstance(node.value, bool):
                return self.bool_const(node.value)
            if node.type is Type.INT:
                return self.int_const(int(node.value))
            return self.float_const(float(node.value))
        if isinstance(node, ParamRef):
            return self.param(node.name)
        if isinstance(node, LetRef):
            return self.let(node.name)
        if isinstance(node, Stateful):
            return self.slot(node.slot)
        if isinstance(node, StateVar):
            return self.state(node.name)
        if isinstance(node, BookField):
            return self.book(node.index, node.field)
        if isinstance(node, ToFloat):
            if isinstance(node.operand, Const):  # int literal used as a float: exact same value
                return self.float_const(float(node.operand.value))
            return self.to_float(self.expr(node.operand))
        if isinstance(node, Unary):
            inner = self.expr(node.operand)
            return self.not_(inner) if node.op == "not" else self.neg(inner, typed(node))
        if isinstance(node, Binary):
            a, b = self.expr(node.left), self.expr(node.right)
            if node.op in ("and", "or"):
                return self.logic(node.op, a, b)
            if node.op in ("<", "<=", ">", ">=", "==", "!="):
                return self.compare(node.op, a, b)
            return self.arith(node.op, a, b, typed(node))
        if isinstance(node, Cond):
            return self.cond(self.expr(node.cond), self.expr(node.then), self.expr(node.orelse))
        if isinstance(node, Call):
            return self.call(node.func, [self.expr(a) for a in node.args], typed(node))
        raise TypeError(f"cannot lower {node!r}")

    def steps(
        self,
        emit_slot: Callable[[int], str],
        emit_let: Callable[[str, str, Type], str],
        emit_rule: Callable[[str, str, Type], str],
    ) -> list[str]:
        """Statements of `update`, in reference order."""
        out: list[str] = []
        s = self.strategy
        for b in s.lets:
            out.extend(emit_slot(k) for k in b.slots)
            out.append(emit_let(b.name, self.expr(b.expr)[0], typed(b.expr)))
        for r in s.rules:
            out.extend(emit_slot(k) for k in r.slots)
            out.append(emit_rule(r.ident, self.expr(r.expr)[0], typed(r.expr)))
        return out


def slot_window(
    strategy: CheckedStrategy, k: int, param: Callable[[str], str], const: Callable[[int | float], str]
) -> str:
    slot = strategy.slots[k]
    if slot.window_param is not None:
        return param(slot.window_param)
    if slot.window_const is None:
        return ""
    return const(slot.window_const)


def outputs(strategy: CheckedStrategy) -> list[tuple[str, Type]]:
    """(field name, type) of `Outputs`, lets first."""
    return [(ident(b.name), typed(b.expr)) for b in strategy.lets] + [
        (ident(r.ident), typed(r.expr)) for r in strategy.rules
    ]


from hftc.backends.exprgen.cpp import emit_cpp
from hftc.backends.exprgen.python import emit_python
from hftc.backends.exprgen.rust import emit_rust
