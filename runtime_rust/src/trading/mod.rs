//! The trading stages generated pipelines are built from, mirroring `hft::trading` in
//! `runtime_cpp`: market messages in, orders out, with the same semantics so that the C++ and
//! Rust pipelines of one schema send the same orders for the same input.
//!
//! * [`order`]: the value types crossing the stages ([`MarketMsg`], [`OrderRequest`], ...);
//! * [`feed`]: sequence checking and book building ([`SequenceChecker`], [`BookBuilder`]);
//! * [`strategy`]: what a strategy sees and writes, and the [`Strategy`] trait generated and
//!   hand-written strategies implement;
//! * [`risk`]: the pre-trade [`RiskGate`] (integer arithmetic, token bucket, kill switch);
//! * [`grid`]: exact decimal <-> tick/lot conversion and venue instrument ids;
//! * [`pipeline`]: the tick-to-trade [`Pipeline`], inline or split over SPSC rings.
//!
//! What happens to the orders a pipeline sends (order managers, venue, execution reports) is
//! [`crate::session`]'s.
//!
//! No `unsafe` here: the only unsafe code the pipeline relies on is in [`crate::ring`].
#![deny(unsafe_code)]

pub mod feed;
pub mod grid;
pub mod order;
pub mod pipeline;
pub mod risk;
pub mod strategy;

pub use feed::{
    should_apply, BookBuilder, FeedHandler, FeedStats, FeedVerdict, GapHandler, IgnoreGap,
    SequenceChecker,
};
pub use grid::{ExactDecimal, FeedDrops, Grid, InstrumentTable};
pub use order::{
    book_delta, book_reset, fill_msg, side_sign, stale_msg, touch_of, trade_msg, InstrumentId,
    MarketMsg, MsgKind, OrderRequest, Quote, Side, Touch, TradeTick, MSG_GAP_BEFORE, MSG_MORE,
    MSG_NONE, MSG_STALE,
};
pub use pipeline::{
    split_before, OrderGateway, OrderIntent, Pipeline, PipelineConfig, PipelineStats,
    SPLIT_BEFORE_BOOK, SPLIT_BEFORE_GATEWAY, SPLIT_BEFORE_RISK, SPLIT_INLINE,
};
pub use risk::{KillSwitch, RiskDecision, RiskGate, RiskLimits};
pub use strategy::{InstrumentView, MarketView, QuoteSink, Strategy, SymmetricQuoter};
