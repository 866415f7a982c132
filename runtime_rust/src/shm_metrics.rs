//! A metric registry in a named POSIX shared-memory object, so another process (a monitor,
//! `hftc monitor shm:NAME`, a C++ `hft::metrics::ShmMetricsReader`) reads the live values
//! without any IPC from the engine.
//!
//! The bytes are exactly the version-1 region of `runtime_cpp/include/hft/metrics/registry.hpp`
//! (see [`crate::metrics::layout`]), so either runtime reads what the other writes.
//!
//! ```
//! use runtime_rust::shm_metrics::{ShmMetrics, ShmMetricsReader};
//! let name = format!("hftc_doc_{}", std::process::id());
//! let shm = ShmMetrics::create(&name, 16).unwrap();              // engine: create
//! let orders = shm.registry().counter("hftc_orders_total", "Orders.", &[]).unwrap();
//! orders.inc(2);
//! let reader = ShmMetricsReader::attach(&name).unwrap();          // any process: attach
//! assert!(reader.expose().contains("hftc_orders_total 2\n"));
//! ```
//!
//! The object is `/dev/shm/<name>` (what `shm_open("/<name>")` uses on Linux), created with
//! [`std::fs::OpenOptions`] and mapped with `mmap(MAP_SHARED)`, declared here directly (no
//! `libc` crate). Linux only. The owner unlinks the name when dropped unless told otherwise;
//! handles keep the mapping itself alive.

use std::ffi::c_void;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::metrics::layout::{region_bytes, ENTRY_BYTES, E_LABELS, E_NAME, E_TYPE, E_VALUE};
use crate::metrics::layout::{HEADER_BYTES, LABEL_BYTES, NAME_BYTES};
use crate::metrics::{Memory, Registry, View, LATENCY_BOUNDS_NS};

use crate::shm::sys;

/// Maps a shared-memory name (with or without the leading `/`) to its file.
fn shm_path(name: &str) -> io::Result<PathBuf> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    if bare.is_empty() || bare.len() > 255 || bare.contains('/') || bare == "." || bare == ".." {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid shared-memory name {name:?}"),
        ));
    }
    Ok(PathBuf::from(crate::shm::SHM_DIR).join(bare))
}

/// An `mmap(MAP_SHARED)` of a whole object, unmapped on drop.
struct Mapping {
    base: *mut u8,
    len: usize,
}

// SAFETY: process-wide memory, valid from any thread; the metric code reaches it only through
// atomics, or under the registry's mutex before an entry is published.
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Mapping {
    fn map(file: &File, len: usize, writable: bool) -> io::Result<Mapping> {
        let prot = if writable {
            sys::PROT_READ | sys::PROT_WRITE
        } else {
            sys::PROT_READ
        };
        // SAFETY: a fresh mapping of a file we hold open; the kernel validates the arguments.
        let p = unsafe {
            sys::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                sys::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if p as isize == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            base: p.cast::<u8>(),
            len,
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: mapped in `map` with this length; nothing refers to it any more.
        unsafe { sys::munmap(self.base.cast::<c_void>(), self.len) };
    }
}

// SAFETY: a live, page-aligned mapping of `len` bytes that never moves.
unsafe impl Memory for Mapping {
    fn base(&self) -> *mut u8 {
        self.base
    }
    fn len(&self) -> usize {
        self.len
    }
}

/// Owner side: creates (or replaces) the named object and a [`Registry`] inside it.
#[derive(Debug)]
pub struct ShmMetrics {
    registry: Arc<Registry>,
    path: PathBuf,
    unlink_on_drop: bool,
}

impl ShmMetrics {
    /// Creates `/dev/shm/<name>` with room for `capacity` series (a stale object from a
    /// crashed run is replaced) and formats it.
    pub fn create(name: &str, capacity: u32) -> io::Result<ShmMetrics> {
        let path = shm_path(name)?;
        let capacity = capacity.max(1);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&path)?;
        let bytes = region_bytes(capacity);
        let mapped = file
            .set_len(bytes as u64)
            .and_then(|()| Mapping::map(&file, bytes, true));
        let mapping = match mapped {
            Ok(m) => m,
            Err(e) => {
                let _ = fs::remove_file(&path);
                return Err(e);
            }
        };
        let registry = Arc::new(Registry::format(Arc::new(mapping), capacity));
        Ok(ShmMetrics {
            registry,
            path,
            unlink_on_drop: true,
        })
    }

    /// The registry in the object: register and update metrics through it, or serve it
    /// with [`crate::metrics::Exporter`] as well.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The object's file, `/dev/shm/<name>`.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Whether dropping the owner removes the name (default: yes).
    pub fn set_unlink_on_drop(&mut self, unlink: bool) {
        self.unlink_on_drop = unlink;
    }
}

impl Drop for ShmMetrics {
    fn drop(&mut self) {
        if self.unlink_on_drop {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Kind of a published series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
}

/// One series read from shared memory.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSample {
    pub name: String,
    /// Rendered label pairs, without braces.
    pub labels: String,
    pub kind: MetricType,
    /// Counter value, gauge value, or histogram count.
    pub value: f64,
    /// Histogram sum (ns), else 0.
    pub sum: u64,
    /// Histogram per-bucket (non-cumulative) counts, the last one `+Inf`; else empty.
    pub buckets: Vec<u64>,
}

/// Reader side: maps the object read-only after checking its header.
pub struct ShmMetricsReader {
    mapping: Mapping,
}

impl std::fmt::Debug for ShmMetricsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShmMetricsReader")
            .field("bytes", &self.mapping.len)
            .finish()
    }
}

