//! Benchmarks for the histogram and the order books, under the names and units of
//! `runtime_cpp`'s `bench_book_hist`, so `hftc bench --lang all` pairs them.
//!
//! `book_bench [DEPTH_FILE]` prints one JSON object
//! `{"results": [{"name","unit","median","p99","target","baseline"}...]}` with
//!
//! * `histogram_record` (ns per `record`): log-uniform values, timed in
//!   batches. `baseline` is the same bucket layout computed through `f64::log2`,
//!   the obvious implementation `record` avoids.
//! * `l2_update_binance_btcusdt` (ns per `set_level`): replays DEPTH_FILE, real exchange
//!   depth updates pre-decoded into packed little-endian 25-byte records
//!   `{i64 local_ts; i8 side; i64 px_ticks; i64 qty_lots}` (side 0 = bid,
//!   anything else = ask). `baseline` replays the same updates into a
//!   `BTreeMap` per side. Without DEPTH_FILE the entry's numbers are `null`.
//! * `l3_synthetic_add_cancel_execute` (messages per second): a synthetic add / cancel /
//!   execute / modify stream from splitmix64 with about 10 000 live orders
//!   near the touch. `baseline` is a `BTreeMap<price, VecDeque>` + `HashMap`
//!   book on the same stream.
//!
//! Every figure is the median over many timed batches, and `p99` is the slow
//! tail: the 99th percentile batch time for ns figures, the 1st percentile
//! batch throughput for msgs/s. Inputs are generated or loaded before timing
//! so only the structure under test is measured.
#![deny(unsafe_code)]

use runtime_rust::histogram::LatencyHistogram;
use runtime_rust::l2book::{PriceLevelBook, Side};
use runtime_rust::l3book::OrderBook;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hint::black_box;
use std::time::Instant;

const RECORD_LEN: usize = 25;

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `(median, p99)` of per-batch figures; `high_is_slow` says which tail is
/// the bad one.
fn summarize(mut xs: Vec<f64>, high_is_slow: bool) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = xs[n / 2];
    let k = ((0.99 * n as f64).ceil() as usize).clamp(1, n);
    let tail = if high_is_slow { xs[k - 1] } else { xs[n - k] };
    (median, tail)
}

/// Median cost of reading the clock twice, subtracted from every batch (as the C++ bench does).
fn clock_overhead_ns() -> f64 {
    let mut d: Vec<f64> = (0..10_001)
        .map(|_| {
            let a = Instant::now();
            let b = Instant::now();
            (b - a).as_nanos() as f64
        })
        .collect();
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

/// Runs `body(begin, end)` over `[0, n)` in batches of `batch` items, `passes` times (after
/// `setup`, untimed), and returns per-item ns of every batch but those of the first pass (a
/// warm-up), clock overhead subtracted: the C++ bench's `time_batches`, so that both languages'
/// figures are measured the same way.
fn time_batches<S>(
    n: usize,
    batch: usize,
    passes: usize,
    overhead: f64,
    state: &mut S,
    mut setup: impl FnMut(&mut S),
    mut body: impl FnMut(&mut S, usize, usize),
) -> Vec<f64> {
    let mut per_item = Vec::with_capacity(n.div_ceil(batch) * passes);
    for pass in 0..passes {
        setup(state);
        for b in (0..n).step_by(batch) {
            let e = n.min(b + batch);
            let t = Instant::now();
            body(state, b, e);
            let ns = t.elapsed().as_nanos() as f64 - overhead;
            if pass > 0 {
                per_item.push(ns.max(0.0) / (e - b) as f64);
            }
        }
    }
    per_item
}

struct Result1 {
    name: &'static str,
    unit: &'static str,
    median: Option<f64>,
    p99: Option<f64>,
    target: f64,
    baseline: Option<f64>,
}

fn num(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.3}"),
        _ => "null".to_string(),
    }
}

