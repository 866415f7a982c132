//! Value types of `fx.mm`: exact decimals, enums with an `Unknown` variant,
//! bit sets that keep unknown bits, and composites.

#![forbid(unsafe_code)]

use crate::wire::{Fixed, ParseDecimalError};
use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};
use core::str::FromStr;

/// Price in quote currency, 1e-9 steps.
///
/// Exact decimal: a `i64` mantissa times 10^-9. `Display` and `FromStr` are exact; the null mantissa prints as `null`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Price {
    /// The integer on the wire.
    pub mantissa: i64,
}

impl Price {
    /// The power of ten the mantissa is scaled by.
    pub const EXPONENT: i32 = -9;
    /// The null value (SBE's null of the encoding).
    pub const NULL: Self = Self { mantissa: i64::MIN };
    /// The smallest mantissa that is not null.
    pub const MIN_MANTISSA: i64 = -9223372036854775807;
    /// The largest mantissa that is not null.
    pub const MAX_MANTISSA: i64 = i64::MAX;

    /// The value `mantissa × 10^EXPONENT`.
    pub const fn from_mantissa(mantissa: i64) -> Self {
        Self { mantissa }
    }

    /// Whether this is the null value.
    pub const fn is_null(self) -> bool {
        self.mantissa == Self::NULL.mantissa
    }

    /// The value as a float (rounded); NaN for the null value.
    pub fn to_f64(self) -> f64 {
        if self.is_null() {
            return f64::NAN;
        }
        self.mantissa as f64 * 10f64.powi(Self::EXPONENT)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_null() {
            return f.pad("null");
        }
        crate::wire::fmt_decimal(f, i128::from(self.mantissa), Self::EXPONENT)
    }
}

impl FromStr for Price {
    type Err = ParseDecimalError;

    /// Exact: `"1.08125"`, `"-3"`, `"null"`; text finer than 10^EXPONENT or out of range is an error.
    fn from_str(text: &str) -> Result<Self, ParseDecimalError> {
        if text.trim() == "null" {
            return Ok(Self::NULL);
        }
        let mantissa = crate::wire::parse_decimal(
            text,
            Self::EXPONENT,
            i128::from(Self::MIN_MANTISSA),
            i128::from(Self::MAX_MANTISSA),
        )?;
        i64::try_from(mantissa)
            .map(Self::from_mantissa)
            .map_err(|_| ParseDecimalError)
    }
}

impl Fixed for Price {
    const SIZE: usize = 8;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        Self {
            mantissa: i64::read(b),
        }
    }
    #[inline(always)]
    fn write(self, b: &mut [u8]) {
        self.mantissa.write(b);
    }
}

/// Quantity in base currency, 1e-4 steps.
///
/// Exact decimal: a `i64` mantissa times 10^-4. `Display` and `FromStr` are exact; the null mantissa prints as `null`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Qty {
    /// The integer on the wire.
    pub mantissa: i64,
}

impl Qty {
    /// The power of ten the mantissa is scaled by.
    pub const EXPONENT: i32 = -4;
    /// The null value (SBE's null of the encoding).
    pub const NULL: Self = Self { mantissa: i64::MIN };
    /// The smallest mantissa that is not null.
    pub const MIN_MANTISSA: i64 = -9223372036854775807;
    /// The largest mantissa that is not null.
    pub const MAX_MANTISSA: i64 = i64::MAX;

    /// The value `mantissa × 10^EXPONENT`.
    pub const fn from_mantissa(mantissa: i64) -> Self {
        Self { mantissa }
    }

    /// Whether this is the null value.
    pub const fn is_null(self) -> bool {
        self.mantissa == Self::NULL.mantissa
    }

    /// The value as a float (rounded); NaN for the null value.
    pub fn to_f64(self) -> f64 {
        if self.is_null() {
            return f64::NAN;
        }
        self.mantissa as f64 * 10f64.powi(Self::EXPONENT)
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_null() {
            return f.pad("null");
        }
        crate::wire::fmt_decimal(f, i128::from(self.mantissa), Self::EXPONENT)
    }
}

impl FromStr for Qty {
    type Err = ParseDecimalError;

    /// Exact: `"1.08125"`, `"-3"`, `"null"`; text finer than 10^EXPONENT or out of range is an error.
    fn from_str(text: &str) -> Result<Self, ParseDecimalError> {
        if text.trim() == "null" {
            return Ok(Self::NULL);
        }
        let mantissa = crate::wire::parse_decimal(
            text,
            Self::EXPONENT,
            i128::from(Self::MIN_MANTISSA),
            i128::from(Self::MAX_MANTISSA),
        )?;
        i64::try_from(mantissa)
            .map(Self::from_mantissa)
            .map_err(|_| ParseDecimalError)
    }
}

