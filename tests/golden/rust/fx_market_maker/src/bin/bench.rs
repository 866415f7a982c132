//! Encode and decode time per message of `fx.mm`, against a raw `copy_from_slice` of the
//! same bytes. Prints JSON: {"results": [{name, unit, median, p99, target, baseline}]}, where
//! target is 1.2x the baseline's median. Run with `cargo run --release --bin bench`.
//!
//! Each message is the C++ benchmark's: `std::mt19937_64` seeded 42 drawing every value the way
//! the C++ models' `randomize(rng, Shape::one, x)` does (one entry per group, 1 to 40 bytes of
//! var-data), so both languages encode and decode the same bytes. `--inputs` prints those bytes
//! ({"inputs": {message: hex}}) instead of timing, as the C++ benchmark's `--inputs` does.

#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::Instant;

use fx_mm::messages::{
    BookDeltaDecoder, CancelOrderDecoder, ExecutionReportDecoder, HeartbeatDecoder, LogonDecoder,
    LogoutDecoder, NewOrderDecoder, OrderRejectDecoder, ReplaceOrderDecoder, SnapshotDecoder,
    SnapshotLevelsDecoder, SnapshotLevelsOrdersDecoder, TradeDecoder,
};
use fx_mm::owned::{self, OwnedMessage};
use fx_mm::types::{ExecType, OrderFlags, OrderStatus, Price, Qty, Side, TimeInForce};

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

