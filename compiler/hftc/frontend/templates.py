"""Strategy templates shipped with hftc, and how a strategy that names one is filled in.

A template is an ordinary schema file, `schemas/strategies/<name>.hftc.yaml`,
holding one strategy called `<name>` written against placeholder instruments
(`LEG1`, `LEG2`, ...). It lints and builds on its own, so it is tested like any
schema. A strategy with `template: <name>` (or a seed template document with
`type: <name>`) gets the template's parameters, lets, rules, objectives and
constraints, and what the user writes wins:

- parameters merge by name: the user may give only `range` (or `default`, `log`,
  `description`) and keep the rest; the type stays the template's;
- a user `let` or signal with a template name replaces it, others are added;
- each rule (`quote.bid.price`, ..., `when`, `entry.long`, `exit`, `size`) the
  user writes replaces the template's;
- user objectives (or constraints), when given, replace the template's;
- placeholders become the user's instruments, positionally (the seed form has
  none and keeps the placeholders, which a backtest maps positionally too).

Template lets and parameters that no rule needs any more (because the user
replaced the rules that used them) are dropped, so inline rules on a templated
strategy do not drag unused state or search dimensions along.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from hftc.diagnostics.model import Diagnostic, Span, error
from hftc.frontend.names import IDENTIFIER
from hftc.frontend.sources import SourceSet, read_file
from hftc.ir import model as ir

_PACKAGE = Path(__file__).resolve().parent.parent

#: Other names under which a template is known (the seed calls pairs trading "statistical arbitrage").
ALIASES = {"statistical_arbitrage": "pairs_trading"}

_SUFFIX = ".hftc.yaml"
_RULES = ("quote_bid_price", "quote_bid_qty", "quote_ask_price", "quote_ask_qty",
          "when", "entry_long", "entry_short", "exit", "size")
# A name as the expression language sees it: not a field after `.`, not the tail of a number.
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def templates_dir() -> Path:
    """The repository's `schemas/strategies` in a checkout, else the copy installed with the package."""
    checkout = _PACKAGE.parent.parent / "schemas" / "strategies"
    return checkout if checkout.is_dir() else _PACKAGE / "strategies"


def shipped_names() -> tuple[str, ...]:
    """Every name `template:` accepts: the template files and their aliases."""
    folder = templates_dir()
    files = [p.name[: -len(_SUFFIX)] for p in folder.glob("*" + _SUFFIX)] if folder.is_dir() else []
    return tuple(sorted({*files, *(alias for alias, target in ALIASES.items() if target in files)}))


@dataclass(frozen=True)
class Template:
    name: str
    strategy: ir.Strategy  # lowered from the template file; spans point into it
    placeholders: tuple[str, ...]


class TemplateLibrary:
    """Loads templates on first use into the compilation's sources (so diagnostics can quote them)."""

    def __init__(self, sources: SourceSet | None = None, folder: Path | None = None):
        self.sources = sources if sources is not None else SourceSet()
        self.folder = folder or templates_dir()
        self.diagnostics: list[Diagnostic] = []
        self._loaded: dict[str, Template | None] = {}

    def get(self, name: str) -> Template | None:
        """The template called `name` (or an alias of it); None when no such template is shipped."""
        name = ALIASES.get(name, name)
        if name not in self._loaded:
            path = self.folder / f"{name}{_SUFFIX}"
            self._loaded[name] = self._load(name, path) if IDENTIFIER.match(name) and path.is_file() else None
        return self._loaded[name]

    def _load(self, name: str, path: Path) -> Template | None:
        from hftc.frontend.lower import Lowerer
        from hftc.schema.document import SchemaDocument
        from hftc.schema.validate import validate_document

        doc, diags = read_file(str(path), self.sources)
        model = None
        if doc is not None and not diags:
            model, diags = validate_document(SchemaDocument, doc)
        spec = model.strategies.get(name) if model is not None else None
        lowerer = Lowerer()
        strategy = lowerer._strategy(doc, ("strategies", name), name, spec) if spec is not None else None
        if strategy is None or diags or lowerer.diagnostics or spec.template:
            reason = (diags or lowerer.diagnostics)[0].message if (diags or lowerer.diagnostics) else \
                f"it holds no strategy `{name}`" if spec is None else "a template cannot use another template"
            self.diagnostics.append(error("HFT0534", f"strategy template `{name}` cannot be loaded from {path}: {reason}",
                                          None, help="the hftc installation is damaged; reinstall it"))
            return None
        return Template(name, strategy, strategy.instruments)


