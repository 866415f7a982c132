"""`hftc backtest`: one native backtest of a schema strategy on recorded market data.

Only typer and the stdlib-only fee table are imported at module level (the CLI registers this command at start-up).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

from hftc.backtest.fees import PROFILES  # stdlib only: the CLI still starts fast


FeeProfileChoice = Enum("FeeProfileChoice", {n.replace("-", "_"): n for n in PROFILES}, type=str)


class ContractChoice(str, Enum):
    linear = "linear"
    inverse = "inverse"


class CancelChoice(str, Enum):
    replace_at_once = "replace_at_once"
    wait_for_confirm = "wait_for_confirm"


class QueueChoice(str, Enum):
    risk_averse = "risk_averse"
    probabilistic = "probabilistic"


# The market-simulation options `hftc backtest`, `hftc optimize` and `hftc venue` share: one
# definition each, so the three commands take the same flags with the same defaults and help.
LATENCY_NS = typer.Option(1_000_000, "--latency-ns", min=0,
                          help="Constant one-way order latency in ns (tape time), for entry and response.")
LATENCY_SAMPLES = typer.Option(None, "--latency-samples",
                               help="One-way latencies (ns, one per line, or .npy) to draw from.")
QUEUE = typer.Option(QueueChoice.risk_averse, "--queue", help="Queue-position model of resting orders.")
MAKER_FEE_BPS = typer.Option(None, "--maker-fee-bps", help="Maker fee in bps of notional (negative = rebate); "
                             "default: the venue profile's.")
TAKER_FEE_BPS = typer.Option(None, "--taker-fee-bps", help="Taker fee in bps of notional; default: the venue "
                             "profile's.")
FEE_PROFILE = typer.Option(None, "--fee-profile", help="Venue fee profile (default: the one the tape's venue "
                           "implies).")


def _say(message: str) -> None:
    print(f"· {message}", file=sys.stderr)


def read_latency_samples(path: Path) -> list[int]:
    """One-way latencies in ns: a text file with one integer per line (`#` comments), or a .npy."""
    from hftc.backtest.errors import BacktestError

    def bad(why: str) -> BacktestError:
        return BacktestError("HFT1110", f"{path}: {why}",
                             help="give one latency in nanoseconds per line (a non-negative integer), or a .npy array")

    try:
        if path.suffix == ".npy":
            import numpy as np

            arr = np.load(path, allow_pickle=False)
            if arr.ndim != 1 or arr.dtype.kind not in "iuf":
                raise bad("expected a 1-D numeric array")
            samples = [int(v) for v in arr]
        else:
            samples = []
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                text = line.split("#", 1)[0].strip()
                if not text:
                    continue
                try:
                    value = float(text)
                except ValueError:
                    raise bad(f"line {n}: `{text}` is not a number") from None
                if not value.is_integer():
                    raise bad(f"line {n}: `{text}` is not a whole number of nanoseconds")
                samples.append(int(value))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise bad(getattr(exc, "strerror", None) or str(exc)) from None
    if not samples:
        raise bad("holds no latencies")
    if any(s < 0 for s in samples):
        raise bad("holds a negative latency")
    return samples


def _print_rows(title: str, rows: list[tuple[str, str]]):
    """A two-column table of `rows` on stdout; returns the console for the lines under it."""
    from rich.console import Console
    from rich.table import Table

    from hftc.diagnostics.color import rich_options

    table = Table(title=title, show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in rows:
        table.add_row(k, v)
    console = Console(**rich_options())
    console.print(table)
    return console


def _print_table(summary: dict) -> None:
    from hftc.backtest.result import ratio_basis

    ccy = summary.get("settlement_currency") or "quote ccy"
    money = "{:,.8f}" if summary.get("contracts") and "inverse" in summary["contracts"].values() else "{:,.2f}"
    rows = [
        (f"PnL after fees ({ccy})", money.format(summary['pnl'])), (f"Fees ({ccy})", money.format(summary['fees'])),
        ("Sharpe", f"{summary['sharpe']:.3f}"), ("Sortino", f"{summary['sortino']:.3f}"),
        (f"Max drawdown ({ccy})", money.format(summary['max_drawdown'])),
        (f"Turnover ({ccy})", money.format(summary['turnover'])),
        ("Max leverage", f"{summary['max_leverage']:.3f}"), ("Max correlation", f"{summary['max_correlation']:.3f}"),
        ("Fills", f"{summary['fills']:,}"), ("Orders", f"{summary['orders']:,}"),
        ("Fill ratio", f"{summary['fill_ratio']:.3f}"), ("Cancels", f"{summary['cancels']:,}"),
        ("Post-only rejects", f"{summary['post_only_rejects']:,}"), ("Risk rejects", f"{summary['risk_rejects']:,}"),
        ("Events", f"{summary['events']:,}"), ("Replay time", f"{summary['seconds']:.3f} s"),
        ("Events / s", f"{summary['events_per_s']:,.0f}"),
    ]
    console = _print_rows(f"Backtest of {summary['strategy']}", rows)
    imap = ", ".join(f"{k} → {v}" for k, v in summary["instrument_map"].items())
    console.print(f"instruments: {imap} ({summary['instrument_map_how']})", highlight=False)
    console.print(f"Sharpe and Sortino: {ratio_basis(summary)}", highlight=False)
    console.print("contracts: " + ", ".join(f"{k} {v}" for k, v in summary["contracts"].items())
                  + f"; settled in {ccy}", highlight=False)
    latency = summary["latency"]
    console.print("latency: " + ", ".join(f"{k} {v}" for k, v in latency.items())
                  + f"; queue: {summary['queue']}; cancels: {summary['cancel']}; risk: {summary['risk']['source']}",
                  highlight=False)


def backtest_cmd(
    schema: Path = typer.Argument(..., help="Schema file."),
    more_data: list[Path] | None = typer.Argument(None, help="More data files (as if given with --data)."),
    strategy: str | None = typer.Option(None, "--strategy", "-s", help="Strategy to backtest (its rules in the "
                                        "native backtest engine)."),
    pipeline: str | None = typer.Option(None, "--pipeline", "-p", help="Pipeline to backtest: the generated engine "
                                        "itself (feed handler, strategy, risk gate, order managers, gateway; the default without --strategy) "
                                        "against the venue's matcher, in tape time."),
    data: list[Path] | None = typer.Option(None, "--data", "-d",
                                              help="Market data: .hftt tapes, or captures converted on the fly "
                                                   "(repeat, or list several after the schema)."),
    params: Path | None = typer.Option(None, "--params", help="YAML of parameter values (or an optimizer overlay)."),
    latency_ns: int = LATENCY_NS,
    latency_samples: Path | None = LATENCY_SAMPLES,
    queue: QueueChoice = QUEUE,
    maker_fee_bps: float | None = MAKER_FEE_BPS,
    taker_fee_bps: float | None = TAKER_FEE_BPS,
    fee_profile: FeeProfileChoice | None = FEE_PROFILE,
    capital: float = typer.Option(100_000.0, "--capital", help="Capital in quote currency (leverage, returns)."),
    contract: ContractChoice | None = typer.Option(None, "--contract", help="Contract type of every instrument, "
                                                  "for a tape that does not record it (or to override it)."),
    instrument_map: list[str] | None = typer.Option(None, "--map", help="STRATEGY_SYMBOL=TAPE_SYMBOL (repeat), or "
                                                     "`position`: run on instruments whose names differ."),
    cancel: CancelChoice = typer.Option(CancelChoice.replace_at_once, "--cancel", help="After cancelling a quote: "
                                        "send its replacement at once, or wait for the cancel's confirmation."),
    bar_seconds: float = typer.Option(60.0, "--bar-seconds", min=1.0,
                                      help="Return interval of Sharpe and Sortino in seconds (annualised only "
                                           "when the run spans a day or more)."),
    no_risk: bool = typer.Option(False, "--no-risk", help="Do not apply the schema's risk gate."),
    report: Path | None = typer.Option(None, "--report", help="Write fills/equity (CSV, Parquet), summary.json "
                                                                  "and report.html into this folder."),
    json_output: bool = typer.Option(False, "--json", help="Print the headline metrics as JSON on stdout."),
    each: bool = typer.Option(False, "--each", help="One backtest per data file (days, instruments), run in "
                              "parallel processes, with a table per file and totals."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Worker processes for --each (0: one per CPU)."),
    allow_dirty: bool = typer.Option(False, "--allow-dirty", help="Run on a tape whose data-quality record has "
                                     "unresolved problems (written with `hftc data convert --on-error keep`)."),
) -> None:
    """Backtest a strategy (or the generated engine of a pipeline) of SCHEMA on recorded market data."""
    import json

    from hftc.backtest.errors import BacktestError
    from hftc.data.errors import DataError
    from hftc.diagnostics.color import wants_color
    from hftc.diagnostics.model import has_errors
    from hftc.diagnostics.render import render_all
    from hftc.frontend import compile_file

    say = (lambda _m: None) if json_output else _say
    data_paths = list(data or []) + list(more_data or [])
    strategy_only = {"--capital": capital != 100_000.0, "--contract": contract is not None, "--map": bool(instrument_map),
                     "--cancel": cancel is not CancelChoice.replace_at_once, "--bar-seconds": bar_seconds != 60.0,
                     "--no-risk": no_risk, "--report": report is not None, "--each": each}
    refusal = _which_target(strategy, pipeline, [k for k, v in strategy_only.items() if v])
    if refusal is not None:
        print(render_all([refusal.diagnostic()], "text", lambda _f: None, color=wants_color(sys.stderr)),
              file=sys.stderr)
        raise typer.Exit(1)
    missing = _missing_inputs(data_paths, params, latency_samples)
    if missing:  # before compiling anything: the strategy's library takes the best part of a minute
        fail_early = [BacktestError("HFT1112", m, help="check the paths given to --data, --params and "
                                    "--latency-samples").diagnostic() for m in missing]
        print(render_all(fail_early, "text", lambda _f: None, color=wants_color(sys.stderr)), file=sys.stderr)
        raise typer.Exit(1)
    result = compile_file(str(schema))
    lookup = result.sources.lookup

    def fail(diagnostics) -> None:
        print(render_all(list(diagnostics), "text", lookup, color=wants_color(sys.stderr)), file=sys.stderr)
        raise typer.Exit(1)

    if not result.ok or has_errors(result.diagnostics):
        fail(result.diagnostics)
    if strategy is None and pipeline is None:
        from hftc.backtest.errors import BacktestError
        from hftc.backtest.pipeline import default_pipeline

        pipeline = default_pipeline(result.ir)
        if pipeline is None:
            fail([BacktestError("HFT1109", "give --strategy NAME: this schema has no engine pipeline with an "
                                "order-entry session to backtest", help="--strategy runs a strategy's rules in the "
                                "backtest engine; --pipeline needs the messages of `hftc venue`").diagnostic()])
        refusal = _which_target(None, pipeline, [k for k, v in strategy_only.items() if v])
        if refusal is not None:
            fail([refusal.diagnostic()])
        say(f"pipeline `{pipeline}`: the generated engine, as it trades (--strategy NAME backtests a strategy's "
            "rules alone)")
    if pipeline is not None:
        _pipeline_backtest(result, pipeline, data_paths, latency_ns, latency_samples, queue, maker_fee_bps,
                           taker_fee_bps, fee_profile, params, allow_dirty, json_output, say, fail)
        return
    try:
        from hftc.backtest import BacktestOptions, compile_strategy
        from hftc.backtest.inputs import refuse_dirty, resolve_tape, tape_quality_of
        from hftc.backtest.report import render_report
        from hftc.data.quality import summary_line

        ir = result.ir
        values: dict = {}
        if params is not None:
            target = ir.strategy_named(strategy)
            if target is not None:
                loaded, diags = load_params_file(str(params), target, result.sources)
                if loaded is None:
                    fail(diags)
                values = loaded
        samples = read_latency_samples(latency_samples) if latency_samples is not None else None

        def warn(diagnostics) -> None:
            if diagnostics:
                print(render_all(list(diagnostics), "text", lookup, color=wants_color(sys.stderr)), file=sys.stderr)

        options = BacktestOptions(
            latency_ns=latency_ns, latency_samples=samples,
            queue=queue.value, maker_fee_bps=maker_fee_bps, taker_fee_bps=taker_fee_bps, capital=capital,
            fee_profile=fee_profile.value if fee_profile is not None else None,
            contract=contract.value if contract is not None else None,
            instrument_map=parse_map(instrument_map),
            bar_ns=int(round(bar_seconds * 1e9)), cancel=cancel.value,
            risk=not no_risk).validated()
        if each:
            if report is not None:
                raise BacktestError("HFT1109", "--report writes one backtest's files; it does not combine with "
                                    "--each", help="drop --report, or backtest one data file")
            _run_each(schema, strategy, ir, data_paths, values, options, allow_dirty, jobs, json_output, say, warn)
            return
        tape = resolve_tape(data_paths, say, warn)
        quality = tape_quality_of(tape)
        print(f"· {summary_line(quality)}", file=sys.stderr)  # with every backtest, --json too
        refuse_dirty(tape, quality, allow_dirty)  # before the strategy's library is compiled
        from hftc.backtest.api import contract_terms
        from hftc.backtest.tapeinfo import read_tape_info
        from hftc.data import open_tape

        contract_terms(str(tape), read_tape_info(tape), open_tape(tape, validate=False).meta,
                       contract.value if contract is not None else None)
        engine = compile_strategy(ir, strategy)
        say(f"strategy `{strategy}`: " + ("library from cache" if engine.built.cached else
                                          f"compiled in {engine.built.seconds:.1f} s") + f" ({engine.built.library})")
        res = engine.run(tape, params=values, options=options, allow_dirty=allow_dirty)
        warn(violated_constraints(ir, strategy, res.summary["constraints"]))
        print(f"· fees: maker {res.summary['maker_fee_bps']:g} bp, taker {res.summary['taker_fee_bps']:g} bp "
              f"({res.summary['fee_source']})", file=sys.stderr)
        if report is not None:
            res.save(report, extra={"report.html": render_report(res).encode("utf-8")})
            say(f"wrote {report}/ (fills, equity as CSV and Parquet, summary.json) and {report}/report.html")
    except BacktestError as exc:
        fail([exc.diagnostic()])
    except DataError as exc:
        fail([exc.diagnostic()])
    if json_output:
        print(json.dumps({**res.json_summary(), "data_quality": quality}))
    else:
        _print_table(res.summary)


def _which_target(strategy: str | None, pipeline: str | None, strategy_only: list[str]):
    """A BacktestError (HFT1109) unless exactly one of --strategy and --pipeline is given, and no
    option of a strategy backtest comes with --pipeline."""
    from hftc.backtest.errors import BacktestError

    if strategy is not None and pipeline is not None:
        return BacktestError("HFT1109", "give --strategy NAME or --pipeline NAME, not both",
                             help="--strategy runs a strategy's rules in the backtest engine (fast: what "
                                  "`hftc optimize` uses); --pipeline runs the generated engine itself, as it trades")
    if pipeline is not None and strategy_only:
        return BacktestError("HFT1109", f"{', '.join(strategy_only)} applies to --strategy backtests only",
                             help="a --pipeline backtest runs the engine as deployed: its risk gate, quote "
                                  "management and instruments are the schema's")
    return None


def _pipeline_backtest(result, pipeline: str, data_paths: list[Path], latency_ns: int, latency_samples: Path | None,
                       queue, maker_fee_bps, taker_fee_bps, fee_profile, params: Path | None, allow_dirty: bool,
                       json_output: bool, say, fail) -> None:
    """`hftc backtest --pipeline`: the generated engine against the venue's matcher (hftc.backtest.pipeline)."""
    import json

    from hftc.backtest.errors import BacktestError
    from hftc.backtest.fees import resolve_fees
    from hftc.backtest.inputs import refuse_dirty, resolve_tape, tape_quality_of
    from hftc.backtest.pipeline import PipelineOptions, run_pipeline_backtest
    from hftc.data import open_tape
    from hftc.data.errors import DataError
    from hftc.data.quality import summary_line
    from hftc.diagnostics.color import wants_color
    from hftc.diagnostics.render import render_all

    def warn(diagnostics) -> None:
        if diagnostics:
            print(render_all(list(diagnostics), "text", result.sources.lookup, color=wants_color(sys.stderr)),
                  file=sys.stderr)

    try:
        samples = read_latency_samples(latency_samples) if latency_samples is not None else None
        tape = resolve_tape(data_paths, say, warn)
        quality = tape_quality_of(tape)
        print(f"· {summary_line(quality)}", file=sys.stderr)
        refuse_dirty(tape, quality, allow_dirty)
        fees = resolve_fees(open_tape(tape, validate=False).meta, maker_fee_bps, taker_fee_bps,
                            fee_profile.value if fee_profile is not None else None)
        print(f"· {fees.line()}", file=sys.stderr)
        opt = PipelineOptions(latency_ns=latency_ns, latency_samples=samples, queue=queue.value,
                              maker_fee_bps=fees.maker_bps, taker_fee_bps=fees.taker_bps, params=params)
        summary = run_pipeline_backtest(result.ir, pipeline, tape, opt, say)
    except (BacktestError, DataError) as exc:
        fail([exc.diagnostic()])
    if json_output:
        print(json.dumps({**summary, "data_quality": quality}))
        return
    sent = summary["sent"]
    rows = [("PnL after fees (quote ccy)", f"{summary['pnl']:,.2f}"), ("Fees (quote ccy)", f"{summary['fees']:,.2f}"),
            ("Turnover (quote ccy)", f"{summary['turnover']:,.2f}"),
            ("Requests (new / cancel / replace)", f"{sent['new']:,} / {sent['cancel']:,} / {sent['replace']:,}"),
            ("Fills", f"{summary['fills']:,}"), ("Venue rejects", f"{summary['venue_rejects']:,}"),
            ("Risk-gate rejects", f"{summary['risk_rejects']:,}"), ("Open at the end", f"{summary['open_orders']:,}"),
            ("Messages", f"{summary['messages']:,}"), ("Replay time", f"{summary['seconds']:.3f} s"),
            ("Messages / s", f"{summary['messages_per_s']:,.0f}")]
    rows += [(f"Position {k}", f"{v:g}") for k, v in summary["position"].items()]
    console = _print_rows(f"Backtest of pipeline {pipeline} (the generated engine)", rows)
    lat = summary["latency"]
    console.print(f"latency: entry {lat.get('entry_ns', 0):,} ns, response {lat.get('response_ns', 0):,} ns; "
                  f"queue: {summary['queue']}", highlight=False)


