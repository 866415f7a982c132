//! Tick-to-trade pipeline: feed -> book -> strategy -> risk -> gateway, with the stage order,
//! thread-splitting rule and lifecycle of `hft::trading::Pipeline`.
//!
//! Every stage is a direct call on a concrete type (the strategy and gateway are type
//! parameters), so an all-inline pipeline compiles into one function the optimiser can see
//! through. Where a split bit is set, the upstream side pushes into an SPSC ring
//! ([`crate::ring`]) and a dedicated, optionally pinned, spin-then-yield thread runs the
//! downstream stages. The C++ pipeline makes the split a template parameter; here it is a value
//! chosen at construction, and each boundary costs one well-predicted branch per message.
//!
//! Thread-splitting rule (schema `pipelines.<name>.threads`):
//! * The feed runs on the caller's thread, whoever calls [`Pipeline::publish`]; a `cpu` for the
//!   feed stage pins that thread via [`Pipeline::bind_ingress`].
//! * The book always runs on the strategy's thread, because the strategy reads the book and a
//!   book is never shared between threads: a thread on the book or on the strategy is the same
//!   boundary, [`SPLIT_BEFORE_BOOK`]. A thread on the risk gate gives [`SPLIT_BEFORE_RISK`], on
//!   the order gateway [`SPLIT_BEFORE_GATEWAY`]. Orders crossing these rings carry the touch the
//!   strategy saw, so risk never reads a book.
//!
//! Ownership: a stage running on a worker thread is owned by that thread, so it can only be
//! inspected after [`Pipeline::stop`], which stops the workers in pipeline order, each after
//! draining its input ring (every published message is fully processed), and hands the stages
//! back. Inline stages can be inspected at any time. The kill switch works from any thread.
#![deny(unsafe_code)]

use std::io;
use std::mem;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use super::feed::{
    should_apply, BookBuilder, FeedStats, FeedVerdict, GapHandler, IgnoreGap, SequenceChecker,
};
use super::order::{MarketMsg, MsgKind, OrderRequest, Side, Touch};
use super::risk::{KillSwitch, RiskDecision, RiskGate, RiskLimits};
use super::strategy::{QuoteSink, Strategy};
use crate::affinity::{pin_current_thread, SpinWait};
use crate::clock::TscClock;
use crate::histogram::LatencyHistogram;
use crate::ring::{channel, Producer};

/// Everything on the caller's thread.
pub const SPLIT_INLINE: u8 = 0;
/// feed | book + strategy (+ following inline stages).
pub const SPLIT_BEFORE_BOOK: u8 = 1;
/// ... strategy | risk ...
pub const SPLIT_BEFORE_RISK: u8 = 2;
/// ... risk | gateway.
pub const SPLIT_BEFORE_GATEWAY: u8 = 4;

/// Boundary implied by a `threads` entry on a stage of schema kind `kind` (0 for the feed, which
/// always runs on the caller's thread, and for unknown kinds).
pub fn split_before(kind: &str) -> u8 {
    match kind {
        "order_book" | "strategy" => SPLIT_BEFORE_BOOK,
        "risk_gate" => SPLIT_BEFORE_RISK,
        "order_gateway" => SPLIT_BEFORE_GATEWAY,
        _ => SPLIT_INLINE,
    }
}

/// The order gateway stage: encodes (and in production, sends) an accepted order. Like a
/// strategy, `encode` runs on the hot path and should neither allocate nor block.
pub trait OrderGateway {
    fn encode(&mut self, order: &OrderRequest);

    /// Encodes `order` and says whether it could be (false: not representable on the wire, so
    /// never sent). The default encodes and says yes; a gateway that can refuse overrides it.
    fn encode_accepted(&mut self, order: &OrderRequest) -> bool {
        self.encode(order);
        true
    }
}

