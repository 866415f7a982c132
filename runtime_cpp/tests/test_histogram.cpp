#include "hft/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace {

using hft::HistogramFormatError;
using hft::LatencyHistogram;

// Reference percentile on sorted samples using the same rank rule as FORMATS.md §2.
uint64_t reference_percentile(const std::vector<uint64_t>& sorted, double p) {
  const double want = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  uint64_t rank = want < 1.0 ? 1 : static_cast<uint64_t>(want);
  rank = std::min<uint64_t>(rank, sorted.size());
  return sorted[rank - 1];
}

void put_u32(std::vector<std::byte>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::byte>(v >> (8 * i));
}
void put_u64(std::vector<std::byte>& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<std::byte>(v >> (8 * i));
}

// Expects deserialisation to fail with a message containing `needle`.
void expect_rejected(const std::vector<std::byte>& bytes, const std::string& needle) {
  try {
    (void)LatencyHistogram::deserialize(bytes);
    FAIL() << "accepted malformed input, expected error containing '" << needle << "'";
  } catch (const HistogramFormatError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Histogram, ExactRegionCountsEachValue) {
  LatencyHistogram h;
  for (uint64_t v = 0; v < 2048; ++v) {
    EXPECT_EQ(LatencyHistogram::bucket_index(v), v);
    h.record(v);
  }
  for (uint64_t v = 0; v < 2048; ++v) {
    EXPECT_EQ(h.bucket_count(v), 1u);
    EXPECT_EQ(LatencyHistogram::bucket_lo(v), v);
    EXPECT_EQ(LatencyHistogram::bucket_mid(v), v);
  }
  EXPECT_EQ(h.count(), 2048u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 2047u);
  EXPECT_EQ(h.value_at_percentile(0), 0u);
  EXPECT_EQ(h.value_at_percentile(50), 1023u);
  EXPECT_EQ(h.value_at_percentile(100), 2047u);
  EXPECT_DOUBLE_EQ(h.mean(), 1023.5);
}

TEST(Histogram, BucketBoundaries) {
  // First log bucket: 2048 and 2049 share index 2048 (width 2).
  EXPECT_EQ(LatencyHistogram::bucket_index(2048), 2048u);
  EXPECT_EQ(LatencyHistogram::bucket_index(2049), 2048u);
  EXPECT_EQ(LatencyHistogram::bucket_index(2050), 2049u);
  EXPECT_EQ(LatencyHistogram::bucket_index(4095), 3071u);
  EXPECT_EQ(LatencyHistogram::bucket_index(4096), 3072u);
  EXPECT_EQ(LatencyHistogram::bucket_width(2048), 2u);
  EXPECT_EQ(LatencyHistogram::bucket_width(3072), 4u);
  // Every bucket: lo maps to itself, lo-1 to the previous bucket, lo+width-1 to itself.
  for (size_t i = 1; i < LatencyHistogram::kBucketCount; ++i) {
    const uint64_t lo = LatencyHistogram::bucket_lo(i);
    const uint64_t w = LatencyHistogram::bucket_width(i);
    ASSERT_EQ(LatencyHistogram::bucket_index(lo), i) << "lo of bucket " << i;
    ASSERT_EQ(LatencyHistogram::bucket_index(lo + w - 1), i) << "hi of bucket " << i;
    ASSERT_EQ(LatencyHistogram::bucket_index(lo - 1), i - 1) << "below bucket " << i;
  }
  // Top of the trackable range and clamping.
  constexpr uint64_t kMax = LatencyHistogram::kMaxTrackable;
  EXPECT_EQ(LatencyHistogram::bucket_index(kMax), LatencyHistogram::kBucketCount - 1);
  EXPECT_EQ(LatencyHistogram::bucket_index(kMax + 1), LatencyHistogram::kBucketCount - 1);
  EXPECT_EQ(LatencyHistogram::bucket_index(UINT64_MAX), LatencyHistogram::kBucketCount - 1);
  EXPECT_EQ(LatencyHistogram::kBucketCount, 31744u);
}

TEST(Histogram, ClampedValueKeepsExactMax) {
  LatencyHistogram h;
  h.record(UINT64_MAX);
  EXPECT_EQ(h.bucket_count(LatencyHistogram::kBucketCount - 1), 1u);
  EXPECT_EQ(h.max(), UINT64_MAX);
  EXPECT_EQ(h.value_at_percentile(100), UINT64_MAX);  // clamped to [min, max] = the value itself
}

TEST(Histogram, EmptyHistogram) {
  LatencyHistogram h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), UINT64_MAX);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.value_at_percentile(50), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  const auto bytes = h.serialize();
  EXPECT_EQ(bytes.size(), LatencyHistogram::kHeaderBytes);
  const auto back = LatencyHistogram::deserialize(bytes);
  EXPECT_EQ(back.count(), 0u);
  EXPECT_EQ(back.min(), UINT64_MAX);
}