// ---------------------------------------------------------------- histogram

/// The textbook bucket computation through floating point, for comparison.
fn naive_index(v: u64) -> usize {
    let v = v.min((1u64 << 40) - 1);
    if v < 2048 {
        return v as usize;
    }
    let m = (v as f64).log2().floor() as u32;
    let shift = m - 10;
    (shift as usize) * 1024 + (v >> shift) as usize
}

fn bench_histogram(overhead: f64) -> Result1 {
    // Latency-like values as in the C++ bench: log-uniform from ~50 ns to ~1 ms, so every
    // region and many buckets are hit rather than one hot counter.
    let mut s = 1u64;
    let values: Vec<u64> = (0..1 << 16)
        .map(|_| {
            let u = (splitmix64(&mut s) >> 11) as f64 / (1u64 << 53) as f64;
            (5.6 + 14.4 * u).exp2() as u64
        })
        .collect();
    const BATCH: usize = 4096;
    let mut h = LatencyHistogram::new();
    let samples = time_batches(
        values.len(),
        BATCH,
        200,
        overhead,
        &mut h,
        |_| {},
        |h, b, e| {
            for &v in &values[b..e] {
                h.record(v);
            }
            black_box(h);
        },
    );
    let (median, p99) = summarize(samples, true);

    let mut counts = vec![0u64; 31744];
    let base = time_batches(
        values.len(),
        BATCH,
        50,
        overhead,
        &mut counts,
        |_| {},
        |counts, b, e| {
            for &v in &values[b..e] {
                counts[naive_index(black_box(v))] += 1;
            }
            black_box(counts);
        },
    );
    let (baseline, _) = summarize(base, true);
    Result1 {
        name: "histogram_record",
        unit: "ns/op",
        median: Some(median),
        p99: Some(p99),
        target: 5.0,
        baseline: Some(baseline),
    }
}

// ---------------------------------------------------------------- L2

fn load_depth(path: &str) -> Result<Vec<(Side, i64, i64)>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    if bytes.len() % RECORD_LEN != 0 {
        return Err(format!(
            "{path}: size {} is not a multiple of {RECORD_LEN}-byte records",
            bytes.len()
        ));
    }
    let i64_at = |r: &[u8], o: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&r[o..o + 8]);
        i64::from_le_bytes(b)
    };
    Ok(bytes
        .chunks_exact(RECORD_LEN)
        .map(|r| {
            let side = if r[8] == 0 { Side::Bid } else { Side::Ask };
            (side, i64_at(r, 9), i64_at(r, 17))
        })
        .collect())
}

fn bench_l2(path: Option<&str>, overhead: f64) -> Result1 {
    let mut out = Result1 {
        name: "l2_update_binance_btcusdt",
        unit: "ns/update",
        median: None,
        p99: None,
        target: 50.0,
        baseline: None,
    };
    let Some(path) = path else {
        eprintln!("book_bench: no depth file given, l2_update_binance_btcusdt not measured");
        return out;
    };
    let updates = match load_depth(path) {
        Ok(u) if !u.is_empty() => u,
        Ok(_) => {
            eprintln!("book_bench: {path} holds no records");
            return out;
        }
        Err(e) => {
            eprintln!("book_bench: {e}");
            return out;
        }
    };
    // The C++ bench's batches and passes (the first pass is a warm-up).
    const BATCH: usize = 64;
    const PASSES: usize = 21;
    let mut book = PriceLevelBook::new(1 << 16);
    let samples = time_batches(
        updates.len(),
        BATCH,
        PASSES,
        overhead,
        &mut book,
        |book| book.clear(),
        |book, b, e| {
            for &(side, px, qty) in &updates[b..e] {
                book.set_level(side, px, qty);
            }
            black_box(book.best_bid());
        },
    );
    let passes = PASSES;
    eprintln!(
        "book_bench: l2 replayed {} updates x {passes}; {} levels dropped in the last pass",
        updates.len(),
        book.dropped_levels()
    );
    let (median, p99) = summarize(samples, true);

    let mut base = Vec::new();
    for _ in 0..passes.div_ceil(4) {
        let mut sides: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
        for chunk in updates.chunks(BATCH) {
            let t = Instant::now();
            for &(side, px, qty) in chunk {
                let m = &mut sides[side as usize];
                if qty <= 0 {
                    m.remove(&px);
                } else {
                    m.insert(px, qty);
                }
            }
            black_box(sides[0].last_key_value());
            base.push(t.elapsed().as_nanos() as f64 / chunk.len() as f64);
        }
    }
    out.median = Some(median);
    out.p99 = Some(p99);
    out.baseline = Some(summarize(base, true).0);
    out
}

