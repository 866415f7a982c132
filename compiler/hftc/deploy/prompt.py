"""Turn a short natural-language deployment request into a `deployments:` entry.

Offline and deterministic: a rule-based reader for the two request styles people
write (a sentence with bullet points, or `Key: value` lines). Nothing is guessed
silently: every line or part of a line that is not understood is reported in
`unrecognized`, every inference is written to `assumptions`, and required values
that the request does not state are listed in `missing` instead of being invented.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, NamedTuple

from pydantic import ValidationError

from hftc.schema.cloud_names import shown, shown_line
from hftc.schema.common import Surface
from hftc.schema.deploy import CloudSpec, DeploymentSpec, KubernetesSpec, NodeSpec


class Unrecognized(NamedTuple):
    """A line (1-based) or part of one that was not turned into a value, and why."""

    line: int
    text: str
    reason: str


class IncompleteDeployment(ValueError):
    """The request leaves required values of the entry unstated."""


ENVIRONMENTS: dict[str, str] = {
    "production": "production", "prod": "production", "prd": "production", "live": "production",
    "staging": "staging", "stage": "staging", "stg": "staging", "preprod": "staging", "pre-production": "staging",
    "development": "development", "dev": "development", "develop": "development",
    "research": "research", "sandbox": "research",
}
SHORT_ENV = {"production": "prod", "staging": "staging", "development": "dev", "research": "research"}

# Order of keys in the produced entry: the order of the surface models.
_ORDER = {
    (): list(DeploymentSpec.model_fields),
    ("nodes",): list(NodeSpec.model_fields),
    ("kubernetes",): list(KubernetesSpec.model_fields),
    ("cloud",): list(CloudSpec.model_fields),
}

_NS_PER = {"ns": 1, "nanosecond": 1, "nanoseconds": 1,
           "us": 1000, "µs": 1000, "μs": 1000, "microsecond": 1000, "microseconds": 1000, "micros": 1000,
           "ms": 1_000_000, "millisecond": 1_000_000, "milliseconds": 1_000_000, "millis": 1_000_000}
_GIB_PER = {"g": Decimal(1), "gb": Decimal(1), "gib": Decimal(1), "t": Decimal(1024), "tb": Decimal(1024),
            "tib": Decimal(1024), "m": Decimal(1) / 1024, "mb": Decimal(1) / 1024, "mib": Decimal(1) / 1024}

_NUM = r"(?<![\d.])\d{1,12}(?:\.\d{1,9})?(?![\d.])"
_TIME_UNIT = r"ns|nanoseconds?|us|µs|μs|microseconds?|micros|ms|milliseconds?|millis"
_SIZE_UNIT = r"tib|tb|t|gib|gb|g|mib|mb|m"
_NEG = r"(?P<neg>\b(?:no|not|without|disable|disabled|disables|disabling|off)\s+)?"

_BULLET = re.compile(r"^(?:[-*•+]|\d{1,3}[.)])\s+")
_KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9 _\-/]{0,40}?)\s*[:=]\s*(?P<value>.*)$")
_SITE = re.compile(r"(?<![\w.\-])(?P<site>[A-Za-z]{2}\d{1,2})(?P<rest>(?:-[A-Za-z0-9]+)*)(?![\w.])")
_REGION = re.compile(r"\b(?P<region>(?:us|eu|ap|ca|sa|me|af|il|mx)(?:-gov)?-(?:north|south|east|west|central|"
                     r"northeast|southeast|northwest|southwest)-\d)(?P<zone>[a-f])?\b", re.I)
_INSTANCE = re.compile(r"\b(?P<type>[a-z][a-z0-9]*\d[a-z0-9\-]*\.(?:metal(?:-\d{1,3}xl)?|nano|micro|small|medium|"
                       r"large|xlarge|\d{1,3}xlarge))(?![\w.])", re.I)
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_DNS = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_CPUSET = re.compile(r"^\d{1,4}(?:-\d{1,4})?(?:,\d{1,4}(?:-\d{1,4})?)*$")

# Words that carry no value of their own once the values around them were read.
_FILLER = frozenset("""
with and to in into on at of the a an for using use via plus also enable enabled enabling need needs needed
require requires required want please deploy deploying deployment should must have has be is are each per
colocation colo colocated co-located co-location collocation site sites datacenter datacenters datacentre
datacentres data center centers centre centres location locations networking network nic nics vf vfs interface
latency tolerance budget target limit under below max maximum most less than within end-to-end p99 tick-to-trade
environment env kernel linux memory ram mem cores core cpus cpu vcpus vcpu dedicated physical pinned isolated
servers server hosts host node nodes machine machines instance instances type region zone availability cloud
amazon web services placement group huge pages hugepages page 1g 1gi 1gib x
""".split())
_WORD = re.compile(r"[^\s,;:&+()\[\]{}'\"`]+")
_PUNCT = re.compile(r"^[\W_]+$")


def snake_case(text: str) -> str:
    """`MarketMakingEngine` / `trading engine` / `fx-mm` → `market_making_engine` / `trading_engine` / `fx_mm`."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text.strip())
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


