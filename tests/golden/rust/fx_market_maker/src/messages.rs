//! Flyweight codecs of `fx.mm`: decoders over `&[u8]` and encoders over `&mut [u8]`.
//!
//! `XDecoder::wrap(buf, offset)` checks the header and every length once; accessors then
//! read in place. `XEncoder::wrap_and_apply_header(buf, offset)` starts a message; set
//! fields in any order, then write groups (`encode_<group>(count)`, `next_entry()` per entry)
//! and var-data (`put_<name>`) once each, in schema order. Nothing allocates or panics.

#![forbid(unsafe_code)]

use crate::types::{ExecType, OrderFlags, OrderStatus, Price, Qty, Side, TimeInForce};
use crate::wire::{
    self, DecodeError, EncodeError, Entry, Fixed, GroupIter, MessageHeader, MESSAGE_HEADER_SIZE,
    SCHEMA_ID, SCHEMA_VERSION,
};

/// Decodes a `BookDelta` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct BookDeltaDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 37],
    version: u16,
    length: usize,
}

impl<'a> BookDeltaDecoder<'a> {
    /// The template id of `BookDelta`.
    pub const TEMPLATE_ID: u16 = 1;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 39;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(version: u16) -> usize {
        if version >= 2 {
            39
        } else {
            37
        }
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        Ok(Self {
            block,
            fixed: wire::head::<37>(block),
            version,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// `instrument` at offset 0.
    #[inline]
    pub fn instrument(&self) -> u32 {
        let block: &'a [u8; 37] = self.fixed;
        <u32>::read(block)
    }

    /// `seq` at offset 4.
    #[inline]
    pub fn seq(&self) -> u64 {
        let block: &'a [u8; 37] = self.fixed;
        <u64>::read(&block[4..])
    }

    /// Venue timestamp. Unit: ns.
    #[inline]
    pub fn ts_exchange(&self) -> u64 {
        let block: &'a [u8; 37] = self.fixed;
        <u64>::read(&block[12..])
    }

    /// `side` at offset 20.
    #[inline]
    pub fn side(&self) -> Side {
        let block: &'a [u8; 37] = self.fixed;
        <Side>::read(&block[20..])
    }

    /// The integer on the wire of `side`, even when not a member.
    #[inline]
    pub fn side_raw(&self) -> u8 {
        let block: &'a [u8; 37] = self.fixed;
        u8::read(&block[20..])
    }

    /// `price` at offset 21.
    #[inline]
    pub fn price(&self) -> Price {
        let block: &'a [u8; 37] = self.fixed;
        <Price>::read(&block[21..])
    }

    /// New absolute size of the level; 0 deletes it.
    #[inline]
    pub fn qty(&self) -> Qty {
        let block: &'a [u8; 37] = self.fixed;
        <Qty>::read(&block[29..])
    }

    /// Orders at the level, when the venue sends it. Since version 2; null before.
    #[inline]
    pub fn order_count(&self) -> Option<u16> {
        let block: &'a [u8] = self.block;
        let v = <u16>::read(if self.version < 2 {
            &[0xff; 2]
        } else {
            &block[37..]
        });
        Some(v).filter(|&v| v != u16::MAX)
    }
}

/// Encodes a `BookDelta` in place: fields in any order, then groups and var-data in schema order.
pub struct BookDeltaEncoder<'a> {
    block: &'a mut [u8; 39],
}

impl<'a> BookDeltaEncoder<'a> {
    /// The template id of `BookDelta`.
    pub const TEMPLATE_ID: u16 = 1;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 39;
    const INIT_BLOCK: [u8; 39] = [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
    ];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, _rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 39,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 39] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self { block })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH
    }

    /// Sets `instrument`.
    #[inline]
    pub fn set_instrument(&mut self, value: u32) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `seq`.
    #[inline]
    pub fn set_seq(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[4..]);
        self
    }

    /// Sets `ts_exchange`.
    #[inline]
    pub fn set_ts_exchange(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[12..]);
        self
    }

    /// Sets `side`.
    #[inline]
    pub fn set_side(&mut self, value: Side) -> &mut Self {
        value.write(&mut self.block[20..]);
        self
    }

    /// Sets the integer on the wire of `side`.
    #[inline]
    pub fn set_side_raw(&mut self, value: u8) -> &mut Self {
        value.write(&mut self.block[20..]);
        self
    }

    /// Sets `price`.
    #[inline]
    pub fn set_price(&mut self, value: Price) -> &mut Self {
        value.write(&mut self.block[21..]);
        self
    }

    /// Sets `qty`.
    #[inline]
    pub fn set_qty(&mut self, value: Qty) -> &mut Self {
        value.write(&mut self.block[29..]);
        self
    }

    /// Sets `order_count` (`None` writes the null value).
    #[inline]
    pub fn set_order_count(&mut self, value: Option<u16>) -> &mut Self {
        value.unwrap_or(u16::MAX).write(&mut self.block[37..]);
        self
    }
}

/// Decodes a `Trade` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct TradeDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 37],
    version: u16,
    length: usize,
}

