// Tick-to-trade pipeline: feed -> book -> strategy -> risk -> gateway.
//
// Every stage is a direct call on a concrete type (the strategy and gateway are template
// parameters), so an all-inline pipeline compiles into one function the optimiser can see
// through. Thread boundaries are a compile-time bit set: where a bit is set, the upstream side
// pushes into an hft::SpscRing and a dedicated, optionally pinned, spin-then-yield thread runs
// the downstream stages.
//
// Thread-splitting rule (schema `pipelines.<name>.threads`):
//  - The pipeline's first stage (the feed) runs on the caller's thread: whoever calls publish().
//    A `cpu` for the feed stage pins that thread via bind_ingress().
//  - Every other stage listed in `threads` starts a new thread; the stages after it that are not
//    listed run inline on that thread, up to the next listed stage. A ring sits at each boundary.
//  - The book stage always runs on the strategy's thread, because the strategy reads the book by
//    pointer and a book must never be shared between threads. So a thread on `book` or on the
//    strategy means the same boundary, kSplitBeforeBook: the feed thread sequence-checks and
//    forwards MarketMsgs; the book is built on the strategy thread. Listing both is an error.
//  - A thread on `risk_gate` gives kSplitBeforeRisk; on `order_gateway`, kSplitBeforeGateway.
//    Orders crossing these rings carry the touch the strategy saw, so risk never reads a book.
// E.g. threads {feed: {cpu: 2}, quoter: {cpu: 3}} -> Splits = kSplitBeforeBook, cpu = {2, 3}.
//
// Lifecycle: the constructor starts the worker threads; stop() (also run by the destructor)
// must be called once publishing has ended. It stops the workers in pipeline order, each one
// after draining its input ring, so every published message is fully processed.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "hft/clock.hpp"
#include "hft/cpu.hpp"
#include "hft/histogram.hpp"
#include "hft/spsc_ring.hpp"
#include "hft/thread.hpp"
#include "hft/trading/feed_handler.hpp"
#include "hft/trading/order.hpp"
#include "hft/trading/risk_gate.hpp"
#include "hft/trading/strategy.hpp"

namespace hft::trading {

/// Thread boundaries, combinable with |. kInline = everything on the caller's thread.
enum Split : unsigned {
  kInline = 0,
  kSplitBeforeBook = 1,     ///< feed | book + strategy (+ following inline stages)
  kSplitBeforeRisk = 2,     ///< ... strategy | risk ...
  kSplitBeforeGateway = 4,  ///< ... risk | gateway
};

/// Boundary implied by a `threads` entry on a stage of schema kind `kind` (0 for the feed, which
/// always runs on the caller's thread, and for unknown kinds).
constexpr unsigned split_before(std::string_view kind) noexcept {
  if (kind == "order_book" || kind == "strategy") return kSplitBeforeBook;
  if (kind == "risk_gate") return kSplitBeforeRisk;
  if (kind == "order_gateway") return kSplitBeforeGateway;
  return kInline;
}

/// The order gateway stage: encodes (and in production, sends) an accepted order. Like a
/// strategy, encode() runs on the noexcept hot path and must not throw.
template <class G>
concept OrderGateway = requires(G g, const OrderRequest& o) {
  g.encode(o);
};

struct PipelineConfig {
  std::size_t instruments = 1;
  std::size_t book_depth_ticks = 64;
  std::size_t queue_capacity = 4096;  ///< per ring, power of two
  /// CPU per thread in pipeline order: [0] the ingress (feed) thread, then one entry per set
  /// Split bit from low to high. -1 = do not pin.
  std::array<int, 4> cpu{-1, -1, -1, -1};
  /// Idle polls before a consumer starts yielding (SpinWait). Isolated cores: make it large.
  std::uint32_t spin_limit = 4096;
  /// How the risk gate counts the strategy's quotes as open exposure. true: a quote is the
  /// desired order for its instrument and side, and a new quote supersedes the previous one (an
  /// order manager downstream turns desired quotes into new/cancel/replace requests, so one
  /// order per side rests); the previous quote stops counting when the next one is checked, and a
  /// rejected quote leaves that side with none. false: every quote is a new order that stays open
  /// until fills take it off (a gateway that sends each quote as a new order and never cancels).
  bool quotes_supersede = true;
};

/// Counters snapshot. Each field is written by one thread only; read them after stop().
struct PipelineStats {
  std::uint64_t published = 0;       ///< messages accepted by publish() (ingress thread)
  std::uint64_t dropped = 0;         ///< duplicates and unknown instruments (ingress thread)
  std::uint64_t strategy_calls = 0;  ///< (book/strategy thread)
  std::uint64_t quotes = 0;          ///< orders the strategy asked for (book/strategy thread)
  std::uint64_t orders_sent = 0;     ///< orders handed to the gateway (gateway thread)
  /// Failed pushes because the ring at each boundary (book, risk, gateway) was full.
  std::array<std::uint64_t, 3> ring_full{};
};

/// What crosses the strategy -> risk and risk -> gateway rings: an order with the touch it was
/// priced against and the ingress timestamp, or a fill the risk gate must account.
struct OrderIntent {
  OrderRequest order;
  Touch touch;
  std::uint64_t rx_tsc;
  bool is_fill;
};

template <Strategy S, OrderGateway G, unsigned Splits = kInline, class OnGap = IgnoreGap>
class Pipeline {
  static_assert((Splits & ~7u) == 0, "unknown Split bits");

