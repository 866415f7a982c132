"""The `hftc strategy add` command; imports only typer at load so `hftc --help` stays fast."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import List, Optional

import typer

from hftc.ai.cli import Format, _emit, _fail, _say

strategy_app = typer.Typer(help="Add strategies to a schema from a description.", no_args_is_help=True)


@strategy_app.command("add")
def add_cmd(
    schema: Path = typer.Argument(..., help="Schema file the strategy goes into."),
    request: str = typer.Argument(..., help="What the strategy does, in plain English; `-` reads it from stdin."),
    name: Optional[str] = typer.Option(None, "--name", "-n", help="Name of the new strategy (default: from its kind)."),
    data: Optional[List[Path]] = typer.Option(None, "--data", "-d", help="Market data to backtest the new strategy "
                                              "on as a sanity check (a .hftt tape or a capture; repeatable)."),
    write: bool = typer.Option(False, "--write", help="Write the schema (default: only show the diff)."),
    offline: bool = typer.Option(False, "--offline", help="Use only the reply cache and the offline templates."),
    provider: Optional[str] = typer.Option(None, "--provider", help="openai, anthropic, google or a custom model "
                                           "(default: config file, $HFTC_AI_PROVIDER; none: the offline templates)."),
    model: Optional[str] = typer.Option(None, "--model", help="Model id (default: the provider's)."),
    repair_rounds: Optional[int] = typer.Option(None, "--repair-rounds", min=0, max=10,
                                                help="Rounds of compiler feedback to the model (default 3)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Reply cache folder."),
    error_format: Format = typer.Option(Format.text, "--error-format", help="Diagnostics as text, json or github."),
) -> None:
    """Add a strategy written in the expression language to SCHEMA, type-checked by the compiler.

    Offline, strategy kinds (market making, skewed quoting, microprice quoting,
    momentum, mean reversion) map to expression templates with parameter ranges;
    with a provider configured, a model writes it under the compiler's checks.
    Shows the diff; writes only with --write.
    """
    from hftc.ai.config import DEFAULT_MODEL, ConfigError, load_config
    from hftc.ai.new import rejected_path
    from hftc.ai.providers import ProviderError
    from hftc.ai.strategy_add import StrategyAddError, model_strategy, plan_strategy, sanity_backtest
    from hftc.deploy.schema_edit import unified_diff, write_validated
    from hftc.fileio import write_atomically

    fmt = error_format.value
    text = sys.stdin.read() if request == "-" else request
    if not text.strip():
        raise _fail("HFT1307", "the request is empty", fmt, exit_code=2,
                    help='say what the strategy does, e.g. hftc strategy add fx.hftc.yaml "momentum, 2 bps entry"')
    try:
        old = schema.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail("HFT0001", f"cannot read {schema}: {getattr(exc, 'strerror', None) or exc}", fmt)
    try:
        config = load_config()
    except ConfigError as exc:
        raise _fail("HFT1301", str(exc), fmt, exit_code=2)
    config = dataclasses.replace(config, provider=provider or config.provider, model=model or config.model,
                                 repair_rounds=config.repair_rounds if repair_rounds is None else repair_rounds)
    progress = _say if fmt == "text" else (lambda _m: None)
    try:
        if config.configured:
            try:
                resolved = config.resolved()
            except ConfigError as exc:
                if not offline:
                    raise _fail("HFT1301", str(exc), fmt, exit_code=2, help="or run without a provider: the offline "
                                "templates")
                resolved = dataclasses.replace(config, model=config.model or DEFAULT_MODEL.get(config.provider or ""))
            result = model_strategy(str(schema), old, text, name, resolved, offline, cache_dir, progress=progress)
        else:
            result = plan_strategy(str(schema), old, text, name)
    except StrategyAddError as exc:
        raise _fail(exc.code, str(exc), fmt, help=exc.help)
    except ProviderError as exc:
        raise _fail("HFT1302", str(exc), fmt, help="check the provider settings, or pass --offline")
    if fmt == "text":
        for item in result.read:
            _say(f"read: {item}")
        for item in result.notes:
            _say(f"note: {item}")
        if result.usage is not None and result.usage.calls:
            _say("usage: " + result.usage.summary(config.prices))
    if result.text is None:
        _emit(result.diagnostics, result.lookup, fmt)
        if result.outcome is not None and result.outcome.candidate is not None and result.outcome.candidate.text:
            write_atomically(rejected_path(str(schema)), result.outcome.candidate.text.encode("utf-8"))
        rounds = f" after {result.outcome.rounds} round(s)" if result.outcome else ""
        raise _fail("HFT1364", "; ".join(result.problems) or f"the new strategy is not clean{rounds}", fmt,
                    help=f"{schema} is unchanged; rephrase the request or edit the schema by hand")
    print(unified_diff(old, result.text, str(schema)), end="")
    if data:
        from hftc.backtest import BacktestError

        try:
            figures = sanity_backtest(str(schema), result.text, result.name, list(data), progress)
        except BacktestError as exc:
            _emit([exc.diagnostic()], None, fmt)
            raise _fail("HFT1365", f"the sanity backtest of `{result.name}` failed", fmt,
                        help=f"{schema} is unchanged; the backtest's diagnostic is above")
        if fmt == "text":
            _say(f"backtest of `{result.name}` on {', '.join(map(str, data))} (default parameters, 1 ms latency): "
                 f"{figures['fills']} fills of {figures['orders']} orders, PnL {figures['pnl']:.6g}, "
                 f"Sharpe {figures['sharpe']:.3g}, max drawdown {figures['max_drawdown']:.6g} over "
                 f"{figures['events']} events")
            if figures.get("instrument_map_how", "").startswith("by position"):
                _say(f"note: instruments mapped {figures['instrument_map_how']}: {figures['instrument_map']}")
            if not figures["fills"]:
                _say("note: no fills on this data; check the parameters before trusting the strategy")
    if not write:
        if fmt == "text":
            _say(f"{schema} not changed (pass --write to add strategy `{result.name}`)")
        return
    written = write_validated(str(schema), result.text)
    if not written.written:
        _emit(written.diagnostics, written.sources.lookup if written.sources else None, fmt)
        raise _fail("HFT1364", f"{schema} changed while the strategy was made; nothing written", fmt)
    if fmt == "text":
        _say(f"wrote {schema}: strategy `{result.name}` ({result.how})")