impl<'a> TradeDecoder<'a> {
    /// The template id of `Trade`.
    pub const TEMPLATE_ID: u16 = 2;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 37;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        37
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        Ok(Self {
            block,
            fixed: wire::head::<37>(block),
            version,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// `instrument` at offset 0.
    #[inline]
    pub fn instrument(&self) -> u32 {
        let block: &'a [u8; 37] = self.fixed;
        <u32>::read(block)
    }

    /// `seq` at offset 4.
    #[inline]
    pub fn seq(&self) -> u64 {
        let block: &'a [u8; 37] = self.fixed;
        <u64>::read(&block[4..])
    }

    /// Unit: ns.
    #[inline]
    pub fn ts_exchange(&self) -> u64 {
        let block: &'a [u8; 37] = self.fixed;
        <u64>::read(&block[12..])
    }

    /// `aggressor` at offset 20.
    #[inline]
    pub fn aggressor(&self) -> Side {
        let block: &'a [u8; 37] = self.fixed;
        <Side>::read(&block[20..])
    }

    /// The integer on the wire of `aggressor`, even when not a member.
    #[inline]
    pub fn aggressor_raw(&self) -> u8 {
        let block: &'a [u8; 37] = self.fixed;
        u8::read(&block[20..])
    }

    /// `price` at offset 21.
    #[inline]
    pub fn price(&self) -> Price {
        let block: &'a [u8; 37] = self.fixed;
        <Price>::read(&block[21..])
    }

    /// `qty` at offset 29.
    #[inline]
    pub fn qty(&self) -> Qty {
        let block: &'a [u8; 37] = self.fixed;
        <Qty>::read(&block[29..])
    }
}

/// Encodes a `Trade` in place: fields in any order, then groups and var-data in schema order.
pub struct TradeEncoder<'a> {
    block: &'a mut [u8; 37],
}

impl<'a> TradeEncoder<'a> {
    /// The template id of `Trade`.
    pub const TEMPLATE_ID: u16 = 2;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 37;
    const INIT_BLOCK: [u8; 37] = [0; 37];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, _rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 37,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 37] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self { block })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH
    }

    /// Sets `instrument`.
    #[inline]
    pub fn set_instrument(&mut self, value: u32) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `seq`.
    #[inline]
    pub fn set_seq(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[4..]);
        self
    }

    /// Sets `ts_exchange`.
    #[inline]
    pub fn set_ts_exchange(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[12..]);
        self
    }

    /// Sets `aggressor`.
    #[inline]
    pub fn set_aggressor(&mut self, value: Side) -> &mut Self {
        value.write(&mut self.block[20..]);
        self
    }

    /// Sets the integer on the wire of `aggressor`.
    #[inline]
    pub fn set_aggressor_raw(&mut self, value: u8) -> &mut Self {
        value.write(&mut self.block[20..]);
        self
    }

    /// Sets `price`.
    #[inline]
    pub fn set_price(&mut self, value: Price) -> &mut Self {
        value.write(&mut self.block[21..]);
        self
    }

    /// Sets `qty`.
    #[inline]
    pub fn set_qty(&mut self, value: Qty) -> &mut Self {
        value.write(&mut self.block[29..]);
        self
    }
}

/// Decodes a `Snapshot` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct SnapshotDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 12],
    version: u16,
    levels_entries: GroupIter<'a, SnapshotLevelsDecoder<'a>>,
    venue_note_bytes: &'a [u8],
    length: usize,
}

impl<'a> SnapshotDecoder<'a> {
    /// The template id of `Snapshot`.
    pub const TEMPLATE_ID: u16 = 3;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 12;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        12
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        let (levels_entries, pos) =
            wire::take_group::<SnapshotLevelsDecoder<'a>>(buf, pos, version)?;
        let (venue_note_bytes, pos) = wire::take_var(buf, pos)?;
        Ok(Self {
            block,
            fixed: wire::head::<12>(block),
            version,
            levels_entries,
            venue_note_bytes,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// `instrument` at offset 0.
    #[inline]
    pub fn instrument(&self) -> u32 {
        let block: &'a [u8; 12] = self.fixed;
        <u32>::read(block)
    }

    /// `seq` at offset 4.
    #[inline]
    pub fn seq(&self) -> u64 {
        let block: &'a [u8; 12] = self.fixed;
        <u64>::read(&block[4..])
    }

    /// One price level.
    #[inline]
    pub fn levels(&self) -> GroupIter<'a, SnapshotLevelsDecoder<'a>> {
        self.levels_entries
    }

    /// The var-data `venue_note` (utf8).
    #[inline]
    pub fn venue_note(&self) -> &'a [u8] {
        self.venue_note_bytes
    }

    /// `venue_note` as text; `InvalidUtf8` when it is not UTF-8.
    #[inline]
    pub fn venue_note_str(&self) -> Result<&'a str, DecodeError> {
        wire::utf8(self.venue_note_bytes)
    }
}

/// Encodes a `Snapshot` in place: fields in any order, then groups and var-data in schema order.
pub struct SnapshotEncoder<'a> {
    block: &'a mut [u8; 12],
    rest: &'a mut [u8],
    limit: usize,
}

impl<'a> SnapshotEncoder<'a> {
    /// The template id of `Snapshot`.
    pub const TEMPLATE_ID: u16 = 3;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 12;
    const INIT_BLOCK: [u8; 12] = [0; 12];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 12,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 12] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self {
            block,
            rest,
            limit: 0,
        })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH + self.limit
    }

    /// Sets `instrument`.
    #[inline]
    pub fn set_instrument(&mut self, value: u32) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `seq`.
    #[inline]
    pub fn set_seq(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[4..]);
        self
    }

    /// Writes the header of `levels`; then call `next_entry()` exactly `count` times.
    /// Groups and var-data must be written once each, in schema order.
    #[inline]
    pub fn encode_levels(
        &mut self,
        count: u16,
    ) -> Result<SnapshotLevelsGroupEncoder<'_>, EncodeError> {
        wire::put_group_header(self.rest, 0, &mut self.limit, 17, count)?;
        Ok(SnapshotLevelsGroupEncoder {
            buf: &mut *self.rest,
            base: 0,
            limit: &mut self.limit,
            count,
            remaining: count,
        })
    }

    /// Writes the var-data `venue_note` (utf8), in schema order.
    #[inline]
    pub fn put_venue_note(&mut self, value: &[u8]) -> Result<&mut Self, EncodeError> {
        wire::put_var(self.rest, 0, &mut self.limit, value)?;
        Ok(self)
    }
}

/// Decodes a entry of the group `levels` in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct SnapshotLevelsDecoder<'a> {
    fixed: &'a [u8; 17],
    orders_entries: GroupIter<'a, SnapshotLevelsOrdersDecoder<'a>>,
}

impl<'a> SnapshotLevelsDecoder<'a> {
    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        17
    }

    /// `side` at offset 0.
    #[inline]
    pub fn side(&self) -> Side {
        let block: &'a [u8; 17] = self.fixed;
        <Side>::read(block)
    }

    /// The integer on the wire of `side`, even when not a member.
    #[inline]
    pub fn side_raw(&self) -> u8 {
        let block: &'a [u8; 17] = self.fixed;
        u8::read(block)
    }

    /// `price` at offset 1.
    #[inline]
    pub fn price(&self) -> Price {
        let block: &'a [u8; 17] = self.fixed;
        <Price>::read(&block[1..])
    }

    /// `qty` at offset 9.
    #[inline]
    pub fn qty(&self) -> Qty {
        let block: &'a [u8; 17] = self.fixed;
        <Qty>::read(&block[9..])
    }

    /// Resting orders at the level, when the venue shows them.
    #[inline]
    pub fn orders(&self) -> GroupIter<'a, SnapshotLevelsOrdersDecoder<'a>> {
        self.orders_entries
    }
}

