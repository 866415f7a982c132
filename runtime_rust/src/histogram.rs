//! Log-linear latency histogram, byte-compatible with the C++ runtime.
//!
//! The bucket layout and the serialisation are fixed by `runtime_cpp/FORMATS.md`
//! §2 so that a histogram recorded in a Rust process can be merged or reported by
//! a C++ process and vice versa. Recording is on the hot path of every
//! instrumented loop, so `record` is a handful of integer instructions (one
//! `leading_zeros`, a shift, an add) and never allocates; all storage is
//! allocated once in [`LatencyHistogram::new`].
#![deny(unsafe_code)]

use std::fmt;

/// Number of bits of sub-bucket resolution: 2048 sub-buckets per power of two,
/// which bounds the relative error of any reported value by 1/2048.
pub const SUB_BITS: u32 = 11;
/// Half the sub-bucket count: each power-of-two range above 2048 is split into
/// this many linear buckets.
pub const HALF: usize = 1 << (SUB_BITS - 1);
/// Number of bits of the largest trackable value.
pub const MAX_BITS: u32 = 40;
/// Largest value that gets its own bucket (about 18 minutes in nanoseconds);
/// larger values are clamped into the last bucket but `max` stays exact.
pub const MAX_TRACKABLE: u64 = (1u64 << MAX_BITS) - 1;
/// Total number of buckets: 2048 exact ones plus 1024 for each of the 29
/// power-of-two ranges from 2^11 up to 2^40.
pub const BUCKET_COUNT: usize = HALF * (MAX_BITS as usize - SUB_BITS as usize) + 2 * HALF;

const MAGIC: [u8; 8] = *b"HFTCHIST";
const VERSION: u32 = 1;
/// Bytes before the bucket pairs: magic, version, sub_bits, max_bits,
/// reserved, total, min, max, sum, n.
const HEADER_LEN: usize = 8 + 4 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 4;
const PAIR_LEN: usize = 12;

/// Why a serialised histogram was rejected by [`LatencyHistogram::deserialize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistogramError {
    /// The buffer ends before the data the header announces.
    Truncated { needed: usize, got: usize },
    /// Bytes remain after the last bucket pair.
    TrailingBytes { expected: usize, got: usize },
    /// The first eight bytes are not `HFTCHIST`.
    BadMagic([u8; 8]),
    /// A format version this build does not understand.
    UnsupportedVersion(u32),
    /// Written with a different sub-bucket resolution.
    BadSubBits(u32),
    /// Written with a different trackable range.
    BadMaxBits(u32),
    /// A bucket index at or beyond [`BUCKET_COUNT`].
    IndexOutOfRange { index: u32 },
    /// Bucket indices must be strictly ascending.
    IndexNotAscending { previous: u32, index: u32 },
    /// Only non-zero buckets are serialised, so a zero count is corruption.
    ZeroCount { index: u32 },
    /// The header's total differs from the sum of the bucket counts.
    TotalMismatch { header: u64, buckets: u64 },
}

impl fmt::Display for HistogramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { needed, got } => {
                write!(f, "histogram truncated: need {needed} bytes, got {got}")
            }
            Self::TrailingBytes { expected, got } => write!(
                f,
                "histogram has trailing bytes: expected {expected} bytes, got {got}"
            ),
            Self::BadMagic(m) => write!(f, "histogram has bad magic {m:?}, expected \"HFTCHIST\""),
            Self::UnsupportedVersion(v) => {
                write!(f, "histogram version {v} unsupported, expected {VERSION}")
            }
            Self::BadSubBits(v) => write!(f, "histogram sub_bits {v}, expected {SUB_BITS}"),
            Self::BadMaxBits(v) => write!(f, "histogram max_bits {v}, expected {MAX_BITS}"),
            Self::IndexOutOfRange { index } => write!(
                f,
                "histogram bucket index {index} out of range (bucket count {BUCKET_COUNT})"
            ),
            Self::IndexNotAscending { previous, index } => write!(
                f,
                "histogram bucket index {index} not strictly greater than previous {previous}"
            ),
            Self::ZeroCount { index } => {
                write!(f, "histogram bucket {index} has a zero count")
            }
            Self::TotalMismatch { header, buckets } => write!(
                f,
                "histogram total {header} does not match bucket sum {buckets}"
            ),
        }
    }
}