def _run_each(schema: Path, strategy: str, ir, data_paths: list[Path], values: dict, options, allow_dirty: bool,
              jobs: int, json_output: bool, say, warn) -> None:
    """`--each`: every data file its own backtest, in parallel worker processes."""
    import json
    import os

    from hftc.backtest import compile_strategy
    from hftc.backtest.api import contract_terms
    from hftc.backtest.batch import BatchJob, options_dict, run_batch, totals
    from hftc.backtest.inputs import refuse_dirty, resolve_tape, tape_quality_of
    from hftc.backtest.tapeinfo import read_tape_info
    from hftc.data import open_tape

    tapes = []
    for path in data_paths:  # convert (cached) and check every input before any worker starts
        tape = resolve_tape([path], say, warn)
        refuse_dirty(tape, tape_quality_of(tape), allow_dirty)
        contract_terms(str(tape), read_tape_info(tape), open_tape(tape, validate=False).meta, options.contract)
        tapes.append((path, tape))
    engine = compile_strategy(ir, strategy)  # once here, so the workers find it in the cache
    say(f"strategy `{strategy}`: " + ("library from cache" if engine.built.cached else
                                      f"compiled in {engine.built.seconds:.1f} s"))
    workers = jobs or os.cpu_count() or 1
    batch = [BatchJob(str(schema.resolve()), strategy, str(tape), path.name, values, options_dict(options),
                      allow_dirty) for path, tape in tapes]
    say(f"{len(batch)} backtests in {min(workers, len(batch))} worker process(es)")
    results, wall = run_batch(batch, workers, lambda r: say(f"done: {r['label']}"))
    summary = totals(results, wall)
    if json_output:
        print(json.dumps({"runs": results, "totals": summary}))
    else:
        _print_each(strategy, results, summary)
    if summary["failed"]:
        for r in results:
            if "error" in r:
                print(f"{r['label']}: {r['error']}", file=sys.stderr)
        raise typer.Exit(1)


