// Thread placement and waiting: CPU pinning, NUMA-local allocation (libnuma when the
// build found it, a plain local mapping otherwise) and spin-then-yield waits.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "hft/cpu.hpp"

// HFT_HAVE_NUMA is set by the CMake target (option HFT_WITH_NUMA and libnuma found); the
// header check keeps a stray -DHFT_HAVE_NUMA=1 without the headers from breaking builds.
#if !defined(HFT_HAVE_NUMA)
#define HFT_HAVE_NUMA 0
#endif
#if HFT_HAVE_NUMA && __has_include(<numa.h>)
#include <numa.h>
#define HFT_NUMA_ENABLED 1
#else
#define HFT_NUMA_ENABLED 0
#endif

namespace hft {

/// Pins `thread` to exactly one CPU. Returns the pthread error (e.g. EINVAL when the CPU
/// does not exist or is outside the process's cpuset).
inline std::error_code pin_thread(pthread_t thread, int cpu) noexcept {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return std::make_error_code(std::errc::invalid_argument);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const int rc = ::pthread_setaffinity_np(thread, sizeof(set), &set);
  return rc == 0 ? std::error_code{} : std::error_code(rc, std::generic_category());
}

inline std::error_code pin_current_thread(int cpu) noexcept {
  return pin_thread(::pthread_self(), cpu);
}

inline std::error_code pin_thread(std::thread& t, int cpu) noexcept {
  return pin_thread(t.native_handle(), cpu);
}

/// CPU the calling thread is running on right now (-1 if unknown).
inline int current_cpu() noexcept { return ::sched_getcpu(); }

/// CPUs the calling thread may run on (its affinity mask), ascending.
inline std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::pthread_getaffinity_np(::pthread_self(), sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

// ---------------------------------------------------------------------------------------
// NUMA
// ---------------------------------------------------------------------------------------

/// True when built with libnuma and the kernel reports NUMA support.
inline bool numa_enabled() noexcept {
#if HFT_NUMA_ENABLED
  return ::numa_available() >= 0;
#else
  return false;
#endif
}

/// NUMA node of `cpu`; -1 when NUMA support is not available.
inline int numa_node_of_cpu(int cpu) noexcept {
#if HFT_NUMA_ENABLED
  if (numa_enabled()) return ::numa_node_of_cpu(cpu);
#endif
  (void)cpu;
  return -1;
}

/// Page-aligned memory placed on one NUMA node (libnuma's numa_alloc_onnode) or, without
/// libnuma, an anonymous mapping that the kernel's first-touch policy places on the node
/// of the thread that first writes it. Prefaulted by the constructing thread either way.
class NumaBuffer {
 public:
  NumaBuffer() = default;
  /// node < 0: the calling thread's node. Throws std::bad_alloc on failure.
  explicit NumaBuffer(std::size_t bytes, int node = -1) : size_(bytes == 0 ? 1 : bytes) {
#if HFT_NUMA_ENABLED
    if (numa_enabled()) {
      const int target = node >= 0 ? node : ::numa_node_of_cpu(current_cpu());
      data_ = ::numa_alloc_onnode(size_, target < 0 ? 0 : target);
      if (data_ == nullptr) throw std::bad_alloc();
      node_ = target;
      numa_ = true;
      prefault();
      return;
    }
#endif
    (void)node;
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = p;
    prefault();  // first touch from this thread decides placement
  }
  NumaBuffer(const NumaBuffer&) = delete;
  NumaBuffer& operator=(const NumaBuffer&) = delete;
  NumaBuffer(NumaBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        node_(o.node_),
        numa_(o.numa_) {}
  NumaBuffer& operator=(NumaBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      node_ = o.node_;
      numa_ = o.numa_;
    }
    return *this;
  }
  ~NumaBuffer() { release(); }

  void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  /// Node the memory was bound to, or -1 when placement was left to first touch.
  int node() const noexcept { return node_; }
  bool numa_bound() const noexcept { return numa_; }

 private:
  void prefault() noexcept {
    for (std::size_t off = 0; off < size_; off += 4096) static_cast<volatile char*>(data_)[off] = 0;
  }
  void release() noexcept {
    if (data_ == nullptr) return;
#if HFT_NUMA_ENABLED
    if (numa_) {
      ::numa_free(data_, size_);
      data_ = nullptr;
      return;
    }
#endif
    ::munmap(data_, size_);
    data_ = nullptr;
  }

  void* data_ = nullptr;
  std::size_t size_ = 0;
  int node_ = -1;
  bool numa_ = false;
};

// ---------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------

/// Spin-then-yield backoff. Spinning (with `pause`) reacts within tens of nanoseconds but
/// burns the core; after `spin_limit` polls we yield so an oversubscribed machine (or a
/// sanitizer run) still makes progress. Pinned, isolated hot threads should use a large
/// limit; call reset() after each successful poll.
class SpinWait {
 public:
  explicit SpinWait(std::uint32_t spin_limit = 4096) noexcept : limit_(spin_limit) {}

  void wait() noexcept {
    if (count_ < limit_) {
      ++count_;
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
  void reset() noexcept { count_ = 0; }
  bool spinning() const noexcept { return count_ < limit_; }

 private:
  std::uint32_t limit_;
  std::uint32_t count_ = 0;
};

/// Waits until `pred()` is true, spinning then yielding; false if `timeout` elapsed first.
/// The clock is only read every 256 polls to keep the spin loop tight.
template <class Pred>
bool spin_until(Pred&& pred, std::chrono::nanoseconds timeout, std::uint32_t spin_limit = 4096) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  SpinWait w(spin_limit);
  for (std::uint32_t i = 0;; ++i) {
    if (pred()) return true;
    if ((i & 255u) == 0 && std::chrono::steady_clock::now() >= deadline) return pred();
    w.wait();
  }
}

}  // namespace hft
