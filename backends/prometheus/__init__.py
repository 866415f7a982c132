"""`--target prometheus`: recording and alerting rules plus their promtool unit tests.

Files: `rules.yml` (for `rule_files:`; check with `promtool check rules`) and
`rules_test.yml` (`promtool test rules rules_test.yml`). The metric names the
engine exports, the recording rules and the friendly names alert expressions
may use are documented in `hftc.backends.prometheus.metrics`.

Each alert whose expression has a recognised form (`<name> <op> <number>` or
`rate|increase(<counter>[<window>]) <op> <number>`) gets a unit test that feeds
synthetic series making the condition true, checks the alert is pending (the
`ALERTS` series, `alertstate="pending"`) before its `for` elapses, and firing
with its labels and annotations after. Other forms get a warning (HFT0631)
and no test.
"""

from __future__ import annotations

import math
import re

from hftc.backends.prometheus import metrics as m
from hftc.backends.prometheus.yamlout import dump_yaml
from hftc.diagnostics.model import Diagnostic, warning
from hftc.ir.backend import BackendOptions, BackendResult, GeneratedFile
from hftc.ir.model import Alert, Schema

SERIES_LABELS = {"instance": "engine:9100", "job": "hftc-engine", "pipeline": "main"}
_CONDITION = re.compile(r"^\s*(?P<lhs>.+?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<num>-?\d+(?:\.\d+)?)\s*$", re.DOTALL)
_RATE = re.compile(r"^(?P<fn>rate|increase|irate)\(\s*(?P<metric>[A-Za-z_:][A-Za-z0-9_:]*)\s*\[\s*(?P<win>\d+[smh])\s*\]\s*\)$")


def group_name(ir: Schema, kind: str) -> str:
    return f"hftc.{ir.package}.{kind}"


def rule_groups(ir: Schema) -> tuple[list[dict], list[Diagnostic]]:
    """The recording group and (when the schema has alerts) the alerting group, plus diagnostics."""
    diags: list[Diagnostic] = []
    groups = [{"name": group_name(ir, "recording"), "rules": m.recording_rules()}]
    alerts = []
    for a in ir.monitoring.alerts if ir.monitoring else ():
        t = m.translate(a.expr)
        for name in t.unknown:
            diags.append(warning("HFT0630", f"alert `{a.name}` uses `{name}`, which is not a metric the engine exports",
                                 a.span, label="unknown metric",
                                 help="use a friendly name (" + ", ".join(sorted(m.FRIENDLY)) + ") or an hftc_ metric"))
        alerts.append(m.alert_rule(a.name, t.promql, a.for_seconds, a.severity, a.labels, a.annotations))
    if alerts:
        groups.append({"name": group_name(ir, "alerts"), "rules": alerts})
    return groups, diags


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value == int(value) else value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x) == int(x) else repr(float(x))


def _direction(op: str) -> str:
    """Which way the test data must sit from the threshold to make `<lhs> <op> <threshold>` true."""
    return {">": ">", ">=": ">", "<": "<", "<=": "<", "==": "=", "!=": ">"}[op]


def _series(a: Alert, samples: int) -> tuple[list[dict], float] | None:
    """Input series that make the alert's condition true, and when it first holds (seconds)."""
    cond = _CONDITION.match(a.expr)
    if not cond:
        return None
    lhs, op, threshold = cond["lhs"].strip(), cond["op"], _number(cond["num"])
    direction = _direction(op)
    labels = ",".join(f'{k}="{v}"' for k, v in SERIES_LABELS.items())
    rate = _RATE.match(lhs)
    if rate:
        metric = m.FRIENDLY[rate["metric"]].source if rate["metric"] in m.FRIENDLY else rate["metric"]
        if metric not in (m.MESSAGES, m.ORDERS, m.REJECTS):
            return None
        win = {"s": 1, "m": 60, "h": 3600}[rate["win"][-1]] * int(rate["win"][:-1])
        return _counter_series(metric, labels, threshold, direction, win, samples)
    if lhs not in m.FRIENDLY and lhs not in {m.latency_rule(s) for s, _ in m.QUANTILES} | {m.POSITION, m.PNL} \
            | {r for r, _ in m.RATE_RULES}:
        return None
    f = m.FRIENDLY.get(lhs)
    kind = f.kind if f else ("latency" if lhs.startswith("hftc:tick") else "rate" if lhs.endswith(":rate1m")
                             else "gauge")
    source = f.source if f else (m.LATENCY if kind == "latency" else
                                 dict(m.RATE_RULES).get(lhs, lhs))
    if kind == "latency":
        if threshold <= 0 or direction == "=":
            return None
        # All observations land in one bucket; histogram_quantile interpolates inside it.
        low, high = _fmt(threshold / 2), _fmt(threshold * 2)
        hot = low if direction == "<" else high
        out = []
        for le in (low, high, "+Inf"):
            rising = le == "+Inf" or le == hot or (direction == "<" and le == high)
            out.append({"series": f'{source}_bucket{{{labels},le="{le}"}}',
                        "values": f"0+100x{samples}" if rising else f"0x{samples}"})
        return out, 1.0
    if kind == "rate":
        return _counter_series(source, labels, threshold, direction, 60, samples)
    if kind == "counter":
        if direction != ">":
            return None
        value = abs(threshold) + 1
        return [{"series": f"{source}{{{labels}}}", "values": f"{_fmt(value)}+0x{samples}"}], 0.0
    value = {">": threshold + 1, "<": threshold - 1, "=": threshold}[direction]
    return [{"series": f"{source}{{{labels}}}", "values": f"{_fmt(value)}+0x{samples}"}], 0.0


