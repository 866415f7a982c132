"""Parse expression text into an untyped `hftc.ir.expr` tree (LALR, lark).

`parse_expression(text, origin)` never raises: syntax errors become HFT0510
diagnostics whose spans point at the exact characters in the YAML file.
`origin` is the span of the scalar's first character in the file (the caller
has already skipped any quote).  Character offset `i` of `text` maps to:

* on the first line of `text`: line `origin.line`, column `origin.col + i`;
* on line `k` (0-based) of a multi-line scalar: line `origin.line + k`,
  column `indent + 1 + (offset within that line)`, where `indent` is the
  keyword argument (the indentation of a YAML block scalar's lines).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import lark
from lark import Token, Transformer, v_args

from hftc.diagnostics.model import Diagnostic, Span, error
from hftc.ir.expr import Binary, Call, Cond, Const, Name, Node, Unary

MAX_EXPRESSION_CHARS = 10_000
MAX_EXPRESSION_DEPTH = 100  # parenthesised and chained operators; real ones nest a few
_INT64_MAX = 2**63 - 1

_TERMINAL_NAMES = {
    "IF": "`if`",
    "THEN": "`then`",
    "ELSE": "`else`",
    "OR": "`or`",
    "AND": "`and`",
    "NOT": "`not`",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "NAME": "a name",
    "INT": "a number",
    "FLOAT": "a number",
    "CMP_OP": "a comparison",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "STAR": "`*`",
    "SLASH": "`/`",
    "PERCENT": "`%`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "COMMA": "`,`",
    "DOT": "`.`",
    "$END": "end of expression",
}


@functools.lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text()
    # cache=True keeps the built LALR tables in the temp folder, so `hftc lint` skips rebuilding them.
    return lark.Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True, cache=True)


class _Positions:
    """Maps character offsets in `text` to file positions."""

    def __init__(self, text: str, origin: Span, indent: int):
        self.origin = origin
        self.indent = indent
        self.line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.line_starts.append(i + 1)

    def pos(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        within = offset - self.line_starts[lo]
        if lo == 0:
            return self.origin.line, self.origin.col + within
        return self.origin.line + lo, self.indent + 1 + within

    def span(self, start: int, end: int) -> Span:
        line, col = self.pos(start)
        end_line, end_col = self.pos(max(end, start + 1) if end <= start else end)
        return Span(self.origin.file, line, col, end_line, end_col)


class _SyntaxProblem(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


class _Build(Transformer):
    def __init__(self, positions: _Positions):
        super().__init__()
        self.p = positions

    def _span_of(self, *items) -> Span:
        starts: list[int] = []
        ends: list[int] = []
        for item in items:
            if isinstance(item, Token):
                starts.append(int(item.start_pos or 0))
                ends.append(int(item.end_pos or 0))
            elif item is not None and hasattr(item, "span"):
                starts.append(item._start)  # type: ignore[attr-defined]
                ends.append(item._end)  # type: ignore[attr-defined]
        return self.p.span(min(starts), max(ends))

    def _mark(self, node, start: int, end: int):
        object.__setattr__(node, "_start", start)
        object.__setattr__(node, "_end", end)
        return node

    def _make(self, cls, start: int, end: int, *args):
        return self._mark(cls(*args, self.p.span(start, end)), start, end)

    @staticmethod
    def _start(item) -> int:
        return int(item.start_pos or 0) if isinstance(item, Token) else int(item._start)

    @staticmethod
    def _end(item) -> int:
        return int(item.end_pos or 0) if isinstance(item, Token) else int(item._end)

    @v_args(meta=True)
    def int_lit(self, meta, items):
        tok = items[0]
        digits = str(tok).lstrip("0") or "0"
        value = int(digits) if len(digits) <= 20 else _INT64_MAX + 1  # no int() of thousands of digits
        if value > _INT64_MAX:
            raise _SyntaxProblem(
                error(
                    "HFT0510",
                    "integer literal is too large",
                    self.p.span(int(tok.start_pos or 0), int(tok.end_pos or 0)),
                    label="does not fit in a 64-bit signed integer",
                    help="write it as a float, e.g. `1e19`",
                )
            )
        return self._make(Const, int(tok.start_pos or 0), int(tok.end_pos or 0), value)

    @v_args(meta=True)
    def float_lit(self, meta, items):
        tok = items[0]
        value = float(tok)
        if not math.isfinite(value):
            raise _SyntaxProblem(
                error(
                    "HFT0510",
                    "float literal is out of range",
                    self.p.span(int(tok.start_pos or 0), int(tok.end_pos or 0)),
                    label="overflows a 64-bit float",
                )
            )
        return self._make(Const, int(tok.start_pos or 0), int(tok.end_pos or 0), value)

    def true_lit(self, items):
        tok = items[0]
        return self._make(Const, int(tok.start_pos or 0), int(tok.end_pos or 0), True)

    def false_lit(self, items):
        tok = items[0]
        return self._make(Const, int(tok.start_pos or 0), int(tok.end_pos or 0), False)

    def name(self, items):
        return self._make(Name, items[0].start_pos, items[-1].end_pos, tuple(str(t) for t in items))

    @v_args(meta=True)
    def call(self, meta, items):
        func = items[0]
        args = tuple(a for a in items[1:] if a is not None)
        return self._make(Call, meta.start_pos, meta.end_pos, str(func), args)

    @v_args(meta=True)
    def paren(self, meta, items):
        # keep the inner node (and its span) but widen its extent to the
        # parentheses, so enclosing operators' spans include them.
        inner = dataclasses.replace(items[0])
        return self._mark(inner, meta.start_pos, meta.end_pos)

    def binop(self, items):
        left, op, right = items
        return self._make(Binary, self._start(left), self._end(right), str(op), left, right)

    def unop(self, items):
        op, operand = items
        return self._make(Unary, op.start_pos, self._end(operand), str(op), operand)

    def cond(self, items):
        if_tok, c, _then, a, _else, b = items
        return self._make(Cond, if_tok.start_pos, self._end(b), c, a, b)


def _describe_expected(expected) -> str:
    names = sorted({_TERMINAL_NAMES.get(e, e) for e in expected if not e.startswith("__")})
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _depth(tree) -> int:
    """Depth of a lark tree, without recursion (a chain of 20,000 `+` is 20,000 deep)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_EXPRESSION_DEPTH:
            break
        stack.extend((child, depth + 1) for child in getattr(node, "children", ()) if isinstance(child, lark.Tree))
    return deepest


