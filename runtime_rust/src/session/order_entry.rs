//! Order entry behind a pipeline, mirroring `hft::session::OrderEntry` in `runtime_cpp` for its
//! simulated venue: the quotes the risk gate accepts are the strategy's desired quotes, not
//! orders. The gateway stage hands each one it could encode, through an SPSC ring ([`QuoteTap`]),
//! to the [`OrderEntry`] on the ingress thread, where an [`OrderRouter`] (one
//! [`crate::oms::OrderManager`] per instrument) turns them into the fewest new, cancel and
//! replace requests against what rests and what is in flight. The requests go to the in-process
//! [`SimulatedVenue`]; its execution reports come back into the router, and their fills are the
//! only thing that moves the position, cash and PnL (the order managers', and the pipeline's once
//! the caller publishes them as own executions).
#![deny(unsafe_code)]

use super::router::{OrderRouter, Request, RoutedFill};
use super::sim::SimulatedVenue;
use crate::oms::OmsConfig;
use crate::ring::{channel, Consumer, Producer};
use crate::trading::{OrderGateway, OrderRequest};

/// Capacity of the ring of desired quotes, as the C++ engine's.
pub const DESIRED_CAPACITY: usize = 4096;

/// Settings of the order entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderEntryConfig {
    pub oms: OmsConfig,
    /// Where client order ids start counting (below 2^48; see [`OrderRouter::new`]).
    pub first_id: u64,
    /// Simulated venue: the share of new and replaced orders filled, in [0, 1].
    pub fill_ratio: f64,
    /// Simulated venue: the seed of its fill draws.
    pub seed: u64,
}

impl Default for OrderEntryConfig {
    fn default() -> Self {
        OrderEntryConfig {
            oms: OmsConfig::default(),
            first_id: 1,
            fill_ratio: 0.0,
            seed: 1,
        }
    }
}

/// The gateway stage of a trading pipeline: encodes each accepted quote with the inner gateway
/// `G` and, when it could be encoded, hands it to the [`OrderEntry`] as a desired quote. A full
/// ring loses the quote; the side's next quote replaces it anyway.
pub struct QuoteTap<G> {
    gateway: G,
    desired: Producer<OrderRequest>,
    lost: u64,
}

impl<G> QuoteTap<G> {
    pub fn gateway(&self) -> &G {
        &self.gateway
    }
    pub fn gateway_mut(&mut self) -> &mut G {
        &mut self.gateway
    }
    /// Desired quotes lost because the ring was full.
    pub fn lost(&self) -> u64 {
        self.lost
    }
}

impl<G: OrderGateway> OrderGateway for QuoteTap<G> {
    #[inline]
    fn encode(&mut self, order: &OrderRequest) {
        self.encode_accepted(order);
    }

    #[inline]
    fn encode_accepted(&mut self, order: &OrderRequest) -> bool {
        if !self.gateway.encode_accepted(order) {
            return false;
        }
        if self.desired.try_push(*order).is_err() {
            self.lost += 1;
        }
        true
    }
}

/// The desired quotes in, requests out to the simulated venue, execution reports back (see the
/// module docs). Runs on one thread, the one that publishes market data.
pub struct OrderEntry {
    router: OrderRouter,
    venue: SimulatedVenue,
    desired: Consumer<OrderRequest>,
    fills: Vec<RoutedFill>,
}

impl OrderEntry {
    /// The order entry of `instruments` instruments, and the gateway stage feeding it (the
    /// pipeline's gateway `gateway`, wrapped).
    pub fn new<G>(instruments: usize, cfg: &OrderEntryConfig, gateway: G) -> (Self, QuoteTap<G>) {
        let (tx, rx) = channel(DESIRED_CAPACITY);
        let entry = OrderEntry {
            router: OrderRouter::new(instruments, cfg.oms, cfg.first_id),
            venue: SimulatedVenue::new(cfg.fill_ratio, cfg.seed),
            desired: rx,
            fills: Vec::new(),
        };
        let tap = QuoteTap {
            gateway,
            desired: tx,
            lost: 0,
        };
        (entry, tap)
    }

    /// Everything due now, in the C++ engine's order: the desired quotes taken (ignored unless
    /// `quoting`), the venue's reports applied, then the requests that move the resting orders
    /// toward the desired quotes sent (`on_request` sees each). Returns the fills the reports
    /// carried, for the caller to publish into the pipeline as own executions.
    pub fn service(
        &mut self,
        quoting: bool,
        mut on_request: impl FnMut(&Request),
    ) -> &[RoutedFill] {
        while let Some(o) = self.desired.try_pop() {
            if quoting {
                self.router.want(&o);
            }
        }
        self.fills.clear();
        let (router, fills) = (&mut self.router, &mut self.fills);
        self.venue.poll(|r| fills.extend(router.on_report(r)));
        let venue = &mut self.venue;
        self.router.pump(|req| {
            on_request(req);
            venue.send(&req.action);
        });
        &self.fills
    }

    /// Stops quoting for good: what rests or is in flight is canceled by the next services.
    pub fn cancel_all(&mut self) {
        self.router.cancel_all();
    }

    /// Orders resting or in flight.
    pub fn live(&self) -> usize {
        self.router.live()
    }
    /// Reports the venue still owes.
    pub fn pending_reports(&self) -> usize {
        self.venue.pending()
    }
    pub fn router(&self) -> &OrderRouter {
        &self.router
    }
}
