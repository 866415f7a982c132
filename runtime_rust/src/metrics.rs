//! Counters, gauges and latency histograms for the hot path, a Prometheus text-format
//! (0.0.4) exporter on a background thread, and the standard `process_*` metrics.
//!
//! Same metric model, binary layout and rendering as
//! `runtime_cpp/include/hft/metrics/registry.hpp`: the metrics live in one region (header
//! magic `HFTCMETR`, version 1, a 256-byte header then `capacity` 512-byte entries), on the
//! heap ([`Registry::new`]) or in a named shared-memory object
//! ([`crate::shm_metrics::ShmMetrics`]) that another process (a C++ or Rust reader,
//! `hftc monitor shm:NAME`) maps read-only. Histogram buckets are the 1-2-5 ladder from
//! 10 ns to 10 ms plus `+Inf`; labels are rendered in registration order; families appear
//! in order of first registration.
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
//! Registration takes a mutex and may fail (do it at start-up); the returned handles are a
//! pointer into the region plus a reference count keeping it mapped, usable from any
//! thread. Updates are relaxed atomic read-modify-writes; readers see each value
//! individually (a histogram's `_count` is the sum of the buckets read, so `+Inf` and
//! `_count` always agree).

use std::alloc::{self, Layout};
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Histogram upper bounds in ns (inclusive): 1-2-5 steps from 10 ns to 10 ms.
pub const LATENCY_BOUNDS_NS: [u64; 19] = [
    10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000,
    500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000,
];
const SLOTS: usize = LATENCY_BOUNDS_NS.len() + 1;

/// Region layout, version 1 (little-endian; see `registry.hpp` for the table).
pub mod layout {
    /// `magic`: the bytes `HFTCMETR` read as a little-endian u64.
    pub const MAGIC: u64 = 0x5254_454D_4354_4648;
    pub const VERSION: u32 = 1;
    pub const HEADER_BYTES: usize = 256;
    pub const ENTRY_BYTES: usize = 512;
    pub const NAME_BYTES: usize = 64;
    pub const LABEL_BYTES: usize = 128;
    pub const HELP_BYTES: usize = 128;
    pub(crate) const OFF_VERSION: usize = 8;
    pub(crate) const OFF_HEADER_BYTES: usize = 12;
    pub(crate) const OFF_ENTRY_BYTES: usize = 16;
    pub(crate) const OFF_CAPACITY: usize = 20;
    pub(crate) const OFF_COUNT: usize = 24;
    pub(crate) const OFF_BUCKET_BOUNDS: usize = 28;
    pub(crate) const OFF_BOUNDS: usize = 32;
    pub(crate) const OFF_CREATED: usize = 184;
    pub(crate) const E_NAME: usize = 0;
    pub(crate) const E_LABELS: usize = 64;
    pub(crate) const E_HELP: usize = 192;
    pub(crate) const E_TYPE: usize = 320;
    pub(crate) const E_VALUE: usize = 328;
    pub(crate) const E_BUCKETS: usize = 336;

    /// Bytes of a region with `capacity` entries.
    pub const fn region_bytes(capacity: u32) -> usize {
        HEADER_BYTES + capacity as usize * ENTRY_BYTES
    }
}
use layout::*;

const TYPE_COUNTER: u32 = 1;
const TYPE_GAUGE: u32 = 2;
const TYPE_HISTOGRAM: u32 = 3;

/// Why a metric could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsError {
    /// The metric or label name is not a valid Prometheus name (or is reserved).
    InvalidName(String),
    /// The name is already registered with another type.
    TypeConflict(String),
    /// A name, the rendered labels or the help text does not fit its fixed-size field.
    TooLong(String),
    /// Every entry of the region is in use.
    Full,
}

impl std::fmt::Display for MetricsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsError::InvalidName(n) => write!(f, "invalid metric or label name '{n}'"),
            MetricsError::TypeConflict(n) => write!(f, "'{n}' is registered with another type"),
            MetricsError::TooLong(what) => write!(f, "{what} does not fit the metric region"),
            MetricsError::Full => write!(f, "the metric region is full"),
        }
    }
}

impl std::error::Error for MetricsError {}

