"""The engine's metric contract, shared by the prometheus, grafana and k8s targets.

Metrics the runtime exports on its Prometheus exporter (`/metrics` on the
metrics port). Labels added by the runtime: `pipeline` on every series,
`instrument` on position and PnL. Scrape labels (`job`, `instance`, and on
Kubernetes `namespace`, `pod`) come from the scrape configuration.

| metric | type | meaning |
| --- | --- | --- |
| `hftc_tick_to_order_latency_ns` | histogram | market-data receive timestamp to order send, ns (`_bucket{le}`, `_sum`, `_count`) |
| `hftc_stage_latency_ns` | histogram | time inside one pipeline stage, ns, with a `stage` label naming the schema's stage (the generated engine times the feed handler, the strategy and the gateway) |
| `hftc_messages_total` | counter | market-data messages decoded |
| `hftc_orders_total` | counter | orders the gateway encoded: the quotes the risk gate accepted (the requests that reach the venue are `hftc_orders_sent_total`) |
| `hftc_orders_rejected_total` | counter | orders rejected (by the risk gate or the venue) |
| `hftc_position` | gauge | signed position, lots, per instrument |
| `hftc_pnl` | gauge | realised plus unrealised PnL, quote currency, per instrument |
| `hftc_md_packets_total` | counter | market-data packets received (`--md`) |
| `hftc_md_packets_dropped_total` | counter | packets dropped, by `reason`: `truncated`, `malformed`, `oversize`, `decode`, `duplicate` |
| `hftc_md_gaps_total`, `hftc_md_packets_missed_total` | counter | packet sequence gaps, and the packets lost in them |
| `hftc_md_resyncs_total` | counter | instruments brought back by a snapshot after a gap |
| `hftc_md_instruments_waiting_snapshot` | gauge | instruments not quoted until their next snapshot |
| `hftc_orders_sent_total` | counter | requests the order managers sent to the venue, by `kind`: `new`, `cancel`, `replace` |
| `hftc_exec_reports_total` | counter | execution reports (and order rejects) received, by `kind`: `new`, `fill`, `canceled`, `replaced`, `rejected`, `cancel_rejected`, `replace_rejected` |
| `hftc_oms_unexpected_reports_total` | counter | reports for orders never sent or already closed |
| `hftc_oms_reconcile_closed_total` | counter | orders the venue's reconcile did not report, closed as canceled |
| `hftc_oms_live_orders`, `hftc_oms_orders_unknown` | gauge | orders resting or in flight, and those of them unknown while the venue is disconnected |
| `hftc_venue_disconnects_total`, `hftc_venue_reconnects_total`, `hftc_venue_connect_failures_total` | counter | order-entry connections lost, logons after the first, failed connection attempts (`--venue`) |
| `hftc_venue_logged_on` | gauge | 1 while the order-entry session is logged on (always 1 with the simulated venue) |
| `process_cpu_seconds_total` | counter | standard process collector: CPU time |
| `process_resident_memory_bytes` | gauge | standard process collector: resident memory |
| `process_virtual_memory_bytes` | gauge | standard process collector: virtual memory |
| `process_open_fds`, `process_max_fds` | gauge | standard process collector: file descriptors open, and the limit |
| `process_start_time_seconds` | gauge | standard process collector: start time, Unix seconds |

Recording rules (all over a `1m` rate window):

| rule | expression |
| --- | --- |
| `hftc:tick_to_order_latency_ns:p50` | `histogram_quantile(0.5, rate(hftc_tick_to_order_latency_ns_bucket[1m]))` |
| `hftc:tick_to_order_latency_ns:p99` | same with 0.99 |
| `hftc:tick_to_order_latency_ns:p999` | same with 0.999 |
| `hftc:messages:rate1m` | `rate(hftc_messages_total[1m])` |
| `hftc:orders:rate1m` | `rate(hftc_orders_total[1m])` |
| `hftc:orders_rejected:rate1m` | `rate(hftc_orders_rejected_total[1m])` |

Friendly names a schema's alert `expr` may use, and what each becomes. Names
are replaced as whole identifiers, outside label matchers (`{...}`) and range
selectors (`[...]`); everything else in the expression is PromQL as written,
so real metric names and recording rules may also be used directly.

| friendly name | PromQL |
| --- | --- |
| `latency_p50_ns` | `hftc:tick_to_order_latency_ns:p50` |
| `latency_p99_ns` | `hftc:tick_to_order_latency_ns:p99` |
| `latency_p999_ns` | `hftc:tick_to_order_latency_ns:p999` |
| `message_rate` | `hftc:messages:rate1m` |
| `order_rate` | `hftc:orders:rate1m` |
| `reject_rate` | `hftc:orders_rejected:rate1m` |
| `messages_total` | `hftc_messages_total` |
| `orders_total` | `hftc_orders_total` |
| `orders_rejected_total` | `hftc_orders_rejected_total` |
| `position` | `hftc_position` |
| `pnl` | `hftc_pnl` |
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RATE_WINDOW = "1m"

LATENCY = "hftc_tick_to_order_latency_ns"
STAGE_LATENCY = "hftc_stage_latency_ns"
MESSAGES = "hftc_messages_total"
ORDERS = "hftc_orders_total"
REJECTS = "hftc_orders_rejected_total"
POSITION = "hftc_position"
PNL = "hftc_pnl"
CPU = "process_cpu_seconds_total"
MEMORY = "process_resident_memory_bytes"

METRICS: tuple[tuple[str, str, str], ...] = (
    (LATENCY, "histogram", "Tick-to-order latency, ns."),
    (STAGE_LATENCY, "histogram", "Time inside a pipeline stage, ns."),
    (MESSAGES, "counter", "Market-data messages decoded."),
    (ORDERS, "counter", "Orders sent."),
    (REJECTS, "counter", "Orders rejected by the risk gate or the venue."),
    (POSITION, "gauge", "Signed position per instrument, lots."),
    (PNL, "gauge", "Realised plus unrealised PnL per instrument."),
    (CPU, "counter", "Process CPU time, seconds."),
    (MEMORY, "gauge", "Process resident memory, bytes."),
    ("process_virtual_memory_bytes", "gauge", "Process virtual memory, bytes."),
    ("process_open_fds", "gauge", "Open file descriptors."),
    ("process_max_fds", "gauge", "Limit of open file descriptors."),
    ("process_start_time_seconds", "gauge", "Process start time, Unix seconds."),
)

QUANTILES: tuple[tuple[str, str], ...] = (("p50", "0.5"), ("p99", "0.99"), ("p999", "0.999"))


def latency_rule(suffix: str) -> str:
    return f"hftc:tick_to_order_latency_ns:{suffix}"


RATE_RULES: tuple[tuple[str, str], ...] = (
    ("hftc:messages:rate1m", MESSAGES),
    ("hftc:orders:rate1m", ORDERS),
    ("hftc:orders_rejected:rate1m", REJECTS),
)


def recording_rules() -> list[dict]:
    rules = [{"record": latency_rule(s), "expr": f"histogram_quantile({q}, rate({LATENCY}_bucket[{RATE_WINDOW}]))"}
             for s, q in QUANTILES]
    rules += [{"record": r, "expr": f"rate({m}[{RATE_WINDOW}])"} for r, m in RATE_RULES]
    return rules


@dataclass(frozen=True)
class Friendly:
    promql: str
    kind: str  # latency | rate | counter | gauge
    source: str  # the raw metric the test data feeds


FRIENDLY: dict[str, Friendly] = {
    "latency_p50_ns": Friendly(latency_rule("p50"), "latency", LATENCY),
    "latency_p99_ns": Friendly(latency_rule("p99"), "latency", LATENCY),
    "latency_p999_ns": Friendly(latency_rule("p999"), "latency", LATENCY),
    "message_rate": Friendly("hftc:messages:rate1m", "rate", MESSAGES),
    "order_rate": Friendly("hftc:orders:rate1m", "rate", ORDERS),
    "reject_rate": Friendly("hftc:orders_rejected:rate1m", "rate", REJECTS),
    "messages_total": Friendly(MESSAGES, "counter", MESSAGES),
    "orders_total": Friendly(ORDERS, "counter", ORDERS),
    "orders_rejected_total": Friendly(REJECTS, "counter", REJECTS),
    "position": Friendly(POSITION, "gauge", POSITION),
    "pnl": Friendly(PNL, "gauge", PNL),
}

# PromQL words that are not metric names.
_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "inf", "nan", "atan2", "start", "end",
    # aggregation operators, which may be followed by `by (...)` instead of `(`
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
    "quantile", "limitk", "limit_ratio",
}
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\{[^}]*\}|\[[^\]]*\]|\d[\w.]*|[A-Za-z_:][A-Za-z0-9_:]*|\s+|.',
                    re.DOTALL)


@dataclass(frozen=True)
class Translated:
    promql: str
    unknown: tuple[str, ...]  # identifiers that are neither friendly names, hftc metrics nor PromQL words


def _is_metric_position(tokens: list[str], i: int) -> bool:
    """False for function names (followed by `(`) and label lists after by/without/on/ignoring."""
    j = i + 1
    while j < len(tokens) and tokens[j].isspace():
        j += 1
    if j < len(tokens) and tokens[j] == "(":
        return False
    depth, k = 0, i - 1
    while k >= 0:  # inside `by (...)`-style label lists?
        t = tokens[k]
        if t == ")":
            depth += 1
        elif t == "(":
            if depth == 0:
                m = k - 1
                while m >= 0 and tokens[m].isspace():
                    m -= 1
                return not (m >= 0 and tokens[m].lower() in ("by", "without", "on", "ignoring", "group_left",
                                                             "group_right"))
            depth -= 1
        k -= 1
    return True


def translate(expr: str) -> Translated:
    """Replace friendly names by their PromQL; report identifiers that name no known metric."""
    tokens = _TOKEN.findall(expr)
    out, unknown = [], []
    for i, tok in enumerate(tokens):
        if re.fullmatch(r"[A-Za-z_:][A-Za-z0-9_:]*", tok) and _is_metric_position(tokens, i):
            if tok in FRIENDLY:
                out.append(FRIENDLY[tok].promql)
                continue
            known = tok.startswith(("hftc_", "hftc:", "process_")) or tok.lower() in _KEYWORDS or tok == "ALERTS"
            if not known and tok not in unknown:
                unknown.append(tok)
        out.append(tok)
    return Translated("".join(out), tuple(unknown))


def prom_duration(seconds: float) -> str:
    """Seconds as a Prometheus duration: 5 → `5s`, 90 → `1m30s`, 0.5 → `500ms`."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    parts = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(parts)


def alert_rule(name: str, promql: str, for_seconds: float, severity: str, labels: tuple, annotations: tuple) -> dict:
    rule: dict = {"alert": name, "expr": promql}
    if for_seconds > 0:
        rule["for"] = prom_duration(for_seconds)
    rule["labels"] = {"severity": severity, **{k: v for k, v in labels if k != "severity"}}
    if annotations:
        rule["annotations"] = dict(annotations)
    return rule