impl Fixed for Qty {
    const SIZE: usize = 8;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        Self {
            mantissa: i64::read(b),
        }
    }
    #[inline(always)]
    fn write(self, b: &mut [u8]) {
        self.mantissa.write(b);
    }
}

/// Side of an order or a book level.
///
/// On the wire: `u8`. Values this schema does not know (and the null value) decode as `Unknown(raw)`, never an error.
// The discriminants are the wire values (`Unknown` takes one no member uses), so `raw` and
// `from_raw` compile to a select instead of a branch per member.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// `buy` = 1.
    Buy = 1,
    /// `sell` = 2.
    Sell = 2,
    /// A value this schema does not name.
    Unknown(u8) = 0,
}

impl Side {
    /// The null value on the wire.
    pub const NULL_RAW: u8 = 255;

    /// The member for `raw`; `Unknown(raw)` when the schema does not name it.
    pub const fn from_raw(raw: u8) -> Self {
        match raw {
            1 => Self::Buy,
            2 => Self::Sell,
            other => Self::Unknown(other),
        }
    }

    /// The integer on the wire.
    pub const fn raw(self) -> u8 {
        match self {
            Self::Buy => 1,
            Self::Sell => 2,
            Self::Unknown(raw) => raw,
        }
    }

    /// The schema's name of the value; `None` for `Unknown`.
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Self::Buy => Some("buy"),
            Self::Sell => Some("sell"),
            Self::Unknown(_) => None,
        }
    }
}

impl Fixed for Side {
    const SIZE: usize = 1;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        Self::from_raw(u8::read(b))
    }
    #[inline(always)]
    fn write(self, b: &mut [u8]) {
        self.raw().write(b);
    }
}

/// `Symbol`: 12 bytes, NUL-padded. Instrument symbol, NUL-padded.
pub type Symbol = [u8; 12];

/// Order instructions.
///
/// A bit set on a `u8`; bits this schema does not name are kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct OrderFlags(pub u8);

impl OrderFlags {
    /// `post_only`: bit 0.
    pub const POST_ONLY: Self = Self(0x1);
    /// `reduce_only`: bit 1.
    pub const REDUCE_ONLY: Self = Self(0x2);
    /// `ioc`: bit 2.
    pub const IOC: Self = Self(0x4);

    /// No bits set.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// The set with exactly these bits (unknown ones kept).
    pub const fn from_bits(bits: u8) -> Self {
        Self(bits)
    }

    /// The integer on the wire.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the bits of `other`.
    pub fn insert(&mut self, other: Self) {
        self.0 |= other.0;
    }

    /// Clears the bits of `other`.
    pub fn remove(&mut self, other: Self) {
        self.0 &= !other.0;
    }
}

impl BitOr for OrderFlags {
    type Output = Self;
    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl BitOrAssign for OrderFlags {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

impl BitAnd for OrderFlags {
    type Output = Self;
    fn bitand(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }
}

impl Fixed for OrderFlags {
    const SIZE: usize = 1;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        Self(u8::read(b))
    }
    #[inline(always)]
    fn write(self, b: &mut [u8]) {
        self.0.write(b);
    }
}

/// How long an order rests.
///
/// On the wire: `u8`. Values this schema does not know (and the null value) decode as `Unknown(raw)`, never an error.
// The discriminants are the wire values (`Unknown` takes one no member uses), so `raw` and
// `from_raw` compile to a select instead of a branch per member.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeInForce {
    /// `day` = 0.
    Day = 0,
    /// `ioc` = 1.
    Ioc = 1,
    /// `fok` = 2.
    Fok = 2,
    /// `gtc` = 3.
    Gtc = 3,
    /// A value this schema does not name.
    Unknown(u8) = 4,
}

impl TimeInForce {
    /// The null value on the wire.
    pub const NULL_RAW: u8 = 255;

    /// The member for `raw`; `Unknown(raw)` when the schema does not name it.
    pub const fn from_raw(raw: u8) -> Self {
        match raw {
            0 => Self::Day,
            1 => Self::Ioc,
            2 => Self::Fok,
            3 => Self::Gtc,
            other => Self::Unknown(other),
        }
    }

    /// The integer on the wire.
    pub const fn raw(self) -> u8 {
        match self {
            Self::Day => 0,
            Self::Ioc => 1,
            Self::Fok => 2,
            Self::Gtc => 3,
            Self::Unknown(raw) => raw,
        }
    }

    /// The schema's name of the value; `None` for `Unknown`.
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Self::Day => Some("day"),
            Self::Ioc => Some("ioc"),
            Self::Fok => Some("fok"),
            Self::Gtc => Some("gtc"),
            Self::Unknown(_) => None,
        }
    }
}

