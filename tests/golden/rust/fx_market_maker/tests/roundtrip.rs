//! Round trips of every message of `fx.mm` with seeded random values: group counts
//! 0, 1 and many, nested groups, var-data, truncation at every length, acting versions.

#![forbid(unsafe_code)]

use fx_mm::owned::{self, OwnedMessage};
use fx_mm::types::{ExecType, OrderFlags, OrderStatus, Price, Qty, Side, TimeInForce};

/// splitmix64: small, seeded, reproducible.
struct Rng(u64);

// A schema without chars, optional fields or some other kind of field leaves helpers unused.
#[allow(dead_code)]
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn chars<const N: usize>(&mut self) -> [u8; N] {
        let len = self.below(N as u64 + 1) as usize;
        let mut out = [0u8; N];
        for c in out.iter_mut().take(len) {
            *c = b'a' + self.below(26) as u8;
        }
        out
    }

    /// Entries of a group: 0, 1 or 3 by shape (0 empty, 1 one, 2 many, 3 mixed).
    fn count(&mut self, shape: u8) -> usize {
        match shape {
            0 => 0,
            1 => 1,
            2 => 3,
            _ => self.below(4) as usize,
        }
    }

    fn bytes(&mut self, shape: u8) -> Vec<u8> {
        let len = match shape {
            0 => 0,
            1 => 1,
            _ => self.below(40) as usize,
        };
        (0..len).map(|_| b'a' + self.below(26) as u8).collect()
    }

    fn opt<T: PartialEq>(&mut self, value: T, null: T) -> Option<T> {
        if self.below(4) == 0 || value == null {
            None
        } else {
            Some(value)
        }
    }
}

/// Encodes, decodes, re-encodes; checks truncation, small buffers and acting versions.
fn check<M: OwnedMessage + PartialEq + core::fmt::Debug + Clone>(
    x: &M,
    at_version: impl Fn(&mut M, u16),
    versions: &[u16],
) {
    let mut buf = vec![0u8; 1 << 16];
    let n = x.encode(&mut buf, 0).expect("encode");
    let bytes = buf[..n].to_vec();
    let y = M::decode(&bytes, 0).expect("decode");
    assert_eq!(&y, x);
    let mut again = vec![0u8; n];
    assert_eq!(y.encode(&mut again, 0), Ok(n));
    assert_eq!(again, bytes);
    // Dispatch agrees on the length; messages laid end to end all dispatch.
    struct Ignore;
    impl fx_mm::Handler for Ignore {}
    assert_eq!(fx_mm::dispatch(&bytes, 0, &mut Ignore), Ok(n));
    let twice = [bytes.clone(), bytes.clone()].concat();
    assert_eq!(fx_mm::dispatch_all(&twice, &mut Ignore), Ok(2));
    // Every truncation is an error, never a panic; so is every short buffer when encoding.
    for len in 0..n {
        assert!(
            M::decode(&bytes[..len], 0).is_err(),
            "decoded {len} of {n} bytes"
        );
        assert!(fx_mm::dispatch(&bytes[..len], 0, &mut Ignore).is_err());
        let mut small = vec![0u8; len];
        assert!(
            x.encode(&mut small, 0).is_err(),
            "encoded into {len} of {n} bytes"
        );
    }
    // Any one byte changed (lengths and counts included): an error or a message, never a panic.
    for i in 0..n {
        for v in [0x00, 0x01, 0x7f, 0xff] {
            let mut bad = bytes.clone();
            bad[i] = v;
            let _ = M::decode(&bad, 0);
            let _ = fx_mm::dispatch(&bad, 0, &mut Ignore);
        }
    }
    // A newer writer: a longer block (unknown trailing fields) and a higher version.
    let block_length = usize::from(u16::from_le_bytes([bytes[0], bytes[1]]));
    let mut newer = bytes[..8 + block_length].to_vec();
    newer.extend_from_slice(&[0xab; 3]);
    newer.extend_from_slice(&bytes[8 + block_length..]);
    newer[..2].copy_from_slice(&(block_length as u16 + 3).to_le_bytes());
    newer[6..8].copy_from_slice(&(fx_mm::SCHEMA_VERSION + 1).to_le_bytes());
    assert_eq!(M::decode(&newer, 0).expect("newer"), y);
    // An older writer: fields newer than its version read as null (messages whose groups and
    // var-data all date from version 0; the cross-language vectors cover the others).
    for &version in versions {
        let mut old = bytes.clone();
        old[6..8].copy_from_slice(&version.to_le_bytes());
        let mut expected = x.clone();
        at_version(&mut expected, version);
        assert_eq!(
            M::decode(&old, 0).expect("old"),
            expected,
            "acting version {version}"
        );
    }
}

