//! Wire-level building blocks shared by the generated codecs of `fx.mm`.
//!
//! Everything here works on byte slices: nothing allocates and nothing panics.
//! Decoders check every length against the buffer once, when a message is
//! wrapped, so reading a field afterwards is a plain load.

#![forbid(unsafe_code)]

use core::fmt;
use core::marker::PhantomData;

/// The schema id every message header of this crate carries.
pub const SCHEMA_ID: u16 = 7;
/// The schema version this crate writes.
pub const SCHEMA_VERSION: u16 = 2;
/// Bytes of the message header: block length, template id, schema id, version.
pub const MESSAGE_HEADER_SIZE: usize = 8;
/// Bytes of a group header: block length and entry count.
pub const GROUP_HEADER_SIZE: usize = 4;
/// Bytes of the length prefix of var-data.
pub const VAR_LENGTH_SIZE: usize = 4;

/// Why bytes could not be decoded. Decoding never panics: it returns one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The buffer ends before the message does.
    Truncated { needed: usize, available: usize },
    /// The header names another message.
    WrongTemplate { expected: u16, found: u16 },
    /// The header names another schema.
    WrongSchema { expected: u16, found: u16 },
    /// The dispatcher does not know the template.
    UnknownTemplate(u16),
    /// A block is shorter than the fields of the acting version need.
    BlockTooShort {
        block_length: usize,
        required: usize,
    },
    /// UTF-8 var-data holds invalid UTF-8.
    InvalidUtf8,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated { needed, available } => {
                write!(
                    f,
                    "truncated buffer: {needed} bytes needed, {available} available"
                )
            }
            Self::WrongTemplate { expected, found } => {
                write!(f, "template id {found} is not {expected}")
            }
            Self::WrongSchema { expected, found } => {
                write!(f, "schema id {found} is not {expected}")
            }
            Self::UnknownTemplate(id) => write!(f, "unknown template id {id}"),
            Self::BlockTooShort {
                block_length,
                required,
            } => {
                write!(
                    f,
                    "block length {block_length} is shorter than the {required} bytes needed"
                )
            }
            Self::InvalidUtf8 => f.write_str("var-data is not valid UTF-8"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a message could not be encoded. Encoding never panics: it returns one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The buffer is too small for what is being written.
    BufferTooSmall { needed: usize, capacity: usize },
    /// More entries were started than the group header declared.
    GroupFull { count: u16 },
    /// A group has more entries than a `u16` counts.
    TooManyEntries(usize),
    /// A value is longer than its fixed-size field or var-data limit.
    TooLong { length: usize, capacity: usize },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BufferTooSmall { needed, capacity } => {
                write!(
                    f,
                    "buffer too small: {needed} bytes needed, capacity {capacity}"
                )
            }
            Self::GroupFull { count } => {
                write!(f, "all {count} declared entries are already written")
            }
            Self::TooManyEntries(n) => write!(f, "{n} group entries, the limit is 65535"),
            Self::TooLong { length, capacity } => {
                write!(f, "{length} bytes do not fit in {capacity}")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

/// A value of fixed size on the wire, little-endian.
pub trait Fixed: Copy {
    /// Bytes on the wire.
    const SIZE: usize;
    /// Reads the value from the first `SIZE` bytes of `b` (which must hold them).
    fn read(b: &[u8]) -> Self;
    /// Writes the value to the first `SIZE` bytes of `b` (which must hold them).
    fn write(self, b: &mut [u8]);
}

macro_rules! fixed_number {
    ($($t:ty),*) => {$(
        impl Fixed for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            #[inline(always)]
            fn read(b: &[u8]) -> Self {
                let mut raw = [0u8; core::mem::size_of::<$t>()];
                raw.copy_from_slice(&b[..core::mem::size_of::<$t>()]);
                <$t>::from_le_bytes(raw)
            }
            #[inline(always)]
            fn write(self, b: &mut [u8]) {
                b[..core::mem::size_of::<$t>()].copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}

fixed_number!(u8, i8, u16, i16, u32, i32, u64, i64, f32, f64);

impl<T: Fixed, const N: usize> Fixed for [T; N] {
    const SIZE: usize = T::SIZE * N;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        core::array::from_fn(|i| T::read(&b[i * T::SIZE..]))
    }
    #[inline(always)]
    fn write(self, b: &mut [u8]) {
        for (i, v) in self.into_iter().enumerate() {
            v.write(&mut b[i * T::SIZE..]);
        }
    }
}

/// The message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageHeader {
    pub block_length: u16,
    pub template_id: u16,
    pub schema_id: u16,
    pub version: u16,
}

impl MessageHeader {
    /// Reads the header at `offset`.
    #[inline]
    pub fn read(buf: &[u8], offset: usize) -> Result<Self, DecodeError> {
        let b = slice(buf, offset, MESSAGE_HEADER_SIZE)?;
        Ok(Self {
            block_length: u16::read(b),
            template_id: u16::read(&b[2..]),
            schema_id: u16::read(&b[4..]),
            version: u16::read(&b[6..]),
        })
    }

    /// Writes the header to the first 8 bytes of `b`.
    #[inline]
    pub fn write(self, b: &mut [u8]) {
        self.block_length.write(b);
        self.template_id.write(&mut b[2..]);
        self.schema_id.write(&mut b[4..]);
        self.version.write(&mut b[6..]);
    }
}

/// `len` bytes of `buf` from `offset`, or `Truncated`.
#[inline(always)]
pub fn slice(buf: &[u8], offset: usize, len: usize) -> Result<&[u8], DecodeError> {
    let end = offset.saturating_add(len);
    buf.get(offset..end).ok_or(DecodeError::Truncated {
        needed: end,
        available: buf.len(),
    })
}

/// Checks that `buf` holds `len` bytes from `offset`; returns the end.
#[inline(always)]
pub fn room(buf: &[u8], offset: usize, len: usize) -> Result<usize, EncodeError> {
    match offset.checked_add(len) {
        Some(end) if end <= buf.len() => Ok(end),
        _ => Err(EncodeError::BufferTooSmall {
            needed: offset.saturating_add(len),
            capacity: buf.len(),
        }),
    }
}

/// A group's entry as a decoder: how to check one, and how to read one already checked.
///
/// A message is checked once, when it is wrapped (`decode_at` on every entry of every
/// group, nested ones included); iterating its groups afterwards uses `at`, which trusts
/// those checks and so does no error handling. `at` never panics either: on bytes that
/// were not checked it reads empty blocks and groups.
pub trait Entry<'a>: Sized {
    /// The block length this schema writes.
    const BLOCK_LENGTH: usize;
    /// Whether entries hold nested groups or var-data (so have varying sizes).
    const HAS_ITEMS: bool;
    /// The block bytes the fields of `version` and older need.
    fn required_block(version: u16) -> usize;
    /// Checks the entry whose block starts at `offset` and its nested items; returns it and
    /// the position one past its last byte.
    fn decode_at(
        buf: &'a [u8],
        offset: usize,
        block_length: usize,
        version: u16,
    ) -> Result<(Self, usize), DecodeError>;
    /// The entry whose block starts at `offset`, in a message already checked, and the
    /// position one past its last byte.
    fn at(buf: &'a [u8], offset: usize, block_length: usize, version: u16) -> (Self, usize);
}

/// Checks the group at `pos` (header and every entry); returns its entries and the
/// position after it.
#[inline]
pub fn take_group<'a, E: Entry<'a>>(
    buf: &'a [u8],
    pos: usize,
    version: u16,
) -> Result<(GroupIter<'a, E>, usize), DecodeError> {
    let header = slice(buf, pos, GROUP_HEADER_SIZE)?;
    let block_length = usize::from(u16::read(header));
    let count = usize::from(u16::read(&header[2..]));
    let required = E::required_block(version);
    if block_length < required {
        return Err(DecodeError::BlockTooShort {
            block_length,
            required,
        });
    }
    let start = pos + GROUP_HEADER_SIZE;
    let end = if E::HAS_ITEMS {
        let mut at = start;
        for _ in 0..count {
            at = E::decode_at(buf, at, block_length, version)?.1;
        }
        at
    } else {
        let len = block_length * count;
        slice(buf, start, len)?;
        start + len
    };
    Ok((
        GroupIter {
            buf,
            pos: start,
            remaining: count,
            block_length,
            version,
            entry: PhantomData,
        },
        end,
    ))
}

/// The group at `pos` of a message already checked, and the position after it.
#[inline]
pub fn group_at<'a, E: Entry<'a>>(
    buf: &'a [u8],
    pos: usize,
    version: u16,
) -> (GroupIter<'a, E>, usize) {
    let (block_length, count) = match buf.get(pos..pos.saturating_add(GROUP_HEADER_SIZE)) {
        Some(h) => (usize::from(u16::read(h)), usize::from(u16::read(&h[2..]))),
        None => return (GroupIter::empty(), pos),
    };
    let start = pos + GROUP_HEADER_SIZE;
    let group = GroupIter {
        buf,
        pos: start,
        remaining: count,
        block_length,
        version,
        entry: PhantomData,
    };
    let end = if E::HAS_ITEMS {
        let mut at = start;
        for _ in 0..count {
            at = E::at(buf, at, block_length, version).1;
        }
        at
    } else {
        start.saturating_add(block_length.saturating_mul(count))
    };
    (group, end)
}

/// Checks the var-data at `pos`; returns its bytes and the position after it.
#[inline(always)]
pub fn take_var(buf: &[u8], pos: usize) -> Result<(&[u8], usize), DecodeError> {
    let len = u32::read(slice(buf, pos, VAR_LENGTH_SIZE)?) as usize;
    let start = pos + VAR_LENGTH_SIZE;
    let bytes = slice(buf, start, len)?;
    Ok((bytes, start + len))
}

/// The var-data at `pos` of a message already checked, and the position after it.
#[inline]
pub fn var_at(buf: &[u8], pos: usize) -> (&[u8], usize) {
    let len = buf
        .get(pos..pos.saturating_add(VAR_LENGTH_SIZE))
        .map_or(0, |b| u32::read(b) as usize);
    let start = pos.saturating_add(VAR_LENGTH_SIZE);
    let end = start.saturating_add(len);
    (buf.get(start..end).unwrap_or(&[]), end)
}

/// Var-data as UTF-8 text.
#[inline]
pub fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    core::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)
}

/// The first `N` bytes of a checked block, as an array so reading a field at a constant offset
/// needs no bounds check. (A block shorter than `N` fails its check, so the zeros are never read.)
#[inline(always)]
pub fn head<const N: usize>(block: &[u8]) -> &[u8; N] {
    block.first_chunk::<N>().unwrap_or(&Zeros::<N>::BYTES)
}

/// The first `N` bytes of the checked block at `offset`, as [`head`] gives them.
#[inline(always)]
pub fn head_at<const N: usize>(buf: &[u8], offset: usize) -> &[u8; N] {
    buf.get(offset..)
        .and_then(<[u8]>::first_chunk::<N>)
        .unwrap_or(&Zeros::<N>::BYTES)
}

/// `N` zero bytes with a `'static` address.
struct Zeros<const N: usize>;

impl<const N: usize> Zeros<N> {
    const BYTES: [u8; N] = [0; N];
}

/// The block of `block_length` bytes at `offset` of a message already checked.
#[inline(always)]
pub fn block_at(buf: &[u8], offset: usize, block_length: usize) -> &[u8] {
    buf.get(offset..offset.saturating_add(block_length))
        .unwrap_or(&[])
}

/// A char array up to its first NUL.
#[inline]
pub fn trim_nul(chars: &[u8]) -> &[u8] {
    let end = chars.iter().position(|&c| c == 0).unwrap_or(chars.len());
    &chars[..end]
}

/// Copies `value` into a char array, padding with NUL; `TooLong` if it does not fit.
#[inline]
pub fn put_chars(b: &mut [u8], value: &[u8]) -> Result<(), EncodeError> {
    if value.len() > b.len() {
        return Err(EncodeError::TooLong {
            length: value.len(),
            capacity: b.len(),
        });
    }
    let (head, tail) = b.split_at_mut(value.len());
    head.copy_from_slice(value);
    tail.fill(0);
    Ok(())
}

/// Copies the first `b.len()` bytes of `value` at most into a char array, padding with NUL.
#[inline]
pub fn put_chars_truncated(b: &mut [u8], value: &[u8]) {
    let k = value.len().min(b.len());
    let (head, tail) = b.split_at_mut(k);
    head.copy_from_slice(&value[..k]);
    tail.fill(0);
}

/// The entries of one repeating group, decoded in order.
///
/// Only the decoders make these, from a message they have checked, so iterating reads
/// entries without checking their lengths again.
#[derive(Clone, Copy)]
pub struct GroupIter<'a, E> {
    buf: &'a [u8],
    pos: usize,
    remaining: usize,
    block_length: usize,
    version: u16,
    entry: PhantomData<E>,
}