/// Memory holding a metric region: the heap, or a shared-memory mapping.
///
/// # Safety
/// `base()` must point to `len()` bytes, 8-byte aligned, that stay valid (and are
/// never moved) for as long as the value lives, and that are only accessed through
/// atomics or before publication (see [`Registry`]).
pub(crate) unsafe trait Memory: Send + Sync {
    fn base(&self) -> *mut u8;
    fn len(&self) -> usize;
}

struct HeapMemory {
    base: NonNull<u8>,
    layout: Layout,
}

// SAFETY: the allocation is owned and only reached through atomics or under the registry's
// mutex before publication.
unsafe impl Send for HeapMemory {}
// SAFETY: as above.
unsafe impl Sync for HeapMemory {}

impl HeapMemory {
    fn new(bytes: usize) -> HeapMemory {
        let layout = Layout::from_size_align(bytes, 64).expect("metric region size overflows");
        // SAFETY: `bytes` is at least HEADER_BYTES, so the layout has a non-zero size.
        let p = unsafe { alloc::alloc_zeroed(layout) };
        let base = NonNull::new(p).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        HeapMemory { base, layout }
    }
}

impl Drop for HeapMemory {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { alloc::dealloc(self.base.as_ptr(), self.layout) }
    }
}

// SAFETY: a live, zeroed, 64-byte aligned allocation of `layout.size()` bytes.
unsafe impl Memory for HeapMemory {
    fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }
    fn len(&self) -> usize {
        self.layout.size()
    }
}

/// A read view of a region (this process's or another's): bounds-checked atomic loads.
#[derive(Clone, Copy)]
pub(crate) struct View {
    base: *const u8,
    len: usize,
}

impl View {
    /// # Safety
    /// `base` must point to `len` readable bytes, 8-byte aligned, valid while the view is used.
    pub(crate) unsafe fn new(base: *const u8, len: usize) -> View {
        View { base, len }
    }

    fn u64_cell(&self, off: usize) -> &AtomicU64 {
        assert!(
            off.is_multiple_of(8) && off + 8 <= self.len,
            "metric region offset {off}"
        );
        // SAFETY: in bounds and aligned (base is 8-aligned); the memory outlives `self`.
        unsafe { &*self.base.add(off).cast::<AtomicU64>() }
    }

    fn u32_cell(&self, off: usize) -> &AtomicU32 {
        assert!(
            off.is_multiple_of(4) && off + 4 <= self.len,
            "metric region offset {off}"
        );
        // SAFETY: as for u64_cell.
        unsafe { &*self.base.add(off).cast::<AtomicU32>() }
    }

    pub(crate) fn u64(&self, off: usize) -> u64 {
        self.u64_cell(off).load(Ordering::Relaxed)
    }

    pub(crate) fn u32(&self, off: usize) -> u32 {
        self.u32_cell(off).load(Ordering::Relaxed)
    }

    /// Published entries: `count` loaded with acquire (entries are complete), capped.
    pub(crate) fn count(&self) -> u32 {
        let capacity = self.u32(OFF_CAPACITY);
        self.u32_cell(OFF_COUNT)
            .load(Ordering::Acquire)
            .min(capacity)
    }

    /// A NUL-padded text field (bytes after the first NUL ignored).
    pub(crate) fn text(&self, off: usize, cap: usize) -> String {
        assert!(off + cap <= self.len, "metric region field {off}+{cap}");
        let mut buf = vec![0u8; cap];
        // SAFETY: in bounds; published fields never change, so the copy cannot tear.
        unsafe { ptr::copy_nonoverlapping(self.base.add(off), buf.as_mut_ptr(), cap) };
        let end = buf.iter().position(|&b| b == 0).unwrap_or(cap);
        buf.truncate(end);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Checks a region header written by either runtime.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.len < HEADER_BYTES {
            return Err(format!("{} bytes is smaller than the header", self.len));
        }
        let magic = self.u64_cell(0).load(Ordering::Acquire);
        let ok = magic == MAGIC
            && self.u32(OFF_VERSION) == VERSION
            && self.u32(OFF_HEADER_BYTES) as usize == HEADER_BYTES
            && self.u32(OFF_ENTRY_BYTES) as usize == ENTRY_BYTES
            && self.u32(OFF_BUCKET_BOUNDS) as usize == LATENCY_BOUNDS_NS.len()
            && region_bytes(self.u32(OFF_CAPACITY)) <= self.len;
        if ok {
            Ok(())
        } else {
            Err("not a version-1 metric region".to_string())
        }
    }

