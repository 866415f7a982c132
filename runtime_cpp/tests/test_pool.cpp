#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <stdexcept>
#include <vector>

#include "hft/pool.hpp"

namespace {

struct Counted {
  static inline int live = 0;
  explicit Counted(int v) : value(v) { ++live; }
  ~Counted() { --live; }
  int value;
};

struct alignas(64) Aligned {
  std::uint64_t words[3];
};

struct Throws {
  explicit Throws(bool fail) {
    if (fail) throw std::runtime_error("ctor failed");
  }
};

TEST(HugePageArena, RoundsToHugePagesAndReportsBacking) {
  hft::HugePageArena arena(100);
  EXPECT_EQ(arena.size(), hft::HugePageArena::kHugePageSize);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(arena.data()) % hft::HugePageArena::kHugePageSize, 0u);
  const auto b = arena.backing();
  EXPECT_TRUE(b == hft::ArenaBacking::kHugeTlb || b == hft::ArenaBacking::kTransparent ||
              b == hft::ArenaBacking::kNormal);
  EXPECT_FALSE(hft::to_string(b).empty());
  // Usable end to end.
  auto* p = static_cast<unsigned char*>(arena.data());
  p[0] = 1;
  p[arena.size() - 1] = 2;
  EXPECT_EQ(p[0] + p[arena.size() - 1], 3);
}

TEST(HugePageArena, FallbackWithoutHugeTlb) {
  hft::HugePageArena arena(3 << 20, {.try_hugetlb = false, .prefault = true});
  EXPECT_EQ(arena.size(), 4u << 20);
  EXPECT_NE(arena.backing(), hft::ArenaBacking::kHugeTlb);
  hft::HugePageArena moved(std::move(arena));
  EXPECT_EQ(arena.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from state
  EXPECT_NE(moved.data(), nullptr);
}

TEST(ObjectPool, AcquireUntilExhaustedThenReuse) {
  hft::ObjectPool<Counted> pool(100);
  EXPECT_EQ(pool.capacity(), 100u);
  std::vector<Counted*> objs;
  std::set<Counted*> unique;
  for (int i = 0; i < 100; ++i) {
    Counted* c = pool.acquire(i);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->value, i);
    EXPECT_TRUE(pool.owns(c));
    objs.push_back(c);
    unique.insert(c);
  }
  EXPECT_EQ(unique.size(), 100u);
  EXPECT_EQ(Counted::live, 100);
  EXPECT_EQ(pool.available(), 0u);
  EXPECT_EQ(pool.acquire(0), nullptr);

  pool.release(objs[42]);
  EXPECT_EQ(Counted::live, 99);
  EXPECT_EQ(pool.in_use(), 99u);
  Counted* again = pool.acquire(7);
  EXPECT_EQ(again, objs[42]);  // LIFO: the hot slot comes back first
  for (Counted* c : objs) pool.release(c);
  EXPECT_EQ(Counted::live, 0);
  EXPECT_EQ(pool.available(), 100u);
  pool.release(nullptr);
}

TEST(ObjectPool, FreshPoolHandsOutConsecutiveSlots) {
  hft::ObjectPool<std::uint64_t> pool(4);
  auto* a = pool.acquire(1u);
  auto* b = pool.acquire(2u);
  EXPECT_EQ(reinterpret_cast<std::byte*>(b) - reinterpret_cast<std::byte*>(a),
            static_cast<std::ptrdiff_t>(pool.slot_size()));
  pool.release(a);
  pool.release(b);
}

TEST(ObjectPool, RespectsOverAlignment) {
  hft::ObjectPool<Aligned> pool(10);
  for (int i = 0; i < 10; ++i) {
    Aligned* a = pool.acquire();
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 64, 0u);
  }
  EXPECT_EQ(pool.slot_size(), 64u);
}

TEST(ObjectPool, ThrowingConstructorReturnsTheSlot) {
  hft::ObjectPool<Throws> pool(1);
  EXPECT_THROW((void)pool.acquire(true), std::runtime_error);
  EXPECT_EQ(pool.available(), 1u);
  Throws* t = pool.acquire(false);
  EXPECT_NE(t, nullptr);
  pool.release(t);
}

TEST(ObjectPool, HandlesReleaseAutomatically) {
  hft::ObjectPool<Counted> pool(2);
  {
    auto h = pool.make(5);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->value, 5);
    EXPECT_EQ(pool.in_use(), 1u);
  }
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(Counted::live, 0);
}

TEST(ObjectPool, SlotsSmallerThanAPointerStillWork) {
  hft::ObjectPool<char> pool(3);
  EXPECT_GE(pool.slot_size(), sizeof(void*));
  char* a = pool.acquire('a');
  char* b = pool.acquire('b');
  char* c = pool.acquire('c');
  EXPECT_EQ(*a + *b + *c, 'a' + 'b' + 'c');
  pool.release(b);
  EXPECT_EQ(pool.acquire('x'), b);
}

}  // namespace
