#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "hft/spsc_ring.hpp"
#include "hft/thread.hpp"

namespace {

struct Wide {
  std::uint64_t w[8];
};

TEST(SpscRing, RejectsBadCapacity) {
  EXPECT_THROW(hft::SpscRing<int>(0), std::invalid_argument);
  EXPECT_THROW(hft::SpscRing<int>(1), std::invalid_argument);
  EXPECT_THROW(hft::SpscRing<int>(3), std::invalid_argument);
  EXPECT_THROW(hft::SpscRing<int>(1000), std::invalid_argument);
  EXPECT_EQ(hft::SpscRing<int>(2).capacity(), 2u);
  EXPECT_EQ(hft::SpscRing<int>(1024).capacity(), 1024u);
}

TEST(SpscRing, IndicesLiveOnSeparateCacheLines) {
  // The whole object spans at least three lines: constants, producer, consumer.
  EXPECT_GE(sizeof(hft::SpscRing<int>), 3 * 64u);
  EXPECT_EQ(alignof(hft::SpscRing<int>) % 64, 0u);
}

TEST(SpscRing, FifoFullAndEmpty) {
  hft::SpscRing<std::uint64_t> r(4);
  std::uint64_t v = 0;
  EXPECT_TRUE(r.empty_approx());
  EXPECT_FALSE(r.try_pop(v));
  for (std::uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(r.try_push(i));
  EXPECT_FALSE(r.try_push(99));
  EXPECT_EQ(r.size_approx(), 4u);
  for (std::uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(r.try_pop(v));
    EXPECT_EQ(v, i);
  }
  EXPECT_FALSE(r.try_pop(v));
}

TEST(SpscRing, WrapsAroundManyTimes) {
  hft::SpscRing<std::uint32_t> r(8);
  std::uint32_t next_in = 0, next_out = 0, v = 0;
  for (int round = 0; round < 1000; ++round) {
    const int n = 1 + round % 8;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(r.try_push(next_in++));
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(r.try_pop(v));
      ASSERT_EQ(v, next_out++);
    }
  }
}

TEST(SpscRing, BatchPushPopAcrossTheWrap) {
  hft::SpscRing<std::uint64_t> r(8);
  std::array<std::uint64_t, 16> in{};
  for (std::uint64_t i = 0; i < in.size(); ++i) in[i] = 100 + i;
  std::array<std::uint64_t, 16> out{};

  // Move the indices to 5 so the next batch straddles the end of the slot array.
  EXPECT_EQ(r.try_push_n(std::span<const std::uint64_t>(in.data(), 5)), 5u);
  EXPECT_EQ(r.try_pop_n(std::span<std::uint64_t>(out.data(), 5)), 5u);

  EXPECT_EQ(r.try_push_n(in), 8u);  // only 8 fit
  EXPECT_EQ(r.try_push_n(in), 0u);
  EXPECT_EQ(r.try_pop_n(std::span<std::uint64_t>(out.data(), 3)), 3u);
  EXPECT_EQ(r.try_pop_n(out), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(out[i], 103 + i);
  EXPECT_EQ(r.try_pop_n(out), 0u);
  EXPECT_EQ(r.try_push_n({}), 0u);
}

TEST(SpscRing, WideItemsRoundTrip) {
  hft::SpscRing<Wide> r(16);
  for (std::uint64_t s = 0; s < 10; ++s) {
    Wide w{};
    for (std::uint64_t k = 0; k < 8; ++k) w.w[k] = s * 8 + k;
    ASSERT_TRUE(r.try_push(w));
  }
  for (std::uint64_t s = 0; s < 10; ++s) {
    Wide w{};
    ASSERT_TRUE(r.try_pop(w));
    for (std::uint64_t k = 0; k < 8; ++k) ASSERT_EQ(w.w[k], s * 8 + k);
  }
}

// Two threads, single and batch operations mixed; ThreadSanitizer checks the orderings.
TEST(SpscRing, TwoThreadStress) {
  constexpr std::uint64_t kCount = 200'000;
  hft::SpscRing<Wide> r(64);
  std::thread producer([&] {
    std::array<Wide, 7> batch{};
    std::uint64_t s = 0;
    hft::SpinWait wait(64);
    while (s < kCount) {
      if (s % 3 == 0) {
        const std::size_t n = std::min<std::uint64_t>(batch.size(), kCount - s);
        for (std::size_t i = 0; i < n; ++i) {
          for (std::uint64_t k = 0; k < 8; ++k) batch[i].w[k] = (s + i) * 8 + k;
        }
        const std::size_t pushed = r.try_push_n(std::span<const Wide>(batch.data(), n));
        s += pushed;
        if (pushed == 0)
          wait.wait();
        else
          wait.reset();
      } else {
        Wide w{};
        for (std::uint64_t k = 0; k < 8; ++k) w.w[k] = s * 8 + k;
        if (r.try_push(w)) {
          ++s;
          wait.reset();
        } else {
          wait.wait();
        }
      }
    }
  });
  std::uint64_t s = 0;
  bool ok = true;
  std::array<Wide, 5> out{};
  hft::SpinWait wait(64);
  while (s < kCount) {  // keep draining even after a bad item so the producer finishes
    const std::size_t n = (s & 1) ? r.try_pop_n(out) : (r.try_pop(out[0]) ? 1u : 0u);
    if (n == 0) {
      wait.wait();
      continue;
    }
    wait.reset();
    for (std::size_t i = 0; i < n; ++i, ++s) {
      for (std::uint64_t k = 0; k < 8; ++k) ok = ok && out[i].w[k] == s * 8 + k;
    }
  }
  producer.join();
  EXPECT_TRUE(ok) << "first bad item near sequence " << s;
  EXPECT_EQ(s, kCount);
  EXPECT_TRUE(r.empty_approx());
}

}  // namespace
