"""The standard library of venue message sets (`schemas/venues/`) that generated schemas copy from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent.parent


def venues_dir() -> Path:
    """The repository's `schemas/venues` in a checkout, else the copy installed with the package."""
    checkout = _PACKAGE.parent.parent / "schemas" / "venues"
    return checkout if checkout.is_dir() else _PACKAGE / "venues"


@dataclass(frozen=True)
class VenueSet:
    """One message set: which messages feed the book and which one carries an order."""

    name: str
    title: str
    feed: tuple[str, ...]
    order: str

    @property
    def path(self) -> Path:
        return venues_dir() / f"{self.name}.hftc.yaml"


VENUES: dict[str, VenueSet] = {
    v.name: v for v in (
        VenueSet("generic_l2", "generic L2 feed and order entry", ("BookDelta", "Trade", "Snapshot"), "NewOrder"),
        VenueSet("binance_spot", "Binance spot", ("DepthUpdate", "Trade", "DepthSnapshot"), "NewOrder"),
        VenueSet("binance_futures", "Binance USD-M futures", ("DepthUpdate", "AggTrade", "DepthSnapshot"), "NewOrder"),
    )
}


@lru_cache(maxsize=None)
def _load(name: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(VENUES[name].path.read_text(encoding="utf-8"))
    return {"types": data.get("types", {}), "messages": data.get("messages", {})}


def venue_definitions(name: str) -> dict[str, Any]:
    """Plain copies of the set's `types:` and `messages:`, in file order."""
    import copy

    return copy.deepcopy(_load(name))
