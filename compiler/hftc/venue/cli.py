"""`hftc venue`: a venue to paper-trade against, built from the schema and replaying a tape.

Only typer and the stdlib-only fee table are imported at module level (the CLI registers this
command at start-up).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hftc.backtest.cli import (
    FEE_PROFILE,
    LATENCY_NS,
    LATENCY_SAMPLES,
    MAKER_FEE_BPS,
    QUEUE,
    TAKER_FEE_BPS,
    FeeProfileChoice,
    QueueChoice,
)


def _say(message: str) -> None:
    print(f"· {message}", file=sys.stderr)


def _url(value: str, scheme: str, flag: str) -> str:
    """`scheme://A.B.C.D:PORT` or VenueError HFT1502 (the program checks again; this says it first)."""
    import ipaddress

    from hftc.venue.errors import VenueError

    bad = VenueError("HFT1502", f"{flag} `{value}`: expected {scheme}://HOST:PORT with an IPv4 HOST and a PORT "
                     "in 0..65535", help=f"for example {flag} {scheme}://127.0.0.1:0 (port 0 picks a free one)")
    prefix = f"{scheme}://"
    if not value.startswith(prefix):
        raise bad
    host, sep, port = value[len(prefix):].rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise bad
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        raise bad from None
    return value


def venue_cmd(
    schema: Path = typer.Argument(..., help="Schema file."),
    data: list[Path] = typer.Option(..., "--data", "-d", help="Market data: a .hftt tape, or captures converted on "
                                    "the fly (cached, as `hftc backtest --data` does)."),
    md: str = typer.Option("udp://127.0.0.1:0", "--md", help="Where the market data goes (udp://HOST:PORT; a "
                           "multicast group works; port 0 picks a free one)."),
    orders: str = typer.Option("tcp://127.0.0.1:0", "--orders", help="Where order-entry sessions connect "
                               "(tcp://HOST:PORT; port 0 picks a free one)."),
    speed: str = typer.Option("1", "--speed", help="Replay speed: X times the recorded pace, or `max`."),
    summary: Path | None = typer.Option(None, "--summary", help="Write the JSON summary here when the venue ends."),
    latency_ns: int = LATENCY_NS,
    latency_samples: Path | None = LATENCY_SAMPLES,
    queue: QueueChoice = QUEUE,
    maker_fee_bps: float | None = MAKER_FEE_BPS,
    taker_fee_bps: float | None = TAKER_FEE_BPS,
    fee_profile: FeeProfileChoice | None = FEE_PROFILE,
    credentials_env: str | None = typer.Option(None, "--credentials-env", help="Sessions must log on with the "
                                               "secret in this environment variable (default: any is accepted)."),
    credentials_file: Path | None = typer.Option(None, "--credentials-file", help="...or with the secret in this "
                                                 "file."),
    keep_orders: bool = typer.Option(False, "--keep-orders-on-disconnect", help="Do not cancel a session's orders "
                                     "when its connection drops (its next logon reconciles them)."),
    start_delay_ms: int = typer.Option(0, "--start-delay-ms", min=0, help="Accept sessions this long before the "
                                       "replay starts."),
    snapshot_interval_ms: int = typer.Option(0, "--snapshot-interval-ms", min=0, max=3_600_000,
                                             help="Every this long (tape time) publish each instrument's book as a "
                                                  "snapshot message, so a session that joins late or lost packets "
                                                  "gets a book (0: only the tape's own snapshots)."),
    lockstep: bool = typer.Option(False, "--lockstep", help="Replay one packet and one report at a time, each "
                                  "answered by the engine (`<pkg>_engine --lockstep`) before the next: the engine "
                                  "then sends exactly the requests of `hftc backtest --pipeline` on the same data. "
                                  "Waits up to 30 s for the session's logon; implies --speed max."),
    sanitize: bool = typer.Option(False, "--sanitize", help="Build and run the venue with AddressSanitizer and "
                                  "UndefinedBehaviorSanitizer (Debug)."),
) -> None:
    """Run a venue for SCHEMA on recorded market data: UDP market data out, orders over TCP in."""
    from hftc.backtest.errors import BacktestError
    from hftc.data.errors import DataError
    from hftc.diagnostics.color import wants_color
    from hftc.diagnostics.model import has_errors
    from hftc.diagnostics.render import render_all
    from hftc.venue.errors import VenueError

    sources = {"lookup": lambda _f: None}  # the schema's sources once it is compiled, for the diagnostics

    def fail(diagnostics) -> None:
        print(render_all(list(diagnostics), "text", sources["lookup"], color=wants_color(sys.stderr)), file=sys.stderr)
        raise typer.Exit(1)

    try:
        _url(md, "udp", "--md")
        _url(orders, "tcp", "--orders")
        if speed != "max":
            try:
                ok = float(speed) > 0
            except ValueError:
                ok = False
            if not ok:
                raise VenueError("HFT1502", f"--speed `{speed}`: expected a positive number or `max`")
        missing = [p for p in [*data, latency_samples, credentials_file] if p is not None and not p.is_file()]
        if missing:  # before compiling anything
            raise BacktestError("HFT1112", f"{missing[0]}: no such file",
                                help="check the paths given to --data, --latency-samples and --credentials-file")
        if credentials_env is not None and credentials_file is not None:
            raise VenueError("HFT1503", "give --credentials-env or --credentials-file, not both")
        import os

        if credentials_env is not None and credentials_env not in os.environ:
            raise VenueError("HFT1503", f"--credentials-env: ${credentials_env} is not set",
                             help="export the secret in that variable before starting the venue")
        from hftc.frontend import compile_file

        result = compile_file(str(schema))
        sources["lookup"] = result.sources.lookup
        if not result.ok or has_errors(result.diagnostics):
            fail(result.diagnostics)
        from hftc.backtest.cli import read_latency_samples
        from hftc.backtest.fees import resolve_fees
        from hftc.backtest.inputs import resolve_tape
        from hftc.data import open_tape
        from hftc.venue.build import build_venue, check_snapshots, check_venue
        from hftc.venue.run import VenueRun

        check_venue(result.ir)
        if snapshot_interval_ms > 0:
            check_snapshots(result.ir)
        samples = read_latency_samples(latency_samples) if latency_samples is not None else None

        def warn(diagnostics) -> None:
            if diagnostics:
                print(render_all(list(diagnostics), "text", sources["lookup"], color=wants_color(sys.stderr)),
                      file=sys.stderr)

        tape = resolve_tape(list(data), _say, warn)
        fees = resolve_fees(open_tape(tape, validate=False).meta, maker_fee_bps, taker_fee_bps,
                            fee_profile.value if fee_profile is not None else None)
        _say(fees.line())
        exe = build_venue(result.ir, _say, sanitize=sanitize)
        run = VenueRun(exe=exe, tape=tape, md=md, orders=orders, speed=speed, summary=summary,
                       latency_ns=latency_ns, latency_samples=samples, queue=queue.value,
                       maker_fee_bps=fees.maker_bps, taker_fee_bps=fees.taker_bps,
                       credentials_env=credentials_env, credentials_file=credentials_file,
                       keep_orders=keep_orders, start_delay_ms=start_delay_ms,
                       snapshot_interval_ms=snapshot_interval_ms, lockstep=lockstep)
        code, report = run.run(_say)
    except (VenueError, BacktestError, DataError) as exc:
        fail([exc.diagnostic()])
    if report is not None:
        _print_summary(report)
    if code != 0:
        raise typer.Exit(code)


def _print_summary(s: dict) -> None:
    """The summary's headline, one line per session."""
    print(f"venue ended ({s['ended']}): {s['rows_replayed']:,} of {s['rows']:,} rows, {s['packets']:,} packets; "
          f"{s['orders']} orders, {s['cancels']} cancels, {s['replaces']} replaces, {s['fills']} fills, "
          f"{s['rejects']} rejects", file=sys.stderr)
    for sess in s["sessions"]:
        pos = ", ".join(f"{k} {v:g}" for k, v in sess["position"].items())
        print(f"  session {sess['session']}: {sess['orders']} orders, {sess['fills']} fills, position {pos}, "
              f"PnL {sess['pnl']:,.6g} (fees {sess['fees']:,.6g})", file=sys.stderr)