impl std::error::Error for HistogramError {}

/// Bucket index of `v` (already clamped to [`MAX_TRACKABLE`]).
///
/// OR-ing in 2047 makes every value below 2048 land in the "shift 0" range, so
/// exact and log-linear buckets share one branch-free formula.
#[inline(always)]
fn bucket_index(v: u64) -> usize {
    let v = v.min(MAX_TRACKABLE);
    let msb = 63 - (v | (2 * HALF as u64 - 1)).leading_zeros();
    let shift = msb - (SUB_BITS - 1);
    (shift as usize) * HALF + (v >> shift) as usize
}

/// `(lowest value, width)` of bucket `index`.
#[inline]
fn bucket_range(index: usize) -> (u64, u64) {
    if index < 2 * HALF {
        (index as u64, 1)
    } else {
        let shift = index / HALF - 1;
        let lo = ((index - shift * HALF) as u64) << shift;
        (lo, 1u64 << shift)
    }
}

/// HdrHistogram-style latency histogram over `u64` nanoseconds (FORMATS.md §2).
#[derive(Clone, PartialEq, Eq)]
pub struct LatencyHistogram {
    counts: Box<[u64]>,
    total: u64,
    min: u64,
    max: u64,
    sum: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("count", &self.total)
            .field("min", &self.min)
            .field("max", &self.max)
            .field("sum", &self.sum)
            .finish()
    }
}

impl LatencyHistogram {
    /// An empty histogram; allocates all 31744 counters up front so recording
    /// never allocates.
    pub fn new() -> Self {
        Self {
            counts: vec![0u64; BUCKET_COUNT].into_boxed_slice(),
            total: 0,
            min: u64::MAX,
            max: 0,
            sum: 0,
        }
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, value: u64) {
        self.counts[bucket_index(value)] += 1;
        self.total += 1;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum = self.sum.wrapping_add(value);
    }

    /// Records `value` `n` times (e.g. a batch that took the same time each).
    #[inline]
    pub fn record_n(&mut self, value: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.counts[bucket_index(value)] += n;
        self.total += n;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum = self.sum.wrapping_add(value.wrapping_mul(n));
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Smallest recorded value, or `u64::MAX` when empty (the serialised
    /// representation, kept so the two runtimes report identical numbers).
    pub fn min(&self) -> u64 {
        self.min
    }

    /// Largest recorded value (exact, even above [`MAX_TRACKABLE`]); 0 when empty.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Wrapping sum of all recorded values.
    pub fn sum(&self) -> u64 {
        self.sum
    }

    /// Arithmetic mean of the recorded values (exact up to `sum` wrapping);
    /// 0.0 when empty.
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum as f64 / self.total as f64
        }
    }

    /// Count held by bucket `index` (0 when out of range).
    pub fn bucket_count(&self, index: usize) -> u64 {
        self.counts.get(index).copied().unwrap_or(0)
    }

