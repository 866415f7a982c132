"""Feed roles: which message plays which part in a trading pipeline, and which field means what.

A message's role is declared with `role:` (and its fields named with `fields_map:` when they do
not follow the conventions), or inferred from field names when `role` is absent: an input of a
feed handler is tried as each market data role, a gateway's output as a new order. One table
drives the checks, the inference, the editor schema and the documentation, so adding a role is
adding one entry here and teaching the backends what to do with it.

Order-entry roles (cancel, replace, order_reject, logon, logout, heartbeat) are the messages of the
order-entry session beside the gateway's new order; they are never inferred (a cancel looks like
half of any message), only declared, and each may be declared by at most one message.
"""

from __future__ import annotations

from dataclasses import dataclass

#: What a field of each field role must be.
FIELD_KINDS = {
    "price": "decimal",
    "qty": "quantity",  # a decimal, or an integer counted in whole units
    "side": "side",  # an enum with buy/bid and sell/ask/offer values
    "bid_price": "decimal",
    "bid_qty": "quantity",
    "ask_price": "decimal",
    "ask_qty": "quantity",
    "levels": "group",  # a repeating group; `side`, `price`, `qty` are fields of its entries
    "instrument": "unsigned",  # the venue's numeric instrument id
    "symbol": "chars",  # the venue's instrument symbol, looked up in the feed's `instruments`
    "seq": "unsigned",
    "ts": "integer",  # nanoseconds
    "client_order_id": "integer",
    "orig_client_order_id": "integer",  # the order a cancel or replace acts on
    "order_type": "code",  # limit, market...
    "tif": "code",  # time in force: gtc, ioc, fok, post-only (gtx)...
    "flags": "code",  # order instructions, e.g. a set with post_only, ioc
    "exec_type": "code",  # what an execution report reports: new, trade, canceled, replaced, rejected
    "order_status": "code",  # the order's state after it
    "leaves_qty": "quantity",
    "cum_qty": "quantity",
    "reject_reason": "code",  # a reason code; free text travels as var-data
    "credentials": "chars",  # filled from the gateway's `credentials` reference, never from the schema
    "heartbeat_interval": "unsigned",
}

#: Words for the diagnostics and the docs.
KIND_TEXT = {
    "decimal": "a decimal",
    "quantity": "a decimal or an integer",
    "side": "an enum with buy/sell values",
    "group": "a repeating group",
    "unsigned": "an unsigned integer",
    "chars": "a char array",
    "integer": "an integer",
    "code": "an enum, a set or an unsigned integer",
}

#: Names tried, in order, for each field role when `fields_map` does not name its field.
CONVENTIONS = {
    "price": ("price", "px"),
    "qty": ("qty", "quantity", "size"),
    "side": ("side",),
    "bid_price": ("bid_price", "bid_px"),
    "bid_qty": ("bid_qty", "bid_size", "bid_quantity"),
    "ask_price": ("ask_price", "ask_px"),
    "ask_qty": ("ask_qty", "ask_size", "ask_quantity"),
    "levels": (),  # the first group whose entries have side, price and qty
    "instrument": ("instrument",),
    "symbol": ("symbol",),
    "seq": ("seq",),
    "ts": ("ts_sent", "ts", "ts_ns", "sending_time"),  # then the first integer field with unit `ns`
    "client_order_id": ("client_order_id", "cl_ord_id", "clordid", "order_id"),
    "orig_client_order_id": ("orig_client_order_id", "orig_cl_ord_id", "origclordid"),
    "order_type": ("order_type", "ord_type"),
    "tif": ("tif", "time_in_force"),
    "flags": ("flags", "exec_inst", "instructions"),
    "exec_type": ("exec_type",),
    "order_status": ("order_status", "ord_status", "status"),
    "leaves_qty": ("leaves_qty", "leaves_quantity"),
    "cum_qty": ("cum_qty", "cumulative_qty", "cum_quantity"),
    "reject_reason": ("reject_reason", "reject_code", "reason_code", "reason"),
    "credentials": ("credentials", "api_key", "token", "password"),
    "heartbeat_interval": ("heartbeat_interval", "heartbeat_ms", "heart_bt_int"),
}