impl<'a> Entry<'a> for SnapshotLevelsDecoder<'a> {
    const BLOCK_LENGTH: usize = 17;
    const HAS_ITEMS: bool = true;
    #[inline]
    fn required_block(version: u16) -> usize {
        Self::required_block(version)
    }
    #[inline]
    fn decode_at(
        buf: &'a [u8],
        offset: usize,
        block_length: usize,
        version: u16,
    ) -> Result<(Self, usize), DecodeError> {
        let block = wire::slice(buf, offset, block_length)?;
        let pos = offset + block_length;
        let (orders_entries, pos) =
            wire::take_group::<SnapshotLevelsOrdersDecoder<'a>>(buf, pos, version)?;
        Ok((
            Self {
                fixed: wire::head::<17>(block),
                orders_entries,
            },
            pos,
        ))
    }
    #[inline]
    fn at(buf: &'a [u8], offset: usize, block_length: usize, version: u16) -> (Self, usize) {
        let pos = offset + block_length;
        let (orders_entries, pos) =
            wire::group_at::<SnapshotLevelsOrdersDecoder<'a>>(buf, pos, version);
        (
            Self {
                fixed: wire::head_at::<17>(buf, offset),
                orders_entries,
            },
            pos,
        )
    }
}

/// Encodes the entries of the group `levels`: `next_entry()` once per declared entry.
pub struct SnapshotLevelsGroupEncoder<'b> {
    buf: &'b mut [u8],
    base: usize,
    limit: &'b mut usize,
    count: u16,
    remaining: u16,
}

impl SnapshotLevelsGroupEncoder<'_> {
    const INIT_BLOCK: [u8; 17] = [0; 17];

    /// Starts the next entry (optional fields null, the rest zero); `GroupFull` past the count.
    #[inline]
    pub fn next_entry(&mut self) -> Result<SnapshotLevelsEncoder<'_>, EncodeError> {
        let start = wire::begin_entry(
            self.buf,
            self.base,
            self.limit,
            &mut self.remaining,
            self.count,
            &Self::INIT_BLOCK,
        )?;
        let (block, rest) = self.buf[start..].split_at_mut(17);
        let block: &mut [u8; 17] = block.try_into().map_err(|_| EncodeError::BufferTooSmall {
            needed: start,
            capacity: start,
        })?;
        Ok(SnapshotLevelsEncoder {
            block,
            rest,
            base: *self.limit,
            limit: &mut *self.limit,
        })
    }

    /// Entries declared but not started yet.
    #[inline]
    pub fn remaining(&self) -> u16 {
        self.remaining
    }
}

/// Encodes one entry of the group `levels`.
pub struct SnapshotLevelsEncoder<'b> {
    block: &'b mut [u8; 17],
    rest: &'b mut [u8],
    base: usize,
    limit: &'b mut usize,
}

impl SnapshotLevelsEncoder<'_> {
    /// Sets `side`.
    #[inline]
    pub fn set_side(&mut self, value: Side) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets the integer on the wire of `side`.
    #[inline]
    pub fn set_side_raw(&mut self, value: u8) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `price`.
    #[inline]
    pub fn set_price(&mut self, value: Price) -> &mut Self {
        value.write(&mut self.block[1..]);
        self
    }

    /// Sets `qty`.
    #[inline]
    pub fn set_qty(&mut self, value: Qty) -> &mut Self {
        value.write(&mut self.block[9..]);
        self
    }

    /// Writes the header of `orders`; then call `next_entry()` exactly `count` times.
    /// Groups and var-data must be written once each, in schema order.
    #[inline]
    pub fn encode_orders(
        &mut self,
        count: u16,
    ) -> Result<SnapshotLevelsOrdersGroupEncoder<'_>, EncodeError> {
        wire::put_group_header(self.rest, self.base, self.limit, 16, count)?;
        Ok(SnapshotLevelsOrdersGroupEncoder {
            buf: &mut *self.rest,
            base: self.base,
            limit: &mut *self.limit,
            count,
            remaining: count,
        })
    }

    /// Writes the whole group `orders`, one entry per item of `entries`, each block started
    /// as `next_entry()` starts it and then set by `fill`. Room for the header and every entry is
    /// checked once up front, so the entries are written at constant offsets without more checks.
    /// Instead of `encode_orders`; groups and var-data must be written once each, in schema order.
    #[inline]
    pub fn encode_orders_from<T>(
        &mut self,
        entries: &[T],
        mut fill: impl FnMut(&T, &mut SnapshotLevelsOrdersEncoder<'_>) -> Result<(), EncodeError>,
    ) -> Result<&mut Self, EncodeError> {
        let count = wire::entry_count(entries.len())?;
        let blocks = wire::put_group_entries(self.rest, self.base, self.limit, 16, count)?;
        for (x, block) in entries.iter().zip(blocks.chunks_exact_mut(16)) {
            let block: &mut [u8; 16] =
                block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                    needed: 16,
                    capacity: 0,
                })?;
            *block = SnapshotLevelsOrdersGroupEncoder::INIT_BLOCK;
            fill(x, &mut SnapshotLevelsOrdersEncoder { block })?;
        }
        Ok(self)
    }
}

/// Decodes a entry of the group `orders` in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct SnapshotLevelsOrdersDecoder<'a> {
    fixed: &'a [u8; 16],
}

impl<'a> SnapshotLevelsOrdersDecoder<'a> {
    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        16
    }

    /// `order_id` at offset 0.
    #[inline]
    pub fn order_id(&self) -> u64 {
        let block: &'a [u8; 16] = self.fixed;
        <u64>::read(block)
    }

    /// `qty` at offset 8.
    #[inline]
    pub fn qty(&self) -> Qty {
        let block: &'a [u8; 16] = self.fixed;
        <Qty>::read(&block[8..])
    }
}

impl<'a> Entry<'a> for SnapshotLevelsOrdersDecoder<'a> {
    const BLOCK_LENGTH: usize = 16;
    const HAS_ITEMS: bool = false;
    #[inline]
    fn required_block(version: u16) -> usize {
        Self::required_block(version)
    }
    #[inline]
    fn decode_at(
        buf: &'a [u8],
        offset: usize,
        block_length: usize,
        _version: u16,
    ) -> Result<(Self, usize), DecodeError> {
        let block = wire::slice(buf, offset, block_length)?;
        let pos = offset + block_length;
        Ok((
            Self {
                fixed: wire::head::<16>(block),
            },
            pos,
        ))
    }
    #[inline]
    fn at(buf: &'a [u8], offset: usize, block_length: usize, _version: u16) -> (Self, usize) {
        let pos = offset + block_length;
        (
            Self {
                fixed: wire::head_at::<16>(buf, offset),
            },
            pos,
        )
    }
}

