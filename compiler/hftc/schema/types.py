"""`types:` — user-defined wire types."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Tag

from hftc.schema.common import F, Surface

IntEncoding = Literal["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
UIntEncoding = Literal["uint8", "uint16", "uint32", "uint64"]


class DecimalType(Surface):
    """Fixed-point decimal: an integer mantissa scaled by 10^exponent. Never float on the wire."""

    decimal: IntEncoding = F("Integer type of the mantissa.", "int64")
    exponent: int = F("Power of ten applied to the mantissa, from -18 to 18.", -9, ge=-18, le=18)
    description: str = F("What the type means; shown in generated docs.", "Price in quote currency.", default="")


class EnumType(Surface):
    """Enumeration encoded as an integer; unknown values decode to an explicit `unknown`."""

    enum: Union[IntEncoding, Literal["char"]] = F(
        "Encoding of the enum on the wire: an integer type, or `char` for one character per value (FIX style).",
        "uint8")
    values: dict[str, Union[int, str]] = F(
        "Names and their wire values: integers, or single characters such as \"0\" or \"J\" for `enum: char`.",
        {"buy": 1, "sell": 2})
    description: str = F("What the enum means.", "Order side.", default="")


class SetType(Surface):
    """Bitset: each choice names a bit position of an unsigned integer."""

    set: UIntEncoding = F("Unsigned integer encoding of the bitset.", "uint8")
    choices: dict[str, int] = F("Choice names and their bit positions (0 = least significant).", {"post_only": 0, "reduce_only": 1})
    description: str = F("What the flags mean.", "Order flags.", default="")


class CharType(Surface):
    """Fixed-length character array, padded with NUL bytes."""

    char: int = F("Length in bytes.", 12, ge=1, le=65535)
    description: str = F("What the text holds.", "Instrument symbol.", default="")


class CompositeType(Surface):
    """A fixed-size struct of named fields, laid out in order without padding."""

    composite: dict[str, str] = F("Field names and their types.", {"mantissa": "int64", "exponent": "int8"})
    description: str = F("What the composite means.", "A price with its own exponent.", default="")


class ArrayType(Surface):
    """A fixed-length array of one element type."""

    array: str = F("Element type: a primitive or a user type.", "Price")
    length: int = F("Number of elements.", 5, ge=1, le=65535)
    description: str = F("What the array holds.", "Top five prices.", default="")


_TYPE_KEYS = {
    "decimal": "decimal",
    "enum": "enum",
    "set": "set",
    "char": "char",
    "composite": "composite",
    "array": "array",
}


def type_kind(value: Any) -> str | None:
    """Which kind of type definition a mapping is, from its distinguishing key."""
    if isinstance(value, dict):
        for key, tag in _TYPE_KEYS.items():
            if key in value:
                return tag
    return None


TypeDef = Annotated[
    Union[
        Annotated[DecimalType, Tag("decimal")],
        Annotated[EnumType, Tag("enum")],
        Annotated[SetType, Tag("set")],
        Annotated[CharType, Tag("char")],
        Annotated[CompositeType, Tag("composite")],
        Annotated[ArrayType, Tag("array")],
    ],
    Discriminator(
        type_kind,
        custom_error_type="type_kind",
        custom_error_message="a type definition needs one of the keys decimal, enum, set, char, composite or array",
    ),
]
