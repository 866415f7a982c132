// The event-driven replay: simulated exchange, order latency, queue position, fees, accounting.
// The model is specified in hft/backtest/README.md; the comments here say how it is implemented.
//
// Two clocks, two cursors. The exchange side reads the memory-mapped columns with its own cursor
// on the exchange clock into the exchange's books, ahead of the local replay by the feed's lag;
// the strategy side replays the same rows in local-timestamp order. Both take the rows in tape
// order, so the local view after a row is the exchange book after that row: the exchange cursor
// queues the touch after each END row and the local side shows it when it gets there (no second
// book). Order arrivals (exchange clock) and responses (local clock) are events between the
// rows: one loop takes, before each local row, every exchange row, arrival and response due by
// then, in time order.
//
// Performance notes. The loop reads the tape's columns through raw pointers, keeps every
// per-instrument structure in a preallocated array, and dispatches on the queue model at compile
// time. The two latency queues are FIFOs (one order-entry session delivers in order), so "is
// anything due?" is one comparison against the head's timestamp per event. Nothing allocates in
// the loop except amortised growth of the result vectors (fills, equity) and of the in-flight
// queues beyond their initial reservation.
#pragma once

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "hft/backtest/matching.hpp"
#include "hft/backtest/stats.hpp"
#include "hft/backtest/tape.hpp"
#include "hft/backtest/types.hpp"
#include "hft/book/l2_book.hpp"
#include "hft/trading/order.hpp"
#include "hft/trading/risk_gate.hpp"

namespace hft::backtest {

namespace detail {

inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast and good enough to pick latency samples.
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

/// Draws order-entry and response latencies from the configured model.
class LatencySource {
 public:
  explicit LatencySource(const LatencyModel& m) : m_(m), rng_{m.seed} {}
  std::int64_t entry() noexcept {
    return m_.kind == LatencyModel::Kind::kConstant ? m_.entry_ns : draw();
  }
  std::int64_t response() noexcept {
    return m_.kind == LatencyModel::Kind::kConstant ? m_.response_ns : draw();
  }

 private:
  // Uniform index by a 128-bit multiply (Lemire), no division and no modulo bias worth naming.
  std::int64_t draw() noexcept {
    __extension__ typedef unsigned __int128 u128;
    const auto i =
        static_cast<std::size_t>((static_cast<u128>(rng_.next()) * m_.samples.size()) >> 64);
    return m_.samples[i];
  }
  const LatencyModel& m_;
  SplitMix64 rng_;
};

/// Growable ring buffer used as a FIFO; grows (doubling) only when full.
template <class T>
class Fifo {
 public:
  explicit Fifo(std::size_t capacity) : buf_(std::bit_ceil(std::max<std::size_t>(capacity, 16))) {}
  bool empty() const noexcept { return head_ == tail_; }
  const T& front() const noexcept { return buf_[head_ & (buf_.size() - 1)]; }
  void pop() noexcept { ++head_; }
  void push(const T& v) {
    if (tail_ - head_ == buf_.size()) grow();
    buf_[tail_++ & (buf_.size() - 1)] = v;
  }

