// Small CPU-level helpers shared by the runtime headers: cache-line size and the
// spin-loop pause hint.
#pragma once

#include <cstddef>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace hft {

// Size used to keep data written by different threads on different cache lines.
// std::hardware_destructive_interference_size is used when the library provides it;
// GCC warns that its value may differ between -mtune settings (-Winterference-size),
// which is harmless here because it only sizes padding inside one process.
#if defined(__cpp_lib_hardware_interference_size)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winterference-size"
#endif
inline constexpr std::size_t kCacheLineSize = std::hardware_destructive_interference_size < 64
                                                  ? 64
                                                  : std::hardware_destructive_interference_size;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#else
inline constexpr std::size_t kCacheLineSize = 64;
#endif

/// Hint to the CPU that we are in a spin loop: on x86 `pause` lowers power and avoids
/// the memory-order mis-speculation flush when the awaited line finally changes.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#else
  __asm__ __volatile__("" ::: "memory");
#endif
}

}  // namespace hft