    fn entry(i: u32) -> usize {
        HEADER_BYTES + i as usize * ENTRY_BYTES
    }

    /// Prometheus text format 0.0.4 of the published entries.
    pub(crate) fn expose(&self, out: &mut String) {
        let n = self.count();
        let entries: Vec<(String, String, u32)> = (0..n)
            .map(|i| {
                let e = View::entry(i);
                (
                    self.text(e + E_NAME, NAME_BYTES),
                    self.text(e + E_LABELS, LABEL_BYTES),
                    self.u32(e + E_TYPE),
                )
            })
            .collect();
        let mut done = vec![false; entries.len()];
        for i in 0..entries.len() {
            if done[i] {
                continue;
            }
            let (name, _, kind) = &entries[i];
            let _ = write!(out, "# HELP {name} ");
            escape(
                out,
                &self.text(View::entry(i as u32) + E_HELP, HELP_BYTES),
                false,
            );
            let type_name = match *kind {
                TYPE_COUNTER => "counter",
                TYPE_GAUGE => "gauge",
                TYPE_HISTOGRAM => "histogram",
                _ => "untyped",
            };
            let _ = writeln!(out, "\n# TYPE {name} {type_name}");
            for j in i..entries.len() {
                if done[j] || entries[j].0 != *name {
                    continue;
                }
                done[j] = true;
                let labels = &entries[j].1;
                let e = View::entry(j as u32);
                let raw = self.u64(e + E_VALUE);
                if *kind == TYPE_HISTOGRAM {
                    let mut cumulative = 0u64;
                    for b in 0..SLOTS {
                        cumulative += self.u64(e + E_BUCKETS + 8 * b);
                        let le = if b < LATENCY_BOUNDS_NS.len() {
                            self.u64(OFF_BOUNDS + 8 * b).to_string()
                        } else {
                            "+Inf".to_string()
                        };
                        push_series(out, name, "_bucket", labels, Some(&le));
                        let _ = writeln!(out, "{cumulative}");
                    }
                    push_series(out, name, "_sum", labels, None);
                    let _ = writeln!(out, "{raw}");
                    push_series(out, name, "_count", labels, None);
                    let _ = writeln!(out, "{cumulative}");
                } else {
                    push_series(out, name, "", labels, None);
                    if *kind == TYPE_GAUGE {
                        push_f64(out, f64::from_bits(raw));
                        out.push('\n');
                    } else {
                        let _ = writeln!(out, "{raw}");
                    }
                }
            }
        }
    }
}

/// A pointer to one 8-byte cell of a region, keeping the region alive.
#[derive(Clone)]
struct Cell {
    ptr: NonNull<AtomicU64>,
    _region: Arc<dyn Memory>,
}

// SAFETY: the cell is an atomic in memory that lives as long as `_region`.
unsafe impl Send for Cell {}
// SAFETY: as above; all access is atomic.
unsafe impl Sync for Cell {}

impl Cell {
    fn new(region: &Arc<dyn Memory>, off: usize) -> Cell {
        assert!(off.is_multiple_of(8) && off + 8 <= region.len());
        // SAFETY: in bounds of the region (checked above).
        let p = unsafe { region.base().add(off) }.cast::<AtomicU64>();
        Cell {
            ptr: NonNull::new(p).expect("region base is not null"),
            _region: Arc::clone(region),
        }
    }

    #[inline]
    fn get(&self) -> &AtomicU64 {
        // SAFETY: aligned, in bounds and kept alive by `_region` (see `new`).
        unsafe { self.ptr.as_ref() }
    }

    #[inline]
    fn at(&self, i: usize) -> &AtomicU64 {
        // SAFETY: only histograms call this, with i < SLOTS: the bucket cells follow
        // `value` inside the same 512-byte entry.
        unsafe { &*self.ptr.as_ptr().add(1 + i) }
    }
}

