"""Contract terms of a recorded instrument: linear or inverse, contract size, settlement currency.

PnL, fees, notional and leverage of an inverse (coin-margined) contract are not linear in price
and are settled in the base coin, so a backtest must know which kind it replays. The converter
writes these terms into each tape instrument's metadata (`contract_type`, `settlement_currency`,
`multiplier`); the backtest reads them and refuses a tape that does not say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LINEAR, INVERSE = "linear", "inverse"
CONTRACT_TYPES = (LINEAR, INVERSE)

# Quote assets Binance lists, longest first so FDUSD wins over USD.
_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL", "USD")
# Binance COIN-M contract sizes in USD: BTC contracts are 100 USD, every other coin's 10 USD.
_COINM_CONTRACT_USD = {"BTC": 100.0}
_COINM_DEFAULT_USD = 10.0


@dataclass(frozen=True)
class Contract:
    contract_type: str        # "linear" or "inverse"
    multiplier: float         # linear: quote per (price x qty) unit; inverse: quote value of one contract
    settlement_currency: str  # the currency PnL, fees and equity are in ("" when unknown)
    rule: str                 # how the terms were found, for the tape's metadata


def _split(symbol: str) -> tuple[str, str]:
    core = symbol.upper().split("_", 1)[0]
    for quote in _QUOTES:
        if core.endswith(quote) and len(core) > len(quote):
            return core[: -len(quote)], quote
    return "", ""


def binance_contract(venue_symbol: str, market: str, inverse: bool, given_multiplier: float | None) -> Contract:
    """Terms of a Binance spot, USD-M or COIN-M symbol; a given multiplier overrides the venue's."""
    base, quote = _split(venue_symbol)
    if inverse:
        size = _COINM_CONTRACT_USD.get(base, _COINM_DEFAULT_USD)
        if given_multiplier is not None:
            return Contract(INVERSE, given_multiplier, base, "inverse (COIN-M); contract size given")
        return Contract(INVERSE, size, base, f"inverse (COIN-M); contract size {size:g} {quote or 'USD'} "
                                             "(Binance's for this coin)")
    kind = "spot" if market == "spot" else "USD-M futures"
    return Contract(LINEAR, 1.0 if given_multiplier is None else given_multiplier, quote,
                    f"linear ({kind})" + ("; multiplier given" if given_multiplier is not None else ""))


def instrument_metas(meta: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Per-instrument metadata of a tape in instrument order, through merged tapes' sources."""
    if isinstance(meta.get("instruments"), list):
        return [m if isinstance(m, Mapping) else {} for m in meta["instruments"]]
    out: list[Mapping[str, Any]] = []
    for source in meta.get("sources", []):
        if isinstance(source, Mapping) and "instruments" in source:
            out.extend(instrument_metas(source))
    return out


def contract_of_meta(entry: Mapping[str, Any]) -> tuple[str | None, str]:
    """(contract type, settlement currency) of one tape instrument's metadata; type None when unknown.

    Tapes written before the terms were recorded still say `market`, and an inverse one carried
    a `contract` note: both are read; anything else is unknown.
    """
    kind = entry.get("contract_type")
    currency = str(entry.get("settlement_currency") or "")
    if kind in CONTRACT_TYPES:
        return kind, currency
    if "contract" in entry and "inverse" in str(entry["contract"]):
        return INVERSE, _split(str(entry.get("venue_symbol", entry.get("symbol", ""))))[0]
    if entry.get("market") in ("spot", "futures"):
        return LINEAR, _split(str(entry.get("venue_symbol", entry.get("symbol", ""))))[1]
    return None, currency


__all__ = ["CONTRACT_TYPES", "INVERSE", "LINEAR", "Contract", "binance_contract", "contract_of_meta",
           "instrument_metas"]
