// Packet sequence tracking per channel, and the gap policies (FORMATS.md §6).
//
// Each channel's packets carry seq 1, 2, 3, ... A receiver that joins late accepts whatever it
// sees first. After that, a packet whose seq skips ahead is a gap (the missed count is known),
// one at or below the last seen is a duplicate or a late reordering and is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace hft::md {

/// What the engine does when packets were missed on a channel.
enum class GapPolicy : std::uint8_t {
  /// Keep running; every instrument of the channel is marked stale (the strategy stops quoting it)
  /// until a snapshot message for that instrument resets its book.
  kResync,
  /// Stop: trip the kill switch, stop reading market data and exit with status 3.
  kHalt,
};

inline std::optional<GapPolicy> parse_gap_policy(std::string_view s) noexcept {
  if (s == "resync") return GapPolicy::kResync;
  if (s == "halt") return GapPolicy::kHalt;
  return std::nullopt;
}

constexpr std::string_view name(GapPolicy p) noexcept {
  return p == GapPolicy::kResync ? "resync" : "halt";
}

enum class SeqVerdict : std::uint8_t {
  kFirst,      ///< first packet seen on the channel: accepted
  kInOrder,    ///< seq == last + 1
  kGap,        ///< seq > last + 1: accepted, missed() packets lost before it
  kDuplicate,  ///< seq <= last: drop
};

class GapTracker {
 public:
  struct Stats {
    std::uint64_t gaps = 0;        ///< gap events
    std::uint64_t missed = 0;      ///< packets known lost, summed over gaps
    std::uint64_t duplicates = 0;  ///< packets dropped as duplicates/reordered
  };

  /// Checks one packet. Channels are dense small integers; state grows on first sight of one.
  SeqVerdict on_packet(std::uint16_t channel, std::uint64_t seq) {
    if (channel >= last_.size()) last_.resize(std::size_t{channel} + 1, 0);
    std::uint64_t& last = last_[channel];
    last_missed_ = 0;
    if (last == 0) {
      last = seq == 0 ? 1 : seq;
      return SeqVerdict::kFirst;
    }
    if (seq == last + 1) [[likely]] {
      last = seq;
      return SeqVerdict::kInOrder;
    }
    if (seq <= last) {
      ++stats_.duplicates;
      return SeqVerdict::kDuplicate;
    }
    last_missed_ = seq - last - 1;
    ++stats_.gaps;
    stats_.missed += last_missed_;
    last = seq;
    return SeqVerdict::kGap;
  }

  /// Packets missed before the packet just checked (0 unless it was a gap).
  std::uint64_t missed() const noexcept { return last_missed_; }
  /// Last accepted seq of a channel (0: none yet).
  std::uint64_t last(std::uint16_t channel) const noexcept {
    return channel < last_.size() ? last_[channel] : 0;
  }
  const Stats& stats() const noexcept { return stats_; }

 private:
  std::vector<std::uint64_t> last_;
  std::uint64_t last_missed_ = 0;
  Stats stats_;
};

/// Instruments waiting for a snapshot after a gap (GapPolicy::kResync), on the feed thread.
class ResyncSet {
 public:
  explicit ResyncSet(std::size_t instruments) : waiting_(instruments, false) {}

  /// Marks every instrument as waiting; returns how many were not already.
  std::size_t mark_all() noexcept {
    std::size_t added = 0;
    for (std::size_t i = 0; i < waiting_.size(); ++i) {
      if (!waiting_[i]) {
        waiting_[i] = true;
        ++added;
      }
    }
    waiting_count_ += added;
    return added;
  }

  /// A snapshot (book reset) of `instrument` arrived; true when it ended a wait.
  bool on_reset(std::size_t instrument) noexcept {
    if (instrument >= waiting_.size() || !waiting_[instrument]) return false;
    waiting_[instrument] = false;
    --waiting_count_;
    ++resyncs_;
    return true;
  }

  bool waiting(std::size_t instrument) const noexcept {
    return instrument < waiting_.size() && waiting_[instrument];
  }
  std::size_t waiting_count() const noexcept { return waiting_count_; }
  std::uint64_t resyncs() const noexcept { return resyncs_; }

 private:
  std::vector<bool> waiting_;
  std::size_t waiting_count_ = 0;
  std::uint64_t resyncs_ = 0;
};

}  // namespace hft::md