TEST(Histogram, PercentileErrorWithinTenthOfPercent) {
  std::mt19937_64 rng(12345);
  // Log-uniform over 1 ns .. ~1 s exercises every magnitude, not just the exact region.
  std::uniform_real_distribution<double> exponent(0.0, 30.0);
  LatencyHistogram h;
  std::vector<uint64_t> samples;
  samples.reserve(200000);
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<uint64_t>(std::exp2(exponent(rng)));
    samples.push_back(v);
    h.record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double p : {0.0, 0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const double ref = static_cast<double>(reference_percentile(samples, p));
    const double got = static_cast<double>(h.value_at_percentile(p));
    EXPECT_LE(std::abs(got - ref), ref * 0.001) << "p" << p << " ref " << ref << " got " << got;
  }
  EXPECT_EQ(h.min(), samples.front());
  EXPECT_EQ(h.max(), samples.back());
}

TEST(Histogram, RecordN) {
  LatencyHistogram a, b;
  for (int i = 0; i < 7; ++i) a.record(123456);
  b.record_n(123456, 7);
  b.record_n(999, 0);  // no-op: must not disturb min
  EXPECT_EQ(a.serialize(), b.serialize());
  EXPECT_EQ(b.min(), 123456u);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  std::mt19937_64 rng(7);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 50000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.serialize(), all.serialize());
  EXPECT_EQ(a.count(), 50000u);
  LatencyHistogram empty;
  a.merge(empty);
  EXPECT_EQ(a.serialize(), all.serialize());
}

TEST(Histogram, ResetAndCopy) {
  LatencyHistogram h;
  h.record(5);
  h.record(50000);
  LatencyHistogram copy = h;
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.serialize(), LatencyHistogram().serialize());
  EXPECT_EQ(copy.count(), 2u);
  EXPECT_EQ(copy.max(), 50000u);
  LatencyHistogram moved = std::move(copy);
  copy = moved;  // assigning to a moved-from histogram re-allocates its counters
  copy.record(1);
  EXPECT_EQ(copy.count(), 3u);
}

TEST(Histogram, SerializeRoundTrip) {
  LatencyHistogram h;
  std::mt19937_64 rng(99);
  for (int i = 0; i < 10000; ++i) h.record(rng() % 10'000'000);
  h.record(UINT64_MAX);
  const auto bytes = h.serialize();
  ASSERT_EQ(bytes.size(), h.serialized_size());
  // Header layout spot checks against FORMATS.md §2.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), 8), "HFTCHIST");
  EXPECT_EQ(static_cast<int>(bytes[8]), 1);
  EXPECT_EQ(static_cast<int>(bytes[12]), 11);
  EXPECT_EQ(static_cast<int>(bytes[16]), 40);
  const auto back = LatencyHistogram::deserialize(bytes);
  EXPECT_EQ(back.count(), h.count());
  EXPECT_EQ(back.min(), h.min());
  EXPECT_EQ(back.max(), h.max());
  EXPECT_EQ(back.sum(), h.sum());
  for (size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    ASSERT_EQ(back.bucket_count(i), h.bucket_count(i)) << i;
  }
  EXPECT_EQ(back.serialize(), bytes);

  std::vector<std::byte> small(bytes.size() - 1);
  EXPECT_EQ(h.serialize_into(small), 0u);
  std::vector<std::byte> big(bytes.size() + 10);
  EXPECT_EQ(h.serialize_into(big), bytes.size());
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), big.begin()));
}