/// Sizes, queue capacity and CPUs of a pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipelineConfig {
    pub instruments: usize,
    pub book_depth_ticks: usize,
    /// Per ring, a power of two >= 2.
    pub queue_capacity: usize,
    /// CPU per thread in pipeline order: `[0]` the ingress (feed) thread, then one entry per set
    /// split bit from low to high. -1 = do not pin.
    pub cpu: [i32; 4],
    /// How the risk gate counts the strategy's quotes as open exposure. true: a quote is the
    /// desired order for its instrument and side, and a new quote supersedes the previous one (an
    /// order manager downstream turns desired quotes into new/cancel/replace requests, so one
    /// order per side rests); the previous quote stops counting when the next one is checked, and
    /// a rejected quote leaves that side with none. false: every quote is a new order that stays
    /// open until fills take it off (a gateway that sends each quote as a new order, no cancels).
    pub quotes_supersede: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            instruments: 1,
            book_depth_ticks: 64,
            queue_capacity: 4096,
            cpu: [-1; 4],
            quotes_supersede: true,
        }
    }
}

/// Counters. Each is written by one thread only; complete once the pipeline is stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Messages accepted by publish (ingress thread).
    pub published: u64,
    /// Duplicates and unknown instruments (ingress thread).
    pub dropped: u64,
    /// Strategy invocations (book/strategy thread).
    pub strategy_calls: u64,
    /// Orders the strategy asked for (book/strategy thread).
    pub quotes: u64,
    /// Orders handed to the gateway (gateway thread).
    pub orders_sent: u64,
    /// Failed pushes because the ring at each boundary (book, risk, gateway) was full.
    pub ring_full: [u64; 3],
}

/// What crosses the strategy -> risk and risk -> gateway rings: an order with the touch it was
/// priced against and the ingress timestamp, or a fill the risk gate must account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderIntent {
    pub order: OrderRequest,
    pub touch: Touch,
    pub rx_tsc: u64,
    pub is_fill: bool,
}

impl Default for OrderIntent {
    fn default() -> Self {
        OrderIntent {
            order: OrderRequest {
                client_order_id: 0,
                instrument: 0,
                side: Side::Bid,
                px_ticks: 0,
                qty_lots: 0,
                ts_ns: 0,
            },
            touch: Touch::default(),
            rx_tsc: 0,
            is_fill: false,
        }
    }
}

// ---- stages -------------------------------------------------------------------------------

/// A stage consuming items of type `X`, owning the stages after it.
trait Stage<X>: Send + 'static {
    fn on(&mut self, x: &X);
    /// Stops the threaded stages downstream of this one, in order.
    fn stop_downstream(&mut self);
}

struct GatewayStage<G> {
    gateway: G,
    clock: TscClock,
    latency: LatencyHistogram,
    orders_sent: u64,
}

impl<G: OrderGateway + Send + 'static> Stage<OrderIntent> for GatewayStage<G> {
    #[inline]
    fn on(&mut self, x: &OrderIntent) {
        self.gateway.encode(&x.order);
        // Cores' TSCs can disagree by a few ticks; never record a wrapped negative interval.
        let now = self.clock.now_ticks();
        self.latency
            .record(self.clock.ticks_to_ns(now.saturating_sub(x.rx_tsc)));
        self.orders_sent += 1;
    }
    fn stop_downstream(&mut self) {}
}

struct RiskStage<G> {
    risk: RiskGate,
    /// Per instrument, the live (bid, ask) quote ids when quotes supersede each other; 0 = none.
    quote_ids: Option<Vec<[u64; 2]>>,
    next: Link<OrderIntent, GatewayStage<G>>,
}

impl<G: OrderGateway + Send + 'static> Stage<OrderIntent> for RiskStage<G> {
    #[inline]
    fn on(&mut self, x: &OrderIntent) {
        if x.is_fill {
            self.risk
                .on_fill(x.order.instrument, x.order.side, x.order.qty_lots);
            return;
        }
        // The quote this one supersedes stops counting first, so a requote of the same size is
        // judged on its own, not on top of the one it replaces.
        let side = usize::from(x.order.side == Side::Ask);
        let slot = self
            .quote_ids
            .as_mut()
            .and_then(|ids| ids.get_mut(x.order.instrument as usize))
            .map(|ids| &mut ids[side]);
        if let Some(id) = slot {
            if *id != 0 {
                self.risk.on_cancel(*id);
            }
            *id = 0;
        }
        if self.risk.check(&x.order, &x.touch, x.order.ts_ns) == RiskDecision::Accept {
            if let Some(ids) = self.quote_ids.as_mut() {
                if let Some(q) = ids.get_mut(x.order.instrument as usize) {
                    q[side] = x.order.client_order_id;
                }
            }
            self.next.send(*x);
        }
    }
    fn stop_downstream(&mut self) {
        self.next.stop();
    }
}

