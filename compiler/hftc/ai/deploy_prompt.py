"""`hftc deploy --prompt` by a model: free-form sentences to a `deployments:` entry.

The rule parser still reads the request first; its entry and what it did not
understand are the model's starting point. The model answers the entry as JSON
for the `DeploymentSpec` JSON Schema; hftc validates it, edits it into the schema
text and compiles the whole schema, sending findings back for repair. The entry
is accepted only when the edited schema has no error and no warning the original
did not have; the command's diff and `--write` flow is the same as for the rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hftc.ai.accounting import RunUsage
from hftc.ai.cache import CachedProvider, CacheMiss, ReplyCache, default_cache_dir
from hftc.ai.config import AIConfig
from hftc.ai.generate import PROMPT_VERSION, Candidate, Outcome, Task, generate, quote_data
from hftc.deploy.prompt import DeploymentConfig
from hftc.diagnostics.model import Severity


def deployment_schema() -> dict[str, Any]:
    from hftc.schema.deploy import DeploymentSpec

    return DeploymentSpec.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")


def _findings(diagnostics: list) -> set[tuple[str, str]]:
    return {(d.code, d.message) for d in diagnostics if d.severity in (Severity.ERROR, Severity.WARNING)}


def check_entry(value: Any, schema_path: str, old_text: str, name: str) -> Candidate:
    """Validate the entry, edit it into the schema text, compile; only findings the original lacks count."""
    from pydantic import ValidationError

    from hftc.deploy.schema_edit import SchemaEditError, edit_schema_text
    from hftc.frontend.compile import compile_text
    from hftc.schema.deploy import DeploymentSpec

    if not isinstance(value, dict):
        return Candidate("", [], problems=[f"the answer is a JSON {type(value).__name__}, not an object"])
    try:
        DeploymentSpec.model_validate(value)
    except ValidationError as exc:
        problems = [f"`{'.'.join(str(x) for x in e['loc']) or 'entry'}`: {e['msg']}" for e in exc.errors()]
        return Candidate("", [], problems=problems)
    try:
        new_text = edit_schema_text(old_text, name, value)
    except SchemaEditError as exc:
        return Candidate("", [], problems=[f"cannot edit the schema: {exc}"])
    before = _findings(compile_text(schema_path, old_text).diagnostics)
    result = compile_text(schema_path, new_text)
    fresh = [d for d in result.diagnostics if (d.code, d.message) not in before
             or d.severity not in (Severity.ERROR, Severity.WARNING)]
    return Candidate(new_text, fresh, result.sources.lookup,
                     problems=[] if result.ir is not None else ["the edited schema did not compile"])


def _context(draft: DeploymentConfig, old_text: str) -> str:
    from hftc.frontend.compile import compile_text

    compiled = compile_text("schema.hftc.yaml", old_text)
    ir = compiled.ir
    pipelines = [p.name for p in ir.pipelines] if ir is not None else []
    existing = [d.name for d in ir.deployments] if ir is not None else []
    parts = [
        f"Answer one `deployments:` entry named `{draft.name}` for a schema with pipelines "
        f"{', '.join(pipelines) or '(none)'} and deployments {', '.join(existing) or '(none)'}.",
        "Draft by hftc's rule parser (keep its values unless the request says otherwise):\n"
        + json.dumps(draft.entry, ensure_ascii=False, separators=(",", ":")),
    ]
    missed = [f"line {u.line}: {u.text}: {u.reason}" for u in draft.unrecognized] + \
        [f"not stated: {m}" for m in draft.missing]
    if missed:
        parts.append("The rule parser could not read:\n" + "\n".join(f"- {quote_data(m)}" for m in missed))
    return "\n\n".join(parts)


@dataclass
class ModelDeployment:
    config: DeploymentConfig | None
    outcome: Outcome | None
    usage: RunUsage
    note: str = ""


def deployment_from_model(request: str, schema_path: str, old_text: str, name: str | None, config: AIConfig,
                          offline: bool, make: Callable[[AIConfig], Any] | None = None,
                          progress: Callable[[str], None] = lambda _: None) -> ModelDeployment:
    """The entry a model gives for `request`; offline with a cache miss, the rule parser's entry.

    Raises ProviderError. `config` must be resolved unless offline.
    """
    from hftc.ai.providers import make_provider

    draft = DeploymentConfig.from_prompt(request, name=name)
    model = config.model or ""
    task = Task("hftc_deployment", deployment_schema(), _context(draft, old_text),
                lambda value: check_entry(value, schema_path, old_text, draft.name))
    folder = Path(config.cache_dir) if config.cache_dir else default_cache_dir()
    inner = None if offline else (make or make_provider)(config)
    provider = CachedProvider(config.provider or "", model, ReplyCache(folder), PROMPT_VERSION, inner, offline)
    usage = RunUsage(model)
    try:
        outcome = generate(task, request, provider, config.repair_rounds, usage, progress)
    except CacheMiss as exc:
        return ModelDeployment(draft, None, usage, f"offline: {exc}; the rule parser read the request instead")
    if not outcome.accepted:
        return ModelDeployment(None, outcome, usage)
    entry = outcome.value
    notes = [f"entry written by {config.provider} ({model}) from the request"]
    return ModelDeployment(DeploymentConfig(draft.name, entry, [], notes, [], draft.component), outcome, usage)