impl Fixed for TimeInForce {
    const SIZE: usize = 1;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        Self::from_raw(u8::read(b))
    }
    #[inline(always)]
    fn write(self, b: &mut [u8]) {
        self.raw().write(b);
    }
}

/// What an execution report reports.
///
/// On the wire: `u8`. Values this schema does not know (and the null value) decode as `Unknown(raw)`, never an error.
// The discriminants are the wire values (`Unknown` takes one no member uses), so `raw` and
// `from_raw` compile to a select instead of a branch per member.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExecType {
    /// `accepted` = 0.
    Accepted = 0,
    /// `trade` = 1.
    Trade = 1,
    /// `canceled` = 2.
    Canceled = 2,
    /// `replaced` = 3.
    Replaced = 3,
    /// `rejected` = 4.
    Rejected = 4,
    /// `expired` = 5.
    Expired = 5,
    /// A value this schema does not name.
    Unknown(u8) = 6,
}

impl ExecType {
    /// The null value on the wire.
    pub const NULL_RAW: u8 = 255;

    /// The member for `raw`; `Unknown(raw)` when the schema does not name it.
    pub const fn from_raw(raw: u8) -> Self {
        match raw {
            0 => Self::Accepted,
            1 => Self::Trade,
            2 => Self::Canceled,
            3 => Self::Replaced,
            4 => Self::Rejected,
            5 => Self::Expired,
            other => Self::Unknown(other),
        }
    }

    /// The integer on the wire.
    pub const fn raw(self) -> u8 {
        match self {
            Self::Accepted => 0,
            Self::Trade => 1,
            Self::Canceled => 2,
            Self::Replaced => 3,
            Self::Rejected => 4,
            Self::Expired => 5,
            Self::Unknown(raw) => raw,
        }
    }

    /// The schema's name of the value; `None` for `Unknown`.
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Self::Accepted => Some("accepted"),
            Self::Trade => Some("trade"),
            Self::Canceled => Some("canceled"),
            Self::Replaced => Some("replaced"),
            Self::Rejected => Some("rejected"),
            Self::Expired => Some("expired"),
            Self::Unknown(_) => None,
        }
    }
}

impl Fixed for ExecType {
    const SIZE: usize = 1;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        Self::from_raw(u8::read(b))
    }
    #[inline(always)]
    fn write(self, b: &mut [u8]) {
        self.raw().write(b);
    }
}

/// The order's state after the report.
///
/// On the wire: `u8`. Values this schema does not know (and the null value) decode as `Unknown(raw)`, never an error.
// The discriminants are the wire values (`Unknown` takes one no member uses), so `raw` and
// `from_raw` compile to a select instead of a branch per member.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// `open` = 0.
    Open = 0,
    /// `partially_filled` = 1.
    PartiallyFilled = 1,
    /// `filled` = 2.
    Filled = 2,
    /// `canceled` = 3.
    Canceled = 3,
    /// `replaced` = 4.
    Replaced = 4,
    /// `rejected` = 5.
    Rejected = 5,
    /// A value this schema does not name.
    Unknown(u8) = 6,
}

impl OrderStatus {
    /// The null value on the wire.
    pub const NULL_RAW: u8 = 255;

    /// The member for `raw`; `Unknown(raw)` when the schema does not name it.
    pub const fn from_raw(raw: u8) -> Self {
        match raw {
            0 => Self::Open,
            1 => Self::PartiallyFilled,
            2 => Self::Filled,
            3 => Self::Canceled,
            4 => Self::Replaced,
            5 => Self::Rejected,
            other => Self::Unknown(other),
        }
    }

    /// The integer on the wire.
    pub const fn raw(self) -> u8 {
        match self {
            Self::Open => 0,
            Self::PartiallyFilled => 1,
            Self::Filled => 2,
            Self::Canceled => 3,
            Self::Replaced => 4,
            Self::Rejected => 5,
            Self::Unknown(raw) => raw,
        }
    }

    /// The schema's name of the value; `None` for `Unknown`.
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Self::Open => Some("open"),
            Self::PartiallyFilled => Some("partially_filled"),
            Self::Filled => Some("filled"),
            Self::Canceled => Some("canceled"),
            Self::Replaced => Some("replaced"),
            Self::Rejected => Some("rejected"),
            Self::Unknown(_) => None,
        }
    }
}

impl Fixed for OrderStatus {
    const SIZE: usize = 1;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        Self::from_raw(u8::read(b))
    }
    #[inline(always)]
    fn write(self, b: &mut [u8]) {
        self.raw().write(b);
    }
}

/// `ApiKey`: 64 bytes, NUL-padded. Session secret, NUL-padded; filled from the gateway's credentials at logon.
pub type ApiKey = [u8; 64];
