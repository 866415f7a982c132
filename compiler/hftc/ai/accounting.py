"""Token and cost accounting of one run: calls, cache hits, tokens in and out, and their price."""

from __future__ import annotations

from dataclasses import dataclass

from hftc.ai.providers import Usage

# USD per million tokens (input, output), list prices; the config's [prices] table adds or overrides.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00), "gpt-4o-mini": (0.15, 0.60), "gpt-4.1": (2.00, 8.00), "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40), "o3-mini": (1.10, 4.40),
    "claude-3-5-haiku-latest": (0.80, 4.00), "claude-3-5-sonnet-latest": (3.00, 15.00),
    "claude-sonnet-4-0": (3.00, 15.00), "claude-opus-4-0": (15.00, 75.00),
    "gemini-2.0-flash": (0.10, 0.40), "gemini-1.5-pro": (1.25, 5.00), "gemini-2.5-pro": (1.25, 10.00),
}


@dataclass
class RunUsage:
    model: str
    calls: int = 0
    cached: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, usage: Usage, cached: bool) -> None:
        self.calls += 1
        if cached:
            self.cached += 1
            return  # a cached reply costs nothing now
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens

    def cost_usd(self, prices: dict[str, tuple[float, float]] | None = None) -> float | None:
        table = {**PRICES, **(prices or {})}
        price = table.get(self.model)
        if price is None:
            return None
        return (self.input_tokens * price[0] + self.output_tokens * price[1]) / 1_000_000

    def summary(self, prices: dict[str, tuple[float, float]] | None = None) -> str:
        cost = self.cost_usd(prices)
        shown = f"${cost:.4f}" if cost is not None else f"unknown (no price for `{self.model}`; add it under [prices])"
        return (f"{self.calls} call(s) to {self.model}, {self.cached} from cache; tokens {self.input_tokens} in, "
                f"{self.output_tokens} out; cost {shown}")

    def to_json(self, prices: dict[str, tuple[float, float]] | None = None) -> dict:
        return {"model": self.model, "calls": self.calls, "cached": self.cached, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost_usd": self.cost_usd(prices)}