/// Encodes the entries of the group `orders`: `next_entry()` once per declared entry.
pub struct SnapshotLevelsOrdersGroupEncoder<'b> {
    buf: &'b mut [u8],
    base: usize,
    limit: &'b mut usize,
    count: u16,
    remaining: u16,
}

impl SnapshotLevelsOrdersGroupEncoder<'_> {
    const INIT_BLOCK: [u8; 16] = [0; 16];

    /// Starts the next entry (optional fields null, the rest zero); `GroupFull` past the count.
    #[inline]
    pub fn next_entry(&mut self) -> Result<SnapshotLevelsOrdersEncoder<'_>, EncodeError> {
        let start = wire::begin_entry(
            self.buf,
            self.base,
            self.limit,
            &mut self.remaining,
            self.count,
            &Self::INIT_BLOCK,
        )?;
        let (block, _rest) = self.buf[start..].split_at_mut(16);
        let block: &mut [u8; 16] = block.try_into().map_err(|_| EncodeError::BufferTooSmall {
            needed: start,
            capacity: start,
        })?;
        Ok(SnapshotLevelsOrdersEncoder { block })
    }

    /// Entries declared but not started yet.
    #[inline]
    pub fn remaining(&self) -> u16 {
        self.remaining
    }
}

/// Encodes one entry of the group `orders`.
pub struct SnapshotLevelsOrdersEncoder<'b> {
    block: &'b mut [u8; 16],
}

impl SnapshotLevelsOrdersEncoder<'_> {
    /// Sets `order_id`.
    #[inline]
    pub fn set_order_id(&mut self, value: u64) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `qty`.
    #[inline]
    pub fn set_qty(&mut self, value: Qty) -> &mut Self {
        value.write(&mut self.block[8..]);
        self
    }
}

/// Decodes a `NewOrder` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct NewOrderDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 51],
    version: u16,
    length: usize,
}

impl<'a> NewOrderDecoder<'a> {
    /// The template id of `NewOrder`.
    pub const TEMPLATE_ID: u16 = 10;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 51;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        51
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        Ok(Self {
            block,
            fixed: wire::head::<51>(block),
            version,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// `client_order_id` at offset 0.
    #[inline]
    pub fn client_order_id(&self) -> u64 {
        let block: &'a [u8; 51] = self.fixed;
        <u64>::read(block)
    }

    /// `instrument` at offset 8.
    #[inline]
    pub fn instrument(&self) -> u32 {
        let block: &'a [u8; 51] = self.fixed;
        <u32>::read(&block[8..])
    }

    /// `symbol` at offset 12.
    #[inline]
    pub fn symbol(&self) -> &'a [u8; 12] {
        let block: &'a [u8; 51] = self.fixed;
        let b: &'a [u8] = &block[12..24];
        <&[u8; 12]>::try_from(b).unwrap_or(&[0; 12])
    }

    /// `side` at offset 24.
    #[inline]
    pub fn side(&self) -> Side {
        let block: &'a [u8; 51] = self.fixed;
        <Side>::read(&block[24..])
    }

    /// The integer on the wire of `side`, even when not a member.
    #[inline]
    pub fn side_raw(&self) -> u8 {
        let block: &'a [u8; 51] = self.fixed;
        u8::read(&block[24..])
    }

    /// `price` at offset 25.
    #[inline]
    pub fn price(&self) -> Price {
        let block: &'a [u8; 51] = self.fixed;
        <Price>::read(&block[25..])
    }

    /// `qty` at offset 33.
    #[inline]
    pub fn qty(&self) -> Qty {
        let block: &'a [u8; 51] = self.fixed;
        <Qty>::read(&block[33..])
    }

    /// `flags` at offset 41.
    #[inline]
    pub fn flags(&self) -> OrderFlags {
        let block: &'a [u8; 51] = self.fixed;
        <OrderFlags>::read(&block[41..])
    }

    /// `tif` at offset 42.
    #[inline]
    pub fn tif(&self) -> TimeInForce {
        let block: &'a [u8; 51] = self.fixed;
        <TimeInForce>::read(&block[42..])
    }

    /// The integer on the wire of `tif`, even when not a member.
    #[inline]
    pub fn tif_raw(&self) -> u8 {
        let block: &'a [u8; 51] = self.fixed;
        u8::read(&block[42..])
    }

    /// Unit: ns.
    #[inline]
    pub fn ts_sent(&self) -> u64 {
        let block: &'a [u8; 51] = self.fixed;
        <u64>::read(&block[43..])
    }
}

/// Encodes a `NewOrder` in place: fields in any order, then groups and var-data in schema order.
pub struct NewOrderEncoder<'a> {
    block: &'a mut [u8; 51],
}

impl<'a> NewOrderEncoder<'a> {
    /// The template id of `NewOrder`.
    pub const TEMPLATE_ID: u16 = 10;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 51;
    const INIT_BLOCK: [u8; 51] = [0; 51];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, _rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 51,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 51] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self { block })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH
    }

    /// Sets `client_order_id`.
    #[inline]
    pub fn set_client_order_id(&mut self, value: u64) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `instrument`.
    #[inline]
    pub fn set_instrument(&mut self, value: u32) -> &mut Self {
        value.write(&mut self.block[8..]);
        self
    }

    /// Sets `symbol`.
    /// Shorter values are NUL-padded; longer than 12 bytes is `TooLong`.
    #[inline]
    pub fn set_symbol(&mut self, value: &[u8]) -> Result<&mut Self, EncodeError> {
        wire::put_chars(&mut self.block[12..24], value)?;
        Ok(self)
    }

    /// Sets `symbol` to the first 12 bytes of `value` at most, dropping the rest.
    #[inline]
    pub fn set_symbol_truncated(&mut self, value: &[u8]) -> &mut Self {
        wire::put_chars_truncated(&mut self.block[12..24], value);
        self
    }

    /// Sets `side`.
    #[inline]
    pub fn set_side(&mut self, value: Side) -> &mut Self {
        value.write(&mut self.block[24..]);
        self
    }

    /// Sets the integer on the wire of `side`.
    #[inline]
    pub fn set_side_raw(&mut self, value: u8) -> &mut Self {
        value.write(&mut self.block[24..]);
        self
    }

    /// Sets `price`.
    #[inline]
    pub fn set_price(&mut self, value: Price) -> &mut Self {
        value.write(&mut self.block[25..]);
        self
    }

    /// Sets `qty`.
    #[inline]
    pub fn set_qty(&mut self, value: Qty) -> &mut Self {
        value.write(&mut self.block[33..]);
        self
    }

    /// Sets `flags`.
    #[inline]
    pub fn set_flags(&mut self, value: OrderFlags) -> &mut Self {
        value.write(&mut self.block[41..]);
        self
    }

    /// Sets `tif`.
    #[inline]
    pub fn set_tif(&mut self, value: TimeInForce) -> &mut Self {
        value.write(&mut self.block[42..]);
        self
    }

    /// Sets the integer on the wire of `tif`.
    #[inline]
    pub fn set_tif_raw(&mut self, value: u8) -> &mut Self {
        value.write(&mut self.block[42..]);
        self
    }

    /// Sets `ts_sent`.
    #[inline]
    pub fn set_ts_sent(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[43..]);
        self
    }
}

