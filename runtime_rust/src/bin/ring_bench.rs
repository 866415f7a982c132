//! SPSC ring micro-benchmark.
//!
//! ```text
//! ring_bench [--runs N] [--items N] [--round-trips N] [--quick]
//! ```
//!
//! * `ring_throughput_8b` / `ring_throughput_64b`: items per second through a
//!   4096-slot [`runtime_rust::ring`] with one producer pinned to CPU 0 and one
//!   consumer pinned to CPU 1, single-item `try_push`/`try_pop`. Each run moves
//!   `--items` items; `median` is the median over `--runs` runs and `p99` is the
//!   low tail (the rate that 99 % of runs reached, nearest rank).
//! * `ring_round_trip`: nanoseconds for a ping through one ring and the echo
//!   back through another (threads pinned as above), timed per round trip with
//!   the TSC clock; `median` and `p99` over all round trips.
//!
//! Output is one JSON object on stdout:
//! `{"results": [{"name", "unit", "median", "p99", "target", "baseline"}, ...]}`.
//! `baseline` is `null` (no recorded baseline yet). Pinning failures are
//! reported on stderr and the benchmark continues unpinned.

#![deny(unsafe_code)]

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use runtime_rust::affinity::pin_current_thread;
use runtime_rust::clock::TscClock;
use runtime_rust::ring::{channel, Consumer, Producer};

const CAPACITY: usize = 4096;
const PRODUCER_CPU: usize = 0;
const CONSUMER_CPU: usize = 1;

struct Config {
    runs: usize,
    items: u64,
    round_trips: usize,
}

struct Summary {
    name: &'static str,
    unit: &'static str,
    median: f64,
    p99: f64,
    target: f64,
}

fn pin(cpu: usize, role: &str) {
    if let Err(e) = pin_current_thread(cpu) {
        eprintln!("ring_bench: cannot pin {role} to cpu {cpu}: {e}");
    }
}

