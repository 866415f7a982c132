//! A pipeline that trades through the order managers: over a stream of market data, the
//! requests sent are the fewest that keep the desired quotes resting (an unchanged quote sends
//! nothing, a moved one a replace), the position moves on execution reports' fills only, and the
//! risk gate's open-order accounting is the C++ pipeline's.

use std::time::Duration;

use runtime_rust::clock::{ClockSource, TscClock};
use runtime_rust::oms::ActionKind;
use runtime_rust::session::router::CANCEL_ID_BASE;
use runtime_rust::session::{OrderEntryConfig, Request, Trader};
use runtime_rust::trading::{
    book_delta, MarketMsg, MarketView, OrderGateway, OrderRequest, PipelineConfig, QuoteSink,
    RiskLimits, Side, Strategy, SPLIT_BEFORE_GATEWAY, SPLIT_INLINE,
};

/// Quotes both sides one tick behind the touch on every market event, changed or not: the
/// order managers, not the strategy, keep an unchanged quote from becoming a request.
#[derive(Default)]
struct EveryTick {
    calls: u64,
}

impl Strategy for EveryTick {
    fn on_market(&mut self, m: &MarketView<'_>, out: &mut QuoteSink) {
        self.calls += 1;
        let t = m.touch(0);
        if t.valid {
            out.buy(0, t.bid_px - 1, 2);
            out.sell(0, t.ask_px + 1, 2);
        }
    }
}

/// Counts what the pipeline's gateway stage encodes (every accepted quote).
#[derive(Default)]
struct Count(u64);

impl OrderGateway for Count {
    fn encode(&mut self, _: &OrderRequest) {
        self.0 += 1;
    }
}

const LIMITS: RiskLimits = RiskLimits {
    max_position: 100,
    max_order_qty: 10,
    max_orders_per_second: 1_000_000,
    price_band_bps: 500,
    max_notional: 0,
    kill_switch: true,
    max_open_notional: 0,
    max_open_orders: RiskLimits::DEFAULT_MAX_OPEN_ORDERS,
};

fn trader(fill_ratio: f64, splits: u8) -> Trader<EveryTick, Count> {
    let clock = TscClock::with_source(ClockSource::Monotonic, Duration::ZERO);
    let orders = OrderEntryConfig {
        fill_ratio,
        seed: 5,
        ..OrderEntryConfig::default()
    };
    let cfg = PipelineConfig {
        queue_capacity: 64,
        ..PipelineConfig::default()
    };
    Trader::new(
        cfg,
        LIMITS,
        EveryTick::default(),
        Count::default(),
        splits,
        clock,
        &orders,
    )
    .unwrap()
}

/// A touch 1000/1002, then `sizes` size-only updates (the touch stays), then the touch moves up
/// one tick `moves` times.
fn stream(sizes: u64, moves: i64) -> Vec<MarketMsg> {
    let mut v = vec![
        book_delta(0, Side::Bid, 1000, 5, 1, 10),
        book_delta(0, Side::Ask, 1002, 5, 2, 20),
    ];
    let mut seq = 3;
    for k in 0..sizes {
        v.push(book_delta(
            0,
            Side::Bid,
            1000,
            6 + k as i64 % 3,
            seq,
            30 + seq,
        ));
        seq += 1;
    }
    for k in 1..=moves {
        v.push(book_delta(0, Side::Ask, 1002 + k, 5, seq, 30 + seq));
        v.push(book_delta(0, Side::Bid, 1000 + k, 5, seq + 1, 31 + seq));
        v.push(book_delta(0, Side::Ask, 1001 + k, 0, seq + 2, 32 + seq));
        v.push(book_delta(0, Side::Bid, 999 + k, 0, seq + 3, 33 + seq));
        seq += 4;
    }
    v
}

fn run(t: &mut Trader<EveryTick, Count>, msgs: &[MarketMsg]) -> Vec<Request> {
    let mut sent = Vec::new();
    for m in msgs {
        t.publish_with(*m, |r| sent.push(*r));
    }
    sent
}

