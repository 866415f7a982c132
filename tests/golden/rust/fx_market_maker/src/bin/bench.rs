//! Encode and decode time per message of `fx.mm`, against a raw `copy_from_slice` of the
//! same bytes. Prints JSON: {"results": [{name, unit, median, p99, target, baseline}]}, where
//! target is 1.2x the baseline's median. Run with `cargo run --release --bin bench`.

#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::Instant;

use fx_mm::messages::{
    BookDeltaDecoder, ExecutionReportDecoder, NewOrderDecoder, SnapshotDecoder,
    SnapshotLevelsDecoder, SnapshotLevelsOrdersDecoder, TradeDecoder,
};
use fx_mm::owned::{self, OwnedMessage};
use fx_mm::types::{OrderFlags, Price, Qty, Side, TimeInForce};

const BATCH: usize = 1000;
const SAMPLES: usize = 301;

/// Nanoseconds per operation: batches of 1000, median and p99 over 301 batches.
fn measure(mut op: impl FnMut()) -> (f64, f64) {
    for _ in 0..BATCH * 10 {
        op();
    }
    let mut ns = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let t0 = Instant::now();
        for _ in 0..BATCH {
            op();
        }
        ns.push(t0.elapsed().as_nanos() as f64 / BATCH as f64);
    }
    ns.sort_by(f64::total_cmp);
    (ns[ns.len() / 2], ns[ns.len() * 99 / 100])
}

fn fold(h: u64, v: u64) -> u64 {
    (h ^ v).wrapping_mul(0x0100_0000_01b3)
}

fn result(name: &str, codec: (f64, f64), baseline: (f64, f64)) -> String {
    format!(
        "    {{\"name\": \"{name}\", \"unit\": \"ns\", \"median\": {:.2}, \"p99\": {:.2}, \"target\": {:.2}, \"baseline\": {:.2}}}",
        codec.0,
        codec.1,
        1.2 * baseline.0,
        baseline.0
    )
}

fn bench<M: OwnedMessage>(name: &str, x: &M, sum: impl Fn(&[u8]) -> u64, out: &mut Vec<String>) {
    let mut buf = vec![0u8; 1 << 16];
    let n = x.encode(&mut buf, 0).expect("encode");
    let bytes = buf[..n].to_vec();
    let encode = measure(|| {
        let n = black_box(x).encode(&mut buf, 0).unwrap_or(0);
        black_box(n);
    });
    let encode_baseline = measure(|| {
        buf[..n].copy_from_slice(black_box(&bytes));
        black_box(&buf);
    });
    let decode = measure(|| {
        black_box(sum(black_box(&bytes)));
    });
    let mut copy = vec![0u8; n];
    let decode_baseline = measure(|| {
        copy.copy_from_slice(black_box(&bytes));
        black_box(&copy);
    });
    out.push(result(&format!("{name}.encode"), encode, encode_baseline));
    out.push(result(&format!("{name}.decode"), decode, decode_baseline));
}

fn main() {
    let mut out = Vec::new();
    bench(
        "BookDelta",
        &example_book_delta(),
        |b| BookDeltaDecoder::wrap(b, 0).map_or(0, |d| sum_book_delta(&d)),
        &mut out,
    );
    bench(
        "Trade",
        &example_trade(),
        |b| TradeDecoder::wrap(b, 0).map_or(0, |d| sum_trade(&d)),
        &mut out,
    );
    bench(
        "Snapshot",
        &example_snapshot(),
        |b| SnapshotDecoder::wrap(b, 0).map_or(0, |d| sum_snapshot(&d)),
        &mut out,
    );
    bench(
        "NewOrder",
        &example_new_order(),
        |b| NewOrderDecoder::wrap(b, 0).map_or(0, |d| sum_new_order(&d)),
        &mut out,
    );
    bench(
        "ExecutionReport",
        &example_execution_report(),
        |b| ExecutionReportDecoder::wrap(b, 0).map_or(0, |d| sum_execution_report(&d)),
        &mut out,
    );
    println!("{{\"results\": [\n{}\n]}}", out.join(",\n"));
}

fn sum_book_delta(d: &BookDeltaDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, u64::from(d.instrument()));
    h = fold(h, d.seq());
    h = fold(h, d.ts_exchange());
    h = fold(h, u64::from(d.side_raw()));
    h = fold(h, d.price().mantissa as u64);
    h = fold(h, d.qty().mantissa as u64);
    h = fold(h, d.order_count().map_or(0, u64::from));
    h
}