 private:
  [[gnu::noinline]] void grow() {
    std::vector<T> bigger(buf_.size() * 2);
    for (std::size_t i = head_; i != tail_; ++i) bigger[i - head_] = buf_[i & (buf_.size() - 1)];
    tail_ -= head_;
    head_ = 0;
    buf_.swap(bigger);
  }
  std::vector<T> buf_;
  std::size_t head_ = 0, tail_ = 0;
};

enum class RequestType : std::uint8_t { kQuote, kIoc, kCancel };
enum class ResponseType : std::uint8_t { kFill, kDone };

/// An order or cancel on its way to the exchange; `at` is its exchange arrival time.
struct Request {
  std::int64_t at;
  std::uint64_t id;
  std::int64_t px, qty;
  std::uint16_t inst;
  std::uint8_t side;  // 0 bid/buy, 1 ask/sell
  RequestType type;
};

/// News on its way back to the strategy; `at` is its local arrival time.
struct Response {
  std::int64_t at;
  std::uint64_t id;
  std::int64_t px, qty;  // fill price/qty; for kDone the quantity that will never fill
  double fee;
  std::uint16_t inst;
  std::uint8_t side;
  ResponseType type;
  bool ioc;
  bool done;  // kFill: the order has nothing left
};

/// The touch after an END row, as the exchange cursor applied it; the local side shows it when
/// its own replay reaches that row.
struct TopOfBook {
  std::int64_t bid_px, bid_qty, ask_px, ask_qty;
  bool valid;
};

/// The strategy-side record of its working quote on one side.
struct LocalQuote {
  std::uint64_t id = 0;
  std::int64_t px = 0, qty = 0;  // as sent (not reduced by partial fills)
  bool active = false;           // sent and not yet known to be dead
  std::uint64_t cancelling = 0;  // id of a cancelled order whose end has not been heard yet
};

struct InstrumentState {
  explicit InstrumentState(std::size_t capacity) : book(capacity) {}
  PriceLevelBook book;  // the exchange's, as of the exchange cursor: what orders match against
  Resting rest[2];
  unsigned live = 0;  // bit s: rest[s] is live
  LocalQuote quote[2];
  std::int64_t ioc_inflight = 0;   // signed lots of IOC orders not yet resolved locally
  std::int64_t pos = 0, cash = 0;  // exchange-side truth: lots, tick*lots (sells add; linear)
  std::int64_t cash_local = 0;     // as acknowledged to the strategy (linear)
  double coin_cash = 0.0, coin_cash_local = 0.0;  // inverse: settlement coins (buys add)
  double value = 0.0;     // linear: quote currency per tick*lot (tick * lot * multiplier)
  double contract = 0.0;  // inverse: quote value of one lot (lot * multiplier)
  double tick = 0.0;      // price of one tick
  bool inverse = false;   // coin-margined: PnL and fees in the base coin
  double mid = 0.0;       // last two-sided mid in ticks, as of the last END event

  /// Settlement-currency notional of `qty` lots at `px` ticks: px * qty * value when linear,
  /// qty * contract / price (coins) when inverse.
  double notional(std::int64_t px, std::int64_t qty) const noexcept {
    if (!inverse) return static_cast<double>(px) * static_cast<double>(qty) * value;
    return px > 0 ? static_cast<double>(qty) * contract / (static_cast<double>(px) * tick) : 0.0;
  }

  /// Settlement-currency mark of a position of `lots` at the mid (inverse: -lots * contract / mid,
  /// the coins that would close it; 0 before the book has a mid).
  double marked(std::int64_t lots) const noexcept {
    if (!inverse) return value * static_cast<double>(lots) * mid;
    return mid > 0.0 ? -static_cast<double>(lots) * contract / (mid * tick) : 0.0;
  }

  /// Books `sg * qty` lots bought (sg = +1) or sold at `px` into exchange-side or local cash.
  void pay(std::int64_t sg, std::int64_t px, std::int64_t qty, bool local) noexcept {
    if (inverse) {
      (local ? coin_cash_local : coin_cash) += static_cast<double>(sg) * notional(px, qty);
    } else {
      (local ? cash_local : cash) -= sg * px * qty;
    }
  }

  double cash_value(bool local) const noexcept {
    if (inverse) return local ? coin_cash_local : coin_cash;
    return value * static_cast<double>(local ? cash_local : cash);
  }
};

inline double median(std::vector<std::int64_t> v) {
  if (v.empty()) return 0.0;
  const std::size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m), v.end());
  if (v.size() % 2 == 1) return static_cast<double>(v[m]);
  const std::int64_t hi = v[m];
  const std::int64_t lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m));
  return (static_cast<double>(lo) + static_cast<double>(hi)) / 2.0;
}

inline void validate(const Tape& tape, const Config& cfg) {
  const auto bad = [](const std::string& what) {
    throw std::invalid_argument("backtest: " + what);
  };
  if (tape.instruments() > kMaxInstruments) {
    bad("the tape has " + std::to_string(tape.instruments()) +
        " instruments; the engine replays at most " + std::to_string(kMaxInstruments));
  }
  if (cfg.sample_ns <= 0) bad("sample_ns must be > 0");
  if (cfg.bar_ns < cfg.sample_ns) bad("bar_ns must be at least sample_ns");
  if (!(cfg.capital > 0.0) || !std::isfinite(cfg.capital)) bad("capital must be finite and > 0");
  if (!std::isfinite(cfg.maker_fee_bps) || !std::isfinite(cfg.taker_fee_bps))
    bad("fees must be finite");
  if (!std::isfinite(cfg.queue_power) || cfg.queue_power < 0.0)
    bad("queue_power must be finite and >= 0");
  if (cfg.book_capacity_ticks == 0) bad("book_capacity_ticks must be > 0");
  const LatencyModel& l = cfg.latency;
  if (l.kind == LatencyModel::Kind::kConstant) {
    if (l.entry_ns < 0 || l.response_ns < 0) bad("latencies must be >= 0");
  } else {
    if (l.samples.empty()) bad("the empirical latency model needs at least one sample");
    for (const std::int64_t s : l.samples) {
      if (s < 0) bad("latency samples must be >= 0");
    }
  }
}

