//! hftc's Rust runtime: the building blocks generated Rust code links against.
//!
//! Standard library only. The binary layouts shared with `runtime_cpp` (the
//! shared-memory ring header and the histogram serialisation) are specified in
//! `runtime_cpp/FORMATS.md` and must stay byte-compatible with it.

pub mod affinity;
pub mod clock;
pub mod histogram;
pub mod l2book;
pub mod l3book;
pub mod metrics;
pub mod oms;
pub mod pool;
pub mod ring;
pub mod session;
pub mod shm;
pub mod shm_metrics;
pub mod trading;