struct BookStage<S, G> {
    books: BookBuilder,
    strategy: S,
    sink: QuoteSink,
    next_order_id: u64,
    strategy_calls: u64,
    quotes: u64,
    next: Link<OrderIntent, RiskStage<G>>,
}

impl<S: Strategy + Send + 'static, G: OrderGateway + Send + 'static> Stage<MarketMsg>
    for BookStage<S, G>
{
    #[inline]
    fn on(&mut self, m: &MarketMsg) {
        let notify = self.books.apply(m);
        if m.kind == MsgKind::Fill {
            self.next.send(OrderIntent {
                order: OrderRequest {
                    client_order_id: 0,
                    instrument: m.instrument,
                    side: m.side,
                    px_ticks: m.px_ticks,
                    qty_lots: m.qty_lots,
                    ts_ns: m.ts_ns,
                },
                touch: Touch::default(),
                rx_tsc: m.rx_tsc,
                is_fill: true,
            });
        }
        if !notify {
            return;
        }
        self.sink.clear();
        self.strategy.on_market(&self.books.view(m), &mut self.sink);
        self.strategy_calls += 1;
        let n = self.books.instruments().len();
        for q in self.sink.quotes() {
            let touch = if (q.instrument as usize) < n {
                super::order::touch_of(self.books.book(q.instrument))
            } else {
                Touch::default()
            };
            self.quotes += 1;
            self.next_order_id += 1;
            self.next.send(OrderIntent {
                order: OrderRequest {
                    client_order_id: self.next_order_id,
                    instrument: q.instrument,
                    side: q.side,
                    px_ticks: q.px_ticks,
                    qty_lots: q.qty_lots,
                    ts_ns: m.ts_ns,
                },
                touch,
                rx_tsc: m.rx_tsc,
                is_fill: false,
            });
        }
    }
    fn stop_downstream(&mut self) {
        self.next.stop();
    }
}

// ---- links between stages -----------------------------------------------------------------

enum Worker<T> {
    Running(JoinHandle<T>),
    Done(T),
    /// The worker panicked; its stage is gone.
    Lost,
}

struct Ring<X: Copy + Send, T> {
    tx: Producer<X>,
    full: u64,
    stop: Arc<AtomicBool>,
    worker: Worker<T>,
}

impl<X: Copy + Send, T> Ring<X, T> {
    /// Stops the worker after it has drained the ring and takes its stage back.
    fn join(&mut self) {
        if !matches!(self.worker, Worker::Running(_)) {
            return;
        }
        if let Worker::Running(handle) = mem::replace(&mut self.worker, Worker::Lost) {
            self.stop.store(true, Ordering::Release);
            if let Ok(stage) = handle.join() {
                self.worker = Worker::Done(stage);
            }
        }
    }
}

impl<X: Copy + Send, T> Drop for Ring<X, T> {
    fn drop(&mut self) {
        self.join();
    }
}

/// The way from one stage to the next: a direct call, or a ring to another thread.
enum Link<X: Copy + Send, T> {
    Inline(T),
    Ring(Ring<X, T>),
}