/// Nearest-rank percentile of an ascending slice.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Busy-waits for one more iteration; yields now and then so that an
/// accidentally shared core still makes progress.
#[inline(always)]
fn backoff(spins: &mut u32) {
    *spins = spins.wrapping_add(1);
    if spins.is_multiple_of(65_536) {
        thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

/// One throughput run: returns items per second measured by the consumer from
/// the common start barrier to its last pop.
fn throughput_run<T: Copy + Send + 'static>(
    items: u64,
    make: fn(u64) -> T,
    key: fn(&T) -> u64,
) -> f64 {
    let (mut tx, mut rx): (Producer<T>, Consumer<T>) = channel(CAPACITY);
    let barrier = Arc::new(Barrier::new(2));
    let b2 = Arc::clone(&barrier);
    let producer = thread::spawn(move || {
        pin(PRODUCER_CPU, "producer");
        b2.wait();
        let mut spins = 0u32;
        for i in 0..items {
            let mut v = make(i);
            loop {
                match tx.try_push(v) {
                    Ok(()) => break,
                    Err(back) => {
                        v = back;
                        backoff(&mut spins);
                    }
                }
            }
        }
    });
    pin(CONSUMER_CPU, "consumer");
    barrier.wait();
    let start = Instant::now();
    let mut spins = 0u32;
    let mut expect = 0u64;
    while expect < items {
        match rx.try_pop() {
            Some(v) => {
                // Checking the payload keeps the pop from being optimised away
                // and validates ordering.
                assert_eq!(key(&v), expect, "ring delivered out of order");
                expect += 1;
            }
            None => backoff(&mut spins),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    producer.join().expect("producer thread panicked");
    items as f64 / secs
}

fn throughput<T: Copy + Send + 'static>(
    name: &'static str,
    cfg: &Config,
    target: f64,
    make: fn(u64) -> T,
    key: fn(&T) -> u64,
) -> Summary {
    // One unmeasured warm-up run (page faults, frequency ramp-up).
    throughput_run(cfg.items / 4 + 1, make, key);
    let mut rates: Vec<f64> = (0..cfg.runs)
        .map(|_| throughput_run(cfg.items, make, key))
        .collect();
    rates.sort_by(f64::total_cmp);
    Summary {
        name,
        unit: "items/s",
        median: percentile(&rates, 50.0),
        // Low tail: for a rate, "99th percentile" means 99 % of runs were at
        // least this fast.
        p99: percentile(&rates, 1.0),
        target,
    }
}

fn round_trip(cfg: &Config, clock: &TscClock) -> Summary {
    let (mut ping_tx, mut ping_rx) = channel::<u64>(CAPACITY);
    let (mut pong_tx, mut pong_rx) = channel::<u64>(CAPACITY);
    let warmup = cfg.round_trips / 10 + 100;
    let total = warmup + cfg.round_trips;
    let echo = thread::spawn(move || {
        pin(CONSUMER_CPU, "echo thread");
        let mut spins = 0u32;
        for _ in 0..total {
            let v = loop {
                match ping_rx.try_pop() {
                    Some(v) => break v,
                    None => backoff(&mut spins),
                }
            };
            while pong_tx.try_push(v).is_err() {
                backoff(&mut spins);
            }
        }
    });
    pin(PRODUCER_CPU, "ping thread");
    let mut samples = Vec::with_capacity(cfg.round_trips);
    let mut spins = 0u32;
    for i in 0..total as u64 {
        let t0 = clock.now_ticks();
        while ping_tx.try_push(i).is_err() {
            backoff(&mut spins);
        }
        let v = loop {
            match pong_rx.try_pop() {
                Some(v) => break v,
                None => backoff(&mut spins),
            }
        };
        let t1 = clock.now_ticks();
        assert_eq!(v, i, "echo out of order");
        if i as usize >= warmup {
            samples.push(clock.elapsed_ns(t0, t1) as f64);
        }
    }
    echo.join().expect("echo thread panicked");
    samples.sort_by(f64::total_cmp);
    Summary {
        name: "ring_round_trip",
        unit: "ns",
        median: percentile(&samples, 50.0),
        p99: percentile(&samples, 99.0),
        target: 500.0,
    }
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "null".to_string()
    }
}

fn parse_args() -> Result<Config, String> {
    let mut cfg = Config {
        runs: 7,
        items: 5_000_000,
        round_trips: 200_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |flag: &str| -> Result<u64, String> {
            let v = args.next().ok_or(format!("{flag} needs a value"))?;
            v.parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or(format!("{flag}: expected a positive integer, got {v:?}"))
        };
        match a.as_str() {
            "--runs" => cfg.runs = value("--runs")? as usize,
            "--items" => cfg.items = value("--items")?,
            "--round-trips" => cfg.round_trips = value("--round-trips")? as usize,
            "--quick" => {
                cfg.runs = 3;
                cfg.items = 200_000;
                cfg.round_trips = 10_000;
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?}\nusage: ring_bench [--runs N] [--items N] [--round-trips N] [--quick]"
                ))
            }
        }
    }
    Ok(cfg)
}

fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let clock = TscClock::new();
    let results = [
        throughput::<u64>("ring_throughput_8b", &cfg, 50e6, |i| i, |v| *v),
        throughput::<[u64; 8]>(
            "ring_throughput_64b",
            &cfg,
            20e6,
            |i| [i; 8],
            |v| v[0] ^ v[7] ^ v[3],
        ),
        round_trip(&cfg, &clock),
    ];
    let body: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{{\"name\": \"{}\", \"unit\": \"{}\", \"median\": {}, \"p99\": {}, \"target\": {}, \"baseline\": null}}",
                r.name,
                r.unit,
                json_number(r.median),
                json_number(r.p99),
                json_number(r.target)
            )
        })
        .collect();
    println!("{{\"results\": [{}]}}", body.join(", "));
}
