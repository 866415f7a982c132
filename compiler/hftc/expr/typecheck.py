"""Type-check a strategy's expressions and allocate their state slots.

API::

    check_strategy(
        params: Mapping[str, ParamDecl | Type | str],
        lets: Sequence[tuple[str, str, Span]] | Sequence[tuple[str, str, Span, Span]],
        rules: Mapping[str, tuple[str, Span, Type | str]],
        instruments: Sequence[str],
        *,
        name: str = "strategy",
        indent: int = 0,
    ) -> tuple[CheckedStrategy | None, list[Diagnostic]]

* `name`: the strategy's name (names the generated namespace/module).
* `params`: declared parameters (`ParamDecl` carries type, default and range;
  the range's upper bound sizes rings whose window is an int parameter).  A
  bare type (`"int"`, `"float"`, `"bool"` or `Type`) is accepted too and means
  a parameter with default 0 and no range.
* `lets`: `(name, text, origin)` in declaration order, optionally with a 4th
  element, the span of the binding's name (where shadowing and cycle errors
  point).
  `origin` is the span of the scalar's first character (see
  `hftc.expr.parser.parse_expression`).
* `rules`: `key -> (text, origin, expected_type)` where `expected_type` is
  `Type.FLOAT` (prices, quantities, signals; an int result is promoted),
  `Type.INT` or `Type.BOOL` (`when`, entry/exit rules, constraints).
* `instruments`: the strategy's instruments; `book.*` is `instruments[0]`,
  `<INSTRUMENT>.<field>` any of them.

Returns the `CheckedStrategy` (None when there are errors) and the
diagnostics, sorted by position.  Lets are ordered topologically (ties keep
declaration order); a cycle is reported once as HFT0516 at the name of its
first binding (or, without name spans, at its first reference), with every
reference of the cycle as a secondary label.
"""

from __future__ import annotations

import itertools
import keyword
import re
from collections.abc import Mapping, Sequence

from hftc.diagnostics.model import Diagnostic, Label, Span, did_you_mean, error, sort_diagnostics
from hftc.expr.parser import parse_expression
from hftc.ir.expr import (
    BOOK_FIELDS,
    MAX_WINDOW,
    PURE_FUNCTIONS,
    SMA_T_DEFAULT_CAPACITY,
    STATE_VARS,
    STATEFUL_FUNCTIONS,
    Binary,
    BookField,
    Call,
    CheckedStrategy,
    Cond,
    Const,
    LetBinding,
    LetRef,
    Name,
    Node,
    ParamDecl,
    ParamRef,
    Rule,
    Stateful,
    StateSlot,
    StateVar,
    ToFloat,
    Type,
    Unary,
    walk,
)

