//! SPSC ring in a named shared-memory region, shared with `runtime_cpp`.
//!
//! The layout is specified in `runtime_cpp/FORMATS.md` §1 and is binding: a C++
//! producer and a Rust consumer (or the reverse) must interoperate. In short:
//!
//! ```text
//! 0   magic u64 "HFTCRING" (written last, release)   8  version u32 = 1
//! 12  item_size u32       16 capacity u64 (2^k >= 2)  24 data_offset u64 = 256
//! 64  head u64 (producer's cache line)  128 tail u64 (consumer's cache line)
//! 256 slots: item `s` at 256 + (s & (capacity-1)) * item_size
//! ```
//!
//! The region is the file `/dev/shm/<name>`, which is exactly what
//! `shm_open("/<name>")` uses on Linux, so it is opened with
//! [`std::fs::OpenOptions`] and mapped with `mmap(MAP_SHARED)`; `mmap`/`munmap`
//! are declared here directly (no `libc` crate). Linux only.
//!
//! Roles are types: [`ShmProducer::create`] creates and owns the region (and
//! unlinks the name when dropped, unless told otherwise);
//! [`ShmConsumer::attach`] maps an existing one after checking its header.
//! [`TypedShmProducer`] / [`TypedShmConsumer`] wrap them for a [`Pod`] type
//! whose size equals the item size.
//!
//! # Memory ordering
//!
//! Identical to [`crate::ring`], with the counters in the shared header:
//! * creator: header fields, then `magic.store(Release)`; attacher:
//!   `magic.load(Acquire)`, then the other fields — a visible magic implies a
//!   complete header.
//! * producer: copy the item into its slot, then `head.store(Release)`;
//!   consumer: `head.load(Acquire)`, then copy the slot out.
//! * consumer: copy out, then `tail.store(Release)`; producer:
//!   `tail.load(Acquire)` before overwriting a slot.
//!
//! Hardware atomics on the same physical memory are coherent across processes,
//! so these orderings hold between a C++ process using `std::atomic` and a Rust
//! process using `AtomicU64`. Each side caches the opposite counter in its own
//! (private) memory and re-reads the shared one only when the cache says
//! full/empty.
//!
//! Slot memory is only ever accessed through raw pointers (never through Rust
//! references), because the other process writes to the region concurrently.

use std::ffi::c_void;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::marker::PhantomData;
use std::mem;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// `magic`: the bytes `HFTCRING` read as a little-endian u64.
pub const MAGIC: u64 = 0x474E_4952_4354_4648;
/// Layout version.
pub const VERSION: u32 = 1;
/// Offset of the first slot.
pub const DATA_OFFSET: u64 = 256;
/// Directory backing POSIX shared-memory names on Linux.
pub const SHM_DIR: &str = "/dev/shm";

const OFF_MAGIC: usize = 0;
const OFF_VERSION: usize = 8;
const OFF_ITEM_SIZE: usize = 12;
const OFF_CAPACITY: usize = 16;
const OFF_DATA_OFFSET: usize = 24;
const OFF_HEAD: usize = 64;
const OFF_TAIL: usize = 128;

/// Errors from creating or attaching a shared-memory ring.
#[derive(Debug)]
pub enum ShmError {
    /// The region does not exist yet, is still too small, or its header has
    /// not been published (magic still 0). Retrying later may succeed.
    NotReady(&'static str),
    /// A header field differs from what the caller expects.
    Mismatch {
        /// Header field name (`magic`, `version`, `item_size`, `capacity`,
        /// `data_offset`, or `size` for the object's length).
        field: &'static str,
        /// The value the caller expected.
        expected: u64,
        /// The value found in the region.
        found: u64,
    },
    /// An operating-system error or an invalid argument
    /// ([`io::ErrorKind::InvalidInput`]).
    Io(io::Error),
}

impl fmt::Display for ShmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShmError::NotReady(why) => write!(f, "shared-memory ring not ready: {why}"),
            ShmError::Mismatch {
                field,
                expected,
                found,
            } => write!(
                f,
                "shared-memory ring header mismatch: {field} expected {expected} (0x{expected:x}), found {found} (0x{found:x})"
            ),
            ShmError::Io(e) => write!(f, "shared-memory ring I/O error: {e}"),
        }
    }
}

