"""`hftc strategy add`: one new strategy, in the expression language, added to an existing schema.

Offline, a fixed table maps strategy kinds (market making, skewed quoting,
microprice quoting, momentum, mean reversion) to expression templates with
parameter ranges; with a provider, the model writes the entry as JSON through the
same check-and-repair loop as `hftc new`. Either way the entry is inserted into the
schema with ruamel's round-trip mode (comments and layout kept) and the whole
schema is compiled: an entry is accepted only when it adds no error and no warning.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hftc.ai.generate import PROMPT_VERSION, Candidate, Outcome, Task, generate
from hftc.diagnostics.model import Diagnostic, Severity

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class StrategyAddError(ValueError):
    """The request or the schema cannot take a new strategy; `code` is the diagnostic code."""

    def __init__(self, code: str, message: str, help: str | None = None):
        super().__init__(message)
        self.code, self.help = code, help


@dataclass(frozen=True)
class Kind:
    """A strategy kind: the words that name it and the entry it becomes."""

    name: str
    short: str
    pattern: re.Pattern[str]
    title: str


KINDS = (
    Kind("skewed_quoting", "skew", re.compile(r"\bskew(?:ed)?\b|\binventory[\s\-]?(?:aware|skew)", re.I),
         "Two-sided quotes around mid, shifted against inventory."),
    Kind("microprice_quoting", "micro", re.compile(r"\bmicro[\s\-]?price\b|\b(?:book|order[\s\-]?book)\s+imbalance\b",
                                                   re.I),
         "Two-sided quotes around the size-weighted microprice."),
    Kind("momentum", "mom", re.compile(r"\bmomentum\b|\btrend[\s\-]?follow\w*|\bbreakout\b|\bema\s+cross", re.I),
         "Follows the move: long when the fast EMA is above the slow one by a margin, short below."),
    Kind("mean_reversion", "mr", re.compile(r"\bmean[\s\-]?revert\w*|\bmean[\s\-]?reversion\b|\bz[\s\-]?score\b|"
                                            r"\bfade\b|\bcontrarian\b", re.I),
         "Fades stretched prices: long when mid is far below its average (z-score), short far above."),
    Kind("market_making", "mm", re.compile(r"\bmarket[\s\-_]?mak\w*|\bquot(?:e|es|ing)\b|\bspread\s+capture\b", re.I),
         "Symmetric two-sided quotes around mid with an inventory limit."),
)
KIND_NAMES = tuple(k.name for k in KINDS)

_BPS = re.compile(r"(?P<num>\d{1,4}(?:\.\d{1,4})?)\s*(?:bps|bp|basis\s+points?)\b(?:\s+(?P<what>spread|skew|"
                  r"entry|exit|margin|threshold))?", re.I)
_WINDOW = re.compile(r"\b(?:lookback|window|over|last)\s+(?:of\s+)?(?P<num>\d{1,5})\s*(?:events?|ticks?|updates?)?\b",
                     re.I)
_SIGMA = re.compile(r"(?P<num>\d(?:\.\d{1,2})?)\s*(?:sigma|std|standard\s+deviations?|σ)", re.I)


def detect_kind(request: str) -> Kind | None:
    """The first kind (table order: the specific before the general) the request names."""
    for kind in KINDS:
        if kind.pattern.search(request):
            return kind
    return None


@dataclass
class Sizing:
    """Order size and inventory limit of the new strategy, taken from the schema when it has them."""

    order_qty: float = 1.0
    qty_range: tuple[float, float] = (0.001, 100.0)
    max_inventory: float = 10.0
    inv_range: tuple[float, float] = (0.001, 1000.0)


def _param(p: dict[str, Any], name: str) -> tuple[float, tuple[float, float]] | None:
    spec = (p.get("params") or {}).get(name)
    if isinstance(spec, dict) and isinstance(spec.get("default"), (int, float)) and \
            isinstance(spec.get("range"), list) and len(spec["range"]) == 2:
        return float(spec["default"]), (float(spec["range"][0]), float(spec["range"][1]))
    return None


def sizing_from(strategies: dict[str, Any], instrument: str) -> tuple[Sizing, list[str]]:
    """Sizes of an existing strategy on the same instrument (its scale is the user's), else defaults."""
    s = Sizing()
    for name, spec in strategies.items():
        if not isinstance(spec, dict) or instrument not in (spec.get("instruments") or []):
            continue
        qty, inv = _param(spec, "order_qty"), _param(spec, "max_inventory")
        if qty:
            s.order_qty, s.qty_range = qty
        if inv:
            s.max_inventory, s.inv_range = inv
        if qty or inv:
            return s, [f"order size and inventory limit from strategy `{name}`"]
    return s, ["no strategy on this instrument states a size; order_qty 1 and max_inventory 10 assumed"]


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def entry_for(kind: Kind, instrument: str, sizing: Sizing, request: str) -> tuple[dict[str, Any], list[str]]:
    """The strategy entry for `kind`, with numbers the request states; also what was read."""
    read: list[str] = []
    bps: dict[str, float] = {}
    for m in _BPS.finditer(request):
        bps[(m.group("what") or "any").lower()] = float(m.group("num"))
    window = next((int(m.group("num")) for m in _WINDOW.finditer(request)), None)
    sigma = next((float(m.group("num")) for m in _SIGMA.finditer(request)), None)

    def num(name: str, default: float, low: float, high: float, stated: float | None, integer: bool = False):
        value = default if stated is None else _clamp(stated, low, high)
        if stated is not None:
            read.append(f"{name} = {value:g} from the request" + (" (clamped to its range)" if value != stated else ""))
        if integer:
            return {"type": "int", "range": [int(low), int(high)], "default": int(value)}
        return {"type": "float", "range": [low, high], "default": value}

    qty = {"type": "float", "range": list(sizing.qty_range), "default": sizing.order_qty, "log": True}
    inv = {"type": "float", "range": list(sizing.inv_range), "default": sizing.max_inventory, "log": True}
    spread = bps.get("spread", bps.get("any"))
    params: dict[str, Any]
    entry: dict[str, Any] = {"description": kind.title, "instruments": [instrument]}
    if kind.name in ("market_making", "skewed_quoting", "microprice_quoting"):
        params = {"spread_bps": num("spread_bps", 1.0, 0.1, 50.0, spread), "order_qty": qty, "max_inventory": inv}
        center = "book.microprice" if kind.name == "microprice_quoting" else "book.mid"
        let = {"mid": "book.mid", "center": center}
        bid, ask = "1 - spread_bps / 20000", "1 + spread_bps / 20000"
        if kind.name == "skewed_quoting":
            params["skew_bps"] = num("skew_bps", 2.0, 0.0, 50.0, bps.get("skew"))
            let["shift_bps"] = "-skew_bps * position / max_inventory"
            bid, ask = "1 + (shift_bps - spread_bps / 2) / 10000", "1 + (shift_bps + spread_bps / 2) / 10000"
        entry.update(params=params, let=let, quote={
            "bid": {"price": f"min(center * ({bid}), mid)",
                    "qty": "clamp(max_inventory - position, 0, order_qty)"},
            "ask": {"price": f"max(center * ({ask}), mid)",
                    "qty": "clamp(max_inventory + position, 0, order_qty)"},
        }, when="book.spread > 0")
        entry["objectives"] = {"maximize": ["pnl", "sharpe_ratio"], "minimize": ["max_drawdown"]}
    elif kind.name == "momentum":
        params = {"fast_window": num("fast_window", 20, 2, 1000, window, integer=True),
                  "slow_window": {"type": "int", "range": [20, 20000], "default": 200},
                  "entry_bps": num("entry_bps", 1.0, 0.05, 50.0, bps.get("entry", bps.get("margin", bps.get("any")))),
                  "exit_bps": num("exit_bps", 0.2, 0.0, 10.0, bps.get("exit")), "order_qty": qty}
        entry.update(params=params, let={
            "mid": "book.mid", "fast": "ema(mid, fast_window)", "slow": "ema(mid, slow_window)",
            "trend_bps": "(fast - slow) / slow * 10000"},
            entry={"long": "trend_bps >= entry_bps", "short": "trend_bps <= -entry_bps"},
            exit="abs(trend_bps) <= exit_bps", size="order_qty")
        entry["objectives"] = {"maximize": ["sharpe_ratio"], "minimize": ["max_drawdown"]}
    else:  # mean_reversion
        params = {"lookback_window": num("lookback_window", 200, 20, 5000, window, integer=True),
                  "entry_threshold": num("entry_threshold", 2.0, 1.0, 4.0, sigma),
                  "exit_threshold": {"type": "float", "range": [0.1, 1.0], "default": 0.5}, "order_qty": qty}
        entry.update(params=params, let={"mid": "book.mid", "z": "zscore(mid, lookback_window)"},
                     entry={"long": "z <= -entry_threshold", "short": "z >= entry_threshold"},
                     exit="abs(z) <= exit_threshold", size="order_qty")
        entry["objectives"] = {"maximize": ["sharpe_ratio"], "minimize": ["max_drawdown"]}
    entry["constraints"] = ["max_leverage <= 3.0"]
    return entry, read


# --- editing the schema text -------------------------------------------------------------------------------

def _yaml():
    """The round-trip YAML setup of schema edits (comments and quotes kept, the schema's indents)."""
    from hftc.deploy.schema_edit import round_trip_yaml

    return round_trip_yaml()


def _styled(value: Any, flow: bool) -> Any:
    """House style of a strategy entry: sections in block style, a param or a quote side on one line."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[str(k)] = _styled(v, flow or (isinstance(v, dict) and all(not isinstance(x, dict) for x in v.values())
                                             and k not in ("let", "entry")))
        if flow:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_styled(v, True) for v in value)
        s.fa.set_flow_style()
        return s
    return value


def load_strategies(text: str) -> dict[str, Any]:
    """The plain `strategies:` mapping of a schema text ({} when it has none)."""
    data = _yaml().load(text)
    strategies = data.get("strategies") if isinstance(data, dict) else None
    return json.loads(json.dumps(strategies, default=str)) if isinstance(strategies, dict) else {}


def insert_strategy(text: str, name: str, entry: dict[str, Any]) -> str:
    """`text` with `strategies.<name>` added at the end of `strategies:` (created before `deployments:`)."""
    from ruamel.yaml.comments import CommentedMap

    y = _yaml()
    data = y.load(text)
    if not isinstance(data, CommentedMap):
        raise StrategyAddError("HFT1361", "the schema's top level is not a mapping")
    strategies = data.get("strategies")
    if strategies is None:
        strategies = CommentedMap()
        keys = list(data)
        at = next((keys.index(k) for k in ("deployments", "monitoring") if k in keys), len(keys))
        data.insert(at, "strategies", strategies)
    elif not isinstance(strategies, CommentedMap):
        raise StrategyAddError("HFT1361", "`strategies:` is not a mapping")
    if name in strategies:
        raise StrategyAddError("HFT1362", f"the schema already has a strategy `{name}`", help="pick another --name")
    strategies[name] = _styled(entry, False)
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def unique_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    return next(f"{base}_{i}" for i in range(2, 1000) if f"{base}_{i}" not in taken)


# --- checking ----------------------------------------------------------------------------------------------

def _findings(diagnostics: list[Diagnostic]) -> Counter:
    return Counter((d.code, d.message) for d in diagnostics if d.severity in (Severity.ERROR, Severity.WARNING))


@dataclass
class Baseline:
    """The schema as it is: its path, text and the findings it already has (not the new entry's fault)."""

    path: str
    text: str
    findings: Counter

    @classmethod
    def of(cls, path: str, text: str) -> "Baseline":
        from hftc.frontend.compile import compile_text

        return cls(path, text, _findings(list(compile_text(path, text).diagnostics)))


def check_entry(base: Baseline, name: str, value: Any) -> Candidate:
    """Insert `value` as `strategies.<name>` and compile the whole schema; new findings reject it."""
    from hftc.frontend.compile import compile_text

    if not isinstance(value, dict):
        return Candidate("", [], problems=[f"the answer is a JSON {type(value).__name__}, not an object"])
    if "template" in value:
        return Candidate("", [], problems=["`template` is not allowed here: write the strategy's own `params`, `let` "
                                           "and `quote` or `entry`/`exit` expressions"])
    try:
        text = insert_strategy(base.text, name, value)
    except StrategyAddError as exc:
        return Candidate("", [], problems=[str(exc)])
    result = compile_text(base.path, text)
    new = _findings(list(result.diagnostics)) - base.findings
    shown = [d for d in result.diagnostics if (d.code, d.message) in new or d.severity is Severity.ERROR]
    problems = [] if result.ir is not None else ["the schema did not compile"]
    return Candidate(text, shown if new else [d for d in result.diagnostics if d.severity not in
                                               (Severity.ERROR, Severity.WARNING)],
                     result.sources.lookup, problems=problems)


def strategy_answer_schema() -> dict[str, Any]:
    """The editor JSON Schema of one strategy entry (`StrategySpec`), with the definitions it refers to."""
    from hftc.editor_schema import editor_json_schema

    defs = editor_json_schema()["$defs"]
    top = dict(defs["StrategySpec"])
    top["$defs"] = defs
    return top


@dataclass
class AddResult:
    """What `strategy add` made: the new text (None when rejected) and everything to tell the user."""

    name: str
    how: str
    text: str | None
    entry: dict[str, Any] | None = None
    kind: str | None = None
    read: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lookup: Any = None
    problems: list[str] = field(default_factory=list)
    outcome: Outcome | None = None
    usage: Any = None


def _instrument(request: str, strategies: dict[str, Any]) -> tuple[str, list[str]]:
    from hftc.ai.planner import plan_request

    known = [i for s in strategies.values() if isinstance(s, dict) for i in (s.get("instruments") or [])]
    named = plan_request(request).instruments
    if named:
        note = [] if named[0] in known else [f"`{named[0]}` is traded by no other strategy of the schema"]
        return named[0], [f"instrument {named[0]} from the request"] + note
    if known:
        return known[0], [f"instrument {known[0]} (the schema's first; the request names none)"]
    raise StrategyAddError("HFT1363", "the request names no instrument and the schema has no strategy to take one from",
                           help="name one, e.g. `momentum on BTC/USDT`")


def plan_strategy(path: str, text: str, request: str, name: str | None) -> AddResult:
    """The offline path: kind table, sizes from the schema, numbers from the request; compiled."""
    strategies = load_strategies(text)
    kind = detect_kind(request)
    notes: list[str] = []
    if kind is None:
        kind = KINDS[-1]
        notes.append("no strategy kind named (known: " + ", ".join(k.replace("_", " ") for k in KIND_NAMES)
                     + "); market making assumed")
    instrument, read = _instrument(request, strategies)
    sizing, size_notes = sizing_from(strategies, instrument)
    entry, numbers = entry_for(kind, instrument, sizing, request)
    chosen = _checked_name(name, kind.short, strategies)
    base = Baseline.of(path, text)
    candidate = check_entry(base, chosen, entry)
    result = AddResult(chosen, "offline templates", candidate.text if candidate.clean else None, entry, kind.name,
                       [f"strategy kind `{kind.name}`"] + read + numbers, notes + size_notes,
                       candidate.diagnostics, candidate.lookup, list(candidate.problems))
    if not candidate.clean and not result.problems:
        result.problems.append("the new strategy does not compile clean in this schema")
    return result


def _checked_name(name: str | None, default: str, strategies: dict[str, Any]) -> str:
    if name is None:
        return unique_name(default, set(strategies))
    if not NAME_RE.match(name):
        raise StrategyAddError("HFT1362", f"`{name}` is not a strategy name",
                               help="letters, digits and `_`, starting with a letter")
    if name in strategies:
        raise StrategyAddError("HFT1362", f"the schema already has a strategy `{name}`", help="pick another --name")
    return name


def _context(text: str, draft: dict[str, Any], kind: Kind) -> str:
    from hftc.ir.expr import BOOK_FIELDS, PURE_FUNCTIONS, STATE_VARS, STATEFUL_FUNCTIONS

    return "\n\n".join([
        "The schema the strategy goes into (YAML, hftc's own file):\n" + text,
        "Expression language: numbers, params, `let` names, book fields book." + ", book.".join(BOOK_FIELDS)
        + " (of the first instrument; other instruments as NAME.mid etc.), state " + ", ".join(STATE_VARS)
        + "; functions " + ", ".join(PURE_FUNCTIONS) + ", " + ", ".join(STATEFUL_FUNCTIONS)
        + " (window arguments are int constants or int params). A quoting strategy has `quote: {bid: {price, qty}, "
          "ask: {price, qty}}` and `when`; a taker has `entry: {long, short}`, `exit` and `size`.",
        f"Draft by hftc's templates (kind `{kind.name}`, compiles clean; adapt it to the request):\n"
        + json.dumps(draft, ensure_ascii=False, separators=(",", ":")),
        "Answer with the one strategy entry (the value under `strategies.<name>`), not the whole schema.",
    ])


def model_strategy(path: str, text: str, request: str, name: str | None, config, offline: bool,
                   cache_dir: Path | None = None, make: Callable | None = None,
                   progress: Callable[[str], None] = lambda _: None) -> AddResult:
    """The model path; offline it replays the cache and falls back to the templates on a miss."""
    from hftc.ai.accounting import RunUsage
    from hftc.ai.cache import CachedProvider, CacheMiss, ReplyCache, default_cache_dir
    from hftc.ai.providers import make_provider

    draft_result = plan_strategy(path, text, request, name)
    kind = next(k for k in KINDS if k.name == draft_result.kind)
    chosen = draft_result.name
    base = Baseline.of(path, text)
    task = Task("hftc_strategy", strategy_answer_schema(), _context(text, draft_result.entry or {}, kind),
                lambda value: check_entry(base, chosen, value))
    folder = cache_dir or (Path(config.cache_dir) if config.cache_dir else default_cache_dir())
    inner = None if offline else (make or make_provider)(config)
    provider = CachedProvider(config.provider or "", config.model or "", ReplyCache(folder), PROMPT_VERSION, inner,
                              offline)
    usage = RunUsage(config.model or "")
    try:
        outcome = generate(task, request, provider, config.repair_rounds, usage, progress)
    except CacheMiss as exc:
        draft_result.notes.append(f"offline: {exc}; the offline templates wrote the strategy instead")
        return draft_result
    candidate = outcome.candidate
    how = f"{config.provider} {config.model or ''}".strip()
    result = AddResult(chosen, how, None, outcome.value if isinstance(outcome.value, dict) else None, kind.name,
                       outcome=outcome, usage=usage)
    if outcome.accepted and candidate is not None:
        result.text, result.diagnostics, result.lookup = candidate.text, candidate.diagnostics, candidate.lookup
        return result
    result.problems = (list(candidate.problems) if candidate else []) + [
        f"no answer compiled clean after {outcome.rounds} round(s) ({config.repair_rounds} repair round(s) allowed)"]
    if candidate is not None:
        result.diagnostics, result.lookup = candidate.diagnostics, candidate.lookup
    return result


def sanity_backtest(schema_path: str, text: str, name: str, data: list[Path],
                    progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Backtest strategy `name` of the (not yet written) schema text on `data`; the summary's main figures."""
    from hftc.backtest import BacktestOptions, compile_strategy
    from hftc.backtest.inputs import resolve_tape
    from hftc.frontend.compile import compile_text

    result = compile_text(schema_path, text)
    tape = resolve_tape(data, progress)
    strategy = compile_strategy(result.ir, name)
    # A sanity check, not a result: data of other instruments is used by position, and said so.
    run = strategy.run(tape, None, BacktestOptions(instrument_map=None if strategy.names_on(tape) else "position"))
    s = run.summary
    keys = ("events", "fills", "orders", "pnl", "sharpe", "max_drawdown", "fill_ratio")
    out = {k: s.get(k) for k in keys}
    out["instrument_map"] = s.get("instrument_map")
    out["instrument_map_how"] = s.get("instrument_map_how")
    return out
