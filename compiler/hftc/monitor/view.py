"""`hftc monitor`: a live terminal view (rich), plain timestamped lines when stdout is not a terminal
(a log file, a pipe, systemd), or JSON."""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from collections.abc import Sequence

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from hftc.diagnostics.color import rich_options
from hftc.monitor.alerts import AlertRule, Unsupported
from hftc.monitor.realtime import RealTimeMonitor
from hftc.monitor.report import fmt_ns, fmt_num
from hftc.monitor.sources import SourceError
from hftc.monitor.stats import Snapshot

_BARS = "▁▂▃▄▅▆▇█"
_STATE_STYLE = {"inactive": "green", "pending": "yellow", "firing": "bold red", "resolved": "cyan"}


def sparkline(values: Sequence[float | None], width: int = 60) -> str:
    """Unicode block sparkline of the last `width` values (gaps as spaces)."""
    tail = list(values)[-width:]
    known = [v for v in tail if v is not None and not math.isnan(v)]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = hi - lo
    out = []
    for v in tail:
        if v is None or math.isnan(v):
            out.append(" ")
        else:
            out.append(_BARS[0 if span == 0 else min(len(_BARS) - 1, int((v - lo) / span * len(_BARS)))])
    return "".join(out)


def render(monitor: RealTimeMonitor, unsupported: Sequence[Unsupported], title: str) -> Group:
    snap = monitor.latest
    parts: list = []
    header = Text(f"{title}  ·  {monitor.source}  ·  every {monitor.update_interval * 1000:.0f} ms", style="bold")
    parts.append(header)
    if monitor.last_error:
        parts.append(Text(f"source error: {monitor.last_error}", style="bold red"))
    if snap is None:
        parts.append(Text("waiting for the first scrape…"))
        return Group(*parts)
    lat = Table(title=f"tick-to-order latency (window {snap.latency_window})", expand=False)
    for col in ("p50", "p90", "p99", "p99.9", "mean", "samples"):
        lat.add_column(col, justify="right")
    lat.add_row(*(fmt_ns(snap.latency_ns.get(k)) for k in ("p50", "p90", "p99", "p999", "mean")),
                fmt_num(snap.latency_count, 0))
    tp = Table(title="throughput", expand=False)
    for col in ("messages/s", "orders/s", "rejects/s", "reject ratio", "orders total"):
        tp.add_column(col, justify="right")
    ratio = snap.reject_ratio
    tp.add_row(fmt_num(snap.rates.get("message_rate")), fmt_num(snap.rates.get("order_rate")),
               fmt_num(snap.rates.get("reject_rate"), 2), "–" if ratio is None else f"{ratio * 100:.2f} %",
               fmt_num(snap.totals.get("orders_total"), 0))
    parts += [lat, tp]
    history = [s.latency_ns.get("p99") for s in monitor.snapshots]
    parts.append(Panel(Text(sparkline(history) or "–", style="red"), title="p99", expand=False))
    if snap.positions or snap.pnl:
        book = Table(title="positions", expand=False)
        book.add_column("instrument")
        book.add_column("position", justify="right")
        book.add_column("pnl", justify="right")
        for inst in sorted(set(snap.positions) | set(snap.pnl)):
            book.add_row(inst, fmt_num(snap.positions.get(inst), 0), fmt_num(snap.pnl.get(inst), 2))
        parts.append(book)
    alerts = Table(title="alerts", expand=False)
    for col in ("alert", "condition", "for", "value", "state"):
        alerts.add_column(col)
    for st in monitor.alert_manager.statuses():
        value = "–" if st.value is None else fmt_num(st.value, 1)
        alerts.add_row(st.rule.name, st.rule.expr, f"{st.rule.duration_seconds:g}s", value,
                       Text(st.state.value, style=_STATE_STYLE[st.state.value]))
    for u in unsupported:
        alerts.add_row(u.name, u.expr, "", "", Text("unsupported", style="dim"))
    parts.append(alerts)
    return Group(*parts)


async def once(monitor: RealTimeMonitor, unsupported: Sequence[Unsupported]) -> Snapshot:
    """Two scrapes `update_interval` apart (capped at 1 s) so rates are known; latency
    percentiles are cumulative since the engine started."""
    await monitor.poll(cumulative_latency=True)
    await asyncio.sleep(min(monitor.update_interval, 1.0))
    snap = await monitor.poll(cumulative_latency=True)
    snap.unsupported_alerts = [u.to_json() for u in unsupported]
    return snap