fn kinds(sent: &[Request]) -> Vec<(ActionKind, Side, i64)> {
    sent.iter()
        .map(|r| (r.action.kind, r.action.side, r.action.px))
        .collect()
}

#[test]
fn an_unchanged_quote_sends_nothing() {
    let mut t = trader(0.0, SPLIT_INLINE);
    let sent = run(&mut t, &stream(50, 0));
    // The first quote waits for both sides; then 51 identical quotes per side.
    assert_eq!(
        kinds(&sent),
        [
            (ActionKind::New, Side::Bid, 999),
            (ActionKind::New, Side::Ask, 1003)
        ]
    );
    assert!(
        t.pipeline().gateway().unwrap().gateway().0 > 100,
        "quotes reach the gateway"
    );
    assert_eq!(t.router().counters().sent, [2, 0, 0]);
    assert_eq!(t.router().live(), 2);
}

#[test]
fn a_moved_quote_sends_a_replace_not_a_new_order() {
    let mut t = trader(0.0, SPLIT_INLINE);
    let sent = run(&mut t, &stream(3, 4));
    let news = sent
        .iter()
        .filter(|r| r.action.kind == ActionKind::New)
        .count();
    assert_eq!(news, 2, "{:?}", kinds(&sent));
    assert!(sent.iter().all(|r| r.action.kind != ActionKind::Cancel));
    let replaces: Vec<_> = sent
        .iter()
        .filter(|r| r.action.kind == ActionKind::Replace)
        .collect();
    assert!(replaces.len() >= 8, "{:?}", kinds(&sent));
    // Each replace names the order it replaces: the chain of one side's ids is unbroken.
    let mut resting = [sent[0].action.cl_ord_id, sent[1].action.cl_ord_id];
    for r in &replaces {
        let s = usize::from(r.action.side == Side::Ask);
        assert_eq!(r.action.orig_cl_ord_id, resting[s]);
        resting[s] = r.action.cl_ord_id;
    }
    // What rests is the last desired quote on each side.
    let oms = t.router().oms(0);
    let mut live: Vec<_> = oms.live().map(|o| (o.side, o.px, o.qty)).collect();
    live.sort_by_key(|l| l.1);
    assert_eq!(live, [(Side::Bid, 1003, 2), (Side::Ask, 1007, 2)]);
}

#[test]
fn the_position_moves_on_execution_reports_only() {
    // No fills: however many quotes, nothing is bought or sold.
    let mut t = trader(0.0, SPLIT_INLINE);
    run(&mut t, &stream(20, 6));
    assert!(t.pipeline().stats().quotes > 40);
    assert_eq!(t.router().unexpected_reports(), 0);
    assert_eq!(t.router().oms(0).position(), 0);
    assert_eq!(t.pipeline().risk().unwrap().position(0), 0);
    // Every order filled: the order manager, the risk gate and the strategy's view all follow
    // the execution reports.
    let mut t = trader(1.0, SPLIT_INLINE);
    run(&mut t, &stream(20, 6));
    let c = *t.router().counters();
    let fills = c.reports[1];
    assert!(fills > 4, "{c:?}");
    let oms = t.router().oms(0);
    let bought: i64 = 2 * fills as i64; // every order is 2 lots, filled whole
    assert_eq!(oms.counters().fills, fills);
    assert!(oms.position().abs() <= bought);
    assert_eq!(t.pipeline().risk().unwrap().position(0), oms.position());
    let view = t.pipeline().books().unwrap().instrument(0);
    assert_eq!((view.position, view.cash), (oms.position(), oms.cash()));
}