impl std::fmt::Debug for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cell({:?})", self.ptr)
    }
}

/// A monotonically increasing count.
#[derive(Clone, Debug)]
pub struct Counter(Cell);

impl Counter {
    #[inline]
    pub fn inc(&self, n: u64) {
        self.0.get().fetch_add(n, Ordering::Relaxed);
    }
    pub fn value(&self) -> u64 {
        self.0.get().load(Ordering::Relaxed)
    }
}

/// A value that goes up and down, stored as `f64` bits.
#[derive(Clone, Debug)]
pub struct Gauge(Cell);

impl Gauge {
    #[inline]
    pub fn set(&self, v: f64) {
        self.0.get().store(v.to_bits(), Ordering::Relaxed);
    }
    /// Adds `d` with a compare-exchange loop; safe from any thread.
    #[inline]
    pub fn add(&self, d: f64) {
        let cell = self.0.get();
        let mut old = cell.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(old) + d).to_bits();
            match cell.compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(actual) => old = actual,
            }
        }
    }
    pub fn value(&self) -> f64 {
        f64::from_bits(self.0.get().load(Ordering::Relaxed))
    }
}

/// A latency histogram over [`LATENCY_BOUNDS_NS`]: the cell is the entry's `value` (the
/// sum), the buckets follow it.
#[derive(Clone, Debug)]
pub struct Histogram(Cell);

impl Histogram {
    #[inline]
    pub fn record(&self, ns: u64) {
        let i = LATENCY_BOUNDS_NS.partition_point(|&b| b < ns);
        self.0.at(i).fetch_add(1, Ordering::Relaxed);
        self.0.get().fetch_add(ns, Ordering::Relaxed);
    }
    /// Sum of all buckets (what `_count` reports).
    pub fn count(&self) -> u64 {
        (0..SLOTS)
            .map(|i| self.0.at(i).load(Ordering::Relaxed))
            .sum()
    }
    pub fn sum(&self) -> u64 {
        self.0.get().load(Ordering::Relaxed)
    }
    /// Non-cumulative count of bucket `i` (the last one is `+Inf`).
    pub fn bucket(&self, i: usize) -> u64 {
        assert!(i < SLOTS, "bucket {i} out of range");
        self.0.at(i).load(Ordering::Relaxed)
    }
}

/// The set of metrics one process exports: a fixed-capacity region in the layout above.
pub struct Registry {
    region: Arc<dyn Memory>,
    lock: Mutex<()>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("bytes", &self.region.len())
            .field("size", &self.size())
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
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
    /// A heap registry with room for 64 series.
    pub fn new() -> Self {
        Self::with_capacity(64)
    }

    /// A heap registry with room for `capacity` series (at least 1).
    pub fn with_capacity(capacity: u32) -> Self {
        let capacity = capacity.max(1);
        let mem: Arc<dyn Memory> = Arc::new(HeapMemory::new(region_bytes(capacity)));
        Self::format(mem, capacity)
    }

