"""Performance reports: Markdown and HTML with latency percentiles, throughput, error
rates, alert states and a p99 plot (PNG through matplotlib when it is installed, else an
SVG sparkline drawn here)."""

from __future__ import annotations

import base64
import html
import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hftc.monitor.alerts import AlertManager
from hftc.monitor.stats import QUANTILES, Raw, Snapshot, histogram_quantile, window_buckets
from hftc.transaction import replace_entries


@dataclass
class PerformanceReport:
    markdown: str
    html: str
    plot_format: str | None  # "png", "svg" or None (fewer than two points)
    summary: dict
    files: list[Path] = field(default_factory=list)


def fmt_ns(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "–"
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.2f} µs"
    return f"{v:.0f} ns"


def fmt_num(v: float | None, digits: int = 1) -> str:
    if v is None or math.isnan(v):
        return "–"
    return f"{v:,.{digits}f}"


def sparkline_svg(values: Sequence[float], width: int = 480, height: int = 80, label: str = "p99") -> str:
    """A self-contained SVG polyline of `values` (None/NaN points skipped), min/max annotated."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None and not math.isnan(v)]
    if not pts:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
                f'<text x="4" y="{height // 2}" font-size="12">no data</text></svg>')
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = hi - lo or 1.0
    n = max(len(values) - 1, 1)
    pad = 14
    coords = " ".join(f"{4 + (width - 8) * i / n:.1f},{pad + (height - 2 * pad) * (1 - (v - lo) / span):.1f}"
                      for i, v in pts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(label)} over time">'
            f'<rect width="{width}" height="{height}" fill="#fff" stroke="#ccc"/>'
            f'<polyline fill="none" stroke="#c0392b" stroke-width="1.5" points="{coords}"/>'
            f'<text x="4" y="11" font-size="10" fill="#333">{html.escape(label)} max {html.escape(fmt_ns(hi))}</text>'
            f'<text x="4" y="{height - 3}" font-size="10" fill="#333">min {html.escape(fmt_ns(lo))}</text></svg>')


def _png(times: Sequence[float], values: Sequence[float | None]) -> bytes | None:
    try:
        import matplotlib  # type: ignore[import-not-found]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found]
    except ImportError:
        return None
    t0 = times[0]
    xs = [t - t0 for t, v in zip(times, values) if v is not None]
    ys = [v for v in values if v is not None]
    fig, ax = plt.subplots(figsize=(7, 2.5), dpi=100)
    ax.plot(xs, ys, color="#c0392b", linewidth=1.2)
    ax.set_xlabel("seconds")
    ax.set_ylabel("p99, ns")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def summarise(raws: Sequence[Raw], snapshots: Sequence[Snapshot]) -> dict:
    if not raws:
        return {"scrapes": 0}
    first, last = raws[0], raws[-1]
    base = first if len(raws) >= 2 else None
    buckets = window_buckets(last, base)
    dt = last.timestamp - first.timestamp
    orders = last.orders - first.orders if base else last.orders
    rejects = last.rejects - first.rejects if base else last.rejects
    messages = last.messages - first.messages if base else last.messages
    order_rates = [v for v in (s.rates.get("order_rate") for s in snapshots) if v is not None]
    p99s = [v for v in (s.latency_ns.get("p99") for s in snapshots) if v is not None]
    return {
        "scrapes": len(raws),
        "duration_s": dt,
        "latency_ns": {k: histogram_quantile(q, buckets) for k, q in QUANTILES},
        "latency_count": buckets[-1][1] if buckets else 0.0,
        "messages_per_s": messages / dt if base and dt > 0 else None,
        "orders_per_s": orders / dt if base and dt > 0 else None,
        "peak_orders_per_s": max(order_rates) if order_rates else None,
        "rejects_per_s": rejects / dt if base and dt > 0 else None,
        "reject_ratio": rejects / orders if orders > 0 else None,
        "worst_window_p99_ns": max(p99s) if p99s else None,
        "pipelines": list(last.pipelines),
    }


def build_report(raws: Sequence[Raw], snapshots: Sequence[Snapshot], alerts: AlertManager, source: str,
                 output_dir: Path | None = None, title: str = "Performance report") -> PerformanceReport:
    summary = summarise(raws, snapshots)
    times = [s.timestamp for s in snapshots]
    p99 = [s.latency_ns.get("p99") for s in snapshots]
    plot_format: str | None = None
    png = _png(times, p99) if sum(v is not None for v in p99) >= 2 else None
    svg = sparkline_svg([math.nan if v is None else v for v in p99]) if png is None and len(p99) >= 2 else None
    plot_format = "png" if png else "svg" if svg else None

    files: list[Path] = []
    plot_md = "_not enough samples for a plot_"
    plot_html = "<p><em>not enough samples for a plot</em></p>"
    if png:
        data_uri = "data:image/png;base64," + base64.b64encode(png).decode()
        plot_html = f'<img alt="p99 over time" src="{data_uri}">'
        plot_md = f"![p99 over time]({data_uri})"
    elif svg:
        plot_html = svg
        plot_md = svg
    contents: dict[str, bytes] = {}
    if output_dir is not None:
        if png:
            contents["p99.png"] = png
            plot_md = "![p99 over time](p99.png)"
        elif svg:
            contents["p99.svg"] = svg.encode("utf-8")
            plot_md = "![p99 over time](p99.svg)"

    lat = summary.get("latency_ns", {})
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(raws[-1].timestamp)) if raws else "–"
    rows_lat = [(name, fmt_ns(lat.get(key))) for key, name in
                (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"))]
    rows_lat.append(("worst window p99", fmt_ns(summary.get("worst_window_p99_ns"))))
    ratio = summary.get("reject_ratio")
    rows_tp = [
        ("messages / s", fmt_num(summary.get("messages_per_s"))),
        ("orders / s", fmt_num(summary.get("orders_per_s"))),
        ("peak orders / s", fmt_num(summary.get("peak_orders_per_s"))),
        ("rejects / s", fmt_num(summary.get("rejects_per_s"), 2)),
        ("reject ratio", "–" if ratio is None else f"{ratio * 100:.2f} %"),
    ]
    alert_rows = [(s.rule.name, s.rule.expr, f"{s.rule.duration_seconds:g}s", s.rule.severity, s.state.value)
                  for s in alerts.statuses()]
    history = [(time.strftime("%H:%M:%S", time.gmtime(e["since"])) if e.get("since") else "–", e["name"],
                f'{e["previous"]} → {e["state"]}', fmt_num(e.get("value"), 1)) for e in alerts.history]

    def md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)

    def html_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    meta = (f"Source `{source}`, pipelines {', '.join(summary.get('pipelines', [])) or '–'}, "
            f"{summary.get('scrapes', 0)} scrapes over {fmt_num(summary.get('duration_s'))} s, last at {stamp}; "
            f"{fmt_num(summary.get('latency_count'), 0)} latencies.")
    sections: list[tuple[str, Sequence[str], Sequence[Sequence[str]]]] = [
        ("Tick-to-order latency", ("percentile", "value"), rows_lat),
        ("Throughput and errors", ("measure", "value"), rows_tp),
        ("Alerts", ("alert", "condition", "for", "severity", "state"), alert_rows),
        ("Alert transitions", ("at", "alert", "change", "value"), history),
    ]
    md = [f"# {title}", "", meta, ""]
    for name, head, rows in sections:
        md += [f"## {name}", "", md_table(head, rows) if rows else "_none_", ""]
    md += ["## p99 over time", "", plot_md, ""]
    body = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(meta)}</p>"]
    for name, head, rows in sections:
        body += [f"<h2>{html.escape(name)}</h2>", html_table(head, rows) if rows else "<p><em>none</em></p>"]
    body += ["<h2>p99 over time</h2>", plot_html]
    page = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.escape(title) + "</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
    markdown = "\n".join(md)
    if output_dir is not None:
        contents["report.md"] = markdown.encode("utf-8")
        contents["report.html"] = page.encode("utf-8")
        replace_entries(output_dir, contents)  # the plot and both pages together, never a mix of two runs
        files += [output_dir / name for name in contents]
    return PerformanceReport(markdown, page, plot_format, summary, files)