#[test]
fn open_orders_count_the_latest_quote_per_side_and_fills_take_them_off() {
    let mut t = trader(0.0, SPLIT_INLINE);
    run(&mut t, &stream(10, 3));
    let risk = t.pipeline().risk().unwrap();
    // Quotes supersede each other: one open order per side, the latest, whatever was sent.
    assert_eq!(risk.open_orders(), 2);
    assert_eq!(risk.open_qty(0, Side::Bid), 2);
    assert_eq!(risk.open_qty(0, Side::Ask), 2);
    // Both first orders filled one service after their acknowledgement: the fills take the
    // open quantity off (position 0: 2 bought, 2 sold), then the strategy's requote on the fill
    // counts again, once per side.
    let mut t = trader(1.0, SPLIT_INLINE);
    let sent = run(&mut t, &stream(0, 0));
    assert_eq!(sent.len(), 2);
    t.service(|_| {});
    assert_eq!(
        t.router().counters().reports[1],
        0,
        "acknowledged, not yet filled"
    );
    // The fills close both orders; the desired quotes are unchanged, so the same service sends
    // them again as new orders.
    let mut requotes = Vec::new();
    t.service(|r| requotes.push(*r));
    assert_eq!(t.router().counters().reports[1], 2);
    assert_eq!(
        kinds(&requotes),
        [
            (ActionKind::New, Side::Bid, 999),
            (ActionKind::New, Side::Ask, 1003)
        ]
    );
    let risk = t.pipeline().risk().unwrap();
    assert_eq!(risk.position(0), 0);
    assert_eq!(t.router().oms(0).cash(), -999 * 2 + 1003 * 2);
    assert_eq!(
        (risk.open_qty(0, Side::Bid), risk.open_qty(0, Side::Ask)),
        (2, 2)
    );
    assert_eq!(risk.open_orders(), 2);
}

#[test]
fn the_kill_switch_cancels_what_rests_and_stops_quoting() {
    let mut t = trader(0.0, SPLIT_INLINE);
    run(&mut t, &stream(2, 2));
    let live = t.router().live();
    assert_eq!(live, 2);
    t.pipeline().kill_switch().trip();
    let mut sent = Vec::new();
    t.service(|r| sent.push(*r));
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.action.kind == ActionKind::Cancel));
    assert!(sent.iter().all(|r| r.request_id >= CANCEL_ID_BASE));
    sent.clear();
    for m in stream(0, 3).into_iter().skip(2) {
        t.publish_with(m, |r| sent.push(*r));
    }
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(t.router().live(), 0);
}

fn resting(t: &Trader<EveryTick, Count>) -> Vec<(Side, i64, i64)> {
    let mut live: Vec<_> = t
        .router()
        .oms(0)
        .live()
        .map(|o| (o.side, o.px, o.qty))
        .collect();
    live.sort_by_key(|l| l.1);
    live
}

#[test]
fn close_cancels_everything_and_a_threaded_pipeline_rests_the_same_quotes() {
    let msgs = stream(5, 5);
    let mut inline = trader(0.0, SPLIT_INLINE);
    let mut sent = run(&mut inline, &msgs);
    let rests = resting(&inline);
    assert_eq!(rests.len(), 2);
    sent.clear();
    assert!(inline.close(16, |r| sent.push(*r)));
    assert_eq!(
        (inline.router().live(), inline.orders().pending_reports()),
        (0, 0)
    );
    assert_eq!(
        kinds(&sent),
        [
            (ActionKind::Cancel, Side::Bid, rests[0].1),
            (ActionKind::Cancel, Side::Ask, rests[1].1)
        ]
    );
    // With the gateway on its own thread the desired quotes arrive later: once the pipeline is
    // stopped (every message processed) and they are serviced, the same quotes rest.
    let mut threaded = trader(0.0, SPLIT_BEFORE_GATEWAY);
    run(&mut threaded, &msgs);
    threaded.pipeline_mut().stop();
    threaded.service(|_| {});
    threaded.service(|_| {});
    assert_eq!(resting(&threaded), rests);
    assert!(threaded.close(16, |_| {}));
}