/// Decodes a `ExecutionReport` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct ExecutionReportDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 75],
    version: u16,
    reject_reason_bytes: &'a [u8],
    length: usize,
}

impl<'a> ExecutionReportDecoder<'a> {
    /// The template id of `ExecutionReport`.
    pub const TEMPLATE_ID: u16 = 11;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 75;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        75
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        let (reject_reason_bytes, pos) = wire::take_var(buf, pos)?;
        Ok(Self {
            block,
            fixed: wire::head::<75>(block),
            version,
            reject_reason_bytes,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// `client_order_id` at offset 0.
    #[inline]
    pub fn client_order_id(&self) -> u64 {
        let block: &'a [u8; 75] = self.fixed;
        <u64>::read(block)
    }

    /// The replaced order, on a replace; else 0.
    #[inline]
    pub fn orig_client_order_id(&self) -> u64 {
        let block: &'a [u8; 75] = self.fixed;
        <u64>::read(&block[8..])
    }

    /// `exec_id` at offset 16.
    #[inline]
    pub fn exec_id(&self) -> u64 {
        let block: &'a [u8; 75] = self.fixed;
        <u64>::read(&block[16..])
    }

    /// `exec_type` at offset 24.
    #[inline]
    pub fn exec_type(&self) -> ExecType {
        let block: &'a [u8; 75] = self.fixed;
        <ExecType>::read(&block[24..])
    }

    /// The integer on the wire of `exec_type`, even when not a member.
    #[inline]
    pub fn exec_type_raw(&self) -> u8 {
        let block: &'a [u8; 75] = self.fixed;
        u8::read(&block[24..])
    }

    /// `order_status` at offset 25.
    #[inline]
    pub fn order_status(&self) -> OrderStatus {
        let block: &'a [u8; 75] = self.fixed;
        <OrderStatus>::read(&block[25..])
    }

    /// The integer on the wire of `order_status`, even when not a member.
    #[inline]
    pub fn order_status_raw(&self) -> u8 {
        let block: &'a [u8; 75] = self.fixed;
        u8::read(&block[25..])
    }

    /// `side` at offset 26.
    #[inline]
    pub fn side(&self) -> Side {
        let block: &'a [u8; 75] = self.fixed;
        <Side>::read(&block[26..])
    }

    /// The integer on the wire of `side`, even when not a member.
    #[inline]
    pub fn side_raw(&self) -> u8 {
        let block: &'a [u8; 75] = self.fixed;
        u8::read(&block[26..])
    }

    /// `last_price` at offset 27.
    #[inline]
    pub fn last_price(&self) -> Price {
        let block: &'a [u8; 75] = self.fixed;
        <Price>::read(&block[27..])
    }

    /// `last_qty` at offset 35.
    #[inline]
    pub fn last_qty(&self) -> Qty {
        let block: &'a [u8; 75] = self.fixed;
        <Qty>::read(&block[35..])
    }

    /// `leaves_qty` at offset 43.
    #[inline]
    pub fn leaves_qty(&self) -> Qty {
        let block: &'a [u8; 75] = self.fixed;
        <Qty>::read(&block[43..])
    }

    /// `cum_qty` at offset 51.
    #[inline]
    pub fn cum_qty(&self) -> Qty {
        let block: &'a [u8; 75] = self.fixed;
        <Qty>::read(&block[51..])
    }

    /// `seq` at offset 59.
    #[inline]
    pub fn seq(&self) -> u64 {
        let block: &'a [u8; 75] = self.fixed;
        <u64>::read(&block[59..])
    }

    /// Unit: ns.
    #[inline]
    pub fn ts_exchange(&self) -> u64 {
        let block: &'a [u8; 75] = self.fixed;
        <u64>::read(&block[67..])
    }

    /// Empty unless rejected.
    #[inline]
    pub fn reject_reason(&self) -> &'a [u8] {
        self.reject_reason_bytes
    }

    /// `reject_reason` as text; `InvalidUtf8` when it is not UTF-8.
    #[inline]
    pub fn reject_reason_str(&self) -> Result<&'a str, DecodeError> {
        wire::utf8(self.reject_reason_bytes)
    }
}

/// Encodes a `ExecutionReport` in place: fields in any order, then groups and var-data in schema order.
pub struct ExecutionReportEncoder<'a> {
    block: &'a mut [u8; 75],
    rest: &'a mut [u8],
    limit: usize,
}

