"""Schema features SBE schemas need: character enums and inline anonymous types."""

from __future__ import annotations

from hftc.diagnostics.model import Severity
from hftc.frontend.compile import compile_text
from hftc.vectors import make_vectors

HEAD = "hftc: 1\npackage: feat.demo\nversion: 2\nschema_id: 7\n"


def _compile(body: str):
    return compile_text("feat.hftc.yaml", HEAD + body)


def _errors(result) -> list[tuple[str, int]]:
    return [(d.code, d.span.line if d.span else 0) for d in result.diagnostics if d.severity is Severity.ERROR]


def test_char_enum_values_are_characters_on_the_wire() -> None:
    r = _compile("""types:
  OrdStatus: {enum: char, values: {fresh: "0", filled: "2", rejected: "J"}}
messages:
  Exec:
    id: 1
    fields: {status: OrdStatus, maybe: {type: OrdStatus, optional: true}}
""")
    assert r.ok, [str(d) for d in r.diagnostics]
    t = r.ir.type_named("OrdStatus")
    assert t.char_values and t.encoding == "uint8" and t.size == 1
    assert [(v.name, v.value) for v in t.values] == [("fresh", 0x30), ("filled", 0x32), ("rejected", ord("J"))]
    assert t.null_value == 0  # NUL, SBE's char null
    exec_ = r.ir.messages[0]
    assert [(f.name, f.offset, f.size) for f in exec_.fields] == [("status", 0, 1), ("maybe", 1, 1)]
    vectors = make_vectors(r.ir, 1, 8)["vectors"]
    for vec in vectors:
        raw = bytes.fromhex(vec["hex"])
        assert raw[8] == vec["values"]["status"]
        assert raw[9] == (vec["values"]["maybe"] or 0)  # the null is NUL


def test_char_enum_values_must_be_single_characters() -> None:
    r = _compile("""types:
  S: {enum: char, values: {a: "ab", b: 1, c: ""}}
messages:
  M: {id: 1, fields: {s: S}}
""")
    assert _errors(r) == [("HFT0303", 6)] * 3
    r = _compile("""types:
  S: {enum: uint8, values: {a: "1"}}
messages:
  M: {id: 1, fields: {s: S}}
""")
    assert _errors(r) == [("HFT0303", 6)]


def test_inline_types_are_named_after_their_owner_and_field() -> None:
    r = _compile("""types:
  QuotePrice: {decimal: int32, exponent: -2}
messages:
  Quote:
    id: 1
    fields:
      id: uint64
      price: {decimal: int64, exponent: -9}
      used: QuotePrice
      status: {type: {enum: char, values: {fresh: "0"}}, optional: true, since_version: 2}
    groups:
      levels:
        fields:
          qty: {decimal: uint32, exponent: 0, description: "Lots."}
""")
    assert r.ok, [str(d) for d in r.diagnostics]
    types = {t.name: t for t in r.ir.types}
    assert types["QuotePrice2"].kind == "decimal" and types["QuotePrice2"].exponent == -9
    assert types["QuoteStatus"].char_values
    assert types["QuoteLevelsQty"].description == "Lots."
    quote = r.ir.messages[0]
    assert [(f.name, f.type, f.offset) for f in quote.fields] == [
        ("id", "uint64", 0), ("price", "QuotePrice2", 8), ("used", "QuotePrice", 16), ("status", "QuoteStatus", 20)]
    assert quote.fields[3].optional and quote.fields[3].since_version == 2
    assert quote.groups[0].fields[0].type == "QuoteLevelsQty"


def test_a_bad_inline_type_points_at_the_field() -> None:
    r = _compile("""messages:
  Quote:
    id: 1
    fields:
      price: {decimal: int64, exponent: -99}
""")
    errors = _errors(r)
    assert errors and all(line == 9 for _, line in errors), [str(d) for d in r.diagnostics]


CONSTANTS = """types:
  Side: {enum: char, values: {buy: "1", sell: "2"}}
  Ccy: {char: 3}
  Px: {decimal: int64, exponent: -4}
messages:
  Quote:
    id: 1
    fields:
      id: uint64
      side: {type: Side, constant: sell}
      ccy: {type: Ccy, constant: USD}
      tick: {type: Px, constant: "0.25"}
      lots: {type: uint16, constant: 100}
      kind: {type: char, constant: "Q"}
      ratio: {type: float64, constant: 0.5}
      px: Px
    groups:
      levels:
        fields: {venue: {type: Ccy, constant: XNY}, qty: uint32}
"""


def test_constants_are_never_on_the_wire() -> None:
    r = _compile(CONSTANTS)
    assert r.ok, [str(d) for d in r.diagnostics]
    quote = r.ir.messages[0]
    assert [f.name for f in quote.fields] == ["id", "px"] and quote.block_length == 16
    assert [(c.name, c.value, c.value_name) for c in quote.constants] == [
        ("side", ord("2"), "sell"), ("ccy", "USD", None), ("tick", 2500, None), ("lots", 100, None),
        ("kind", ord("Q"), None), ("ratio", 0.5, None)]
    assert [(c.name, c.value) for c in quote.groups[0].constants] == [("venue", "XNY")]
    assert quote.groups[0].block_length == 4
    assert not [d for d in r.diagnostics if d.code == "HFT0901"]  # Ccy is used only by constants


def test_invalid_constants_are_reported_at_the_field() -> None:
    bad = CONSTANTS.replace("constant: sell", "constant: hold").replace("constant: USD", "constant: USDT") \
        .replace('constant: "0.25"', 'constant: "0.00001"').replace("constant: 100", "constant: 70000") \
        .replace('constant: "Q"', 'constant: "QQ"')
    assert _errors(_compile(bad)) == [("HFT0314", line) for line in (14, 15, 16, 17, 18)]
    clash = CONSTANTS.replace("      px: Px\n", "      px: Px\n      levels: {type: uint8, constant: 1}\n")
    assert ("HFT0308", 23) in _errors(_compile(clash))  # the group clashes with the constant
