//! Replays a capture through pipeline `tick_to_trade` and its order entry, inline on this thread:
//! the quotes the risk gate accepts are desired quotes, the order managers turn them into the
//! fewest new, cancel and replace requests, and a simulated venue acknowledges them and fills a
//! share of the orders (`--fill-ratio`, default 0; `--seed`, default 1). Prints each request sent,
//! one per line (`kind instrument request_id cl_ord_id orig_cl_ord_id side px qty`, prices in
//! ticks, quantities in lots), then, once everything resting is canceled, the position and cash
//! of each instrument from the execution reports (`position instrument lots cash`) and the risk
//! gate's position and open quantity per side (`risk instrument lots open_bid open_ask`). Timestamps
//! come from the messages, so a run is deterministic (the C++ engine's order path prints the same
//! lines for the same capture).
//!
//! `cargo run --release --bin trade -- capture.bin [--fill-ratio F] [--seed N]`

#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::process::ExitCode;

use fx_mm::pipelines::tick_to_trade as pl;
use fx_mm::runtime::clock::TscClock;
use fx_mm::runtime::session::{OrderEntryConfig, Request};
use fx_mm::runtime::trading::{InstrumentId, Side, SPLIT_INLINE};

/// Services after the last message to cancel what rests and hear the venue's answers.
const CLOSE_ROUNDS: usize = 64;

const USAGE: &str =
    "usage: trade <capture> [--fill-ratio F] [--seed N]  (encoded messages laid end to end)";

/// The capture's path and the simulated venue's settings, or what is wrong with the arguments.
fn parse(args: &[String]) -> Result<(String, OrderEntryConfig), String> {
    let mut path = None;
    let mut orders = OrderEntryConfig::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--fill-ratio" => {
                let v = it.next().ok_or("--fill-ratio needs a value")?;
                orders.fill_ratio = v
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| format!("--fill-ratio {v}: not a number in [0, 1]"))?;
            }
            "--seed" => {
                let v = it.next().ok_or("--seed needs a value")?;
                orders.seed = v
                    .parse()
                    .map_err(|_| format!("--seed {v}: not an unsigned integer"))?;
            }
            _ if path.is_none() && !arg.starts_with("--") => path = Some(arg.clone()),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    Ok((path.ok_or("no capture given")?, orders))
}

/// Writes one request line; the first write error is kept and later lines are skipped.
fn print(out: &mut impl Write, error: &mut Option<io::Error>, r: &Request) {
    if error.is_some() {
        return;
    }
    let a = &r.action;
    let side = if a.side == Side::Bid { "bid" } else { "ask" };
    if let Err(e) = writeln!(
        out,
        "{} {} {} {} {} {side} {} {}",
        a.kind.name(),
        r.instrument,
        r.request_id,
        a.cl_ord_id,
        a.orig_cl_ord_id,
        a.px,
        a.qty
    ) {
        *error = Some(e);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, orders) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("trade: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let capture = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("trade: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut cfg = pl::config();
    cfg.cpu = [-1; 4];
    let gateway = pl::Gateway::<pl::Grid>::new();
    let mut trader = match pl::trader_with(
        gateway,
        TscClock::new(),
        cfg,
        pl::LIMITS,
        SPLIT_INLINE,
        &orders,
    ) {
        Ok(trader) => trader,
        Err(e) => {
            eprintln!("trade: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = io::BufWriter::new(io::stdout());
    let mut error = None;
    let mut feed = pl::FeedHandler::<_, pl::Grid>::new(|m| {
        trader.publish_with(m, |r| print(&mut out, &mut error, r));
    });
    let result = fx_mm::dispatch_all(&capture, &mut feed);
    drop(feed);
    let closed = trader.close(CLOSE_ROUNDS, |r| print(&mut out, &mut error, r));
    let router = trader.router();
    let risk = trader.pipeline().risk();
    for i in 0..router.instruments() {
        let oms = router.oms(i);
        let inst = i as InstrumentId;
        // The risk gate's view: its position (from the same fills) and what it counts as open.
        let gate = risk.map(|r| {
            (
                r.position(inst),
                r.open_qty(inst, Side::Bid),
                r.open_qty(inst, Side::Ask),
            )
        });
        let Some((position, open_bid, open_ask)) = gate else {
            continue; // not after close(): the stopped pipeline runs every stage on this thread
        };
        if error.is_none() {
            let line = writeln!(out, "position {i} {} {}", oms.position(), oms.cash())
                .and_then(|()| writeln!(out, "risk {i} {position} {open_bid} {open_ask}"));
            if let Err(e) = line {
                error = Some(e);
            }
        }
    }
    if let Some(e) = error.or(out.flush().err()) {
        eprintln!("trade: cannot write the requests: {e}");
        return ExitCode::FAILURE;
    }
    let stats = trader.pipeline().stats();
    let c = router.counters();
    eprintln!(
        "trade: {} messages published, {} quotes, {} desired; {} new, {} cancel, {} replace sent; {} fills; {} unexpected reports{}",
        stats.published,
        stats.quotes,
        c.desired,
        c.sent[0],
        c.sent[1],
        c.sent[2],
        c.reports[1],
        router.unexpected_reports(),
        if closed { "" } else { "; orders still live at the end" }
    );
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trade: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