__all__ = ["check_expression", "check_strategy"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LANG_KEYWORDS = {"if", "then", "else", "and", "or", "not", "true", "false"}
_ARITH = {"+", "-", "*", "/", "%"}
_ORDER = {"<", "<=", ">", ">="}
_EQ = {"==", "!="}
_LOGIC = {"and", "or"}
_ZERO = {Type.INT: 0, Type.FLOAT: 0.0, Type.BOOL: False}


def _tname(t: Type | None) -> str:
    return t.value if t else "?"


def _last_part_span(node: Name, index: int) -> Span:
    """Span of `node.parts[index]` (exact when the dotted name has no spaces)."""
    s = node.span
    if s.line != s.end_line:
        return s
    col = s.col + sum(len(p) + 1 for p in node.parts[:index])
    return Span(s.file, s.line, col, s.line, col + len(node.parts[index]))


class _Checker:
    def __init__(self, params: Mapping[str, ParamDecl], instruments: Sequence[str]):
        self.params = dict(params)
        self.instruments = list(instruments)
        self.let_types: dict[str, Type | None] = {}
        self.let_names: set[str] = set()
        self.slots: list[StateSlot] = []
        self.diags: list[Diagnostic] = []

    # ------------------------------------------------------------------ helpers
    def err(self, code: str, message: str, span: Span, **kw) -> None:
        self.diags.append(error(code, message, span, **kw))

    def _candidates(self) -> list[str]:
        return [
            *self.params,
            *self.let_names,
            "position",
            "pnl",
            "book",
            "last_trade",
            *self.instruments,
        ]

    @staticmethod
    def _float(node: Node) -> Node:
        if node.type is Type.INT:
            return ToFloat(node, node.span, Type.FLOAT)
        return node

    def _need_number(self, node: Node, what: str) -> bool:
        if node.type is None:
            return False
        if node.type is Type.BOOL:
            self.err("HFT0512", f"{what} needs a number, found `bool`", node.span, label="this is `bool`")
            return False
        return True

    def _need_bool(self, node: Node, what: str) -> bool:
        if node.type is None:
            return False
        if node.type is not Type.BOOL:
            self.err(
                "HFT0512",
                f"{what} needs a `bool`, found `{node.type.value}`",
                node.span,
                label=f"this is `{node.type.value}`",
                help="compare it with something, e.g. `x > 0`",
            )
            return False
        return True

    def _unify(self, nodes: list[Node]) -> tuple[list[Node], Type]:
        if any(n.type is Type.FLOAT for n in nodes):
            return [self._float(n) for n in nodes], Type.FLOAT
        return nodes, Type.INT

    # ------------------------------------------------------------------ names
    def resolve(self, node: Name) -> Node:
        parts = node.parts
        head = parts[0]
        if len(parts) == 1:
            if head in self.params:
                return ParamRef(head, node.span, self.params[head].type)
            if head in self.let_names:
                return LetRef(head, node.span, self.let_types.get(head))
            if head in ("position", "pnl"):
                return StateVar(head, node.span, STATE_VARS[head])
            if head == "book" or head in self.instruments:
                self.err(
                    "HFT0515",
                    f"`{head}` needs a field",
                    node.span,
                    label="a book, not a number",
                    help=f"use one of {', '.join(f'{head}.{f}' for f in BOOK_FIELDS[:4])}, ...",
                )
                return Name(parts, node.span, None)
            if head == "last_trade":
                self.err(
                    "HFT0511",
                    "`last_trade` needs a field",
                    node.span,
                    help="use `last_trade.price`, `last_trade.qty` or `last_trade.side`",
                )
                return Name(parts, node.span, None)
            if head in PURE_FUNCTIONS or head in STATEFUL_FUNCTIONS:
                self.err(
                    "HFT0511", f"`{head}` is a function", node.span, label="not called", help=f"call it: `{head}(...)`"
                )
                return Name(parts, node.span, None)
            self.err(
                "HFT0511",
                f"unknown name `{head}`",
                node.span,
                label="not a parameter, `let` or state variable",
                help=did_you_mean(head, self._candidates()),
            )
            return Name(parts, node.span, None)
        if len(parts) == 2 and (head == "book" or head in self.instruments):
            field = parts[1]
            if head == "book" and not self.instruments:
                self.err("HFT0511", "`book` needs an instrument but the strategy has none", node.span)
                return Name(parts, node.span, None)
            instrument = self.instruments[0] if head == "book" else head
            if field not in BOOK_FIELDS:
                self.err(
                    "HFT0515",
                    f"unknown book field `{field}`",
                    _last_part_span(node, 1),
                    label="not a book field",
                    help=did_you_mean(field, BOOK_FIELDS),
                )
                return Name(parts, node.span, None)
            return BookField(instrument, self.instruments.index(instrument), field, node.span, Type.FLOAT)
        if len(parts) == 2 and head == "last_trade":
            dotted = node.dotted
            if dotted in STATE_VARS:
                return StateVar(dotted, node.span, STATE_VARS[dotted])
            self.err(
                "HFT0511",
                f"unknown field `{parts[1]}` of `last_trade`",
                _last_part_span(node, 1),
                help=did_you_mean(parts[1], ["price", "qty", "side"]),
            )
            return Name(parts, node.span, None)
        if head in self.params or head in self.let_names or head in STATE_VARS:
            self.err(
                "HFT0511",
                f"`{head}` has no field `{parts[1]}`",
                _last_part_span(node, 1),
                label="numbers have no fields",
            )
            return Name(parts, node.span, None)
        if len(parts) > 2 and (head == "book" or head in self.instruments or head == "last_trade"):
            self.err("HFT0511", f"unknown name `{node.dotted}`", node.span)
            return Name(parts, node.span, None)
        help_text = did_you_mean(head, ["book", "last_trade", *self.instruments])
        self.err(
            "HFT0511",
            f"unknown name `{head}`",
            _last_part_span(node, 0),
            label="not `book`, `last_trade` or an instrument of this strategy",
            help=help_text,
        )
        return Name(parts, node.span, None)

    # ------------------------------------------------------------------ expressions
    def check(self, node: Node) -> Node:
        """The typed tree for `node`; `type is None` marks a subtree with errors."""
        if isinstance(node, Const):
            if isinstance(node.value, bool):
                return Const(node.value, node.span, Type.BOOL)
            if isinstance(node.value, int):
                return Const(node.value, node.span, Type.INT)
            return Const(node.value, node.span, Type.FLOAT)
        if isinstance(node, Name):
            return self.resolve(node)
        if isinstance(node, Unary):
            operand = self.check(node.operand)
            if node.op == "-":
                ok = self._need_number(operand, "unary `-`")
                return Unary("-", operand, node.span, operand.type if ok else None)
            ok = self._need_bool(operand, "`not`")
            return Unary("not", operand, node.span, Type.BOOL if ok else None)
        if isinstance(node, Binary):
            return self.check_binary(node)
        if isinstance(node, Cond):
            c = self.check(node.cond)
            a = self.check(node.then)
            b = self.check(node.orelse)
            ok = self._need_bool(c, "the condition of `if`")
            ta, tb = a.type, b.type
            if ta is None or tb is None:
                return Cond(c, a, b, node.span, None)
            if ta.numeric and tb.numeric:
                (a, b), t = self._unify([a, b])
                return Cond(c, a, b, node.span, t if ok else None)
            if ta is tb:
                return Cond(c, a, b, node.span, ta if ok else None)
            self.err(
                "HFT0512",
                f"the branches of `if` have different types: `{ta.value}` and `{tb.value}`",
                node.span,
                secondary=(Label(a.span, f"this is `{ta.value}`"), Label(b.span, f"this is `{tb.value}`")),
            )
            return Cond(c, a, b, node.span, None)
        if isinstance(node, Call):
            return self.check_call(node)
        raise TypeError(f"unexpected node {node!r}")  # pragma: no cover

    def check_binary(self, node: Binary) -> Node:
        left = self.check(node.left)
        right = self.check(node.right)
        op = node.op
        if op in _LOGIC:
            ok = self._need_bool(left, f"`{op}`") & self._need_bool(right, f"`{op}`")
            return Binary(op, left, right, node.span, Type.BOOL if ok else None)
        if op in _EQ and left.type is Type.BOOL and right.type is Type.BOOL:
            return Binary(op, left, right, node.span, Type.BOOL)
        if op in _EQ and (left.type is Type.BOOL) != (right.type is Type.BOOL) and left.type and right.type:
            self.err(
                "HFT0512",
                f"`{op}` compares `{left.type.value}` with `{right.type.value}`",
                node.span,
                secondary=(
                    Label(left.span, f"this is `{left.type.value}`"),
                    Label(right.span, f"this is `{right.type.value}`"),
                ),
            )
            return Binary(op, left, right, node.span, None)
        ok = self._need_number(left, f"`{op}`") & self._need_number(right, f"`{op}`")
        if not ok:
            return Binary(op, left, right, node.span, None)
        if op == "/":
            return Binary(op, self._float(left), self._float(right), node.span, Type.FLOAT)
        (left, right), t = self._unify([left, right])
        if op in _ARITH:
            return Binary(op, left, right, node.span, t)
        return Binary(op, left, right, node.span, Type.BOOL)

    def check_call(self, node: Call) -> Node:
        func = node.func
        if func in PURE_FUNCTIONS:
            arity = PURE_FUNCTIONS[func]
            args = [self.check(a) for a in node.args]
            if len(args) != arity:
                self._arity_error(node, arity, arity)
                return Call(func, tuple(args), node.span, None)
            if not all([self._need_number(a, f"`{func}`") for a in args]):  # noqa: C419 - report every argument
                return Call(func, tuple(args), node.span, None)
            if func == "abs":
                return Call(func, tuple(args), node.span, args[0].type)
            if func in ("sqrt", "log", "exp"):
                return Call(func, (self._float(args[0]),), node.span, Type.FLOAT)
            unified, t = self._unify(args)
            return Call(func, tuple(unified), node.span, t)
        if func in STATEFUL_FUNCTIONS:
            return self.check_stateful(node)
        self.err(
            "HFT0511",
            f"unknown function `{func}`",
            Span(node.span.file, node.span.line, node.span.col, node.span.line, node.span.col + len(func)),
            help=did_you_mean(func, [*PURE_FUNCTIONS, *STATEFUL_FUNCTIONS]),
        )
        for a in node.args:
            self.check(a)
        return Call(func, node.args, node.span, None)

    def _arity_error(self, node: Call, lo: int, hi: int) -> None:
        want = f"{lo}" if lo == hi else f"{lo} or {hi}"
        plural = "" if hi == 1 else "s"
        self.err(
            "HFT0513",
            f"`{node.func}` takes {want} argument{plural} but {len(node.args)} were given",
            node.span,
            label=f"expected {want} argument{plural}",
        )

    def _window(
        self, node: Call, arg: Node, *, ring: bool, numeric_ok: bool
    ) -> tuple[bool, int, int | float | None, str | None]:
        """Validate a window argument: (ok, capacity, const value, param name)."""
        what = "time window" if numeric_ok else "window"
        if isinstance(arg, Name) and len(arg.parts) == 1 and arg.parts[0] in self.params:
            decl = self.params[arg.parts[0]]
            if decl.type is Type.BOOL or (decl.type is Type.FLOAT and not numeric_ok):
                self.err(
                    "HFT0514",
                    f"the {what} of `{node.func}` must be an int, `{decl.name}` is `{decl.type.value}`",
                    arg.span,
                    label="not an int parameter",
                )
                return False, 0, None, None
            if not ring:
                return True, 0, None, decl.name
            if decl.hi is None:
                self.err(
                    "HFT0514",
                    f"the window parameter `{decl.name}` of `{node.func}` has no range",
                    arg.span,
                    label="its upper bound sizes the ring buffer",
                    help=f"declare `range: [lo, hi]` for `{decl.name}`",
                )
                return False, 0, None, None
            cap = int(decl.hi)
            if cap < 1 or cap > MAX_WINDOW:
                self.err(
                    "HFT0514",
                    f"the window of `{node.func}` must be between 1 and {MAX_WINDOW}",
                    arg.span,
                    label=f"`{decl.name}` may be up to {decl.hi}",
                )
                return False, 0, None, None
            return True, cap, None, decl.name
        if isinstance(arg, Const) and not isinstance(arg.value, bool) and (numeric_ok or isinstance(arg.value, int)):
            if not arg.value > 0:
                self.err("HFT0514", f"the {what} of `{node.func}` must be positive", arg.span, label="not positive")
                return False, 0, None, None
            if ring and arg.value > MAX_WINDOW:
                self.err(
                    "HFT0514", f"the window of `{node.func}` must be at most {MAX_WINDOW}", arg.span, label="too large"
                )
                return False, 0, None, None
            return True, int(arg.value) if ring else 0, arg.value, None
        if isinstance(arg, Name):
            resolved = self.resolve(arg)
            if resolved.type is None:
                return False, 0, None, None
        kind = (
            "a positive number or a numeric parameter" if numeric_ok else "a positive int constant or an int parameter"
        )
        self.err(
            "HFT0514",
            f"the {what} of `{node.func}` must be {kind}",
            arg.span,
            label="not a constant or parameter",
            notes=("stateful functions keep fixed-size state, so the window is fixed when the strategy is built",),
        )
        return False, 0, None, None

    def check_stateful(self, node: Call) -> Node:
        func = node.func
        lo, hi = STATEFUL_FUNCTIONS[func]
        if not lo <= len(node.args) <= hi:
            for a in node.args:
                self.check(a)
            self._arity_error(node, lo, hi)
            return Call(func, node.args, node.span, None)
        x = self.check(node.args[0])
        ok = self._need_number(x, f"`{func}`")
        capacity, wconst, wparam = 0, None, None
        if func == "delta":
            result_type = x.type
        else:
            result_type = Type.FLOAT
            x = self._float(x) if ok else x
            if func in ("sma", "std", "zscore"):
                wok, capacity, wconst, wparam = self._window(node, node.args[1], ring=True, numeric_ok=False)
            elif func == "ema":
                wok, capacity, wconst, wparam = self._window(node, node.args[1], ring=False, numeric_ok=False)
            else:  # ema_t, sma_t
                wok, capacity, wconst, wparam = self._window(node, node.args[1], ring=False, numeric_ok=True)
                if func == "sma_t":
                    capacity = SMA_T_DEFAULT_CAPACITY
                    if len(node.args) == 3:
                        cap = node.args[2]
                        if (
                            isinstance(cap, Const)
                            and isinstance(cap.value, int)
                            and not isinstance(cap.value, bool)
                            and 1 <= cap.value <= MAX_WINDOW
                        ):
                            capacity = cap.value
                        else:
                            self.err(
                                "HFT0514",
                                f"the capacity of `sma_t` must be an int constant between 1 and {MAX_WINDOW}",
                                cap.span,
                                label="not a valid ring capacity",
                            )
                            wok = False
            ok = ok and wok
        if not ok:
            return Call(func, node.args, node.span, None)
        index = len(self.slots)
        self.slots.append(StateSlot(index, func, x, capacity, wconst, wparam, node.span))
        return Stateful(func, x, index, node.span, result_type)


def _has_error(node: Node) -> bool:
    return any(n.type is None for n in walk(node))


def _let_refs(node: Node, lets: set[str]) -> list[Name]:
    return [n for n in walk(node) if isinstance(n, Name) and len(n.parts) == 1 and n.parts[0] in lets]


def _find_cycles(order: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components that contain a cycle (Tarjan), in declaration order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges[v]:
                out.append(sorted(comp, key=order.index))

    for v in order:
        if v not in index:
            visit(v)
    return sorted(out, key=lambda c: order.index(c[0]))


def _ident(key: str) -> str:
    ident = re.sub(r"[^A-Za-z0-9_]", "_", key)
    if not ident or ident[0].isdigit():
        ident = "_" + ident
    return ident


def check_strategy(
    params: Mapping[str, ParamDecl | Type | str],
    lets: Sequence[tuple],
    rules: Mapping[str, tuple],
    instruments: Sequence[str],
    *,
    name: str = "strategy",
    indent: int = 0,
) -> tuple[CheckedStrategy | None, list[Diagnostic]]:
    decls: dict[str, ParamDecl] = {
        pname: decl if isinstance(decl, ParamDecl) else ParamDecl(pname, Type(decl), _ZERO[Type(decl)])
        for pname, decl in params.items()
    }
    checker = _Checker(decls, instruments)
    diags = checker.diags
    parsed_lets: dict[str, Node | None] = {}
    let_spans: dict[str, Span] = {}
    let_order: list[str] = []
    name_spans: dict[str, Span] = {}
    reserved = {*params, *STATE_VARS, "book", "last_trade", *instruments, *PURE_FUNCTIONS, *STATEFUL_FUNCTIONS}
    for entry in lets:
        let_name, text, origin = entry[0], entry[1], entry[2]
        name_span = entry[3] if len(entry) > 3 else origin
        tree, parse_diags = parse_expression(text, origin, indent=indent)
        diags.extend(parse_diags)
        if not _IDENT.match(let_name) or let_name in _LANG_KEYWORDS or keyword.iskeyword(let_name):
            diags.append(
                error(
                    "HFT0511",
                    f"`{let_name}` is not a valid `let` name",
                    name_span,
                    help="use letters, digits and `_`, not starting with a digit or a keyword",
                )
            )
            continue
        if let_name in reserved:
            what = "parameter" if let_name in params else "built-in name"
            diags.append(
                error(
                    "HFT0511",
                    f"`let` binding `{let_name}` shadows the {what} `{let_name}`",
                    name_span,
                    help="rename the binding",
                )
            )
            continue
        if let_name in parsed_lets:
            diags.append(error("HFT0511", f"`let` binding `{let_name}` is defined twice", name_span))
            continue
        parsed_lets[let_name] = tree
        if len(entry) > 3:
            name_spans[let_name] = entry[3]
        let_spans[let_name] = tree.span if tree is not None else origin
        let_order.append(let_name)
    checker.let_names = set(let_order)

    # dependencies and cycles
    edges: dict[str, list[str]] = {n: [] for n in let_order}
    refs: dict[tuple[str, str], Span] = {}
    for n in let_order:
        tree = parsed_lets[n]
        if tree is None:
            continue
        for ref in _let_refs(tree, checker.let_names):
            target = ref.parts[0]
            if target not in edges[n]:
                edges[n].append(target)
                refs[(n, target)] = ref.span
    in_cycle: set[str] = set()
    for comp in _find_cycles(let_order, edges):
        in_cycle.update(comp)
        members = set(comp)
        # walk the cycle from its first binding (declaration order)
        path = [comp[0]]
        while True:
            nxt = next((w for w in edges[path[-1]] if w in members and (w == comp[0] or w not in path)), None)
            if nxt is None:
                nxt = next(w for w in edges[path[-1]] if w in members)
            if nxt == comp[0] or nxt in path:
                path.append(nxt)
                break
            path.append(nxt)
        hops = list(itertools.pairwise(path))
        first = hops[0][0]
        chain = " -> ".join(f"`{p}`" for p in path)
        message = f"`let` binding `{first}` depends on itself" if len(comp) == 1 else f"cyclic `let` bindings: {chain}"
        edge_labels = [Label(refs[(a, b)], f"`{a}` uses `{b}`" if a != b else f"`{a}` uses itself") for a, b in hops]
        notes = (f"cycle: {chain}",) if len(comp) > 1 else ()
        help_text = "compute one of them from parameters, state or book fields instead"
        if first in name_spans:
            # point at the binding itself; every reference of the cycle is a secondary label
            diags.append(
                error(
                    "HFT0516",
                    message,
                    name_spans[first],
                    label="defined in terms of itself",
                    secondary=tuple(edge_labels),
                    notes=notes,
                    help=help_text,
                )
            )
        else:
            diags.append(
                error(
                    "HFT0516",
                    message,
                    edge_labels[0].span,
                    label=edge_labels[0].message,
                    secondary=tuple(edge_labels[1:]),
                    notes=notes,
                    help=help_text,
                )
            )

    # topological order, ties broken by declaration order
    ordered: list[str] = []
    done: set[str] = set()
    remaining = [n for n in let_order if n not in in_cycle]
    while remaining:
        for n in remaining:
            if all(d in done or d in in_cycle for d in edges[n] if d != n):
                ordered.append(n)
                done.add(n)
                remaining.remove(n)
                break
        else:  # pragma: no cover - impossible once cycles are removed
            break
    for n in in_cycle:
        checker.let_types[n] = None

    checked_lets: list[LetBinding] = []
    for n in ordered:
        tree = parsed_lets[n]
        if tree is None:
            checker.let_types[n] = None
            continue
        before = len(checker.slots)
        typed = checker.check(tree)
        checker.let_types[n] = None if _has_error(typed) else typed.type
        checked_lets.append(LetBinding(n, typed, let_spans[n], tuple(range(before, len(checker.slots)))))

    checked_rules: list[Rule] = []
    used_idents = set(let_order)
    for key, entry in rules.items():
        text, origin, expected = entry
        expected = Type(expected)
        tree, parse_diags = parse_expression(text, origin, indent=indent)
        diags.extend(parse_diags)
        if tree is None:
            continue
        before = len(checker.slots)
        typed = checker.check(tree)
        if not _has_error(typed):
            t = typed.type
            if expected is Type.FLOAT and t is Type.INT:
                typed = ToFloat(typed, typed.span, Type.FLOAT)
            elif t is not None and t is not expected:
                want = "a boolean" if expected is Type.BOOL else f"`{expected.value}`"
                diags.append(
                    error(
                        "HFT0517",
                        f"`{key}` must be {want}, found `{t.value}`",
                        typed.span,
                        label=f"this is `{t.value}`",
                        help="compare it, e.g. `x > 0`" if expected is Type.BOOL else None,
                    )
                )
        ident = _ident(key)
        base, k = ident, 2
        while ident in used_idents:
            ident = f"{base}_{k}"
            k += 1
        used_idents.add(ident)
        checked_rules.append(Rule(key, ident, typed, expected, tree.span, tuple(range(before, len(checker.slots)))))

    diags = sort_diagnostics(diags)
    if any(d.severity.value == "error" for d in diags):
        return None, diags
    return (
        CheckedStrategy(
            name=name,
            instruments=tuple(instruments),
            params=tuple(decls.values()),
            lets=tuple(checked_lets),
            rules=tuple(checked_rules),
            slots=tuple(checker.slots),
        ),
        diags,
    )


def check_expression(
    text: str,
    origin: Span,
    expected: Type | str = Type.FLOAT,
    *,
    params: Mapping[str, ParamDecl] | None = None,
    instruments: Sequence[str] = ("X",),
) -> tuple[CheckedStrategy | None, list[Diagnostic]]:
    """Check one expression as the only rule (`value`) of an anonymous strategy."""
    return check_strategy(params or {}, [], {"value": (text, origin, expected)}, instruments, name="expr")
