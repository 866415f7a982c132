//! A pipeline that trades: [`Pipeline`] -> [`QuoteTap`] -> [`OrderEntry`] -> simulated venue ->
//! execution reports -> fills published back into the pipeline as own executions, the order path
//! of the generated C++ engine without a venue session (`hft::session::OrderEntry` there).
//!
//! Open-order accounting is the C++ pipeline's: the risk gate counts each side's latest accepted
//! quote as open (a quote supersedes the previous one, `PipelineConfig::quotes_supersede`) and
//! takes fills off by instrument and side; the fills come from the venue's execution reports only.
//! The risk gate's kill switch also stops quoting: once tripped, everything resting is canceled.
//! The risk gate is not told of cancels (nor is the C++ one): a canceled side's last quote stays
//! counted as open until the side quotes again or fills, the conservative error.
#![deny(unsafe_code)]

use std::io;

use super::order_entry::{OrderEntry, OrderEntryConfig, QuoteTap};
use super::router::{OrderRouter, Request};
use crate::clock::TscClock;
use crate::trading::{
    fill_msg, FeedVerdict, KillSwitch, MarketMsg, OrderGateway, Pipeline, PipelineConfig,
    RiskLimits, Strategy,
};

/// The pipeline over strategy `S` and gateway `G`, with its order entry (see the module docs).
pub struct Trader<S, G>
where
    S: Strategy + Send + 'static,
    G: OrderGateway + Send + 'static,
{
    pipe: Pipeline<S, QuoteTap<G>>,
    orders: OrderEntry,
    kill: KillSwitch,
    /// Timestamp of the last market message: the fills' (deterministic in a replay).
    last_ts_ns: u64,
    cancel_applied: bool,
}

impl<S, G> Trader<S, G>
where
    S: Strategy + Send + 'static,
    G: OrderGateway + Send + 'static,
{
    /// Starts the pipeline (as [`Pipeline::new`]) with its order entry.
    pub fn new(
        cfg: PipelineConfig,
        limits: RiskLimits,
        strategy: S,
        gateway: G,
        splits: u8,
        clock: TscClock,
        orders: &OrderEntryConfig,
    ) -> io::Result<Self> {
        let (orders, tap) = OrderEntry::new(cfg.instruments, orders, gateway);
        let pipe = Pipeline::new(cfg, limits, strategy, tap, splits, clock)?;
        Ok(Trader {
            kill: pipe.kill_switch(),
            pipe,
            orders,
            last_ts_ns: 0,
            cancel_applied: false,
        })
    }

    /// One market message through the pipeline, then [`service`](Self::service).
    pub fn publish(&mut self, m: MarketMsg) -> FeedVerdict {
        self.publish_with(m, |_| {})
    }

    /// As [`publish`](Self::publish), `on_request` seeing each request sent to the venue.
    pub fn publish_with(&mut self, m: MarketMsg, on_request: impl FnMut(&Request)) -> FeedVerdict {
        let v = self.pipe.publish(m);
        self.last_ts_ns = self.last_ts_ns.max(m.ts_ns);
        self.service(on_request);
        v
    }

    /// Between market messages: desired quotes in, the venue's reports applied and their fills
    /// published into the pipeline, requests out. Once the kill switch trips, everything resting
    /// is canceled and no quote is taken any more, also after a re-arm (as the C++ engine: its
    /// order router stops quoting for good).
    pub fn service(&mut self, on_request: impl FnMut(&Request)) {
        let killed = self.kill.tripped();
        if killed && !self.cancel_applied {
            self.orders.cancel_all();
        }
        self.cancel_applied = killed;
        let fills = self.orders.service(!killed, on_request);
        for f in fills {
            self.pipe.publish(fill_msg(
                f.instrument,
                f.side,
                f.px_ticks,
                f.qty_lots,
                self.last_ts_ns,
            ));
        }
    }

    /// Stops trading: cancels what rests and services while orders are live (at most `rounds`
    /// services), then twice more, so the venue's last acknowledgements and fills are heard (a
    /// fill comes one service after its acknowledgement); then stops the pipeline. True when
    /// nothing is left live.
    pub fn close(&mut self, rounds: usize, mut on_request: impl FnMut(&Request)) -> bool {
        self.orders.cancel_all();
        for _ in 0..rounds {
            if self.orders.live() == 0 {
                break;
            }
            self.service(&mut on_request);
        }
        self.service(&mut on_request);
        self.service(&mut on_request);
        self.pipe.stop();
        self.orders.live() == 0
    }

    pub fn pipeline(&self) -> &Pipeline<S, QuoteTap<G>> {
        &self.pipe
    }
    pub fn pipeline_mut(&mut self) -> &mut Pipeline<S, QuoteTap<G>> {
        &mut self.pipe
    }
    /// The order managers: requests, reports, and the position and cash from the fills.
    pub fn router(&self) -> &OrderRouter {
        self.orders.router()
    }
    pub fn orders(&self) -> &OrderEntry {
        &self.orders
    }
}