    /// Formats `region` (zeroed, at least `region_bytes(capacity)`) and publishes its header.
    pub(crate) fn format(region: Arc<dyn Memory>, capacity: u32) -> Self {
        assert!(capacity > 0 && region.len() >= region_bytes(capacity));
        let reg = Registry {
            region,
            lock: Mutex::new(()),
        };
        let v = reg.view();
        v.u32_cell(OFF_VERSION).store(VERSION, Ordering::Relaxed);
        v.u32_cell(OFF_HEADER_BYTES)
            .store(HEADER_BYTES as u32, Ordering::Relaxed);
        v.u32_cell(OFF_ENTRY_BYTES)
            .store(ENTRY_BYTES as u32, Ordering::Relaxed);
        v.u32_cell(OFF_CAPACITY).store(capacity, Ordering::Relaxed);
        v.u32_cell(OFF_COUNT).store(0, Ordering::Relaxed);
        v.u32_cell(OFF_BUCKET_BOUNDS)
            .store(LATENCY_BOUNDS_NS.len() as u32, Ordering::Relaxed);
        for (i, b) in LATENCY_BOUNDS_NS.iter().enumerate() {
            v.u64_cell(OFF_BOUNDS + 8 * i).store(*b, Ordering::Relaxed);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        v.u64_cell(OFF_CREATED).store(now, Ordering::Relaxed);
        v.u64_cell(0).store(MAGIC, Ordering::Release); // last: a visible magic means a full header
        reg
    }

    fn view(&self) -> View {
        // SAFETY: the region outlives the view's uses, which all borrow `self`.
        unsafe { View::new(self.region.base(), self.region.len()) }
    }

    /// Copies `text` into the unpublished entry field at `off`, NUL-padded.
    fn write_field(&self, off: usize, cap: usize, text: &str) {
        let bytes = text.as_bytes();
        assert!(bytes.len() < cap && off + cap <= self.region.len());
        // SAFETY: in bounds; the entry is not yet published (count excludes it) and
        // registration is serialised by `lock`, so no one else reads or writes it.
        unsafe {
            let dst = self.region.base().add(off);
            ptr::write_bytes(dst, 0, cap);
            ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
        }
    }

    fn register(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        kind: u32,
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
        for (what, text, cap) in [
            ("metric name", name, NAME_BYTES),
            ("rendered labels", rendered.as_str(), LABEL_BYTES),
            ("help text", help, HELP_BYTES),
        ] {
            if text.len() >= cap {
                return Err(MetricsError::TooLong(format!(
                    "{what} of '{name}' ({} bytes, at most {})",
                    text.len(),
                    cap - 1
                )));
            }
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let v = self.view();
        let n = v.u32(OFF_COUNT);
        for i in 0..n {
            let e = View::entry(i);
            if v.text(e + E_NAME, NAME_BYTES) != name {
                continue;
            }
            if v.u32(e + E_TYPE) != kind {
                return Err(MetricsError::TypeConflict(name.to_string()));
            }
            if v.text(e + E_LABELS, LABEL_BYTES) == rendered {
                return Ok(Cell::new(&self.region, e + E_VALUE));
            }
        }
        if n >= v.u32(OFF_CAPACITY) {
            return Err(MetricsError::Full);
        }
        let e = View::entry(n);
        self.write_field(e + E_NAME, NAME_BYTES, name);
        self.write_field(e + E_LABELS, LABEL_BYTES, &rendered);
        self.write_field(e + E_HELP, HELP_BYTES, help);
        v.u32_cell(e + E_TYPE).store(kind, Ordering::Relaxed);
        let initial = if kind == TYPE_GAUGE {
            0f64.to_bits()
        } else {
            0
        };
        v.u64_cell(e + E_VALUE).store(initial, Ordering::Relaxed);
        v.u32_cell(OFF_COUNT).store(n + 1, Ordering::Release);
        Ok(Cell::new(&self.region, e + E_VALUE))
    }

    /// Registers (or returns the existing) counter `name{labels}`.
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Counter, MetricsError> {
        self.register(name, help, labels, TYPE_COUNTER).map(Counter)
    }

    /// Registers (or returns the existing) gauge `name{labels}`.
    pub fn gauge(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Gauge, MetricsError> {
        self.register(name, help, labels, TYPE_GAUGE).map(Gauge)
    }

    /// Registers (or returns the existing) latency histogram `name{labels}`.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Histogram, MetricsError> {
        self.register(name, help, labels, TYPE_HISTOGRAM)
            .map(Histogram)
    }

    /// Number of series registered.
    pub fn size(&self) -> u32 {
        self.view().count()
    }

    /// Number of series the region can hold.
    pub fn capacity(&self) -> u32 {
        self.view().u32(OFF_CAPACITY)
    }

    /// Prometheus text format 0.0.4.
    pub fn expose(&self) -> String {
        let mut out = String::new();
        self.view().expose(&mut out);
        out
    }
}

/// The standard process collector's Linux series, as client_golang and prometheus_client
/// name them, read from /proc at call time (a series whose source is unreadable is
/// omitted). CPU and start times are in clock ticks of USER_HZ = 100, as on every Linux
/// architecture Rust targets (the Prometheus procfs library assumes the same).
pub fn process_metrics() -> String {
    const USER_HZ: f64 = 100.0;
    let mut out = String::new();
    let mut series = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} ");
        push_f64(&mut out, value);
        out.push('\n');
    };
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name, starting with field 3 (state).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let field = |n: usize| -> Option<f64> { fields.get(n - 3)?.parse::<f64>().ok() };
    if let (Some(utime), Some(stime)) = (field(14), field(15)) {
        series(
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            (utime + stime) / USER_HZ,
        );
    }
    if let Some(vsize) = field(23) {
        series(
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            vsize,
        );
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    if let Some(kb) = rss_kb {
        series(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            kb * 1024.0,
        );
    }
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        // Less the descriptor that reads the directory.
        let n = dir.count().saturating_sub(1);
        series(
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            n as f64,
        );
    }
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let max_fds = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok());
    if let Some(max) = max_fds {
        series(
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            max,
        );
    }
    let btime = std::fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<f64>().ok());
    if let (Some(boot), Some(start)) = (btime, field(22)) {
        series(
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            boot + start / USER_HZ,
        );
    }
    out
}

