//! Cross-language shared-memory ring test tool (`runtime_cpp/FORMATS.md` §1).
//!
//! ```text
//! shm_tool produce NAME COUNT [CAPACITY]
//! shm_tool consume NAME COUNT [CAPACITY]
//! ```
//!
//! Items are 64 bytes: 8 little-endian u64 words, word `k` of item `s` being
//! `s * 8 + k`. `CAPACITY` defaults to 1024. `produce` creates the ring, pushes
//! COUNT items (spinning while full), waits up to 30 s for the consumer to pop
//! them all and exits 0. `consume` retries attaching for up to 10 s, verifies
//! every word, prints `ok COUNT` and exits 0, or prints the first mismatch and
//! exits 1. Usage errors exit 2.

#![deny(unsafe_code)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use runtime_rust::affinity::{wait_until, SpinWait};
use runtime_rust::shm::{ShmConsumer, ShmProducer};

const ITEM_SIZE: usize = 64;
const WORDS: usize = ITEM_SIZE / 8;
const DEFAULT_CAPACITY: u64 = 1024;
const ATTACH_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Give up when the other side makes no progress for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

const USAGE: &str =
    "usage: shm_tool produce NAME COUNT [CAPACITY]\n       shm_tool consume NAME COUNT [CAPACITY]";

fn fill(item: &mut [u8; ITEM_SIZE], seq: u64) {
    for (k, chunk) in item.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&(seq.wrapping_mul(8).wrapping_add(k as u64)).to_le_bytes());
    }
}

fn produce(name: &str, count: u64, capacity: u64) -> Result<String, String> {
    let mut ring = ShmProducer::create(name, ITEM_SIZE, capacity)
        .map_err(|e| format!("produce: cannot create {name:?}: {e}"))?;
    let mut item = [0u8; ITEM_SIZE];
    let mut wait = SpinWait::new();
    let mut stalled_since: Option<Instant> = None;
    for seq in 0..count {
        fill(&mut item, seq);
        while !ring.push(&item) {
            if wait.is_yielding()
                && stalled_since.get_or_insert_with(Instant::now).elapsed() > STALL_TIMEOUT
            {
                return Err(format!(
                    "produce: ring full for {STALL_TIMEOUT:?} at item {seq} (consumer popped {})",
                    ring.consumed()
                ));
            }
            wait.spin();
        }
        stalled_since = None;
        wait.reset();
    }
    if !wait_until(|| ring.consumed() >= count, DRAIN_TIMEOUT) {
        return Err(format!(
            "produce: consumer popped {} of {count} items within {DRAIN_TIMEOUT:?}",
            ring.consumed()
        ));
    }
    Ok(format!("produced {count}"))
}

fn consume(name: &str, count: u64, capacity: u64) -> Result<String, String> {
    let mut ring = ShmConsumer::attach_with_retry(name, ITEM_SIZE, capacity, ATTACH_TIMEOUT)
        .map_err(|e| format!("consume: cannot attach {name:?}: {e}"))?;
    let mut item = [0u8; ITEM_SIZE];
    let mut wait = SpinWait::new();
    let mut stalled_since: Option<Instant> = None;
    for seq in 0..count {
        while !ring.pop(&mut item) {
            if wait.is_yielding()
                && stalled_since.get_or_insert_with(Instant::now).elapsed() > STALL_TIMEOUT
            {
                return Err(format!(
                    "consume: no item for {STALL_TIMEOUT:?} after {seq} of {count}"
                ));
            }
            wait.spin();
        }
        stalled_since = None;
        wait.reset();
        for k in 0..WORDS {
            let found = u64::from_le_bytes(item[k * 8..k * 8 + 8].try_into().expect("8 bytes"));
            let expected = seq.wrapping_mul(8).wrapping_add(k as u64);
            if found != expected {
                return Err(format!(
                    "mismatch at item {seq} word {k}: expected {expected}, found {found}"
                ));
            }
        }
    }
    Ok(format!("ok {count}"))
}

fn parse_u64(what: &str, s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|_| format!("invalid {what} {s:?}\n{USAGE}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !(3..=4).contains(&args.len()) {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let parsed = parse_u64("COUNT", &args[2]).and_then(|count| {
        let cap = match args.get(3) {
            Some(c) => parse_u64("CAPACITY", c)?,
            None => DEFAULT_CAPACITY,
        };
        Ok((count, cap))
    });
    let (count, capacity) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = match args[0].as_str() {
        "produce" => produce(&args[1], count, capacity),
        "consume" => consume(&args[1], count, capacity),
        other => {
            eprintln!("unknown command {other:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            println!("{msg}");
            ExitCode::FAILURE
        }
    }
}