template <class S, class Queue>
class Engine {
 public:
  Engine(const Tape& tape, const Config& cfg, S& strategy)
      : tape_(tape),
        cfg_(cfg),
        strategy_(strategy),
        n_(tape.instruments()),
        latency_(cfg.latency),
        requests_(4096),
        responses_(4096),
        risk_(cfg.risk, n_),
        maker_rate_(cfg.maker_fee_bps / 1e4),
        taker_rate_(cfg.taker_fee_bps / 1e4) {
    inst_.reserve(n_);
    for (std::size_t i = 0; i < n_; ++i) {
      const InstrumentInfo& info = tape.instrument(i);
      inst_.emplace_back(cfg.book_capacity_ticks);
      inst_[i].value = info.tick_size * info.lot_size * info.multiplier;
      inst_[i].contract = info.lot_size * info.multiplier;
      inst_[i].tick = info.tick_size;
      inst_[i].inverse = cfg.inverse[i];
      InstrumentView& v = view_.inst[i];
      v = InstrumentView{};
      v.tick_size = info.tick_size;
      v.lot_size = info.lot_size;
      v.multiplier = info.multiplier;
    }
    view_.n = n_;
    clear_buf_.resize(inst_.empty() ? 0 : inst_[0].book.capacity_ticks());
  }

  Result run() {
    const std::int64_t* lt = tape_.local_ts().data();
    const std::size_t rows = tape_.size();
    // The window in rows: [first, last) (the tape is sorted by local_ts, checked at open).
    const std::size_t first =
        static_cast<std::size_t>(std::lower_bound(lt, lt + rows, cfg_.start_ns) - lt);
    const std::size_t last =
        static_cast<std::size_t>(std::upper_bound(lt + first, lt + rows, cfg_.end_ns) - lt);

    Result res{};
    res.fills.reserve(1 << 12);
    if (last > first) {
      const std::int64_t span = lt[last - 1] - lt[first];
      res.equity.reserve(
          static_cast<std::size_t>(std::min<std::int64_t>(span / cfg_.sample_ns + 2, 1 << 16)));
    }
    fills_ = &res.fills;
    quotes_ = &res.quotes;
    equity_ = &res.equity;

    const auto t0 = std::chrono::steady_clock::now();
    ex_next_ = rows > 0 ? row_time(0) : kNever;
    // Warm-up: books only, both sides up to the window's first row (no order exists yet).
    for (std::size_t r = 0; r < first; ++r) {
      exchange_row();
      local_row<false>(r, lt[r]);
    }
    if (last > first) {
      next_sample_ = lt[first];
      replay(first, last);
    }
    const std::int64_t end_ts = last > 0 ? lt[last - 1] : 0;
    flush();
    track_drawdown();
    if (last > first) final_sample(end_ts);
    const auto t1 = std::chrono::steady_clock::now();

    Summary& s = res.summary;
    s = summary_;
    s.events = last;
    s.seconds = std::chrono::duration<double>(t1 - t0).count();
    s.events_per_s = s.seconds > 0.0 ? static_cast<double>(last) / s.seconds : 0.0;
    s.fills = res.fills.size();
    s.fill_ratio =
        s.orders > 0 ? static_cast<double>(s.orders_filled) / static_cast<double>(s.orders) : 0.0;
    s.fees = fees_;
    s.pnl = equity_now() - cfg_.capital;
    s.max_leverage = max_gross_ / cfg_.capital;
    const CurveStats st = curve_stats(res.equity, cfg_.bar_ns);
    s.sharpe = st.sharpe;
    s.sortino = st.sortino;
    s.return_bars = st.bars;
    s.annualised = st.annualised;
    s.max_drawdown = std::max(st.max_drawdown, max_drawdown_);
    const LatencyModel& l = cfg_.latency;
    if (l.kind == LatencyModel::Kind::kConstant) {
      s.entry_latency_ns_median = l.entry_ns;
      s.response_latency_ns_median = l.response_ns;
    } else {
      // Entry and response draw from the same distribution.
      const auto m = static_cast<std::int64_t>(std::llround(median(l.samples)));
      s.entry_latency_ns_median = s.response_latency_ns_median = m;
    }
    for (std::size_t d = 0; d < hft::trading::kRiskDecisionCount; ++d) {
      res.risk_decisions[d] =
          cfg_.risk_enabled ? risk_.count(static_cast<hft::trading::RiskDecision>(d)) : 0;
    }
    return res;
  }