/// The length, then every byte, as the C++ benchmark folds var-data. Out of line so the
/// per-byte loop has registers to itself, as it does in the C++ benchmark.
#[inline(never)]
fn fold_bytes(h: u64, bytes: &[u8]) -> u64 {
    let h = fold(h, bytes.len() as u64);
    bytes.iter().fold(h, |h, &c| fold(h, u64::from(c)))
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

/// The encode buffer: like the C++ benchmark's, 64-byte aligned and of a size known when compiling.
#[repr(align(64))]
struct Buf([u8; 1 << 16]);

fn bench<M: OwnedMessage>(name: &str, x: &M, sum: impl Fn(&[u8]) -> u64, out: &mut Vec<String>) {
    let mut buf = Buf([0u8; 1 << 16]);
    let buf = &mut buf.0;
    let n = x.encode(buf, 0).expect("encode");
    let bytes = buf[..n].to_vec();
    let encode = measure(|| {
        let n = black_box(x).encode(buf, 0).unwrap_or(0);
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

/// `"name": "hex"` of the bytes `x` encodes to: what `--inputs` prints.
fn input<M: OwnedMessage>(name: &str, x: &M) -> String {
    let mut buf = vec![0u8; 1 << 16];
    let n = x.encode(&mut buf, 0).expect("encode");
    let hex: String = buf[..n].iter().map(|b| format!("{b:02x}")).collect();
    format!("    \"{name}\": \"{hex}\"")
}

/// `--inputs`: the bytes each message's benchmark uses, as {"inputs": {message: hex}}. Kept out
/// of `main` so that adding it does not move the timed code.
#[cold]
#[inline(never)]
fn print_inputs() {
    let inputs: Vec<String> = vec![
        input("BookDelta", &bench_book_delta(&mut Mt64::new(42))),
        input("Trade", &bench_trade(&mut Mt64::new(42))),
        input("Snapshot", &bench_snapshot(&mut Mt64::new(42))),
        input("NewOrder", &bench_new_order(&mut Mt64::new(42))),
        input(
            "ExecutionReport",
            &bench_execution_report(&mut Mt64::new(42)),
        ),
        input("CancelOrder", &bench_cancel_order(&mut Mt64::new(42))),
        input("ReplaceOrder", &bench_replace_order(&mut Mt64::new(42))),
        input("OrderReject", &bench_order_reject(&mut Mt64::new(42))),
        input("Logon", &bench_logon(&mut Mt64::new(42))),
        input("Logout", &bench_logout(&mut Mt64::new(42))),
        input("Heartbeat", &bench_heartbeat(&mut Mt64::new(42))),
    ];
    println!("{{\"inputs\": {{\n{}\n}}}}", inputs.join(",\n"));
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--inputs") {
        print_inputs();
        return;
    }
    let mut out = Vec::new();
    bench(
        "BookDelta",
        &bench_book_delta(&mut Mt64::new(42)),
        |b| BookDeltaDecoder::wrap(b, 0).map_or(0, |d| sum_book_delta(&d)),
        &mut out,
    );
    bench(
        "Trade",
        &bench_trade(&mut Mt64::new(42)),
        |b| TradeDecoder::wrap(b, 0).map_or(0, |d| sum_trade(&d)),
        &mut out,
    );
    bench(
        "Snapshot",
        &bench_snapshot(&mut Mt64::new(42)),
        |b| SnapshotDecoder::wrap(b, 0).map_or(0, |d| sum_snapshot(&d)),
        &mut out,
    );
    bench(
        "NewOrder",
        &bench_new_order(&mut Mt64::new(42)),
        |b| NewOrderDecoder::wrap(b, 0).map_or(0, |d| sum_new_order(&d)),
        &mut out,
    );
    bench(
        "ExecutionReport",
        &bench_execution_report(&mut Mt64::new(42)),
        |b| ExecutionReportDecoder::wrap(b, 0).map_or(0, |d| sum_execution_report(&d)),
        &mut out,
    );
    bench(
        "CancelOrder",
        &bench_cancel_order(&mut Mt64::new(42)),
        |b| CancelOrderDecoder::wrap(b, 0).map_or(0, |d| sum_cancel_order(&d)),
        &mut out,
    );
    bench(
        "ReplaceOrder",
        &bench_replace_order(&mut Mt64::new(42)),
        |b| ReplaceOrderDecoder::wrap(b, 0).map_or(0, |d| sum_replace_order(&d)),
        &mut out,
    );
    bench(
        "OrderReject",
        &bench_order_reject(&mut Mt64::new(42)),
        |b| OrderRejectDecoder::wrap(b, 0).map_or(0, |d| sum_order_reject(&d)),
        &mut out,
    );
    bench(
        "Logon",
        &bench_logon(&mut Mt64::new(42)),
        |b| LogonDecoder::wrap(b, 0).map_or(0, |d| sum_logon(&d)),
        &mut out,
    );
    bench(
        "Logout",
        &bench_logout(&mut Mt64::new(42)),
        |b| LogoutDecoder::wrap(b, 0).map_or(0, |d| sum_logout(&d)),
        &mut out,
    );
    bench(
        "Heartbeat",
        &bench_heartbeat(&mut Mt64::new(42)),
        |b| HeartbeatDecoder::wrap(b, 0).map_or(0, |d| sum_heartbeat(&d)),
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
    h = fold_bytes(h, d.venue_note());
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
    h = fold(h, d.orig_client_order_id());
    h = fold(h, d.exec_id());
    h = fold(h, u64::from(d.exec_type_raw()));
    h = fold(h, u64::from(d.order_status_raw()));
    h = fold(h, u64::from(d.side_raw()));
    h = fold(h, d.last_price().mantissa as u64);
    h = fold(h, d.last_qty().mantissa as u64);
    h = fold(h, d.leaves_qty().mantissa as u64);
    h = fold(h, d.cum_qty().mantissa as u64);
    h = fold(h, d.seq());
    h = fold(h, d.ts_exchange());
    h = fold_bytes(h, d.reject_reason());
    h
}

fn sum_cancel_order(d: &CancelOrderDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, d.client_order_id());
    h = fold(h, d.orig_client_order_id());
    h = fold(h, u64::from(d.instrument()));
    h = fold(h, u64::from(d.side_raw()));
    h = fold(h, d.seq());
    h = fold(h, d.ts_sent());
    h
}

fn sum_replace_order(d: &ReplaceOrderDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, d.client_order_id());
    h = fold(h, d.orig_client_order_id());
    h = fold(h, u64::from(d.instrument()));
    h = fold(h, u64::from(d.side_raw()));
    h = fold(h, d.price().mantissa as u64);
    h = fold(h, d.qty().mantissa as u64);
    h = fold(h, d.seq());
    h = fold(h, d.ts_sent());
    h
}

fn sum_order_reject(d: &OrderRejectDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, d.client_order_id());
    h = fold(h, u64::from(d.reject_code()));
    h = fold(h, d.seq());
    h = fold(h, d.ts_exchange());
    h
}

fn sum_logon(d: &LogonDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, d.seq());
    h = fold(h, u64::from(d.heartbeat_ms()));
    h = fold(
        h,
        d.api_key().iter().fold(0u64, |a, &c| fold(a, u64::from(c))),
    );
    h = fold(h, d.ts_sent());
    h
}