 public:
  static constexpr unsigned kSplits = Splits;
  /// Threads involved, including the caller's ingress thread.
  static constexpr int kThreads = 1 + std::popcount(Splits);

  Pipeline(const PipelineConfig& cfg, const RiskLimits& limits, S strategy, G gateway,
           const TscClock& clock, OnGap on_gap = {})
      : cfg_(cfg),
        seq_(cfg.instruments, std::move(on_gap)),
        books_(cfg.instruments, cfg.book_depth_ticks),
        strategy_(std::move(strategy)),
        risk_(limits, cfg.instruments),
        quote_ids_(std::max<std::size_t>(cfg.instruments, 1), {0, 0}),
        gateway_(std::move(gateway)),
        clock_(clock) {
    if constexpr ((Splits & kSplitBeforeBook) != 0) {
      ring_book_ = std::make_unique<SpscRing<MarketMsg>>(cfg.queue_capacity);
    }
    if constexpr ((Splits & kSplitBeforeRisk) != 0) {
      ring_risk_ = std::make_unique<SpscRing<OrderIntent>>(cfg.queue_capacity);
    }
    if constexpr ((Splits & kSplitBeforeGateway) != 0) {
      ring_gw_ = std::make_unique<SpscRing<OrderIntent>>(cfg.queue_capacity);
    }
    // Workers start last: everything they touch is constructed. If a later thread fails to
    // start, the ones already running are stopped before the exception leaves the constructor
    // (no destructor runs for a partly constructed object).
    try {
      if constexpr ((Splits & kSplitBeforeBook) != 0) {
        workers_[0] = std::thread(
            [this] { consume(*ring_book_, 0, [this](const MarketMsg& m) { on_book(m); }); });
      }
      if constexpr ((Splits & kSplitBeforeRisk) != 0) {
        workers_[1] = std::thread(
            [this] { consume(*ring_risk_, 1, [this](const OrderIntent& x) { on_risk(x); }); });
      }
      if constexpr ((Splits & kSplitBeforeGateway) != 0) {
        workers_[2] = std::thread(
            [this] { consume(*ring_gw_, 2, [this](const OrderIntent& x) { on_gateway(x); }); });
      }
    } catch (...) {
      stop();
      throw;
    }
  }

  ~Pipeline() { stop(); }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// Pins the calling (ingress) thread to cfg.cpu[0], if set.
  std::error_code bind_ingress() noexcept {
    return cfg_.cpu[0] >= 0 ? pin_current_thread(cfg_.cpu[0]) : std::error_code{};
  }

  /// Feeds one decoded message in (ingress thread only). Returns the sequence verdict; with no
  /// split the whole tick-to-order path has run when this returns. Blocks (spinning) while the
  /// first ring is full. Must not be called after stop().
  FeedVerdict publish(MarketMsg m) noexcept {
    m.rx_tsc = TscClock::now();
    const FeedVerdict v = seq_.check(m);
    if (!should_apply(v)) [[unlikely]] {
      ++dropped_;
      return v;
    }
    ++published_;
    if constexpr ((Splits & kSplitBeforeBook) != 0) {
      push(*ring_book_, m, full_book_);
    } else {
      on_book(m);
    }
    return v;
  }

