"""Venue fee profiles: the fees a backtest charges when the user names none.

A backtest that charges nothing flatters every market maker, so the default comes from the
venue the tape was recorded on (its conversion metadata says Binance spot, USD-M or COIN-M)
and is printed with every result. Rates are the venues' base tier (no VIP discount, no BNB
rebate) as published; `--maker-fee-bps`/`--taker-fee-bps` or `--fee-profile` override them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FeeProfile:
    name: str
    maker_bps: float
    taker_bps: float
    description: str


PROFILES: dict[str, FeeProfile] = {p.name: p for p in (
    FeeProfile("binance-spot", 10.0, 10.0, "Binance spot, regular tier: 0.1000% maker and taker"),
    FeeProfile("binance-usdm", 2.0, 5.0, "Binance USD-M futures, regular tier: 0.0200% maker, 0.0500% taker"),
    FeeProfile("binance-coinm", 2.0, 5.0, "Binance COIN-M futures, regular tier: 0.0200% maker, 0.0500% taker"),
    FeeProfile("none", 0.0, 0.0, "no fees (explicitly chosen)"),
)}


def profile_of_meta(meta: Mapping[str, Any]) -> FeeProfile | None:
    """The venue profile a tape's metadata implies, or None when it names no known venue or mixes them."""
    formats = {s.get("format") for s in meta.get("sources", []) if isinstance(s, Mapping)}
    if formats != {"binance"}:
        return None
    names = set()
    for inst in meta.get("instruments", []):
        if not isinstance(inst, Mapping):
            return None
        market = inst.get("market")
        if market == "spot":
            names.add("binance-spot")
        elif market == "futures":
            names.add("binance-coinm" if "contract" in inst and "inverse" in str(inst["contract"]) else "binance-usdm")
        else:
            return None
    return PROFILES[names.pop()] if len(names) == 1 else None


@dataclass(frozen=True)
class Fees:
    """The fees a run uses and where they came from (printed and in `--json`)."""

    maker_bps: float
    taker_bps: float
    source: str  # "--maker-fee-bps/--taker-fee-bps", "profile binance-usdm (from the tape)", ...

    def line(self) -> str:
        return f"fees: maker {self.maker_bps:g} bp, taker {self.taker_bps:g} bp ({self.source})"


def resolve_fees(meta: Mapping[str, Any] | None, maker_bps: float | None, taker_bps: float | None,
                 profile: str | None = None) -> Fees:
    """Explicit rates win, then a named profile, then the tape's venue, then zero (said so)."""
    if profile is not None:
        base, source = PROFILES[profile], f"profile {profile}"
    else:
        found = profile_of_meta(meta or {})
        base, source = ((found, f"profile {found.name} (from the tape's venue)") if found is not None else
                        (PROFILES["none"], "no venue profile for this tape; pass --fee-profile or the fee options"))
    if maker_bps is None and taker_bps is None:
        return Fees(base.maker_bps, base.taker_bps, source)
    return Fees(base.maker_bps if maker_bps is None else maker_bps,
                base.taker_bps if taker_bps is None else taker_bps,
                "given" + (f", the rest from {source}" if maker_bps is None or taker_bps is None else ""))


__all__ = ["PROFILES", "FeeProfile", "Fees", "profile_of_meta", "resolve_fees"]
