"""`--target grafana`: one dashboard (Grafana dashboard JSON model, schemaVersion 39).

Panels read the metrics and recording rules documented in
`hftc.backends.prometheus.metrics`: a heatmap of the tick-to-order latency
histogram, the p50/p99/p99.9 recording rules (with the pipeline's p99 target as
a threshold line), message and order throughput, rejects, PnL, position, and
the engine process's CPU and memory. A `datasource` variable selects the
Prometheus data source and an `instance` variable the engines shown, so the
file imports as is (dashboard provisioning or the import UI).
"""

from __future__ import annotations

import hashlib
import json

from hftc.backends.prometheus import metrics as m
from hftc.ir.backend import BackendOptions, BackendResult, GeneratedFile
from hftc.ir.model import Schema

SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SEL = '{instance=~"$instance"}'


def _target(ref: str, expr: str, legend: str, fmt: str = "time_series") -> dict:
    t = {"datasource": DATASOURCE, "refId": ref, "expr": expr, "legendFormat": legend, "range": True}
    if fmt != "time_series":
        t["format"] = fmt
    return t


def _timeseries(pid: int, title: str, grid: tuple[int, int, int, int], unit: str, targets: list[dict],
                description: str, thresholds: list[dict] | None = None) -> dict:
    steps = [{"color": "green", "value": None}] + (thresholds or [])
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 0, "showPoints": "never", "spanNulls": False}
    if thresholds:
        custom["thresholdsStyle"] = {"mode": "line"}
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"h": grid[0], "w": grid[1], "x": grid[2], "y": grid[3]},
        "fieldConfig": {
            "defaults": {"unit": unit, "custom": custom,
                         "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                               "calcs": ["lastNotNull", "max"]},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": targets,
    }


def dashboard(ir: Schema) -> dict:
    p99_target = next((p.latency_p99_ns for p in ir.pipelines if p.latency_p99_ns), None)
    interval_ms = ir.monitoring.interval_ms if ir.monitoring else 1000
    refresh_s = max(5, -(-interval_ms // 1000))  # Grafana's default minimum refresh is 5s
    lat = m.LATENCY
    panels = [
        {
            "id": 1,
            "type": "heatmap",
            "title": "Tick-to-order latency distribution",
            "description": f"Histogram `{lat}`: share of orders per latency bucket.",
            "datasource": DATASOURCE,
            "gridPos": {"h": 9, "w": 12, "x": 0, "y": 0},
            "fieldConfig": {"defaults": {"unit": "ns"}, "overrides": []},
            "options": {"calculate": False, "yAxis": {"unit": "ns", "axisPlacement": "left"},
                        "cellGap": 1, "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
                        "rowsFrame": {"layout": "auto"}, "tooltip": {"mode": "single", "yHistogram": True},
                        "legend": {"show": True}},
            "targets": [_target("A", f"sum by (le) (increase({lat}_bucket{SEL}[$__rate_interval]))", "{{le}}",
                                "heatmap")],
        },
        _timeseries(2, "Tick-to-order latency percentiles", (9, 12, 12, 0), "ns", [
            _target("A", f"{m.latency_rule('p50')}{SEL}", "p50 {{instance}}"),
            _target("B", f"{m.latency_rule('p99')}{SEL}", "p99 {{instance}}"),
            _target("C", f"{m.latency_rule('p999')}{SEL}", "p99.9 {{instance}}"),
        ], "Recording rules over a 1m window" + (f"; the red line is the pipeline's p99 target ({p99_target} ns)."
                                                 if p99_target else "."),
            [{"color": "red", "value": p99_target}] if p99_target else None),
        _timeseries(3, "Market-data throughput", (8, 8, 0, 9), "mps", [
            _target("A", f"hftc:messages:rate1m{SEL}", "{{instance}}"),
        ], f"Messages decoded per second (`{m.MESSAGES}`)."),
        _timeseries(4, "Orders", (8, 8, 8, 9), "ops", [
            _target("A", f"hftc:orders:rate1m{SEL}", "sent {{instance}}"),
        ], f"Orders sent per second (`{m.ORDERS}`)."),
        _timeseries(5, "Rejects", (8, 8, 16, 9), "ops", [
            _target("A", f"hftc:orders_rejected:rate1m{SEL}", "rejected {{instance}}"),
            _target("B", f"hftc:orders_rejected:rate1m{SEL} / hftc:orders:rate1m{SEL}", "reject ratio {{instance}}"),
        ], f"Orders rejected by the risk gate or the venue (`{m.REJECTS}`), per second and as a share of orders."),
        _timeseries(6, "PnL", (8, 12, 0, 17), "none", [
            _target("A", f"{m.PNL}{SEL}", "{{instrument}} {{instance}}"),
        ], f"Realised plus unrealised PnL per instrument (`{m.PNL}`)."),
        _timeseries(7, "Position", (8, 12, 12, 17), "none", [
            _target("A", f"{m.POSITION}{SEL}", "{{instrument}} {{instance}}"),
        ], f"Signed position per instrument, lots (`{m.POSITION}`)."),
        _timeseries(8, "Engine CPU", (8, 12, 0, 25), "short", [
            _target("A", f"rate({m.CPU}{SEL}[$__rate_interval])", "cores {{instance}}"),
        ], "CPU time of the engine process, cores. Busy-polling threads show as one full core each."),
        _timeseries(9, "Engine memory", (8, 12, 12, 25), "bytes", [
            _target("A", f"{m.MEMORY}{SEL}", "resident {{instance}}"),
        ], "Resident memory of the engine process (huge pages are mapped once at start-up)."),
        _timeseries(10, "Stage latency p99", (8, 24, 0, 33), "ns", [
            _target("A", f"histogram_quantile(0.99, sum by (stage, le) "
                         f"(rate({m.STAGE_LATENCY}_bucket{SEL}[$__rate_interval])))", "{{stage}}"),
        ], f"Time inside each pipeline stage (`{m.STAGE_LATENCY}`), p99: which stage a tick-to-order "
           "regression comes from."),
    ]
    uid = "hftc-" + hashlib.sha256(ir.package.encode()).hexdigest()[:12]
    return {
        "uid": uid,
        "title": f"hftc {ir.package}",
        "description": ir.description or f"Engine dashboard for {ir.package}",
        "tags": ["hftc", ir.package],
        "timezone": "utc",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": f"{refresh_s}s",
        "time": {"from": "now-15m", "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "links": [],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
        }]},
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": []},
            {"name": "instance", "label": "Engine", "type": "query", "datasource": DATASOURCE,
             "query": {"query": f"label_values({m.MESSAGES}, instance)", "refId": "instance"},
             "definition": f"label_values({m.MESSAGES}, instance)", "includeAll": True, "multi": True,
             "allValue": ".+", "current": {}, "hide": 0, "refresh": 2, "regex": "", "sort": 1, "options": []},
        ]},
        "panels": panels,
    }


class GrafanaBackend:
    name = "grafana"
    description = "Grafana dashboard: latency heatmap and percentiles, throughput, rejects, PnL, position, CPU, memory"
    ir_versions = (4,)

    def generate(self, ir: Schema, options: BackendOptions) -> BackendResult:
        text = json.dumps(dashboard(ir), indent=2, ensure_ascii=False) + "\n"
        return BackendResult(files=(GeneratedFile("dashboard.json", text),))


BACKEND = GrafanaBackend()
