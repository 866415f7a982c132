//! Exact conversion between the wire's decimals and a book's integer ticks and lots, and the
//! mapping between venue instrument ids and a pipeline's dense instrument indices.
//!
//! A decimal `mantissa × 10^e` is a whole number of steps of size `num/den` exactly when
//! `mantissa × 10^e × den / num` is an integer; everything is computed in `i128`, never in
//! floating point (same arithmetic as the C++ `to_steps`/`from_steps`).
#![deny(unsafe_code)]

use super::order::InstrumentId;

/// A fixed-point decimal of a generated schema (implemented by the generated code).
pub trait ExactDecimal: Copy {
    /// The power of ten the mantissa is scaled by.
    const EXPONENT: i32;
    /// The mantissa; `None` for the null value.
    fn mantissa_i128(self) -> Option<i128>;
    /// The value with this mantissa; `None` when out of range or equal to the null value.
    fn from_mantissa_i128(mantissa: i128) -> Option<Self>;
}

/// `(mul, div)` such that one mantissa unit of a decimal with `exponent` is `mul / div` steps of
/// size `num / den` (reduced). `None` when a factor does not fit 128 bits.
#[inline]
pub fn step_scale(num: i64, den: i64, exponent: i32) -> Option<(i128, i128)> {
    if num <= 0 || den <= 0 {
        return None;
    }
    let p = 10i128.checked_pow(exponent.unsigned_abs())?;
    let (a, b) = if exponent >= 0 {
        (p.checked_mul(i128::from(den))?, i128::from(num))
    } else {
        (i128::from(den), p.checked_mul(i128::from(num))?)
    };
    let g = gcd(a, b);
    Some((a / g, b / g))
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `d` in whole steps of `num/den`; `None` when null, not a whole number of steps, or outside
/// `i64`.
#[inline]
pub fn to_steps<D: ExactDecimal>(d: D, num: i64, den: i64) -> Option<i64> {
    let (mul, div) = step_scale(num, den, D::EXPONENT)?;
    let x = d.mantissa_i128()?.checked_mul(mul)?;
    if x % div != 0 {
        return None;
    }
    i64::try_from(x / div).ok()
}

/// `steps` of `num/den` as a decimal; `None` when the decimal cannot hold it exactly (its unit
/// is coarser than the step, or the value is out of range or would read as null).
#[inline]
pub fn from_steps<D: ExactDecimal>(steps: i64, num: i64, den: i64) -> Option<D> {
    let (mul, div) = step_scale(num, den, D::EXPONENT)?;
    if mul != 1 {
        return None;
    }
    D::from_mantissa_i128(i128::from(steps).checked_mul(div)?)
}

/// The tick and lot sizes of an order book (generated per book of the schema).
pub trait Grid {
    const TICK_NUM: i64;
    const TICK_DEN: i64;
    const LOT_NUM: i64;
    const LOT_DEN: i64;
    /// Ticks the book tracks from its touch.
    const DEPTH_TICKS: usize;

    /// A price in whole ticks.
    #[inline]
    fn to_ticks<D: ExactDecimal>(price: D) -> Option<i64> {
        to_steps(price, Self::TICK_NUM, Self::TICK_DEN)
    }
    /// A quantity in whole lots.
    #[inline]
    fn to_lots<D: ExactDecimal>(qty: D) -> Option<i64> {
        to_steps(qty, Self::LOT_NUM, Self::LOT_DEN)
    }
    /// Ticks as a price.
    #[inline]
    fn from_ticks<D: ExactDecimal>(ticks: i64) -> Option<D> {
        from_steps(ticks, Self::TICK_NUM, Self::TICK_DEN)
    }
    /// Lots as a quantity.
    #[inline]
    fn from_lots<D: ExactDecimal>(lots: i64) -> Option<D> {
        from_steps(lots, Self::LOT_NUM, Self::LOT_DEN)
    }
}

/// Index <-> venue instrument id through an optional table (empty: the venue id is the index).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstrumentTable {
    venue_ids: Vec<u32>,
}

