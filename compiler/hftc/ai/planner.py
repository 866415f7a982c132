"""The offline planner: read a plain-English request into a `Plan` by fixed rules.

Deterministic, so its output can be golden-tested and reproduced without a model.
Instruments, venue, strategy kind, throughput and monitoring are read here; the
deployment part (sites, latency, resources, environment, cloud) is read by the
rule parser of `hftc deploy --prompt` on what is left, so both commands read a
deployment the same way. Every inference is recorded in `assumptions`, and what
was not understood is listed in `unmapped`, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from hftc.deploy.prompt import DeploymentConfig, Unrecognized

FX = frozenset("EUR USD GBP JPY CHF AUD NZD CAD SEK NOK DKK MXN SGD HKD CNH ZAR TRY PLN".split())
CRYPTO = frozenset("BTC ETH SOL BNB XRP DOGE ADA AVAX DOT LINK LTC TRX MATIC".split())
CRYPTO_QUOTES = frozenset("USDT USDC FDUSD BUSD USD BTC ETH".split())

_PAIR = re.compile(r"(?<![A-Za-z])(?P<base>[A-Za-z]{3,5})\s*[/\-]\s*(?P<quote>[A-Za-z]{3,5})(?![A-Za-z])")
_JOINED = re.compile(r"(?<![A-Za-z])(?P<sym>[A-Z]{6,9})(?![A-Za-z])")
_STRATEGY = [
    (re.compile(r"\bmarket[\s\-_]?mak(?:ing|er)s?(?:\s+(?:strategy|strategies|engine|bot|system))?\b|\bquoting\b",
                re.I), "market_making"),
    (re.compile(r"\b(?:pairs?[\s\-_]?trad(?:ing|er)|stat(?:istical)?[\s\-_]?arb(?:itrage)?|mean[\s\-_]?reversion)"
                r"(?:\s+(?:strategy|strategies|engine|bot|system))?\b", re.I), "pairs_trading"),
]
_BINANCE = re.compile(r"\bbinance(?:\s+(?P<kind>spot|futures|perps?|perpetuals?|usd[\s\-]?[sⓢⓈ]?[\s\-]?m))?\b"
                      r"(?:\s+(?P<kind2>spot|futures|perps?|perpetuals?))?", re.I)
_OTHER_VENUE = re.compile(r"\b(?:cme|ebs|lmax|hotspot|currenex|nasdaq|nyse|eurex|ice|coinbase|kraken|okx|bybit|"
                          r"deribit|cboe)\b", re.I)
_SUB = re.compile(r"\bsub[\s\-]?(?P<unit>microsecond|millisecond|µs|us|ms)\b(?:\s+(?:latency|tick[\s\-]to[\s\-]trade))?"
                  r"(?:\s+(?:target|budget))?", re.I)
_THROUGHPUT = re.compile(r"(?P<num>\d{1,9}(?:\.\d{1,3})?)\s*(?P<mult>k|m|thousand|million)?\s*"
                         r"(?:msgs?|messages|updates|events|ticks)\s*(?:/|per\s+)\s*(?:s|sec|second)\b", re.I)
_ALERT_LATENCY = re.compile(r"\balert\w*\s+(?:me\s+)?(?:if|when|on)\s+(?:the\s+)?(?:(?P<pct>p50|p99|p999|p99\.9)\s+)?"
                            r"(?:latency\s+)?(?:(?P<pct2>p50|p99|p999|p99\.9)\s+)?(?:is\s+|goes\s+)?"
                            r"(?:above|over|exceeds?|>)\s+(?P<num>\d{1,9}(?:\.\d{1,3})?)\s*"
                            r"(?P<unit>ns|nanoseconds?|us|µs|microseconds?|ms|milliseconds?)\b", re.I)
_ALERT_REJECTS = re.compile(r"\balert\w*\s+(?:me\s+)?(?:if|when|on)\s+(?:the\s+)?(?:order\s+)?rejects?(?:ion)?s?\s*"
                            r"(?:rate\s+)?(?:is\s+|go\s+|goes\s+)?(?:above|over|exceeds?|>)\s+"
                            r"(?P<num>\d{1,6}(?:\.\d{1,3})?)\s*(?:/\s*s|per\s+second)?", re.I)
_ALERT_LOSS = re.compile(r"\balert\w*\s+(?:me\s+)?(?:if|when|on)\s+(?:the\s+)?(?:pnl|p&l|loss(?:es)?|drawdown)\s*"
                         r"(?:is\s+|goes\s+)?(?:below|under|exceeds?|above|over|<|>)\s+-?\$?(?P<num>\d{1,12})", re.I)
_REFRESH = re.compile(r"\b(?:every|refresh(?:ed)?\s+every|updates?\s+every)\s+(?P<num>\d{1,7})\s*"
                      r"(?P<unit>ms|milliseconds?|s|seconds?)\b", re.I)
_REALTIME = re.compile(r"\b(?:monitor\w*\s+(?:it\s+|them\s+)?live|(?:in\s+)?(?:real[\s\-]?time"
                       r"(?!\s+(?:linux\s+)?kernel)|live(?=\s+(?:monitoring|dashboards?|updates|metrics))))\b", re.I)
_MONITOR = re.compile(r"\b(?:monitor(?:ing|ed)?|watch|dashboards?|observability|alerts?|alerting)\b"
                      r"(?:\s+(?:the\s+)?(?:performance|latency|metrics))?", re.I)
# Words of a system request that carry nothing once the values around them were read.
_FILLER = re.compile(r"(?<![\w\-./])(?:create|build|make|write|generate|set\s+up|setup|give|need|want|design|implement|"
                     r"strategy|strategies|system|engine|trading|schema|please|me|us|an?|the|for|on|of|with|and|"
                     r"then|it|its|that|which|also|to|in|at|between|across|using|performance|target|targets|"
                     r"monitor)(?![\w\-./])", re.I)

_NS_PER = {"ns": 1, "nanosecond": 1, "nanoseconds": 1, "us": 1000, "µs": 1000, "microsecond": 1000,
           "microseconds": 1000, "ms": 1_000_000, "millisecond": 1_000_000, "milliseconds": 1_000_000}
STAGE_SHARES = (("feed", 25), ("book", 10), ("strategy", 35), ("risk", 10), ("gateway", 20))
DEFAULT_LATENCY_NS = 500


@dataclass
class Plan:
    """What the request asks for, in the terms of a schema."""

    request: str
    instruments: list[str] = field(default_factory=list)
    asset_class: str = "fx"
    venue: str = "generic_l2"
    strategy: str = "market_making"
    latency_target_ns: int = DEFAULT_LATENCY_NS
    throughput_msgs_per_s: int | None = None
    deployment_name: str = "staging"
    deployment: dict[str, Any] = field(default_factory=dict)
    monitoring: dict[str, Any] = field(default_factory=dict)
    mapped: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    unmapped: list[Unrecognized] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "instruments": self.instruments, "asset_class": self.asset_class, "venue": self.venue,
            "strategy": self.strategy, "latency_target_ns": self.latency_target_ns,
            "throughput_msgs_per_s": self.throughput_msgs_per_s, "deployment_name": self.deployment_name,
            "deployment": self.deployment, "monitoring": self.monitoring, "mapped": self.mapped,
            "assumptions": self.assumptions, "problems": self.problems,
            "unmapped": [{"line": u.line, "text": u.text, "reason": u.reason} for u in self.unmapped],
        }


class _Reader:
    """One request line at a time: each rule reads a match and blanks it, so nothing is read twice."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.lines: list[str] = []

    def take(self, pattern: re.Pattern[str], text: str, fn: Callable[[re.Match[str]], bool | None]) -> str:
        pos = 0
        while True:
            m = pattern.search(text, pos)
            if m is None or m.end() == m.start():
                return text
            if fn(m) is False:
                pos = m.end()
                continue
            text = text[:m.start()] + " " * (m.end() - m.start()) + text[m.end():]

    def note(self, what: str) -> None:
        if what not in self.plan.mapped:
            self.plan.mapped.append(what)

    def assume(self, what: str) -> None:
        if what not in self.plan.assumptions:
            self.plan.assumptions.append(what)