 private:
  static constexpr Side side_of(unsigned s) noexcept { return match::side_of(s); }
  static constexpr std::int64_t sign_of(unsigned s) noexcept { return s == 0 ? 1 : -1; }

  void replay(std::size_t from, std::size_t to) {
    const std::int64_t* lts = tape_.local_ts().data();
    for (std::size_t r = from; r < to; ++r) {
      const std::int64_t lt = lts[r];
      // The equity grid (state before this event); everything due on either clock by now, in
      // time order (exchange rows usually, one or so per local row); news due exactly now.
      if (lt >= next_sample_) sample_until(lt);
      // The common case inline: exchange rows due before any arrival or response.
      while (ex_next_ <= lt && ex_next_ <= next_request_ && ex_next_ <= next_response_) {
        exchange_row();
      }
      if (next_request_ <= lt || next_response_ < lt) advance(lt);
      if (lt >= next_response_) deliver_responses(lt);
      local_row<true>(r, lt);
    }
  }

  // Takes every event due before local row time `lt` in time order: exchange rows and order
  // arrivals at exchange times <= lt (a row before an arrival at the same time: an order
  // arriving at T meets every row stamped <= T), and responses due strictly before lt, each
  // batch with a strategy call at its arrival time. On a tie the exchange goes first.
  [[gnu::noinline]] void advance(std::int64_t lt) {
    for (;;) {
      if (ex_next_ <= next_request_) {
        if (ex_next_ <= lt && ex_next_ <= next_response_) {
          exchange_row();
          continue;
        }
      } else if (next_request_ <= lt && next_request_ <= next_response_) {
        deliver_request();
        continue;
      }
      if (next_response_ < lt) {
        respond_at(next_response_);
        continue;
      }
      return;
    }
  }

  // ---- strategy side: the local replay -------------------------------------------------------

  // The exchange cursor has applied row `r` already (it is never behind: see exchange_row).
  template <bool kLive>
  void local_row(std::size_t r, std::int64_t lt) {
    const std::uint16_t k = ids_[r];
    const std::uint8_t f = flags_[r];
    if (kinds_[r] == kTrade) {
      InstrumentView& v = view_.inst[k];
      v.last_trade_px = pxs_[r];
      v.last_trade_qty = qtys_[r];
      v.last_trade_side = (f & kFlagAsk) != 0 ? -1 : 1;
    }
    if (f & kFlagEnd) {
      refresh_view(inst_[k], k);
      if constexpr (kLive) {
        // Equity moves with the mid only while a position is open, and with fees on a fill.
        if (exposed_ != 0 || equity_moved_) track_drawdown();
        // News already due by now reaches the strategy first.
        if (lt >= next_response_) deliver_responses(lt);
        call_strategy(k, lt);
      }
    }
  }

  // ---- exchange side -------------------------------------------------------------------------

  // When the exchange cursor applies row `e`: at its exch_ts, capped by its local_ts (a row
  // stamped after it was received is a clock error; the exchange is never behind the feed); an
  // unstamped row (exch_ts <= 0) at its local_ts (no guess at how far ahead it was).
  std::int64_t row_time(std::size_t e) const noexcept {
    const std::int64_t et = ets_[e], lt = lts_[e];
    return et > 0 && et < lt ? et : lt;
  }

  // Applies the exchange cursor's row to the exchange books at exchange time `ex_next_`: its
  // row_time, or the latest exchange time applied before it when the capture has it out of order
  // (the cursor never goes back; the row's own stamp still decides which orders it may touch).
  [[gnu::always_inline]] void exchange_row() {
    const std::size_t e = ex_row_++;
    const std::int64_t et = ets_[e];
    const std::int64_t now = ex_next_;
    ex_next_ = ex_row_ < rows_ ? std::max(now, row_time(ex_row_)) : kNever;
    const std::uint16_t k = ids_[e];
    InstrumentState& s = inst_[k];
    const std::uint8_t f = flags_[e];
    const unsigned side = f & kFlagAsk;
    switch (kinds_[e]) {
      case kDepth:
        on_depth(s, side, pxs_[e], qtys_[e], et, now);
        break;
      case kTrade:
        on_trade(s, side, pxs_[e], qtys_[e], et, now);
        break;
      default:
        clear_side(s.book, side);
        break;
    }
    if (f & kFlagEnd) {
      const auto b = s.book.best_bid();
      const auto a = s.book.best_ask();
      touches_.push(
          TopOfBook{b ? b->px : 0, b ? b->qty : 0, a ? a->px : 0, a ? a->qty : 0, b && a});
    }
  }

