// Log-linear latency histogram (HdrHistogram-style), layout and wire format per FORMATS.md §2.
//
// The bucket layout and the serialised form are shared with the Rust runtime byte for byte, so a
// histogram written by one language reads in the other. Do not change a constant here without a
// format version bump.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace hft {

/// Thrown by LatencyHistogram::deserialize when the input is not a valid version-1 histogram.
/// Deserialisation is a cold path (reports, cross-process collection), so an exception carrying a
/// message that names the offending field is more useful there than an error code.
class HistogramFormatError : public std::runtime_error {
 public:
  explicit HistogramFormatError(const std::string& what) : std::runtime_error(what) {}
};

/// Fixed-precision latency histogram over u64 nanosecond values.
///
/// Values below 2048 are counted exactly; above, each power-of-two range is split into 1024 linear
/// sub-buckets, so any recorded value is known to within 1/2048 of itself (< 0.05 % at the bucket
/// midpoint). Values above 2^40-1 ns (~18 minutes) are clamped into the last bucket, while the
/// exact maximum is still kept in max().
///
/// record() is branch-free: the exact and log regions share one formula because
/// `bit_width(v | 1024) - 11` is 0 for every v < 2048, which makes the index reduce to v there.
/// The counter array (248 KiB) is allocated once in the constructor; nothing on the record path
/// allocates. Not thread-safe: keep one histogram per thread and merge() them off the hot path.
class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 11;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBits;  // 2048
  static constexpr uint64_t kHalf = kSubBuckets / 2;                // 1024
  static constexpr unsigned kMaxBits = 40;
  static constexpr uint64_t kMaxTrackable = (uint64_t{1} << kMaxBits) - 1;
  static constexpr size_t kBucketCount = kHalf * (kMaxBits - kSubBits) + kSubBuckets;  // 31744

  static constexpr uint32_t kFormatVersion = 1;
  /// Bytes "HFTCHIST" read as a little-endian u64.
  static constexpr uint64_t kMagic = 0x5453494843544648ULL;
  static constexpr size_t kHeaderBytes = 60;
  static constexpr size_t kEntryBytes = 12;

  LatencyHistogram() : counts_(std::make_unique<uint64_t[]>(kBucketCount)) {}

  LatencyHistogram(const LatencyHistogram& other) : LatencyHistogram() { *this = other; }
  LatencyHistogram& operator=(const LatencyHistogram& other) {
    if (this != &other) {
      if (!counts_) counts_ = std::make_unique<uint64_t[]>(kBucketCount);  // target was moved from
      std::copy_n(other.counts_.get(), kBucketCount, counts_.get());
      total_ = other.total_;
      min_ = other.min_;
      max_ = other.max_;
      sum_ = other.sum_;
    }
    return *this;
  }
  /// A moved-from histogram owns no counters: it may only be assigned to or destroyed.
  LatencyHistogram(LatencyHistogram&&) noexcept = default;
  LatencyHistogram& operator=(LatencyHistogram&&) noexcept = default;

  /// Bucket index of a value (after clamping to kMaxTrackable). Exposed for tests and tools.
  static constexpr size_t bucket_index(uint64_t v) noexcept {
    const uint64_t c = std::min(v, kMaxTrackable);
    const unsigned shift = static_cast<unsigned>(std::bit_width(c | kHalf)) - kSubBits;
    return (static_cast<size_t>(shift) << 10) + static_cast<size_t>(c >> shift);
  }

  /// Lowest value that maps to bucket `index`.
  static constexpr uint64_t bucket_lo(size_t index) noexcept {
    if (index < kSubBuckets) return index;
    const uint64_t shift = index / kHalf - 1;
    return (static_cast<uint64_t>(index) - shift * kHalf) << shift;
  }

  /// Number of distinct values that map to bucket `index` (1 in the exact region).
  static constexpr uint64_t bucket_width(size_t index) noexcept {
    if (index < kSubBuckets) return 1;
    return uint64_t{1} << (index / kHalf - 1);
  }

  /// Value reported for a bucket by value_at_percentile(): the bucket midpoint.
  static constexpr uint64_t bucket_mid(size_t index) noexcept {
    return bucket_lo(index) + (bucket_width(index) >> 1);
  }

  /// Records one value. Touches one counter plus total/min/max/sum; no branches.
  void record(uint64_t v) noexcept {
    ++counts_[bucket_index(v)];
    ++total_;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    sum_ += v;  // wraps by design; mean() is meaningless after 2^64 ns of total latency
  }

  /// Records `n` occurrences of `v` (e.g. coordinated-omission correction). n == 0 is a no-op.
  void record_n(uint64_t v, uint64_t n) noexcept {
    if (n == 0) return;
    counts_[bucket_index(v)] += n;
    total_ += n;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    sum_ += v * n;
  }

  uint64_t count() const noexcept { return total_; }
  /// Smallest recorded value, or UINT64_MAX when empty (the serialised convention).
  uint64_t min() const noexcept { return min_; }
  /// Largest recorded value (exact, not clamped), or 0 when empty.
  uint64_t max() const noexcept { return max_; }
  /// Wrapping sum of the recorded values.
  uint64_t sum() const noexcept { return sum_; }
  double mean() const noexcept {
    return total_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(total_);
  }
  bool empty() const noexcept { return total_ == 0; }

  /// Count in one bucket (index < kBucketCount).
  uint64_t bucket_count(size_t index) const noexcept { return counts_[index]; }

  /// Value at percentile p in [0, 100] (clamped into that range): the midpoint of the first bucket
  /// whose cumulative count reaches ceil(p/100 * count), at least 1, clamped to [min, max].
  /// Returns 0 for an empty histogram. O(buckets) scan: meant for reporting, not the hot path.
  uint64_t value_at_percentile(double p) const noexcept {
    if (total_ == 0) return 0;
    if (!(p > 0.0)) p = 0.0;  // also maps NaN to 0
    if (p > 100.0) p = 100.0;
    const double want = std::ceil(p / 100.0 * static_cast<double>(total_));
    uint64_t target = want < 1.0 ? 1 : static_cast<uint64_t>(want);
    target = std::min(target, total_);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBucketCount; ++i) {
      cumulative += counts_[i];
      // max-then-min rather than std::clamp: a deserialised histogram may carry min > max, for
      // which std::clamp is undefined.
      if (cumulative >= target) return std::min(std::max(bucket_mid(i), min_), max_);
    }
    return max_;  // unreachable while counts sum to total_
  }

  /// Adds every counter of `other` and combines total/min/max/sum.
  void merge(const LatencyHistogram& other) noexcept {
    const uint64_t* src = other.counts_.get();
    uint64_t* dst = counts_.get();
    for (size_t i = 0; i < kBucketCount; ++i) dst[i] += src[i];
    total_ += other.total_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    sum_ += other.sum_;
  }

  /// Clears all counts, keeping the allocation.
  void reset() noexcept {
    std::fill_n(counts_.get(), kBucketCount, uint64_t{0});
    total_ = 0;
    min_ = std::numeric_limits<uint64_t>::max();
    max_ = 0;
    sum_ = 0;
  }

  /// Exact size of serialize()'s output.
  size_t serialized_size() const noexcept {
    size_t nonzero = 0;
    for (size_t i = 0; i < kBucketCount; ++i) nonzero += counts_[i] != 0 ? 1 : 0;
    return kHeaderBytes + nonzero * kEntryBytes;
  }

  /// Writes the version-1 wire form into `out`. Returns the number of bytes written, or 0 (and
  /// writes nothing) when `out` is smaller than serialized_size().
  size_t serialize_into(std::span<std::byte> out) const noexcept {
    const size_t need = serialized_size();
    if (out.size() < need) return 0;
    std::byte* p = out.data();
    p = put_u64(p, kMagic);
    p = put_u32(p, kFormatVersion);
    p = put_u32(p, kSubBits);
    p = put_u32(p, kMaxBits);
    p = put_u32(p, 0);
    p = put_u64(p, total_);
    p = put_u64(p, min_);
    p = put_u64(p, max_);
    p = put_u64(p, sum_);
    p = put_u32(p, static_cast<uint32_t>((need - kHeaderBytes) / kEntryBytes));
    for (size_t i = 0; i < kBucketCount; ++i) {
      if (counts_[i] == 0) continue;
      p = put_u32(p, static_cast<uint32_t>(i));
      p = put_u64(p, counts_[i]);
    }
    return need;
  }

  /// Serialises into a freshly allocated buffer (FORMATS.md §2, version 1).
  std::vector<std::byte> serialize() const {
    std::vector<std::byte> out(serialized_size());
    serialize_into(out);
    return out;
  }

  /// Parses a version-1 histogram. Throws HistogramFormatError naming the first problem found:
  /// short input, wrong magic/version/sub_bits/max_bits, out-of-range or non-ascending index,
  /// zero count, total not matching the bucket sum, or trailing bytes.
  static LatencyHistogram deserialize(std::span<const std::byte> in) {
    if (in.size() < kHeaderBytes) {
      throw HistogramFormatError("histogram: truncated header: need " +
                                 std::to_string(kHeaderBytes) + " bytes, got " +
                                 std::to_string(in.size()));
    }
    const std::byte* p = in.data();
    const uint64_t magic = get_u64(p);
    if (magic != kMagic) throw HistogramFormatError("histogram: bad magic (expected HFTCHIST)");
    expect_field("version", get_u32(p + 8), kFormatVersion);
    expect_field("sub_bits", get_u32(p + 12), kSubBits);
    expect_field("max_bits", get_u32(p + 16), kMaxBits);
    // Bytes 20..23 are reserved; version 1 writers put 0 there, readers ignore them.
    LatencyHistogram h;
    h.total_ = get_u64(p + 24);
    h.min_ = get_u64(p + 32);
    h.max_ = get_u64(p + 40);
    h.sum_ = get_u64(p + 48);
    const uint64_t n = get_u32(p + 56);
    const uint64_t body = in.size() - kHeaderBytes;
    if (body != n * kEntryBytes) {
      throw HistogramFormatError(
          "histogram: " + std::string(body < n * kEntryBytes ? "missing" : "trailing") +
          " bytes: header announces " + std::to_string(n) + " buckets (" +
          std::to_string(n * kEntryBytes) + " bytes), body has " + std::to_string(body) + " bytes");
    }
    uint64_t bucket_sum = 0;
    int64_t prev = -1;
    for (uint64_t k = 0; k < n; ++k) {
      const std::byte* e = p + kHeaderBytes + k * kEntryBytes;
      const uint32_t index = get_u32(e);
      const uint64_t c = get_u64(e + 4);
      if (index >= kBucketCount) {
        throw HistogramFormatError("histogram: bucket index " + std::to_string(index) +
                                   " out of range (max " + std::to_string(kBucketCount - 1) + ")");
      }
      if (static_cast<int64_t>(index) <= prev) {
        throw HistogramFormatError("histogram: bucket indices not strictly ascending (" +
                                   std::to_string(index) + " after " + std::to_string(prev) + ")");
      }
      if (c == 0) {
        throw HistogramFormatError("histogram: zero count for bucket " + std::to_string(index));
      }
      prev = index;
      h.counts_[index] = c;
      bucket_sum += c;
    }
    if (bucket_sum != h.total_) {
      throw HistogramFormatError("histogram: total " + std::to_string(h.total_) +
                                 " does not match bucket sum " + std::to_string(bucket_sum));
    }
    return h;
  }

 private:
  // Explicit byte-wise little-endian encoding keeps the format host-independent; this is the cold
  // path so the shifts cost nothing that matters.
  static std::byte* put_u32(std::byte* p, uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) *p++ = static_cast<std::byte>(v >> (8 * i));
    return p;
  }
  static std::byte* put_u64(std::byte* p, uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) *p++ = static_cast<std::byte>(v >> (8 * i));
    return p;
  }
  static uint32_t get_u32(const std::byte* p) noexcept {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
    return v;
  }
  static uint64_t get_u64(const std::byte* p) noexcept {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
  }
  static void expect_field(const char* name, uint64_t found, uint64_t expected) {
    if (found != expected) {
      throw HistogramFormatError(std::string("histogram: unsupported ") + name + ": expected " +
                                 std::to_string(expected) + ", found " + std::to_string(found));
    }
  }

  std::unique_ptr<uint64_t[]> counts_;
  uint64_t total_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace hft