def _instrument(base: str, quote: str) -> tuple[str, str] | None:
    base, quote = base.upper(), quote.upper()
    if base in FX and quote in FX:
        return base + quote, "fx"
    if base in CRYPTO and quote in CRYPTO_QUOTES:
        return base + ("USDT" if quote == "USD" else quote), "crypto"
    return None


def _split_joined(sym: str) -> tuple[str, str] | None:
    for cut in range(3, len(sym) - 2):
        found = _instrument(sym[:cut], sym[cut:])
        if found:
            return found
    return None


def _read_line(r: _Reader, text: str, kinds: set[str], tags: list[str], monitoring: dict[str, Any]) -> str:
    """Read one line; `tags` collects strategy kinds, venues and latency words for the choices made later."""
    plan = r.plan

    def add(found: tuple[str, str] | None, shown: str) -> bool:
        if found is None:
            return False
        if found[0] not in plan.instruments:
            plan.instruments.append(found[0])
            r.note(f"instrument {found[0]} from `{shown}`")
        kinds.add(found[1])
        return True

    def pair(m: re.Match[str]) -> bool:
        return add(_instrument(m.group("base"), m.group("quote")), m.group(0))

    def joined(m: re.Match[str]) -> bool:
        return add(_split_joined(m.group("sym")), m.group(0))

    text = r.take(_PAIR, text, pair)
    text = r.take(_JOINED, text, joined)
    for pattern, kind in _STRATEGY:
        def strategy(_m: re.Match[str], kind: str = kind) -> None:
            tags.append(f"strategy:{kind}")

        text = r.take(pattern, text, strategy)

    def binance(m: re.Match[str]) -> None:
        kind = m.group("kind") or m.group("kind2") or ""
        tags.append("binance_futures" if re.match(r"fut|perp|usd", kind, re.I) else "binance_spot")

    text = r.take(_BINANCE, text, binance)
    text = r.take(_OTHER_VENUE, text, lambda m: tags.append(f"other:{m.group(0)}"))

    def sub(m: re.Match[str]) -> None:
        unit = m.group("unit").lower()
        ns = 1_000_000 if unit in ("ms", "millisecond") else 1000
        tags.append(f"latency:{ns - ns // 10}")
        r.note(f"latency target {ns - ns // 10} ns from `{m.group(0).strip()}`")

    text = r.take(_SUB, text, sub)

    def throughput(m: re.Match[str]) -> None:
        mults = {"k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000}
        mult = mults.get((m.group("mult") or "").lower(), 1)
        value = int(Decimal(m.group("num")) * mult)
        plan.throughput_msgs_per_s = value
        r.note(f"throughput target {value} msgs/s from `{m.group(0).strip()}`")

    text = r.take(_THROUGHPUT, text, throughput)

    def alert_latency(m: re.Match[str]) -> None:
        pct = (m.group("pct") or m.group("pct2") or "p99").lower().replace(".", "")
        ns = int(Decimal(m.group("num")) * _NS_PER[m.group("unit").lower()])
        monitoring.setdefault("alerts", {})[f"latency_{pct}"] = ns
        r.note(f"alert on latency {pct} above {ns} ns from `{m.group(0).strip()}`")

    text = r.take(_ALERT_LATENCY, text, alert_latency)

    def alert_rejects(m: re.Match[str]) -> None:
        monitoring.setdefault("alerts", {})["reject_rate"] = Decimal(m.group("num"))
        r.note(f"alert on reject rate above {m.group('num')}/s from `{m.group(0).strip()}`")

    text = r.take(_ALERT_REJECTS, text, alert_rejects)

    def alert_loss(m: re.Match[str]) -> None:
        monitoring.setdefault("alerts", {})["loss"] = int(m.group("num"))
        r.note(f"alert on a loss beyond {m.group('num')} from `{m.group(0).strip()}`")

    text = r.take(_ALERT_LOSS, text, alert_loss)

    def refresh(m: re.Match[str]) -> None:
        unit = m.group("unit").lower()
        ms = int(m.group("num")) * (1 if unit.startswith("m") else 1000)
        monitoring["interval_ms"] = ms
        r.note(f"monitoring refresh {ms} ms from `{m.group(0).strip()}`")

    text = r.take(_REFRESH, text, refresh)

    def realtime(m: re.Match[str]) -> None:
        monitoring.setdefault("interval_ms", 100)
        monitoring["wanted"] = True
        r.note(f"real-time monitoring (100 ms refresh) from `{m.group(0).strip()}`")

    text = r.take(_REALTIME, text, realtime)
    text = r.take(_MONITOR, text, lambda m: monitoring.__setitem__("wanted", True))
    return text


def plan_request(request: str) -> Plan:
    """Read `request` into a Plan. Never raises on odd text: what it cannot read goes to `unmapped`."""
    plan = Plan(request=request)
    r = _Reader(plan)
    kinds: set[str] = set()
    tags: list[str] = []
    monitoring: dict[str, Any] = {}
    rest: list[str] = []
    for raw in request.splitlines() or [""]:
        text = _read_line(r, raw, kinds, tags, monitoring)
        rest.append(_FILLER.sub(lambda m: " " * len(m.group(0)), text))

    _choose_strategy(r, tags)
    _choose_venue(r, tags, kinds)
    _read_deployment(r, "\n".join(rest), tags)
    _choose_monitoring(r, monitoring)
    if not plan.instruments:
        plan.problems.append("the request names no instrument; name one like `EUR/USD` or `BTCUSDT`")
    if plan.strategy == "pairs_trading" and len(plan.instruments) < 2:
        plan.problems.append("pairs trading needs two instruments; the request names "
                             + (", ".join(plan.instruments) or "none"))
    return plan


def _choose_strategy(r: _Reader, tags: list[str]) -> None:
    kinds = list(dict.fromkeys(t.split(":", 1)[1] for t in tags if t.startswith("strategy:")))
    if not kinds:
        r.assume("no strategy kind stated; market making assumed (template `market_making`)")
        return
    r.plan.strategy = kinds[0]
    r.note(f"strategy template `{kinds[0]}`")
    if len(kinds) > 1:
        r.plan.problems.append(f"the request asks for several strategy kinds ({', '.join(kinds)}); "
                               f"`{kinds[0]}` is planned, ask for the others separately")


def _choose_venue(r: _Reader, tags: list[str], kinds: set[str]) -> None:
    plan = r.plan
    plan.asset_class = "crypto" if "crypto" in kinds else "fx"
    binance = [t for t in tags if t.startswith("binance")]
    others = [t.split(":", 1)[1] for t in tags if t.startswith("other:")]
    if binance:
        plan.venue = binance[0]
        r.note(f"venue message set `{plan.venue}`")
    elif plan.asset_class == "crypto" and not others:
        plan.venue = "binance_spot"
        r.assume("crypto instruments and no venue named; Binance spot messages assumed (`binance_spot`)")
    else:
        plan.venue = "generic_l2"
        if others:
            r.assume(f"venue `{others[0]}` has no message set of its own; the generic L2 set is used")
        else:
            r.assume("no venue named; the generic L2 feed and order entry are used (`generic_l2`)")
    for t in tags:
        if t.startswith("latency:"):
            plan.latency_target_ns = int(t.split(":", 1)[1])


def _read_deployment(r: _Reader, rest: str, tags: list[str]) -> None:
    plan = r.plan
    config = DeploymentConfig.from_prompt(rest)
    entry = config.to_dict()
    originals, left = plan.request.splitlines(), rest.splitlines()

    def named(u: Unrecognized) -> Unrecognized:
        """The original line, and the words left on it when the rules matched nothing at all."""
        if not 0 < u.line <= len(originals):
            return u
        reason = u.reason
        if reason == "not understood":
            words = re.findall(r"[^\s,;:()\[\]{}'\"`]+", left[u.line - 1])
            reason += ": " + " ".join(f"`{w}`" for w in words) if words else ""
        return u._replace(text=originals[u.line - 1].strip(), reason=reason)

    plan.unmapped = [named(u) for u in config.unrecognized]
    cloud_missing = [m for m in config.missing if m.startswith("cloud")]
    if cloud_missing and "cloud" in entry:
        del entry["cloud"]
        plan.unmapped.append(Unrecognized(0, "cloud settings", "the request does not say "
                                          + ", ".join(f"`{m}`" for m in cloud_missing)
                                          + "; no `cloud` section is written"))
    stated_latency = entry.get("latency_tolerance_ns")
    if stated_latency is not None:
        plan.latency_target_ns = int(stated_latency)
        r.note(f"latency target {stated_latency} ns")
    elif not any(t.startswith("latency:") for t in tags):
        r.assume(f"no latency target stated; {DEFAULT_LATENCY_NS} ns p99 assumed")
    entry["latency_tolerance_ns"] = plan.latency_target_ns
    if "environment" not in entry:
        entry["environment"] = "staging"
        r.assume("no environment stated; `staging` assumed")
    if entry.get("sites"):
        r.note("sites " + ", ".join(entry["sites"]))
    else:
        r.assume("no colocation site stated; the deployment is not tied to a site")
    nodes = entry.setdefault("nodes", {})
    defaults = {"cpu_cores": 8, "memory_gb": 32, "hugepages_1gi": 4, "sriov": True, "realtime_kernel": True}
    assumed = [k for k in defaults if k not in nodes]
    for k in assumed:
        nodes[k] = defaults[k]
    if nodes["hugepages_1gi"] >= nodes["memory_gb"]:
        nodes["hugepages_1gi"] = max(0, nodes["memory_gb"] // 4)
    if "isolated_cpus" not in nodes:
        nodes["isolated_cpus"] = f"2-{nodes['cpu_cores'] + 1}"
        assumed.append("isolated_cpus")
    if assumed:
        r.assume("node resources not stated; assumed " + ", ".join(f"{k}={_show(nodes[k])}" for k in assumed))
    if "kubernetes" not in entry:
        env = entry["environment"]
        entry["kubernetes"] = {"namespace": f"hft-{env}", "image": "registry.example/engine:0.1.0"}
        r.assume(f"no Kubernetes settings stated; namespace `hft-{env}` and image "
                 "`registry.example/engine:0.1.0` assumed (set `kubernetes.image` to your registry)")
    order = ("environment", "pipeline", "sites", "latency_tolerance_ns", "nodes", "kubernetes", "cloud", "tags")
    plan.deployment = {k: entry[k] for k in sorted(entry, key=lambda k: order.index(k) if k in order else 99)}
    plan.deployment["nodes"] = {k: nodes[k] for k in ("cpu_cores", "memory_gb", "hugepages_1gi", "sriov",
                                                      "realtime_kernel", "isolated_cpus") if k in nodes}
    plan.deployment_name = {"production": "prod", "development": "dev"}.get(entry["environment"],
                                                                            entry["environment"])


def _show(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _choose_monitoring(r: _Reader, monitoring: dict[str, Any]) -> None:
    plan = r.plan
    asked = monitoring.get("alerts", {})
    interval = monitoring.get("interval_ms")
    if interval is None:
        interval = 1000
        r.assume("no monitoring refresh stated; 1000 ms assumed")
    p99 = asked.get("latency_p99", plan.latency_target_ns)
    alerts: list[dict[str, Any]] = [{
        "name": "UltraHighLatency", "expr": f"latency_p99_ns > {p99}", "for": "5s", "severity": "critical",
        "annotations": {"summary": f"Tick-to-order p99 above {p99} ns"}}]
    if "latency_p99" not in asked:
        r.assume(f"no latency alert threshold stated; alert when p99 > {p99} ns (the target) for 5s")
    for pct in ("p50", "p999"):
        if f"latency_{pct}" in asked:
            ns = asked[f"latency_{pct}"]
            alerts.append({"name": f"HighLatency{pct.upper()}", "expr": f"latency_{pct}_ns > {ns}", "for": "5s",
                           "severity": "warning", "annotations": {"summary": f"Latency {pct} above {ns} ns"}})
    rejects = asked.get("reject_rate")
    if rejects is None:
        r.assume("no reject alert threshold stated; alert when rejects > 10/s for 30s")
    alerts.append({"name": "OrderRejects", "expr": f"reject_rate > {rejects if rejects is not None else 10}",
                   "for": "30s", "severity": "warning"})
    if "loss" in asked:
        alerts.append({"name": "LossLimit", "expr": f"pnl < -{asked['loss']}", "for": "0s", "severity": "critical",
                       "annotations": {"summary": f"Loss beyond {asked['loss']}"}})
    plan.monitoring = {"interval_ms": interval, "metrics_port": 9100, "alerts": alerts}