@dataclass
class _Line:
    no: int
    text: str


@dataclass
class _Parser:
    values: dict[tuple[str, ...], Any] = field(default_factory=dict)
    origin: dict[tuple[str, ...], _Line] = field(default_factory=dict)
    unrecognized: list[Unrecognized] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    explicit_name: str | None = None

    # -- recording ------------------------------------------------------------
    def reject(self, line: _Line, reason: str) -> None:
        # a value may be megabytes long: never echo more than a few hundred characters of it
        self.unrecognized.append(Unrecognized(line.no, shown_line(line.text), shown_line(reason, 300)))

    def assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def set(self, path: tuple[str, ...], value: Any, line: _Line) -> None:
        if path in self.values and self.values[path] != value:
            first = self.origin[path]
            self.reject(line, f"`{'.'.join(path)}: {_fmt(value)}` conflicts with `{_fmt(self.values[path])}` "
                              f"from line {first.no}; the first is kept")
            return
        self.values[path] = value
        self.origin.setdefault(path, line)

    def add_site(self, site: str, line: _Line) -> None:
        sites = self.values.setdefault(("sites",), [])
        self.origin.setdefault(("sites",), line)
        if site not in sites:
            sites.append(site)

    # -- value readers shared by both styles ---------------------------------
    def latency(self, num: str, unit: str, line: _Line) -> None:
        ns = Decimal(num) * _NS_PER[unit.lower()]
        if ns != ns.to_integral_value() or ns < 1:
            self.reject(line, f"latency `{num}{unit}` is not a whole number of nanoseconds")
            return
        self.set(("latency_tolerance_ns",), int(ns), line)

    def memory(self, num: str, unit: str, line: _Line) -> None:
        unit = unit.lower()
        gib = Decimal(num) * _GIB_PER[unit]
        if gib != gib.to_integral_value() or gib < 1:
            self.reject(line, f"memory `{num}{unit.upper()}` is not a whole number of GiB")
            return
        if unit in ("g", "gb", "t", "tb"):
            self.assume(f"`{num}{unit.upper()}` of memory read as {int(gib)} GiB (`memory_gb` counts GiB)")
        self.set(("nodes", "memory_gb"), int(gib), line)

    def cores(self, num: str, unit: str, line: _Line) -> None:
        if "v" in unit.lower():
            self.assume(f"{num} vCPUs read as {num} dedicated CPU cores")
        self.set(("nodes", "cpu_cores"), int(num), line)

    def environment(self, word: str, line: _Line) -> bool:
        env = ENVIRONMENTS.get(word.lower())
        if env is None:
            return False
        self.set(("environment",), env, line)
        return True

    def site_or_server(self, token: str, line: _Line) -> bool:
        m = _SITE.fullmatch(token.strip())
        if not m:
            return False
        site = m.group("site").upper()
        if m.group("rest"):
            self.assume(f"server `{token.strip()}` is at site {site}; entries list sites, not single servers")
        self.add_site(site, line)
        return True

    def hugepages(self, count: str | None, size: str | None, line: _Line, negated: bool) -> None:
        if negated:
            self.set(("nodes", "hugepages_1gi"), 0, line)
            return
        if size and re.match(r"2\s*m", size, re.I):
            self.reject(line, "only 1 GiB huge pages are modelled (`hugepages_1gi`)")
            return
        if count is None:
            self.reject(line, "how many 1 GiB huge pages? write e.g. `8 x 1GiB hugepages`")
            return
        self.set(("nodes", "hugepages_1gi"), int(count), line)

    def cloud_context(self, line: _Line) -> None:
        if ("cloud", "provider") not in self.values:
            self.set(("cloud", "provider"), "aws", line)


# -- free text -----------------------------------------------------------------

Extractor = Callable[[_Parser, "re.Match[str]", _Line], None]
_EXTRACTORS: list[tuple[re.Pattern[str], Extractor]] = []


