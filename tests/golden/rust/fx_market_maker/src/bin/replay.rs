//! Replays a capture through pipeline `tick_to_trade`, inline on this thread, and prints every order
//! the gateway `gateway` encodes, one per line in hex: what the pipeline would have
//! sent for that market data. The capture holds encoded messages laid end to end; messages the
//! feed handler has no role for are skipped. Timestamps come from the messages, so a replay is
//! deterministic (the C++ pipeline prints the same bytes for the same capture).
//!
//! `cargo run --release --bin replay -- capture.bin`

#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::process::ExitCode;

use fx_mm::pipelines::tick_to_trade as pl;
use fx_mm::runtime::clock::TscClock;
use fx_mm::runtime::trading::{OrderGateway, OrderRequest, SPLIT_INLINE};

/// The generated gateway, printing each order it encodes.
struct Printer<W: Write> {
    gateway: pl::Gateway<pl::Grid>,
    out: W,
    error: Option<io::Error>,
}

impl<W: Write + Send> OrderGateway for Printer<W> {
    fn encode(&mut self, o: &OrderRequest) {
        if !self.gateway.encode_order(o) || self.error.is_some() {
            return;
        }
        let hex: String = self
            .gateway
            .last_encoded()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if let Err(e) = writeln!(self.out, "{hex}") {
            self.error = Some(e);
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, path] = args.as_slice() else {
        eprintln!("usage: replay <capture>  (encoded messages laid end to end)");
        return ExitCode::from(2);
    };
    let capture = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("replay: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let printer = Printer {
        gateway: pl::Gateway::new(),
        out: io::BufWriter::new(io::stdout()),
        error: None,
    };
    let mut cfg = pl::config();
    cfg.cpu = [-1; 4];
    let mut pipe = match pl::make_with(printer, TscClock::new(), cfg, pl::LIMITS, SPLIT_INLINE) {
        Ok(pipe) => pipe,
        Err(e) => {
            eprintln!("replay: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut feed = pl::FeedHandler::<_, pl::Grid>::new(|m| {
        pipe.publish(m);
    });
    let result = fx_mm::dispatch_all(&capture, &mut feed);
    let drops = *feed.drops();
    drop(feed);
    pipe.stop();
    let stats = pipe.stats();
    let Some(printer) = pipe.gateway_mut() else {
        return ExitCode::FAILURE;
    };
    let flushed = printer.out.flush();
    if let Some(e) = printer.error.take().or(flushed.err()) {
        eprintln!("replay: cannot write the orders: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "replay: {} messages published, {} dropped by sequence, {} dropped by the handler, {} orders sent",
        stats.published,
        stats.dropped,
        drops.unknown_instrument + drops.bad_side + drops.off_grid,
        stats.orders_sent
    );
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replay: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
