// hft_shm_tool: producer/consumer for the cross-language shared-memory ring test
// (FORMATS.md §1). Items are 8 x u64; word k of the item with sequence s is s * 8 + k.
//
//   hft_shm_tool produce NAME COUNT [CAPACITY]
//   hft_shm_tool consume NAME COUNT [CAPACITY]
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "hft/shm_ring.hpp"
#include "hft/thread.hpp"

namespace {

struct Item {
  std::uint64_t w[8];
};
static_assert(sizeof(Item) == 64);

constexpr std::uint64_t kDefaultCapacity = 1024;
constexpr auto kAttachTimeout = std::chrono::seconds(10);
constexpr auto kDrainTimeout = std::chrono::seconds(30);

int usage() {
  std::fprintf(stderr,
               "usage: hft_shm_tool produce NAME COUNT [CAPACITY]\n"
               "       hft_shm_tool consume NAME COUNT [CAPACITY]\n"
               "CAPACITY defaults to %llu (a power of two >= 2)\n",
               static_cast<unsigned long long>(kDefaultCapacity));
  return 2;
}

bool parse_u64(const char* s, std::uint64_t& out) {
  if (s == nullptr || *s == '\0' || *s == '-') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

int produce(std::string_view name, std::uint64_t count, std::uint64_t capacity) {
  auto tx = hft::ShmRing<Item>::create(name, capacity);
  Item item{};
  for (std::uint64_t s = 0; s < count; ++s) {
    for (std::uint64_t k = 0; k < 8; ++k) item.w[k] = s * 8 + k;
    hft::SpinWait wait;
    while (!tx.try_push(item)) wait.wait();
  }
  // Keep the object (and its name) alive until the consumer has drained everything.
  if (!hft::spin_until([&] { return tx.consumed() >= count; }, kDrainTimeout)) {
    std::fprintf(stderr, "produce: timed out: consumer popped %llu of %llu\n",
                 static_cast<unsigned long long>(tx.consumed()),
                 static_cast<unsigned long long>(count));
    return 1;
  }
  return 0;
}

int consume(std::string_view name, std::uint64_t count, std::uint64_t capacity) {
  auto rx = hft::ShmRing<Item>::attach_retry(name, capacity, kAttachTimeout);
  Item item{};
  for (std::uint64_t s = 0; s < count; ++s) {
    hft::SpinWait wait;
    const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
    while (!rx.try_pop(item)) {
      wait.wait();
      if (!wait.spinning() && std::chrono::steady_clock::now() > deadline) {
        std::printf("timeout waiting for item %llu\n", static_cast<unsigned long long>(s));
        return 1;
      }
    }
    for (std::uint64_t k = 0; k < 8; ++k) {
      if (item.w[k] != s * 8 + k) {
        std::printf("mismatch at item %llu word %llu: expected %llu, found %llu\n",
                    static_cast<unsigned long long>(s), static_cast<unsigned long long>(k),
                    static_cast<unsigned long long>(s * 8 + k),
                    static_cast<unsigned long long>(item.w[k]));
        return 1;
      }
    }
  }
  std::printf("ok %llu\n", static_cast<unsigned long long>(count));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) return usage();
  const std::string_view mode = argv[1];
  const std::string_view name = argv[2];
  std::uint64_t count = 0;
  std::uint64_t capacity = kDefaultCapacity;
  if (!parse_u64(argv[3], count) || (argc == 5 && !parse_u64(argv[4], capacity))) {
    return usage();
  }
  try {
    if (mode == "produce") return produce(name, count, capacity);
    if (mode == "consume") return consume(name, count, capacity);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hft_shm_tool %s: %s\n", argv[1], e.what());
    return 1;
  }
  return usage();
}