def plain_line(snap: Snapshot | None, title: str, error: str | None, alert_states: Sequence[tuple[str, str]],
               now: float | None = None) -> str:
    """One refresh as one line for logs: UTC timestamp, package, latency, rates, alert states."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now if now is not None else time.time()))
    millis = int(((now if now is not None else time.time()) % 1) * 1000)
    head = f"{stamp}.{millis:03d}Z {title}"
    if error is not None:
        return f"{head} error: {error}"
    if snap is None:
        return f"{head} waiting for the first scrape"
    lat = " ".join(f"{name}={fmt_ns(snap.latency_ns.get(key))}".replace(" ", "")
                   for name, key in (("p50", "p50"), ("p99", "p99"), ("p99.9", "p999")))
    ratio = snap.reject_ratio
    rates = (f"msgs/s={fmt_num(snap.rates.get('message_rate'))} orders/s={fmt_num(snap.rates.get('order_rate'))} "
             f"rejects/s={fmt_num(snap.rates.get('reject_rate'), 2)} "
             f"reject_ratio={'-' if ratio is None else f'{ratio * 100:.2f}%'}")
    alerts = " ".join(f"{name}={state}" for name, state in alert_states) or "none"
    return f"{head} {lat} samples={fmt_num(snap.latency_count, 0)} {rates} alerts: {alerts}".replace("–", "-")


def run(source: str, rules: Sequence[AlertRule], unsupported: Sequence[Unsupported], interval_s: float,
        title: str, once_only: bool, as_json: bool, count: int | None = None) -> int:
    """`count` bounds the refreshes of a live run (None: until interrupted)."""
    monitor = RealTimeMonitor(update_interval=interval_s, source=source)
    for rule in rules:
        monitor.alert_manager.add_alert_rule(rule)
    if once_only:
        try:
            snap = asyncio.run(once(monitor, unsupported))
        except SourceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if as_json:
            print(json.dumps(snap.to_json(), indent=2, allow_nan=False))
        else:
            Console(**rich_options()).print(render(monitor, unsupported, title))
        return 0
    if as_json:
        return _stream_json(monitor, unsupported, count)
    if not sys.stdout.isatty():
        return _stream_plain(monitor, title, count)
    console = Console(**rich_options())
    with Live(render(monitor, unsupported, title), console=console, auto_refresh=False, transient=False) as live:

        async def loop() -> None:
            task = asyncio.create_task(monitor.start_monitoring())
            try:
                frames = 0
                while not task.done() and (count is None or frames < count):
                    live.update(render(monitor, unsupported, title), refresh=True)
                    frames += 1
                    await asyncio.sleep(monitor.update_interval)
            finally:
                monitor.stop()
                await task

        try:
            asyncio.run(loop())
        except KeyboardInterrupt:
            pass
    return 0


def _every_interval(monitor: RealTimeMonitor, count: int | None, step) -> int:
    """Call `step()` (async) every `update_interval`, `count` times or until interrupted."""

    async def loop() -> None:
        done = 0
        while count is None or done < count:
            started = time.monotonic()
            await step()
            done += 1
            if count is not None and done >= count:
                break
            await asyncio.sleep(max(0.0, monitor.update_interval - (time.monotonic() - started)))

    try:
        asyncio.run(loop())
    except KeyboardInterrupt:
        pass
    return 0


def _stream_plain(monitor: RealTimeMonitor, title: str, count: int | None) -> int:
    """Stdout is not a terminal: one plain line per refresh, no ANSI and no redrawing."""

    async def step() -> None:
        error = None
        try:
            snap = await monitor.poll()
        except SourceError as exc:
            snap, error = None, str(exc)
        states = [(st.rule.name, st.state.value) for st in monitor.alert_manager.statuses()]
        print(plain_line(snap, title, error, states), flush=True)

    return _every_interval(monitor, count, step)


def _stream_json(monitor: RealTimeMonitor, unsupported: Sequence[Unsupported], count: int | None = None) -> int:
    """Without --once, --json prints one JSON line per refresh until interrupted (or `count` lines)."""
    extra = [u.to_json() for u in unsupported]

    async def step() -> None:
        try:
            snap = await monitor.poll()
            snap.unsupported_alerts = extra
            print(json.dumps(snap.to_json(), allow_nan=False), flush=True)
        except SourceError as exc:
            print(json.dumps({"error": str(exc)}), flush=True)

    return _every_interval(monitor, count, step)