  // `et`: the row's exchange stamp (which orders it may touch); `now`: the exchange clock.
  void on_depth(InstrumentState& s, unsigned side, std::int64_t px, std::int64_t qty,
                std::int64_t et, std::int64_t now) {
    if (s.live == 0) {
      s.book.set_level(side_of(side), px, qty);
      return;
    }
    Resting& own = s.rest[side];
    if ((s.live >> side & 1) != 0 && match::depth_touches(own, px, et)) {
      Queue::depth(own, s.book.level_qty(side_of(side), px), qty, cfg_.queue_power);
    }
    s.book.set_level(side_of(side), px, qty);
    // A new level on this side may now cross our resting order on the other side.
    const unsigned o = side ^ 1;
    if ((s.live >> o & 1) != 0) cross_check(s, o, et, now);
  }

  // Fills our resting order on side `o` in full when the other side's best reaches its price.
  void cross_check(InstrumentState& s, unsigned o, std::int64_t et, std::int64_t now) {
    const std::int64_t x = match::crossed(s.book, o, s.rest[o], et);
    if (x > 0) maker_fill(s, o, x, now);
  }

  void on_trade(InstrumentState& s, unsigned aggressor_ask, std::int64_t px, std::int64_t qty,
                std::int64_t et, std::int64_t now) {
    // A seller aggressor (ask flag) trades against bids, a buyer against asks.
    const unsigned side = aggressor_ask != 0 ? 0 : 1;
    if ((s.live >> side & 1) == 0) return;
    const std::int64_t x = match::trade_fill(s.rest[side], side, px, qty, et);
    if (x > 0) maker_fill(s, side, x, now);
  }

  void clear_side(PriceLevelBook& book, unsigned side) {
    // PriceLevelBook clears both sides at once; list this side's levels and delete them. Rare
    // (snapshots, gaps). Our queue positions are left alone: the snapshot's levels cap them.
    const Side sd = side_of(side);
    const std::size_t n = book.depth(sd, std::span<PriceLevel>(clear_buf_));
    for (std::size_t i = 0; i < n; ++i) book.set_level(sd, clear_buf_[i].px, 0);
  }

  void maker_fill(InstrumentState& s, unsigned side, std::int64_t qty, std::int64_t et) {
    Resting& r = s.rest[side];
    r.leaves -= qty;
    if (!r.filled) {
      r.filled = true;
      ++summary_.orders_filled;
    }
    const bool done = r.leaves == 0;
    if (done) s.live &= ~(1u << side);
    const auto k = static_cast<std::uint16_t>(&s - inst_.data());
    execute(s, k, side, r.id, r.px, qty, true, done, et);
  }

  // Books an execution at the exchange and sends the news back to the strategy.
  void execute(InstrumentState& s, std::uint16_t k, unsigned side, std::uint64_t id,
               std::int64_t px, std::int64_t qty, bool maker, bool done, std::int64_t et) {
    const std::int64_t sg = sign_of(side);
    const double notional = s.notional(px, qty);
    const double fee = notional * (maker ? maker_rate_ : taker_rate_);
    const bool was_open = s.pos != 0;
    s.pos += sg * qty;
    s.pay(sg, px, qty, false);
    exposed_ += static_cast<int>(s.pos != 0) - static_cast<int>(was_open);
    equity_moved_ = true;
    fees_ += fee;
    summary_.turnover += std::abs(notional);
    const std::int64_t at = respond(et);
    responses_.push(Response{at, id, px, qty, fee, k, static_cast<std::uint8_t>(side),
                             ResponseType::kFill, !maker, done});
    fills_->push_back(Fill{at, et, id, k, static_cast<std::int8_t>(sg), maker, px, qty, fee});
    max_gross_ = std::max(max_gross_, gross_notional());
  }

  std::int64_t respond(std::int64_t et) {
    const std::int64_t at = std::max(et + latency_.response(), last_response_at_);
    last_response_at_ = at;
    if (responses_.empty()) next_response_ = at;
    return at;
  }

  void done(std::uint16_t k, unsigned side, std::uint64_t id, std::int64_t unfilled, bool ioc,
            std::int64_t et) {
    responses_.push(Response{respond(et), id, 0, unfilled, 0.0, k, static_cast<std::uint8_t>(side),
                             ResponseType::kDone, ioc, true});
  }

  // The next order or cancel reaches the exchange (at its arrival time, next_request_).
  void deliver_request() {
    const Request q = requests_.front();
    requests_.pop();
    arrive(q);
    next_request_ = requests_.empty() ? kNever : requests_.front().at;
  }