def _print_each(strategy: str, results: list[dict], summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Backtests of {strategy}, one per data file")
    table.add_column("data", overflow="fold")  # whole file names: the day is at the end
    for name in ("events", "fills", "PnL", "fees", "Sharpe", "events/s"):
        table.add_column(name, justify="right", no_wrap=True)
    for r in results:
        if "error" in r:
            table.add_row(r["label"], "failed", "", "", "", "", "")
            continue
        ccy = f" {r['settlement_currency']}" if r.get("settlement_currency") else ""
        table.add_row(r["label"], f"{r['events']:,}", f"{r['fills']:,}", f"{r['pnl']:,.6g}{ccy}",
                      f"{r['fees']:,.6g}", f"{r['sharpe']:.3f}", f"{r['events_per_s']:,.0f}")
    console = Console()
    console.print(table)
    mixed = len(summary["settlement_currencies"]) > 1
    console.print(f"total: {summary['events']:,} events, {summary['fills']:,} fills"
                  + ("" if mixed else f", PnL {summary['pnl']:,.6g} {''.join(summary['settlement_currencies'])}")
                  + f"; {summary['wall_s']:.2f} s wall, {summary['events_per_s']:,.0f} events/s over the batch"
                  + (" (PnL not summed: the runs settle in different currencies)" if mixed else ""),
                  highlight=False)


def parse_map(items: list[str] | None):
    """`--map` values: None, "position", or {strategy symbol: tape symbol}."""
    if not items:
        return None
    if items == ["position"]:
        return "position"
    pairs = {}
    for item in items:
        left, sep, right = item.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise typer.BadParameter(f"`{item}`: expected STRATEGY_SYMBOL=TAPE_SYMBOL or `position`",
                                     param_hint="--map")
        pairs[left.strip()] = right.strip()
    return pairs


def violated_constraints(ir, strategy: str, findings: list[dict]) -> list:
    """HFT1119 warnings, at the constraint's line, for each declared constraint this run broke."""
    from hftc.diagnostics.model import warning

    spans = {c.text: c.span for c in ir.strategy_named(strategy).constraints}
    return [warning("HFT1119", f"strategy `{strategy}` violates its constraint `{f['constraint']}` in this run "
                    f"(value {f['value']:.6g})", spans.get(f["constraint"]), label="violated in this backtest",
                    help="the result is outside what the strategy declares acceptable; check the parameters or "
                         "relax the constraint")
            for f in findings if not f["holds"]]


def _missing_inputs(data: list[Path], params: Path | None, latency_samples: Path | None) -> list[str]:
    """Input files that do not exist, checked before anything slow runs."""
    missing = [] if data else ["no market data given (pass --data FILE: a .hftt tape or a capture)"]
    missing += [f"{p}: no such data file" for p in data if not p.is_file()]
    missing += [f"{p}: no such file ({flag})" for p, flag in ((params, "--params"),
                                                             (latency_samples, "--latency-samples"))
                if p is not None and not p.is_file()]
    return missing


def load_params_file(path: str, strategy, sources):
    from hftc.backtest.params_file import load_params

    return load_params(path, strategy, sources)
