"""Inputs that once made the loader run away (time, memory, recursion) or crash; shared by
tests/test_loader_bounds.py and the fuzzers' seed examples."""

from __future__ import annotations

_HEAD = "hftc: 1\npackage: bounds\n"


def alias_bomb() -> str:
    """~600 bytes whose aliases expand to 9**10 values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return _HEAD + "\n".join(lines) + "\n"


def _strategy_let(expr: str) -> str:
    return (_HEAD + "strategies:\n  mm:\n    template: market_making\n    instruments: [BTCUSDT]\n"
            f"    params:\n      order_qty: {{range: [0.001, 0.05], default: 0.01}}\n    let:\n      x: \"{expr}\"\n")


CASES: dict[str, tuple[str, str]] = {  # name -> (text, the diagnostic code expected first)
    "alias_bomb": (alias_bomb(), "HFT0009"),
    "flow_nesting_1000": (_HEAD + "x: " + "[" * 1000 + "]" * 1000 + "\n", "HFT0009"),
    "flow_nesting_100": (_HEAD + "x: " + "[" * 100 + "]" * 100 + "\n", "HFT0009"),
    "block_nesting_1000": (_HEAD + "".join(" " * i + f"k{i}:\n" for i in range(1000)), "HFT0009"),
    "integer_5000_digits": (_HEAD + "version: " + "9" * 5000 + "\n", "HFT0009"),
    "hex_5000_digits": (_HEAD + "version: 0x" + "f" * 5000 + "\n", "HFT0009"),
    "float_5000_digits": (_HEAD + "version: 1." + "5" * 5000 + "\n", "HFT0009"),
    "key_5000_digits": (_HEAD + "types:\n  ? " + "9" * 5000 + "\n  : {char: 4}\n", "HFT0106"),
    "expression_integer_5000_digits": (_strategy_let("9" * 5000 + " + 1"), "HFT0510"),
    "expression_parentheses_3000": (_strategy_let("(" * 3000 + "1" + ")" * 3000), "HFT0510"),
    "expression_unary_3000": (_strategy_let("-" * 3000 + "1"), "HFT0510"),
    "expression_chain_2000": (_strategy_let("1" + " + 1" * 2000), "HFT0510"),
    "expression_100k_chars": (_strategy_let("1" + " + 1" * 25000), "HFT0510"),
    "undefined_alias": (_HEAD + "x: *nowhere\n", "HFT0003"),
    "two_documents": (_HEAD + "---\nhftc: 1\n", "HFT0009"),
}


def big_schema(messages: int) -> str:
    """A valid schema of `messages` messages (16,700 make about 1 MB)."""
    out = [_HEAD + "messages:"]
    out += [f"  M{i}:\n    id: {i + 1}\n    fields: {{a: uint32, b: uint64, c: int64}}" for i in range(messages)]
    return "\n".join(out) + "\n"