impl std::error::Error for ShmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ShmError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ShmError {
    fn from(e: io::Error) -> Self {
        ShmError::Io(e)
    }
}

fn invalid(msg: String) -> ShmError {
    ShmError::Io(io::Error::new(io::ErrorKind::InvalidInput, msg))
}

/// Maps a shared-memory name (with or without the leading `/` that
/// `shm_open` uses) to its file under [`SHM_DIR`].
pub fn shm_path(name: &str) -> Result<PathBuf, ShmError> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    if bare.is_empty() || bare.len() > 255 || bare.contains('/') || bare == "." || bare == ".." {
        return Err(invalid(format!("invalid shared-memory name {name:?}")));
    }
    Ok(PathBuf::from(SHM_DIR).join(bare))
}

/// Removes a shared-memory name (like `shm_unlink`). Existing mappings stay
/// valid.
pub fn unlink(name: &str) -> Result<(), ShmError> {
    fs::remove_file(shm_path(name)?)?;
    Ok(())
}

fn check_geometry(item_size: usize, capacity: u64) -> Result<usize, ShmError> {
    if item_size == 0 || u32::try_from(item_size).is_err() {
        return Err(invalid(format!(
            "item size must be in 1..=u32::MAX, got {item_size}"
        )));
    }
    if capacity < 2 || !capacity.is_power_of_two() {
        return Err(invalid(format!(
            "capacity must be a power of two >= 2, got {capacity}"
        )));
    }
    usize::try_from(capacity)
        .ok()
        .and_then(|c| c.checked_mul(item_size))
        .and_then(|b| b.checked_add(DATA_OFFSET as usize))
        .ok_or_else(|| {
            invalid(format!(
                "ring of {capacity} x {item_size} bytes is too large"
            ))
        })
}

/// The mmap(2) binding shared by the shared-memory ring and the shared-memory metrics.
pub(crate) mod sys {
    use std::ffi::c_void;

    pub const PROT_READ: i32 = 1;
    pub const PROT_WRITE: i32 = 2;
    pub const MAP_SHARED: i32 = 1;

    // POSIX; `off_t` is 64 bits on the 64-bit Linux targets this runs on.
    unsafe extern "C" {
        pub fn mmap(
            addr: *mut c_void,
            len: usize,
            prot: i32,
            flags: i32,
            fd: i32,
            offset: i64,
        ) -> *mut c_void;
        pub fn munmap(addr: *mut c_void, len: usize) -> i32;
    }
}

/// An `mmap(MAP_SHARED)` of a whole file, unmapped on drop.
struct Mapping {
    base: *mut u8,
    len: usize,
}

// SAFETY: the mapping is process-wide memory, valid from any thread; `Mapping`
// only hands out raw pointers, and the types built on it enforce the SPSC
// access discipline (one producer or consumer handle per mapping, `&mut self`
// methods).
unsafe impl Send for Mapping {}