impl<'a> ExecutionReportEncoder<'a> {
    /// The template id of `ExecutionReport`.
    pub const TEMPLATE_ID: u16 = 11;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 75;
    const INIT_BLOCK: [u8; 75] = [0; 75];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 75,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 75] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self {
            block,
            rest,
            limit: 0,
        })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH + self.limit
    }

    /// Sets `client_order_id`.
    #[inline]
    pub fn set_client_order_id(&mut self, value: u64) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `orig_client_order_id`.
    #[inline]
    pub fn set_orig_client_order_id(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[8..]);
        self
    }

    /// Sets `exec_id`.
    #[inline]
    pub fn set_exec_id(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[16..]);
        self
    }

    /// Sets `exec_type`.
    #[inline]
    pub fn set_exec_type(&mut self, value: ExecType) -> &mut Self {
        value.write(&mut self.block[24..]);
        self
    }

    /// Sets the integer on the wire of `exec_type`.
    #[inline]
    pub fn set_exec_type_raw(&mut self, value: u8) -> &mut Self {
        value.write(&mut self.block[24..]);
        self
    }

    /// Sets `order_status`.
    #[inline]
    pub fn set_order_status(&mut self, value: OrderStatus) -> &mut Self {
        value.write(&mut self.block[25..]);
        self
    }

    /// Sets the integer on the wire of `order_status`.
    #[inline]
    pub fn set_order_status_raw(&mut self, value: u8) -> &mut Self {
        value.write(&mut self.block[25..]);
        self
    }

    /// Sets `side`.
    #[inline]
    pub fn set_side(&mut self, value: Side) -> &mut Self {
        value.write(&mut self.block[26..]);
        self
    }

    /// Sets the integer on the wire of `side`.
    #[inline]
    pub fn set_side_raw(&mut self, value: u8) -> &mut Self {
        value.write(&mut self.block[26..]);
        self
    }

    /// Sets `last_price`.
    #[inline]
    pub fn set_last_price(&mut self, value: Price) -> &mut Self {
        value.write(&mut self.block[27..]);
        self
    }

    /// Sets `last_qty`.
    #[inline]
    pub fn set_last_qty(&mut self, value: Qty) -> &mut Self {
        value.write(&mut self.block[35..]);
        self
    }

    /// Sets `leaves_qty`.
    #[inline]
    pub fn set_leaves_qty(&mut self, value: Qty) -> &mut Self {
        value.write(&mut self.block[43..]);
        self
    }

    /// Sets `cum_qty`.
    #[inline]
    pub fn set_cum_qty(&mut self, value: Qty) -> &mut Self {
        value.write(&mut self.block[51..]);
        self
    }

    /// Sets `seq`.
    #[inline]
    pub fn set_seq(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[59..]);
        self
    }

    /// Sets `ts_exchange`.
    #[inline]
    pub fn set_ts_exchange(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[67..]);
        self
    }

    /// Writes the var-data `reject_reason` (utf8), in schema order.
    #[inline]
    pub fn put_reject_reason(&mut self, value: &[u8]) -> Result<&mut Self, EncodeError> {
        wire::put_var(self.rest, 0, &mut self.limit, value)?;
        Ok(self)
    }
}

/// Decodes a `CancelOrder` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct CancelOrderDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 37],
    version: u16,
    length: usize,
}

impl<'a> CancelOrderDecoder<'a> {
    /// The template id of `CancelOrder`.
    pub const TEMPLATE_ID: u16 = 12;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 37;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        37
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        Ok(Self {
            block,
            fixed: wire::head::<37>(block),
            version,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// Id of this request.
    #[inline]
    pub fn client_order_id(&self) -> u64 {
        let block: &'a [u8; 37] = self.fixed;
        <u64>::read(block)
    }

    /// The order to cancel.
    #[inline]
    pub fn orig_client_order_id(&self) -> u64 {
        let block: &'a [u8; 37] = self.fixed;
        <u64>::read(&block[8..])
    }

    /// `instrument` at offset 16.
    #[inline]
    pub fn instrument(&self) -> u32 {
        let block: &'a [u8; 37] = self.fixed;
        <u32>::read(&block[16..])
    }

    /// `side` at offset 20.
    #[inline]
    pub fn side(&self) -> Side {
        let block: &'a [u8; 37] = self.fixed;
        <Side>::read(&block[20..])
    }

    /// The integer on the wire of `side`, even when not a member.
    #[inline]
    pub fn side_raw(&self) -> u8 {
        let block: &'a [u8; 37] = self.fixed;
        u8::read(&block[20..])
    }

    /// `seq` at offset 21.
    #[inline]
    pub fn seq(&self) -> u64 {
        let block: &'a [u8; 37] = self.fixed;
        <u64>::read(&block[21..])
    }

    /// Unit: ns.
    #[inline]
    pub fn ts_sent(&self) -> u64 {
        let block: &'a [u8; 37] = self.fixed;
        <u64>::read(&block[29..])
    }
}

/// Encodes a `CancelOrder` in place: fields in any order, then groups and var-data in schema order.
pub struct CancelOrderEncoder<'a> {
    block: &'a mut [u8; 37],
}

impl<'a> CancelOrderEncoder<'a> {
    /// The template id of `CancelOrder`.
    pub const TEMPLATE_ID: u16 = 12;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 37;
    const INIT_BLOCK: [u8; 37] = [0; 37];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, _rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 37,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 37] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self { block })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH
    }

    /// Sets `client_order_id`.
    #[inline]
    pub fn set_client_order_id(&mut self, value: u64) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `orig_client_order_id`.
    #[inline]
    pub fn set_orig_client_order_id(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[8..]);
        self
    }

    /// Sets `instrument`.
    #[inline]
    pub fn set_instrument(&mut self, value: u32) -> &mut Self {
        value.write(&mut self.block[16..]);
        self
    }

    /// Sets `side`.
    #[inline]
    pub fn set_side(&mut self, value: Side) -> &mut Self {
        value.write(&mut self.block[20..]);
        self
    }

    /// Sets the integer on the wire of `side`.
    #[inline]
    pub fn set_side_raw(&mut self, value: u8) -> &mut Self {
        value.write(&mut self.block[20..]);
        self
    }

    /// Sets `seq`.
    #[inline]
    pub fn set_seq(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[21..]);
        self
    }

    /// Sets `ts_sent`.
    #[inline]
    pub fn set_ts_sent(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[29..]);
        self
    }
}

/// Decodes a `ReplaceOrder` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct ReplaceOrderDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 53],
    version: u16,
    length: usize,
}