// ---------------------------------------------------------------- L3

#[derive(Clone, Copy)]
enum Op {
    Add(u64, Side, i64, i64),
    Cancel(u64),
    Execute(u64, i64),
    Modify(u64, i64),
}

/// A valid message stream (every id referenced is live) starting from an
/// empty book, so it can be replayed after `clear()`.
fn gen_stream(n: usize, seed: u64) -> Vec<Op> {
    let mut s = seed;
    let mut ops = Vec::with_capacity(n);
    let mut live: Vec<u64> = Vec::new();
    let mut qty: Vec<i64> = Vec::new();
    let mut mid = 1_000_000i64;
    const TARGET_LIVE: usize = 10_000;
    while ops.len() < n {
        let r = splitmix64(&mut s);
        if r.is_multiple_of(64) {
            mid += (splitmix64(&mut s) % 5) as i64 - 2;
        }
        let roll = r >> 32;
        let add =
            live.is_empty() || (live.len() < TARGET_LIVE && roll % 100 < 55) || roll % 100 < 45;
        if add && live.len() < 2 * TARGET_LIVE {
            let id = qty.len() as u64;
            let x = splitmix64(&mut s);
            let side = if x & 1 == 0 { Side::Bid } else { Side::Ask };
            // Mostly near the touch, with a thin tail deeper in the book.
            let off = if x & 0x700 == 0 {
                (x >> 16) % 500
            } else {
                (x >> 16) % 20
            } as i64;
            let px = match side {
                Side::Bid => mid - 1 - off,
                Side::Ask => mid + 1 + off,
            };
            let q = ((x >> 40) % 100 + 1) as i64;
            qty.push(q);
            live.push(id);
            ops.push(Op::Add(id, side, px, q));
            continue;
        }
        let k = (splitmix64(&mut s) % live.len() as u64) as usize;
        let id = live[k];
        let kind = roll % 100;
        if kind < 65 {
            live.swap_remove(k);
            ops.push(Op::Cancel(id));
        } else if kind < 85 {
            let q = qty[id as usize];
            let e = (splitmix64(&mut s) % q as u64 + 1) as i64;
            if e == q {
                live.swap_remove(k);
            }
            qty[id as usize] -= e;
            ops.push(Op::Execute(id, e));
        } else {
            let nq = (splitmix64(&mut s) % 120 + 1) as i64;
            qty[id as usize] = nq;
            ops.push(Op::Modify(id, nq));
        }
    }
    ops
}

#[derive(Default)]
struct RefBook {
    sides: [BTreeMap<i64, VecDeque<(u64, i64)>>; 2],
    ids: HashMap<u64, (Side, i64)>,
}

impl RefBook {
    fn pos(&self, id: u64) -> Option<(Side, i64, usize)> {
        let &(side, px) = self.ids.get(&id)?;
        let q = self.sides[side as usize].get(&px)?;
        Some((side, px, q.iter().position(|&(i, _)| i == id)?))
    }