fn sum_logout(d: &LogoutDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, d.seq());
    h = fold(h, u64::from(d.reason()));
    h = fold(h, d.ts_sent());
    h
}

fn sum_heartbeat(d: &HeartbeatDecoder<'_>) -> u64 {
    let mut h = 0u64;
    h = fold(h, d.seq());
    h = fold(h, d.ts_sent());
    h
}

/// `std::mt19937_64`, so the benchmark encodes the very values the C++ benchmark does.
struct Mt64 {
    state: [u64; 312],
    next: usize,
}

// A schema without floats, var-data or some other kind of field leaves helpers unused.
#[allow(dead_code)]
impl Mt64 {
    fn new(seed: u64) -> Self {
        let mut state = [0u64; 312];
        state[0] = seed;
        for i in 1..312 {
            let prev = state[i - 1];
            state[i] = 6_364_136_223_846_793_005u64
                .wrapping_mul(prev ^ (prev >> 62))
                .wrapping_add(i as u64);
        }
        Mt64 { state, next: 312 }
    }

    fn next_u64(&mut self) -> u64 {
        if self.next == 312 {
            for i in 0..312 {
                let x = (self.state[i] & 0xffff_ffff_8000_0000)
                    | (self.state[(i + 1) % 312] & 0x7fff_ffff);
                let mag = if x & 1 == 1 { 0xb502_6f5a_a966_19e9 } else { 0 };
                self.state[i] = self.state[(i + 156) % 312] ^ (x >> 1) ^ mag;
            }
            self.next = 0;
        }
        let mut x = self.state[self.next];
        self.next += 1;
        x ^= (x >> 29) & 0x5555_5555_5555_5555;
        x ^= (x << 17) & 0x71d6_7fff_eda6_0000;
        x ^= (x << 37) & 0xfff7_eee0_0000_0000;
        x ^ (x >> 43)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `rand_float`: a 21-bit integer over 1024, exact in f32 and f64.
    fn float(&mut self) -> f64 {
        ((self.next_u64() % 2_000_001) as i64 - 1_000_000) as f64 / 1024.0
    }

    /// `rand_text`: up to `max` lowercase letters.
    fn text(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| b'a' + self.below(26) as u8).collect()
    }