def parse_expression(text: str, origin: Span, *, indent: int = 0) -> tuple[Node | None, list[Diagnostic]]:
    """Parse `text`; returns (tree, []) or (None, [HFT0510 diagnostic])."""
    positions = _Positions(text, origin, indent)
    stripped_end = len(text.rstrip())
    if stripped_end == 0:
        return None, [
            error(
                "HFT0510",
                "empty expression",
                Span(origin.file, origin.line, origin.col, origin.line, origin.col + 1),
                label="expected an expression here",
            )
        ]
    if len(text) > MAX_EXPRESSION_CHARS:
        return None, [error("HFT0510", f"expression of {len(text)} characters is too long", positions.span(0, 1),
                            label=f"at most {MAX_EXPRESSION_CHARS}", help="split it into `let:` names")]
    try:
        tree = _parser().parse(text)
    except lark.UnexpectedCharacters as exc:
        start = int(exc.pos_in_stream or 0)
        char = text[start] if start < len(text) else ""
        return None, [
            error(
                "HFT0510",
                f"unexpected character `{char}`",
                positions.span(start, start + 1),
                label="not part of the expression language",
            )
        ]
    except lark.UnexpectedToken as exc:
        tok = exc.token
        expected = _describe_expected(exc.expected)
        if tok.type == "$END":
            span = positions.span(stripped_end, stripped_end + 1)
            message = "unexpected end of expression"
        else:
            span = positions.span(int(tok.start_pos or 0), int(tok.end_pos or 0))
            message = f"unexpected `{tok}`"
        if tok.type == "CMP_OP" and "NAME" not in exc.expected:
            help_text = "comparisons do not chain; write `a < b and b < c`"
        else:
            help_text = None
        return None, [error("HFT0510", message, span, label=f"expected {expected}" if expected else "", help=help_text)]
    except lark.UnexpectedInput:  # pragma: no cover - other lark errors
        return None, [error("HFT0510", "invalid expression", positions.span(0, stripped_end))]
    if _depth(tree) > MAX_EXPRESSION_DEPTH:  # the tree builder and every pass recurse over it
        return None, [error("HFT0510", f"expression nests deeper than {MAX_EXPRESSION_DEPTH} levels",
                            positions.span(0, stripped_end), help="split it into `let:` names")]
    builder = _Build(positions)
    try:
        node = builder.transform(tree)
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, _SyntaxProblem):
            return None, [exc.orig_exc.diagnostic]
        raise
    if isinstance(node, Token):  # pragma: no cover - grammar always builds a node
        return None, [error("HFT0510", "invalid expression", positions.span(0, stripped_end))]
    return node, []