  /// Called with every risk decision, on the risk gate's thread, right after it (the gate's
  /// exposure then includes the order when accepted): the engine's audit journal. Set before
  /// the first publish(); null (the default) costs one predictable branch.
  using DecisionObserver = void (*)(void* ctx, const OrderRequest& order, RiskDecision decision,
                                    const RiskGate& gate);
  void observe_decisions(DecisionObserver fn, void* ctx) noexcept {
    observer_ = fn;
    observer_ctx_ = ctx;
  }

  /// Stops the workers in pipeline order, each after it has drained its ring, and joins them.
  /// Call after the last publish() (from the ingress thread, or after joining it). Idempotent.
  void stop() noexcept {
    for (std::size_t k = 0; k < workers_.size(); ++k) {
      if (!workers_[k].joinable()) continue;
      stop_[k].flag.store(true, std::memory_order_release);
      workers_[k].join();
    }
  }

  // Inspection. Unless noted, only safe on the owning thread or after stop().
  S& strategy() noexcept { return strategy_; }
  G& gateway() noexcept { return gateway_; }
  /// trip()/reset()/tripped() are safe from any thread at any time.
  RiskGate& risk() noexcept { return risk_; }
  const BookBuilder& books() const noexcept { return books_; }
  const FeedStats& feed_stats() const noexcept { return seq_.stats(); }
  /// Tick-to-order latency in ns: ingress (publish) to the gateway's encode() returning, per
  /// order sent.
  const LatencyHistogram& latency() const noexcept { return latency_; }
  LatencyHistogram& latency() noexcept { return latency_; }
  PipelineStats stats() const noexcept {
    return PipelineStats{published_, dropped_,     strategy_calls_,
                         quotes_,    orders_sent_, {full_book_, full_risk_, full_gw_}};
  }
  std::uint64_t quote_overflow() const noexcept { return sink_.overflow(); }
  /// Worker threads that could not be pinned to their configured CPU (any thread).
  std::uint32_t pin_errors() const noexcept { return pin_errors_.load(std::memory_order_relaxed); }

 private:
  // ---- stages ---------------------------------------------------------------------------

  void on_book(const MarketMsg& m) noexcept {
    const bool notify = books_.apply(m);
    if (m.kind == MsgKind::kFill) {
      to_risk(OrderIntent{OrderRequest{0, m.instrument, m.side, m.px_ticks, m.qty_lots, m.ts_ns},
                          Touch{0, 0, false}, m.rx_tsc, true});
    }
    if (!notify) return;
    sink_.clear();
    strategy_.on_market(books_.view(m), sink_);
    ++strategy_calls_;
    const std::size_t n = books_.instruments().size();
    for (const Quote& q : sink_.quotes()) {
      const Touch t =
          q.instrument < n ? books_.instrument(q.instrument).touch() : Touch{0, 0, false};
      ++quotes_;
      to_risk(OrderIntent{
          OrderRequest{++next_order_id_, q.instrument, q.side, q.px_ticks, q.qty_lots, m.ts_ns}, t,
          m.rx_tsc, false});
    }
  }

  void to_risk(const OrderIntent& x) noexcept {
    if constexpr ((Splits & kSplitBeforeRisk) != 0) {
      push(*ring_risk_, x, full_risk_);
    } else {
      on_risk(x);
    }
  }

  void on_risk(const OrderIntent& x) noexcept {
    if (x.is_fill) {
      risk_.on_fill(x.order.instrument, x.order.side, x.order.qty_lots);
      return;
    }
    // The quote this one supersedes (see PipelineConfig::quotes_supersede) stops counting first,
    // so a requote of the same size is judged on its own, not on top of the one it replaces.
    std::uint64_t* slot = nullptr;
    const auto s = static_cast<std::uint8_t>(x.order.side);
    if (cfg_.quotes_supersede && x.order.instrument < quote_ids_.size() && s <= 1) {
      slot = &quote_ids_[x.order.instrument][s];
      if (*slot != 0) risk_.on_cancel(*slot);
      *slot = 0;
    }
    const RiskDecision decision = risk_.check(x.order, x.touch, x.order.ts_ns);
    if (observer_ != nullptr) [[unlikely]] observer_(observer_ctx_, x.order, decision, risk_);
    if (decision != RiskDecision::kAccept) return;
    if (slot != nullptr) *slot = x.order.client_order_id;
    if constexpr ((Splits & kSplitBeforeGateway) != 0) {
      push(*ring_gw_, x, full_gw_);
    } else {
      on_gateway(x);
    }
  }