    fn remove(&mut self, side: Side, px: i64, pos: usize, id: u64) {
        if let Some(q) = self.sides[side as usize].get_mut(&px) {
            q.remove(pos);
            if q.is_empty() {
                self.sides[side as usize].remove(&px);
            }
        }
        self.ids.remove(&id);
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Add(id, side, px, q) => {
                self.ids.insert(id, (side, px));
                self.sides[side as usize]
                    .entry(px)
                    .or_default()
                    .push_back((id, q));
            }
            Op::Cancel(id) => {
                if let Some((side, px, pos)) = self.pos(id) {
                    self.remove(side, px, pos, id);
                }
            }
            Op::Execute(id, e) => {
                if let Some((side, px, pos)) = self.pos(id) {
                    let q = self.sides[side as usize]
                        .get_mut(&px)
                        .map(|q| &mut q[pos].1);
                    if let Some(q) = q {
                        *q -= e;
                        if *q <= 0 {
                            self.remove(side, px, pos, id);
                        }
                    }
                }
            }
            Op::Modify(id, nq) => {
                if let Some((side, px, pos)) = self.pos(id) {
                    if let Some(q) = self.sides[side as usize].get_mut(&px) {
                        if nq > q[pos].1 {
                            q.remove(pos);
                            q.push_back((id, nq));
                        } else {
                            q[pos].1 = nq;
                        }
                    }
                }
            }
        }
    }
}

fn bench_l3(overhead: f64) -> Result1 {
    // The C++ bench's stream length, batches and passes (the first pass is a warm-up).
    let ops = gen_stream(2_000_000, 42);
    const BATCH: usize = 256;
    let mut book = OrderBook::new(1 << 15);
    let mut errors = 0u64;
    let samples = time_batches(
        ops.len(),
        BATCH,
        6,
        overhead,
        &mut book,
        |book| book.clear(),
        |book, b, e| {
            for &op in &ops[b..e] {
                let ok = match op {
                    Op::Add(id, side, px, q) => book.add(id, side, px, q).is_ok(),
                    Op::Cancel(id) => book.cancel(id).is_ok(),
                    Op::Execute(id, q) => book.execute(id, q).is_ok(),
                    Op::Modify(id, q) => book.modify(id, q).is_ok(),
                };
                errors += u64::from(!ok);
            }
            black_box(book.best_bid());
        },
    );
    if errors != 0 {
        eprintln!("book_bench: l3 stream produced {errors} rejected messages");
    }
    // ns per message -> messages per second; the slow tail becomes the low-throughput figure.
    let (ns, ns_p99) = summarize(samples, true);
    let (median, p99) = (1e9 / ns, 1e9 / ns_p99);

    let mut base = Vec::new();
    let mut reference = RefBook::default();
    for chunk in ops.chunks(BATCH) {
        let t = Instant::now();
        for &op in chunk {
            reference.apply(op);
        }
        black_box(reference.sides[0].last_key_value());
        base.push(chunk.len() as f64 / t.elapsed().as_secs_f64().max(1e-12));
    }
    Result1 {
        name: "l3_synthetic_add_cancel_execute",
        unit: "msgs/s",
        median: Some(median),
        p99: Some(p99),
        target: 10_000_000.0,
        baseline: Some(summarize(base, false).0),
    }
}

fn main() {
    let path = std::env::args().nth(1);
    let overhead = clock_overhead_ns();
    eprintln!("book_bench: Instant::now() pair overhead {overhead:.1} ns (subtracted per batch)");
    let results = [
        bench_histogram(overhead),
        bench_l2(path.as_deref(), overhead),
        bench_l3(overhead),
    ];
    let items: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{{\"name\": \"{}\", \"unit\": \"{}\", \"median\": {}, \"p99\": {}, \"target\": {}, \"baseline\": {}}}",
                r.name,
                r.unit,
                num(r.median),
                num(r.p99),
                num(Some(r.target)),
                num(r.baseline)
            )
        })
        .collect();
    println!("{{\"results\": [{}]}}", items.join(", "));
}
