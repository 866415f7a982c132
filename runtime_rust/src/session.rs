//! What happens to the orders a pipeline sends, mirroring `hft::session` in `runtime_cpp`: the
//! quotes the risk gate accepts are desired quotes, routed per instrument through the order
//! managers of [`crate::oms`] into the fewest new, cancel and replace requests, answered by a
//! venue whose execution reports alone move the position, cash and PnL.
//!
//! * [`router`]: [`OrderRouter`], one [`crate::oms::OrderManager`] per instrument, client order
//!   ids carrying the instrument, cancel requests with ids of their own, suspend and reconcile;
//! * [`sim`]: [`SimulatedVenue`], the in-process venue (acknowledgements, seeded fills);
//! * [`order_entry`]: [`OrderEntry`], the router and the simulated venue behind a pipeline, fed by
//!   its gateway stage ([`QuoteTap`]) through an SPSC ring;
//! * [`trader`]: [`Trader`], a [`crate::trading::Pipeline`] with its order entry, the fills
//!   published back into it as own executions.
//!
//! Layering: `session` builds on [`crate::oms`] and [`crate::trading`]; neither uses it.
#![deny(unsafe_code)]

pub mod order_entry;
pub mod router;
pub mod sim;
pub mod trader;

pub use order_entry::{OrderEntry, OrderEntryConfig, QuoteTap};
pub use router::{OrderRouter, Request, RoutedFill, RouterCounters};
pub use sim::SimulatedVenue;
pub use trader::Trader;
