//! metrics_tool: the Rust runtime's metrics from the command line, for monitoring tests and
//! cross-language checks against `runtime_cpp`.
//!
//! ```text
//! metrics_tool serve [--port P] [--bind ADDR] [--shm NAME] [--pipeline NAME]
//!                    [--events N] [--rate-hz R] [--latency-ns L] [--duration-s S]
//! metrics_tool dump NAME
//! ```
//!
//! `serve` plays an engine: it registers the metric contract of the prometheus target
//! (tick-to-order histogram, messages, orders, rejects, position and PnL for EURUSD) labelled
//! `pipeline`, and records events: each one is 3 messages, 1 order with a latency of
//! L-20+(i mod 41) ns, a reject every 50th, a position step of +-1 and PnL = i/4. With
//! `--events N` it records exactly N events at once and then holds the values still (for
//! byte-exact comparisons), otherwise R events per second. Metrics are served over HTTP on P
//! (0 = a free port, printed as `port=P`) with the process metrics, and/or published in the
//! shared-memory object NAME (printed as `shm=NAME`). Runs for S seconds (0 = until SIGINT or
//! SIGTERM), then removes the object and exits 0.
//!
//! `dump` attaches to a metric region written by either runtime and prints its Prometheus text.
//! Errors exit 1 (2 for usage) with a message on stderr.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use runtime_rust::metrics::{Counter, Exporter, Gauge, Histogram, Registry};
use runtime_rust::shm_metrics::{ShmMetrics, ShmMetricsReader};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: i32) {
    STOP.store(true, Ordering::Relaxed);
}

mod sys {
    pub const SIGINT: i32 = 2;
    pub const SIGTERM: i32 = 15;
    unsafe extern "C" {
        pub fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    }
}

fn install_signal_handlers() {
    for sig in [sys::SIGINT, sys::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { sys::signal(sig, on_signal) };
    }
}

const USAGE: &str = "usage: metrics_tool serve [--port P] [--bind ADDR] [--shm NAME] \
[--pipeline NAME] [--events N] [--rate-hz R] [--latency-ns L] [--duration-s S]\n       \
metrics_tool dump NAME";

struct Serve {
    port: Option<u16>,
    bind: String,
    shm: Option<String>,
    pipeline: String,
    events: Option<u64>,
    rate_hz: f64,
    latency_ns: u64,
    duration_s: f64,
}

fn parse_serve(args: &[String]) -> Result<Serve, String> {
    let mut o = Serve {
        port: None,
        bind: "0.0.0.0".into(),
        shm: None,
        pipeline: "demo".into(),
        events: None,
        rate_hz: 1000.0,
        latency_ns: 200,
        duration_s: 0.0,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: bad value {value:?}");
        match flag.as_str() {
            "--port" => o.port = Some(value.parse().map_err(|_| bad())?),
            "--bind" => o.bind = value.clone(),
            "--shm" => o.shm = Some(value.clone()),
            "--pipeline" => o.pipeline = value.clone(),
            "--events" => o.events = Some(value.parse().map_err(|_| bad())?),
            "--rate-hz" => o.rate_hz = value.parse().map_err(|_| bad())?,
            "--latency-ns" => o.latency_ns = value.parse().map_err(|_| bad())?,
            "--duration-s" => o.duration_s = value.parse().map_err(|_| bad())?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    let positive = o.rate_hz.is_finite() && o.rate_hz > 0.0;
    let duration_ok = o.duration_s.is_finite() && o.duration_s >= 0.0;
    if !positive || !duration_ok || o.latency_ns < 20 {
        return Err("--rate-hz must be > 0, --duration-s >= 0, --latency-ns >= 20".into());
    }
    Ok(o)
}

struct Engine {
    latency: Histogram,
    messages: Counter,
    orders: Counter,
    rejects: Counter,
    position: Gauge,
    pnl: Gauge,
    latency_ns: u64,
}

impl Engine {
    fn register(reg: &Registry, pipeline: &str, latency_ns: u64) -> Result<Engine, String> {
        let p = [("pipeline", pipeline)];
        let pi = [("pipeline", pipeline), ("instrument", "EURUSD")];
        let e = |e: runtime_rust::metrics::MetricsError| e.to_string();
        Ok(Engine {
            latency: reg
                .histogram(
                    "hftc_tick_to_order_latency_ns",
                    "Tick-to-order latency, ns.",
                    &p,
                )
                .map_err(e)?,
            messages: reg
                .counter("hftc_messages_total", "Market-data messages decoded.", &p)
                .map_err(e)?,
            orders: reg
                .counter("hftc_orders_total", "Orders sent.", &p)
                .map_err(e)?,
            rejects: reg
                .counter("hftc_orders_rejected_total", "Orders rejected.", &p)
                .map_err(e)?,
            position: reg
                .gauge("hftc_position", "Signed position, lots.", &pi)
                .map_err(e)?,
            pnl: reg.gauge("hftc_pnl", "PnL.", &pi).map_err(e)?,
            latency_ns,
        })
    }

    /// Event `i` (see the module docs; the C++ cross-check replays the same sequence).
    fn event(&self, i: u64) {
        self.messages.inc(3);
        self.orders.inc(1);
        if i.is_multiple_of(50) {
            self.rejects.inc(1);
        }
        self.latency.record(self.latency_ns - 20 + i % 41);
        self.position
            .add(if i.is_multiple_of(2) { 1.0 } else { -1.0 });
        self.pnl.set(i as f64 / 4.0);
    }
}

fn serve(o: Serve) -> Result<(), String> {
    install_signal_handlers();
    let shm = match &o.shm {
        Some(name) => Some(
            ShmMetrics::create(name, 16).map_err(|e| format!("cannot create shm {name}: {e}"))?,
        ),
        None => None,
    };
    let registry = match &shm {
        Some(s) => Arc::clone(s.registry()),
        None => Arc::new(Registry::with_capacity(16)),
    };
    let engine = Engine::register(&registry, &o.pipeline, o.latency_ns)?;
    let http = match o.port {
        Some(port) => {
            let addr = format!("{}:{port}", o.bind);
            let http = Exporter::start(Arc::clone(&registry), &addr)
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            println!("port={}", http.local_addr().port());
            Some(http)
        }
        None => None,
    };
    if let Some(name) = &o.shm {
        println!("shm={name}");
    }
    if let Some(n) = o.events {
        (0..n).for_each(|i| engine.event(i));
    }
    let start = Instant::now();
    let mut done = 0u64;
    while !STOP.load(Ordering::Relaxed) {
        let elapsed = start.elapsed().as_secs_f64();
        if o.duration_s > 0.0 && elapsed >= o.duration_s {
            break;
        }
        if o.events.is_none() {
            let due = (elapsed * o.rate_hz) as u64;
            while done < due {
                engine.event(done);
                done += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(http);
    drop(shm); // unlinks the object
    Ok(())
}

fn dump(name: &str) -> Result<(), String> {
    let reader = ShmMetricsReader::attach(name).map_err(|e| format!("cannot read {name}: {e}"))?;
    print!("{}", reader.expose());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => match parse_serve(&args[1..]) {
            Ok(o) => serve(o),
            Err(why) => {
                eprintln!("error: {why}\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        Some("dump") if args.len() == 2 => dump(&args[1]),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::from(1)
        }
    }
}