fn random_book_delta(rng: &mut Rng, _shape: u8) -> owned::BookDelta {
    owned::BookDelta {
        instrument: rng.next_u64() as u32,
        seq: rng.next_u64(),
        ts_exchange: rng.next_u64(),
        side: Side::from_raw(if rng.below(5) == 0 {
            rng.next_u64() as u8
        } else {
            [1u8, 2][rng.below(2) as usize]
        }),
        price: Price::from_mantissa(rng.next_u64() as i64),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
        order_count: {
            let v = rng.next_u64() as u16;
            rng.opt(v, u16::MAX)
        },
    }
}

fn at_version_book_delta(x: &mut owned::BookDelta, version: u16) {
    if version < 2 {
        x.order_count = None;
    }
}

#[test]
fn book_delta_round_trips() {
    let mut rng = Rng(24302);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_book_delta(&mut rng, shape);
        check(&x, at_version_book_delta, &[0, 1]);
    }
}

#[test]
fn book_delta_old_block_lengths() {
    let mut rng = Rng(45325);
    for trial in 0..16u32 {
        let x = random_book_delta(&mut rng, (trial % 4) as u8);
        let mut buf = vec![0u8; 1 << 16];
        let n = x.encode(&mut buf, 0).expect("encode");
        const OLD: &[(u16, usize)] = &[(1, 37)];
        for &(version, block) in OLD {
            let mut old = buf[..8].to_vec();
            old[..2].copy_from_slice(&(block as u16).to_le_bytes());
            old[6..8].copy_from_slice(&version.to_le_bytes());
            old.extend_from_slice(&buf[8..8 + block]);
            old.extend_from_slice(&buf[8 + 39..n]);
            let mut expected = x.clone();
            at_version_book_delta(&mut expected, version);
            assert_eq!(
                owned::BookDelta::decode(&old, 0).expect("old block"),
                expected
            );
            if block > 0 {
                old[..2].copy_from_slice(&(block as u16 - 1).to_le_bytes());
                assert!(owned::BookDelta::decode(&old, 0).is_err());
            }
        }
    }
}

fn random_trade(rng: &mut Rng, _shape: u8) -> owned::Trade {
    owned::Trade {
        instrument: rng.next_u64() as u32,
        seq: rng.next_u64(),
        ts_exchange: rng.next_u64(),
        aggressor: Side::from_raw(if rng.below(5) == 0 {
            rng.next_u64() as u8
        } else {
            [1u8, 2][rng.below(2) as usize]
        }),
        price: Price::from_mantissa(rng.next_u64() as i64),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
    }
}

fn at_version_trade(_x: &mut owned::Trade, _version: u16) {}

#[test]
fn trade_round_trips() {
    let mut rng = Rng(24303);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_trade(&mut rng, shape);
        check(&x, at_version_trade, &[0]);
    }
}

fn random_snapshot(rng: &mut Rng, shape: u8) -> owned::Snapshot {
    owned::Snapshot {
        instrument: rng.next_u64() as u32,
        seq: rng.next_u64(),
        levels: (0..rng.count(shape))
            .map(|_| random_snapshot_levels(rng, shape))
            .collect(),
        venue_note: rng.bytes(shape),
    }
}

fn at_version_snapshot(x: &mut owned::Snapshot, version: u16) {
    for e in &mut x.levels {
        at_version_snapshot_levels(e, version);
    }
}

fn random_snapshot_levels(rng: &mut Rng, shape: u8) -> owned::SnapshotLevels {
    owned::SnapshotLevels {
        side: Side::from_raw(if rng.below(5) == 0 {
            rng.next_u64() as u8
        } else {
            [1u8, 2][rng.below(2) as usize]
        }),
        price: Price::from_mantissa(rng.next_u64() as i64),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
        orders: (0..rng.count(shape))
            .map(|_| random_snapshot_levels_orders(rng, shape))
            .collect(),
    }
}

fn at_version_snapshot_levels(x: &mut owned::SnapshotLevels, version: u16) {
    for e in &mut x.orders {
        at_version_snapshot_levels_orders(e, version);
    }
}

fn random_snapshot_levels_orders(rng: &mut Rng, _shape: u8) -> owned::SnapshotLevelsOrders {
    owned::SnapshotLevelsOrders {
        order_id: rng.next_u64(),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
    }
}

fn at_version_snapshot_levels_orders(_x: &mut owned::SnapshotLevelsOrders, _version: u16) {}

#[test]
fn snapshot_round_trips() {
    let mut rng = Rng(24304);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_snapshot(&mut rng, shape);
        check(&x, at_version_snapshot, &[0]);
    }
}

