"""Schema evolution: wire- and source-compatibility checks between two versions of a schema."""

from hftc.evolution.rules import CATEGORIES, RULES, compare

__all__ = ["CATEGORIES", "RULES", "compare"]
