// Order manager: the shared test vectors (tests/vectors/oms/*.txt, also run by runtime_rust's
// oms tests), then what the vectors cannot say (allocation-free hot path, capacity).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "hft/oms/order_manager.hpp"

#ifndef HFT_OMS_VECTORS_DIR
#error "HFT_OMS_VECTORS_DIR must name tests/vectors/oms"
#endif

namespace {

using hft::Side;
using hft::oms::Action;
using hft::oms::ActionKind;
using hft::oms::DesiredQuote;
using hft::oms::ExecKind;
using hft::oms::ExecReport;
using hft::oms::OmsConfig;
using hft::oms::OrderManager;
using hft::oms::OrdState;

using Args = std::map<std::string, std::string>;

struct Line {
  int number = 0;
  std::string verb;
  Args args;
};

std::vector<Line> parse(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<Line> lines;
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    if (const auto hash = text.find('#'); hash != std::string::npos) text.resize(hash);
    std::istringstream words(text);
    Line line{number, {}, {}};
    if (!(words >> line.verb)) continue;
    std::string word;
    while (words >> word) {
      const auto eq = word.find('=');
      EXPECT_NE(eq, std::string::npos)
          << path << ":" << number << ": `" << word << "` is not key=value";
      if (eq != std::string::npos) line.args[word.substr(0, eq)] = word.substr(eq + 1);
    }
    lines.push_back(line);
  }
  return lines;
}

std::int64_t num(const Args& a, const std::string& key, std::int64_t fallback = 0) {
  const auto it = a.find(key);
  return it == a.end() ? fallback : std::stoll(it->second);
}

Side side_of(const Args& a) {
  return a.count("side") && a.at("side") == "sell" ? Side::Ask : Side::Bid;
}

ExecKind kind_of(const std::string& s) {
  for (auto k : {ExecKind::kNew, ExecKind::kFill, ExecKind::kCanceled, ExecKind::kReplaced,
                 ExecKind::kRejected, ExecKind::kCancelRejected, ExecKind::kReplaceRejected}) {
    if (to_string(k) == s) return k;
  }
  ADD_FAILURE() << "unknown report kind " << s;
  return ExecKind::kNew;
}

// `PRICExQTY` or `-`.
DesiredQuote desired(const Args& a, const std::string& key) {
  const auto it = a.find(key);
  if (it == a.end() || it->second == "-") return {};
  const auto x = it->second.find('x');
  return DesiredQuote{std::stoll(it->second.substr(0, x)), std::stoll(it->second.substr(x + 1))};
}

std::string show(const Action& a) {
  std::ostringstream s;
  s << "kind=" << to_string(a.kind) << " cl=" << a.cl_ord_id << " orig=" << a.orig_cl_ord_id
    << " side=" << (a.side == Side::Bid ? "buy" : "sell") << " px=" << a.px << " qty=" << a.qty;
  return s.str();
}

void run_vector(const std::filesystem::path& path) {
  const auto lines = parse(path);
  ASSERT_FALSE(lines.empty()) << path << " holds no steps";
  ASSERT_EQ(lines.front().verb, "config") << path << ": the first step is `config`";
  const Args& c = lines.front().args;
  OmsConfig cfg;
  cfg.capacity = static_cast<std::size_t>(num(c, "capacity", 64));
  cfg.max_in_flight = static_cast<std::uint32_t>(num(c, "max_in_flight", 8));
  cfg.venue_replace = num(c, "replace", 1) != 0;
  cfg.first_cl_ord_id = static_cast<std::uint64_t>(num(c, "first_id", 1));
  OrderManager om(cfg);
  std::vector<Action> pending;  // actions of the last quote not yet matched by `action` lines
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const Line& l = lines[i];
    const std::string where = path.filename().string() + ":" + std::to_string(l.number);
    if (l.verb != "action") {
      ASSERT_TRUE(pending.empty())
          << where << ": " << pending.size() << " action(s) of the quote unchecked, first "
          << show(pending.front());
    }
    if (l.verb == "quote") {
      std::array<Action, OrderManager::kMaxActions> out{};
      const std::size_t n = om.quote(desired(l.args, "bid"), desired(l.args, "ask"), out);
      pending.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
      ASSERT_EQ(static_cast<std::int64_t>(n), num(l.args, "actions", -1)) << where;
      std::reverse(pending.begin(), pending.end());
    } else if (l.verb == "action") {
      ASSERT_FALSE(pending.empty()) << where << ": no action left to check";
      const Action got = pending.back();
      pending.pop_back();
      const std::string& k = l.args.at("kind");
      const Action want{k == "new"      ? ActionKind::kNew
                        : k == "cancel" ? ActionKind::kCancel
                                        : ActionKind::kReplace,
                        static_cast<std::uint64_t>(num(l.args, "cl")),
                        static_cast<std::uint64_t>(num(l.args, "orig")),
                        side_of(l.args),
                        num(l.args, "px"),
                        num(l.args, "qty")};
      EXPECT_EQ(show(got), show(want)) << where;
    } else if (l.verb == "report") {
      om.on_report(ExecReport{static_cast<std::uint64_t>(num(l.args, "cl")),
                              static_cast<std::uint64_t>(num(l.args, "orig")),
                              kind_of(l.args.at("kind")), side_of(l.args), num(l.args, "px"),
                              num(l.args, "qty")});
    } else if (l.verb == "state") {
      const auto* o = om.find(static_cast<std::uint64_t>(num(l.args, "cl")));
      const std::string got = o == nullptr ? "closed" : std::string(to_string(o->state));
      EXPECT_EQ(got, l.args.at("is")) << where;
      if (o != nullptr && l.args.count("cum")) {
        EXPECT_EQ(o->cum_qty, num(l.args, "cum")) << where;
      }
      if (o != nullptr && l.args.count("leaves")) {
        EXPECT_EQ(o->leaves(), num(l.args, "leaves")) << where;
      }
    } else if (l.verb == "check") {
      const auto& k = om.counters();
      const std::map<std::string, std::int64_t> have{
          {"position", om.position()},
          {"cash", om.cash()},
          {"in_flight", om.in_flight()},
          {"live", static_cast<std::int64_t>(om.live().size())},
          {"unknown", static_cast<std::int64_t>(k.unknown_reports)},
          {"late", static_cast<std::int64_t>(k.late_reports)},
          {"rejects", static_cast<std::int64_t>(k.rejects)},
          {"cancel_rejects", static_cast<std::int64_t>(k.cancel_rejects)},
          {"replace_rejects", static_cast<std::int64_t>(k.replace_rejects)},
          {"fills", static_cast<std::int64_t>(k.fills)},
          {"capacity_full", static_cast<std::int64_t>(k.capacity_full)},
      };
      for (const auto& [key, value] : l.args) {
        if (key == "mark") continue;
        if (key == "pnl") {
          EXPECT_EQ(om.pnl(num(l.args, "mark")), std::stoll(value)) << where << ": pnl";
          continue;
        }
        ASSERT_TRUE(have.count(key)) << where << ": unknown check `" << key << "`";
        EXPECT_EQ(have.at(key), std::stoll(value)) << where << ": " << key;
      }
    } else {
      FAIL() << where << ": unknown step `" << l.verb << "`";
    }
  }
  EXPECT_TRUE(pending.empty()) << path << ": actions of the last quote unchecked";
}

