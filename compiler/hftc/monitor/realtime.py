"""RealTimeMonitor: polls a metrics source, keeps a short history, computes percentiles
and rates, evaluates alerts, and writes performance reports.

    monitor = RealTimeMonitor(update_interval=0.1, source="http://127.0.0.1:9100/metrics")
    monitor.alert_manager.add_alert_rule(AlertRule("HighP99", "latency_p99_ns", 500, "gt", 5))
    task = asyncio.create_task(monitor.start_monitoring())
    ...
    monitor.stop(); await task
    report = await monitor.generate_performance_report(Path("out"))
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hftc.monitor.alerts import AlertManager
from hftc.monitor.exposition import Sample
from hftc.monitor.sources import SourceError, normalise, reader
from hftc.monitor.stats import Raw, Snapshot, snapshot

if TYPE_CHECKING:
    from hftc.monitor.report import PerformanceReport


class RealTimeMonitor:
    def __init__(self, update_interval: float = 0.1, source: str | None = None,
                 alert_manager: AlertManager | None = None, window_seconds: float = 10.0,
                 rate_window_seconds: float = 5.0, history_size: int = 3600,
                 clock: Callable[[], float] = time.time) -> None:
        if update_interval <= 0:
            raise ValueError("update_interval must be positive")
        self.update_interval = update_interval
        self.window_seconds = window_seconds
        self.rate_window_seconds = rate_window_seconds
        self.clock = clock
        self.alert_manager = alert_manager if alert_manager is not None else AlertManager(clock)
        self.raws: deque[Raw] = deque(maxlen=history_size)
        self.snapshots: deque[Snapshot] = deque(maxlen=history_size)
        self.errors: list[str] = []
        self.last_error: str | None = None
        self._source = ""
        self._read: Callable[[], list[Sample]] | None = None
        self._stop = asyncio.Event()
        self._running = False
        if source is not None:
            self.set_source(source)

    @property
    def source(self) -> str:
        return self._source

    def set_source(self, spec: str, timeout: float = 2.0) -> None:
        """An http(s) URL of a Prometheus-text endpoint, or `shm:NAME`."""
        self._source = normalise(spec)
        self._read = reader(self._source, timeout)

    def _base(self, now: float, seconds: float) -> Raw | None:
        """The oldest kept scrape no older than `seconds` before `now` (excluding the newest)."""
        base: Raw | None = None
        for raw in reversed(list(self.raws)[:-1]):
            if now - raw.timestamp > seconds:
                break
            base = raw
        if base is None and len(self.raws) >= 2:
            base = self.raws[-2]
        return base

    def ingest(self, samples: list[Sample], cumulative_latency: bool = False) -> Snapshot:
        """Add one scrape's samples, compute the snapshot and evaluate the alerts."""
        now = self.clock()
        raw = Raw.from_samples(samples, now)
        self.raws.append(raw)
        rate_base = self._base(now, self.rate_window_seconds)
        latency_base = None if cumulative_latency else self._base(now, self.window_seconds)
        snap = snapshot(raw, rate_base, latency_base, self._source)
        self.alert_manager.evaluate(snap.values(), now)
        snap.alerts = [s.to_json() for s in self.alert_manager.statuses()]
        self.snapshots.append(snap)
        return snap

    async def poll(self, cumulative_latency: bool = False) -> Snapshot:
        """Read the source once (in a worker thread) and ingest it. Raises SourceError."""
        if self._read is None:
            raise SourceError("no source set: pass source= or call set_source()")
        samples = await asyncio.to_thread(self._read)
        snap = self.ingest(samples, cumulative_latency)
        await self.alert_manager.drain()
        return snap

    async def start_monitoring(self) -> None:
        """Poll every `update_interval` until stop(); read errors are recorded, not raised."""
        self._running = True
        try:
            while not self._stop.is_set():
                try:
                    await self.poll()
                    self.last_error = None
                except SourceError as exc:
                    self.last_error = str(exc)
                    self.errors.append(str(exc))
                try:
                    await asyncio.wait_for(self._stop.wait(), self.update_interval)
                except TimeoutError:
                    pass
        finally:
            self._running = False
            self._stop = asyncio.Event()  # a later start_monitoring() runs again

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def latest(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    async def generate_performance_report(self, output_dir: Path | None = None,
                                          title: str = "Performance report") -> PerformanceReport:
        """Markdown and HTML over the kept history; written to `output_dir` when given."""
        from hftc.monitor.report import build_report

        return await asyncio.to_thread(build_report, list(self.raws), list(self.snapshots),
                                       self.alert_manager, self._source, output_dir, title)
