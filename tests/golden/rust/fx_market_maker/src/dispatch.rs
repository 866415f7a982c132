//! Decode any message of `fx.mm` by its template id and hand it to a [`Handler`].

#![forbid(unsafe_code)]

use crate::messages::{
    BookDeltaDecoder, CancelOrderDecoder, ExecutionReportDecoder, HeartbeatDecoder, LogonDecoder,
    LogoutDecoder, NewOrderDecoder, OrderRejectDecoder, ReplaceOrderDecoder, SnapshotDecoder,
    TradeDecoder,
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

    /// A `CancelOrder` (template 12).
    fn on_cancel_order(&mut self, message: CancelOrderDecoder<'_>) {
        let _ = message;
    }

    /// A `ReplaceOrder` (template 13).
    fn on_replace_order(&mut self, message: ReplaceOrderDecoder<'_>) {
        let _ = message;
    }

    /// A `OrderReject` (template 14).
    fn on_order_reject(&mut self, message: OrderRejectDecoder<'_>) {
        let _ = message;
    }

    /// A `Logon` (template 20).
    fn on_logon(&mut self, message: LogonDecoder<'_>) {
        let _ = message;
    }

    /// A `Logout` (template 21).
    fn on_logout(&mut self, message: LogoutDecoder<'_>) {
        let _ = message;
    }

    /// A `Heartbeat` (template 22).
    fn on_heartbeat(&mut self, message: HeartbeatDecoder<'_>) {
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
        12 => {
            let message = CancelOrderDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_cancel_order(message);
            Ok(length)
        }
        13 => {
            let message = ReplaceOrderDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_replace_order(message);
            Ok(length)
        }
        14 => {
            let message = OrderRejectDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_order_reject(message);
            Ok(length)
        }
        20 => {
            let message = LogonDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_logon(message);
            Ok(length)
        }
        21 => {
            let message = LogoutDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_logout(message);
            Ok(length)
        }
        22 => {
            let message = HeartbeatDecoder::wrap(buf, offset)?;
            let length = message.encoded_length();
            handler.on_heartbeat(message);
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
