//! The venue of an engine with no venue session, mirroring `hft::session::SimulatedVenue` in
//! `runtime_cpp` report for report: it acknowledges every request on the next
//! [`poll`](SimulatedVenue::poll), as a venue answers after a round trip, and fills a share of the
//! orders completely at their limit price one poll later. Deterministic for a given seed (the
//! same splitmix64 draws as the C++ one, so both engines see the same fills).
#![deny(unsafe_code)]

use crate::oms::{Action, ActionKind, ExecKind, ExecReport};

/// The simulated venue (see the module docs).
pub struct SimulatedVenue {
    cut: u64,
    all: bool,
    state: u64,
    queue: Vec<ExecReport>,
    fill_pending: Vec<ExecReport>,
    fills_due: Vec<ExecReport>,
}

impl SimulatedVenue {
    /// `fill_ratio` in [0, 1]: the share of new and replaced orders filled.
    pub fn new(fill_ratio: f64, seed: u64) -> Self {
        // As the C++ venue: the ratio scaled to 2^64, truncated (saturating at the ends).
        let all = fill_ratio >= 1.0;
        let cut = if all {
            u64::MAX
        } else {
            (fill_ratio * 18_446_744_073_709_551_616.0) as u64
        };
        SimulatedVenue {
            cut,
            all,
            state: if seed == 0 {
                0x9E37_79B9_7F4A_7C15
            } else {
                seed
            },
            queue: Vec::new(),
            fill_pending: Vec::new(),
            fills_due: Vec::new(),
        }
    }

    /// One request from the router (`a.cl_ord_id` is the order's id, also for a cancel).
    pub fn send(&mut self, a: &Action) {
        match a.kind {
            ActionKind::New | ActionKind::Replace => {
                let ack = ExecReport {
                    cl_ord_id: a.cl_ord_id,
                    orig_cl_ord_id: a.orig_cl_ord_id,
                    kind: if a.kind == ActionKind::New {
                        ExecKind::New
                    } else {
                        ExecKind::Replaced
                    },
                    side: a.side,
                    last_px: 0,
                    last_qty: 0,
                };
                self.queue.push(ack);
                if self.all || self.next() < self.cut {
                    // The whole order (a replace's qty includes what filled before).
                    self.fill_pending.push(ExecReport {
                        kind: ExecKind::Fill,
                        last_px: a.px,
                        last_qty: a.qty,
                        ..ack
                    });
                }
            }
            ActionKind::Cancel => self.queue.push(ExecReport {
                cl_ord_id: a.cl_ord_id,
                orig_cl_ord_id: 0,
                kind: ExecKind::Canceled,
                side: a.side,
                last_px: 0,
                last_qty: 0,
            }),
        }
    }

    /// Delivers the acknowledgements of the requests sent since the last poll, then the fills of
    /// the orders acknowledged by the poll before (a resting order trades later): `report` each.
    pub fn poll(&mut self, mut report: impl FnMut(&ExecReport)) {
        let acks = std::mem::take(&mut self.queue);
        acks.iter().for_each(&mut report);
        let due = std::mem::replace(&mut self.fills_due, std::mem::take(&mut self.fill_pending));
        due.iter().for_each(&mut report);
        // Keep the buffers' capacity for the next round.
        self.queue = recycle(acks);
        self.fill_pending = recycle(due);
    }

    /// Reports waiting for a poll (acknowledgements and fills).
    pub fn pending(&self) -> usize {
        self.queue.len() + self.fill_pending.len() + self.fills_due.len()
    }

    fn next(&mut self) -> u64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn recycle(mut v: Vec<ExecReport>) -> Vec<ExecReport> {
    v.clear();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l2book::Side;

    fn new_order(id: u64, qty: i64) -> Action {
        Action {
            kind: ActionKind::New,
            cl_ord_id: id,
            orig_cl_ord_id: 0,
            side: Side::Ask,
            px: 100 + id as i64,
            qty,
        }
    }

    fn poll(v: &mut SimulatedVenue) -> Vec<ExecReport> {
        let mut out = Vec::new();
        v.poll(|r| out.push(*r));
        out
    }

    #[test]
    fn acks_on_the_next_poll_and_fills_one_poll_later() {
        let mut v = SimulatedVenue::new(1.0, 3);
        v.send(&new_order(1, 2));
        let first = poll(&mut v);
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].kind, first[0].cl_ord_id), (ExecKind::New, 1));
        v.send(&Action {
            kind: ActionKind::Cancel,
            ..new_order(1, 2)
        });
        let second = poll(&mut v);
        assert_eq!(
            second.iter().map(|r| r.kind).collect::<Vec<_>>(),
            [ExecKind::Canceled, ExecKind::Fill]
        );
        assert_eq!((second[1].last_px, second[1].last_qty), (101, 2));
        assert!(poll(&mut v).is_empty());
        assert_eq!(v.pending(), 0);
    }

    #[test]
    fn the_fill_ratio_is_a_share_of_orders_and_zero_fills_nothing() {
        let fills = |ratio: f64| {
            let mut v = SimulatedVenue::new(ratio, 42);
            for id in 1..=2000 {
                v.send(&new_order(id, 1));
            }
            poll(&mut v);
            poll(&mut v).len()
        };
        assert_eq!(fills(0.0), 0);
        assert_eq!(fills(1.0), 2000);
        let half = fills(0.5);
        assert!((900..1100).contains(&half), "{half}");
    }

    #[test]
    fn draws_are_splitmix64() {
        // splitmix64 from state 0: the first output is 0xE220A8397B1DCDAF (the reference value).
        let mut v = SimulatedVenue::new(0.0, 1);
        v.state = 0;
        assert_eq!(v.next(), 0xE220_A839_7B1D_CDAF);
    }
}
