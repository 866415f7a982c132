//! Counters, gauges and latency histograms for the hot path, and a Prometheus
//! text-format (0.0.4) exporter on a background thread.
//!
//! Same metric model and rendering as `runtime_cpp/include/hft/metrics/registry.hpp`:
//! histogram buckets are the 1-2-5 ladder from 10 ns to 10 ms plus `+Inf`, labels are
//! rendered in registration order, families appear in order of first registration.
//!
//! ```
//! use std::sync::Arc;
//! use runtime_rust::metrics::{Exporter, Registry};
//! let reg = Arc::new(Registry::new());
//! let orders = reg.counter("hftc_orders_total", "Orders sent.", &[("pipeline", "fx")]).unwrap();
//! orders.inc(1); // one relaxed atomic add: no lock, no allocation
//! let http = Exporter::start(Arc::clone(&reg), "127.0.0.1:0").unwrap();
//! let _port = http.local_addr().port();
//! ```
//!
//! Registration takes a mutex and allocates (do it at start-up); the returned handles
//! are cheap clones of an `Arc` and may be used from any thread.
#![deny(unsafe_code)]

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Histogram upper bounds in ns (inclusive): 1-2-5 steps from 10 ns to 10 ms.
pub const LATENCY_BOUNDS_NS: [u64; 19] = [
    10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000,
    500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000,
];
const SLOTS: usize = LATENCY_BOUNDS_NS.len() + 1;

/// Why a metric could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsError {
    /// The metric or label name is not a valid Prometheus name (or is reserved).
    InvalidName(String),
    /// The name is already registered with another type.
    TypeConflict(String),
}

impl std::fmt::Display for MetricsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsError::InvalidName(n) => write!(f, "invalid metric or label name '{n}'"),
            MetricsError::TypeConflict(n) => write!(f, "'{n}' is registered with another type"),
        }
    }
}

impl std::error::Error for MetricsError {}

/// A monotonically increasing count.
#[derive(Clone, Debug)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    #[inline]
    pub fn inc(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn value(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down, stored as `f64` bits.
#[derive(Clone, Debug)]
pub struct Gauge(Arc<AtomicU64>);

impl Gauge {
    #[inline]
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    /// Adds `d` with a compare-exchange loop; safe from any thread.
    #[inline]
    pub fn add(&self, d: f64) {
        let mut old = self.0.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(old) + d).to_bits();
            match self
                .0
                .compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => old = actual,
            }
        }
    }
    pub fn value(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

#[derive(Debug)]
struct HistogramCells {
    buckets: [AtomicU64; SLOTS],
    sum: AtomicU64,
}

/// A latency histogram over [`LATENCY_BOUNDS_NS`].
#[derive(Clone, Debug)]
pub struct Histogram(Arc<HistogramCells>);

impl Histogram {
    #[inline]
    pub fn record(&self, ns: u64) {
        let i = LATENCY_BOUNDS_NS.partition_point(|&b| b < ns);
        self.0.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.0.sum.fetch_add(ns, Ordering::Relaxed);
    }
    /// Sum of all buckets (what `_count` reports).
    pub fn count(&self) -> u64 {
        self.0
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .sum()
    }
    pub fn sum(&self) -> u64 {
        self.0.sum.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

#[derive(Debug)]
enum Cell {
    Counter(Counter),
    Gauge(Gauge),
    Histogram(Histogram),
}

#[derive(Debug)]
struct Series {
    name: String,
    help: String,
    labels: String,
    kind: Kind,
    cell: Cell,
}

/// The set of metrics one process exports.
#[derive(Debug, Default)]
pub struct Registry {
    series: Mutex<Vec<Series>>,
}

fn valid_name(s: &str, allow_colon: bool) -> bool {
    !s.is_empty()
        && s.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphabetic()
                || c == '_'
                || (allow_colon && c == ':')
                || (i > 0 && c.is_ascii_digit())
        })
}

fn escape(out: &mut String, s: &str, quotes: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            _ => out.push(c),
        }
    }
}

