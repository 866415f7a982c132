"""Live monitoring of running engines: metric sources (Prometheus text over HTTP, or the
runtime's shared-memory metric region), percentiles and rates, an in-process alert
engine, performance reports, and the `hftc monitor` terminal view."""

from hftc.monitor.alerts import AlertManager, AlertRule, AlertState, AlertStatus, Unsupported, rules_from_schema
from hftc.monitor.exposition import ExpositionError, Family, Sample, parse, samples
from hftc.monitor.realtime import RealTimeMonitor
from hftc.monitor.report import PerformanceReport
from hftc.monitor.sources import SourceError, decode_region, fetch_http, read_shm
from hftc.monitor.stats import Snapshot, histogram_quantile

__all__ = [
    "AlertManager", "AlertRule", "AlertState", "AlertStatus", "ExpositionError", "Family", "PerformanceReport",
    "RealTimeMonitor", "Sample", "Snapshot", "SourceError", "Unsupported", "decode_region", "fetch_http",
    "histogram_quantile", "parse", "read_shm", "rules_from_schema", "samples",
]