TEST(Histogram, GoldenBytes) {
  // A fixed byte image, so both runtimes can check themselves against the same literal.
  LatencyHistogram h;
  h.record(1);
  h.record(3000);  // bit_width 12 -> shift 1 -> index 1024 + 1500 = 2524
  std::vector<std::byte> want(LatencyHistogram::kHeaderBytes + 2 * LatencyHistogram::kEntryBytes);
  const char magic[] = "HFTCHIST";
  for (int i = 0; i < 8; ++i) want[i] = static_cast<std::byte>(magic[i]);
  put_u32(want, 8, 1);
  put_u32(want, 12, 11);
  put_u32(want, 16, 40);
  put_u32(want, 20, 0);
  put_u64(want, 24, 2);
  put_u64(want, 32, 1);
  put_u64(want, 40, 3000);
  put_u64(want, 48, 3001);
  put_u32(want, 56, 2);
  put_u32(want, 60, 1);
  put_u64(want, 64, 1);
  put_u32(want, 72, 2524);
  put_u64(want, 76, 1);
  EXPECT_EQ(h.serialize(), want);
}

TEST(Histogram, InconsistentMinMaxFromWireIsHarmless) {
  // The format does not require min <= max; a reader must not misbehave on such input.
  LatencyHistogram h;
  h.record(500);
  auto b = h.serialize();
  put_u64(b, 32, UINT64_MAX);  // min
  put_u64(b, 40, 0);           // max
  const auto back = LatencyHistogram::deserialize(b);
  EXPECT_EQ(back.count(), 1u);
  EXPECT_EQ(back.value_at_percentile(50), 0u);  // clamped to max after min
}

TEST(Histogram, DeserializeRejectsMalformedInput) {
  LatencyHistogram h;
  h.record(10);
  h.record(5000);
  h.record(70000);
  const auto good = h.serialize();  // 3 entries: indices 10, <5000>, <70000>
  ASSERT_EQ(good.size(), LatencyHistogram::kHeaderBytes + 3 * LatencyHistogram::kEntryBytes);
  constexpr size_t kE0 = LatencyHistogram::kHeaderBytes;  // first entry
  constexpr size_t kE1 = kE0 + LatencyHistogram::kEntryBytes;

  expect_rejected(std::vector<std::byte>(good.begin(), good.begin() + 59), "truncated header");
  auto b = good;
  b[0] = std::byte{'X'};
  expect_rejected(b, "bad magic");
  b = good;
  put_u32(b, 8, 2);
  expect_rejected(b, "version");
  b = good;
  put_u32(b, 12, 12);
  expect_rejected(b, "sub_bits");
  b = good;
  put_u32(b, 16, 48);
  expect_rejected(b, "max_bits");
  b = good;
  b.pop_back();
  expect_rejected(b, "missing bytes");
  b = good;
  b.push_back(std::byte{0});
  expect_rejected(b, "trailing bytes");
  b = good;
  put_u32(b, 56, 4);  // announces more buckets than present
  expect_rejected(b, "missing bytes");
  b = good;
  put_u32(b, kE1, 31744);
  expect_rejected(b, "out of range");
  b = good;
  put_u32(b, kE1, 10);  // equal to the previous index
  expect_rejected(b, "strictly ascending");
  b = good;
  put_u32(b, kE1, 5);  // below the previous index
  expect_rejected(b, "strictly ascending");
  b = good;
  put_u64(b, kE0 + 4, 0);
  expect_rejected(b, "zero count");
  b = good;
  put_u64(b, 24, 4);  // total != bucket sum
  expect_rejected(b, "does not match bucket sum");
}

}  // namespace