fn push_f64(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

fn push_series(out: &mut String, name: &str, suffix: &str, labels: &str, le: Option<&str>) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        out.push_str(labels);
        if let Some(le) = le {
            if !labels.is_empty() {
                out.push(',');
            }
            let _ = write!(out, "le=\"{le}\"");
        }
        out.push('}');
    }
    out.push(' ');
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    fn register(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        kind: Kind,
    ) -> Result<Cell, MetricsError> {
        if !valid_name(name, true) {
            return Err(MetricsError::InvalidName(name.to_string()));
        }
        let mut rendered = String::new();
        for (k, v) in labels {
            if !valid_name(k, false) || *k == "le" || k.starts_with("__") {
                return Err(MetricsError::InvalidName((*k).to_string()));
            }
            if !rendered.is_empty() {
                rendered.push(',');
            }
            rendered.push_str(k);
            rendered.push_str("=\"");
            escape(&mut rendered, v, true);
            rendered.push('"');
        }
        let mut all = self.series.lock().unwrap_or_else(|e| e.into_inner());
        for s in all.iter().filter(|s| s.name == name) {
            if s.kind != kind {
                return Err(MetricsError::TypeConflict(name.to_string()));
            }
            if s.labels == rendered {
                return Ok(match &s.cell {
                    Cell::Counter(c) => Cell::Counter(c.clone()),
                    Cell::Gauge(g) => Cell::Gauge(g.clone()),
                    Cell::Histogram(h) => Cell::Histogram(h.clone()),
                });
            }
        }
        let cell = match kind {
            Kind::Counter => Cell::Counter(Counter(Arc::new(AtomicU64::new(0)))),
            Kind::Gauge => Cell::Gauge(Gauge(Arc::new(AtomicU64::new(0f64.to_bits())))),
            Kind::Histogram => Cell::Histogram(Histogram(Arc::new(HistogramCells {
                buckets: std::array::from_fn(|_| AtomicU64::new(0)),
                sum: AtomicU64::new(0),
            }))),
        };
        let handle = match &cell {
            Cell::Counter(c) => Cell::Counter(c.clone()),
            Cell::Gauge(g) => Cell::Gauge(g.clone()),
            Cell::Histogram(h) => Cell::Histogram(h.clone()),
        };
        all.push(Series {
            name: name.to_string(),
            help: help.to_string(),
            labels: rendered,
            kind,
            cell,
        });
        Ok(handle)
    }

    /// Registers (or returns the existing) counter `name{labels}`.
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Counter, MetricsError> {
        match self.register(name, help, labels, Kind::Counter)? {
            Cell::Counter(c) => Ok(c),
            _ => Err(MetricsError::TypeConflict(name.to_string())),
        }
    }

    /// Registers (or returns the existing) gauge `name{labels}`.
    pub fn gauge(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Gauge, MetricsError> {
        match self.register(name, help, labels, Kind::Gauge)? {
            Cell::Gauge(g) => Ok(g),
            _ => Err(MetricsError::TypeConflict(name.to_string())),
        }
    }

    /// Registers (or returns the existing) latency histogram `name{labels}`.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Histogram, MetricsError> {
        match self.register(name, help, labels, Kind::Histogram)? {
            Cell::Histogram(h) => Ok(h),
            _ => Err(MetricsError::TypeConflict(name.to_string())),
        }
    }

    /// Prometheus text format 0.0.4.
    pub fn expose(&self) -> String {
        let all = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        let mut done = vec![false; all.len()];
        for i in 0..all.len() {
            if done[i] {
                continue;
            }
            let first = &all[i];
            let kind = match first.kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
                Kind::Histogram => "histogram",
            };
            let _ = write!(out, "# HELP {} ", first.name);
            escape(&mut out, &first.help, false);
            let _ = writeln!(out, "\n# TYPE {} {kind}", first.name);
            for j in i..all.len() {
                let s = &all[j];
                if done[j] || s.name != first.name {
                    continue;
                }
                done[j] = true;
                match &s.cell {
                    Cell::Counter(c) => {
                        push_series(&mut out, &s.name, "", &s.labels, None);
                        let _ = writeln!(out, "{}", c.value());
                    }
                    Cell::Gauge(g) => {
                        push_series(&mut out, &s.name, "", &s.labels, None);
                        push_f64(&mut out, g.value());
                        out.push('\n');
                    }
                    Cell::Histogram(h) => {
                        let mut cumulative = 0u64;
                        for (b, cell) in h.0.buckets.iter().enumerate() {
                            cumulative += cell.load(Ordering::Relaxed);
                            let le = LATENCY_BOUNDS_NS
                                .get(b)
                                .map_or_else(|| "+Inf".to_string(), u64::to_string);
                            push_series(&mut out, &s.name, "_bucket", &s.labels, Some(&le));
                            let _ = writeln!(out, "{cumulative}");
                        }
                        push_series(&mut out, &s.name, "_sum", &s.labels, None);
                        let _ = writeln!(out, "{}", h.sum());
                        push_series(&mut out, &s.name, "_count", &s.labels, None);
                        let _ = writeln!(out, "{cumulative}");
                    }
                }
            }
        }
        out
    }
}

