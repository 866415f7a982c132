"""hftbacktest 2.4.4's PartialFillExchange made usable by the comparison scripts in this folder.

hftc's engine fills resting orders partially (whole lots, as its queue model frees them), which is
hftbacktest's `partial_fill_exchange()`. In 2.4.4 that exchange has two bugs that a strategy must
work around to run a whole tape with correct figures:

1. Exact fill left in the book (hftbacktest issue #312): when the queue model frees exactly the
   order's remaining quantity (`filled_qty == leaves_qty`, e.g. a queue fill of one lot for a one-lot
   order), the order is marked `Filled` but not removed from the exchange's book; the next trade
   or best-price move at its level tries to fill it again and `wait_next_feed` returns 14
   (`InvalidOrderStatus`), ending the backtest. Workaround: `order_qty` sends each order
   `QTY_SHORT` of a lot below its size, so a fill of all the order's lots is larger than its
   remaining quantity and takes the branch that removes it. Every fill still counts whole lots.
2. Partial fills not in the local state (issues #299, #316): the local processor applies a fill
   to `position`, `balance`, `fee` and `num_trades` only on a `Filled` response, and then only
   that response's last chunk, so `state_values()` and `position()` miss the partial fills.
   Workaround: `account` reads every local order's executed quantity (`qty - leaves_qty`, which
   each response carries cumulatively) and books what is new, at the order's price (resting
   post-only orders always fill as maker at their own price), with hftbacktest's own asset
   formulas for the traded amount.

Both are numba functions for the strategy loop; `jitted()` builds them once (numba is imported
only then, so the scripts' `--help` and hftc-only paths need neither numba nor hftbacktest).
"""

from __future__ import annotations

#: How far below its size, in lots, each order is sent (workaround 1).
QTY_SHORT = 1e-9

#: Layout of the float64 account array `account` updates.
POSITION_LOTS, BALANCE, FEE, FILLS, TRADED_LOTS, EXPIRED_ORDERS = range(6)
ACCOUNT_SIZE = 6

_JITTED = None


def jitted():
    """(order_qty, account, new_book): the numba helpers, compiled on first use."""
    global _JITTED
    if _JITTED is None:
        _JITTED = _build()
    return _JITTED


def _build():
    from hftbacktest.order import BUY, EXPIRED, NEW, PARTIALLY_FILLED
    from numba import njit, types
    from numba.typed import Dict

    @njit
    def order_qty(lots, lot):
        """The quantity to send for `lots` lots (see workaround 1)."""
        return (lots - QTY_SHORT) * lot

    @njit
    def new_book():
        """Lots already booked per order id."""
        return Dict.empty(key_type=types.uint64, value_type=types.int64)

    @njit
    def account(hbt, book, acct, lot, multiplier, inverse, maker_fee):
        """Book the executions the local orders report since the last call (see workaround 2).

        Call before every `clear_inactive_orders`, which drops filled, cancelled and expired orders
        (so each expired order, a post-only order rejected on arrival, is counted once). The traded
        amount is hftbacktest's: price x qty x multiplier (linear) or multiplier x qty / price
        (inverse); balance moves by -side x amount and the fee is the maker rate of the amount.
        """
        values = hbt.orders(0).values()
        while values.has_next():
            order = values.get()
            done = int(round((order.qty - order.leaves_qty) / lot))  # noqa: RUF046 - numba types
            seen = book.get(order.order_id, 0)
            if done > seen:
                lots = done - seen
                qty = lots * lot
                amount = multiplier * qty / order.price if inverse else multiplier * qty * order.price
                side = 1 if order.side == BUY else -1
                acct[POSITION_LOTS] += side * lots
                acct[BALANCE] -= side * amount
                acct[FEE] += maker_fee * amount
                acct[FILLS] += 1
                acct[TRADED_LOTS] += lots
                book[order.order_id] = done
            if order.status == EXPIRED:
                acct[EXPIRED_ORDERS] += 1
            if order.status != NEW and order.status != PARTIALLY_FILLED and order.order_id in book:
                del book[order.order_id]
        return acct[POSITION_LOTS] * lot

    return order_qty, account, new_book