  void arrive(const Request& q) {
    InstrumentState& s = inst_[q.inst];
    const unsigned side = q.side;
    const std::int64_t at = q.at;
    switch (q.type) {
      case RequestType::kCancel: {
        Resting& r = s.rest[side];
        if ((s.live >> side & 1) != 0 && r.id == q.id) {
          s.live &= ~(1u << side);
          done(q.inst, side, q.id, r.leaves, false, at);
        }
        // else: already filled; the cancel is rejected, which changes nothing.
        return;
      }
      case RequestType::kQuote: {
        // Post-only: reject instead of taking liquidity.
        if (match::post_only_crosses(s.book, side, q.px)) {
          ++summary_.post_only_rejects;
          done(q.inst, side, q.id, q.qty, false, at);
          return;
        }
        if ((s.live >> side & 1) != 0) {
          // Unreachable while requests stay in order (a replacement always follows the cancel);
          // kept so a broken invariant degrades to "replaced" instead of corrupting state.
          done(q.inst, side, s.rest[side].id, s.rest[side].leaves, false, at);
        }
        s.rest[side] = match::rest(s.book, side, q.id, q.px, q.qty, at);
        s.live |= 1u << side;
        return;
      }
      case RequestType::kIoc: {
        // Walk the opposite side from its best up to the limit, tick by tick (matching.hpp).
        bool any = false;
        const std::int64_t left = match::ioc_walk(
            s.book, side, q.px, q.qty, [&](std::int64_t px, std::int64_t x, bool last) {
              any = true;
              execute(s, q.inst, side, q.id, px, x, false, last, at);
            });
        if (any) ++summary_.orders_filled;
        if (left > 0) done(q.inst, side, q.id, left, true, at);
        return;
      }
    }
  }

  // ---- strategy side -------------------------------------------------------------------------

  // Responses (acks, fills, cancels, rejects) are events on the strategy's clock: the batch
  // arriving at `at` is applied and the strategy called at that time, so a fill reaches it after
  // the configured response latency, not at the next market-data row. A batch arriving at the
  // time of the previous call (possible only with zero latencies) waits for the next call, so
  // a strategy that resends into a reject cannot loop at one instant.
  [[gnu::noinline]] void respond_at(std::int64_t at) {
    const std::uint16_t k = responses_.front().inst;
    deliver_responses(at);
    if (at > last_call_ && view_.inst[k].valid) call_strategy(k, at);
  }

  [[gnu::noinline]] void deliver_responses(std::int64_t until) {
    while (!responses_.empty() && responses_.front().at <= until) {
      const Response m = responses_.front();
      responses_.pop();
      apply_response(m);
    }
    next_response_ = responses_.empty() ? kNever : responses_.front().at;
  }

  void apply_response(const Response& m) {
    InstrumentState& s = inst_[m.inst];
    const std::int64_t sg = sign_of(m.side);
    if (m.type == ResponseType::kFill) {
      view_.inst[m.inst].position += sg * m.qty;
      s.pay(sg, m.px, m.qty, true);
      fees_local_ += m.fee;
      risk_.on_fill(m.inst, side_of(m.side), m.qty);
      if (m.ioc) s.ioc_inflight -= sg * m.qty;
    } else if (m.ioc) {
      s.ioc_inflight -= sg * m.qty;
    }
    if (m.done && !m.ioc) {
      LocalQuote& lq = s.quote[m.side];
      if (lq.id == m.id) lq.active = false;
      if (lq.cancelling == m.id) lq.cancelling = 0;  // its cancel (or last fill) is confirmed
    }
  }

  // The local view after an END row: the touch the exchange cursor queued for it.
  void refresh_view(InstrumentState& s, std::size_t k) {
    InstrumentView& v = view_.inst[k];
    const TopOfBook& t = touches_.front();
    v.valid = t.valid;
    v.bid_px = t.bid_px;
    v.bid_qty = t.bid_qty;
    v.ask_px = t.ask_px;
    v.ask_qty = t.ask_qty;
    touches_.pop();
    if (v.valid) s.mid = (static_cast<double>(v.bid_px) + static_cast<double>(v.ask_px)) * 0.5;
  }