def _rule(pattern: str, flags: int = re.I) -> Callable[[Extractor], Extractor]:
    def register(fn: Extractor) -> Extractor:
        _EXTRACTORS.append((re.compile(pattern, flags), fn))
        return fn
    return register


_UNSUPPORTED = re.compile(r"^\s*(?:delete|remove|destroy|tear\s*down|undeploy|roll\s*back|rollback|stop|"
                          r"scale\s+down)\b", re.I)


@_rule(r"^\s*(?:please\s+)?(?:deploy|ship|roll\s*out|release|launch|run)\b(?:\s+(?:the|our|a|an)\b)?"
       r"(?P<comp>(?:\s+(?!(?:to|in|into|on|at|with|for)\b)[A-Za-z][\w\-]*){0,6})")
def _header(p: _Parser, m: re.Match[str], line: _Line) -> None:
    words = m.group("comp").split()
    for w in [w for w in words if w.lower() in ENVIRONMENTS]:
        p.environment(w, line)
    comp = " ".join(w for w in words if w.lower() not in ENVIRONMENTS)
    if comp:
        p.set(("component",), comp, line)


@_rule(r"\bnamespace\s*[:=]?\s*(?P<v>[A-Za-z0-9][\w\-]*)")
def _namespace(p: _Parser, m: re.Match[str], line: _Line) -> None:
    _set_checked(p, ("kubernetes", "namespace"), m.group("v"), line)


@_rule(r"\b(?:container\s+)?image\s*[:=]?\s*(?P<v>[\w][\w./:@\-]*)")
def _image(p: _Parser, m: re.Match[str], line: _Line) -> None:
    _set_checked(p, ("kubernetes", "image"), m.group("v"), line)


@_rule(r"\bpipeline\s*[:=]?\s*(?P<v>[A-Za-z][\w]*)")
def _pipeline(p: _Parser, m: re.Match[str], line: _Line) -> None:
    _set_checked(p, ("pipeline",), m.group("v"), line)