fn random_new_order(rng: &mut Rng, _shape: u8) -> owned::NewOrder {
    owned::NewOrder {
        client_order_id: rng.next_u64(),
        instrument: rng.next_u64() as u32,
        symbol: rng.chars::<12>(),
        side: Side::from_raw(if rng.below(5) == 0 {
            rng.next_u64() as u8
        } else {
            [1u8, 2][rng.below(2) as usize]
        }),
        price: Price::from_mantissa(rng.next_u64() as i64),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
        flags: OrderFlags::from_bits(rng.next_u64() as u8),
        tif: TimeInForce::from_raw(if rng.below(5) == 0 {
            rng.next_u64() as u8
        } else {
            [0u8, 1, 2, 3][rng.below(4) as usize]
        }),
        ts_sent: rng.next_u64(),
    }
}

fn at_version_new_order(_x: &mut owned::NewOrder, _version: u16) {}

#[test]
fn new_order_round_trips() {
    let mut rng = Rng(24311);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_new_order(&mut rng, shape);
        check(&x, at_version_new_order, &[0]);
    }
}

fn random_execution_report(rng: &mut Rng, shape: u8) -> owned::ExecutionReport {
    owned::ExecutionReport {
        client_order_id: rng.next_u64(),
        orig_client_order_id: rng.next_u64(),
        exec_id: rng.next_u64(),
        exec_type: ExecType::from_raw(if rng.below(5) == 0 {
            rng.next_u64() as u8
        } else {
            [0u8, 1, 2, 3, 4, 5][rng.below(6) as usize]
        }),
        order_status: OrderStatus::from_raw(if rng.below(5) == 0 {
            rng.next_u64() as u8
        } else {
            [0u8, 1, 2, 3, 4, 5][rng.below(6) as usize]
        }),
        side: Side::from_raw(if rng.below(5) == 0 {
            rng.next_u64() as u8
        } else {
            [1u8, 2][rng.below(2) as usize]
        }),
        last_price: Price::from_mantissa(rng.next_u64() as i64),
        last_qty: Qty::from_mantissa(rng.next_u64() as i64),
        leaves_qty: Qty::from_mantissa(rng.next_u64() as i64),
        cum_qty: Qty::from_mantissa(rng.next_u64() as i64),
        seq: rng.next_u64(),
        ts_exchange: rng.next_u64(),
        reject_reason: rng.bytes(shape),
    }
}

fn at_version_execution_report(_x: &mut owned::ExecutionReport, _version: u16) {}

#[test]
fn execution_report_round_trips() {
    let mut rng = Rng(24312);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_execution_report(&mut rng, shape);
        check(&x, at_version_execution_report, &[0]);
    }
}

fn random_cancel_order(rng: &mut Rng, _shape: u8) -> owned::CancelOrder {
    owned::CancelOrder {
        client_order_id: rng.next_u64(),
        orig_client_order_id: rng.next_u64(),
        instrument: rng.next_u64() as u32,
        side: Side::from_raw(if rng.below(5) == 0 {
            rng.next_u64() as u8
        } else {
            [1u8, 2][rng.below(2) as usize]
        }),
        seq: rng.next_u64(),
        ts_sent: rng.next_u64(),
    }
}

fn at_version_cancel_order(_x: &mut owned::CancelOrder, _version: u16) {}

#[test]
fn cancel_order_round_trips() {
    let mut rng = Rng(24313);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_cancel_order(&mut rng, shape);
        check(&x, at_version_cancel_order, &[0]);
    }
}

fn random_replace_order(rng: &mut Rng, _shape: u8) -> owned::ReplaceOrder {
    owned::ReplaceOrder {
        client_order_id: rng.next_u64(),
        orig_client_order_id: rng.next_u64(),
        instrument: rng.next_u64() as u32,
        side: Side::from_raw(if rng.below(5) == 0 {
            rng.next_u64() as u8
        } else {
            [1u8, 2][rng.below(2) as usize]
        }),
        price: Price::from_mantissa(rng.next_u64() as i64),
        qty: Qty::from_mantissa(rng.next_u64() as i64),
        seq: rng.next_u64(),
        ts_sent: rng.next_u64(),
    }
}

fn at_version_replace_order(_x: &mut owned::ReplaceOrder, _version: u16) {}

#[test]
fn replace_order_round_trips() {
    let mut rng = Rng(24314);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_replace_order(&mut rng, shape);
        check(&x, at_version_replace_order, &[0]);
    }
}

fn random_order_reject(rng: &mut Rng, _shape: u8) -> owned::OrderReject {
    owned::OrderReject {
        client_order_id: rng.next_u64(),
        reject_code: rng.next_u64() as u16,
        seq: rng.next_u64(),
        ts_exchange: rng.next_u64(),
    }
}

fn at_version_order_reject(_x: &mut owned::OrderReject, _version: u16) {}

#[test]
fn order_reject_round_trips() {
    let mut rng = Rng(24315);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_order_reject(&mut rng, shape);
        check(&x, at_version_order_reject, &[0]);
    }
}