  void call_strategy(std::uint16_t k, std::int64_t lt) {
    double cash = cfg_.capital - fees_local_, marked = 0.0;
    for (std::size_t i = 0; i < n_; ++i) {
      const InstrumentState& s = inst_[i];
      cash += s.cash_value(true);
      marked += s.marked(view_.inst[i].position);
    }
    view_.local_ts = lt;
    last_call_ = lt;
    view_.trigger = k;
    view_.cash = cash;
    view_.fees = fees_local_;
    view_.equity = cash + marked;
    view_.pnl = view_.equity - cfg_.capital;
    for (std::size_t i = 0; i < n_; ++i) intent_.inst[i] = InstrumentIntent{};
    ++summary_.strategy_calls;
    strategy_.on_market(static_cast<const MarketView&>(view_), intent_);
    for (std::size_t i = 0; i < n_; ++i) act(static_cast<std::uint16_t>(i), intent_.inst[i], lt);
  }

  void act(std::uint16_t k, const InstrumentIntent& w, std::int64_t lt) {
    InstrumentState& s = inst_[k];
    requote(s, k, 0, w.quote && w.bid_qty > 0, w.bid_px, w.bid_qty, lt);
    requote(s, k, 1, w.quote && w.ask_qty > 0, w.ask_px, w.ask_qty, lt);
    if (w.has_target) {
      const InstrumentView& v = view_.inst[k];
      const std::int64_t diff = w.target - (v.position + s.ioc_inflight);
      if (diff != 0 && (v.valid || cfg_.risk_enabled)) {
        // Buy at the ask / sell at the bid the strategy saw.
        const unsigned side = diff > 0 ? 0 : 1;
        const std::int64_t qty = diff > 0 ? diff : -diff;
        if (send(k, side, side == 0 ? v.ask_px : v.bid_px, qty, RequestType::kIoc, lt) != 0) {
          s.ioc_inflight += diff;
        }
      }
    }
  }

  void requote(InstrumentState& s, std::uint16_t k, unsigned side, bool want, std::int64_t px,
               std::int64_t qty, std::int64_t lt) {
    LocalQuote& lq = s.quote[side];
    bool cancelled = false;
    if (lq.active) {
      if (want && lq.px == px && lq.qty == qty) return;  // already working
      ++summary_.cancels;
      enqueue(Request{0, lq.id, lq.px, lq.qty, k, static_cast<std::uint8_t>(side),
                      RequestType::kCancel},
              lt);
      lq.active = false;
      lq.cancelling = lq.id;
      cancelled = true;
    }
    std::uint64_t id = 0;
    // CancelPolicy::kWaitForConfirm: no replacement while the cancelled order may still fill.
    if (want && !(lq.cancelling != 0 && cfg_.cancel == CancelPolicy::kWaitForConfirm)) {
      id = send(k, side, px, qty, RequestType::kQuote, lt);
    }
    if (id != 0) {
      lq = LocalQuote{id, px, qty, true, lq.cancelling};
      note_quote(k, side, lt, px, qty);
    } else if (cancelled) {
      note_quote(k, side, lt, 0, 0);  // nothing quoted on this side from now
    }
  }

  // Risk-checks and sends a new order; returns its id, 0 when the gate rejected it.
  std::uint64_t send(std::uint16_t k, unsigned side, std::int64_t px, std::int64_t qty,
                     RequestType type, std::int64_t lt) {
    const std::uint64_t id = next_id_;
    if (cfg_.risk_enabled) {
      const InstrumentView& v = view_.inst[k];
      const hft::trading::OrderRequest o{id, k,   side_of(side),
                                         px, qty, static_cast<std::uint64_t>(lt)};
      const hft::trading::Touch t{v.bid_px, v.ask_px, v.valid};
      if (risk_.check(o, t, static_cast<std::uint64_t>(lt)) !=
          hft::trading::RiskDecision::kAccept) {
        ++summary_.risk_rejects;
        return 0;
      }
    }
    ++next_id_;
    ++summary_.orders;
    enqueue(Request{0, id, px, qty, k, static_cast<std::uint8_t>(side), type}, lt);
    return id;
  }

  void enqueue(Request q, std::int64_t lt) {
    // One order-entry session delivers in order: never before the previous request.
    q.at = std::max(lt + latency_.entry(), last_request_at_);
    last_request_at_ = q.at;
    if (requests_.empty()) next_request_ = q.at;
    requests_.push(q);
  }

  // ---- accounting ----------------------------------------------------------------------------

  double equity_now() const noexcept {
    double e = cfg_.capital - fees_;
    for (const InstrumentState& s : inst_) {
      e += s.cash_value(false) + s.marked(s.pos);
    }
    return e;
  }

  double gross_notional() const noexcept {
    double g = 0.0;
    for (const InstrumentState& s : inst_) g += std::abs(s.marked(s.pos));
    return g;
  }