impl<'a> ReplaceOrderDecoder<'a> {
    /// The template id of `ReplaceOrder`.
    pub const TEMPLATE_ID: u16 = 13;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 53;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        53
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        Ok(Self {
            block,
            fixed: wire::head::<53>(block),
            version,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// Id of the order after the replace.
    #[inline]
    pub fn client_order_id(&self) -> u64 {
        let block: &'a [u8; 53] = self.fixed;
        <u64>::read(block)
    }

    /// The order replaced.
    #[inline]
    pub fn orig_client_order_id(&self) -> u64 {
        let block: &'a [u8; 53] = self.fixed;
        <u64>::read(&block[8..])
    }

    /// `instrument` at offset 16.
    #[inline]
    pub fn instrument(&self) -> u32 {
        let block: &'a [u8; 53] = self.fixed;
        <u32>::read(&block[16..])
    }

    /// `side` at offset 20.
    #[inline]
    pub fn side(&self) -> Side {
        let block: &'a [u8; 53] = self.fixed;
        <Side>::read(&block[20..])
    }

    /// The integer on the wire of `side`, even when not a member.
    #[inline]
    pub fn side_raw(&self) -> u8 {
        let block: &'a [u8; 53] = self.fixed;
        u8::read(&block[20..])
    }

    /// `price` at offset 21.
    #[inline]
    pub fn price(&self) -> Price {
        let block: &'a [u8; 53] = self.fixed;
        <Price>::read(&block[21..])
    }

    /// `qty` at offset 29.
    #[inline]
    pub fn qty(&self) -> Qty {
        let block: &'a [u8; 53] = self.fixed;
        <Qty>::read(&block[29..])
    }

    /// `seq` at offset 37.
    #[inline]
    pub fn seq(&self) -> u64 {
        let block: &'a [u8; 53] = self.fixed;
        <u64>::read(&block[37..])
    }

    /// Unit: ns.
    #[inline]
    pub fn ts_sent(&self) -> u64 {
        let block: &'a [u8; 53] = self.fixed;
        <u64>::read(&block[45..])
    }
}

/// Encodes a `ReplaceOrder` in place: fields in any order, then groups and var-data in schema order.
pub struct ReplaceOrderEncoder<'a> {
    block: &'a mut [u8; 53],
}

impl<'a> ReplaceOrderEncoder<'a> {
    /// The template id of `ReplaceOrder`.
    pub const TEMPLATE_ID: u16 = 13;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 53;
    const INIT_BLOCK: [u8; 53] = [0; 53];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, _rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 53,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 53] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self { block })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH
    }

    /// Sets `client_order_id`.
    #[inline]
    pub fn set_client_order_id(&mut self, value: u64) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `orig_client_order_id`.
    #[inline]
    pub fn set_orig_client_order_id(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[8..]);
        self
    }

    /// Sets `instrument`.
    #[inline]
    pub fn set_instrument(&mut self, value: u32) -> &mut Self {
        value.write(&mut self.block[16..]);
        self
    }

    /// Sets `side`.
    #[inline]
    pub fn set_side(&mut self, value: Side) -> &mut Self {
        value.write(&mut self.block[20..]);
        self
    }

    /// Sets the integer on the wire of `side`.
    #[inline]
    pub fn set_side_raw(&mut self, value: u8) -> &mut Self {
        value.write(&mut self.block[20..]);
        self
    }

    /// Sets `price`.
    #[inline]
    pub fn set_price(&mut self, value: Price) -> &mut Self {
        value.write(&mut self.block[21..]);
        self
    }

    /// Sets `qty`.
    #[inline]
    pub fn set_qty(&mut self, value: Qty) -> &mut Self {
        value.write(&mut self.block[29..]);
        self
    }

    /// Sets `seq`.
    #[inline]
    pub fn set_seq(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[37..]);
        self
    }

    /// Sets `ts_sent`.
    #[inline]
    pub fn set_ts_sent(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[45..]);
        self
    }
}

/// Decodes a `OrderReject` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct OrderRejectDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 26],
    version: u16,
    length: usize,
}

impl<'a> OrderRejectDecoder<'a> {
    /// The template id of `OrderReject`.
    pub const TEMPLATE_ID: u16 = 14;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 26;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        26
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        Ok(Self {
            block,
            fixed: wire::head::<26>(block),
            version,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// `client_order_id` at offset 0.
    #[inline]
    pub fn client_order_id(&self) -> u64 {
        let block: &'a [u8; 26] = self.fixed;
        <u64>::read(block)
    }

    /// Venue reason code.
    #[inline]
    pub fn reject_code(&self) -> u16 {
        let block: &'a [u8; 26] = self.fixed;
        <u16>::read(&block[8..])
    }

    /// `seq` at offset 10.
    #[inline]
    pub fn seq(&self) -> u64 {
        let block: &'a [u8; 26] = self.fixed;
        <u64>::read(&block[10..])
    }

    /// Unit: ns.
    #[inline]
    pub fn ts_exchange(&self) -> u64 {
        let block: &'a [u8; 26] = self.fixed;
        <u64>::read(&block[18..])
    }
}

/// Encodes a `OrderReject` in place: fields in any order, then groups and var-data in schema order.
pub struct OrderRejectEncoder<'a> {
    block: &'a mut [u8; 26],
}

impl<'a> OrderRejectEncoder<'a> {
    /// The template id of `OrderReject`.
    pub const TEMPLATE_ID: u16 = 14;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 26;
    const INIT_BLOCK: [u8; 26] = [0; 26];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, _rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 26,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 26] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self { block })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH
    }

    /// Sets `client_order_id`.
    #[inline]
    pub fn set_client_order_id(&mut self, value: u64) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `reject_code`.
    #[inline]
    pub fn set_reject_code(&mut self, value: u16) -> &mut Self {
        value.write(&mut self.block[8..]);
        self
    }

    /// Sets `seq`.
    #[inline]
    pub fn set_seq(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[10..]);
        self
    }

    /// Sets `ts_exchange`.
    #[inline]
    pub fn set_ts_exchange(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[18..]);
        self
    }
}

/// Decodes a `Logon` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct LogonDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 84],
    version: u16,
    length: usize,
}

impl<'a> LogonDecoder<'a> {
    /// The template id of `Logon`.
    pub const TEMPLATE_ID: u16 = 20;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 84;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        84
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        Ok(Self {
            block,
            fixed: wire::head::<84>(block),
            version,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// `seq` at offset 0.
    #[inline]
    pub fn seq(&self) -> u64 {
        let block: &'a [u8; 84] = self.fixed;
        <u64>::read(block)
    }

    /// `heartbeat_ms` at offset 8.
    #[inline]
    pub fn heartbeat_ms(&self) -> u32 {
        let block: &'a [u8; 84] = self.fixed;
        <u32>::read(&block[8..])
    }

    /// `api_key` at offset 12.
    #[inline]
    pub fn api_key(&self) -> &'a [u8; 64] {
        let block: &'a [u8; 84] = self.fixed;
        let b: &'a [u8] = &block[12..76];
        <&[u8; 64]>::try_from(b).unwrap_or(&[0; 64])
    }

    /// Unit: ns.
    #[inline]
    pub fn ts_sent(&self) -> u64 {
        let block: &'a [u8; 84] = self.fixed;
        <u64>::read(&block[76..])
    }
}

/// Encodes a `Logon` in place: fields in any order, then groups and var-data in schema order.
pub struct LogonEncoder<'a> {
    block: &'a mut [u8; 84],
}