    fn chars<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for (c, t) in out.iter_mut().zip(self.text(N)) {
            *c = t;
        }
        out
    }

    /// `rand_var_text` for `Shape::one`: 0 to 40 letters, "x" when that draws none.
    fn var_text(&mut self) -> Vec<u8> {
        let s = self.text(40);
        if s.is_empty() {
            b"x".to_vec()
        } else {
            s
        }
    }

    /// `rand_var_bytes` for `Shape::one`: 1 to 40 random bytes.
    fn var_bytes(&mut self) -> Vec<u8> {
        let len = 1 + self.below(40);
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

fn bench_book_delta(rng: &mut Mt64) -> owned::BookDelta {
    owned::BookDelta {
        instrument: rng.next_u64() as u32,
        seq: rng.next_u64(),
        ts_exchange: rng.next_u64(),
        side: Side::from_raw([1u8, 2][rng.below(2)]),
        price: Price::from_mantissa(rng.next_u64() as i64),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
        order_count: {
            let v = rng.next_u64() as u16;
            if v == u16::MAX {
                None
            } else {
                Some(v)
            }
        },
    }
}

fn bench_trade(rng: &mut Mt64) -> owned::Trade {
    owned::Trade {
        instrument: rng.next_u64() as u32,
        seq: rng.next_u64(),
        ts_exchange: rng.next_u64(),
        aggressor: Side::from_raw([1u8, 2][rng.below(2)]),
        price: Price::from_mantissa(rng.next_u64() as i64),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
    }
}

fn bench_snapshot(rng: &mut Mt64) -> owned::Snapshot {
    owned::Snapshot {
        instrument: rng.next_u64() as u32,
        seq: rng.next_u64(),
        levels: vec![bench_snapshot_levels(rng)],
        venue_note: rng.var_text(),
    }
}

fn bench_snapshot_levels(rng: &mut Mt64) -> owned::SnapshotLevels {
    owned::SnapshotLevels {
        side: Side::from_raw([1u8, 2][rng.below(2)]),
        price: Price::from_mantissa(rng.next_u64() as i64),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
        orders: vec![bench_snapshot_levels_orders(rng)],
    }
}

fn bench_snapshot_levels_orders(rng: &mut Mt64) -> owned::SnapshotLevelsOrders {
    owned::SnapshotLevelsOrders {
        order_id: rng.next_u64(),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
    }
}

fn bench_new_order(rng: &mut Mt64) -> owned::NewOrder {
    owned::NewOrder {
        client_order_id: rng.next_u64(),
        instrument: rng.next_u64() as u32,
        symbol: rng.chars::<12>(),
        side: Side::from_raw([1u8, 2][rng.below(2)]),
        price: Price::from_mantissa(rng.next_u64() as i64),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
        flags: OrderFlags::from_bits((rng.next_u64() & 7) as u8),
        tif: TimeInForce::from_raw([0u8, 1, 2, 3][rng.below(4)]),
        ts_sent: rng.next_u64(),
    }
}

fn bench_execution_report(rng: &mut Mt64) -> owned::ExecutionReport {
    owned::ExecutionReport {
        client_order_id: rng.next_u64(),
        orig_client_order_id: rng.next_u64(),
        exec_id: rng.next_u64(),
        exec_type: ExecType::from_raw([0u8, 1, 2, 3, 4, 5][rng.below(6)]),
        order_status: OrderStatus::from_raw([0u8, 1, 2, 3, 4, 5][rng.below(6)]),
        side: Side::from_raw([1u8, 2][rng.below(2)]),
        last_price: Price::from_mantissa(rng.next_u64() as i64),
        last_qty: Qty::from_mantissa(rng.next_u64() as i64),
        leaves_qty: Qty::from_mantissa(rng.next_u64() as i64),
        cum_qty: Qty::from_mantissa(rng.next_u64() as i64),
        seq: rng.next_u64(),
        ts_exchange: rng.next_u64(),
        reject_reason: rng.var_text(),
    }
}

fn bench_cancel_order(rng: &mut Mt64) -> owned::CancelOrder {
    owned::CancelOrder {
        client_order_id: rng.next_u64(),
        orig_client_order_id: rng.next_u64(),
        instrument: rng.next_u64() as u32,
        side: Side::from_raw([1u8, 2][rng.below(2)]),
        seq: rng.next_u64(),
        ts_sent: rng.next_u64(),
    }
}

fn bench_replace_order(rng: &mut Mt64) -> owned::ReplaceOrder {
    owned::ReplaceOrder {
        client_order_id: rng.next_u64(),
        orig_client_order_id: rng.next_u64(),
        instrument: rng.next_u64() as u32,
        side: Side::from_raw([1u8, 2][rng.below(2)]),
        price: Price::from_mantissa(rng.next_u64() as i64),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
        seq: rng.next_u64(),
        ts_sent: rng.next_u64(),
    }
}

fn bench_order_reject(rng: &mut Mt64) -> owned::OrderReject {
    owned::OrderReject {
        client_order_id: rng.next_u64(),
        reject_code: rng.next_u64() as u16,
        seq: rng.next_u64(),
        ts_exchange: rng.next_u64(),
    }
}

fn bench_logon(rng: &mut Mt64) -> owned::Logon {
    owned::Logon {
        seq: rng.next_u64(),
        heartbeat_ms: rng.next_u64() as u32,
        api_key: rng.chars::<64>(),
        ts_sent: rng.next_u64(),
    }
}

fn bench_logout(rng: &mut Mt64) -> owned::Logout {
    owned::Logout {
        seq: rng.next_u64(),
        reason: rng.next_u64() as u16,
        ts_sent: rng.next_u64(),
    }
}

fn bench_heartbeat(rng: &mut Mt64) -> owned::Heartbeat {
    owned::Heartbeat {
        seq: rng.next_u64(),
        ts_sent: rng.next_u64(),
    }
}
