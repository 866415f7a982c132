// Market-data input: packet codec, gap tracking, UDP transport on loopback, tape mapping, pacing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "hft/backtest/tape.hpp"
#include "hft/backtest/tape_writer.hpp"
#include "hft/md/gap_tracker.hpp"
#include "hft/md/packet.hpp"
#include "hft/md/replay.hpp"
#include "hft/md/udp.hpp"
#include "hft/trading/feed_handler.hpp"

namespace {

using hft::md::DropReason;

std::vector<char> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::vector<char> packet(std::uint64_t seq, std::uint16_t channel,
                         const std::vector<std::vector<char>>& messages) {
  std::vector<char> buf(4096);
  hft::md::PacketWriter w(buf);
  w.start(seq, 123456789, channel);
  for (const auto& m : messages) EXPECT_TRUE(w.add(m));
  const auto out = w.finish();
  return {out.begin(), out.end()};
}

TEST(MdPacket, RoundTripsHeaderAndFrames) {
  const auto p = packet(42, 7, {bytes("hello"), bytes("x"), bytes("market data")});
  EXPECT_EQ(p.size(), hft::md::kPacketHeaderBytes + 3 * hft::md::kFrameHeaderBytes + 5 + 1 + 11);
  const hft::md::ParsedPacket parsed = hft::md::parse(p);
  ASSERT_TRUE(parsed.ok);
  EXPECT_EQ(parsed.header.seq, 42u);
  EXPECT_EQ(parsed.header.sending_ns, 123456789u);
  EXPECT_EQ(parsed.header.channel, 7u);
  EXPECT_EQ(parsed.header.count, 3u);
  std::vector<std::string> got;
  parsed.for_each([&](std::span<const char> m) { got.emplace_back(m.data(), m.size()); });
  EXPECT_EQ(got, (std::vector<std::string>{"hello", "x", "market data"}));
}

TEST(MdPacket, HeartbeatHasNoMessages) {
  const auto p = packet(1, 0, {});
  const auto parsed = hft::md::parse(p);
  ASSERT_TRUE(parsed.ok);
  EXPECT_EQ(parsed.header.count, 0u);
  int calls = 0;
  parsed.for_each([&](std::span<const char>) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(MdPacket, LayoutIsLittleEndianAsDocumented) {
  const auto p = packet(0x0102030405060708ull, 0x0A0B, {bytes("ab")});
  const std::array<unsigned char, 8> seq = {8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_EQ(std::memcmp(p.data(), seq.data(), 8), 0);
  EXPECT_EQ(static_cast<unsigned char>(p[16]), 0x0B);
  EXPECT_EQ(static_cast<unsigned char>(p[17]), 0x0A);
  EXPECT_EQ(static_cast<unsigned char>(p[18]), 1);  // count
  EXPECT_EQ(static_cast<unsigned char>(p[20]), 2);  // frame length
  EXPECT_EQ(p[22], 'a');
}

TEST(MdPacket, RejectsBrokenFramingByReason) {
  const auto good = packet(5, 0, {bytes("abcdef"), bytes("gh")});
  // Every strict prefix is truncated (or, cut exactly after a frame, announces more than it has).
  for (std::size_t n = 0; n < good.size(); ++n) {
    const auto parsed = hft::md::parse(std::span<const char>(good.data(), n));
    EXPECT_FALSE(parsed.ok) << n;
    EXPECT_EQ(parsed.reason, DropReason::kTruncated) << n;
  }
  auto trailing = good;
  trailing.push_back('!');
  EXPECT_EQ(hft::md::parse(trailing).reason, DropReason::kMalformed);
  auto zero = packet(5, 0, {bytes("abc")});
  zero[20] = 0;  // frame length 0
  zero[21] = 0;
  EXPECT_EQ(hft::md::parse(zero).reason, DropReason::kMalformed);
  auto longer = packet(5, 0, {bytes("abc")});
  longer[20] = 50;  // claims more bytes than the datagram holds
  EXPECT_EQ(hft::md::parse(longer).reason, DropReason::kTruncated);
}

TEST(MdPacket, RandomBytesNeverReadOutOfBounds) {
  std::mt19937_64 rng(7);
  std::vector<char> buf(256);
  int ok = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::size_t n = rng() % buf.size();
    for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
    if (n >= 20) {  // small counts parse further
      buf[18] = static_cast<char>(rng() % 3);
      buf[19] = 0;
    }
    const auto parsed = hft::md::parse(std::span<const char>(buf.data(), n));
    if (!parsed.ok) continue;
    ++ok;
    std::size_t total = hft::md::kPacketHeaderBytes;
    parsed.for_each([&](std::span<const char> m) {
      EXPECT_GE(m.data(), buf.data());
      EXPECT_LE(m.data() + m.size(), buf.data() + n);
      total += hft::md::kFrameHeaderBytes + m.size();
    });
    EXPECT_EQ(total, n);
  }
  EXPECT_GT(ok, 0);  // the generator reaches valid packets too (count 0 with nothing after)
}

TEST(MdPacket, WriterStopsAtCapacity) {
  std::array<char, 40> buf{};
  hft::md::PacketWriter w(buf);
  w.start(1, 0, 0);
  EXPECT_TRUE(w.add(bytes("0123456789")));   // 20 + 12
  EXPECT_FALSE(w.add(bytes("0123456789")));  // would be 44
  EXPECT_FALSE(w.add({}));
  EXPECT_TRUE(w.add(bytes("abcdef")));  // exactly 40
  EXPECT_EQ(w.count(), 2u);
  EXPECT_TRUE(hft::md::parse(w.finish()).ok);
}

TEST(MdGapTracker, DetectsGapsAndDuplicatesPerChannel) {
  hft::md::GapTracker g;
  using V = hft::md::SeqVerdict;
  EXPECT_EQ(g.on_packet(0, 10), V::kFirst);  // late join: accepted
  EXPECT_EQ(g.on_packet(0, 11), V::kInOrder);
  EXPECT_EQ(g.on_packet(1, 1), V::kFirst);
  EXPECT_EQ(g.on_packet(0, 15), V::kGap);
  EXPECT_EQ(g.missed(), 3u);
  EXPECT_EQ(g.on_packet(0, 15), V::kDuplicate);
  EXPECT_EQ(g.on_packet(0, 12), V::kDuplicate);  // late, reordered
  EXPECT_EQ(g.on_packet(0, 16), V::kInOrder);
  EXPECT_EQ(g.missed(), 0u);
  EXPECT_EQ(g.on_packet(1, 2), V::kInOrder);
  EXPECT_EQ(g.stats().gaps, 1u);
  EXPECT_EQ(g.stats().missed, 3u);
  EXPECT_EQ(g.stats().duplicates, 2u);
  EXPECT_EQ(g.last(0), 16u);
  EXPECT_EQ(g.last(9), 0u);
}

TEST(MdGapTracker, PolicyNames) {
  EXPECT_EQ(hft::md::parse_gap_policy("resync"), hft::md::GapPolicy::kResync);
  EXPECT_EQ(hft::md::parse_gap_policy("halt"), hft::md::GapPolicy::kHalt);
  EXPECT_FALSE(hft::md::parse_gap_policy("ignore"));
  EXPECT_EQ(hft::md::name(hft::md::GapPolicy::kHalt), "halt");
}

TEST(MdResync, WaitsUntilEachInstrumentsSnapshot) {
  hft::md::ResyncSet r(3);
  EXPECT_FALSE(r.on_reset(1));  // not waiting: a routine snapshot
  EXPECT_EQ(r.mark_all(), 3u);
  EXPECT_EQ(r.mark_all(), 0u);
  EXPECT_TRUE(r.waiting(2));
  EXPECT_TRUE(r.on_reset(2));
  EXPECT_FALSE(r.on_reset(2));
  EXPECT_FALSE(r.on_reset(7));
  EXPECT_EQ(r.waiting_count(), 2u);
  EXPECT_EQ(r.resyncs(), 1u);
}

TEST(MdResync, StaleMessageStopsTheStrategyUntilABookReset) {
  hft::trading::BookBuilder books(1, 64);
  books.apply(hft::trading::book_delta(0, hft::Side::Bid, 100, 5, 1));
  EXPECT_FALSE(books.apply(hft::trading::stale_msg(0)));  // no strategy call for the marker
  EXPECT_TRUE(books.instrument(0).stale);
  EXPECT_EQ(books.book(0).best_bid()->qty, 5);  // the book is untouched
  books.apply(hft::trading::book_delta(0, hft::Side::Bid, 100, 6, 2));
  EXPECT_TRUE(books.instrument(0).stale);
  books.apply(hft::trading::book_reset(0, 3));
  EXPECT_FALSE(books.instrument(0).stale);
}

TEST(MdUrl, ParsesUnicastAndMulticast) {
  std::string why;
  auto ep = hft::md::parse_udp_url("udp://127.0.0.1:9000", why);
  ASSERT_TRUE(ep) << why;
  EXPECT_EQ(ep->port, 9000);
  EXPECT_FALSE(ep->multicast);
  ep = hft::md::parse_udp_url("udp://239.1.2.3:0", why);
  ASSERT_TRUE(ep) << why;
  EXPECT_TRUE(ep->multicast);
  EXPECT_EQ(ep->url(), "udp://239.1.2.3:0");
  for (const char* bad : {"tcp://127.0.0.1:1", "udp://127.0.0.1", "udp://127.0.0.1:70000",
                          "udp://localhost:1", "udp://:5", "udp://1.2.3.4:x"}) {
    why.clear();
    EXPECT_FALSE(hft::md::parse_udp_url(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(MdUdp, LoopbackBatchesWithKernelTimestamps) {
  std::string why;
  auto ep = hft::md::parse_udp_url("udp://127.0.0.1:0", why);
  ASSERT_TRUE(ep);
  hft::md::UdpReceiver rx(*ep, 8);
  ASSERT_NE(rx.port(), 0);
  EXPECT_EQ(rx.poll(), 0u);  // nothing queued: returns at once
  ep->port = rx.port();
  hft::md::UdpSender tx(*ep);
  for (int i = 0; i < 3; ++i) {
    const auto p = packet(static_cast<std::uint64_t>(i + 1), 0, {bytes("m" + std::to_string(i))});
    ASSERT_TRUE(tx.send(p));
  }
  std::size_t got = 0;
  std::vector<std::uint64_t> seqs;
  for (int spin = 0; spin < 2000 && got < 3; ++spin) {
    const std::size_t n = rx.poll();
    for (std::size_t k = 0; k < n; ++k) {
      const auto parsed = hft::md::parse(rx.data(k));
      ASSERT_TRUE(parsed.ok);
      seqs.push_back(parsed.header.seq);
      EXPECT_FALSE(rx.truncated(k));
      if (rx.kernel_timestamps()) {
        EXPECT_GT(rx.rx_ns(k), 1'000'000'000'000'000'000ull);  // a 2001+ wall-clock time
      }
    }
    got += n;
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(MdUdp, OversizeDatagramIsFlaggedTruncated) {
  std::string why;
  auto ep = hft::md::parse_udp_url("udp://127.0.0.1:0", why);
  hft::md::UdpReceiver rx(*ep, 4, 64);
  ep->port = rx.port();
  hft::md::UdpSender tx(*ep);
  const std::vector<char> big(200, 'z');
  ASSERT_TRUE(tx.send(big));
  std::size_t n = 0;
  for (int spin = 0; spin < 2000 && n == 0; ++spin) {
    n = rx.poll();
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(n, 1u);
  EXPECT_TRUE(rx.truncated(0));
  EXPECT_EQ(rx.data(0).size(), 64u);
}

TEST(MdUdp, MulticastGroupOnLoopback) {
  std::string why;
  auto ep = hft::md::parse_udp_url("udp://239.255.42.99:0", why);
  ASSERT_TRUE(ep);
  hft::md::UdpReceiver rx(*ep, 4);
  ep->port = rx.port();
  hft::md::UdpSender tx(*ep);
  ASSERT_TRUE(tx.send(packet(1, 3, {bytes("group")})));
  std::size_t n = 0;
  for (int spin = 0; spin < 2000 && n == 0; ++spin) {
    n = rx.poll();
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(hft::md::parse(rx.data(0)).header.channel, 3u);
}

TEST(MdStepScale, ConvertsExactlyOrRefuses) {
  std::int64_t out = 0;
  const hft::md::StepScale same(0.01, 1, 100);  // tape tick 0.01 -> grid tick 1/100
  EXPECT_TRUE(same.exact());
  EXPECT_TRUE(same.convert(12345, out));
  EXPECT_EQ(out, 12345);
  const hft::md::StepScale coarse(0.1, 1, 100);  // each tape tick is 10 grid ticks
  EXPECT_TRUE(coarse.convert(7, out));
  EXPECT_EQ(out, 70);
  const hft::md::StepScale fine(0.001, 1, 100);  // 10 tape ticks per grid tick
  EXPECT_FALSE(fine.exact());
  EXPECT_TRUE(fine.convert(120, out));
  EXPECT_EQ(out, 12);
  EXPECT_FALSE(fine.convert(125, out));
  const hft::md::StepScale lots(1000.0, 1000, 1);  // lot 1000 -> grid lot 1000
  EXPECT_TRUE(lots.convert(3, out));
  EXPECT_EQ(out, 3);
  const hft::md::StepScale sats(1e-8, 1, 1000);  // 1e-8 tape steps into 0.001 steps
  EXPECT_TRUE(sats.convert(200000, out));
  EXPECT_EQ(out, 2);
  EXPECT_FALSE(sats.convert(1, out));
  EXPECT_THROW(hft::md::StepScale(1.0 / 3.0, 1, 1), std::invalid_argument);
}

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string(name) + "_" + std::to_string(::getpid()) + ".hftt"))
      .string();
}

TEST(MdInstrumentMap, MatchesBySymbolElseByPosition) {
  const std::string path = temp_path("md_map");
  hft::backtest::TapeWriter w({{"ETHUSDT", 0.01, 0.001, 1.0}, {"BTCUSDT", 0.1, 0.001, 1.0}});
  w.depth(0, 1, 1, false, 100, 1);
  w.write(path);
  const auto tape = hft::backtest::Tape::open(path);
  const std::array<std::string_view, 1> btc = {"BTCUSDT"};
  const auto m = hft::md::InstrumentMap::build(tape, btc, 1, 100, 1, 1000);
  EXPECT_EQ(m.engine[0], hft::md::InstrumentMap::kUnmapped);
  EXPECT_EQ(m.engine[1], 0u);
  std::int64_t px = 0;
  EXPECT_TRUE(m.px[1].convert(5, px));
  EXPECT_EQ(px, 50);              // 0.5 in 0.01 ticks
  ASSERT_EQ(m.notes.size(), 1u);  // ETHUSDT skipped
  const std::array<std::string_view, 1> other = {"EURUSD"};
  const auto by_pos = hft::md::InstrumentMap::build(tape, other, 1, 100, 1, 1000);
  EXPECT_EQ(by_pos.engine[0], 0u);
  EXPECT_EQ(by_pos.engine[1], hft::md::InstrumentMap::kUnmapped);
  std::remove(path.c_str());
}

TEST(MdPacer, MaxSpeedNeverWaitsAndPaceDoes) {
  const int stop = 0;
  const hft::md::Pacer max(0.0, 0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(max.wait(10'000'000'000, stop));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
  const hft::md::Pacer fast(100.0, 0);  // 1 s of tape in 10 ms
  t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(fast.wait(1'000'000'000, stop));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(10));
  const int stopped = 1;
  EXPECT_FALSE(fast.wait(100'000'000'000, stopped));
  EXPECT_EQ(hft::md::parse_speed("max"), 0.0);
  EXPECT_EQ(hft::md::parse_speed("2.5"), 2.5);
  EXPECT_FALSE(hft::md::parse_speed("0"));
  EXPECT_FALSE(hft::md::parse_speed("-1"));
  EXPECT_FALSE(hft::md::parse_speed("fast"));
}

TEST(MdLog, RateLimitsPerKeyAndCountsSuppressed) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  hft::md::RateLimitedLog<2> log(f, std::chrono::milliseconds(30));
  for (int i = 0; i < 5; ++i) log.log(0, "drop %d", i);
  log.log(1, "gap");
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  log.log(0, "drop again");
  std::rewind(f);
  std::string text;
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr) text += line;
  std::fclose(f);
  EXPECT_EQ(text, "drop 0\ngap\ndrop again (and 4 more like it)\n");
}

}  // namespace