BUY_NAMES = ("buy", "bid", "b")
SELL_NAMES = ("sell", "ask", "offer", "s")

#: Field roles resolved on the entries of the `levels` group rather than on the message.
LEVEL_FIELD_ROLES = ("side", "price", "qty")


@dataclass(frozen=True)
class Role:
    name: str
    where: str  # "feed": a feed handler's input; "gateway": an order gateway's output; "session": order entry
    required: tuple[str, ...]
    optional: tuple[str, ...]
    convention: str  # how the role is inferred when `role` is absent
    example: str  # an explicit declaration, for the docs


_KEYS = ("instrument", "symbol", "seq", "ts")
_DECLARED = "never inferred: declare it"

ROLES: dict[str, Role] = {r.name: r for r in (
    Role("depth_update", "feed", ("side", "price", "qty"), _KEYS,
         "fields `side`, `price`, `qty`",
         "role: depth_update\nfields_map: {price: px, qty: size}"),
    Role("trade", "feed", ("side", "price", "qty"), _KEYS,
         "name contains `Trade`; `price`, `qty`, and `aggressor` or `side`",
         "role: trade\nfields_map: {side: aggressor}"),
    Role("snapshot", "feed", ("levels", "side", "price", "qty"), _KEYS,
         "a group whose entries have `side`, `price`, `qty`",
         "role: snapshot\nfields_map: {levels: bids_and_asks}"),
    Role("bbo", "feed", ("bid_price", "bid_qty", "ask_price", "ask_qty"), _KEYS,
         "fields `bid_px`/`bid_price`, `bid_qty`/`bid_size`, `ask_px`/`ask_price`, `ask_qty`/`ask_size`",
         "role: bbo\nfields_map: {bid_price: best_bid, ask_price: best_ask}"),
    Role("execution_report", "feed", ("side", "price", "qty"),
         ("instrument", "symbol", "client_order_id", "ts", "orig_client_order_id", "exec_type", "order_status",
          "leaves_qty", "cum_qty", "reject_reason", "seq"),
         "never inferred (a report looks like a depth update): declare it",
         "role: execution_report\nfields_map: {price: last_price, qty: last_qty}"),
    Role("new_order", "gateway", ("side", "price", "qty"),
         ("client_order_id", "instrument", "ts", "symbol", "order_type", "tif", "flags", "seq"),
         "an order gateway's output; fields `side`, `price`, `qty`",
         "role: new_order\nfields_map: {client_order_id: cl_id}"),
    Role("cancel", "session", ("orig_client_order_id",),
         ("client_order_id", "instrument", "symbol", "side", "ts", "seq"),
         _DECLARED, "role: cancel\nfields_map: {orig_client_order_id: cl_id}"),
    Role("replace", "session", ("client_order_id", "orig_client_order_id", "price", "qty"),
         ("instrument", "symbol", "side", "ts", "seq", "order_type", "tif", "flags"),
         _DECLARED, "role: replace\nfields_map: {orig_client_order_id: orig_cl_id}"),
    Role("order_reject", "session", ("client_order_id",),
         ("reject_reason", "orig_client_order_id", "instrument", "symbol", "ts", "seq"),
         _DECLARED, "role: order_reject\nfields_map: {reject_reason: code}"),
    Role("logon", "session", ("seq",), ("ts", "credentials", "heartbeat_interval"),
         _DECLARED, "role: logon\nfields_map: {credentials: api_key}"),
    Role("logout", "session", ("seq",), ("ts", "reject_reason"),
         _DECLARED, "role: logout"),
    Role("heartbeat", "session", ("seq",), ("ts",),
         _DECLARED, "role: heartbeat\nfields_map: {seq: msg_seq_num}"),
)}

FEED_ROLES = tuple(n for n, r in ROLES.items() if r.where == "feed")
GATEWAY_ROLES = tuple(n for n, r in ROLES.items() if r.where == "gateway")
#: Roles of the order-entry session's other messages; at most one message declares each.
SESSION_ROLES = tuple(n for n, r in ROLES.items() if r.where == "session")
#: Feed roles tried in order when inferring; the first that fits wins.
INFERRED_FEED_ROLES = ("trade", "depth_update", "bbo", "snapshot")