@_rule(r"\b(?:gcp|google\s+cloud|azure|oracle\s+cloud|oci|alibaba\s+cloud)\b")
def _other_cloud(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.reject(line, f"cloud `{m.group(0)}` is not supported: only `aws` is")


@_rule(r"(?<![\w\-./])(?P<env>production|prod|prd|staging|stage|stg|preprod|pre-production|development|dev|research|"
       r"sandbox)(?![\w\-])(?:\s+(?:environment|env)\b)?")
def _env(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.environment(m.group("env"), line)


@_rule(_REGION.pattern)
def _region(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.cloud_context(line)
    region = m.group("region").lower()
    p.set(("cloud", "region"), region, line)
    if m.group("zone"):
        p.set(("cloud", "zone"), region + m.group("zone").lower(), line)


@_rule(_INSTANCE.pattern)
def _instance(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.cloud_context(line)
    p.set(("cloud", "instance_type"), m.group("type").lower(), line)


@_rule(r"\b(?P<n>\d{1,4})\s*(?:x\s+)?(?:ec2\s+|aws\s+)?instances?\b")
def _count(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.cloud_context(line)
    p.set(("cloud", "count"), int(m.group("n")), line)


@_rule(r"\b(?:aws|amazon\s+web\s+services|amazon|ec2)\b")
def _aws(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.cloud_context(line)


@_rule(r"\b(?:eks|managed\s+node\s+group)\b")
def _eks(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.cloud_context(line)
    p.set(("cloud", "node_group"), "eks", line)


@_rule(_NEG + r"\bena[\s\-_]*express\b")
def _ena(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.cloud_context(line)
    p.set(("cloud", "ena_express"), not m.group("neg"), line)


@_rule(r"\b(?:(?P<a>cluster|spread|partition)\s+placement(?:\s+group)?|placement(?:\s+group)?\s*[:=]?\s*"
       r"(?P<b>cluster|spread|partition))\b")
def _placement(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.cloud_context(line)
    p.set(("cloud", "placement"), (m.group("a") or m.group("b")).lower(), line)


@_rule(r"(?P<num>" + _NUM + r")\s*(?P<unit>" + _TIME_UNIT + r")(?![\w])")
def _latency(p: _Parser, m: re.Match[str], line: _Line) -> None:
    if re.search(r"latenc|toleran|budget|p99|tick.to.trade|round.trip|rtt", line.text, re.I):
        p.latency(m.group("num"), m.group("unit"), line)
    else:
        p.reject(line, f"`{m.group(0)}`: a duration, but the line does not say it is the latency tolerance")


@_rule(r"(?<![x×]\s)(?<![x×])\b(?P<n>\d{1,5})\s*(?:gib|gb|g)\s+(?:of\s+)?huge[\s\-_]*pages?\b")
def _hugepages_by_size(p: _Parser, m: re.Match[str], line: _Line) -> None:
    # "1GiB hugepages" names the page size, not how many: ask rather than guess.
    p.hugepages(None if m.group("n") == "1" else m.group("n"), None, line, False)


@_rule(_NEG + r"(?:(?P<n>\d{1,5})\s*(?:x\s*)?(?:(?P<size>1\s*gi?b?|2\s*mi?b?)\s+)?)?"
       r"\bhuge[\s\-_]*pages?\b(?:\s*[:=]?\s*(?P<n2>\d{1,5})\b(?!\s*(?:g|m|t)))?"
       r"(?:\s*(?:of|x)?\s*(?P<size2>1\s*gi?b?|2\s*mi?b?)\b)?")
def _hugepages(p: _Parser, m: re.Match[str], line: _Line) -> None:
    count = m.group("n") or m.group("n2")
    p.hugepages(count, m.group("size") or m.group("size2"), line, bool(m.group("neg")))


@_rule(r"\b(?P<n>\d{1,5})\s*(?:x\s+)?(?:dedicated\s+|physical\s+|isolated\s+|pinned\s+)?"
       r"(?P<unit>v?cpu\s+cores?|cores?|v?cpus?)\b")
def _cores(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.cores(m.group("n"), m.group("unit"), line)


@_rule(r"\b(?P<num>" + _NUM + r")\s*(?P<unit>" + _SIZE_UNIT + r")\b(?:\s+(?:of\s+)?(?:ram|memory|mem)\b)?")
def _memory(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.memory(m.group("num"), m.group("unit"), line)


@_rule(_NEG + r"\bsr[\s\-_]?iov\b")
def _sriov(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.set(("nodes", "sriov"), not m.group("neg"), line)


@_rule(_NEG + r"(?:\b(?:real[\s\-_]?time|rt|low[\s\-]latency)\s+(?:linux\s+)?kernel\b|\bpreempt[\s\-_]?rt\b)")
def _rt_kernel(p: _Parser, m: re.Match[str], line: _Line) -> None:
    if "low" in m.group(0).lower():
        p.assume("a low-latency kernel read as a real-time kernel (`realtime_kernel: true`)")
    p.set(("nodes", "realtime_kernel"), not m.group("neg"), line)


@_rule(r"\b(?:generic|standard|stock|default|non[\s\-]?real[\s\-]?time|non[\s\-]?rt)\s+(?:linux\s+)?kernel\b")
def _generic_kernel(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.set(("nodes", "realtime_kernel"), False, line)


@_rule(r"\b(?:isolat\w*\s+cpus?|isolcpus|cpuset)\s*[:=]?\s*(?P<set>\d[\d,\-]*)")
def _isolated(p: _Parser, m: re.Match[str], line: _Line) -> None:
    value = m.group("set").rstrip(",-")
    if _CPUSET.match(value):
        p.set(("nodes", "isolated_cpus"), value, line)
    else:
        p.reject(line, f"`{value}` is not a CPU list like `2-15` or `2,4-7`")


@_rule(_SITE.pattern, 0)
def _site(p: _Parser, m: re.Match[str], line: _Line) -> None:
    p.site_or_server(m.group(0), line)


def _free_text(p: _Parser, text: str, line: _Line) -> None:
    """Run every extractor over the line, blanking what each one read; report leftover words."""
    stop = _UNSUPPORTED.match(text)
    if stop:
        p.reject(line, f"`{stop.group(0).strip()}` is not supported: only deployment requests are")
        return
    buffer = text
    matched = False
    for pattern, fn in _EXTRACTORS:
        while True:
            m = pattern.search(buffer)
            if m is None or m.end() == m.start():
                break
            matched = True
            fn(p, m, line)
            buffer = buffer[:m.start()] + " " * (m.end() - m.start()) + buffer[m.end():]
    left = [w for w in _WORD.findall(buffer) if w.lower().strip(".-/") not in _FILLER and not _PUNCT.match(w)]
    if not matched:
        p.reject(line, "not understood")
    elif left:
        p.reject(line, "not understood: " + " ".join(f"`{w}`" for w in left))


def _set_checked(p: _Parser, path: tuple[str, ...], value: str, line: _Line) -> None:
    if path == ("kubernetes", "namespace") and not _DNS.match(value):
        p.reject(line, f"namespace `{value}` is not a DNS label (lowercase letters, digits and `-`)")
    elif path == ("pipeline",) and not _IDENT.match(value):
        p.reject(line, f"pipeline `{value}` is not a name")
    else:
        p.set(path, value, line)


# -- key: value ----------------------------------------------------------------

def _norm_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


_TRUE = {"true", "yes", "y", "on", "enabled", "enable", "required", "1"}
_FALSE = {"false", "no", "n", "off", "disabled", "disable", "none", "0"}


def _bool(value: str) -> bool | None:
    v = value.strip().lower()
    return True if v in _TRUE else False if v in _FALSE else None


def _items(value: str) -> list[str]:
    value = value.strip().strip("[](){}")
    return [s.strip().strip("'\"") for s in re.split(r",|;|\band\b|\s+(?=\S)", value) if s.strip().strip("'\"")]


def _kv_action(p: _Parser, v: str, line: _Line) -> None:
    if v.strip().lower() not in ("deploy", "apply", "create", "update", "release", "rollout", "roll out", "ship"):
        p.reject(line, f"action `{v.strip()}` is not supported: only `Deploy` is")


def _kv_component(p: _Parser, v: str, line: _Line) -> None:
    v = v.strip()
    if snake_case(v) and re.match(r"^[A-Za-z]", v):
        p.set(("component",), v, line)
    else:
        p.reject(line, f"`{v}` cannot name a deployment")


def _kv_name(p: _Parser, v: str, line: _Line) -> None:
    v = v.strip()
    if _IDENT.match(v):
        p.explicit_name = v
    else:
        p.reject(line, f"`{v}` is not a deployment name (a letter, then letters, digits or `_`)")


def _kv_env(p: _Parser, v: str, line: _Line) -> None:
    if not p.environment(v.strip(), line):
        p.reject(line, f"unknown environment `{v.strip()}`; use production, staging, development or research")


def _kv_latency(p: _Parser, v: str, line: _Line) -> None:
    m = re.fullmatch(r"\s*(?:<=?\s*)?(?P<num>" + _NUM + r")\s*(?P<unit>" + _TIME_UNIT + r")\s*", v, re.I)
    if m:
        p.latency(m.group("num"), m.group("unit"), line)
    elif re.fullmatch(r"\s*\d{1,12}\s*", v):
        p.reject(line, f"latency `{v.strip()}` has no unit; write e.g. `{v.strip()}ns`")
    else:
        p.reject(line, f"`{v.strip()}` is not a latency like `200ns` or `1.5us`")


def _kv_sites(p: _Parser, v: str, line: _Line) -> None:
    items = _items(v)
    bad = [s for s in items if not p.site_or_server(s, line)]
    if bad:
        p.reject(line, "not a site or server name like `NY4` or `NY4-Colo-1`: " + ", ".join(f"`{b}`" for b in bad))
    elif not items:
        p.reject(line, "no sites given")


def _kv_cores(p: _Parser, v: str, line: _Line) -> None:
    m = re.fullmatch(r"\s*(?P<n>\d{1,5})\s*(?P<unit>v?cpu\s+cores?|cores?|v?cpus?)?\s*", v, re.I)
    if m:
        p.cores(m.group("n"), m.group("unit") or "", line)
    else:
        p.reject(line, f"`{v.strip()}` is not a number of CPU cores")


def _kv_memory(p: _Parser, v: str, line: _Line) -> None:
    m = re.fullmatch(r"\s*(?P<num>" + _NUM + r")\s*(?P<unit>" + _SIZE_UNIT + r")\s*(?:ram|memory)?\s*", v, re.I)
    if m:
        p.memory(m.group("num"), m.group("unit"), line)
    elif re.fullmatch(r"\s*\d{1,9}\s*", v):
        p.reject(line, f"memory `{v.strip()}` has no unit; write e.g. `{v.strip()}GiB`")
    else:
        p.reject(line, f"`{v.strip()}` is not a memory size like `64GiB`")


def _kv_hugepages(p: _Parser, v: str, line: _Line) -> None:
    b = _bool(v)
    if b is False:
        p.hugepages(None, None, line, True)
        return
    m = re.fullmatch(r"\s*(?P<n>\d{1,5})\s*(?:x\s*)?(?P<size>1\s*gi?b?|2\s*mi?b?)?\s*(?:pages?)?\s*", v, re.I)
    if m:
        p.hugepages(m.group("n"), m.group("size"), line, False)
    else:
        p.hugepages(None, None, line, False)


def _kv_flag(path: tuple[str, ...], words: str) -> Callable[[_Parser, str, _Line], None]:
    def handler(p: _Parser, v: str, line: _Line) -> None:
        b = _bool(v)
        if b is None and re.search(words, v, re.I):
            b = not re.search(r"\b(?:no|not|without|disabled?)\b", v, re.I)
        if b is None:
            p.reject(line, f"`{v.strip()}`: expected yes or no")
        else:
            p.set(path, b, line)
    return handler


def _kv_kernel(p: _Parser, v: str, line: _Line) -> None:
    b = _bool(v)
    if b is None:
        if re.fullmatch(r"\s*(?:real[\s\-_]?time|rt|preempt[\s\-_]?rt)(?:\s+kernel)?\s*", v, re.I):
            b = True
        elif re.fullmatch(r"\s*(?:generic|standard|default|stock|normal)(?:\s+kernel)?\s*", v, re.I):
            b = False
    if b is None:
        p.reject(line, f"kernel `{v.strip()}`: expected real-time or generic")
    else:
        p.set(("nodes", "realtime_kernel"), b, line)


def _kv_text(path: tuple[str, ...]) -> Callable[[_Parser, str, _Line], None]:
    def handler(p: _Parser, v: str, line: _Line) -> None:
        value = v.strip().strip("'\"")
        if not value or re.search(r"\s", value):
            p.reject(line, f"`{v.strip()}` is not a single {path[-1].replace('_', ' ')}")
        elif path == ("nodes", "isolated_cpus") and not _CPUSET.match(value):
            p.reject(line, f"`{value}` is not a CPU list like `2-15` or `2,4-7`")
        else:
            if path[0] == "cloud":
                p.cloud_context(line)
            _set_checked(p, path, value, line)
    return handler


def _kv_region(p: _Parser, v: str, line: _Line) -> None:
    m = _REGION.fullmatch(v.strip())
    if m is None:
        p.reject(line, f"`{v.strip()}` is not an AWS region like `us-east-1`")
    else:
        _region(p, m, line)


def _kv_instance(p: _Parser, v: str, line: _Line) -> None:
    m = _INSTANCE.fullmatch(v.strip())
    if m is None:
        p.reject(line, f"`{v.strip()}` is not an AWS instance type like `c7i.metal-24xl`")
    else:
        _instance(p, m, line)


def _kv_count(p: _Parser, v: str, line: _Line) -> None:
    if re.fullmatch(r"\s*\d{1,4}\s*", v):
        p.cloud_context(line)
        p.set(("cloud", "count"), int(v), line)
    else:
        p.reject(line, f"`{v.strip()}` is not a number of instances")


def _kv_provider(p: _Parser, v: str, line: _Line) -> None:
    if v.strip().lower() in ("aws", "amazon", "amazon web services", "ec2"):
        p.set(("cloud", "provider"), "aws", line)
    else:
        p.reject(line, f"cloud `{v.strip()}` is not supported: only `aws` is")


def _kv_choice(path: tuple[str, ...], choices: tuple[str, ...]) -> Callable[[_Parser, str, _Line], None]:
    def handler(p: _Parser, v: str, line: _Line) -> None:
        value = v.strip().lower()
        if value in choices:
            p.cloud_context(line)
            p.set(path, value, line)
        else:
            p.reject(line, f"`{v.strip()}`: expected one of " + ", ".join(choices))
    return handler


def _kv_tags(p: _Parser, v: str, line: _Line) -> None:
    pairs = [s.strip() for s in re.split(r"[,;]", v.strip().strip("{}[]")) if s.strip()]
    bad = []
    for pair in pairs:
        m = re.fullmatch(r"([A-Za-z][\w.\-/]*)\s*[=:]\s*([\w.\-/]+)", pair)
        if m:
            p.set(("tags", m.group(1)), m.group(2), line)
        else:
            bad.append(pair)
    if bad or not pairs:
        shown = ": " + ", ".join(f"`{b}`" for b in bad) if bad else ""
        p.reject(line, "tags are written `key=value, key=value`" + shown)


def _kv_tag(name: str) -> Callable[[_Parser, str, _Line], None]:
    def handler(p: _Parser, v: str, line: _Line) -> None:
        _kv_tags(p, f"{name}={v.strip()}", line)
    return handler


_KEYS: dict[str, Callable[[_Parser, str, _Line], None]] = {}
for _names, _handler in [
    ("action verb task", _kv_action),
    ("component service system app application engine", _kv_component),
    ("name deploymentname entry", _kv_name),
    ("environment env tier", _kv_env),
    ("latencytolerance latency latencybudget latencytarget maxlatency latencytolerancens latencylimit", _kv_latency),
    ("servers server hosts sites site locations location colocation colo datacenters datacentres datacenter",
     _kv_sites),
    ("cpu cpus cores cpucores vcpus cpucount", _kv_cores),
    ("memory ram mem memorygb", _kv_memory),
    ("hugepages hugepages1gi", _kv_hugepages),
    ("sriov sriovnetworking networking network", _kv_flag(("nodes", "sriov"), r"sr[\s\-_]?iov")),
    ("kernel realtimekernel rtkernel realtime", _kv_kernel),
    ("isolatedcpus isolcpus cpuset", _kv_text(("nodes", "isolated_cpus"))),
    ("namespace", _kv_text(("kubernetes", "namespace"))),
    ("image containerimage", _kv_text(("kubernetes", "image"))),
    ("pipeline", _kv_text(("pipeline",))),
    ("region awsregion", _kv_region),
    ("zone availabilityzone az", _kv_text(("cloud", "zone"))),
    ("instancetype instance instancesize ec2", _kv_instance),
    ("count instancecount instances", _kv_count),
    ("provider cloud cloudprovider", _kv_provider),
    ("placement placementgroup", _kv_choice(("cloud", "placement"), ("cluster", "spread", "partition"))),
    ("nodegroup", _kv_choice(("cloud", "node_group"), ("instances", "eks"))),
    ("enaexpress", _kv_flag(("cloud", "ena_express"), r"ena")),
    ("tags labels", _kv_tags),
    ("team", _kv_tag("team")),
    ("owner", _kv_tag("owner")),
]:
    for _n in _names.split():
        _KEYS[_n] = _handler


def _parse_lines(text: str) -> _Parser:
    p = _Parser()
    for no, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        line = _Line(no, stripped)
        body = _BULLET.sub("", stripped)
        kv = _KEY_VALUE.match(body)
        if kv and kv.group("value").strip() and _norm_key(kv.group("key")) in _KEYS:
            _KEYS[_norm_key(kv.group("key"))](p, kv.group("value"), line)
            continue
        key = kv.group("key").strip() if kv and kv.group("value").strip() else ""
        if key and len(key.split()) <= 3:
            hint = difflib.get_close_matches(_norm_key(key), sorted(_KEYS), n=1, cutoff=0.75)
            if hint:  # a misspelt key: say so rather than reading its value some other way
                p.reject(line, f"unknown key `{key}`; did you mean `{hint[0]}`?")
                continue
        before = len(p.unrecognized)
        _free_text(p, body, line)
        if key and len(key.split()) <= 3 and len(p.unrecognized) == before + 1 \
                and p.unrecognized[-1].reason == "not understood":
            p.unrecognized[-1] = Unrecognized(no, stripped, f"unknown key `{key}`")
    return p


# -- the result ------------------------------------------------------------------

def _nest(values: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for path, value in values.items():
        if path == ("component",):
            continue
        target = entry
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = list(value) if isinstance(value, list) else value
    return _ordered(entry, ())


def _ordered(d: dict[str, Any], where: tuple[str, ...]) -> dict[str, Any]:
    order = _ORDER.get(where)
    keys = sorted(d, key=lambda k: (order.index(k) if order and k in order else len(order or ()), k))
    return {k: _ordered(d[k], where + (k,)) if isinstance(d[k], dict) and where + (k,) in _ORDER else d[k]
            for k in keys}


def _flatten(entry: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    out: dict[tuple[str, ...], Any] = {}
    for k, v in entry.items():
        if isinstance(v, dict) and (prefix + (k,) in _ORDER or k == "tags"):
            out.update(_flatten(v, prefix + (k,)))
        else:
            out[prefix + (k,)] = v
    return out


def _validate(entry: dict[str, Any]) -> tuple[list[str], list[tuple[tuple[str, ...], str]]]:
    """Missing required fields, and other errors as (path, message)."""
    try:
        DeploymentSpec.model_validate(entry)
    except ValidationError as exc:
        missing, other = [], []
        for e in exc.errors():
            path = tuple(str(x) for x in e["loc"])
            if e["type"] == "missing":
                missing.append(".".join(path))
            else:  # our validators' words without pydantic's "Value error, " prefix
                other.append((path, str(e["ctx"]["error"]) if e["type"] == "value_error" and "error" in
                              e.get("ctx", {}) else e["msg"]))
        return missing, other
    return [], []


_SUBMODELS: dict[str, type[Surface]] = {"nodes": NodeSpec, "kubernetes": KubernetesSpec, "cloud": CloudSpec}


def _expand_missing(missing: list[str]) -> list[str]:
    """`nodes` → `nodes.cpu_cores`, `nodes.memory_gb`: name the values to state, not the section."""
    out = []
    for path in missing:
        model = _SUBMODELS.get(path)
        if model is None:
            out.append(path)
        else:
            out += [f"{path}.{k}" for k, f in model.model_fields.items() if f.is_required()]
    return sorted(dict.fromkeys(out))


@dataclass
class DeploymentConfig:
    """A `deployments:` entry read from a request, with what was not understood.

    `to_dict()` is the entry (validated against `DeploymentSpec`; when `missing` is
    not empty it lacks exactly those required values), `to_yaml()` the entry keyed
    by `name` as it appears under `deployments:`.
    """

    name: str
    entry: dict[str, Any]
    unrecognized: list[Unrecognized] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    component: str | None = None

    @classmethod
    def from_prompt(cls, text: str, name: str | None = None) -> "DeploymentConfig":
        p = _parse_lines(text)
        if ("cloud", "provider") in p.values:
            if not any(k[0] == "cloud" and k[1] != "provider" for k in p.values):
                p.assume("AWS was named but no region or instance type; no `cloud` section is written")
                del p.values[("cloud", "provider")]
            elif not re.search(r"\b(?:aws|amazon|ec2|provider|cloud)\b", p.origin[("cloud", "provider")].text, re.I):
                p.assume("cloud provider `aws` inferred from the AWS region or instance type")
        component = p.values.get(("component",))
        entry = _nest(p.values)
        # Drop values the model rejects (reported against their line), keep the rest.
        for _ in range(8):
            missing, other = _validate(entry)
            if not other:
                break
            flat = _flatten(entry)
            for path, msg in other:
                hit = next((k for k in sorted(flat, key=len, reverse=True) if path[:len(k)] == k), None)
                if hit is None:
                    continue
                line = p.origin.get(hit) or next((v for k, v in p.origin.items() if k[:len(hit)] == hit), None)
                if line is not None:
                    p.reject(line, f"`{'.'.join(hit)}: {shown(_fmt(flat[hit]))}` is invalid: {msg}")
                del flat[hit]
                p.values.pop(hit, None)
            entry = _nest({k: v for k, v in flat.items()})
        else:  # pragma: no cover - every round removes at least one value
            missing, _ = _validate(entry)
        derived = cls._derive_name(component, entry.get("environment"))
        chosen = name or p.explicit_name or derived
        if not name and not p.explicit_name:
            source = " and ".join(x for x in (f"`{component}`" if component else "", entry.get("environment", "")) if x)
            why = f"from {source}" if source else "nothing named it; give a name"
            p.assume(f"entry named `{chosen}` ({why})")
        unrecognized = sorted(p.unrecognized, key=lambda u: u.line)
        return cls(chosen, entry, unrecognized, p.assumptions, _expand_missing(missing), component)

    @staticmethod
    def _derive_name(component: str | None, environment: str | None) -> str:
        parts = [snake_case(component) if component else "", SHORT_ENV.get(environment or "", "")]
        name = "_".join(x for x in parts if x)
        name = re.sub(r"^[^a-z]+", "", name)
        return name or "deployment"

    # -- results ---------------------------------------------------------------
    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def spec(self) -> DeploymentSpec:
        """The validated entry; `IncompleteDeployment` when required values are missing."""
        if self.missing:
            raise IncompleteDeployment("the request does not say " + ", ".join(f"`{m}`" for m in self.missing))
        return DeploymentSpec.model_validate(self.entry)

    def to_dict(self) -> dict[str, Any]:
        import copy

        return copy.deepcopy(self.entry)

    def to_yaml(self) -> str:
        from hftc.deploy.schema_edit import dump_entry

        return dump_entry(self.name, self.entry)

    def merged_onto(self, existing: dict[str, Any]) -> "DeploymentConfig":
        """This request applied to an existing entry: stated values replace, the rest is kept."""
        flat = _flatten(existing)
        flat.update(_flatten(self.entry))
        entry = _nest(flat)
        missing, other = _validate(entry)
        unrecognized = list(self.unrecognized)
        for path, msg in other:
            unrecognized.append(Unrecognized(0, ".".join(path), f"the merged entry is invalid: {msg}"))
        kept = sorted(".".join(k) for k in flat if k not in _flatten(self.entry))
        assumptions = list(self.assumptions)
        if kept:
            assumptions.append(f"kept from the existing entry `{self.name}`: " + ", ".join(kept))
        return DeploymentConfig(self.name, entry, unrecognized, assumptions, _expand_missing(missing), self.component)
