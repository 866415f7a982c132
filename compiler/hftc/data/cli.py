"""`hftc data …`: convert recorded market data to a tape, and describe a tape.

Only typer is imported at module level so `hftc --help` stays fast; readers and
numpy load inside the commands.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

data_app = typer.Typer(
    name="data",
    help="Market data for backtests: convert captures to .hftt tapes, inspect tapes.",
    no_args_is_help=True,
    add_completion=False,
)


class InputFormat(str, Enum):
    auto = "auto"
    binance = "binance"
    hftbacktest = "hftbacktest"
    tardis = "tardis"


class Clock(str, Enum):
    auto = "auto"
    off = "off"


class OnError(str, Enum):
    drop = "drop"
    fail = "fail"
    keep = "keep"


def _line_lookup(path: str, line: int):
    """A source lookup that shows the offending input line (first 160 characters)."""
    def lookup(name: str) -> str | None:
        if name != path or line < 1:
            return None
        try:
            import gzip

            with open(path, "rb") as probe:
                gz = probe.read(2) == b"\x1f\x8b"
            with (gzip.open(path, "rb") if gz else open(path, "rb")) as fh:
                for number, raw in enumerate(fh, 1):
                    if number == line:
                        text = raw.decode("utf-8", "replace").rstrip("\r\n")
                        text = text if len(text) <= 160 else text[:160] + " …"
                        return "\n" * (line - 1) + text
        except (OSError, EOFError, ValueError):
            return None
        return None
    return lookup


def _print_diagnostics(diagnostics, lookup=lambda _name: None) -> None:
    from hftc.diagnostics.color import wants_color
    from hftc.diagnostics.render import render_all

    if diagnostics:
        print(render_all(list(diagnostics), "text", lookup, color=wants_color(sys.stderr)), file=sys.stderr)


def _fail(exc) -> None:
    lookup = _line_lookup(exc.path, exc.line) if exc.path and exc.line else (lambda _name: None)
    _print_diagnostics([exc.diagnostic()], lookup)
    raise typer.Exit(1)


def _ns_to_text(ns: int) -> str:
    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC)
    return f"{stamp:%Y-%m-%d %H:%M:%S}.{ns % 1_000_000_000 // 1_000_000:03d}"


def _summary_text(summary: dict, meta: dict, verb: str) -> str:
    lines = []
    start, end = summary.get("start_ns"), summary.get("end_ns")
    span = (f"{_ns_to_text(start)} → {_ns_to_text(end)} UTC ({(end - start) / 1e9:.1f} s)"
            if start is not None and end is not None else "no events")
    lines.append(f"{verb} {summary['output']}: {summary['events']:,} events, "
                 f"{len(summary['instruments'])} instrument(s), {span}")
    by_symbol = {i["symbol"]: i for i in meta.get("instruments", [])}
    for inst in summary["instruments"]:
        info = by_symbol.get(inst["symbol"], {})
        tick_how = " (inferred)" if str(info.get("tick_rule", "")).startswith("inferred") else ""
        lot_how = " (inferred)" if str(info.get("lot_rule", "")).startswith("inferred") else ""
        latency = info.get("feed_latency_ns")
        lat_text = (f", feed latency median {latency['median'] / 1e6:.2f} ms, p99 {latency['p99'] / 1e6:.2f} ms"
                    if latency else "")
        lines.append(f"  {inst['symbol']:<14} tick {inst['tick_size']}{tick_how}, lot {inst['lot_size']}{lot_how}: "
                     f"{inst['events']:,} events ({inst['depth']:,} depth, {inst['trade']:,} trades, "
                     f"{inst['clear']:,} clears){lat_text}")
    gaps = meta.get("gaps", [])
    lines.append(f"  gaps: {len(gaps)}" + ("" if not gaps else " (" + ", ".join(
        f"{g.get('symbol', g['instrument'])} expected {g['expected']} got {g['got']}" for g in gaps[:5])
        + (", …" if len(gaps) > 5 else "") + ")"))
    from hftc.data.quality import summary_line

    lines.append("  " + summary_line(meta.get("quality")))
    clock = meta.get("clock") or {}
    if clock.get("offset_ns"):
        lines.append(f"  clock: local timestamps shifted by {clock['offset_ns'] / 1e6:+.3f} ms "
                     "(the recorder's clock was behind the exchange's)")
    return "\n".join(lines)


@data_app.command("convert")
def convert_cmd(
    inputs: list[Path] = typer.Argument(..., metavar="INPUT",
                                        help="Input files (Binance captures, hftbacktest .npz, Tardis CSV)."),
    output: Path = typer.Option(..., "-o", "--output", metavar="OUT.hftt", help="The tape to write (.hftt)."),
    fmt: InputFormat = typer.Option(InputFormat.auto, "--format", help="Input format (default: detect per file)."),
    tick: list[str] | None = typer.Option(None, "--tick", metavar="SYM=SIZE", help="Tick size SYMBOL=SIZE (repeatable); "
                                             "default: inferred from the prices' decimal places."),
    lot: list[str] | None = typer.Option(None, "--lot", metavar="SYM=SIZE", help="Lot size SYMBOL=SIZE (repeatable); "
                                            "default: inferred from the quantities' decimal places."),
    multiplier: list[str] | None = typer.Option(None, "--multiplier", metavar="SYM=VALUE", help="Contract multiplier SYMBOL=VALUE "
                                                   "(repeatable; default 1)."),
    clock: Clock = typer.Option(Clock.auto, "--clock", help="auto: shift local timestamps when the recorder's "
                                "clock is behind the exchange's (negative feed latency); off: keep them."),
    base_latency_ns: int = typer.Option(0, "--base-latency-ns", min=0, help="Smallest feed latency after a clock "
                                        "shift."),
    on_error: OnError = typer.Option(OnError.drop, "--on-error", help="Rows failing a check (bad quantity or "
                                     "price, clock outlier, a level crossing the book): drop them, fail, or keep "
                                     "them (the tape is then marked dirty)."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Convert market data to one .hftt tape (merged by local timestamp)."""
    import json

    from hftc.data.convert import convert, write
    from hftc.data.decimals import parse_step
    from hftc.data.errors import DataError
    from hftc.data.events import Steps, parse_assignments

    try:
        steps = Steps(
            ticks={k: parse_step(v, f"--tick {k}") for k, v in parse_assignments(tick or [], "--tick").items()},
            lots={k: parse_step(v, f"--lot {k}") for k, v in parse_assignments(lot or [], "--lot").items()},
            multipliers={k: float(parse_step(v, f"--multiplier {k}"))
                         for k, v in parse_assignments(multiplier or [], "--multiplier").items()},
        )
        conversion = convert([str(p) for p in inputs], fmt.value, steps, clock.value, base_latency_ns,
                             on_error.value)
        write(conversion, output)
    except DataError as exc:
        _fail(exc)
        return
    _print_diagnostics(conversion.diagnostics)
    summary = conversion.summary()
    if json_output:
        summary["gap_list"] = conversion.meta["gaps"]
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print(_summary_text(summary, conversion.meta, "wrote"))


