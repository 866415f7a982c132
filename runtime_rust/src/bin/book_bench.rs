//! Benchmarks for the histogram and the order books.
//!
//! `book_bench [DEPTH_FILE]` prints one JSON object
//! `{"results": [{"name","unit","median","p99","target","baseline"}...]}` with
//!
//! * `histogram_record` (ns per `record`): log-uniform values, timed in
//!   batches. `baseline` is the same bucket layout computed through `f64::log2`,
//!   the obvious implementation `record` avoids.
//! * `l2_update_real` (ns per `set_level`): replays DEPTH_FILE, real exchange
//!   depth updates pre-decoded into packed little-endian 25-byte records
//!   `{i64 local_ts; i8 side; i64 px_ticks; i64 qty_lots}` (side 0 = bid,
//!   anything else = ask). `baseline` replays the same updates into a
//!   `BTreeMap` per side. Without DEPTH_FILE the entry's numbers are `null`.
//! * `l3_throughput` (messages per second): a synthetic add / cancel /
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

fn bench_histogram() -> Result1 {
    let mut s = 1u64;
    let values: Vec<u64> = (0..1 << 16)
        .map(|_| {
            let x = splitmix64(&mut s);
            (x >> 34) >> (x % 24)
        })
        .collect();
    // Short batches (about 2 µs) so that a scheduler tick stealing the core
    // spoils few samples instead of most of the long ones.
    const BATCH: usize = 1024;
    let passes = 200;
    let mut h = LatencyHistogram::new();
    let mut samples = Vec::with_capacity(passes * values.len() / BATCH);
    for _ in 0..passes {
        for chunk in values.chunks(BATCH) {
            let t = Instant::now();
            for &v in chunk {
                h.record(v);
            }
            black_box(&mut h);
            samples.push(t.elapsed().as_nanos() as f64 / chunk.len() as f64);
        }
    }
    let (median, p99) = summarize(samples, true);

    let mut counts = vec![0u64; 31744];
    let mut base = Vec::new();
    for _ in 0..passes / 4 {
        for chunk in values.chunks(BATCH) {
            let t = Instant::now();
            for &v in chunk {
                counts[naive_index(black_box(v))] += 1;
            }
            black_box(&mut counts);
            base.push(t.elapsed().as_nanos() as f64 / chunk.len() as f64);
        }
    }
    let (baseline, _) = summarize(base, true);
    Result1 {
        name: "histogram_record",
        unit: "ns",
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

fn bench_l2(path: Option<&str>) -> Result1 {
    let mut out = Result1 {
        name: "l2_update_real",
        unit: "ns",
        median: None,
        p99: None,
        target: 50.0,
        baseline: None,
    };
    let Some(path) = path else {
        eprintln!("book_bench: no depth file given, l2_update_real not measured");
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
    const BATCH: usize = 1024;
    let passes = (4_000_000 / updates.len()).clamp(2, 200);
    let mut book = PriceLevelBook::new(1 << 16);
    let mut samples = Vec::new();
    for _ in 0..passes {
        book.clear();
        for chunk in updates.chunks(BATCH) {
            let t = Instant::now();
            for &(side, px, qty) in chunk {
                book.set_level(side, px, qty);
            }
            black_box(book.best_bid());
            samples.push(t.elapsed().as_nanos() as f64 / chunk.len() as f64);
        }
    }
    eprintln!(
        "book_bench: l2 replayed {} updates x {passes}; {} levels dropped per pass",
        updates.len(),
        book.dropped_levels() / passes as u64
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

fn bench_l3() -> Result1 {
    let ops = gen_stream(1 << 20, 42);
    const BATCH: usize = 256;
    let mut book = OrderBook::new(1 << 15);
    let mut samples = Vec::new();
    let mut errors = 0u64;
    for _ in 0..8 {
        book.clear();
        for chunk in ops.chunks(BATCH) {
            let t = Instant::now();
            for &op in chunk {
                let ok = match op {
                    Op::Add(id, side, px, q) => book.add(id, side, px, q).is_ok(),
                    Op::Cancel(id) => book.cancel(id).is_ok(),
                    Op::Execute(id, q) => book.execute(id, q).is_ok(),
                    Op::Modify(id, q) => book.modify(id, q).is_ok(),
                };
                errors += u64::from(!ok);
            }
            black_box(book.best_bid());
            let secs = t.elapsed().as_secs_f64();
            samples.push(chunk.len() as f64 / secs.max(1e-12));
        }
    }
    if errors != 0 {
        eprintln!("book_bench: l3 stream produced {errors} rejected messages");
    }
    let (median, p99) = summarize(samples, false);

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
        name: "l3_throughput",
        unit: "msgs/s",
        median: Some(median),
        p99: Some(p99),
        target: 10_000_000.0,
        baseline: Some(summarize(base, false).0),
    }
}

fn main() {
    let path = std::env::args().nth(1);
    let results = [bench_histogram(), bench_l2(path.as_deref()), bench_l3()];
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
