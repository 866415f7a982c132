#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "hft/shm_ring.hpp"
#include "hft/thread.hpp"

namespace {

struct Item {
  std::uint64_t w[8];
};

Item make_item(std::uint64_t s) {
  Item it{};
  for (std::uint64_t k = 0; k < 8; ++k) it.w[k] = s * 8 + k;
  return it;
}

bool check_item(const Item& it, std::uint64_t s) {
  for (std::uint64_t k = 0; k < 8; ++k) {
    if (it.w[k] != s * 8 + k) return false;
  }
  return true;
}

// A per-test, per-process name so parallel ctest runs do not collide.
std::string unique_name(const char* tag) {
  return std::string("hft_test_") + tag + "_" + std::to_string(::getpid());
}

bool shm_exists(const std::string& name) {
  const int fd = ::shm_open(("/" + name).c_str(), O_RDONLY, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// Maps the named object directly, to inspect or corrupt the raw bytes.
struct RawMap {
  explicit RawMap(const std::string& name, std::size_t len) : len(len) {
    const int fd = ::shm_open(("/" + name).c_str(), O_RDWR, 0);
    EXPECT_GE(fd, 0);
    p = static_cast<unsigned char*>(
        ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    ::close(fd);
    EXPECT_NE(p, MAP_FAILED);
  }
  ~RawMap() { ::munmap(p, len); }
  template <class U>
  U get(std::size_t off) const {
    U v;
    std::memcpy(&v, p + off, sizeof(U));
    return v;
  }
  template <class U>
  void put(std::size_t off, U v) {
    std::memcpy(p + off, &v, sizeof(U));
  }
  unsigned char* p;
  std::size_t len;
};

TEST(ShmRing, HeaderLayoutMatchesFormat) {
  const auto name = unique_name("layout");
  auto tx = hft::ShmRing<Item>::create(name, 8);
  RawMap raw(name, 256 + 8 * 64);
  EXPECT_EQ(std::memcmp(raw.p, "HFTCRING", 8), 0);
  EXPECT_EQ(raw.get<std::uint32_t>(8), 1u);
  EXPECT_EQ(raw.get<std::uint32_t>(12), 64u);
  EXPECT_EQ(raw.get<std::uint64_t>(16), 8u);
  EXPECT_EQ(raw.get<std::uint64_t>(24), 256u);
  for (std::size_t off = 32; off < 256; ++off) {
    if (off >= 64 && off < 72) continue;    // head
    if (off >= 128 && off < 136) continue;  // tail
    ASSERT_EQ(raw.p[off], 0) << "reserved byte " << off;
  }
  ASSERT_TRUE(tx.try_push(make_item(0)));
  ASSERT_TRUE(tx.try_push(make_item(1)));
  EXPECT_EQ(raw.get<std::uint64_t>(64), 2u);   // head
  EXPECT_EQ(raw.get<std::uint64_t>(128), 0u);  // tail
  // Item with sequence s sits at 256 + (s & (cap-1)) * item_size.
  EXPECT_EQ(raw.get<std::uint64_t>(256 + 64 + 3 * 8), 1u * 8 + 3);

  auto rx = hft::ShmRing<Item>::attach(name, 8);
  Item it{};
  ASSERT_TRUE(rx.try_pop(it));
  EXPECT_TRUE(check_item(it, 0));
  EXPECT_EQ(raw.get<std::uint64_t>(128), 1u);
}

TEST(ShmRing, CreateAttachRoundTripWithBatchesAndWrap) {
  const auto name = unique_name("roundtrip");
  auto tx = hft::ShmRing<Item>::create(name, 4);
  auto rx = hft::ShmRing<Item>::attach(name, 4);
  EXPECT_EQ(tx.capacity(), 4u);
  EXPECT_EQ(rx.capacity(), 4u);
  std::uint64_t in = 0, out = 0;
  Item it{};
  EXPECT_FALSE(rx.try_pop(it));
  for (int round = 0; round < 50; ++round) {
    std::array<Item, 3> batch{make_item(in), make_item(in + 1), make_item(in + 2)};
    const std::size_t pushed = tx.try_push_n(batch);
    in += pushed;
    while (tx.try_push(make_item(in))) ++in;
    EXPECT_FALSE(tx.try_push(make_item(in)));  // full
    std::array<Item, 3> got{};
    const std::size_t n = rx.try_pop_n(got);
    for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(check_item(got[i], out++));
    while (rx.try_pop(it)) ASSERT_TRUE(check_item(it, out++));
    ASSERT_EQ(in, out);
  }
  EXPECT_EQ(tx.consumed(), out);
  EXPECT_EQ(rx.popped(), out);
}

TEST(ShmRing, CreatorUnlinksOnDestroyUnlessToldNotTo) {
  const auto a = unique_name("unlink_a");
  {
    auto tx = hft::ShmRing<Item>::create(a, 2);
    EXPECT_TRUE(shm_exists(a));
  }
  EXPECT_FALSE(shm_exists(a));

  const auto b = unique_name("unlink_b");
  { auto tx = hft::ShmRing<Item>::create(b, 2, {.unlink_on_destroy = false}); }
  EXPECT_TRUE(shm_exists(b));
  ::shm_unlink(("/" + b).c_str());
}

TEST(ShmRing, CreateReplacesStaleObject) {
  const auto name = unique_name("stale");
  auto old = hft::ShmRing<Item>::create(name, 2, {.unlink_on_destroy = false});
  ASSERT_TRUE(old.try_push(make_item(7)));
  auto tx = hft::ShmRing<Item>::create(name, 2);
  auto rx = hft::ShmRing<Item>::attach(name, 2);
  Item it{};
  EXPECT_FALSE(rx.try_pop(it));  // the new ring is empty
}

TEST(ShmRing, RejectsBadArguments) {
  using K = hft::ShmError::Kind;
  try {
    (void)hft::ShmRing<Item>::create(unique_name("cap"), 3);
    FAIL() << "expected ShmError";
  } catch (const hft::ShmError& e) {
    EXPECT_EQ(e.kind(), K::kInvalidArgument);
  }
  EXPECT_THROW((void)hft::ShmRing<Item>::create("a/b", 4), hft::ShmError);
  EXPECT_THROW((void)hft::ShmRing<Item>::create("", 4), hft::ShmError);
}

hft::ShmError attach_error(const std::string& name, std::uint64_t cap) {
  try {
    (void)hft::ShmRing<Item>::attach(name, cap);
  } catch (const hft::ShmError& e) {
    return e;
  }
  ADD_FAILURE() << "attach succeeded";
  return hft::ShmError(hft::ShmError::Kind::kSystem, "none");
}

TEST(ShmRing, MismatchErrorsNameFieldExpectedAndFound) {
  const auto name = unique_name("mismatch");
  auto tx = hft::ShmRing<Item>::create(name, 16);

  auto e = attach_error(name, 32);
  EXPECT_EQ(e.kind(), hft::ShmError::Kind::kMismatch);
  EXPECT_EQ(e.field(), "capacity");
  EXPECT_EQ(e.expected(), 32u);
  EXPECT_EQ(e.found(), 16u);
  EXPECT_NE(std::string(e.what()).find("capacity mismatch: expected 32, found 16"),
            std::string::npos)
      << e.what();

  try {
    (void)hft::ShmRing<std::uint64_t>::attach(name, 16);
    FAIL() << "expected ShmError";
  } catch (const hft::ShmError& err) {
    EXPECT_EQ(err.field(), "item_size");
    EXPECT_EQ(err.expected(), 8u);
    EXPECT_EQ(err.found(), 64u);
  }

  RawMap raw(name, 256);
  raw.put<std::uint32_t>(8, 2);
  e = attach_error(name, 16);
  EXPECT_EQ(e.field(), "version");
  EXPECT_EQ(e.expected(), 1u);
  EXPECT_EQ(e.found(), 2u);
  raw.put<std::uint32_t>(8, 1);

  raw.put<std::uint64_t>(24, 512);
  e = attach_error(name, 16);
  EXPECT_EQ(e.field(), "data_offset");
  raw.put<std::uint64_t>(24, 256);

  raw.put<std::uint64_t>(0, 0x1122334455667788ull);
  e = attach_error(name, 16);
  EXPECT_EQ(e.kind(), hft::ShmError::Kind::kMismatch);
  EXPECT_EQ(e.field(), "magic");
  EXPECT_EQ(e.expected(), 0x474E495243544648ull);
  EXPECT_EQ(e.found(), 0x1122334455667788ull);
}

TEST(ShmRing, NotReadyIsDistinguishable) {
  const auto name = unique_name("notready");
  ::shm_unlink(("/" + name).c_str());
  auto e = attach_error(name, 4);
  EXPECT_TRUE(e.not_ready()) << e.what();

  // Created but not yet sized.
  const int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  e = attach_error(name, 4);
  EXPECT_TRUE(e.not_ready()) << e.what();

  // Sized but magic not yet written.
  ASSERT_EQ(::ftruncate(fd, 256 + 4 * 64), 0);
  ::close(fd);
  e = attach_error(name, 4);
  EXPECT_TRUE(e.not_ready()) << e.what();
  EXPECT_NE(std::string(e.what()).find("not ready"), std::string::npos);

  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW((void)hft::ShmRing<Item>::attach_retry(name, 4, std::chrono::milliseconds(20)),
               hft::ShmError);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(20));
  ::shm_unlink(("/" + name).c_str());
}

TEST(ShmRing, AttachRetrySucceedsOnceCreated) {
  const auto name = unique_name("retry");
  ::shm_unlink(("/" + name).c_str());
  std::thread creator([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    auto tx = hft::ShmRing<Item>::create(name, 8, {.unlink_on_destroy = false});
    ASSERT_TRUE(tx.try_push(make_item(42)));
  });
  auto rx = hft::ShmRing<Item>::attach_retry(name, 8, std::chrono::seconds(10));
  creator.join();
  Item it{};
  ASSERT_TRUE(rx.try_pop(it));
  EXPECT_TRUE(check_item(it, 42));
  ::shm_unlink(("/" + name).c_str());
}

// Producer and consumer on two threads, each with its own mapping of the object (as two
// processes would have).
TEST(ShmRing, TwoThreadStressSeparateMappings) {
  constexpr std::uint64_t kCount = 100'000;
  const auto name = unique_name("stress");
  auto tx = hft::ShmRing<Item>::create(name, 64);
  auto rx = hft::ShmRing<Item>::attach(name, 64);
  std::thread producer([&] {
    hft::SpinWait wait(64);
    for (std::uint64_t s = 0; s < kCount;) {
      if (tx.try_push(make_item(s))) {
        ++s;
        wait.reset();
      } else {
        wait.wait();
      }
    }
  });
  std::uint64_t bad = 0;
  std::array<Item, 8> out{};
  hft::SpinWait wait(64);
  for (std::uint64_t s = 0; s < kCount;) {
    const std::size_t n = rx.try_pop_n(out);
    if (n == 0)
      wait.wait();
    else
      wait.reset();
    for (std::size_t i = 0; i < n; ++i, ++s) bad += check_item(out[i], s) ? 0 : 1;
  }
  producer.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(tx.consumed(), kCount);
}

// Same, but both ends over ONE mapping of ordinary memory, so ThreadSanitizer sees every
// access at the same address and can check the release/acquire pairing.
TEST(ShmRing, TwoThreadStressSameMemory) {
  constexpr std::uint64_t kCount = 100'000;
  constexpr std::uint64_t kCap = 32;
  const std::size_t bytes = hft::ShmRingProducer<Item>::region_bytes(kCap);
  auto buf = std::make_unique<std::uint64_t[]>(bytes / 8);
  auto tx = hft::ShmRingProducer<Item>::format(buf.get(), bytes, kCap);
  auto rx = hft::ShmRingConsumer<Item>::over(buf.get(), bytes, kCap);
  std::thread producer([&] {
    std::array<Item, 5> batch{};
    hft::SpinWait wait(64);
    for (std::uint64_t s = 0; s < kCount;) {
      const std::size_t n = std::min<std::uint64_t>(batch.size(), kCount - s);
      for (std::size_t i = 0; i < n; ++i) batch[i] = make_item(s + i);
      const std::size_t pushed = tx.try_push_n(std::span<const Item>(batch.data(), n));
      s += pushed;
      if (pushed == 0)
        wait.wait();
      else
        wait.reset();
    }
  });
  std::uint64_t bad = 0;
  Item it{};
  hft::SpinWait wait(64);
  for (std::uint64_t s = 0; s < kCount;) {
    if (rx.try_pop(it)) {
      bad += check_item(it, s++) ? 0 : 1;
      wait.reset();
    } else {
      wait.wait();
    }
  }
  producer.join();
  EXPECT_EQ(bad, 0u);
}

}  // namespace