def _counter_series(metric: str, labels: str, threshold: float, direction: str, window_s: int,
                    samples: int) -> tuple[list[dict], float] | None:
    """A counter whose rate over `window_s` crosses the threshold at a known instant.

    `rate()` divides by the whole window, so a counter rising steadily from zero ramps up
    over the first window. To make the condition turn true sharply, the counter stays at
    zero for two samples, then jumps by twice the threshold times the window and keeps
    rising faster than the threshold, so the rate (and increase) exceed it from then on.
    """
    if direction == "=" or (direction == "<" and threshold <= 0):
        return None
    if direction == "<":
        return [{"series": f"{metric}{{{labels}}}", "values": f"0+0x{samples}"}], 1.0
    step = abs(threshold) + 1
    jump = 2 * step * max(window_s, 1)
    values = f"0x1 {_fmt(jump)}+{_fmt(step)}x{samples}"
    return [{"series": f"{metric}{{{labels}}}", "values": values}], 2.0


def _alert_labels(a: Alert) -> dict:
    labels = {k: v for k, v in SERIES_LABELS.items()}
    labels.update({k: v for k, v in a.labels})
    labels["severity"] = a.severity
    return labels


def unit_tests(ir: Schema, rules_file: str) -> tuple[dict | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    tests = []
    for a in ir.monitoring.alerts if ir.monitoring else ():
        for_s = math.ceil(a.for_seconds)
        samples = for_s + 10
        templated_labels = any("{{" in v for _, v in a.labels)
        made = None if templated_labels else _series(a, samples)
        if made is None:
            diags.append(warning("HFT0631", f"no unit test generated for alert `{a.name}`: its expression form is not "
                                 "recognised", a.span, label="expression form",
                                 help="recognised forms: `<name> <op> <number>` and "
                                      "`rate(<counter>[<window>]) <op> <number>`"))
            continue
        series, holds_at = made
        # Recording rules may lag the alerting group by one evaluation: allow one interval of slack.
        holds = int(holds_at)
        labels = _alert_labels(a)
        firing_at = holds + for_s + 2
        test: dict = {"interval": "1s", "input_series": series}
        test["promql_expr_test"], test["alert_rule_test"] = [], []

        def alerts_sample(state: str, at: int) -> dict:
            series = ", ".join(f'{k}="{v}"' for k, v in sorted({**labels, "alertname": a.name,
                                                                  "alertstate": state}.items()))
            return {"expr": f'ALERTS{{alertname="{a.name}", alertstate="{state}"}}', "eval_time": f"{at}s",
                    "exp_samples": [{"labels": f"ALERTS{{{series}}}", "value": 1}]}

        if for_s >= 2:
            pending_at = holds + 1 + (for_s - 2) // 2
            test["promql_expr_test"].append(alerts_sample("pending", pending_at))
            test["alert_rule_test"].append({"eval_time": f"{pending_at}s", "alertname": a.name, "exp_alerts": []})
        if any("{{" in v for _, v in a.annotations):
            # Templated annotations render with the query value, which the test cannot predict:
            # check the firing state through the ALERTS series, which carries labels only.
            test["promql_expr_test"].append(alerts_sample("firing", firing_at))
        else:
            expected: dict = {"exp_labels": dict(sorted(labels.items()))}
            if a.annotations:
                expected["exp_annotations"] = dict(a.annotations)
            test["alert_rule_test"].append({"eval_time": f"{firing_at}s", "alertname": a.name,
                                            "exp_alerts": [expected]})
        for key in ("promql_expr_test", "alert_rule_test"):
            if not test[key]:
                del test[key]
        tests.append(test)
    if not tests:
        return None, diags
    return {"rule_files": [rules_file], "evaluation_interval": "1s", "tests": tests}, diags


HEADER = ("# Generated by hftc from package {pkg}; do not edit.\n"
          "# Metric names and the friendly names alert expressions may use are documented\n"
          "# in the hftc prometheus backend (hftc.backends.prometheus.metrics).\n")


class PrometheusBackend:
    name = "prometheus"
    description = "Prometheus recording and alerting rules with promtool unit tests"
    ir_versions = (4,)

    def generate(self, ir: Schema, options: BackendOptions) -> BackendResult:
        groups, diags = rule_groups(ir)
        header = HEADER.format(pkg=ir.package)
        files = [GeneratedFile("rules.yml", header + dump_yaml({"groups": groups}))]
        tests, test_diags = unit_tests(ir, "rules.yml")
        if tests is not None:
            files.append(GeneratedFile("rules_test.yml", header + "# Run: promtool test rules rules_test.yml\n"
                                       + dump_yaml(tests)))
        return BackendResult(files=tuple(files), diagnostics=tuple(diags + test_diags))


BACKEND = PrometheusBackend()