impl<X: Copy + Send + Default + 'static, T: Stage<X>> Link<X, T> {
    /// Runs `stage` on a new thread (pinned to `cpu` when >= 0) fed by a ring.
    fn spawn(
        stage: T,
        capacity: usize,
        cpu: i32,
        pin_errors: &Arc<AtomicU32>,
        name: &str,
    ) -> io::Result<Self> {
        let (tx, mut rx) = channel::<X>(capacity);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_seen = Arc::clone(&stop);
        let pin_errors = Arc::clone(pin_errors);
        let mut stage = stage;
        let handle = thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                if let Ok(cpu) = usize::try_from(cpu) {
                    if pin_current_thread(cpu).is_err() {
                        pin_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // Batch pops, spin-then-yield when idle. Once the stop flag is seen the ring is
                // drained one last time: the producer finished before the flag was set (stop order),
                // so that drain sees everything it pushed.
                let mut buf = [X::default(); 32];
                let mut wait = SpinWait::new();
                loop {
                    let n = rx.pop_slice(&mut buf);
                    if n != 0 {
                        buf[..n].iter().for_each(|x| stage.on(x));
                        wait.reset();
                        continue;
                    }
                    if stop_seen.load(Ordering::Acquire) {
                        loop {
                            let n = rx.pop_slice(&mut buf);
                            if n == 0 {
                                return stage;
                            }
                            buf[..n].iter().for_each(|x| stage.on(x));
                        }
                    }
                    wait.spin();
                }
            })?;
        Ok(Link::Ring(Ring {
            tx,
            full: 0,
            stop,
            worker: Worker::Running(handle),
        }))
    }

    /// Hands `x` to the next stage. Backpressure: a full ring means the consumer is behind;
    /// wait for it rather than drop an order or a book update. After `stop` the stage is back on
    /// this thread and runs inline; if its thread died (a panicking stage), `x` is dropped.
    #[inline]
    fn send(&mut self, x: X) {
        match self {
            Link::Inline(stage) => stage.on(&x),
            Link::Ring(ring) => {
                let mut wait = SpinWait::new();
                loop {
                    match &mut ring.worker {
                        Worker::Running(handle) => {
                            if ring.tx.try_push(x).is_ok() {
                                return;
                            }
                            ring.full += 1;
                            if wait.is_yielding() && handle.is_finished() {
                                return; // the consumer panicked: nobody will pop again
                            }
                            wait.spin();
                        }
                        Worker::Done(stage) => return stage.on(&x),
                        Worker::Lost => return,
                    }
                }
            }
        }
    }

    fn stop(&mut self) {
        match self {
            Link::Inline(stage) => stage.stop_downstream(),
            Link::Ring(ring) => {
                ring.join();
                if let Worker::Done(stage) = &mut ring.worker {
                    stage.stop_downstream();
                }
            }
        }
    }

    fn get(&self) -> Option<&T> {
        match self {
            Link::Inline(stage)
            | Link::Ring(Ring {
                worker: Worker::Done(stage),
                ..
            }) => Some(stage),
            _ => None,
        }
    }

    fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Link::Inline(stage)
            | Link::Ring(Ring {
                worker: Worker::Done(stage),
                ..
            }) => Some(stage),
            _ => None,
        }
    }

    fn full(&self) -> u64 {
        match self {
            Link::Inline(_) => 0,
            Link::Ring(ring) => ring.full,
        }
    }
}

// ---- the pipeline -------------------------------------------------------------------------

/// The tick-to-trade pipeline over strategy `S` and gateway `G` (see the module docs).
pub struct Pipeline<S, G, H: GapHandler = IgnoreGap>
where
    S: Strategy + Send + 'static,
    G: OrderGateway + Send + 'static,
{
    cfg: PipelineConfig,
    splits: u8,
    seq: SequenceChecker<H>,
    clock: TscClock,
    published: u64,
    dropped: u64,
    next: Link<MarketMsg, BookStage<S, G>>,
    kill: KillSwitch,
    pin_errors: Arc<AtomicU32>,
}

impl<S, G> Pipeline<S, G, IgnoreGap>
where
    S: Strategy + Send + 'static,
    G: OrderGateway + Send + 'static,
{
    /// Builds the stages and starts the worker threads `splits` asks for (an `|` of the
    /// `SPLIT_*` bits). Errors only when a thread cannot be started; threads already started
    /// are stopped first.
    pub fn new(
        cfg: PipelineConfig,
        limits: RiskLimits,
        strategy: S,
        gateway: G,
        splits: u8,
        clock: TscClock,
    ) -> io::Result<Self> {
        Self::with_gap_handler(cfg, limits, strategy, gateway, splits, clock, IgnoreGap)
    }
}

