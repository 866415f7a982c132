//! Cross-language histogram test tool (FORMATS.md §2 "Cross-language test tools").
//!
//! `hist_tool gen SEED N OUT` records N pseudo-random latencies and writes the
//! serialised histogram; `hist_tool dump FILE` prints its summary as one JSON
//! line. The C++ runtime ships the same tool, and the interop test requires the
//! two `gen` outputs to be byte-identical and each `dump` to agree on the
//! other's files, which pins down both the bucket layout and the percentile
//! rule across languages.
#![deny(unsafe_code)]

use runtime_rust::histogram::LatencyHistogram;
use std::process::ExitCode;

const USAGE: &str = "usage: hist_tool gen SEED N OUT | hist_tool dump FILE";

/// splitmix64 exactly as FORMATS.md states it (wrapping arithmetic).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn parse_u64(what: &str, s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|e| format!("invalid {what} {s:?}: {e}"))
}

fn gen(seed: &str, n: &str, out: &str) -> Result<(), String> {
    let mut state = parse_u64("SEED", seed)?;
    let n = parse_u64("N", n)?;
    let mut hist = LatencyHistogram::new();
    for _ in 0..n {
        let x = splitmix64(&mut state);
        hist.record((x >> 20) % 5_000_000 + 1);
    }
    std::fs::write(out, hist.serialize()).map_err(|e| format!("cannot write {out}: {e}"))
}

fn dump(path: &str) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let h = LatencyHistogram::deserialize(&bytes).map_err(|e| format!("{path}: {e}"))?;
    println!(
        "{{\"count\":{},\"min\":{},\"max\":{},\"p50\":{},\"p90\":{},\"p99\":{},\"p999\":{}}}",
        h.count(),
        h.min(),
        h.max(),
        h.value_at_percentile(50.0),
        h.value_at_percentile(90.0),
        h.value_at_percentile(99.0),
        h.value_at_percentile(99.9)
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen", seed, n, out] => gen(seed, n, out),
        ["dump", file] => dump(file),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hist_tool: {e}");
            ExitCode::from(2)
        }
    }
}