impl<'a, E: Entry<'a>> GroupIter<'a, E> {
    /// A group the acting version does not carry: no entries.
    #[inline]
    pub(crate) fn empty() -> Self {
        Self {
            buf: &[],
            pos: 0,
            remaining: 0,
            block_length: E::BLOCK_LENGTH,
            version: 0,
            entry: PhantomData,
        }
    }
}

impl<'a, E: Entry<'a>> Iterator for GroupIter<'a, E> {
    type Item = E;

    #[inline]
    fn next(&mut self) -> Option<E> {
        if self.remaining == 0 {
            return None;
        }
        let (entry, end) = E::at(self.buf, self.pos, self.block_length, self.version);
        self.pos = end;
        self.remaining -= 1;
        Some(entry)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a, E: Entry<'a>> ExactSizeIterator for GroupIter<'a, E> {}

// The encoding cursor `limit` counts bytes from the start of the message's groups and
// var-data; `buf` starts `base` bytes after that start.

/// Writes a group header at the cursor and moves it past.
#[inline]
pub fn put_group_header(
    buf: &mut [u8],
    base: usize,
    limit: &mut usize,
    block_length: u16,
    count: u16,
) -> Result<(), EncodeError> {
    let at = *limit - base;
    let end = room(buf, at, GROUP_HEADER_SIZE)?;
    let b = &mut buf[at..end];
    block_length.write(b);
    count.write(&mut b[2..]);
    *limit = end + base;
    Ok(())
}

/// Writes a group header for `count` entries of `block_length` bytes at the cursor, checking room
/// for the header and every entry at once; returns the entries' bytes and moves the cursor past them.
#[inline]
pub fn put_group_entries<'b>(
    buf: &'b mut [u8],
    base: usize,
    limit: &mut usize,
    block_length: u16,
    count: u16,
) -> Result<&'b mut [u8], EncodeError> {
    let at = *limit - base;
    let end = room(
        buf,
        at,
        GROUP_HEADER_SIZE + usize::from(block_length) * usize::from(count),
    )?;
    let (header, entries) = buf[at..end].split_at_mut(GROUP_HEADER_SIZE);
    block_length.write(header);
    count.write(&mut header[2..]);
    *limit = end + base;
    Ok(entries)
}

