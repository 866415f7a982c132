"""`hftc new`: a whole schema from a plain-English request, by the planner or a model, always compiled clean.

The planner's draft is also the model's starting point, so the model path adds
what rules cannot read instead of starting from nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hftc.ai.accounting import RunUsage
from hftc.ai.blueprint import build_document
from hftc.ai.cache import CachedProvider, CacheMiss, ReplyCache, default_cache_dir
from hftc.ai.config import AIConfig
from hftc.ai.generate import PROMPT_VERSION, Candidate, Outcome, Task, generate, quote_data
from hftc.ai.planner import Plan, plan_request
from hftc.ai.venues import VENUES, venue_definitions
from hftc.ai.writer import dump_document
from hftc.diagnostics.model import Diagnostic

CANDIDATE_NAME = "answer.hftc.yaml"


def schema_document_schema() -> dict[str, Any]:
    """The editor JSON Schema the compiler publishes, narrowed to its full-schema form (`hftc: 1`)."""
    from hftc.editor_schema import editor_json_schema

    editor = editor_json_schema()
    defs = editor["$defs"]
    top = dict(defs["SchemaDocument"])
    top["$defs"] = defs
    return top


def check_document(value: Any, output: str, header: list[str]) -> Candidate:
    """Write `value` as YAML (hftc writes it, not the model) and run the whole compiler on it."""
    from hftc.frontend.compile import compile_text

    if not isinstance(value, dict):
        return Candidate("", [], problems=[f"the answer is a JSON {type(value).__name__}, not an object"])
    if value.get("hftc") != 1:
        return Candidate("", [], problems=["the answer is not a full schema: it must start with `\"hftc\": 1`"])
    if "imports" in value:
        return Candidate("", [], problems=["`imports` is not allowed: a generated schema is self-contained; "
                                           "copy the types and messages it needs"])
    text = dump_document(value, header)
    result = compile_text(output, text)
    return Candidate(text, list(result.diagnostics), result.sources.lookup,
                     problems=[] if result.ir is not None else ["the schema did not compile"])


def _context(plan: Plan, draft: dict[str, Any] | None) -> str:
    venues = "\n".join(
        f"- {v.name} ({v.title}): feed handler input {', '.join(v.feed)}; gateway output {v.order}; definitions "
        + json.dumps(venue_definitions(v.name), ensure_ascii=False, separators=(",", ":"))
        for v in VENUES.values())
    parts = [
        "Venue message sets: copy the `types` and `messages` of the one that fits the request verbatim:\n" + venues,
        "Strategy templates: market_making (1 instrument; params gamma, kappa, vol_window, horizon, order_qty, "
        "max_inventory, min_spread_bps), pairs_trading (2 instruments; params lookback_window, entry_threshold, "
        "exit_threshold, order_qty). Use `template:` with `params` overrides giving `range` and `default`.",
        "Stage budgets (budget_ns) of a pipeline must add up to at most targets.latency_p99_ns.",
    ]
    if draft is not None:
        parts.append("Draft by the planner (lint-clean; adapt it to the request):\n"
                     + json.dumps(draft, ensure_ascii=False, separators=(",", ":")))
    if plan.unmapped or plan.problems:
        missed = [u.text + ": " + u.reason for u in plan.unmapped] + plan.problems
        # Request words, quoted like the request itself: they cannot open or close an element.
        parts.append("The planner could not map:\n" + "\n".join(f"- {quote_data(m)}" for m in missed))
    return "\n\n".join(parts)


def header_lines(request: str, how: str) -> list[str]:
    lines = [f"Written by `hftc new` ({how}) from the request:"]
    return lines + [f"  {line}" for line in request.strip().splitlines()]


@dataclass
class NewResult:
    """What `hftc new` made: the text to write (when accepted) and everything to tell the user."""

    text: str | None
    plan: Plan
    how: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lookup: Any = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    usage: RunUsage | None = None
    outcome: Outcome | None = None
    rejected_text: str | None = None


def plan_schema(request: str, output: str) -> NewResult:
    """The planner path: deterministic, offline."""
    plan = plan_request(request)
    if plan.problems:
        return NewResult(None, plan, "planner", problems=list(plan.problems))
    header = header_lines(request, "offline planner")
    candidate = check_document(build_document(plan), output, header)
    if candidate.clean:
        return NewResult(candidate.text, plan, "planner", candidate.diagnostics, candidate.lookup)
    problems = candidate.problems or ["the planned schema is not lint-clean"]
    diagnostics, lookup = shown_against_rejected(output, candidate.text) if candidate.text else \
        (candidate.diagnostics, candidate.lookup)
    return NewResult(None, plan, "planner", diagnostics, lookup, problems=problems,
                     rejected_text=candidate.text or None)


def model_schema(request: str, output: str, config: AIConfig, offline: bool,
                 cache_dir: Path | None = None, make: Callable[[AIConfig], Any] | None = None,
                 progress: Callable[[str], None] = lambda _: None) -> NewResult:
    """The model path; offline it replays the cache and falls back to the planner on a miss.

    `config` must be resolved (`AIConfig.resolved`) unless offline. Raises ProviderError.
    """
    from hftc.ai.providers import make_provider

    plan = plan_request(request)
    draft = None if plan.problems else build_document(plan)
    model = config.model or ""
    how = f"{config.provider} {model}"
    # Candidates compile under a fixed name, so the diagnostics sent back (and so the cache keys of
    # repair rounds) do not depend on where the output goes.
    task = Task("hftc_schema", schema_document_schema(), _context(plan, draft),
                lambda value: check_document(value, CANDIDATE_NAME, header_lines(request, how)))
    folder = cache_dir or (Path(config.cache_dir) if config.cache_dir else default_cache_dir())
    cache = ReplyCache(folder)
    inner = None if offline else (make or make_provider)(config)
    provider = CachedProvider(config.provider or "", model, cache, PROMPT_VERSION, inner, offline)
    usage = RunUsage(model)
    try:
        outcome = generate(task, request, provider, config.repair_rounds, usage, progress)
    except CacheMiss as exc:
        result = plan_schema(request, output)
        result.notes.append(f"offline: {exc}; the offline planner wrote the schema instead")
        return result
    candidate = outcome.candidate
    if outcome.accepted and candidate is not None:
        return NewResult(candidate.text, plan, how, candidate.diagnostics, candidate.lookup, usage=usage,
                         outcome=outcome)
    problems = list(candidate.problems) if candidate else []
    problems.append(f"no answer was lint-clean after {outcome.rounds} round(s) "
                    f"({config.repair_rounds} repair round(s) allowed)")
    rejected = (candidate.text or None) if candidate else None
    diagnostics, lookup = (candidate.diagnostics, candidate.lookup) if candidate else ([], None)
    if rejected is not None:
        diagnostics, lookup = shown_against_rejected(output, rejected)
    return NewResult(None, plan, how, diagnostics, lookup, problems=problems, usage=usage, outcome=outcome,
                     rejected_text=rejected)


def rejected_path(output: str) -> str:
    return output + ".rejected.yaml"


def shown_against_rejected(output: str, text: str) -> tuple[list[Diagnostic], Any]:
    """The findings on a rejected candidate, against the file it is saved to, for the user."""
    from hftc.frontend.compile import compile_text

    shown = compile_text(rejected_path(output), text)
    return list(shown.diagnostics), shown.sources.lookup