fn sum_trade(d: &TradeDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, u64::from(d.instrument()));
    h = fold(h, d.seq());
    h = fold(h, d.ts_exchange());
    h = fold(h, u64::from(d.aggressor_raw()));
    h = fold(h, d.price().mantissa as u64);
    h = fold(h, d.qty().mantissa as u64);
    h
}

fn sum_snapshot(d: &SnapshotDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, u64::from(d.instrument()));
    h = fold(h, d.seq());
    for e in d.levels() {
        h = fold(h, sum_snapshot_levels(&e));
    }
    for &c in d.venue_note() {
        h = fold(h, u64::from(c));
    }
    h
}

fn sum_snapshot_levels(d: &SnapshotLevelsDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, u64::from(d.side_raw()));
    h = fold(h, d.price().mantissa as u64);
    h = fold(h, d.qty().mantissa as u64);
    for e in d.orders() {
        h = fold(h, sum_snapshot_levels_orders(&e));
    }
    h
}

fn sum_snapshot_levels_orders(d: &SnapshotLevelsOrdersDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, d.order_id());
    h = fold(h, d.qty().mantissa as u64);
    h
}

fn sum_new_order(d: &NewOrderDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, d.client_order_id());
    h = fold(h, u64::from(d.instrument()));
    h = fold(
        h,
        d.symbol().iter().fold(0u64, |a, &c| fold(a, u64::from(c))),
    );
    h = fold(h, u64::from(d.side_raw()));
    h = fold(h, d.price().mantissa as u64);
    h = fold(h, d.qty().mantissa as u64);
    h = fold(h, u64::from(d.flags().bits()));
    h = fold(h, u64::from(d.tif_raw()));
    h = fold(h, d.ts_sent());
    h
}

fn sum_execution_report(d: &ExecutionReportDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, d.client_order_id());
    h = fold(h, d.exec_id());
    h = fold(h, u64::from(d.side_raw()));
    h = fold(h, d.last_price().mantissa as u64);
    h = fold(h, d.last_qty().mantissa as u64);
    h = fold(h, d.leaves_qty().mantissa as u64);
    h = fold(h, d.ts_exchange());
    for &c in d.reject_reason() {
        h = fold(h, u64::from(c));
    }
    h
}

fn example_book_delta() -> owned::BookDelta {
    owned::BookDelta {
        instrument: 1,
        seq: 2,
        ts_exchange: 3,
        side: Side::from_raw(1),
        price: Price::from_mantissa(1004),
        qty: Qty::from_mantissa(1005),
        order_count: Some(7),
    }
}

fn example_trade() -> owned::Trade {
    owned::Trade {
        instrument: 1,
        seq: 2,
        ts_exchange: 3,
        aggressor: Side::from_raw(1),
        price: Price::from_mantissa(1004),
        qty: Qty::from_mantissa(1005),
    }
}

fn example_snapshot() -> owned::Snapshot {
    owned::Snapshot {
        instrument: 1,
        seq: 2,
        levels: vec![example_snapshot_levels()],
        venue_note: b"example text".to_vec(),
    }
}

fn example_snapshot_levels() -> owned::SnapshotLevels {
    owned::SnapshotLevels {
        side: Side::from_raw(1),
        price: Price::from_mantissa(1001),
        qty: Qty::from_mantissa(1002),
        orders: vec![example_snapshot_levels_orders()],
    }
}

fn example_snapshot_levels_orders() -> owned::SnapshotLevelsOrders {
    owned::SnapshotLevelsOrders {
        order_id: 1,
        qty: Qty::from_mantissa(1001),
    }
}

fn example_new_order() -> owned::NewOrder {
    owned::NewOrder {
        client_order_id: 1,
        instrument: 2,
        symbol: core::array::from_fn(|i| if i < 4 { b'a' + i as u8 } else { 0 }),
        side: Side::from_raw(1),
        price: Price::from_mantissa(1004),
        qty: Qty::from_mantissa(1005),
        flags: OrderFlags::from_bits(1),
        tif: TimeInForce::from_raw(0),
        ts_sent: 9,
    }
}

fn example_execution_report() -> owned::ExecutionReport {
    owned::ExecutionReport {
        client_order_id: 1,
        exec_id: 2,
        side: Side::from_raw(1),
        last_price: Price::from_mantissa(1003),
        last_qty: Qty::from_mantissa(1004),
        leaves_qty: Qty::from_mantissa(1005),
        ts_exchange: 7,
        reject_reason: b"example text".to_vec(),
    }
}