impl InstrumentTable {
    /// Instrument `i` of the pipeline is venue instrument `venue_ids[i]`.
    pub fn new(venue_ids: &[u32]) -> Self {
        InstrumentTable {
            venue_ids: venue_ids.to_vec(),
        }
    }

    /// The index of a venue id; `None` when unknown.
    #[inline]
    pub fn index_of(&self, venue_id: u64) -> Option<InstrumentId> {
        if self.venue_ids.is_empty() {
            return InstrumentId::try_from(venue_id).ok();
        }
        self.venue_ids
            .iter()
            .position(|&v| u64::from(v) == venue_id)
            .and_then(|i| InstrumentId::try_from(i).ok())
    }

    /// The venue id of an index (0 when out of the table's range).
    #[inline]
    pub fn venue_id(&self, index: InstrumentId) -> u32 {
        if self.venue_ids.is_empty() {
            return index;
        }
        self.venue_ids.get(index as usize).copied().unwrap_or(0)
    }
}

/// Messages a generated feed handler dropped, by reason (none of them produced a message).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedDrops {
    /// Venue id not in the instrument table.
    pub unknown_instrument: u64,
    /// Side outside the enum's buy/sell values.
    pub bad_side: u64,
    /// Null, not a whole number of ticks/lots, or out of range.
    pub off_grid: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Nano(i64); // 10^-9, null = i64::MIN

    impl ExactDecimal for Nano {
        const EXPONENT: i32 = -9;
        fn mantissa_i128(self) -> Option<i128> {
            (self.0 != i64::MIN).then_some(i128::from(self.0))
        }
        fn from_mantissa_i128(m: i128) -> Option<Self> {
            i64::try_from(m).ok().filter(|&m| m != i64::MIN).map(Nano)
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Hundreds(i32); // 10^2

    impl ExactDecimal for Hundreds {
        const EXPONENT: i32 = 2;
        fn mantissa_i128(self) -> Option<i128> {
            Some(i128::from(self.0))
        }
        fn from_mantissa_i128(m: i128) -> Option<Self> {
            i32::try_from(m).ok().map(Hundreds)
        }
    }

    struct Fx;
    impl Grid for Fx {
        const TICK_NUM: i64 = 1;
        const TICK_DEN: i64 = 100_000;
        const LOT_NUM: i64 = 1000;
        const LOT_DEN: i64 = 1;
        const DEPTH_TICKS: usize = 64;
    }

    #[test]
    fn ticks_round_trip_exactly() {
        // 1.08125 = 108125 ticks of 0.00001.
        assert_eq!(Fx::to_ticks(Nano(1_081_250_000)), Some(108_125));
        assert_eq!(Fx::from_ticks::<Nano>(108_125), Some(Nano(1_081_250_000)));
        assert_eq!(Fx::to_ticks(Nano(1_081_250_001)), None, "off the grid");
        assert_eq!(Fx::to_ticks(Nano(i64::MIN)), None, "null");
        assert_eq!(Fx::from_ticks::<Nano>(i64::MAX), None, "out of range");
    }

    #[test]
    fn lots_with_a_coarse_decimal() {
        // Lots of 1000 with a decimal in hundreds: 1 lot = mantissa 10.
        assert_eq!(Fx::to_lots(Hundreds(30)), Some(3));
        assert_eq!(Fx::to_lots(Hundreds(31)), None);
        assert_eq!(Fx::from_lots::<Hundreds>(3), Some(Hundreds(30)));
        // A tick of 0.00001 cannot be held by hundreds.
        assert_eq!(Fx::from_ticks::<Hundreds>(1), None);
    }

    #[test]
    fn instrument_table_maps_both_ways() {
        let identity = InstrumentTable::default();
        assert_eq!(identity.index_of(7), Some(7));
        assert_eq!(identity.index_of(u64::MAX), None);
        assert_eq!(identity.venue_id(7), 7);
        let t = InstrumentTable::new(&[77, 12]);
        assert_eq!(t.index_of(12), Some(1));
        assert_eq!(t.index_of(5), None);
        assert_eq!(t.venue_id(0), 77);
        assert_eq!(t.venue_id(9), 0);
    }
}