/// Serves `GET /metrics` (the registry, then [`process_metrics`]) and `GET /healthz` on a
/// background thread, one connection at a time; stops on [`Exporter::stop`] or drop.
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
            registry.expose() + &process_metrics(),
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
    fn fixed_size_fields_and_capacity() {
        let reg = Registry::with_capacity(2);
        assert_eq!(reg.capacity(), 2);
        let long = "x".repeat(NAME_BYTES);
        assert!(matches!(
            reg.counter(&long, "h", &[]),
            Err(MetricsError::TooLong(_))
        ));
        assert!(matches!(
            reg.counter("a", &"h".repeat(HELP_BYTES), &[]),
            Err(MetricsError::TooLong(_))
        ));
        reg.counter("a", "A.", &[]).unwrap();
        reg.counter("b", "B.", &[]).unwrap();
        assert_eq!(reg.counter("c", "C.", &[]).unwrap_err(), MetricsError::Full);
        assert_eq!(reg.size(), 2);
        // An existing series is found again even when the region is full.
        reg.counter("a", "A.", &[]).unwrap().inc(3);
        assert!(reg.expose().contains("\na 3\n"));
    }

    #[test]
    fn histogram_buckets_are_inclusive_upper_bounds() {
        let reg = Registry::new();
        let h = reg.histogram("h_ns", "H.", &[]).unwrap();
        for v in [0, 10, 11, 10_000_000, 10_000_001] {
            h.record(v);
        }
        assert_eq!(
            (h.bucket(0), h.bucket(1), h.bucket(18), h.bucket(19)),
            (2, 1, 1, 1)
        );
        assert_eq!(h.count(), 5);
    }

    #[test]
    fn process_metrics_have_the_standard_names() {
        let text = process_metrics();
        for (name, kind) in [
            ("process_cpu_seconds_total", "counter"),
            ("process_virtual_memory_bytes", "gauge"),
            ("process_resident_memory_bytes", "gauge"),
            ("process_open_fds", "gauge"),
            ("process_max_fds", "gauge"),
            ("process_start_time_seconds", "gauge"),
        ] {
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n{name} ")),
                "{text}"
            );
        }
        let value = |name: &str| -> f64 {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{name} ")))
                .unwrap();
            line.split(' ').nth(1).unwrap().parse().unwrap()
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = value("process_start_time_seconds");
        assert!(
            start > now - 86_400.0 * 365.0 && start <= now + 1.0,
            "{start}"
        );
        assert!(value("process_resident_memory_bytes") > 0.0);
        assert!(value("process_open_fds") >= 3.0);
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
        let body = resp.split_once("\r\n\r\n").unwrap().1;
        assert!(body.starts_with(&reg.expose()), "{body}");
        assert!(body.contains("\n# TYPE process_cpu_seconds_total counter\n"));
        assert!(resp.contains("hftc_orders_total{pipeline=\"p\"} 7\n"));
        assert!(get(http.local_addr(), "/healthz").ends_with("\r\n\r\nok\n"));
        assert!(get(http.local_addr(), "/nope").starts_with("HTTP/1.1 404"));
        http.stop();
        http.stop();
        assert!(TcpStream::connect(http.local_addr()).is_err());
    }
}
