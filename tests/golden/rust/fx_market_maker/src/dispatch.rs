//! Decode any message of `fx.mm` by its template id and hand it to a [`Handler`].

#![forbid(unsafe_code)]

use crate::messages::{
    BookDeltaDecoder, ExecutionReportDecoder, NewOrderDecoder, SnapshotDecoder, TradeDecoder,
};
use crate::wire::{DecodeError, MessageHeader, SCHEMA_ID};

/// One method per message; each defaults to ignoring it.
pub trait Handler {
    /// A `BookDelta` (template 1).
    fn on_book_delta(&mut self, message: BookDeltaDecoder<'_>) {
        let _ = message;
    }

    /// A `Trade` (template 2).
    fn on_trade(&mut self, message: TradeDecoder<'_>) {
        let _ = message;
    }

    /// A `Snapshot` (template 3).
    fn on_snapshot(&mut self, message: SnapshotDecoder<'_>) {
        let _ = message;
    }

    /// A `NewOrder` (template 10).
    fn on_new_order(&mut self, message: NewOrderDecoder<'_>) {
        let _ = message;
    }

    /// A `ExecutionReport` (template 11).
    fn on_execution_report(&mut self, message: ExecutionReportDecoder<'_>) {
        let _ = message;
    }
}

/// Decodes the message at `offset` and calls the handler's method for it; returns the
/// message's length on the wire. Unknown templates and other schemas are errors.
#[inline]
pub fn dispatch<H: Handler + ?Sized>(
    buf: &[u8],
    offset: usize,
    handler: &mut H,
) -> Result<usize, DecodeError> {
    let header = MessageHeader::read(buf, offset)?;
    if header.schema_id != SCHEMA_ID {
        return Err(DecodeError::WrongSchema {
            expected: SCHEMA_ID,
            found: header.schema_id,
        });
    }
    match header.template_id {
        1 => {
            let message = BookDeltaDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_book_delta(message);
            Ok(length)
        }
        2 => {
            let message = TradeDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_trade(message);
            Ok(length)
        }
        3 => {
            let message = SnapshotDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_snapshot(message);
            Ok(length)
        }
        10 => {
            let message = NewOrderDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_new_order(message);
            Ok(length)
        }
        11 => {
            let message = ExecutionReportDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_execution_report(message);
            Ok(length)
        }
        other => Err(DecodeError::UnknownTemplate(other)),
    }
}

/// Dispatches every message of a buffer holding messages laid end to end; returns how many.
pub fn dispatch_all<H: Handler + ?Sized>(
    buf: &[u8],
    handler: &mut H,
) -> Result<usize, DecodeError> {
    let mut offset = 0;
    let mut count = 0;
    while offset < buf.len() {
        offset += dispatch(buf, offset, handler)?;
        count += 1;
    }
    Ok(count)
}
