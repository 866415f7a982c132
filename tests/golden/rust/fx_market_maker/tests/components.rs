//! Trading components of pipeline `tick_to_trade`, end to end: messages encoded with the generated
//! codecs -> dispatch -> feed handler `feed` -> pipeline (inline and threaded) ->
//! gateway `gateway`, whose bytes are decoded back and compared with what strategy
//! `mm` asks for on the same book (the C++ target's components test, in Rust).

#![forbid(unsafe_code)]

use fx_mm::dispatch;
use fx_mm::messages::*;
use fx_mm::pipelines::tick_to_trade as pl;
use fx_mm::runtime::clock::{ClockSource, TscClock};
use fx_mm::runtime::oms::ActionKind;
use fx_mm::runtime::session::{OrderEntryConfig, Request};
use fx_mm::runtime::trading::{
    self, Grid as _, InstrumentTable, MarketMsg, OrderGateway, OrderRequest, RiskDecision,
    RiskLimits,
};
use fx_mm::strategies::mm::{rules, Adapter};
use fx_mm::types::*;
use std::time::Duration;

type Grid = pl::Grid;
type Gateway = pl::Gateway<Grid>;

const BID: i64 = 100_000; // ticks
const ASK: i64 = 100_010;
const SIZE: i64 = 7; // lots
const TS: u64 = 1_000_000_000;
const INSTRUMENTS: u32 = 1;

fn clock() -> TscClock {
    TscClock::with_source(ClockSource::Monotonic, Duration::ZERO)
}

/// Gateway recording a copy of every order the generated gateway encodes.
#[derive(Default)]
struct Recorder {
    gateway: Gateway,
    out: Vec<Vec<u8>>,
}