  EquityPoint point(std::int64_t ts) {
    const double gross = gross_notional();
    max_gross_ = std::max(max_gross_, gross);
    const double eq = equity_now();
    const InstrumentState& s0 = inst_[0];
    return EquityPoint{ts, eq, eq - cfg_.capital, gross, s0.pos, s0.mid * view_.inst[0].tick_size};
  }

  void note_quote(std::uint16_t k, unsigned side, std::int64_t lt, std::int64_t px,
                  std::int64_t qty) {
    if (quotes_->size() < kMaxQuoteChanges) {
      quotes_->push_back(QuoteChange{lt, k, static_cast<std::int8_t>(side == 0 ? 1 : -1), px, qty});
    } else {
      ++summary_.quotes_dropped;
    }
  }

  // Peak-to-trough on every change of equity, not only on the sampled grid.
  void track_drawdown() noexcept {
    const double eq = equity_now();
    peak_equity_ = std::max(peak_equity_, eq);
    max_drawdown_ = std::max(max_drawdown_, peak_equity_ - eq);
    equity_moved_ = false;
  }

  [[gnu::noinline]] void sample_until(std::int64_t lt) {
    while (next_sample_ <= lt) {
      equity_->push_back(point(next_sample_));
      next_sample_ += cfg_.sample_ns;
    }
  }

  void final_sample(std::int64_t ts) {
    if (!equity_->empty() && equity_->back().ts >= ts) {
      equity_->back() = point(equity_->back().ts);
    } else {
      equity_->push_back(point(ts));
    }
  }

  // Requests still in flight reach the exchange (against the final book), then all news
  // reaches the strategy's accounting, so the local and exchange views agree at the end.
  void flush() {
    while (!requests_.empty()) deliver_request();
    deliver_responses(kNever);
  }

  const Tape& tape_;
  // The tape's columns (memory-mapped), read by both cursors.
  const std::int64_t* lts_ = tape_.local_ts().data();
  const std::int64_t* ets_ = tape_.exch_ts().data();
  const std::int64_t* pxs_ = tape_.px().data();
  const std::int64_t* qtys_ = tape_.qty().data();
  const std::uint16_t* ids_ = tape_.instrument_ids().data();
  const std::uint8_t* kinds_ = tape_.kinds().data();
  const std::uint8_t* flags_ = tape_.flags().data();
  const Config& cfg_;
  S& strategy_;
  std::size_t n_;
  std::vector<InstrumentState> inst_;
  LatencySource latency_;
  Fifo<Request> requests_;
  Fifo<Response> responses_;
  /// Touches after the END rows the exchange cursor applied and the local replay has not yet.
  Fifo<TopOfBook> touches_{4096};
  std::int64_t next_request_ = kNever, next_response_ = kNever, next_sample_ = kNever;
  // The exchange cursor: the next row it applies and that row's exchange time.
  std::size_t ex_row_ = 0, rows_ = tape_.size();
  std::int64_t ex_next_ = kNever;
  std::int64_t last_call_ = std::numeric_limits<std::int64_t>::min();  ///< last strategy call
  std::int64_t last_request_at_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t last_response_at_ = std::numeric_limits<std::int64_t>::min();
  hft::trading::RiskGate risk_;
  double maker_rate_, taker_rate_;
  double fees_ = 0.0, fees_local_ = 0.0, max_gross_ = 0.0;
  double peak_equity_ = cfg_.capital, max_drawdown_ = 0.0;
  bool equity_moved_ = false;
  int exposed_ = 0;  ///< instruments with a non-zero position at the exchange
  std::uint64_t next_id_ = 1;
  MarketView view_{};
  Intent intent_{};
  Summary summary_{};
  std::vector<PriceLevel> clear_buf_;
  std::vector<Fill>* fills_ = nullptr;
  std::vector<QuoteChange>* quotes_ = nullptr;
  std::vector<EquityPoint>* equity_ = nullptr;
};

}  // namespace detail

/// Replays `tape` under `cfg`, calling strategy.on_market at every END event in the window.
/// Throws std::invalid_argument on a configuration the engine cannot honour (before replaying).
template <Strategy S>
Result run(const Tape& tape, const Config& cfg, S& strategy) {
  detail::validate(tape, cfg);
  if (cfg.queue == QueueModel::kProbabilistic) {
    return detail::Engine<S, ProbabilisticQueue>(tape, cfg, strategy).run();
  }
  return detail::Engine<S, RiskAverseQueue>(tape, cfg, strategy).run();
}

}  // namespace hft::backtest