impl<'a> LogonEncoder<'a> {
    /// The template id of `Logon`.
    pub const TEMPLATE_ID: u16 = 20;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 84;
    const INIT_BLOCK: [u8; 84] = [0; 84];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, _rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 84,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 84] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self { block })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH
    }

    /// Sets `seq`.
    #[inline]
    pub fn set_seq(&mut self, value: u64) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `heartbeat_ms`.
    #[inline]
    pub fn set_heartbeat_ms(&mut self, value: u32) -> &mut Self {
        value.write(&mut self.block[8..]);
        self
    }

    /// Sets `api_key`.
    /// Shorter values are NUL-padded; longer than 64 bytes is `TooLong`.
    #[inline]
    pub fn set_api_key(&mut self, value: &[u8]) -> Result<&mut Self, EncodeError> {
        wire::put_chars(&mut self.block[12..76], value)?;
        Ok(self)
    }

    /// Sets `api_key` to the first 64 bytes of `value` at most, dropping the rest.
    #[inline]
    pub fn set_api_key_truncated(&mut self, value: &[u8]) -> &mut Self {
        wire::put_chars_truncated(&mut self.block[12..76], value);
        self
    }

    /// Sets `ts_sent`.
    #[inline]
    pub fn set_ts_sent(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[76..]);
        self
    }
}

/// Decodes a `Logout` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct LogoutDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 18],
    version: u16,
    length: usize,
}

impl<'a> LogoutDecoder<'a> {
    /// The template id of `Logout`.
    pub const TEMPLATE_ID: u16 = 21;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 18;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        18
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        Ok(Self {
            block,
            fixed: wire::head::<18>(block),
            version,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// `seq` at offset 0.
    #[inline]
    pub fn seq(&self) -> u64 {
        let block: &'a [u8; 18] = self.fixed;
        <u64>::read(block)
    }

    /// 0 on a normal close.
    #[inline]
    pub fn reason(&self) -> u16 {
        let block: &'a [u8; 18] = self.fixed;
        <u16>::read(&block[8..])
    }

    /// Unit: ns.
    #[inline]
    pub fn ts_sent(&self) -> u64 {
        let block: &'a [u8; 18] = self.fixed;
        <u64>::read(&block[10..])
    }
}

/// Encodes a `Logout` in place: fields in any order, then groups and var-data in schema order.
pub struct LogoutEncoder<'a> {
    block: &'a mut [u8; 18],
}

impl<'a> LogoutEncoder<'a> {
    /// The template id of `Logout`.
    pub const TEMPLATE_ID: u16 = 21;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 18;
    const INIT_BLOCK: [u8; 18] = [0; 18];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, _rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 18,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 18] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self { block })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH
    }

    /// Sets `seq`.
    #[inline]
    pub fn set_seq(&mut self, value: u64) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `reason`.
    #[inline]
    pub fn set_reason(&mut self, value: u16) -> &mut Self {
        value.write(&mut self.block[8..]);
        self
    }

    /// Sets `ts_sent`.
    #[inline]
    pub fn set_ts_sent(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[10..]);
        self
    }
}

/// Decodes a `Heartbeat` message in place: every length was checked when it was wrapped.
#[derive(Clone, Copy)]
pub struct HeartbeatDecoder<'a> {
    block: &'a [u8],
    fixed: &'a [u8; 16],
    version: u16,
    length: usize,
}

impl<'a> HeartbeatDecoder<'a> {
    /// The template id of `Heartbeat`.
    pub const TEMPLATE_ID: u16 = 22;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 16;

    /// The block bytes the fields of `version` and older need.
    #[inline]
    pub const fn required_block(_version: u16) -> usize {
        16
    }

    /// Reads the header at `offset` and checks the whole message against the buffer.
    #[inline]
    pub fn wrap(buf: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(buf, offset)?;
        if header.template_id != Self::TEMPLATE_ID {
            return Err(DecodeError::WrongTemplate {
                expected: Self::TEMPLATE_ID,
                found: header.template_id,
            });
        }
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchema {
                expected: SCHEMA_ID,
                found: header.schema_id,
            });
        }
        let version = header.version;
        let block_length = usize::from(header.block_length);
        let required = Self::required_block(version);
        if block_length < required {
            return Err(DecodeError::BlockTooShort {
                block_length,
                required,
            });
        }
        let start = offset + MESSAGE_HEADER_SIZE;
        let block = wire::slice(buf, start, block_length)?;
        let pos = start + block_length;
        Ok(Self {
            block,
            fixed: wire::head::<16>(block),
            version,
            length: pos - offset,
        })
    }

    /// Bytes from the header to the end of the message.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        self.length
    }

    /// The schema version the message was written with (the header's).
    #[inline]
    pub fn acting_version(&self) -> u16 {
        self.version
    }

    /// The block length the header declares.
    #[inline]
    pub fn acting_block_length(&self) -> usize {
        self.block.len()
    }

    /// `seq` at offset 0.
    #[inline]
    pub fn seq(&self) -> u64 {
        let block: &'a [u8; 16] = self.fixed;
        <u64>::read(block)
    }

    /// Unit: ns.
    #[inline]
    pub fn ts_sent(&self) -> u64 {
        let block: &'a [u8; 16] = self.fixed;
        <u64>::read(&block[8..])
    }
}

/// Encodes a `Heartbeat` in place: fields in any order, then groups and var-data in schema order.
pub struct HeartbeatEncoder<'a> {
    block: &'a mut [u8; 16],
}

impl<'a> HeartbeatEncoder<'a> {
    /// The template id of `Heartbeat`.
    pub const TEMPLATE_ID: u16 = 22;
    /// The block length this schema writes.
    pub const BLOCK_LENGTH: usize = 16;
    const INIT_BLOCK: [u8; 16] = [0; 16];

    /// Writes the header at `offset` and starts the block: optional fields null, the rest zero.
    #[inline]
    pub fn wrap_and_apply_header(buf: &'a mut [u8], offset: usize) -> Result<Self, EncodeError> {
        let end = wire::room(buf, offset, MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH)?;
        let (head, _rest) = buf[offset..].split_at_mut(end - offset);
        let (header, block) = head.split_at_mut(MESSAGE_HEADER_SIZE);
        MessageHeader {
            block_length: 16,
            template_id: Self::TEMPLATE_ID,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
        .write(header);
        let block: &'a mut [u8; 16] =
            block.try_into().map_err(|_| EncodeError::BufferTooSmall {
                needed: end,
                capacity: end,
            })?;
        *block = Self::INIT_BLOCK;
        Ok(Self { block })
    }

    /// Bytes written from the header to the end of the message so far.
    #[inline]
    pub fn encoded_length(&self) -> usize {
        MESSAGE_HEADER_SIZE + Self::BLOCK_LENGTH
    }

    /// Sets `seq`.
    #[inline]
    pub fn set_seq(&mut self, value: u64) -> &mut Self {
        value.write(self.block.as_mut_slice());
        self
    }

    /// Sets `ts_sent`.
    #[inline]
    pub fn set_ts_sent(&mut self, value: u64) -> &mut Self {
        value.write(&mut self.block[8..]);
        self
    }
}