impl OrderGateway for Recorder {
    fn encode(&mut self, o: &OrderRequest) {
        self.gateway.encode(o);
        self.out.push(self.gateway.last_encoded().to_vec());
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Expected {
    side: Side,
    px: i64,
    qty: i64,
}

/// What the strategy asks for on a book of BID/ASK, SIZE lots each side, flat position.
fn expected_orders() -> Vec<Expected> {
    let mut strategy = rules::Strategy::default();
    let mut inputs = rules::Inputs {
        ts_ns: TS as i64,
        ..rules::Inputs::default()
    };
    for b in inputs.books.iter_mut() {
        *b = rules::BookTop {
            bid: Adapter::price_of(BID),
            ask: Adapter::price_of(ASK),
            bid_qty: Adapter::qty_of(SIZE),
            ask_qty: Adapter::qty_of(SIZE),
        };
    }
    let o = strategy.update(&inputs);
    let mut out = Vec::new();
    if !o.when {
        return out;
    }
    if let (Some(px), Some(qty)) = (
        Adapter::bid_ticks(o.quote_bid_price),
        Adapter::to_lots(o.quote_bid_qty),
    ) {
        out.push(Expected {
            side: Side::Buy,
            px,
            qty,
        });
    }
    if let (Some(px), Some(qty)) = (
        Adapter::ask_ticks(o.quote_ask_price),
        Adapter::to_lots(o.quote_ask_qty),
    ) {
        out.push(Expected {
            side: Side::Sell,
            px,
            qty,
        });
    }
    out
}

/// Decodes the orders and checks them against `expected`, in order.
fn check_orders(orders: &[Vec<u8>], expected: &[Expected]) {
    assert_eq!(orders.len(), expected.len());
    for (i, (bytes, e)) in orders.iter().zip(expected).enumerate() {
        let m = NewOrderDecoder::wrap(bytes, 0).expect("decodes");
        assert_eq!(m.encoded_length(), bytes.len());
        assert_eq!(m.side(), e.side, "order {i}");
        assert_eq!(Grid::to_ticks(m.price()), Some(e.px), "order {i}");
        assert_eq!(Grid::to_lots(m.qty()), Some(e.qty), "order {i}");
        assert_eq!(m.client_order_id(), i as u64 + 1);
        assert_eq!(m.instrument(), 0);
        assert_eq!(m.ts_sent(), TS);
    }
}

/// One BookDelta through dispatch() into the feed handler.
fn send_delta<F: FnMut(MarketMsg)>(
    feed: &mut pl::FeedHandler<F, Grid>,
    instrument: u32,
    buy: bool,
    px: i64,
    lots: i64,
    seq: u64,
    raw_side: u8,
) {
    let mut buf = [0u8; 1024];
    let mut m = BookDeltaEncoder::wrap_and_apply_header(&mut buf, 0).expect("room");
    m.set_side(if buy { Side::Buy } else { Side::Sell })
        .set_price(Grid::from_ticks(px).expect("price"))
        .set_qty(Grid::from_lots(lots).expect("qty"));
    m.set_instrument(instrument as _);
    m.set_seq(seq as _);
    m.set_ts_exchange(TS as _);
    if raw_side != 0 {
        m.set_side_raw(raw_side);
    }
    let n = m.encoded_length();
    feed.set_receive_ns(TS);
    assert_eq!(dispatch::dispatch(&buf[..n], 0, feed), Ok(n));
}

/// Both sides of every instrument's book through a pipeline with `splits`; the encoded orders.
fn run_book(limits: RiskLimits, splits: u8) -> (Vec<Vec<u8>>, u64) {
    let mut cfg = pl::config();
    cfg.cpu = [-1; 4]; // no pinning in tests: the CPUs may not exist here
    let mut pipe =
        pl::make_with(Recorder::default(), clock(), cfg, limits, splits).expect("threads start");
    let mut feed = pl::FeedHandler::<_, Grid>::new(|m| {
        pipe.publish(m);
    });
    for i in 0..INSTRUMENTS {
        send_delta(&mut feed, i, true, BID, SIZE, 1, 0);
        send_delta(&mut feed, i, false, ASK, SIZE, 2, 0);
    }
    assert_eq!(*feed.drops(), trading::FeedDrops::default());
    drop(feed);
    pipe.stop();
    let rejected = pipe
        .risk()
        .expect("stopped")
        .count(RiskDecision::MaxOrderQty);
    let orders = pipe
        .gateway_mut()
        .map(|g| std::mem::take(&mut g.out))
        .expect("stopped");
    (orders, rejected)
}

#[test]
fn decimals_convert_exactly() {
    let px: Price = Grid::from_ticks(BID).expect("representable");
    assert_eq!(Grid::to_ticks(px), Some(BID));
    // One mantissa unit more is on the grid only when the tick is the decimal's unit.
    let unit_tick = Grid::to_ticks(Price::from_mantissa(1)) == Some(1);
    assert_eq!(
        Grid::to_ticks(Price::from_mantissa(px.mantissa + 1)).is_some(),
        unit_tick
    );
    assert_eq!(Grid::to_ticks(Price::NULL), None);
    let qty: Qty = Grid::from_lots(SIZE).expect("representable");
    assert_eq!(Grid::to_lots(qty), Some(SIZE));
}

#[test]
fn adapter_rounds_prices_away_from_the_market() {
    let half = Adapter::price_of(BID) + 0.5 * (Adapter::price_of(BID + 1) - Adapter::price_of(BID));
    assert_eq!(Adapter::bid_ticks(Adapter::price_of(BID)), Some(BID));
    assert_eq!(Adapter::ask_ticks(Adapter::price_of(BID)), Some(BID));
    assert_eq!(Adapter::bid_ticks(half), Some(BID));
    assert_eq!(Adapter::ask_ticks(half), Some(BID + 1));
    assert_eq!(Adapter::bid_ticks(f64::NAN), None);
    assert_eq!(Adapter::ask_ticks(f64::INFINITY), None);
    assert_eq!(Adapter::to_lots(Adapter::qty_of(3)), Some(3));
    assert_eq!(Adapter::to_lots(Adapter::qty_of(3) * 0.5), Some(2));
    assert_eq!(Adapter::to_lots(0.0), None);
    assert_eq!(Adapter::to_lots(-1.0), None);
}

#[test]
fn gateway_encodes_an_order() {
    let mut gateway = Gateway::new();
    assert!(gateway.encode_order(&OrderRequest {
        client_order_id: 42,
        instrument: 0,
        side: trading::Side::Ask,
        px_ticks: ASK,
        qty_lots: SIZE,
        ts_ns: TS,
    }));
    assert_eq!(gateway.encoded(), 1);
    let bytes = gateway.last_encoded();
    assert!(!bytes.is_empty() && bytes.len() <= Gateway::MAX_LENGTH);
    let m = NewOrderDecoder::wrap(bytes, 0).expect("decodes");
    assert_eq!(m.side(), Side::Sell);
    assert_eq!(m.client_order_id(), 42);
    assert_eq!(Grid::to_ticks(m.price()), Some(ASK));
    assert_eq!(Grid::to_lots(m.qty()), Some(SIZE));
    // Not representable: nothing is encoded and the failure is counted.
    assert!(!gateway.encode_order(&OrderRequest {
        client_order_id: 1,
        instrument: 0,
        side: trading::Side::Bid,
        px_ticks: i64::MAX,
        qty_lots: SIZE,
        ts_ns: TS,
    }));
    assert_eq!(gateway.failed(), 1);
    assert!(gateway.last_encoded().is_empty());
}

#[test]
fn inline_pipeline_sends_the_strategys_orders() {
    let expected = expected_orders();
    assert!(
        !expected.is_empty(),
        "the strategy quotes nothing on the test book"
    );
    check_orders(&run_book(pl::LIMITS, trading::SPLIT_INLINE).0, &expected);
}

#[test]
fn threaded_pipeline_sends_the_same_orders() {
    let (inline, _) = run_book(pl::LIMITS, trading::SPLIT_INLINE);
    let schema_splits = if pl::SPLITS != 0 {
        pl::SPLITS
    } else {
        trading::SPLIT_BEFORE_BOOK
    };
    assert_eq!(run_book(pl::LIMITS, schema_splits).0, inline);
    let all =
        trading::SPLIT_BEFORE_BOOK | trading::SPLIT_BEFORE_RISK | trading::SPLIT_BEFORE_GATEWAY;
    assert_eq!(run_book(pl::LIMITS, all).0, inline);
}

/// Every instrument's book at BID/ASK, then `rounds - 1` times its ask side pulled and put back
/// (the strategy pauses on a one-sided book and sends both sides afresh after it), then with the
/// touch `up` ticks higher, through the pipeline and its order entry; the requests sent.
fn run_trader(rounds: u64, up: i64) -> (Vec<Request>, pl::Trader) {
    let mut cfg = pl::config();
    cfg.cpu = [-1; 4];
    let orders = OrderEntryConfig::default(); // the simulated venue fills nothing
    let mut trader = pl::trader_with(
        Gateway::new(),
        clock(),
        cfg,
        pl::LIMITS,
        trading::SPLIT_INLINE,
        &orders,
    )
    .expect("starts");
    let mut sent = Vec::new();
    let mut feed = pl::FeedHandler::<_, Grid>::new(|m| {
        trader.publish_with(m, |r| sent.push(*r));
    });
    let mut seq = 1;
    for i in 0..INSTRUMENTS {
        send_delta(&mut feed, i, true, BID, SIZE, seq, 0);
        send_delta(&mut feed, i, false, ASK, SIZE, seq + 1, 0);
    }
    seq += 2;
    for _ in 1..rounds {
        for i in 0..INSTRUMENTS {
            send_delta(&mut feed, i, false, ASK, 0, seq, 0);
            send_delta(&mut feed, i, false, ASK, SIZE, seq + 1, 0);
        }
        seq += 2;
    }
    if up != 0 {
        for i in 0..INSTRUMENTS {
            send_delta(&mut feed, i, false, ASK + up, SIZE, seq, 0);
            send_delta(&mut feed, i, false, ASK, 0, seq + 1, 0);
            send_delta(&mut feed, i, true, BID + up, SIZE, seq + 2, 0);
            send_delta(&mut feed, i, true, BID, 0, seq + 3, 0);
        }
    }
    assert_eq!(*feed.drops(), trading::FeedDrops::default());
    drop(feed);
    (sent, trader)
}

#[test]
fn order_entry_sends_each_desired_quote_once() {
    let expected = expected_orders();
    let (sent, trader) = run_trader(6, 0);
    // However often the strategy repeats its quotes, each becomes one new order.
    let news: Vec<_> = sent
        .iter()
        .map(|r| (r.action.kind, r.action.px, r.action.qty))
        .collect();
    let want: Vec<_> = expected
        .iter()
        .map(|e| (ActionKind::New, e.px, e.qty))
        .collect();
    assert_eq!(news, want);
    assert!(trader.pipeline().stats().quotes >= 2 * expected.len() as u64);
    assert_eq!(trader.router().live(), expected.len());
    // Position, cash: only from execution reports, and the venue filled nothing.
    assert_eq!(
        (
            trader.router().oms(0).position(),
            trader.router().oms(0).cash()
        ),
        (0, 0)
    );
    assert_eq!(trader.pipeline().risk().expect("inline").position(0), 0);
}

#[test]
fn order_entry_replaces_a_moved_quote() {
    let (sent, mut trader) = run_trader(2, 10);
    let first = expected_orders().len();
    let moved = &sent[first..];
    assert!(!moved.is_empty(), "the strategy's quotes follow the touch");
    assert!(
        moved.iter().all(|r| r.action.kind == ActionKind::Replace),
        "{moved:?}"
    );
    let mut closing = Vec::new();
    assert!(trader.close(16, |r| closing.push(*r)));
    assert_eq!(closing.len(), first);
    assert!(closing.iter().all(|r| r.action.kind == ActionKind::Cancel));
}

#[test]
fn risk_limits_block_an_oversized_order() {
    let expected = expected_orders();
    let smallest = expected
        .iter()
        .map(|e| e.qty)
        .min()
        .expect("the strategy quotes");
    let limits = RiskLimits {
        max_order_qty: smallest - 1,
        ..pl::LIMITS
    };
    let (orders, rejected) = run_book(limits, trading::SPLIT_INLINE);
    assert!(orders.is_empty());
    assert_eq!(rejected, expected.len() as u64);
}

#[test]
fn feed_handler_drops_what_it_cannot_convert() {
    let mut msgs = Vec::new();
    let mut feed = pl::FeedHandler::<_, Grid>::new(|m| msgs.push(m));
    send_delta(&mut feed, 0, true, BID, SIZE, 1, 0);
    send_delta(&mut feed, 0, true, BID, SIZE, 2, 3);
    assert_eq!(feed.drops().bad_side, 1);
    drop(feed);
    assert_eq!(msgs.len(), 1);
    let m = msgs[0];
    assert_eq!(
        (m.kind, m.side, m.px_ticks, m.qty_lots, m.ts_ns),
        (
            trading::MsgKind::BookDelta,
            trading::Side::Bid,
            BID,
            SIZE,
            TS
        )
    );
    assert_eq!(m.seq, 1);
}

#[test]
fn instrument_table_maps_venue_ids() {
    let table = InstrumentTable::new(&[77]);
    let mut msgs = Vec::new();
    let mut feed = pl::FeedHandler::<_, Grid>::with_instruments(|m| msgs.push(m), table.clone());
    send_delta(&mut feed, 77, true, BID, SIZE, 1, 0);
    send_delta(&mut feed, 5, true, BID, SIZE, 2, 0);
    assert_eq!(feed.drops().unknown_instrument, 1);
    drop(feed);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].instrument, 0);