    /// Value at percentile `p` (clamped to [0, 100]) per FORMATS.md §2: the
    /// midpoint of the first bucket whose cumulative count reaches
    /// `ceil(p / 100 * total)` (at least 1), clamped to `[min, max]`.
    /// Returns 0 for an empty histogram.
    ///
    /// The rank is computed exactly as the C++ runtime does (`p / 100.0` first,
    /// then times the total, in `f64`) so both report the same integers.
    pub fn value_at_percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
        let rank = (p / 100.0 * self.total as f64).ceil();
        let target = if rank < 1.0 {
            1
        } else {
            (rank as u64).min(self.total)
        };
        let mut cumulative = 0u64;
        for (index, &c) in self.counts.iter().enumerate() {
            cumulative += c;
            if cumulative >= target {
                let (lo, width) = bucket_range(index);
                let mid = lo + (width >> 1);
                return mid.clamp(self.min, self.max);
            }
        }
        // Unreachable for a consistent histogram (deserialize checks the total),
        // but never panic on a reporting path.
        self.max
    }

    /// Adds every count of `other` into `self` (e.g. per-thread histograms into
    /// one report).
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += *b;
        }
        self.total += other.total;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum = self.sum.wrapping_add(other.sum);
    }

    /// Forgets everything recorded; keeps the allocation.
    pub fn reset(&mut self) {
        self.counts.fill(0);
        self.total = 0;
        self.min = u64::MAX;
        self.max = 0;
        self.sum = 0;
    }

    /// Serialises to the version-1 wire format (FORMATS.md §2).
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.serialize_into(&mut out);
        out
    }

    /// Appends the version-1 wire format to `out`, so a caller can reuse one
    /// buffer across periodic reports.
    pub fn serialize_into(&self, out: &mut Vec<u8>) {
        let nonzero = self.counts.iter().filter(|&&c| c != 0).count();
        out.reserve(HEADER_LEN + nonzero * PAIR_LEN);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&SUB_BITS.to_le_bytes());
        out.extend_from_slice(&MAX_BITS.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&self.total.to_le_bytes());
        out.extend_from_slice(&self.min.to_le_bytes());
        out.extend_from_slice(&self.max.to_le_bytes());
        out.extend_from_slice(&self.sum.to_le_bytes());
        out.extend_from_slice(&(nonzero as u32).to_le_bytes());
        for (index, &c) in self.counts.iter().enumerate() {
            if c != 0 {
                out.extend_from_slice(&(index as u32).to_le_bytes());
                out.extend_from_slice(&c.to_le_bytes());
            }
        }
    }

    /// Parses the version-1 wire format, rejecting anything FORMATS.md §2
    /// lists as invalid. The length is validated against the announced bucket
    /// count before anything is allocated, so a hostile `n` cannot cause a
    /// huge allocation.
    pub fn deserialize(bytes: &[u8]) -> Result<Self, HistogramError> {
        if bytes.len() < HEADER_LEN {
            return Err(HistogramError::Truncated {
                needed: HEADER_LEN,
                got: bytes.len(),
            });
        }
        let u32_at =
            |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[o..o + 8]);
            u64::from_le_bytes(b)
        };
        let mut magic = [0u8; 8];
        magic.copy_from_slice(&bytes[0..8]);
        if magic != MAGIC {
            return Err(HistogramError::BadMagic(magic));
        }
        let version = u32_at(8);
        if version != VERSION {
            return Err(HistogramError::UnsupportedVersion(version));
        }
        let sub_bits = u32_at(12);
        if sub_bits != SUB_BITS {
            return Err(HistogramError::BadSubBits(sub_bits));
        }
        let max_bits = u32_at(16);
        if max_bits != MAX_BITS {
            return Err(HistogramError::BadMaxBits(max_bits));
        }
        // Offset 20 is reserved: written as 0, ignored on read so a later
        // writer may use it without breaking version-1 readers.
        let total = u64_at(24);
        let min = u64_at(32);
        let max = u64_at(40);
        let sum = u64_at(48);
        let n = u32_at(56) as usize;
        let expected = HEADER_LEN + n * PAIR_LEN;
        if bytes.len() < expected {
            return Err(HistogramError::Truncated {
                needed: expected,
                got: bytes.len(),
            });
        }
        if bytes.len() > expected {
            return Err(HistogramError::TrailingBytes {
                expected,
                got: bytes.len(),
            });
        }
        let mut hist = Self::new();
        let mut previous: Option<u32> = None;
        let mut bucket_sum = 0u64;
        let mut overflow = false;
        for k in 0..n {
            let o = HEADER_LEN + k * PAIR_LEN;
            let index = u32_at(o);
            let count = u64_at(o + 4);
            if index as usize >= BUCKET_COUNT {
                return Err(HistogramError::IndexOutOfRange { index });
            }
            if let Some(prev) = previous {
                if index <= prev {
                    return Err(HistogramError::IndexNotAscending {
                        previous: prev,
                        index,
                    });
                }
            }
            if count == 0 {
                return Err(HistogramError::ZeroCount { index });
            }
            previous = Some(index);
            hist.counts[index as usize] = count;
            match bucket_sum.checked_add(count) {
                Some(s) => bucket_sum = s,
                None => {
                    overflow = true;
                    bucket_sum = u64::MAX;
                }
            }
        }
        if overflow || bucket_sum != total {
            return Err(HistogramError::TotalMismatch {
                header: total,
                buckets: bucket_sum,
            });
        }
        hist.total = total;
        hist.min = min;
        hist.max = max;
        hist.sum = sum;
        Ok(hist)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splitmix64(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn layout_constants() {
        assert_eq!(BUCKET_COUNT, 31744);
        assert_eq!(HEADER_LEN, 60);
        assert_eq!(bucket_index(MAX_TRACKABLE), BUCKET_COUNT - 1);
        assert_eq!(bucket_index(u64::MAX), BUCKET_COUNT - 1);
    }

    #[test]
    fn exact_region() {
        for v in 0..2048u64 {
            assert_eq!(bucket_index(v), v as usize);
            assert_eq!(bucket_range(v as usize), (v, 1));
        }
        let mut h = LatencyHistogram::new();
        for v in [0u64, 1, 7, 1023, 1024, 2047] {
            h.reset();
            h.record(v);
            for p in [0.0, 50.0, 100.0] {
                assert_eq!(h.value_at_percentile(p), v);
            }
        }
    }

    #[test]
    fn boundaries_follow_the_formula() {
        // First log-linear bucket.
        assert_eq!(bucket_index(2048), 2048);
        assert_eq!(bucket_index(2049), 2048);
        assert_eq!(bucket_index(2050), 2049);
        assert_eq!(bucket_range(2048), (2048, 2));
        // Each power of two starts a fresh 1024-bucket run.
        for m in 11..40u32 {
            let v = 1u64 << m;
            let shift = m - 10;
            let idx = bucket_index(v);
            assert_eq!(idx, shift as usize * 1024 + 1024);
            assert_eq!(bucket_range(idx), (v, 1u64 << shift));
            assert_eq!(bucket_index(v - 1), idx - 1);
            let (lo, w) = bucket_range(idx - 1);
            assert_eq!(lo + w, v);
        }
        // Every value lies inside the range of its bucket.
        let mut s = 42u64;
        for _ in 0..100_000 {
            let v = splitmix64(&mut s) >> (splitmix64(&mut s) % 64);
            let clamped = v.min(MAX_TRACKABLE);
            let (lo, w) = bucket_range(bucket_index(v));
            assert!(lo <= clamped && clamped - lo < w, "v={v} lo={lo} w={w}");
        }
    }

    #[test]
    fn clamps_above_trackable_but_keeps_exact_max() {
        let mut h = LatencyHistogram::new();
        h.record(u64::MAX);
        assert_eq!(h.bucket_count(BUCKET_COUNT - 1), 1);
        assert_eq!(h.max(), u64::MAX);
        assert_eq!(h.min(), u64::MAX);
        assert_eq!(h.value_at_percentile(50.0), u64::MAX);
    }

    #[test]
    fn stats_and_record_n() {
        let mut h = LatencyHistogram::new();
        assert_eq!(h.count(), 0);
        assert_eq!(h.min(), u64::MAX);
        assert_eq!(h.max(), 0);
        assert_eq!(h.mean(), 0.0);
        assert_eq!(h.value_at_percentile(50.0), 0);
        h.record(10);
        h.record_n(30, 3);
        h.record_n(99, 0);
        assert_eq!(h.count(), 4);
        assert_eq!(h.min(), 10);
        assert_eq!(h.max(), 30);
        assert_eq!(h.sum(), 100);
        assert_eq!(h.mean(), 25.0);
        assert_eq!(h.value_at_percentile(0.0), 10);
        assert_eq!(h.value_at_percentile(25.0), 10);
        assert_eq!(h.value_at_percentile(25.1), 30);
        assert_eq!(h.value_at_percentile(100.0), 30);
        assert_eq!(h.value_at_percentile(250.0), 30);
        assert_eq!(h.value_at_percentile(-3.0), 10);
        h.reset();
        assert_eq!(h, LatencyHistogram::new());
    }

    #[test]
    fn percentile_error_below_a_tenth_of_a_percent() {
        let mut s = 7u64;
        let mut values = Vec::new();
        let mut h = LatencyHistogram::new();
        for _ in 0..200_000 {
            // Log-uniform spread over ~1 ns .. ~1 s.
            let x = splitmix64(&mut s);
            let v = (x >> 34) >> (x % 30);
            values.push(v);
            h.record(v);
        }
        values.sort_unstable();
        let total = values.len() as f64;
        for p in [
            0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0,
        ] {
            let rank = ((p / 100.0 * total).ceil() as usize).max(1);
            let exact = values[rank - 1] as f64;
            let got = h.value_at_percentile(p) as f64;
            let err = if exact == 0.0 {
                got
            } else {
                (got - exact).abs() / exact
            };
            assert!(err <= 0.001, "p={p} exact={exact} got={got} err={err}");
        }
        let exact_mean = values.iter().map(|&v| v as f64).sum::<f64>() / total;
        assert!((h.mean() - exact_mean).abs() / exact_mean < 1e-9);
    }

    #[test]
    fn merge_equals_recording_everything() {
        let mut s = 3u64;
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        let mut all = LatencyHistogram::new();
        for i in 0..50_000 {
            let v = splitmix64(&mut s) % 10_000_000;
            if i % 3 == 0 {
                a.record(v);
            } else {
                b.record(v);
            }
            all.record(v);
        }
        a.merge(&b);
        assert_eq!(a, all);
        let empty = LatencyHistogram::new();
        a.merge(&empty);
        assert_eq!(a, all);
        let mut e = LatencyHistogram::new();
        e.merge(&all);
        assert_eq!(e, all);
    }

    #[test]
    fn round_trip() {
        let empty = LatencyHistogram::new();
        let bytes = empty.serialize();
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(LatencyHistogram::deserialize(&bytes).unwrap(), empty);

        let mut h = LatencyHistogram::new();
        let mut s = 11u64;
        for _ in 0..10_000 {
            h.record((splitmix64(&mut s) >> 20) % 5_000_000 + 1);
        }
        h.record(u64::MAX);
        let bytes = h.serialize();
        let back = LatencyHistogram::deserialize(&bytes).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.serialize(), bytes);
        let mut buf = vec![0xAA];
        h.serialize_into(&mut buf);
        assert_eq!(&buf[1..], &bytes[..]);
    }

    #[test]
    fn wire_layout_is_exact() {
        let mut h = LatencyHistogram::new();
        h.record(5);
        h.record(5);
        h.record(3000);
        let b = h.serialize();
        assert_eq!(&b[0..8], b"HFTCHIST");
        assert_eq!(&b[8..12], &1u32.to_le_bytes());
        assert_eq!(&b[12..16], &11u32.to_le_bytes());
        assert_eq!(&b[16..20], &40u32.to_le_bytes());
        assert_eq!(&b[20..24], &0u32.to_le_bytes());
        assert_eq!(&b[24..32], &3u64.to_le_bytes());
        assert_eq!(&b[32..40], &5u64.to_le_bytes());
        assert_eq!(&b[40..48], &3000u64.to_le_bytes());
        assert_eq!(&b[48..56], &3010u64.to_le_bytes());
        assert_eq!(&b[56..60], &2u32.to_le_bytes());
        assert_eq!(&b[60..64], &5u32.to_le_bytes());
        assert_eq!(&b[64..72], &2u64.to_le_bytes());
        assert_eq!(&b[72..76], &(bucket_index(3000) as u32).to_le_bytes());
        assert_eq!(&b[76..84], &1u64.to_le_bytes());
        assert_eq!(b.len(), 84);
    }

    fn sample() -> Vec<u8> {
        let mut h = LatencyHistogram::new();
        h.record(5);
        h.record(5);
        h.record(3000);
        h.serialize()
    }

    fn put_u32(b: &mut [u8], o: usize, v: u32) {
        b[o..o + 4].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn rejects_each_invalid_case() {
        use HistogramError::*;
        let de = LatencyHistogram::deserialize;
        assert!(de(&sample()).is_ok());

        let mut b = sample();
        b[0] = b'X';
        assert!(matches!(de(&b), Err(BadMagic(_))));

        let mut b = sample();
        put_u32(&mut b, 8, 2);
        assert_eq!(de(&b), Err(UnsupportedVersion(2)));

        let mut b = sample();
        put_u32(&mut b, 12, 10);
        assert_eq!(de(&b), Err(BadSubBits(10)));

        let mut b = sample();
        put_u32(&mut b, 16, 48);
        assert_eq!(de(&b), Err(BadMaxBits(48)));

        let mut b = sample();
        put_u32(&mut b, 72, BUCKET_COUNT as u32);
        assert_eq!(
            de(&b),
            Err(IndexOutOfRange {
                index: BUCKET_COUNT as u32
            })
        );

        let mut b = sample();
        put_u32(&mut b, 72, 5);
        assert_eq!(
            de(&b),
            Err(IndexNotAscending {
                previous: 5,
                index: 5
            })
        );
        let mut b = sample();
        put_u32(&mut b, 72, 4);
        assert_eq!(
            de(&b),
            Err(IndexNotAscending {
                previous: 5,
                index: 4
            })
        );

        let mut b = sample();
        b[64..72].copy_from_slice(&0u64.to_le_bytes());
        assert_eq!(de(&b), Err(ZeroCount { index: 5 }));

        let mut b = sample();
        b[24..32].copy_from_slice(&4u64.to_le_bytes());
        assert_eq!(
            de(&b),
            Err(TotalMismatch {
                header: 4,
                buckets: 3
            })
        );

        // Bucket counts that overflow u64 can never match the header.
        let mut b = sample();
        b[64..72].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(de(&b), Err(TotalMismatch { .. })));

        let mut b = sample();
        b.push(0);
        assert_eq!(
            de(&b),
            Err(TrailingBytes {
                expected: 84,
                got: 85
            })
        );

        let b = sample();
        assert_eq!(
            de(&b[..83]),
            Err(Truncated {
                needed: 84,
                got: 83
            })
        );
        assert_eq!(
            de(&b[..10]),
            Err(Truncated {
                needed: HEADER_LEN,
                got: 10
            })
        );
        assert_eq!(de(&[]), Err(Truncated { needed: 60, got: 0 }));

        // A huge announced bucket count is rejected without allocating.
        let mut b = sample();
        put_u32(&mut b, 56, u32::MAX);
        assert!(matches!(de(&b), Err(Truncated { .. })));

        // Every error renders a readable message.
        for e in [
            BadMagic(*b"XXXXXXXX"),
            UnsupportedVersion(2),
            ZeroCount { index: 1 },
        ] {
            assert!(!e.to_string().is_empty());
        }
    }
}
