// Writes a market-data tape (.hftt, FORMATS.md §4) from in-memory events: for tests, tools and
// synthetic data. The production writer is the Python converter (`hftc data convert`); both
// produce the same layout, and Tape::open reads either.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "hft/backtest/tape.hpp"

namespace hft::backtest {

/// One event as the writer takes it (the tape stores it column by column).
struct TapeEvent {
  std::int64_t local_ts, exch_ts, px, qty;
  std::uint16_t instrument;
  std::uint8_t kind, flags;
};

class TapeWriter {
 public:
  explicit TapeWriter(std::vector<InstrumentInfo> instruments, std::string meta_json = "{}")
      : instruments_(std::move(instruments)), meta_(std::move(meta_json)) {}

  /// Appends an event; the caller keeps local_ts non-decreasing.
  void add(const TapeEvent& e) { events_.push_back(e); }
  void depth(std::uint16_t inst, std::int64_t local_ts, std::int64_t exch_ts, bool ask,
             std::int64_t px, std::int64_t qty, bool end = true) {
    add({local_ts, exch_ts, px, qty, inst, kDepth, flags(ask, end)});
  }
  /// `seller` = the aggressor sold (hit the bid).
  void trade(std::uint16_t inst, std::int64_t local_ts, std::int64_t exch_ts, bool seller,
             std::int64_t px, std::int64_t qty, bool end = true) {
    add({local_ts, exch_ts, px, qty, inst, kTrade, flags(seller, end)});
  }
  void clear(std::uint16_t inst, std::int64_t local_ts, std::int64_t exch_ts, bool ask,
             bool end = false) {
    add({local_ts, exch_ts, 0, 0, inst, kClear, flags(ask, end)});
  }

  const std::vector<TapeEvent>& events() const noexcept { return events_; }

  /// Writes the tape to `path` atomically (a temporary file renamed into place).
  void write(const std::string& path) const {
    namespace tf = tape_format;
    const std::uint64_t n = events_.size();
    const std::uint64_t table = tf::kHeaderBytes;
    const std::uint64_t meta_off = table + instruments_.size() * tf::kInstrumentBytes;
    const std::uint64_t first_col = tf::align_up(meta_off + meta_.size());
    std::uint64_t end = first_col;
    for (const std::size_t w : tf::kColumnWidths) end = tf::align_up(end + n * w);
    std::vector<std::uint8_t> buf(end, 0);

    std::memcpy(buf.data(), tf::kMagic, 8);
    put<std::uint32_t>(buf, 8, tf::kVersion);
    put<std::uint32_t>(buf, 12, static_cast<std::uint32_t>(instruments_.size()));
    put<std::uint64_t>(buf, 16, n);
    put<std::uint64_t>(buf, 24, table);
    put<std::uint64_t>(buf, 32, meta_off);
    put<std::uint64_t>(buf, 40, meta_.size());
    put<std::uint64_t>(buf, 48, first_col);
    for (std::size_t i = 0; i < instruments_.size(); ++i) {
      const InstrumentInfo& in = instruments_[i];
      const std::size_t e = table + i * tf::kInstrumentBytes;
      std::memcpy(buf.data() + e, in.symbol.data(), std::min(in.symbol.size(), tf::kSymbolBytes));
      put<double>(buf, e + 40, in.tick_size);
      put<double>(buf, e + 48, in.lot_size);
      put<double>(buf, e + 56, in.multiplier);
    }
    std::memcpy(buf.data() + meta_off, meta_.data(), meta_.size());
    std::uint64_t off = first_col;
    for (std::size_t c = 0; c < 7; ++c) {
      for (std::uint64_t r = 0; r < n; ++r) {
        const TapeEvent& ev = events_[r];
        const std::size_t at = off + r * tf::kColumnWidths[c];
        switch (c) {
          case 0:
            put(buf, at, ev.local_ts);
            break;
          case 1:
            put(buf, at, ev.exch_ts);
            break;
          case 2:
            put(buf, at, ev.px);
            break;
          case 3:
            put(buf, at, ev.qty);
            break;
          case 4:
            put(buf, at, ev.instrument);
            break;
          case 5:
            put(buf, at, ev.kind);
            break;
          default:
            put(buf, at, ev.flags);
            break;
        }
      }
      off = tf::align_up(off + n * tf::kColumnWidths[c]);
    }

    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error(tmp + ": cannot create");
    const bool ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
    if (std::fclose(f) != 0 || !ok) {
      std::remove(tmp.c_str());
      throw std::runtime_error(tmp + ": write failed");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::remove(tmp.c_str());
      throw std::runtime_error(path + ": cannot rename the temporary file into place");
    }
  }

 private:
  static std::uint8_t flags(bool ask, bool end) noexcept {
    return static_cast<std::uint8_t>((ask ? kFlagAsk : 0) | (end ? kFlagEnd : 0));
  }

  template <class T>
  static void put(std::vector<std::uint8_t>& buf, std::size_t off, T v) noexcept {
    std::memcpy(buf.data() + off, &v, sizeof v);
  }

  std::vector<InstrumentInfo> instruments_;
  std::string meta_;
  std::vector<TapeEvent> events_;
};

}  // namespace hft::backtest