impl<S, G, H> Pipeline<S, G, H>
where
    S: Strategy + Send + 'static,
    G: OrderGateway + Send + 'static,
    H: GapHandler,
{
    /// As [`Pipeline::new`], calling `on_gap` on the ingress thread on every sequence gap.
    pub fn with_gap_handler(
        cfg: PipelineConfig,
        limits: RiskLimits,
        strategy: S,
        gateway: G,
        splits: u8,
        clock: TscClock,
        on_gap: H,
    ) -> io::Result<Self> {
        if splits & !7 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown split bits {splits:#x}"),
            ));
        }
        if cfg.queue_capacity < 2 || !cfg.queue_capacity.is_power_of_two() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "queue capacity {} is not a power of two >= 2",
                    cfg.queue_capacity
                ),
            ));
        }
        let pin_errors = Arc::new(AtomicU32::new(0));
        // CPU of the worker behind split bit `bit`: the workers are numbered from low bits up.
        let cpu_of = |bit: u8| cfg.cpu[1 + (splits & (bit - 1)).count_ones() as usize];
        let gateway = GatewayStage {
            gateway,
            clock,
            latency: LatencyHistogram::new(),
            orders_sent: 0,
        };
        // Workers are started downstream first, so every stage a thread feeds already runs;
        // if one cannot start, dropping the links built so far stops the ones already running.
        let to_gateway = if splits & SPLIT_BEFORE_GATEWAY != 0 {
            Link::spawn(
                gateway,
                cfg.queue_capacity,
                cpu_of(SPLIT_BEFORE_GATEWAY),
                &pin_errors,
                "hft-gateway",
            )?
        } else {
            Link::Inline(gateway)
        };
        let risk = RiskGate::new(limits, cfg.instruments);
        let kill = risk.kill_switch();
        let risk = RiskStage {
            risk,
            quote_ids: cfg
                .quotes_supersede
                .then(|| vec![[0; 2]; cfg.instruments.max(1)]),
            next: to_gateway,
        };
        let to_risk = if splits & SPLIT_BEFORE_RISK != 0 {
            Link::spawn(
                risk,
                cfg.queue_capacity,
                cpu_of(SPLIT_BEFORE_RISK),
                &pin_errors,
                "hft-risk",
            )?
        } else {
            Link::Inline(risk)
        };
        let book = BookStage {
            books: BookBuilder::new(cfg.instruments, cfg.book_depth_ticks),
            strategy,
            sink: QuoteSink::default(),
            next_order_id: 0,
            strategy_calls: 0,
            quotes: 0,
            next: to_risk,
        };
        let next = if splits & SPLIT_BEFORE_BOOK != 0 {
            Link::spawn(
                book,
                cfg.queue_capacity,
                cpu_of(SPLIT_BEFORE_BOOK),
                &pin_errors,
                "hft-book",
            )?
        } else {
            Link::Inline(book)
        };
        Ok(Pipeline {
            cfg,
            splits,
            seq: SequenceChecker::with_gap_handler(cfg.instruments, on_gap),
            clock,
            published: 0,
            dropped: 0,
            next,
            kill,
            pin_errors,
        })
    }

    /// Pins the calling (ingress) thread to `cfg.cpu[0]`, if set.
    pub fn bind_ingress(&self) -> io::Result<()> {
        match usize::try_from(self.cfg.cpu[0]) {
            Ok(cpu) => pin_current_thread(cpu),
            Err(_) => Ok(()),
        }
    }

    /// Feeds one decoded message in (ingress thread). Returns the sequence verdict; with no split
    /// the whole tick-to-order path has run when this returns. Spins while the first ring is
    /// full. After [`stop`](Self::stop) every stage runs inline on the caller's thread.
    #[inline]
    pub fn publish(&mut self, mut m: MarketMsg) -> FeedVerdict {
        m.rx_tsc = self.clock.now_ticks();
        let v = self.seq.check(&mut m);
        if !should_apply(v) {
            self.dropped += 1;
            return v;
        }
        self.published += 1;
        self.next.send(m);
        v
    }

    /// Stops the workers in pipeline order, each after it has drained its ring, and takes their
    /// stages back for inspection. Call after the last publish. Idempotent.
    pub fn stop(&mut self) {
        self.next.stop();
    }

    /// The split bits this pipeline runs with.
    pub fn splits(&self) -> u8 {
        self.splits
    }
    pub fn config(&self) -> &PipelineConfig {
        &self.cfg
    }
    /// Trips or resets the risk gate's kill switch from any thread, at any time.
    pub fn kill_switch(&self) -> KillSwitch {
        self.kill.clone()
    }
    pub fn feed_stats(&self) -> &FeedStats {
        self.seq.stats()
    }

    // Stage inspection: `None` while the stage runs on a worker thread (before stop).

    fn book_stage(&self) -> Option<&BookStage<S, G>> {
        self.next.get()
    }
    fn risk_stage(&self) -> Option<&RiskStage<G>> {
        self.book_stage()?.next.get()
    }
    fn gateway_stage(&self) -> Option<&GatewayStage<G>> {
        self.risk_stage()?.next.get()
    }

    pub fn books(&self) -> Option<&BookBuilder> {
        self.book_stage().map(|b| &b.books)
    }
    pub fn strategy(&self) -> Option<&S> {
        self.book_stage().map(|b| &b.strategy)
    }
    pub fn strategy_mut(&mut self) -> Option<&mut S> {
        self.next.get_mut().map(|b| &mut b.strategy)
    }
    pub fn risk(&self) -> Option<&RiskGate> {
        self.risk_stage().map(|r| &r.risk)
    }
    pub fn gateway(&self) -> Option<&G> {
        self.gateway_stage().map(|g| &g.gateway)
    }
    pub fn gateway_mut(&mut self) -> Option<&mut G> {
        let risk = self.next.get_mut()?.next.get_mut()?;
        risk.next.get_mut().map(|g| &mut g.gateway)
    }
    /// Tick-to-order latency in ns, ingress (publish) to the gateway's `encode` returning, per
    /// order sent.
    pub fn latency(&self) -> Option<&LatencyHistogram> {
        self.gateway_stage().map(|g| &g.latency)
    }
    /// Quotes refused because the strategy's sink was full.
    pub fn quote_overflow(&self) -> Option<u64> {
        self.book_stage().map(|b| b.sink.overflow())
    }
    /// Worker threads that could not be pinned to their configured CPU.
    pub fn pin_errors(&self) -> u32 {
        self.pin_errors.load(Ordering::Relaxed)
    }

    /// Counters of every stage that can be inspected now (all of them after stop).
    pub fn stats(&self) -> PipelineStats {
        let mut s = PipelineStats {
            published: self.published,
            dropped: self.dropped,
            ring_full: [self.next.full(), 0, 0],
            ..PipelineStats::default()
        };
        if let Some(b) = self.book_stage() {
            s.strategy_calls = b.strategy_calls;
            s.quotes = b.quotes;
            s.ring_full[1] = b.next.full();
        }
        if let Some(r) = self.risk_stage() {
            s.ring_full[2] = r.next.full();
        }
        if let Some(g) = self.gateway_stage() {
            s.orders_sent = g.orders_sent;
        }
        s
    }
}