  void on_gateway(const OrderIntent& x) noexcept {
    gateway_.encode(x.order);
    const std::uint64_t now = TscClock::now();
    // Cores' TSCs can disagree by a few ticks; never record a wrapped negative interval.
    latency_.record(clock_.to_ns(now > x.rx_tsc ? now - x.rx_tsc : 0));
    ++orders_sent_;
  }

  // ---- threading ------------------------------------------------------------------------

  // Backpressure: a full ring means the consumer is behind; wait for it rather than drop an
  // order or a book update.
  template <class T>
  void push(SpscRing<T>& ring, const T& item, std::uint64_t& full_count) noexcept {
    SpinWait w(cfg_.spin_limit);
    while (!ring.try_push(item)) {
      ++full_count;
      w.wait();
    }
  }

  // Worker loop: batch pops, spin-then-yield when idle. Once the stop flag is seen the ring is
  // drained one last time; the producer finished before the flag was set (stop() order), so
  // that drain sees everything it pushed.
  template <class T, class Fn>
  void consume(SpscRing<T>& ring, std::size_t worker, Fn fn) noexcept {
    const int cpu =
        cfg_.cpu[1 + static_cast<std::size_t>(std::popcount(Splits & ((1u << worker) - 1u)))];
    if (cpu >= 0 && pin_current_thread(cpu)) pin_errors_.fetch_add(1, std::memory_order_relaxed);
    std::array<T, 32> buf;
    SpinWait w(cfg_.spin_limit);
    for (;;) {
      std::size_t n = ring.try_pop_n(buf);
      if (n != 0) {
        for (std::size_t i = 0; i < n; ++i) fn(buf[i]);
        w.reset();
        continue;
      }
      if (stop_[worker].flag.load(std::memory_order_acquire)) {
        while ((n = ring.try_pop_n(buf)) != 0) {
          for (std::size_t i = 0; i < n; ++i) fn(buf[i]);
        }
        return;
      }
      w.wait();
    }
  }

  struct alignas(kCacheLineSize) StopFlag {
    std::atomic<bool> flag{false};
  };

  // Shared, read-only while running.
  PipelineConfig cfg_;
  std::unique_ptr<SpscRing<MarketMsg>> ring_book_;
  std::unique_ptr<SpscRing<OrderIntent>> ring_risk_;
  std::unique_ptr<SpscRing<OrderIntent>> ring_gw_;
  std::array<std::thread, 3> workers_;  // book, risk, gateway; started last, in the ctor body
  std::atomic<std::uint32_t> pin_errors_{0};
  std::array<StopFlag, 3> stop_;

  // Per-thread state, each group starting on its own cache line so that threads of a split
  // pipeline never write to a line another one reads or writes (no false sharing).
  // Ingress thread.
  alignas(kCacheLineSize) SequenceChecker<OnGap> seq_;
  std::uint64_t published_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t full_book_ = 0;
  // Book/strategy thread.
  alignas(kCacheLineSize) BookBuilder books_;
  S strategy_;
  QuoteSink sink_;
  std::uint64_t next_order_id_ = 0;
  std::uint64_t strategy_calls_ = 0;
  std::uint64_t quotes_ = 0;
  std::uint64_t full_risk_ = 0;
  // Risk thread.
  alignas(kCacheLineSize) RiskGate risk_;
  std::vector<std::array<std::uint64_t, 2>> quote_ids_;  // per instrument: live bid, ask quote id
  std::uint64_t full_gw_ = 0;
  DecisionObserver observer_ = nullptr;
  void* observer_ctx_ = nullptr;
  // Gateway thread.
  alignas(kCacheLineSize) G gateway_;
  TscClock clock_;
  LatencyHistogram latency_;
  std::uint64_t orders_sent_ = 0;
  // The alignas members make the class 64-byte aligned, so sizeof is padded to whole lines and
  // the gateway group never shares its last line with whatever follows the object.
};

}  // namespace hft::trading