impl ShmMetricsReader {
    /// Maps `/dev/shm/<name>` read-only. `InvalidData` when it is not a version-1 region.
    pub fn attach(name: &str) -> io::Result<ShmMetricsReader> {
        let path = shm_path(name)?;
        let file = File::open(&path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "object too large"))?;
        if len < HEADER_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is too small to be a metric region", path.display()),
            ));
        }
        let mapping = Mapping::map(&file, len, false)?;
        let reader = ShmMetricsReader { mapping };
        reader.view().validate().map_err(|why| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {why}", path.display()),
            )
        })?;
        Ok(reader)
    }

    fn view(&self) -> View {
        // SAFETY: the mapping lives as long as `self`, which every use of the view borrows.
        unsafe { View::new(self.mapping.base, self.mapping.len) }
    }

    /// Published series.
    pub fn len(&self) -> u32 {
        self.view().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Prometheus text format 0.0.4, as the writer's exporter would serve it.
    pub fn expose(&self) -> String {
        let mut out = String::new();
        self.view().expose(&mut out);
        out
    }

    /// The series `name` with rendered labels `labels` (e.g. `pipeline="fx"`), if published.
    pub fn find(&self, name: &str, labels: &str) -> Option<MetricSample> {
        let v = self.view();
        (0..v.count()).find_map(|i| {
            let e = HEADER_BYTES + i as usize * ENTRY_BYTES;
            if v.text(e + E_NAME, NAME_BYTES) != name || v.text(e + E_LABELS, LABEL_BYTES) != labels
            {
                return None;
            }
            let raw = v.u64(e + E_VALUE);
            let mut sample = MetricSample {
                name: name.to_string(),
                labels: labels.to_string(),
                kind: MetricType::Counter,
                value: raw as f64,
                sum: 0,
                buckets: Vec::new(),
            };
            match v.u32(e + E_TYPE) {
                2 => {
                    sample.kind = MetricType::Gauge;
                    sample.value = f64::from_bits(raw);
                }
                3 => {
                    sample.kind = MetricType::Histogram;
                    sample.buckets = (0..=LATENCY_BOUNDS_NS.len())
                        .map(|b| v.u64(e + E_VALUE + 8 + 8 * b))
                        .collect();
                    sample.value = sample.buckets.iter().sum::<u64>() as f64;
                    sample.sum = raw;
                }
                _ => {}
            }
            Some(sample)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(tag: &str) -> String {
        format!("hftc_shm_metrics_{tag}_{}", std::process::id())
    }

    #[test]
    fn writer_and_reader_share_the_region() {
        let n = name("rw");
        let shm = ShmMetrics::create(&n, 8).unwrap();
        let reg = shm.registry();
        let c = reg
            .counter("hftc_orders_total", "Orders.", &[("pipeline", "fx")])
            .unwrap();
        let g = reg
            .gauge("hftc_pnl", "PnL.", &[("pipeline", "fx")])
            .unwrap();
        let h = reg
            .histogram("hftc_tick_to_order_latency_ns", "Latency.", &[])
            .unwrap();
        c.inc(5);
        g.set(-12.5);
        h.record(150);
        h.record(20_000_000);
        let reader = ShmMetricsReader::attach(&format!("/{n}")).unwrap();
        assert_eq!(reader.len(), 3);
        assert_eq!(reader.expose(), reg.expose());
        let got = reader.find("hftc_orders_total", "pipeline=\"fx\"").unwrap();
        assert_eq!((got.kind, got.value), (MetricType::Counter, 5.0));
        assert_eq!(
            reader.find("hftc_pnl", "pipeline=\"fx\"").unwrap().value,
            -12.5
        );
        let hist = reader.find("hftc_tick_to_order_latency_ns", "").unwrap();
        assert_eq!((hist.value, hist.sum), (2.0, 20_000_150));
        assert_eq!((hist.buckets[4], hist.buckets[19]), (1, 1));
        assert!(reader.find("hftc_orders_total", "").is_none());
        // Live: the reader sees later updates without re-attaching.
        c.inc(1);
        assert_eq!(
            reader
                .find("hftc_orders_total", "pipeline=\"fx\"")
                .unwrap()
                .value,
            6.0
        );
        let path = shm.path().to_path_buf();
        drop(shm);
        assert!(!path.exists());
        // The handles and the reader keep their mappings after the name is gone.
        c.inc(1);
        assert_eq!(c.value(), 7);
        assert_eq!(reader.len(), 3);
    }

    #[test]
    fn attach_rejects_what_is_not_a_region() {
        let n = name("bad");
        assert_eq!(
            ShmMetricsReader::attach(&n).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        let path = shm_path(&n).unwrap();
        fs::write(&path, vec![0u8; 4096]).unwrap();
        let err = ShmMetricsReader::attach(&n).unwrap_err();
        fs::remove_file(&path).unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("not a version-1 metric region"));
        assert_eq!(
            ShmMetrics::create("a/b", 1).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn create_replaces_a_stale_object_and_keeps_it_when_asked() {
        let n = name("stale");
        fs::write(shm_path(&n).unwrap(), b"stale").unwrap();
        let mut shm = ShmMetrics::create(&n, 2).unwrap();
        shm.registry().gauge("up", "Up.", &[]).unwrap().set(1.0);
        shm.set_unlink_on_drop(false);
        drop(shm);
        let reader = ShmMetricsReader::attach(&n).unwrap();
        assert_eq!(reader.expose(), "# HELP up Up.\n# TYPE up gauge\nup 1\n");
        fs::remove_file(shm_path(&n).unwrap()).unwrap();
    }
}
