"""Exact decimal strings to integer ticks and lots.

Venues publish prices and sizes as decimal strings ("61800.20", "0.014"). Going
through float would turn 0.1 + 0.2 into 0.30000000000000004 and, after dividing
by the tick, round some levels onto the wrong tick; so values are parsed as an
integer mantissa and a power-of-ten exponent and divided exactly.

Inference rule (when no --tick/--lot is given): the step is the largest power of
ten, at most 1, that divides every value observed for the instrument, ignoring
trailing zeros ("61800.20" counts as one decimal). This finds Binance's 0.1 for
BTCUSDT futures and 0.001 for its sizes; steps that are not powers of ten (0.5,
0.25) cannot be told from the data reliably and must be given.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from hftc.data.errors import DataError

INT64_MAX = (1 << 63) - 1


def parse_step(text: str, what: str) -> Decimal:
    """A user-given tick/lot size: a positive finite decimal."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise DataError("HFT1006", f"{what} `{text}` is not a decimal number",
                        hint="write it as a plain decimal, e.g. 0.1 or 0.001") from None
    if not value.is_finite() or value <= 0:
        raise DataError("HFT1006", f"{what} `{text}` must be a positive number")
    return value


def decimals_of(text: str) -> int:
    """Significant decimal places of a plain decimal string ("61800.20" → 1, "12" → 0)."""
    dot = text.find(".")
    if dot < 0 or "e" in text or "E" in text:
        try:
            exponent = Decimal(text).normalize().as_tuple().exponent
        except InvalidOperation:
            return 0
        return max(0, -exponent) if isinstance(exponent, int) else 0
    frac = text[dot + 1:].rstrip("0")
    return len(frac)


def infer_step(values: Iterable[str]) -> Decimal:
    """The largest power of ten (≤ 1) dividing every value; see the module docstring."""
    places = 0
    for text in values:
        n = decimals_of(text)
        places = max(places, n)
    return Decimal(1).scaleb(-places)


def _split_plain(text: str) -> tuple[int, int] | None:
    """`[-+]digits[.digits]` → (integer mantissa, decimal places); None for any other spelling."""
    body = text[1:] if text[:1] in ("-", "+") and text else text
    whole, _, frac = body.partition(".")
    if not (whole or frac):
        return None
    for part in (whole, frac):
        if part and not (part.isascii() and part.isdigit()):
            return None
    scaled = int((whole or "0") + frac)
    return (-scaled if text.startswith("-") else scaled), len(frac)


class Scale:
    """Converts decimal strings to integer multiples of one step, exactly, with a cache.

    Prices repeat a lot in market data (a few thousand distinct levels for
    hundreds of thousands of updates), so the cache makes conversion a dict hit.
    """

    def __init__(self, step: Decimal, what: str, symbol: str):
        _sign, digits, exponent = step.normalize().as_tuple()
        assert isinstance(exponent, int)
        self.step = step
        self.what = what
        self.symbol = symbol
        self._places = max(0, -exponent)                      # step = mantissa * 10**-places
        self._mantissa = int("".join(map(str, digits))) * (10 ** max(0, exponent))
        self._cache: dict[str, int] = {}

    def __call__(self, text: str, path: str | None = None, line: int | None = None) -> int:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        if not isinstance(text, str):
            raise DataError("HFT1005", f"{self.symbol}: {self.what} value {text!r} is not a decimal string", path, line)
        value = self._convert(text, path, line)
        if len(self._cache) < 1_000_000:
            self._cache[text] = value
        return value

    def cached(self, text: str) -> int | None:
        """The converted value if `text` was seen before (the fast path of bulk conversion)."""
        return self._cache.get(text)

    def _convert(self, text: str, path: str | None, line: int | None) -> int:
        plain = _split_plain(text)
        scaled, places = plain if plain is not None else self._via_decimal(text, path, line)
        # scaled * 10**-places / (mantissa * 10**-self._places)
        if places <= self._places:
            numerator = scaled * 10 ** (self._places - places)
        else:
            numerator, rest = divmod(scaled, 10 ** (places - self._places))
            if rest:
                raise self._off_grid(text, path, line)
        units, rest = divmod(numerator, self._mantissa)
        if rest:
            raise self._off_grid(text, path, line)
        if not -INT64_MAX <= units <= INT64_MAX:
            raise DataError("HFT1005", f"{self.symbol}: {self.what} `{text}` is {units} {self.what}s, "
                            "beyond a 64-bit integer", path, line)
        return units

    def _via_decimal(self, text: str, path: str | None, line: int | None) -> tuple[int, int]:
        try:
            value = Decimal(text)
        except (InvalidOperation, ValueError):
            value = None
        if value is None or not value.is_finite():
            raise DataError("HFT1005", f"{self.symbol}: `{text}` is not a decimal number", path, line)
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        mantissa = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        if exponent >= 0:
            return mantissa * 10 ** exponent, 0
        return mantissa, -exponent

    def _off_grid(self, text: str, path: str | None, line: int | None) -> DataError:
        unit = "price" if self.what == "tick" else "quantity"
        return DataError(
            "HFT1004", f"{self.symbol}: {unit} `{text}` is not a multiple of the {self.what} size {self.step}",
            path, line, hint=f"give the instrument's real {self.what} size with --{self.what} {self.symbol}=<size>")