@data_app.command("info")
def info_cmd(
    tape: Path = typer.Argument(..., help="A .hftt tape."),
    json_output: bool = typer.Option(False, "--json", help="Print instruments, counts and metadata as JSON."),
) -> None:
    """Describe a tape: instruments, event counts, time range, gaps, sources."""
    import json

    import numpy as np

    from hftc.data.errors import DataError
    from hftc.data.tape import CLEAR, DEPTH, KIND_NAMES, TRADE, open_tape

    try:
        opened = open_tape(tape)
    except DataError as exc:
        _fail(exc)
        return
    counts = []
    for i, inst in enumerate(opened.instruments):
        mask = opened.instrument == i
        kinds = opened.kind[mask]
        meta_list = opened.meta.get("instruments") or []
        meta_inst = meta_list[i] if i < len(meta_list) and isinstance(meta_list[i], dict) else {}
        counts.append({"symbol": inst.symbol,
                       "tick_size": meta_inst.get("tick_size", repr(inst.tick_size)),
                       "lot_size": meta_inst.get("lot_size", repr(inst.lot_size)),
                       "multiplier": inst.multiplier,
                       "events": int(mask.sum()),
                       **{KIND_NAMES[k]: int(np.count_nonzero(kinds == k)) for k in (DEPTH, TRADE, CLEAR)}})
    summary = {"output": str(tape), "events": len(opened), "instruments": counts,
               "start_ns": int(opened.local_ts[0]) if len(opened) else None,
               "end_ns": int(opened.local_ts[-1]) if len(opened) else None}
    if json_output:
        print(json.dumps({**summary, "path": summary.pop("output"), "meta": opened.meta}, indent=2, sort_keys=True))
        return
    print(_summary_text(summary, opened.meta, "tape"))
    sources = opened.meta.get("sources") or []
    for source in sources:
        print(f"  source: {source.get('file')} ({source.get('format')})")