def lower_param(name: str, spec, base: ir.Param | None, template: str | None, span: Span | None,
                type_span: Span | None, diagnostics: list[Diagnostic]) -> ir.Param | None:
    """A parameter as written, completed from the template's parameter of the same name (`base`)."""
    if base is None:
        missing = [key for key in ("type", "range", "default") if getattr(spec, key) is None]
        if missing:
            keys = ", ".join(f"`{k}`" for k in missing)
            hint = (f"template `{template}` has no parameter `{name}` to take them from" if template
                    else "only a parameter of the strategy's template may leave them out")
            diagnostics.append(error("HFT0531", f"parameter `{name}` needs {keys}", span,
                                     label="incomplete parameter", help=hint))
            # Stand-in values, so expressions using the parameter do not add "unknown name" errors.
            default = spec.default if spec.default is not None else spec.range[0] if spec.range else 0
            low, high = spec.range if spec.range is not None else (default, default + 1)
            return ir.Param(name, "float" if spec.type == "float" else "int" if spec.type else
                            "int" if isinstance(default, int) else "float", low, high, default, span=span)
    kind = base.type if spec.type is None else ("float" if spec.type == "float" else "int")
    if base is not None and kind != base.type:
        diagnostics.append(error("HFT0535", f"parameter `{name}` of template `{template}` is {base.type}, not {kind}",
                                 type_span or span, label=f"the template needs {base.type}",
                                 help="leave out `type`: a template parameter keeps its type"))
        return None
    low, high = (spec.range[0], spec.range[1]) if spec.range is not None else (base.low, base.high)
    default = spec.default if spec.default is not None else base.default
    log = getattr(spec, "log", False) if base is None or "log" in spec.model_fields_set else base.log
    description = spec.description or (base.description if base else "")
    return ir.Param(name, kind, low, high, default, log, description, span)


def _names(text: str) -> set[str]:
    return set(_NAME.findall(text))


def _names_leg(t: ir.Strategy, placeholder: str) -> bool:
    """Whether the template refers to `placeholder` by name anywhere (`book` is the first leg)."""
    texts = [e.expr.text for e in (*t.lets, *t.signals)] + [getattr(t, k).text for k in _RULES if getattr(t, k)]
    return any(placeholder in _names(text) for text in texts)


def _by_name(template: tuple[ir.NamedExpr, ...], user: tuple[ir.NamedExpr, ...]) -> list[ir.NamedExpr]:
    """Template entries, replaced in place by the user's of the same name, then the user's new ones."""
    mine = {e.name: e for e in user}
    theirs = {e.name for e in template}
    return [mine.get(e.name, e) for e in template] + [e for e in user if e.name not in theirs]


def instantiate(template: Template, user: ir.Strategy, *, instruments_span: Span | None = None,
                instrument_spans: tuple[Span | None, ...] = ()) -> tuple[ir.Strategy, list[Diagnostic]]:
    """`user` (lowered as written) completed from `template`; see the module docstring for the rules."""
    t = template.strategy
    diags: list[Diagnostic] = []
    instruments = user.instruments or template.placeholders
    need = len(template.placeholders)
    if len(instruments) < need:
        diags.append(error("HFT0530", f"template `{template.name}` trades {need} instruments, `{user.name}` lists "
                                      f"{len(instruments)}", instruments_span or user.span,
                           label=f"needs {need} instruments",
                           help="list them in order: " + ", ".join(f"leg {i + 1}" for i in range(need))))
        return user, diags
    rename = {p: i for p, i in zip(template.placeholders, instruments, strict=False) if p != i}
    placeholder = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, rename)) + r")(?=\s*\.)") if rename else None

    def from_template(src: ir.ExprSource) -> ir.ExprSource:
        if placeholder is None:
            return src
        return replace(src, text=placeholder.sub(lambda m: rename[m.group(1)], src.text))

    bad = [i for i, (ph, inst) in enumerate(zip(template.placeholders, instruments, strict=False))
           if ph in rename and not IDENTIFIER.match(inst) and _names_leg(t, ph)]
    for i in bad:
        span = instrument_spans[i] if i < len(instrument_spans) else instruments_span
        diags.append(error("HFT0533", f"template `{template.name}` names leg {i + 1} in expressions, "
                                      f"but `{instruments[i]}` is not a name", span or user.span,
                           label="not an identifier", help="name the instrument with letters, digits and `_`"))
    if bad:
        return user, diags
    user_lets = {e.name for e in user.lets}
    user_signals = {e.name for e in user.signals}
    lets = [e if e.name in user_lets else replace(e, expr=from_template(e.expr)) for e in _by_name(t.lets, user.lets)]
    signals = [e if e.name in user_signals else replace(e, expr=from_template(e.expr))
               for e in _by_name(t.signals, user.signals)]
    rules = {}
    for key in _RULES:
        mine, theirs = getattr(user, key), getattr(t, key)
        rules[key] = mine if mine is not None else from_template(theirs) if theirs is not None else None

    # Keep what the rules, signals and user lets need, following lets transitively.
    let_texts = {e.name: e.expr.text for e in lets}
    needed: set[str] = set()
    pending = [src.text for src in rules.values() if src is not None]
    pending += [e.expr.text for e in signals] + [let_texts[n] for n in user_lets]
    while pending:
        for name in _names(pending.pop()) - needed:
            needed.add(name)
            if name in let_texts:
                pending.append(let_texts[name])
    lets = [e for e in lets if e.name in user_lets or e.name in needed]
    user_params = {p.name: p for p in user.params}
    params = [user_params.get(p.name, p) for p in t.params if p.name in user_params or p.name in needed]
    params += [p for p in user.params if p.name not in {q.name for q in t.params}]
    own_objectives = bool(user.maximize or user.minimize)
    return replace(
        user,
        description=user.description or t.description,
        instruments=tuple(instruments),
        params=tuple(params),
        lets=tuple(lets),
        signals=tuple(signals),
        maximize=user.maximize if own_objectives else t.maximize,
        minimize=user.minimize if own_objectives else t.minimize,
        constraints=user.constraints or t.constraints,
        **rules,
    ), diags