/// Writes var-data at the cursor and moves it past.
#[inline]
pub fn put_var(
    buf: &mut [u8],
    base: usize,
    limit: &mut usize,
    value: &[u8],
) -> Result<(), EncodeError> {
    let len = u32::try_from(value.len()).map_err(|_| EncodeError::TooLong {
        length: value.len(),
        capacity: u32::MAX as usize,
    })?;
    let at = *limit - base;
    let start = room(buf, at, VAR_LENGTH_SIZE)?;
    let end = room(buf, start, value.len())?;
    len.write(&mut buf[at..]);
    buf[start..end].copy_from_slice(value);
    *limit = end + base;
    Ok(())
}

/// Starts the next entry of a group at the cursor: checks room and writes the initial block;
/// returns where the entry starts in `buf`.
#[inline]
pub fn begin_entry(
    buf: &mut [u8],
    base: usize,
    limit: &mut usize,
    remaining: &mut u16,
    count: u16,
    init: &[u8],
) -> Result<usize, EncodeError> {
    if *remaining == 0 {
        return Err(EncodeError::GroupFull { count });
    }
    let start = *limit - base;
    let end = room(buf, start, init.len())?;
    buf[start..end].copy_from_slice(init);
    *limit = end + base;
    *remaining -= 1;
    Ok(start)
}

