"""How one backtest runs: latency, queue model, fees, window, sampling, risk."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hftc.backtest.errors import BacktestError
from hftc.backtest.fees import PROFILES

QUEUE_MODELS = ("risk_averse", "probabilistic")
#: When a replacement follows a cancel (runtime_cpp backtest README, "Cancels"), in ABI order.
CANCEL_POLICIES = ("replace_at_once", "wait_for_confirm")


@dataclass(frozen=True)
class BacktestOptions:
    """Options of `CompiledStrategy.run`.

    latency_ns: constant one-way order latency, used for entry (local -> exchange) and
    response (exchange -> local) alike. latency_samples: one-way latencies in ns; when given
    they replace the constant and each order draws its entry and response latency from them
    (seeded by `seed`, so runs repeat). Fees are basis points of notional, negative for a
    rebate. instrument_map maps strategy instruments to tape symbols ({"BTCUSDT": "ETHUSDT"}) or
    is "position"; without it the names must agree. contract ("linear" or "inverse") overrides the contract type the tape records for
    every instrument (a tape that records none is refused without it). Fees None take them from `fee_profile` (hftc.backtest.fees.PROFILES) or else from the
    venue the tape was recorded on (zero when it names none; the result says which). start_ns/end_ns bound the replayed local-time window (None = whole tape).
    sample_ns spaces the equity curve; bar_ns (at least sample_ns) is the return interval of
    Sharpe and Sortino, annualised only when the run spans at least a day of bars.
    cancel: "replace_at_once" sends a requote's new order with the cancel of the old one (venues
    accept a cancel for any order they hold; one session delivers it after that order), or
    "wait_for_confirm" sends nothing on that side until the cancel is confirmed.
    risk: apply the schema's risk gate when the strategy runs in a pipeline with one.
    """

    latency_ns: int = 1_000_000
    latency_samples: Sequence[int] | None = None
    queue: str = "risk_averse"
    queue_power: float = 3.0
    cancel: str = "replace_at_once"
    maker_fee_bps: float | None = None
    taker_fee_bps: float | None = None
    fee_profile: str | None = None
    contract: str | None = None
    instrument_map: Mapping[str, str] | str | None = None
    capital: float = 100_000.0
    start_ns: int | None = None
    end_ns: int | None = None
    sample_ns: int = 1_000_000_000
    bar_ns: int = 60_000_000_000
    risk: bool = True
    seed: int = 1

    def validated(self) -> BacktestOptions:
        """Self, or a BacktestError (HFT1109) naming the first bad option."""

        def bad(what: str, why: str) -> BacktestError:
            return BacktestError("HFT1109", f"invalid backtest option {what}: {why}",
                                 help="see `hftc backtest --help` for the accepted values")

        if self.cancel not in CANCEL_POLICIES:
            raise bad("cancel", f"`{self.cancel}` is not one of {', '.join(CANCEL_POLICIES)}")
        if self.queue not in QUEUE_MODELS:
            raise bad("queue", f"`{self.queue}` is not one of {', '.join(QUEUE_MODELS)}")
        if not isinstance(self.latency_ns, numbers.Integral) or self.latency_ns < 0:
            raise bad("latency_ns", f"{self.latency_ns!r} is not a non-negative integer (ns)")
        if self.latency_samples is not None:
            if len(self.latency_samples) == 0:
                raise bad("latency_samples", "the sample set is empty")
            if any(int(s) < 0 for s in self.latency_samples):
                raise bad("latency_samples", "a latency is negative")
        if self.contract is not None and self.contract not in ("linear", "inverse"):
            raise bad("contract", f"`{self.contract}` is not linear or inverse")
        if self.fee_profile is not None and self.fee_profile not in PROFILES:
            raise bad("fee_profile", f"`{self.fee_profile}` is not one of {', '.join(PROFILES)}")
        for name in ("queue_power", "maker_fee_bps", "taker_fee_bps", "capital"):
            if getattr(self, name) is not None and not math.isfinite(float(getattr(self, name))):
                raise bad(name, "not a finite number")
        if self.capital <= 0:
            raise bad("capital", "must be positive (leverage and returns are measured against it)")
        if self.queue_power <= 0:
            raise bad("queue_power", "must be positive")
        if not isinstance(self.sample_ns, numbers.Integral) or self.sample_ns <= 0:
            raise bad("sample_ns", "must be a positive integer (ns)")
        if not isinstance(self.bar_ns, numbers.Integral) or self.bar_ns < self.sample_ns:
            raise bad("bar_ns", f"{self.bar_ns!r} is shorter than sample_ns ({self.sample_ns} ns)")
        if self.start_ns is not None and self.end_ns is not None and self.end_ns <= self.start_ns:
            raise bad("end_ns", "the window ends before it starts")
        return self