/// Serves `GET /metrics` and `GET /healthz` on a background thread, one connection at
/// a time; stops on [`Exporter::stop`] or drop.
#[derive(Debug)]
pub struct Exporter {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    /// Binds `addr` (e.g. `"0.0.0.0:9100"`, port 0 for a free port) and starts serving.
    pub fn start(registry: Arc<Registry>, addr: &str) -> io::Result<Exporter> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("hft-metrics-http".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let _ = serve(&registry, stream);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })?;
        Ok(Exporter {
            addr: local,
            stop,
            thread: Some(thread),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the thread and closes the socket; idempotent.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(registry: &Registry, mut stream: TcpStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    stream.set_write_timeout(Some(Duration::from_secs(1)))?;
    let mut request = Vec::new();
    let mut buf = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16384 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&request);
    let line = text.split("\r\n").next().unwrap_or("");
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let plain = "text/plain; charset=utf-8";
    let (status, ctype, body) = if parts.next().is_none() {
        ("400 Bad Request", plain, "bad request\n".to_string())
    } else if method != "GET" && method != "HEAD" {
        (
            "405 Method Not Allowed",
            plain,
            "method not allowed\n".to_string(),
        )
    } else if path == "/metrics" {
        (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            registry.expose(),
        )
    } else if path == "/healthz" {
        ("200 OK", plain, "ok\n".to_string())
    } else {
        ("404 Not Found", plain, "not found\n".to_string())
    };
    let body = if method == "HEAD" {
        String::new()
    } else {
        body
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_exact_format() {
        let reg = Registry::new();
        let c = reg
            .counter("hftc_messages_total", "Messages.", &[("pipeline", "fx")])
            .unwrap();
        let g = reg
            .gauge(
                "hftc_position",
                "Position.",
                &[("pipeline", "fx"), ("instrument", "E\"U")],
            )
            .unwrap();
        let h = reg.histogram("lat_ns", "Latency.", &[]).unwrap();
        c.inc(41);
        c.inc(1);
        g.set(-2.5);
        h.record(10);
        h.record(150);
        h.record(20_000_000);
        let text = reg.expose();
        let expected_head =
            "# HELP hftc_messages_total Messages.\n# TYPE hftc_messages_total counter\n\
            hftc_messages_total{pipeline=\"fx\"} 42\n# HELP hftc_position Position.\n\
            # TYPE hftc_position gauge\nhftc_position{pipeline=\"fx\",instrument=\"E\\\"U\"} -2.5\n\
            # HELP lat_ns Latency.\n# TYPE lat_ns histogram\nlat_ns_bucket{le=\"10\"} 1\n";
        assert!(text.starts_with(expected_head), "{text}");
        assert!(text.contains("lat_ns_bucket{le=\"200\"} 2\n"));
        assert!(text.contains("lat_ns_bucket{le=\"10000000\"} 2\nlat_ns_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.ends_with("lat_ns_sum 20000160\nlat_ns_count 3\n"));
        assert_eq!(text.lines().count(), 3 + 3 + 2 + SLOTS + 2);
    }

    #[test]
    fn reregistration_and_errors() {
        let reg = Registry::new();
        let a = reg.gauge("up", "Up.", &[]).unwrap();
        a.set(1.0);
        a.add(0.25);
        assert_eq!(reg.gauge("up", "again", &[]).unwrap().value(), 1.25);
        assert_eq!(
            reg.counter("up", "x", &[]).unwrap_err(),
            MetricsError::TypeConflict("up".into())
        );
        assert!(matches!(
            reg.counter("bad-name", "x", &[]),
            Err(MetricsError::InvalidName(_))
        ));
        assert!(matches!(
            reg.counter("x", "x", &[("le", "1")]),
            Err(MetricsError::InvalidName(_))
        ));
        a.set(f64::INFINITY);
        assert!(reg.expose().contains("up +Inf\n"));
    }

    #[test]
    fn concurrent_updates_sum() {
        let reg = Registry::new();
        let c = reg.counter("c_total", "C.", &[]).unwrap();
        let h = reg.histogram("h_ns", "H.", &[]).unwrap();
        let g = reg.gauge("g", "G.", &[]).unwrap();
        const N: u64 = 50_000;
        std::thread::scope(|s| {
            for base in [100u64, 5000] {
                let (c, h, g) = (c.clone(), h.clone(), g.clone());
                s.spawn(move || {
                    for i in 0..N {
                        c.inc(1);
                        h.record(base + i % 1000);
                        g.add(1.0);
                    }
                });
            }
        });
        assert_eq!(c.value(), 2 * N);
        assert_eq!(h.count(), 2 * N);
        let expected: u64 = (0..N).map(|i| 100 + 5000 + 2 * (i % 1000)).sum();
        assert_eq!(h.sum(), expected);
        assert_eq!(g.value(), 2.0 * N as f64);
    }

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn http_scrape_over_loopback() {
        let reg = Arc::new(Registry::new());
        reg.counter("hftc_orders_total", "Orders.", &[("pipeline", "p")])
            .unwrap()
            .inc(7);
        let mut http = Exporter::start(Arc::clone(&reg), "127.0.0.1:0").unwrap();
        let resp = get(http.local_addr(), "/metrics");
        assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
        assert!(resp.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        assert!(resp.ends_with(&reg.expose()));
        assert!(resp.contains("hftc_orders_total{pipeline=\"p\"} 7\n"));
        assert!(get(http.local_addr(), "/healthz").ends_with("\r\n\r\nok\n"));
        assert!(get(http.local_addr(), "/nope").starts_with("HTTP/1.1 404"));
        http.stop();
        http.stop();
        assert!(TcpStream::connect(http.local_addr()).is_err());
    }
}