/// A group's entry count as a `u16`.
#[inline]
pub fn entry_count(len: usize) -> Result<u16, EncodeError> {
    u16::try_from(len).map_err(|_| EncodeError::TooManyEntries(len))
}

/// Text that is not an exact decimal of the type: malformed, out of range or too precise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseDecimalError;

impl fmt::Display for ParseDecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an exact decimal of this type")
    }
}

impl std::error::Error for ParseDecimalError {}

/// Writes `mantissa × 10^exponent` exactly, trailing zeros trimmed.
pub fn fmt_decimal(f: &mut fmt::Formatter<'_>, mantissa: i128, exponent: i32) -> fmt::Result {
    if exponent >= 0 {
        let mut text = mantissa.to_string();
        if mantissa == 0 {
            return f.pad(&text);
        }
        for _ in 0..exponent {
            text.push('0');
        }
        return f.pad(&text);
    }
    let scale = 10u128.pow(exponent.unsigned_abs());
    let magnitude = mantissa.unsigned_abs();
    let (whole, fraction) = (magnitude / scale, magnitude % scale);
    let sign = if mantissa < 0 { "-" } else { "" };
    if fraction == 0 {
        return f.pad(&format!("{sign}{whole}"));
    }
    let digits = format!(
        "{fraction:0width$}",
        width = exponent.unsigned_abs() as usize
    );
    f.pad(&format!("{sign}{whole}.{}", digits.trim_end_matches('0')))
}

