"""The run's performance report, in Markdown and HTML, from the phases' manifests."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from hftc.ai.orchestrator.manifest import PHASES, RunFolder
from hftc.ai.orchestrator.workflow import Settings
from hftc.fileio import write_atomically


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "-" if value is None else str(value)


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return out + ["| " + " | ".join(_num(c).replace("|", "\\|") for c in row) + " |" for row in rows]


def report_markdown(folder: RunFolder, request: str, settings: Settings) -> str:
    m = {p: folder.manifest(p) or {} for p in PHASES}
    r = {p: m[p].get("result") or {} for p in PHASES}
    lines = ["# hftc auto: performance report", "", "Request:", "", "> " + request.strip().replace("\n", "\n> "), ""]
    lines += ["## Phases", ""] + _table(["phase", "status", "seconds", "note"], [
        [p, m[p].get("status", "not run"), m[p].get("seconds"), r[p].get("reason", "") if m[p].get("status") ==
         "skipped" else ""] for p in PHASES if p != "report"]) + [""]
    gen = r["generate"]
    if gen:
        plan = gen.get("plan", {})
        lines += ["## Schema", "", f"Written by the {gen.get('how')}: strategy `{plan.get('strategy')}` on "
                  f"{', '.join(plan.get('instruments', []))}, venue `{plan.get('venue')}`, p99 target "
                  f"{plan.get('latency_target_ns')} ns.", ""]
        lines += [f"- not mapped: {u}" for u in gen.get("unmapped", [])] + [""]
    opt = r["optimize"]
    if opt:
        lines += ["## Backtest and optimisation", "", f"Strategy `{opt.get('strategy')}` on `{opt.get('tape')}` "
                  f"(instruments {opt.get('instrument_map_how')}: {opt.get('instrument_map')}).", ""]
        base = opt.get("baseline") or {}
        best = opt.get("best_metrics") or {}
        keys = list(base)
        lines += _table(["metric", "defaults", "best trial"], [[k, base.get(k), best.get(k)] for k in keys]) + [""]
        lines += [f"Trials: {opt.get('trials')}; best parameters: `{opt.get('best_params')}`", ""]
        lines += [f"- {n}" for n in opt.get("notes", [])] + [""]
    dep = r["deploy"]
    if dep:
        lines += ["## Deployment", "", f"Files for {', '.join(dep.get('deployments', []))} in `{dep.get('files')}` "
                  f"(Kubernetes, Terraform, Prometheus rules, Grafana dashboard). "
                  + ("Applied to the cluster." if dep.get("applied") else
                     "Not applied: applying needs explicit approval (`auto_deploy: true` with --approve-deploy, or "
                     "yes at the interactive question)."), ""]
        if settings.grafana_url:
            lines += [f"Import the dashboard under `{dep.get('files')}/grafana` at {settings.grafana_url}.", ""]
        if settings.prometheus_url:
            lines += [f"Load the rules under `{dep.get('files')}/prometheus` into {settings.prometheus_url}.", ""]
    mon = r["monitor"]
    if mon:
        lines += ["## Monitoring (replay)", "", f"{mon.get('samples')} samples every {mon.get('interval_ms')} ms over "
                  f"{mon.get('replayed_seconds')} s of data; final PnL {_num(mon.get('final_pnl'))}; "
                  f"{mon.get('events')} alert state change(s).", ""]
        lines += _table(["alert", "expr", "state", "last value"], [
            [a["name"], a["expr"], a["state"], a["value"]] for a in mon.get("alerts", [])]) + [""]
        lines += [f"- `{n['name']}` not evaluated: {n.get('reason')}" for n in mon.get("not_evaluated", [])] + [""]
        eng = mon.get("engine") or {}
        if eng.get("ran"):
            lat = eng.get("latency_ns") or {}
            lines += ["## Engine under the alert rules", "", f"`{eng.get('binary')}` ran {eng.get('seconds')} s on its "
                      f"synthetic market; {eng.get('scrapes')} scrapes; tick-to-order p50 {_num(lat.get('p50'))} ns, "
                      f"p99 {_num(lat.get('p99'))} ns, p99.9 {_num(lat.get('p999'))} ns "
                      "(see `6-monitor/engine/`).", ""]
            lines += _table(["alert", "expr", "state", "last value"], [
                [a["name"], a["expr"], a["state"], a["value"]] for a in eng.get("alerts", [])]) + [""]
        elif eng:
            lines += [f"Engine: {eng.get('reason')}.", ""]
    learn = r["learn"]
    if learn:
        lines += ["## Learning path", "", "Units: " + ", ".join(f"`{u}`" for u in learn.get("units", [])),
                  "(see `1-learn/curriculum.md`).", ""]
    if settings.notes:
        lines += ["## Settings notes", ""] + [f"- {n}" for n in settings.notes] + [""]
    return "\n".join(lines)


def _html(markdown: str) -> str:
    """A plain HTML rendering: headings, tables and paragraphs (no Markdown library needed)."""
    body: list[str] = []
    in_table = False
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        body.append("</table>")
    style = "body{font-family:sans-serif;max-width:60em;margin:2em auto}td{border:1px solid #ccc;padding:2px 6px}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>hftc auto report</title><style>{style}</style>"
            "</head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_report(folder: RunFolder, request: str, settings: Settings, out: Path) -> list[Path]:
    text = report_markdown(folder, request, settings)
    md, page = out / "report.md", out / "report.html"
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(str(md), text.encode("utf-8"))
    write_atomically(str(page), _html(text).encode("utf-8"))
    return [md, page]