impl<S, G, H> Drop for Pipeline<S, G, H>
where
    S: Strategy + Send + 'static,
    G: OrderGateway + Send + 'static,
    H: GapHandler,
{
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::super::order::{book_delta, book_reset, fill_msg, MSG_MORE};
    use super::super::strategy::SymmetricQuoter;
    use super::*;
    use crate::clock::ClockSource;
    use std::time::Duration;

    /// Records every order it is given.
    #[derive(Default)]
    struct Recorder(Vec<OrderRequest>);

    impl OrderGateway for Recorder {
        fn encode(&mut self, o: &OrderRequest) {
            self.0.push(*o);
        }
    }

    const LIMITS: RiskLimits = RiskLimits {
        max_position: 100,
        max_order_qty: 10,
        max_orders_per_second: 1_000_000,
        price_band_bps: 500,
        max_notional: 0,
        kill_switch: true,
        max_open_notional: 0,
        max_open_orders: RiskLimits::DEFAULT_MAX_OPEN_ORDERS,
    };

    fn clock() -> TscClock {
        TscClock::with_source(ClockSource::Monotonic, Duration::ZERO)
    }

    fn quoter() -> SymmetricQuoter {
        SymmetricQuoter {
            offset_ticks: 1,
            qty_lots: 2,
            max_position: 50,
            ..SymmetricQuoter::default()
        }
    }

    /// A book that moves: both sides, then the touch steps up a few times, a fill and a reset.
    fn script() -> Vec<MarketMsg> {
        let mut v = vec![
            book_delta(0, Side::Bid, 1000, 5, 1, 10),
            book_delta(0, Side::Ask, 1002, 5, 2, 20),
        ];
        for k in 0..200 {
            let s = 3 + 2 * k;
            v.push(book_delta(0, Side::Bid, 1001 + k as i64, 5, s, 30 + s));
            v.push(book_delta(0, Side::Ask, 1003 + k as i64, 5, s + 1, 31 + s));
        }
        v.push(fill_msg(0, Side::Bid, 1100, 3, 5000));
        v.push(book_reset(0, 1000, 6000));
        let mut more = book_delta(0, Side::Bid, 900, 1, 0, 6001);
        more.flags = MSG_MORE;
        v.push(more);
        v.push(book_delta(0, Side::Ask, 905, 1, 0, 6002));
        v.push(book_delta(0, Side::Ask, 905, 1, 1001, 6003));
        v.push(book_delta(0, Side::Ask, 905, 1, 1001, 6004)); // duplicate
        v
    }

    fn run(splits: u8) -> (Vec<OrderRequest>, PipelineStats, i64) {
        run_with(LIMITS, splits, true)
    }

    fn run_with(
        limits: RiskLimits,
        splits: u8,
        quotes_supersede: bool,
    ) -> (Vec<OrderRequest>, PipelineStats, i64) {
        let cfg = PipelineConfig {
            queue_capacity: 8,
            quotes_supersede,
            ..PipelineConfig::default()
        };
        let mut p =
            Pipeline::new(cfg, limits, quoter(), Recorder::default(), splits, clock()).unwrap();
        for m in script() {
            p.publish(m);
        }
        p.stop();
        let orders = p.gateway().unwrap().0.clone();
        assert_eq!(p.latency().unwrap().count(), orders.len() as u64);
        (orders, p.stats(), p.risk().unwrap().position(0))
    }

    #[test]
    fn inline_pipeline_runs_every_stage() {
        let (orders, stats, position) = run(SPLIT_INLINE);
        assert!(orders.len() > 100);
        assert_eq!(orders[0].client_order_id, 1);
        assert_eq!(
            (
                orders[0].side,
                orders[0].px_ticks,
                orders[0].qty_lots,
                orders[0].ts_ns
            ),
            (Side::Bid, 999, 2, 20)
        );
        assert_eq!((orders[1].side, orders[1].px_ticks), (Side::Ask, 1003));
        assert_eq!(stats.dropped, 1);
        assert_eq!(stats.orders_sent, orders.len() as u64);
        assert_eq!(position, 3, "the fill reaches the risk gate");
        // The snapshot runs the strategy once, after its last level.
        let last = orders.last().unwrap();
        assert_eq!(last.ts_ns, 6002);
    }

    #[test]
    fn open_orders_bound_exposure() {
        // 2-lot quotes sent as new orders that are never canceled: a 20-lot limit lets 10 buys
        // and 10 sells out, then only the fill (3 lots bought) makes room on the short side.
        let limits = RiskLimits {
            max_position: 20,
            ..LIMITS
        };
        let (orders, _, position) = run_with(limits, SPLIT_INLINE, false);
        let lots = |side| {
            orders
                .iter()
                .filter(|o| o.side == side)
                .map(|o| o.qty_lots)
                .sum::<i64>()
        };
        assert_eq!(position, 3);
        assert_eq!(lots(Side::Bid), 20);
        assert!(lots(Side::Ask) <= 20 + 3, "asks {}", lots(Side::Ask));
        // Superseding quotes: only the latest quote per side counts, so quoting goes on.
        let (orders, _, _) = run_with(limits, SPLIT_INLINE, true);
        assert!(orders.len() > 100);
    }

    #[test]
    fn every_split_sends_the_same_orders() {
        let (expected, stats, _) = run(SPLIT_INLINE);
        for splits in 1..8u8 {
            let (orders, s, position) = run(splits);
            assert_eq!(orders, expected, "splits {splits}");
            assert_eq!(
                (s.published, s.quotes, s.orders_sent),
                (stats.published, stats.quotes, stats.orders_sent)
            );
            assert_eq!(position, 3);
        }
    }

    #[test]
    fn stages_on_threads_are_inspectable_after_stop_only() {
        let mut p = Pipeline::new(
            PipelineConfig::default(),
            LIMITS,
            quoter(),
            Recorder::default(),
            SPLIT_BEFORE_RISK,
            clock(),
        )
        .unwrap();
        assert!(p.strategy().is_some() && p.risk().is_none() && p.gateway().is_none());
        p.stop();
        p.stop();
        assert!(p.risk().is_some() && p.gateway_mut().is_some());
    }

    #[test]
    fn after_stop_every_stage_runs_inline() {
        let all = SPLIT_BEFORE_BOOK | SPLIT_BEFORE_RISK | SPLIT_BEFORE_GATEWAY;
        let cfg = PipelineConfig {
            queue_capacity: 2,
            ..PipelineConfig::default()
        };
        let mut p =
            Pipeline::new(cfg, LIMITS, quoter(), Recorder::default(), all, clock()).unwrap();
        p.stop();
        for m in script() {
            p.publish(m);
        }
        assert_eq!(p.gateway().unwrap().0, run(SPLIT_INLINE).0);
    }

    /// Panics on its first market event.
    struct Boom;

    impl Strategy for Boom {
        fn on_market(&mut self, _: &super::super::strategy::MarketView<'_>, _: &mut QuoteSink) {
            panic!("strategy failure");
        }
    }

    #[test]
    fn a_panicking_stage_does_not_hang_the_producer() {
        let cfg = PipelineConfig {
            queue_capacity: 2,
            ..PipelineConfig::default()
        };
        let mut p = Pipeline::new(
            cfg,
            LIMITS,
            Boom,
            Recorder::default(),
            SPLIT_BEFORE_BOOK,
            clock(),
        )
        .unwrap();
        for m in script() {
            p.publish(m);
        }
        p.stop();
        assert!(p.strategy().is_none(), "the stage is lost with its thread");
        assert_eq!(p.stats().published, script().len() as u64 - 1);
    }

    #[test]
    fn kill_switch_blocks_orders_from_another_thread() {
        let mut p = Pipeline::new(
            PipelineConfig::default(),
            LIMITS,
            quoter(),
            Recorder::default(),
            SPLIT_BEFORE_RISK,
            clock(),
        )
        .unwrap();
        let kill = p.kill_switch();
        std::thread::spawn(move || kill.trip()).join().unwrap();
        for m in script() {
            p.publish(m);
        }
        p.stop();
        assert!(p.gateway().unwrap().0.is_empty());
        assert!(p.risk().unwrap().count(RiskDecision::KillSwitch) > 0);
    }

    #[test]
    fn bad_configuration_is_an_error() {
        let cfg = PipelineConfig {
            queue_capacity: 3,
            ..PipelineConfig::default()
        };
        assert!(Pipeline::new(
            cfg,
            LIMITS,
            quoter(),
            Recorder::default(),
            SPLIT_BEFORE_BOOK,
            clock()
        )
        .is_err());
        assert!(Pipeline::new(
            PipelineConfig::default(),
            LIMITS,
            quoter(),
            Recorder::default(),
            8,
            clock()
        )
        .is_err());
        assert_eq!(split_before("strategy"), SPLIT_BEFORE_BOOK);
        assert_eq!(split_before("order_gateway"), SPLIT_BEFORE_GATEWAY);
        assert_eq!(split_before("feed_handler"), SPLIT_INLINE);
    }
}