    let mut gateway = Gateway::with_instruments(table);
    assert!(gateway.encode_order(&OrderRequest {
        client_order_id: 1,
        instrument: 0,
        side: trading::Side::Bid,
        px_ticks: BID,
        qty_lots: SIZE,
        ts_ns: TS,
    }));
    let m = NewOrderDecoder::wrap(gateway.last_encoded(), 0).expect("decodes");
    assert_eq!(m.instrument(), 77);
}

#[test]
fn snapshot_resets_the_book_and_runs_the_strategy_once() {
    let mut msgs = Vec::new();
    let mut feed = pl::FeedHandler::<_, Grid>::new(|m| msgs.push(m));
    let mut buf = [0u8; 1024];
    let mut m = SnapshotEncoder::wrap_and_apply_header(&mut buf, 0).expect("room");
    m.set_instrument(0);
    m.set_seq(10);
    {
        let mut levels = m.encode_levels(2).expect("room");
        for (side, px) in [(Side::Buy, BID), (Side::Sell, ASK)] {
            let mut level = levels.next_entry().expect("declared");
            level
                .set_side(side)
                .set_price(Grid::from_ticks(px).expect("price"))
                .set_qty(Grid::from_lots(SIZE).expect("qty"));
            level.encode_orders(0).expect("room");
        }
    }
    m.put_venue_note(&[]).expect("room");
    let n = m.encoded_length();
    feed.set_receive_ns(TS);
    assert_eq!(dispatch::dispatch(&buf[..n], 0, &mut feed), Ok(n));
    drop(feed);
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0].kind, trading::MsgKind::BookReset);
    assert_eq!(msgs[0].seq, 10);
    assert_eq!(msgs[1].kind, trading::MsgKind::BookDelta);
    assert_eq!(msgs[1].flags & trading::MSG_MORE, trading::MSG_MORE);
    assert_eq!(msgs[1].px_ticks, BID);
    assert_eq!((msgs[2].side, msgs[2].px_ticks), (trading::Side::Ask, ASK));
    assert_eq!(msgs[2].flags & trading::MSG_MORE, 0);

    if INSTRUMENTS != 1 {
        return; // the other legs' books are empty: the strategy would not run
    }
    let mut cfg = pl::config();
    cfg.cpu = [-1; 4];
    let mut pipe = pl::make_with(
        Recorder::default(),
        clock(),
        cfg,
        pl::LIMITS,
        trading::SPLIT_INLINE,
    )
    .expect("inline");
    for msg in msgs {
        pipe.publish(msg);
    }
    pipe.stop();
    assert_eq!(pipe.stats().strategy_calls, 1);
    check_orders(&pipe.gateway().expect("inline").out, &expected_orders());
}

#[test]
fn trade_becomes_a_trade_message() {
    let mut msgs = Vec::new();
    let mut feed = pl::FeedHandler::<_, Grid>::new(|m| msgs.push(m));
    let mut buf = [0u8; 1024];
    let mut m = TradeEncoder::wrap_and_apply_header(&mut buf, 0).expect("room");
    m.set_aggressor(Side::Buy)
        .set_price(Grid::from_ticks(ASK).expect("price"))
        .set_qty(Grid::from_lots(SIZE).expect("qty"));
    m.set_seq(5);
    let n = m.encoded_length();
    feed.set_receive_ns(TS);
    assert_eq!(dispatch::dispatch(&buf[..n], 0, &mut feed), Ok(n));
    drop(feed);
    assert_eq!(msgs.len(), 1);
    let t = msgs[0];
    assert_eq!(
        (t.kind, t.side, t.px_ticks, t.qty_lots),
        (trading::MsgKind::Trade, trading::Side::Bid, ASK, SIZE)
    );
    assert_eq!(t.seq, 5);
}
