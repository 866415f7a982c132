#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "hft/session/order_router.hpp"

namespace {

using hft::Side;
using hft::oms::Action;
using hft::oms::ActionKind;
using hft::oms::ExecKind;
using hft::oms::ExecReport;
using hft::oms::OmsConfig;
using hft::oms::OrdState;
using hft::session::OrderRouter;
using hft::session::SimulatedVenue;
using hft::trading::OrderRequest;

struct Fill {
  std::uint32_t instrument;
  Side side;
  std::int64_t px;
  std::int64_t qty;
};

struct Sink {
  std::vector<Fill>* fills;
  void operator()(std::uint32_t i, Side s, std::int64_t px, std::int64_t qty) const {
    fills->push_back({i, s, px, qty});
  }
};

struct Sent {
  Action action;
  std::uint32_t instrument;
  std::uint64_t request;
};

struct Harness {
  std::vector<Fill> fills;
  std::vector<Sent> sent;
  OrderRouter<Sink> router{2, OmsConfig{}, 1000, Sink{&fills}};

  void pump() {
    sent.clear();
    router.pump([this](const Action& a, std::uint32_t i, std::uint64_t request) {
      sent.push_back({a, i, request});
    });
  }
  void report(ExecKind kind, std::uint64_t id, std::uint64_t orig = 0) {
    ExecReport r;
    r.kind = kind;
    r.cl_ord_id = id;
    r.orig_cl_ord_id = orig;
    router.on_report(r);
  }
};

OrderRequest quote(std::uint32_t inst, Side side, std::int64_t px, std::int64_t qty = 1) {
  return OrderRequest{0, inst, side, px, qty, 0};
}

TEST(OrderRouter, IdsCarryTheInstrumentAndAnUnchangedQuoteSendsNothing) {
  Harness h;
  h.router.want(quote(0, Side::Bid, 100));
  h.router.want(quote(1, Side::Ask, 205));
  h.pump();
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent[0].action.kind, ActionKind::kNew);
  EXPECT_EQ(h.sent[0].action.cl_ord_id, 1000u);
  EXPECT_EQ(h.sent[1].action.cl_ord_id, (std::uint64_t{1} << 48) | 1000u);
  EXPECT_EQ(h.router.instrument_of(h.sent[1].request), 1u);
  h.report(ExecKind::kNew, h.sent[0].action.cl_ord_id);
  h.router.want(quote(0, Side::Bid, 100));  // the same again
  h.pump();
  EXPECT_TRUE(h.sent.empty());
  h.router.want(quote(0, Side::Bid, 101));
  h.pump();
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.sent[0].action.kind, ActionKind::kReplace);
  EXPECT_EQ(h.router.counters().sent[2], 1u);
}

TEST(OrderRouter, FillsGoToTheSinkAndARefusedCancelRestoresTheOrder) {
  Harness h;
  h.router.want(quote(0, Side::Ask, 200, 2));
  h.pump();
  const std::uint64_t id = h.sent[0].action.cl_ord_id;
  h.report(ExecKind::kNew, id);
  ExecReport fill;
  fill.kind = ExecKind::kFill;
  fill.cl_ord_id = id;
  fill.side = Side::Ask;
  fill.last_px = 200;
  fill.last_qty = 1;
  h.router.on_report(fill);
  ASSERT_EQ(h.fills.size(), 1u);
  EXPECT_EQ(h.fills[0].px, 200);
  EXPECT_EQ(h.router.oms(0).position(), -1);
  h.router.cancel_all();
  h.router.want(quote(0, Side::Ask, 300));  // ignored once closing
  h.pump();
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.sent[0].action.kind, ActionKind::kCancel);
  EXPECT_GE(h.sent[0].request, h.router.kCancelIdBase) << "a cancel is a request of its own";
  h.router.on_reject(h.sent[0].request);
  EXPECT_EQ(h.router.oms(0).find(id)->state, OrdState::kPartiallyFilled);
  // Asked again, the venue confirms naming the cancel request (and the order as the original).
  h.pump();
  ASSERT_EQ(h.sent.size(), 1u);
  h.report(ExecKind::kCanceled, h.sent[0].request, id);
  EXPECT_EQ(h.router.oms(0).find(id), nullptr);
  EXPECT_EQ(h.router.counters().reports[static_cast<std::size_t>(ExecKind::kCancelRejected)], 1u);
  EXPECT_EQ(h.router.unexpected_reports(), 0u);
}

