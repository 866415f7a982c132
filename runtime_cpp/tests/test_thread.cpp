#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "hft/thread.hpp"

namespace {

TEST(Thread, PinsToAnAllowedCpu) {
  const auto cpus = hft::allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  const int target = cpus.back();
  std::thread t([&] {
    ASSERT_FALSE(hft::pin_current_thread(target)) << "pin to " << target;
    EXPECT_EQ(hft::current_cpu(), target);
    const auto now = hft::allowed_cpus();
    ASSERT_EQ(now.size(), 1u);
    EXPECT_EQ(now[0], target);
  });
  t.join();
}

TEST(Thread, PinThreadHandle) {
  const int target = hft::allowed_cpus().front();
  std::atomic<bool> go{false};
  std::atomic<int> seen{-2};
  std::thread t([&] {
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    seen.store(hft::current_cpu(), std::memory_order_release);
  });
  EXPECT_FALSE(hft::pin_thread(t, target));
  go.store(true, std::memory_order_release);
  t.join();
  EXPECT_EQ(seen.load(), target);
}

TEST(Thread, PinningToABadCpuReportsAnError) {
  EXPECT_EQ(hft::pin_current_thread(-1), std::errc::invalid_argument);
  EXPECT_EQ(hft::pin_current_thread(CPU_SETSIZE), std::errc::invalid_argument);
  std::thread t([] {
    // A CPU number beyond every online CPU: the kernel refuses the mask.
    const auto ec = hft::pin_current_thread(CPU_SETSIZE - 1);
    EXPECT_TRUE(ec);
  });
  t.join();
}

TEST(Thread, NumaBufferIsUsable) {
  hft::NumaBuffer buf(1 << 20);
  ASSERT_NE(buf.data(), nullptr);
  EXPECT_EQ(buf.size(), 1u << 20);
  std::memset(buf.data(), 0xAB, buf.size());
  EXPECT_EQ(static_cast<unsigned char*>(buf.data())[buf.size() - 1], 0xAB);
  if (hft::numa_enabled()) {
    EXPECT_TRUE(buf.numa_bound());
    EXPECT_GE(buf.node(), 0);
    EXPECT_GE(hft::numa_node_of_cpu(hft::current_cpu()), 0);
  } else {
    EXPECT_FALSE(buf.numa_bound());
    EXPECT_EQ(buf.node(), -1);
    EXPECT_EQ(hft::numa_node_of_cpu(0), -1);
  }
  hft::NumaBuffer moved(std::move(buf));
  EXPECT_EQ(buf.data(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_NE(moved.data(), nullptr);
}

TEST(Thread, SpinWaitSpinsThenYields) {
  hft::SpinWait w(3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(w.spinning());
    w.wait();
  }
  EXPECT_FALSE(w.spinning());
  w.wait();  // yields
  w.reset();
  EXPECT_TRUE(w.spinning());
}

TEST(Thread, SpinUntilSeesAnotherThreadsStore) {
  std::atomic<bool> flag{false};
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    flag.store(true, std::memory_order_release);
  });
  EXPECT_TRUE(hft::spin_until([&] { return flag.load(std::memory_order_acquire); },
                              std::chrono::seconds(10)));
  t.join();
}

TEST(Thread, SpinUntilTimesOut) {
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(hft::spin_until([] { return false; }, std::chrono::milliseconds(10)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(10));
}

}  // namespace