/// Parses `[-+]digits[.digits]` exactly as a mantissa at `exponent` within `[min, max]`.
pub fn parse_decimal(
    text: &str,
    exponent: i32,
    min: i128,
    max: i128,
) -> Result<i128, ParseDecimalError> {
    let text = text.trim();
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) if !f.is_empty() => (w, f),
        Some(_) => return Err(ParseDecimalError),
        None => (body, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(ParseDecimalError);
    }
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(ParseDecimalError);
    }
    let push = |acc: i128, c: u8| {
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(c - b'0')))
    };
    let mut mantissa: i128 = 0;
    for c in whole.bytes() {
        mantissa = push(mantissa, c).ok_or(ParseDecimalError)?;
    }
    let places = i32::try_from(fraction.len()).map_err(|_| ParseDecimalError)?;
    for c in fraction.bytes() {
        mantissa = push(mantissa, c).ok_or(ParseDecimalError)?;
    }
    // The text is mantissa × 10^-places; rescale to 10^exponent without rounding.
    let shift = -places - exponent;
    if shift >= 0 {
        for _ in 0..shift {
            mantissa = mantissa.checked_mul(10).ok_or(ParseDecimalError)?;
        }
    } else {
        let unit = 10i128
            .checked_pow(shift.unsigned_abs())
            .ok_or(ParseDecimalError)?;
        if mantissa % unit != 0 {
            return Err(ParseDecimalError);
        }
        mantissa /= unit;
    }
    if negative {
        mantissa = -mantissa;
    }
    if mantissa < min || mantissa > max {
        return Err(ParseDecimalError);
    }
    Ok(mantissa)
}