fn random_logon(rng: &mut Rng, _shape: u8) -> owned::Logon {
    owned::Logon {
        seq: rng.next_u64(),
        heartbeat_ms: rng.next_u64() as u32,
        api_key: rng.chars::<64>(),
        ts_sent: rng.next_u64(),
    }
}

fn at_version_logon(_x: &mut owned::Logon, _version: u16) {}

#[test]
fn logon_round_trips() {
    let mut rng = Rng(24321);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_logon(&mut rng, shape);
        check(&x, at_version_logon, &[0]);
    }
}

fn random_logout(rng: &mut Rng, _shape: u8) -> owned::Logout {
    owned::Logout {
        seq: rng.next_u64(),
        reason: rng.next_u64() as u16,
        ts_sent: rng.next_u64(),
    }
}

fn at_version_logout(_x: &mut owned::Logout, _version: u16) {}

#[test]
fn logout_round_trips() {
    let mut rng = Rng(24322);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_logout(&mut rng, shape);
        check(&x, at_version_logout, &[0]);
    }
}

fn random_heartbeat(rng: &mut Rng, _shape: u8) -> owned::Heartbeat {
    owned::Heartbeat {
        seq: rng.next_u64(),
        ts_sent: rng.next_u64(),
    }
}

fn at_version_heartbeat(_x: &mut owned::Heartbeat, _version: u16) {}

#[test]
fn heartbeat_round_trips() {
    let mut rng = Rng(24323);
    for trial in 0..64u32 {
        let shape = (trial % 4) as u8;
        let x = random_heartbeat(&mut rng, shape);
        check(&x, at_version_heartbeat, &[0]);
    }
}

#[test]
fn price_text_is_exact() {
    let mut rng = Rng(5);
    for _ in 0..1000 {
        let x = Price::from_mantissa(rng.next_u64() as i64);
        let text = x.to_string();
        assert_eq!(text.parse::<Price>(), Ok(x), "{text}");
    }
    assert_eq!(Price::NULL.to_string(), "null");
    assert!("1e3".parse::<Price>().is_err());
    assert!("".parse::<Price>().is_err());
    assert!("1.".parse::<Price>().is_err());
    assert!(format!("0.{}1", "0".repeat(9)).parse::<Price>().is_err());
}

#[test]
fn qty_text_is_exact() {
    let mut rng = Rng(3);
    for _ in 0..1000 {
        let x = Qty::from_mantissa(rng.next_u64() as i64);
        let text = x.to_string();
        assert_eq!(text.parse::<Qty>(), Ok(x), "{text}");
    }
    assert_eq!(Qty::NULL.to_string(), "null");
    assert!("1e3".parse::<Qty>().is_err());
    assert!("".parse::<Qty>().is_err());
    assert!("1.".parse::<Qty>().is_err());
    assert!(format!("0.{}1", "0".repeat(4)).parse::<Qty>().is_err());
}

#[test]
fn side_unknown_values_are_kept() {
    assert_eq!(Side::from_raw(0), Side::Unknown(0));
    assert_eq!(Side::from_raw(0).raw(), 0u8);
    assert_eq!(Side::from_raw(1).raw(), 1);
}

#[test]
fn time_in_force_unknown_values_are_kept() {
    assert_eq!(TimeInForce::from_raw(4), TimeInForce::Unknown(4));
    assert_eq!(TimeInForce::from_raw(4).raw(), 4u8);
    assert_eq!(TimeInForce::from_raw(0).raw(), 0);
}

#[test]
fn exec_type_unknown_values_are_kept() {
    assert_eq!(ExecType::from_raw(6), ExecType::Unknown(6));
    assert_eq!(ExecType::from_raw(6).raw(), 6u8);
    assert_eq!(ExecType::from_raw(0).raw(), 0);
}

#[test]
fn order_status_unknown_values_are_kept() {
    assert_eq!(OrderStatus::from_raw(6), OrderStatus::Unknown(6));
    assert_eq!(OrderStatus::from_raw(6).raw(), 6u8);
    assert_eq!(OrderStatus::from_raw(0).raw(), 0);
}

#[test]
fn text_longer_than_a_char_field_is_an_error_unless_truncated() {
    let mut b = [0xffu8; 4];
    assert_eq!(
        fx_mm::wire::put_chars(&mut b, b"abcde"),
        Err(fx_mm::wire::EncodeError::TooLong {
            length: 5,
            capacity: 4
        })
    );
    assert_eq!(b, [0xff; 4]);
    fx_mm::wire::put_chars_truncated(&mut b, b"abcde");
    assert_eq!(&b, b"abcd");
    fx_mm::wire::put_chars_truncated(&mut b, b"ab");
    assert_eq!(&b, b"ab\0\0");
}