TEST(OrderRouter, ReconcileRestoresReportedOrdersAndClosesTheRest) {
  Harness h;
  h.router.want(quote(0, Side::Bid, 100));
  h.router.want(quote(0, Side::Ask, 110));
  h.router.want(quote(1, Side::Bid, 50));
  h.pump();
  ASSERT_EQ(h.sent.size(), 3u);
  const std::uint64_t bid = h.sent[0].action.cl_ord_id;
  const std::uint64_t ask = h.sent[1].action.cl_ord_id;
  const std::uint64_t other = h.sent[2].action.cl_ord_id;
  h.report(ExecKind::kNew, bid);
  h.report(ExecKind::kNew, ask);  // `other` is still unacknowledged
  h.router.want(quote(0, Side::Bid, 99));
  h.pump();
  ASSERT_EQ(h.sent.size(), 1u);  // a replace of the bid, in flight when the connection drops
  const std::uint64_t bid2 = h.sent[0].action.cl_ord_id;
  h.router.suspend();
  EXPECT_FALSE(h.router.quoting());
  EXPECT_EQ(h.router.counters().marked_unknown, 4u);  // bid, its replacement, ask, other
  h.router.want(quote(0, Side::Ask, 111));
  h.pump();
  EXPECT_TRUE(h.sent.empty()) << "nothing is sent while suspended";
  // The venue holds the old bid (the replace never arrived) and `other`; the ask is gone.
  h.router.begin_reconcile();
  h.router.reconcile_report(bid);
  h.router.reconcile_report(other);
  h.router.reconcile_report(777, Side::Ask);  // an id of ours no order manager knows
  h.router.end_reconcile();
  EXPECT_TRUE(h.router.quoting());
  EXPECT_EQ(h.router.counters().reconcile_open, 3u);
  EXPECT_EQ(h.router.counters().reconcile_foreign, 1u);
  EXPECT_EQ(h.router.counters().reconcile_closed, 1u);  // the ask
  ASSERT_NE(h.router.oms(0).find(bid), nullptr);
  EXPECT_EQ(h.router.oms(0).find(bid)->state, OrdState::kNew);
  EXPECT_EQ(h.router.oms(0).find(bid2), nullptr);
  EXPECT_EQ(h.router.oms(0).find(ask), nullptr);
  EXPECT_EQ(h.router.oms(1).find(other)->state, OrdState::kNew);
  // The unknown order is canceled first (nothing rests unmanaged); then quoting resumes from
  // what is known: the bid moves again and the ask is new.
  h.pump();
  ASSERT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(h.sent[0].action.kind, ActionKind::kCancel);
  EXPECT_EQ(h.sent[0].action.cl_ord_id, 777u);
  EXPECT_EQ(h.sent[0].action.side, Side::Ask);
  EXPECT_GE(h.sent[0].request, h.router.kCancelIdBase);
  EXPECT_EQ(h.router.counters().foreign_canceled, 1u);
  EXPECT_EQ(h.sent[1].action.kind, ActionKind::kReplace);
  EXPECT_EQ(h.sent[2].action.kind, ActionKind::kNew);
  h.pump();
  EXPECT_TRUE(h.sent.empty()) << "the foreign cancel is sent once";
}