impl Mapping {
    fn new(file: &File, len: usize) -> Result<Self, ShmError> {
        // SAFETY: FFI call with a null hint address, a length equal to the
        // file's current size, and a file descriptor that stays open for the
        // duration of the call; the result is checked for MAP_FAILED. The
        // mapping outlives the descriptor, as POSIX guarantees.
        let p = unsafe {
            sys::mmap(
                ptr::null_mut(),
                len,
                sys::PROT_READ | sys::PROT_WRITE,
                sys::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if p as isize == -1 || p.is_null() {
            return Err(ShmError::Io(io::Error::last_os_error()));
        }
        Ok(Mapping {
            base: p.cast::<u8>(),
            len,
        })
    }

    /// The header word at `off` as an atomic.
    fn atomic_u64(&self, off: usize) -> &AtomicU64 {
        debug_assert!(off.is_multiple_of(8) && off + 8 <= self.len);
        // SAFETY: `off` is a constant header offset inside the mapping (which
        // is at least `DATA_OFFSET` bytes long) and a multiple of 8 from a
        // page-aligned base, so the pointer is valid and aligned for
        // `AtomicU64` for as long as `self` lives. Concurrent access from the
        // other process is through atomics too, so sharing is sound.
        unsafe { &*self.base.add(off).cast::<AtomicU64>() }
    }

    fn read_u32(&self, off: usize) -> u32 {
        debug_assert!(off + 4 <= self.len);
        // SAFETY: in bounds (header offsets < DATA_OFFSET <= len). Only called
        // on fields the creator wrote before publishing `magic`, after an
        // acquire load that observed it, so the read does not race.
        unsafe { ptr::read_unaligned(self.base.add(off).cast::<u32>()) }
    }

    fn read_u64(&self, off: usize) -> u64 {
        debug_assert!(off + 8 <= self.len);
        // SAFETY: as for `read_u32`.
        unsafe { ptr::read_unaligned(self.base.add(off).cast::<u64>()) }
    }

    fn write_u32(&self, off: usize, v: u32) {
        debug_assert!(off + 4 <= self.len);
        // SAFETY: in bounds; called only by the creator before `magic` is
        // published, when no attacher reads the field.
        unsafe { ptr::write_unaligned(self.base.add(off).cast::<u32>(), v) }
    }

    fn write_u64(&self, off: usize, v: u64) {
        debug_assert!(off + 8 <= self.len);
        // SAFETY: as for `write_u32`.
        unsafe { ptr::write_unaligned(self.base.add(off).cast::<u64>(), v) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly what `mmap` returned/was given and
        // nothing derived from them outlives `self` (all accessors borrow it).
        unsafe {
            sys::munmap(self.base.cast::<c_void>(), self.len);
        }
    }
}

/// Geometry and mapping common to both ends.
struct Region {
    map: Mapping,
    name: String,
    item_size: usize,
    mask: u64,
}

impl Region {
    #[inline]
    fn head(&self) -> &AtomicU64 {
        self.map.atomic_u64(OFF_HEAD)
    }

    #[inline]
    fn tail(&self) -> &AtomicU64 {
        self.map.atomic_u64(OFF_TAIL)
    }

    #[inline]
    fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// Pointer to the slot of sequence `seq`.
    #[inline]
    fn slot(&self, seq: u64) -> *mut u8 {
        let idx = (seq & self.mask) as usize;
        // SAFETY: `idx < capacity`, and the mapping is at least
        // `DATA_OFFSET + capacity * item_size` bytes (checked at create/attach),
        // so the slot lies entirely inside it.
        unsafe {
            self.map
                .base
                .add(DATA_OFFSET as usize + idx * self.item_size)
        }
    }
}

/// The creating, pushing end of a shared-memory ring.
pub struct ShmProducer {
    region: Region,
    /// Private copy of the shared `head` (this process is its only writer).
    head: u64,
    /// Last observed shared `tail` (lagging only makes the ring look fuller).
    cached_tail: u64,
    unlink_on_drop: bool,
}

impl ShmProducer {
    /// Creates the region `name` for `capacity` slots of `item_size` bytes:
    /// unlinks a stale object of that name, creates a new one exclusively with
    /// mode 0600, sizes it, writes the header and finally publishes `magic`.
    pub fn create(name: &str, item_size: usize, capacity: u64) -> Result<Self, ShmError> {
        let len = check_geometry(item_size, capacity)?;
        let path = shm_path(name)?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let setup = || -> Result<Mapping, ShmError> {
            // ftruncate: the new length reads as zeros, so head, tail and the
            // reserved words start at 0.
            file.set_len(len as u64)?;
            let map = Mapping::new(&file, len)?;
            map.write_u32(OFF_VERSION, VERSION);
            map.write_u32(OFF_ITEM_SIZE, item_size as u32);
            map.write_u64(OFF_CAPACITY, capacity);
            map.write_u64(OFF_DATA_OFFSET, DATA_OFFSET);
            // Release: an attacher that acquires the magic sees the fields above.
            map.atomic_u64(OFF_MAGIC).store(MAGIC, Ordering::Release);
            Ok(map)
        };
        let map = match setup() {
            Ok(m) => m,
            Err(e) => {
                let _ = fs::remove_file(&path);
                return Err(e);
            }
        };
        Ok(ShmProducer {
            region: Region {
                map,
                name: name.to_string(),
                item_size,
                mask: capacity - 1,
            },
            head: 0,
            cached_tail: 0,
            unlink_on_drop: true,
        })
    }

    /// Whether dropping the producer unlinks the name (default `true`).
    pub fn set_unlink_on_drop(&mut self, unlink: bool) {
        self.unlink_on_drop = unlink;
    }

    /// Copies one item from `src` into the next slot; `false` when full.
    ///
    /// # Safety
    /// `src` must be valid for reads of `item_size` bytes and must not point
    /// into the mapping.
    #[inline]
    unsafe fn push_raw(&mut self, src: *const u8) -> bool {
        let cap = self.region.capacity();
        if self.head.wrapping_sub(self.cached_tail) >= cap {
            // Acquire: pairs with the consumer's release of `tail`; its reads
            // of the slot we are about to reuse are complete.
            self.cached_tail = self.region.tail().load(Ordering::Acquire);
            if self.head.wrapping_sub(self.cached_tail) >= cap {
                return false;
            }
        }
        let dst = self.region.slot(self.head);
        // SAFETY: `dst` is an in-bounds slot owned by the producer (not yet
        // published, and already released by the consumer); `src` is valid for
        // `item_size` bytes per the caller and lies outside the mapping.
        unsafe { ptr::copy_nonoverlapping(src, dst, self.region.item_size) };
        self.head = self.head.wrapping_add(1);
        // Release: publishes the slot contents to the consumer.
        self.region.head().store(self.head, Ordering::Release);
        true
    }

    /// Pushes one item; `false` when the ring is full.
    ///
    /// # Panics
    /// If `item.len()` differs from [`item_size`](Self::item_size).
    #[inline]
    pub fn push(&mut self, item: &[u8]) -> bool {
        assert_eq!(
            item.len(),
            self.region.item_size,
            "shm ring item must be exactly item_size bytes"
        );
        // SAFETY: `item` is a live borrow of exactly `item_size` bytes, and a
        // `&[u8]` cannot alias the mapping (it is only reachable via raw pointers).
        unsafe { self.push_raw(item.as_ptr()) }
    }

    /// Total items pushed.
    pub fn pushed(&self) -> u64 {
        self.head
    }

    /// Total items the consumer has popped (the shared `tail`, acquire).
    pub fn consumed(&self) -> u64 {
        self.region.tail().load(Ordering::Acquire)
    }

    /// Bytes per item.
    pub fn item_size(&self) -> usize {
        self.region.item_size
    }

    /// Number of slots.
    pub fn capacity(&self) -> u64 {
        self.region.capacity()
    }

    /// The name the region was created under.
    pub fn name(&self) -> &str {
        &self.region.name
    }
}

impl Drop for ShmProducer {
    fn drop(&mut self) {
        if self.unlink_on_drop {
            if let Ok(path) = shm_path(&self.region.name) {
                let _ = fs::remove_file(path);
            }
        }
    }
}

impl fmt::Debug for ShmProducer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmProducer")
            .field("name", &self.region.name)
            .field("item_size", &self.region.item_size)
            .field("capacity", &self.capacity())
            .field("head", &self.head)
            .finish()
    }
}

/// The attaching, popping end of a shared-memory ring.
pub struct ShmConsumer {
    region: Region,
    /// Private copy of the shared `tail` (this process is its only writer).
    tail: u64,
    /// Last observed shared `head` (lagging only makes the ring look emptier).
    cached_head: u64,
}

impl ShmConsumer {
    /// Attaches to the region `name`, checking `magic`, `version`,
    /// `item_size`, `capacity`, `data_offset` and the object's size against the
    /// expected geometry. Returns [`ShmError::NotReady`] if the region does not
    /// exist yet or the creator has not finished; see
    /// [`attach_with_retry`](Self::attach_with_retry).
    pub fn attach(name: &str, item_size: usize, capacity: u64) -> Result<Self, ShmError> {
        let expected_len = check_geometry(item_size, capacity)?;
        let path = shm_path(name)?;
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ShmError::NotReady(
                    "the shared-memory object does not exist",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let file_len = file.metadata()?.len();
        if file_len < DATA_OFFSET {
            return Err(ShmError::NotReady(
                "the shared-memory object is smaller than the header",
            ));
        }
        let map_len = usize::try_from(file_len)
            .map_err(|_| invalid(format!("shared-memory object of {file_len} bytes")))?;
        let map = Mapping::new(&file, map_len)?;
        // Acquire: pairs with the creator's release store of the magic.
        let magic = map.atomic_u64(OFF_MAGIC).load(Ordering::Acquire);
        if magic == 0 {
            return Err(ShmError::NotReady("the header is not published yet"));
        }
        let checks: [(&'static str, u64, u64); 5] = [
            ("magic", MAGIC, magic),
            (
                "version",
                u64::from(VERSION),
                u64::from(map.read_u32(OFF_VERSION)),
            ),
            (
                "item_size",
                item_size as u64,
                u64::from(map.read_u32(OFF_ITEM_SIZE)),
            ),
            ("capacity", capacity, map.read_u64(OFF_CAPACITY)),
            ("data_offset", DATA_OFFSET, map.read_u64(OFF_DATA_OFFSET)),
        ];
        for (field, expected, found) in checks {
            if expected != found {
                return Err(ShmError::Mismatch {
                    field,
                    expected,
                    found,
                });
            }
        }
        if map_len < expected_len {
            return Err(ShmError::Mismatch {
                field: "size",
                expected: expected_len as u64,
                found: file_len,
            });
        }
        let region = Region {
            map,
            name: name.to_string(),
            item_size,
            mask: capacity - 1,
        };
        // Resume from the shared tail (0 for a fresh ring).
        let tail = region.tail().load(Ordering::Acquire);
        Ok(ShmConsumer {
            region,
            tail,
            cached_head: tail,
        })
    }

    /// [`attach`](Self::attach), retrying (with a short sleep) while the
    /// region is [`NotReady`](ShmError::NotReady), for up to `timeout`.
    pub fn attach_with_retry(
        name: &str,
        item_size: usize,
        capacity: u64,
        timeout: Duration,
    ) -> Result<Self, ShmError> {
        let deadline = Instant::now() + timeout;
        loop {
            match Self::attach(name, item_size, capacity) {
                Err(ShmError::NotReady(why)) => {
                    if Instant::now() >= deadline {
                        return Err(ShmError::NotReady(why));
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => return other,
            }
        }
    }

    /// Copies the next item into `dst`; `false` when empty.
    ///
    /// # Safety
    /// `dst` must be valid for writes of `item_size` bytes and must not point
    /// into the mapping.
    #[inline]
    unsafe fn pop_raw(&mut self, dst: *mut u8) -> bool {
        if self.cached_head == self.tail {
            // Acquire: pairs with the producer's release of `head`, making the
            // slot contents up to it visible.
            self.cached_head = self.region.head().load(Ordering::Acquire);
            if self.cached_head == self.tail {
                return false;
            }
        }
        let src = self.region.slot(self.tail);
        // SAFETY: `src` is an in-bounds, published slot owned by the consumer
        // until the release below; `dst` is valid for `item_size` bytes per the
        // caller and lies outside the mapping.
        unsafe { ptr::copy_nonoverlapping(src, dst, self.region.item_size) };
        self.tail = self.tail.wrapping_add(1);
        // Release: our copy-out happens-before the producer reuses the slot.
        self.region.tail().store(self.tail, Ordering::Release);
        true
    }

    /// Pops one item into `out`; `false` when the ring is empty.
    ///
    /// # Panics
    /// If `out.len()` differs from [`item_size`](Self::item_size).
    #[inline]
    pub fn pop(&mut self, out: &mut [u8]) -> bool {
        assert_eq!(
            out.len(),
            self.region.item_size,
            "shm ring item must be exactly item_size bytes"
        );
        // SAFETY: `out` is an exclusive borrow of exactly `item_size` bytes, and
        // cannot alias the mapping (it is only reachable via raw pointers).
        unsafe { self.pop_raw(out.as_mut_ptr()) }
    }

    /// Total items popped (including by earlier consumers of the same ring).
    pub fn popped(&self) -> u64 {
        self.tail
    }

    /// Items currently in the ring (snapshot).
    pub fn len(&self) -> u64 {
        self.region
            .head()
            .load(Ordering::Acquire)
            .wrapping_sub(self.tail)
    }

    /// `true` when the ring is empty at the time of the call.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per item.
    pub fn item_size(&self) -> usize {
        self.region.item_size
    }

    /// Number of slots.
    pub fn capacity(&self) -> u64 {
        self.region.capacity()
    }

    /// The name the region was attached under.
    pub fn name(&self) -> &str {
        &self.region.name
    }
}

impl fmt::Debug for ShmConsumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmConsumer")
            .field("name", &self.region.name)
            .field("item_size", &self.region.item_size)
            .field("capacity", &self.capacity())
            .field("tail", &self.tail)
            .finish()
    }
}

/// Plain-old-data types that may be copied to and from shared memory as raw
/// bytes.
///
/// # Safety
/// Every bit pattern of `size_of::<Self>()` bytes must be a valid `Self` (no
/// `bool`, `char`, enums, references or pointers-with-invariants inside), since
/// a consumer reinterprets whatever bytes the other process wrote. Use
/// `#[repr(C)]` for structs shared with C++.
pub unsafe trait Pod: Copy + 'static {}

macro_rules! impl_pod {
    ($($t:ty),*) => { $(
        // SAFETY: every bit pattern is a valid value of this primitive type.
        unsafe impl Pod for $t {}
    )* };
}
impl_pod!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

// SAFETY: an array of `Pod` elements has no padding and no invariants beyond
// its elements'.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// [`ShmProducer`] for items of type `T` (`item_size == size_of::<T>()`).
pub struct TypedShmProducer<T: Pod> {
    inner: ShmProducer,
    _item: PhantomData<fn(T)>,
}

impl<T: Pod> TypedShmProducer<T> {
    /// Creates the region with `item_size = size_of::<T>()`.
    pub fn create(name: &str, capacity: u64) -> Result<Self, ShmError> {
        Ok(TypedShmProducer {
            inner: ShmProducer::create(name, mem::size_of::<T>(), capacity)?,
            _item: PhantomData,
        })
    }

    /// Pushes one item; `false` when full.
    #[inline]
    pub fn push(&mut self, item: &T) -> bool {
        // SAFETY: `item` is a live reference to `size_of::<T>() == item_size`
        // bytes, and references never point into the mapping.
        unsafe { self.inner.push_raw((item as *const T).cast::<u8>()) }
    }

    /// The untyped producer (geometry, counters, unlink policy).
    pub fn inner(&self) -> &ShmProducer {
        &self.inner
    }

    /// Mutable access to the untyped producer.
    pub fn inner_mut(&mut self) -> &mut ShmProducer {
        &mut self.inner
    }
}

/// [`ShmConsumer`] for items of type `T` (`item_size == size_of::<T>()`).
pub struct TypedShmConsumer<T: Pod> {
    inner: ShmConsumer,
    _item: PhantomData<fn() -> T>,
}

impl<T: Pod> TypedShmConsumer<T> {
    /// Attaches with `item_size = size_of::<T>()`.
    pub fn attach(name: &str, capacity: u64) -> Result<Self, ShmError> {
        Ok(TypedShmConsumer {
            inner: ShmConsumer::attach(name, mem::size_of::<T>(), capacity)?,
            _item: PhantomData,
        })
    }

    /// [`attach`](Self::attach) with retries while not ready, up to `timeout`.
    pub fn attach_with_retry(
        name: &str,
        capacity: u64,
        timeout: Duration,
    ) -> Result<Self, ShmError> {
        Ok(TypedShmConsumer {
            inner: ShmConsumer::attach_with_retry(name, mem::size_of::<T>(), capacity, timeout)?,
            _item: PhantomData,
        })
    }

    /// Pops one item, or `None` when empty.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let mut out = mem::MaybeUninit::<T>::uninit();
        // SAFETY: `out` is local storage of `size_of::<T>() == item_size` bytes,
        // outside the mapping.
        let popped = unsafe { self.inner.pop_raw(out.as_mut_ptr().cast::<u8>()) };
        if popped {
            // SAFETY: `pop_raw` wrote all `size_of::<T>()` bytes, and `T: Pod`
            // makes any bit pattern a valid `T`.
            Some(unsafe { out.assume_init() })
        } else {
            None
        }
    }

    /// The untyped consumer.
    pub fn inner(&self) -> &ShmConsumer {
        &self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn unique(tag: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        format!(
            "hftc_rs_test_{}_{}_{}",
            tag,
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    #[test]
    fn header_layout_bytes() {
        let name = unique("hdr");
        let p = ShmProducer::create(&name, 24, 16).unwrap();
        let bytes = fs::read(shm_path(&name).unwrap()).unwrap();
        assert_eq!(bytes.len(), 256 + 16 * 24);
        assert_eq!(&bytes[0..8], b"HFTCRING");
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 1);
        assert_eq!(u32::from_le_bytes(bytes[12..16].try_into().unwrap()), 24);
        assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), 16);
        assert_eq!(u64::from_le_bytes(bytes[24..32].try_into().unwrap()), 256);
        assert!(bytes[32..256].iter().all(|&b| b == 0));
        drop(p);
        assert!(!shm_path(&name).unwrap().exists(), "unlinked on drop");
    }

    #[test]
    fn slots_and_counters_at_documented_offsets() {
        let name = unique("off");
        let mut p = ShmProducer::create(&name, 8, 4).unwrap();
        for s in 0..6u64 {
            if s == 4 {
                let mut c = ShmConsumer::attach(&name, 8, 4).unwrap();
                let mut out = [0u8; 8];
                assert!(c.pop(&mut out));
                assert!(c.pop(&mut out));
                assert_eq!(u64::from_le_bytes(out), 101);
            }
            assert!(p.push(&(100 + s).to_le_bytes()));
        }
        let bytes = fs::read(shm_path(&name).unwrap()).unwrap();
        let word = |off: usize| u64::from_le_bytes(bytes[off..off + 8].try_into().unwrap());
        assert_eq!(word(64), 6, "head");
        assert_eq!(word(128), 2, "tail");
        // Item s at 256 + (s & 3) * 8: s = 4, 5 overwrote slots 0, 1.
        assert_eq!(word(256), 104);
        assert_eq!(word(264), 105);
        assert_eq!(word(272), 102);
        assert_eq!(word(280), 103);
    }

    #[test]
    fn push_pop_full_empty() {
        let name = unique("fe");
        let mut p = ShmProducer::create(&name, 3, 4).unwrap();
        let mut c = ShmConsumer::attach(&format!("/{name}"), 3, 4).unwrap();
        let mut out = [0u8; 3];
        assert!(!c.pop(&mut out));
        assert!(c.is_empty());
        for i in 0..4u8 {
            assert!(p.push(&[i, i, i]));
        }
        assert!(!p.push(&[9, 9, 9]));
        assert_eq!(c.len(), 4);
        for i in 0..4u8 {
            assert!(c.pop(&mut out));
            assert_eq!(out, [i, i, i]);
        }
        assert!(!c.pop(&mut out));
        assert_eq!(p.consumed(), 4);
        assert_eq!(p.pushed(), 4);
        assert_eq!(c.popped(), 4);
        assert!(p.push(&[7, 7, 7]));
        assert!(c.pop(&mut out));
        assert_eq!(out, [7, 7, 7]);
    }

    #[test]
    fn attach_errors_are_typed() {
        let name = unique("err");
        match ShmConsumer::attach(&name, 8, 16) {
            Err(ShmError::NotReady(_)) => {}
            other => panic!("expected NotReady, got {other:?}"),
        }
        let _p = ShmProducer::create(&name, 8, 16).unwrap();
        match ShmConsumer::attach(&name, 16, 16) {
            Err(ShmError::Mismatch {
                field: "item_size",
                expected: 16,
                found: 8,
            }) => {}
            other => panic!("expected item_size mismatch, got {other:?}"),
        }
        let e = ShmConsumer::attach(&name, 8, 32).unwrap_err();
        assert!(matches!(
            e,
            ShmError::Mismatch {
                field: "capacity",
                expected: 32,
                found: 16
            }
        ));
        assert!(e.to_string().contains("capacity expected 32"));
        assert!(ShmConsumer::attach(&name, 8, 16).is_ok());
    }

    #[test]
    fn not_ready_and_bad_magic_and_version() {
        let name = unique("raw");
        let path = shm_path(&name).unwrap();
        // Too small.
        fs::write(&path, [0u8; 10]).unwrap();
        assert!(matches!(
            ShmConsumer::attach(&name, 8, 2),
            Err(ShmError::NotReady(_))
        ));
        // Sized but magic not yet written.
        let mut img = vec![0u8; 256 + 16];
        fs::write(&path, &img).unwrap();
        assert!(matches!(
            ShmConsumer::attach(&name, 8, 2),
            Err(ShmError::NotReady(_))
        ));
        // Wrong magic.
        img[0..8].copy_from_slice(b"NOTARING");
        fs::write(&path, &img).unwrap();
        assert!(matches!(
            ShmConsumer::attach(&name, 8, 2),
            Err(ShmError::Mismatch { field: "magic", .. })
        ));
        // Right magic, wrong version.
        img[0..8].copy_from_slice(&MAGIC.to_le_bytes());
        img[8..12].copy_from_slice(&2u32.to_le_bytes());
        fs::write(&path, &img).unwrap();
        assert!(matches!(
            ShmConsumer::attach(&name, 8, 2),
            Err(ShmError::Mismatch {
                field: "version",
                expected: 1,
                found: 2
            })
        ));
        // Valid header but object shorter than the slots need.
        img[8..12].copy_from_slice(&1u32.to_le_bytes());
        img[12..16].copy_from_slice(&8u32.to_le_bytes());
        img[16..24].copy_from_slice(&4u64.to_le_bytes());
        img[24..32].copy_from_slice(&256u64.to_le_bytes());
        fs::write(&path, &img).unwrap();
        assert!(matches!(
            ShmConsumer::attach(&name, 8, 4),
            Err(ShmError::Mismatch {
                field: "size",
                expected: 288,
                found: 272
            })
        ));
        unlink(&name).unwrap();
    }

    #[test]
    fn invalid_arguments() {
        for bad in ["", "/", "a/b", "..", "."] {
            assert!(matches!(shm_path(bad), Err(ShmError::Io(_))), "{bad:?}");
        }
        let name = unique("arg");
        assert!(matches!(
            ShmProducer::create(&name, 8, 3),
            Err(ShmError::Io(ref e)) if e.kind() == io::ErrorKind::InvalidInput
        ));
        assert!(matches!(
            ShmProducer::create(&name, 0, 4),
            Err(ShmError::Io(_))
        ));
        assert!(!shm_path(&name).unwrap().exists());
    }

    #[test]
    fn create_replaces_stale_object_and_keep_on_drop() {
        let name = unique("stale");
        fs::write(shm_path(&name).unwrap(), b"garbage").unwrap();
        let mut p = ShmProducer::create(&name, 8, 2).unwrap();
        p.set_unlink_on_drop(false);
        drop(p);
        assert!(ShmConsumer::attach(&name, 8, 2).is_ok());
        unlink(&name).unwrap();
    }

    #[test]
    fn attach_with_retry_waits_for_creator() {
        let name = unique("retry");
        let n2 = name.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let mut p = TypedShmProducer::<[u64; 8]>::create(&n2, 8).unwrap();
            let mut s = 0u64;
            let mut wait = crate::affinity::SpinWait::new();
            while s < 10_000 {
                let item: [u64; 8] = std::array::from_fn(|k| s * 8 + k as u64);
                if p.push(&item) {
                    s += 1;
                    wait.reset();
                } else {
                    wait.spin();
                }
            }
            let ok = crate::affinity::wait_until(
                || p.inner().consumed() == 10_000,
                Duration::from_secs(30),
            );
            assert!(ok);
        });
        let mut c =
            TypedShmConsumer::<[u64; 8]>::attach_with_retry(&name, 8, Duration::from_secs(10))
                .unwrap();
        let mut s = 0u64;
        let mut wait = crate::affinity::SpinWait::new();
        while s < 10_000 {
            if let Some(item) = c.pop() {
                for (k, w) in item.iter().enumerate() {
                    assert_eq!(*w, s * 8 + k as u64);
                }
                s += 1;
                wait.reset();
            } else {
                wait.spin();
            }
        }
        t.join().unwrap();
        assert!(!shm_path(&name).unwrap().exists());
        match ShmConsumer::attach_with_retry(&name, 64, 8, Duration::from_millis(20)) {
            Err(ShmError::NotReady(_)) => {}
            other => panic!("expected NotReady, got {other:?}"),
        }
    }

    #[test]
    fn error_display_and_source() {
        let e = ShmError::NotReady("x");
        assert!(e.to_string().contains("not ready"));
        assert!(std::error::Error::source(&e).is_none());
        let e = ShmError::from(io::Error::other("boom"));
        assert!(e.to_string().contains("boom"));
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn handles_are_send() {
        fn assert_send<T: Send>() {}
        assert_send::<ShmProducer>();
        assert_send::<ShmConsumer>();
        assert_send::<TypedShmProducer<u64>>();
        assert_send::<TypedShmConsumer<[u8; 64]>>();
    }
}
