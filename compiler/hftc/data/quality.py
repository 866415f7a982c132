"""Data quality of a conversion: robust clock offset, per-row and per-book checks, one record.

A single bad row must not silently skew a backtest: one receive timestamp an hour early
used to shift the whole tape by an hour (the offset came from the minimum latency), and a
bid far above the best ask flipped a PnL from -3.71 to +187.53. Here:

- the clock offset comes from the bulk of the per-event latencies: rows whose latency lies
  far outside the 10th..90th percentile band are outliers, reported and handled per policy,
  and the offset makes the smallest latency of the remaining rows `base_latency_ns`;
- each row is checked (trade quantity > 0, depth quantity >= 0, price > 0), and each book
  after each message (best bid below best ask); a message whose new levels cross the book
  has those levels removed;
- everything found is summarised in `quality` (FORMATS.md §4), which `hftc backtest` prints.

Policies (`--on-error`): `drop` removes the offending rows (the default), `fail` stops the
conversion, `keep` writes them and marks the tape dirty (a backtest then needs --allow-dirty).
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np

from hftc.data.errors import DataError
from hftc.data.tape import CLEAR, DEPTH, END, SIDE_ASK, TRADE

POLICIES = ("drop", "fail", "keep")
QUALITY_VERSION = 1
EXAMPLES = 3
OUTLIER_FLOOR_NS = 1_000_000_000  # a band never narrower than 1 s: feed latency jitter is not an outlier
OUTLIER_SPREAD = 10               # times the 10..50 (50..90) percentile distance

PROBLEMS = {
    "clock_outlier": "receive timestamp far from the other events' (latency outside the bulk)",
    "trade_qty_not_positive": "trade with a quantity of zero or less",
    "depth_qty_negative": "depth level with a negative quantity",
    "price_not_positive": "price of zero or less",
    "crossed_book": "best bid at or above the best ask after a message",
}


class Checker:
    """Collects problems: counts, the first examples, what was done with the rows."""

    def __init__(self, policy: str, symbols: list[str]):
        if policy not in POLICIES:
            raise DataError("HFT1006", f"unknown --on-error policy `{policy}`", hint="use drop, fail or keep")
        self.policy = policy
        self.symbols = symbols
        self.problems: dict[str, dict[str, Any]] = {}
        self.unresolved_crossings = 0  # messages after which the book stayed crossed

    def found(self, problem: str, rows: np.ndarray, cols: dict[str, np.ndarray], count: int | None = None) -> None:
        """Record `problem` at the row indices `rows` (count defaults to their number)."""
        n = int(len(rows) if count is None else count)
        if n == 0:
            return
        entry = self.problems.setdefault(problem, {"count": 0, "examples": [], "what": PROBLEMS[problem]})
        entry["count"] += n
        for r in rows[: EXAMPLES - len(entry["examples"])]:
            r = int(r)
            entry["examples"].append({"symbol": self.symbols[int(cols["instrument"][r])],
                                      "local_ts": int(cols["local_ts"][r]), "exch_ts": int(cols["exch_ts"][r]),
                                      "px": int(cols["px"][r]), "qty": int(cols["qty"][r]),
                                      "kind": int(cols["kind"][r]), "side": "ask" if cols["flags"][r] & SIDE_ASK
                                      else "bid"})
        if self.policy == "fail":
            first = entry["examples"][0] if entry["examples"] else {}
            raise DataError("HFT1034", f"{n} rows: {PROBLEMS[problem]} (first: {first})",
                            hint="--on-error drop removes such rows, --on-error keep writes them and marks the tape "
                                 "dirty")


def robust_clock_offset(local: np.ndarray, exch: np.ndarray, base_latency_ns: int) -> tuple[int, np.ndarray, dict]:
    """(offset to add to local_ts, mask of outlier rows, description), from the bulk of the latencies."""
    stamped = exch > 0
    outliers = np.zeros(local.shape, dtype=bool)
    if not stamped.any():
        return 0, outliers, {"method": "none: no exchange timestamps"}
    latency = local[stamped] - exch[stamped]
    p10, p50, p90 = (int(v) for v in np.percentile(latency, [10, 50, 90], method="lower"))
    low = p10 - max(OUTLIER_SPREAD * (p50 - p10), OUTLIER_FLOOR_NS)
    high = p90 + max(OUTLIER_SPREAD * (p90 - p50), OUTLIER_FLOOR_NS)
    bad = (latency < low) | (latency > high)
    outliers[np.flatnonzero(stamped)[bad]] = True
    kept = latency[~bad]
    smallest = int(kept.min()) if kept.size else 0
    offset = -smallest + int(base_latency_ns) if smallest < 0 else 0
    return offset, outliers, {"method": "smallest latency inside the 10th..90th percentile band, widened",
                              "band_ns": [low, high], "percentiles_ns": {"p10": p10, "p50": p50, "p90": p90},
                              "min_feed_latency_ns_kept": smallest}


def check_rows(cols: dict[str, np.ndarray], checker: Checker) -> np.ndarray:
    """Rows that break a per-row rule; returns their mask."""
    kind, qty, px = cols["kind"], cols["qty"], cols["px"]
    trade_qty = (kind == TRADE) & (qty <= 0)
    depth_qty = (kind == DEPTH) & (qty < 0)
    price = ((kind == TRADE) | (kind == DEPTH)) & (px <= 0)
    for name, mask in (("trade_qty_not_positive", trade_qty), ("depth_qty_negative", depth_qty),
                       ("price_not_positive", price)):
        checker.found(name, np.flatnonzero(mask), cols)
    return trade_qty | depth_qty | price


def check_books(cols: dict[str, np.ndarray], skip: np.ndarray, checker: Checker) -> np.ndarray:
    """Replay each instrument's book; returns the mask of depth rows whose new level crossed it.

    At the end of each message the best bid must be below the best ask. When it is not, the
    message's own levels on the crossing side (bids at or above the best ask, asks at or below
    the best bid) are the suspects: with `drop` they are taken back out of the book and off
    the tape; a crossing that remains (stale levels) is counted once per message.
    """
    crossing = np.zeros(cols["kind"].shape, dtype=bool)
    kind, flags, px, qty, inst = (cols[k].tolist() for k in ("kind", "flags", "px", "qty", "instrument"))
    books: dict[int, tuple[dict, dict, list, list]] = {}
    message: dict[int, list[tuple[int, int, int, int | None]]] = {}
    crossed_rows: list[int] = []
    skip_list = skip.tolist()
    for r in range(len(kind)):
        if skip_list[r]:
            continue
        i = inst[r]
        bids, asks, bid_heap, ask_heap = books.setdefault(i, ({}, {}, [], []))
        k = kind[r]
        ask = flags[r] & SIDE_ASK
        if k == CLEAR:
            (asks if ask else bids).clear()
            (ask_heap if ask else bid_heap).clear()
        elif k == DEPTH:
            side = asks if ask else bids
            p = px[r]
            message.setdefault(i, []).append((r, ask, p, side.get(p)))
            if qty[r]:
                if p not in side:
                    heapq.heappush(ask_heap if ask else bid_heap, p if ask else -p)
                side[p] = qty[r]
            else:
                side.pop(p, None)
        if not flags[r] & END:
            continue
        changed = message.pop(i, [])
        if k != DEPTH and k != CLEAR and not changed:
            continue
        best_bid, best_ask = _best(bids, bid_heap, -1), _best(asks, ask_heap, 1)
        if best_bid is None or best_ask is None or best_bid < best_ask:
            continue
        suspects = [(row, a, p, prev) for row, a, p, prev in changed
                    if qty[row] and ((a and p <= best_bid) or (not a and p >= best_ask))]
        if checker.policy == "drop" and suspects:
            for row, a, p, prev in reversed(suspects):
                side = asks if a else bids
                if prev is None:
                    side.pop(p, None)
                else:
                    side[p] = prev
                crossing[row] = True
            best_bid, best_ask = _best(bids, bid_heap, -1), _best(asks, ask_heap, 1)
        crossed_rows.append(suspects[0][0] if suspects else r)
        if checker.policy != "drop" or (best_bid is not None and best_ask is not None and best_bid >= best_ask):
            checker.unresolved_crossings += 1
    checker.found("crossed_book", np.asarray(crossed_rows, dtype=np.int64), cols)
    return crossing


def _best(side: dict, heap: list, sign: int) -> int | None:
    """Best price of a side: the heap top, lazily skipping levels deleted since they were pushed."""
    while heap:
        p = heap[0] if sign > 0 else -heap[0]
        if p in side:
            return p
        heapq.heappop(heap)
    return None


def check_and_repair(cols: dict[str, np.ndarray], update_id: np.ndarray, outliers: np.ndarray,
                     checker: Checker) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, Any]]:
    """Check sorted tape columns; with `drop`, remove the bad rows. Returns (columns, update_id, quality)."""
    checker.found("clock_outlier", np.flatnonzero(outliers), cols)
    bad = outliers | check_rows(cols, checker)
    dropping = checker.policy == "drop"
    crossing = check_books(cols, bad if dropping else np.zeros_like(bad), checker)
    drop = (bad | crossing) if dropping else np.zeros_like(bad)
    if drop.any():
        cols, update_id = _without_rows(cols, update_id, drop)
    unresolved = checker.unresolved_crossings if dropping else sum(p["count"] for p in checker.problems.values())
    for entry in checker.problems.values():
        entry["action"] = "dropped" if dropping else "kept"
    if dropping and "crossed_book" in checker.problems:
        entry = checker.problems["crossed_book"]
        entry["action"] = f"crossing levels dropped; {checker.unresolved_crossings} crossed after that"
    quality = {"version": QUALITY_VERSION, "policy": checker.policy, "problems": checker.problems,
               "dropped_rows": int(drop.sum()), "unresolved": int(unresolved)}
    return cols, update_id, quality


def _without_rows(cols: dict[str, np.ndarray], update_id: np.ndarray, drop: np.ndarray):
    """Remove rows; a removed row that ended its message hands END (and its update id) to the
    message's last kept row, so strategies still see the book once per message."""
    flags = cols["flags"].copy()
    update_id = update_id.copy()
    instrument = cols["instrument"]
    for r in np.flatnonzero(drop & ((flags & END) != 0)).tolist():
        q = r - 1
        while q >= 0:
            if instrument[q] == instrument[r]:
                if flags[q] & END:
                    break  # the previous message: none of this one's rows is kept
                if not drop[q]:
                    flags[q] |= END
                    update_id[q] = update_id[r]
                    break
            q -= 1
    keep = ~drop
    out = {name: values[keep] for name, values in cols.items()}
    out["flags"] = flags[keep]
    return out, update_id[keep]