// A run's requests and reports, replayed into a new router as its journal would be: the same
// position and cash, the same live orders (unknown until the reconcile), ids counting on.
TEST(OrderRouter, RecoveryFromAJournalRebuildsPositionAndOpenOrders) {
  Harness first;
  struct Record {  // the journal: requests and reports in the order they happened
    bool inbound;
    Sent request;
    ExecReport report;
  };
  std::vector<Record> journal;
  std::vector<Sent> requests;
  const auto pump = [&] {
    first.pump();
    for (const Sent& s : first.sent) journal.push_back({false, s, {}});
    requests.insert(requests.end(), first.sent.begin(), first.sent.end());
  };
  const auto report = [&](ExecReport r) {
    first.router.on_report(r);
    journal.push_back({true, {}, r});
  };
  first.router.want(quote(0, Side::Bid, 100, 3));
  first.router.want(quote(0, Side::Ask, 110, 2));
  pump();
  const std::uint64_t bid = requests[0].action.cl_ord_id;
  const std::uint64_t ask = requests[1].action.cl_ord_id;
  report(ExecReport{bid, 0, ExecKind::kNew, Side::Bid, 0, 0});
  report(ExecReport{ask, 0, ExecKind::kNew, Side::Ask, 0, 0});
  report(ExecReport{bid, 0, ExecKind::kFill, Side::Bid, 100, 1});
  first.router.want(quote(0, Side::Ask, 0, 0));  // the ask is no longer wanted: a cancel
  first.router.want(quote(0, Side::Bid, 99, 2));  // the bid moves: a replace
  pump();
  ASSERT_EQ(requests.size(), 4u);
  const Sent replace = requests[2];
  const Sent cancel = requests[3];
  ASSERT_EQ(replace.action.kind, ActionKind::kReplace);
  ASSERT_EQ(cancel.action.kind, ActionKind::kCancel);
  report(ExecReport{replace.action.cl_ord_id, bid, ExecKind::kReplaced, Side::Bid, 0, 0});
  report(ExecReport{replace.action.cl_ord_id, 0, ExecKind::kFill, Side::Bid, 99, 1});
  // ... and the process dies with the cancel unanswered.

  std::vector<Fill> fills;
  OrderRouter<Sink> again{2, OmsConfig{}, 5, Sink{&fills}};  // a new start, ids from an older clock
  for (const Record& r : journal) {
    if (r.inbound) {
      again.recover_report(r.report);
    } else {
      again.recover_request(r.request.action, r.request.request);
    }
  }
  again.end_recovery(/*venue=*/true);
  EXPECT_EQ(again.oms(0).position(), first.router.oms(0).position());
  EXPECT_EQ(again.oms(0).position(), 2);
  EXPECT_EQ(again.oms(0).cash(), first.router.oms(0).cash());
  EXPECT_EQ(fills.size(), 2u) << "fills reach the sink (the pipeline's risk gate) again";
  EXPECT_EQ(again.recovery().fills, 2u);
  EXPECT_EQ(again.recovery().unplaced, 0u);
  ASSERT_EQ(again.live(), 2u);
  const auto* moved = again.oms(0).find(replace.action.cl_ord_id);
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(moved->state, OrdState::kPartiallyFilled);
  EXPECT_EQ(moved->px, 99);
  EXPECT_EQ(again.oms(0).find(ask)->state, OrdState::kPendingCancel);
  EXPECT_FALSE(again.quoting()) << "recovered orders are unknown until the venue's reconcile";
  EXPECT_EQ(again.counters().sent[0], 0u) << "the replay is not this run's traffic";
  // The venue still holds the moved bid; the ask's cancel went through before the crash.
  again.begin_reconcile();
  again.reconcile_report(replace.action.cl_ord_id, Side::Bid);
  again.end_reconcile();
  EXPECT_EQ(again.live(), 1u);
  EXPECT_EQ(again.counters().reconcile_foreign, 0u);
  // The strategy wants what rests: nothing is sent (no duplicate order); a new quote gets an id
  // above every id of the previous run, and a cancel an id above its cancels.
  std::vector<Sent> sent;
  const auto pump_again = [&] {
    sent.clear();
    again.pump([&](const Action& a, std::uint32_t i, std::uint64_t r) { sent.push_back({a, i, r}); });
  };
  again.want(quote(0, Side::Bid, 99, 1));  // 1 of its 2 lots left to fill
  pump_again();
  EXPECT_TRUE(sent.empty());
  again.want(quote(0, Side::Ask, 111, 1));
  pump_again();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_GT(sent[0].action.cl_ord_id, replace.action.cl_ord_id);
  again.want(quote(0, Side::Bid, 0, 0));
  pump_again();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_GT(sent[0].request, cancel.request);
}

TEST(OrderRouter, RecoveryWithTheSimulatedVenueKeepsThePositionOnly) {
  std::vector<Fill> fills;
  OrderRouter<Sink> r{1, OmsConfig{}, 1, Sink{&fills}};
  r.recover_request(Action{ActionKind::kNew, 7, 0, Side::Ask, 120, 2}, 7);
  r.recover_report(ExecReport{7, 0, ExecKind::kNew, Side::Ask, 0, 0});
  r.recover_report(ExecReport{7, 0, ExecKind::kFill, Side::Ask, 120, 1});
  r.end_recovery(/*venue=*/false);  // that venue died with the previous run: nothing rests
  EXPECT_EQ(r.live(), 0u);
  EXPECT_EQ(r.oms(0).position(), -1);
  EXPECT_TRUE(r.quoting());
}

TEST(SimulatedVenue, AnswersOnTheNextPollAndFillsTheRequestedShare) {
  std::vector<Fill> fills;
  OrderRouter<Sink> router(1, OmsConfig{}, 1, Sink{&fills});
  SimulatedVenue venue(1.0, 42);
  const auto step = [&] {
    venue.poll([&](const ExecReport& r) { router.on_report(r); });
    router.pump(
        [&](const Action& a, std::uint32_t, std::uint64_t request) { venue.send(a, request); });
  };
  router.want(quote(0, Side::Bid, 100));
  step();
  EXPECT_EQ(router.live(), 1u);
  step();  // the ack
  step();  // the fill
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(router.oms(0).position(), 1);
  EXPECT_EQ(router.unexpected_reports(), 0u);

  std::vector<Fill> none;
  OrderRouter<Sink> quiet(1, OmsConfig{}, 1, Sink{&none});
  SimulatedVenue never(0.0, 42);
  for (int px = 100; px < 110; ++px) {
    quiet.want(quote(0, Side::Bid, px));
    never.poll([&](const ExecReport& r) { quiet.on_report(r); });
    quiet.pump(
        [&](const Action& a, std::uint32_t, std::uint64_t request) { never.send(a, request); });
  }
  EXPECT_TRUE(none.empty());
  EXPECT_GE(quiet.counters().sent[2], 1u) << "moved quotes are replaces";
}

}  // namespace
