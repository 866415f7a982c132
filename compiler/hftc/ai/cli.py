"""The `hftc new` command body; imports only typer at load so `hftc --help` stays fast."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer


class Format(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _emit(diagnostics, lookup, fmt: str) -> None:
    from hftc.diagnostics.render import render_all

    if diagnostics:
        from hftc.diagnostics.color import wants_color

        stream = sys.stderr if fmt == "text" else sys.stdout
        print(render_all(diagnostics, fmt, lookup or (lambda _f: None), color=wants_color(stream)), file=stream)


def _fail(code: str, message: str, fmt: str, help: str | None = None, exit_code: int = 1) -> typer.Exit:
    from hftc.diagnostics.model import error

    _emit([error(code, message, None, help=help)], None, fmt)
    return typer.Exit(exit_code)


def new_cmd(
    request: str = typer.Argument(..., help="The request in plain English; `-` reads it from stdin."),
    output: Path = typer.Option(..., "-o", "--output", help="Schema file to write."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    offline: bool = typer.Option(False, "--offline", help="Use only the reply cache and the offline planner."),
    provider: Optional[str] = typer.Option(None, "--provider", help="openai, anthropic, google or a custom model name (default: config file, $HFTC_AI_PROVIDER; none: the offline planner)."),
    model: Optional[str] = typer.Option(None, "--model", help="Model id (default: the provider's)."),
    temperature: Optional[float] = typer.Option(None, "--temperature", min=0.0, max=2.0, help="Sampling temperature (default 0)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", min=0.1, help="Seconds per request (default 60)."),
    retries: Optional[int] = typer.Option(None, "--retries", min=0, max=10, help="Retries of a failed request (429, 5xx, timeout; default 2)."),
    repair_rounds: Optional[int] = typer.Option(None, "--repair-rounds", min=0, max=10, help="Rounds that send the compiler's diagnostics back (default 3)."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="AI config file (default: $HFTC_AI_CONFIG, then ~/.config/hftc/ai.toml)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Reply cache folder (default: $HFTC_AI_CACHE, then the build cache)."),
    report: Optional[Path] = typer.Option(None, "--report", help="Also write a JSON report: plan, rounds, tokens and cost."),
    error_format: Format = typer.Option(Format.text, "--error-format", help="Diagnostics as text, json or github."),
) -> None:
    """Write a complete, lint-clean schema from a plain-English request."""
    import dataclasses
    import json

    from hftc.ai.config import ConfigError, load_config
    from hftc.ai.new import model_schema, plan_schema, rejected_path
    from hftc.ai.providers import ProviderError
    from hftc.diagnostics.model import warning
    from hftc.fileio import write_atomically

    fmt = error_format.value
    text = sys.stdin.read() if request == "-" else request
    if not text.strip():
        raise _fail("HFT1307", "the request is empty", fmt, help='say what to build, e.g. hftc new "market making '
                    'on EUR/USD, 500ns target, deploy to NY4" -o fx.hftc.yaml', exit_code=2)
    if output.exists() and not force:
        raise _fail("HFT1308", f"{output} exists", fmt, help="pass --force to overwrite it")
    try:
        config = load_config(config_file)
    except ConfigError as exc:
        raise _fail("HFT1301", str(exc), fmt, exit_code=2)
    config = dataclasses.replace(
        config, provider=provider or config.provider, model=model or config.model,
        temperature=config.temperature if temperature is None else temperature,
        timeout_s=config.timeout_s if timeout is None else timeout,
        retries=config.retries if retries is None else retries,
        repair_rounds=config.repair_rounds if repair_rounds is None else repair_rounds)

    progress = _say if fmt == "text" else (lambda _m: None)
    if config.configured:
        try:
            resolved = config.resolved()
        except ConfigError as exc:
            if not offline:
                raise _fail("HFT1301", str(exc), fmt, help="or run without a provider: the offline planner",
                            exit_code=2)
            from hftc.ai.config import DEFAULT_MODEL

            resolved = dataclasses.replace(config, model=config.model or DEFAULT_MODEL.get(config.provider or ""))
        try:
            result = model_schema(text, str(output), resolved, offline, cache_dir, progress=progress)
        except ProviderError as exc:
            raise _fail("HFT1302", str(exc), fmt, help="check the provider settings, or pass --offline to use the "
                        "reply cache and the offline planner")
    else:
        result = plan_schema(text, str(output))

    plan = result.plan
    if fmt == "text":
        for item in plan.mapped:
            _say(f"read: {item}")
        for item in plan.assumptions:
            _say(f"note: {item}")
        for item in result.notes:
            _say(f"note: {item}")
    unmapped = [warning("HFT1306", f"request line {u.line}: {u.reason}", None, notes=(f"in: {u.text}",))
                for u in plan.unmapped]
    _emit(unmapped, None, fmt)
    if result.usage is not None and fmt == "text":
        _say("usage: " + result.usage.summary(config.prices))
    if report is not None:
        data = {"how": result.how, "accepted": result.text is not None, "plan": plan.to_json(),
                "rounds": result.outcome.rounds if result.outcome else 0,
                "usage": result.usage.to_json(config.prices) if result.usage else None,
                "problems": result.problems}
        write_atomically(str(report), (json.dumps(data, indent=2, default=str) + "\n").encode("utf-8"))

    if result.text is None:
        _emit(result.diagnostics, result.lookup, fmt)
        shown = Path(rejected_path(str(output)))
        if result.rejected_text:
            write_atomically(str(shown), result.rejected_text.encode("utf-8"))
        code = "HFT1304" if result.outcome is not None or result.rejected_text else "HFT1307"
        hint = f"the last candidate is in {shown}; its diagnostics are above" if result.rejected_text else None
        raise _fail(code, "; ".join(result.problems) or "the schema is not lint-clean", fmt, help=hint)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(str(output), result.text.encode("utf-8"))
    if fmt == "text":
        _say(f"wrote {output} ({result.how}; lint-clean)")


def model_deployment(request: str, schema: Path, old_text: str, name: str | None, provider: str | None,
                     offline: bool, error_format: str):
    """For `hftc deploy --prompt`: the entry a configured model gives (a DeploymentConfig), or None when no
    provider is configured, so the rule parser reads the request. Prints and exits on failure."""
    import dataclasses

    from hftc.ai.config import DEFAULT_MODEL, ConfigError, load_config
    from hftc.ai.deploy_prompt import deployment_from_model
    from hftc.ai.providers import ProviderError

    fmt = error_format
    try:
        config = load_config()
    except ConfigError as exc:
        raise _fail("HFT1301", str(exc), fmt, exit_code=2)
    config = dataclasses.replace(config, provider=provider or config.provider)
    if not config.configured:
        return None
    try:
        resolved = config.resolved()
    except ConfigError as exc:
        if not offline:
            raise _fail("HFT1301", str(exc), fmt, help="or run without a provider: the rule parser", exit_code=2)
        resolved = dataclasses.replace(config, model=config.model or DEFAULT_MODEL.get(config.provider or ""))
    try:
        got = deployment_from_model(request, str(schema), old_text, name, resolved, offline,
                                    progress=_say if fmt == "text" else (lambda _m: None))
    except ProviderError as exc:
        raise _fail("HFT1302", str(exc), fmt, help="check the provider settings, or pass --offline")
    if fmt == "text":
        if got.note:
            _say(f"note: {got.note}")
        if got.usage.calls:
            _say("usage: " + got.usage.summary(config.prices))
    if got.config is None:
        from hftc.ai.new import rejected_path, shown_against_rejected
        from hftc.fileio import write_atomically

        candidate = got.outcome.candidate if got.outcome else None
        saved = ""
        if candidate is not None and candidate.text:  # findings against the saved edited schema, not SCHEMA
            write_atomically(rejected_path(str(schema)), candidate.text.encode("utf-8"))
            _emit(*shown_against_rejected(str(schema), candidate.text), fmt)
            saved = f"; the last edited schema is in {rejected_path(str(schema))}"
        elif candidate is not None:
            _emit(candidate.diagnostics, candidate.lookup, fmt)
        problems = list(candidate.problems) if candidate else []
        rounds = got.outcome.rounds if got.outcome else 0
        raise _fail("HFT1304", "; ".join(problems + [f"no entry was clean after {rounds} round(s)"]), fmt,
                    help=f"{schema} is unchanged{saved}; rephrase the request or run without --provider "
                         "(the rule parser)")
    return got.config
