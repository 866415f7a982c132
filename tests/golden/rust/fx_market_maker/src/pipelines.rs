//! Pipelines of `fx.mm` over `runtime_rust::trading::Pipeline`: per pipeline, its
//! strategy adapter, risk limits, thread splits and configuration.
//!
//! The feed runs on the thread calling `publish` (pin it with `bind_ingress`); the book runs on
//! the strategy's thread; see `runtime_rust::trading::pipeline` for the thread-splitting rule.
//!
//! Orders: `make` gives the pipeline alone (every quote the risk gate accepts reaches the
//! gateway). `trader` gives the pipeline with its order entry, the order path of the generated
//! C++ engine: the accepted quotes are desired quotes, and per instrument an order manager
//! (`runtime_rust::oms`) turns them into the fewest new, cancel and replace requests against what
//! rests and what is in flight, sent to a simulated venue whose execution reports alone move the
//! position, cash and PnL (see `runtime_rust::session`).

#![forbid(unsafe_code)]

/// Pipeline `tick_to_trade`. Market data to order on two pinned threads.
///
/// Stages, in order:
/// * `feed` (feed_handler)
/// * `book` (order_book)
/// * `quoter` (strategy)
/// * `risk` (risk_gate)
/// * `gateway` (order_gateway)
///
/// Threads: feed on CPU 2, quoter on CPU 3.
///
/// ```no_run
/// use fx_mm::pipelines::tick_to_trade as pl;
/// use fx_mm::runtime::clock::TscClock;
///
/// let gateway = pl::Gateway::<pl::Grid>::new();
/// let mut pipe = pl::make(gateway, TscClock::new()).expect("threads start");
/// let mut feed = pl::FeedHandler::<_, pl::Grid>::new(|m| {
///     pipe.publish(m);
/// });
/// let datagram: &[u8] = &[];
/// let _ = fx_mm::dispatch_all(datagram, &mut feed);
/// drop(feed);
/// pipe.stop();
/// ```
///
/// Trading through the order managers and the simulated venue, a tenth of the orders filled:
///
/// ```no_run
/// use fx_mm::pipelines::tick_to_trade as pl;
/// use fx_mm::runtime::clock::TscClock;
/// use fx_mm::runtime::session::OrderEntryConfig;
///
/// let orders = OrderEntryConfig { fill_ratio: 0.1, ..OrderEntryConfig::default() };
/// let gateway = pl::Gateway::<pl::Grid>::new();
/// let mut trader = pl::trader(gateway, TscClock::new(), &orders).expect("threads start");
/// let mut feed = pl::FeedHandler::<_, pl::Grid>::new(|m| {
///     trader.publish(m);
/// });
/// let datagram: &[u8] = &[];
/// let _ = fx_mm::dispatch_all(datagram, &mut feed);
/// drop(feed);
/// trader.close(64, |_| {});
/// println!("position {}", trader.router().oms(0).position());
/// ```
pub mod tick_to_trade {
    use std::io;

    use runtime_rust::clock::TscClock;
    use runtime_rust::session::{self, OrderEntryConfig};
    use runtime_rust::trading::{self, OrderGateway, PipelineConfig, RiskLimits};

    pub use crate::components::{BookGrid as Grid, FeedHandler, Gateway};

    /// The strategy stage: the adapter of strategy `mm`.
    pub type Strategy = crate::strategies::mm::Adapter;

    /// Thread boundaries from `threads`.
    pub const SPLITS: u8 = trading::SPLIT_BEFORE_BOOK;

    /// Risk limits of `risk`.
    pub const LIMITS: RiskLimits = crate::components::RISK_LIMITS;

    /// The pipeline over any gateway (the generated one by default).
    pub type Pipeline<G = Gateway<Grid>> = trading::Pipeline<Strategy, G>;

    /// The pipeline with its order entry (order managers and the simulated venue).
    pub type Trader<G = Gateway<Grid>> = session::Trader<Strategy, G>;

    /// Instruments, book depth, queue capacity and CPUs (ingress, then one per thread).
    pub fn config() -> PipelineConfig {
        PipelineConfig {
            instruments: 1,
            book_depth_ticks: <Grid as trading::Grid>::DEPTH_TICKS,
            queue_capacity: 4096,
            cpu: [2, 3, -1, -1],
            // The strategy's quotes are desired quotes: each supersedes the last at the risk gate.
            quotes_supersede: true,
        }
    }

    /// Starts the pipeline as the schema describes it; `stop()` it once publishing has ended.
    pub fn make<G: OrderGateway + Send + 'static>(
        gateway: G,
        clock: TscClock,
    ) -> io::Result<Pipeline<G>> {
        make_with(gateway, clock, config(), LIMITS, SPLITS)
    }

    /// Starts the pipeline with another configuration, limits or split.
    pub fn make_with<G: OrderGateway + Send + 'static>(
        gateway: G,
        clock: TscClock,
        cfg: PipelineConfig,
        limits: RiskLimits,
        splits: u8,
    ) -> io::Result<Pipeline<G>> {
        Pipeline::new(cfg, limits, Strategy::default(), gateway, splits, clock)
    }

    /// Starts the pipeline as the schema describes it, trading through its order entry; `close()`
    /// it once publishing has ended.
    pub fn trader<G: OrderGateway + Send + 'static>(
        gateway: G,
        clock: TscClock,
        orders: &OrderEntryConfig,
    ) -> io::Result<Trader<G>> {
        trader_with(gateway, clock, config(), LIMITS, SPLITS, orders)
    }

    /// Starts the trading pipeline with another configuration, limits or split.
    pub fn trader_with<G: OrderGateway + Send + 'static>(
        gateway: G,
        clock: TscClock,
        cfg: PipelineConfig,
        limits: RiskLimits,
        splits: u8,
        orders: &OrderEntryConfig,
    ) -> io::Result<Trader<G>> {
        Trader::new(
            cfg,
            limits,
            Strategy::default(),
            gateway,
            splits,
            clock,
            orders,
        )
    }
}