TEST(Oms, SharedVectors) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(HFT_OMS_VECTORS_DIR)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 6U) << "test vectors missing from " << HFT_OMS_VECTORS_DIR;
  for (const auto& f : files) {
    SCOPED_TRACE(f.filename().string());
    run_vector(f);
  }
}

TEST(Oms, StateNamesMatchTheVectors) {
  EXPECT_EQ(to_string(OrdState::kPendingReplace), "pending_replace");
  EXPECT_EQ(to_string(ExecKind::kReplaceRejected), "replace_rejected");
  EXPECT_EQ(to_string(ActionKind::kCancel), "cancel");
}

TEST(Oms, SteadyQuotingSendsNothingAndSlotsAreReused) {
  OmsConfig cfg;
  cfg.capacity = 4;
  cfg.max_in_flight = 2;
  OrderManager om(cfg);
  std::array<Action, OrderManager::kMaxActions> out{};
  // Many cycles of quote, ack, fill in full: the 4 slots are reused, ids keep counting.
  for (std::int64_t i = 0; i < 1000; ++i) {
    const std::size_t n = om.quote({100 - i % 3, 5}, {102 + i % 3, 5}, out);
    ASSERT_EQ(n, 2U) << i;
    for (std::size_t k = 0; k < n; ++k) {
      om.on_report({out[k].cl_ord_id, 0, ExecKind::kNew, out[k].side, 0, 0});
      ASSERT_EQ(om.quote({out[0].px, 5}, {out[1].px, 5}, out), 0U)
          << "a resting quote is left alone";
    }
    om.on_report({out[0].cl_ord_id, 0, ExecKind::kFill, Side::Bid, out[0].px, 5});
    om.on_report({out[1].cl_ord_id, 0, ExecKind::kFill, Side::Ask, out[1].px, 5});
    ASSERT_TRUE(om.live().empty());
  }
  EXPECT_EQ(om.position(), 0);
  EXPECT_EQ(om.counters().fills, 2000U);
  EXPECT_EQ(om.counters().capacity_full, 0U);
}

TEST(Oms, GarbageReportsAreCountedNotFatal) {
  OrderManager om(OmsConfig{});
  for (std::uint64_t id = 0; id < 300; ++id) {
    for (auto k : {ExecKind::kNew, ExecKind::kCanceled, ExecKind::kReplaced, ExecKind::kRejected,
                   ExecKind::kCancelRejected, ExecKind::kReplaceRejected}) {
      om.on_report({id * 7919, id, k, Side::Ask, 0, 0});
    }
  }
  EXPECT_EQ(om.counters().unknown_reports, 1800U);
  EXPECT_TRUE(om.live().empty());
  EXPECT_EQ(om.position(), 0);
}

TEST(Oms, ExtremeFillsSaturateInsteadOfOverflowing) {
  OrderManager om(OmsConfig{});
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  om.on_report({5, 0, ExecKind::kFill, Side::Bid, kMax, kMax});
  om.on_report({5, 0, ExecKind::kFill, Side::Bid, kMax, kMax});
  EXPECT_EQ(om.position(), kMax);
  EXPECT_EQ(om.cash(), kMin);
  om.on_report(
      {6, 0, ExecKind::kFill, Side::Ask, kMin, kMin});  // sells "MIN" lots: buys MAX, at MIN
  EXPECT_EQ(om.position(), kMax);
  EXPECT_EQ(om.cash(), 0);  // MIN minus (MAX x MIN saturated to MIN)
  EXPECT_EQ(om.pnl(kMax), kMax);
  EXPECT_EQ(om.counters().unknown_reports, 3U);
}

}  // namespace