def quality_diagnostics(quality: dict[str, Any]) -> list:
    """One warning per kind of problem: count, what happened to the rows, the first example."""
    from hftc.data.errors import make_diagnostic
    from hftc.diagnostics.model import Severity

    out = []
    for name, entry in quality["problems"].items():
        first = entry["examples"][0] if entry["examples"] else None
        example = (f"; first: {first['symbol']} {first['side']} px {first['px']} qty {first['qty']} "
                   f"at local_ts {first['local_ts']}") if first else ""
        out.append(make_diagnostic(Severity.WARNING, "HFT1034", f"{entry['count']} x {entry['what']} "
                                   f"({name}): {entry['action']}{example}",
                                   hint="--on-error fail stops at such rows; keep writes them (a dirty tape)"))
    return out


def summary_line(quality: dict[str, Any] | None) -> str:
    """One line for `hftc backtest`: what the tape's data-quality record says."""
    if not quality:
        return "data quality: no record (a tape written before hftc checked its rows)"
    parts = [f"{quality.get('gaps', 0)} gap(s)", f"{quality.get('dropped_rows', 0)} row(s) dropped"]
    offset = (quality.get("clock") or {}).get("offset_ns")
    if offset:
        parts.append(f"clock shifted {offset / 1e6:+.3f} ms")
    for name, entry in quality.get("problems", {}).items():
        parts.append(f"{entry['count']} {name} ({entry['action']})")
    unresolved = quality.get("unresolved", 0)
    parts.append(f"{unresolved} unresolved" if unresolved else "clean")
    return "data quality: " + ", ".join(parts)


def tape_quality(meta: dict[str, Any]) -> dict[str, Any] | None:
    """The quality record of a tape, combining those of merged tapes (None when none has one)."""
    if "quality" in meta:
        return meta["quality"]
    sources = [s for s in meta.get("sources", []) if isinstance(s, dict) and "quality" in s]
    if not sources:
        return None
    combined: dict[str, Any] = {"version": QUALITY_VERSION, "merged": len(sources), "problems": {},
                                "gaps": 0, "dropped_rows": 0, "unresolved": 0, "clock": None}
    for source in sources:
        q = source["quality"]
        for key in ("gaps", "dropped_rows", "unresolved"):
            combined[key] += int(q.get(key, 0))
        for name, entry in q.get("problems", {}).items():
            into = combined["problems"].setdefault(name, {**entry, "count": 0, "examples": []})
            into["count"] += entry["count"]
            into["examples"] = (into["examples"] + entry["examples"])[:EXAMPLES]
    return combined
