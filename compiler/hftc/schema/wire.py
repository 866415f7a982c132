"""`byte_order:` and `encoding:` — how a schema frames its messages on the wire.

SBE lets a schema choose its message header, its group-size (dimension) composite and
the length prefix of var-data, and the byte order of everything; venues use that
(CME MDP3's group size is a uint16 block length and a uint8 count). The defaults are
hftc's own framing: an 8-byte header of four uint16, a 4-byte group size of two uint16,
a uint32 var-data length, little-endian.
"""

from __future__ import annotations

from typing import Literal

from hftc.schema.common import F, Surface

LengthEncoding = Literal["uint8", "uint16", "uint32"]
# Header fields hold ids, versions and block lengths, all at most 65535 in hftc.
HeaderEncodingType = Literal["uint8", "uint16"]
ByteOrder = Literal["little", "big"]


class HeaderEncoding(Surface):
    """The message header: four unsigned integers (uint8 or uint16), in this order."""

    block_length: HeaderEncodingType = F("Encoding of the root block length.", "uint16", default="uint16")
    template_id: HeaderEncodingType = F("Encoding of the template id (every message `id:` must fit it).", "uint16", default="uint16")
    schema_id: HeaderEncodingType = F("Encoding of the schema id (`schema_id:` must fit it).", "uint16", default="uint16")
    version: HeaderEncodingType = F("Encoding of the schema version (`version:` must fit it).", "uint16", default="uint16")


class GroupSizeEncoding(Surface):
    """The header of a repeating group (SBE's groupSizeEncoding): block length, then the entry count."""

    block_length: LengthEncoding = F("Encoding of each entry's block length.", "uint16", default="uint16")
    count: LengthEncoding = F("Encoding of the number of entries (SBE numInGroup); bounds how many a group holds.", "uint8", default="uint16")


class WireEncoding(Surface):
    """The framing composites of the schema (SBE messageHeader, groupSizeEncoding, varDataEncoding)."""

    header: HeaderEncoding = F("The message header.", {"template_id": "uint16"}, default_factory=HeaderEncoding)
    group_size: GroupSizeEncoding = F("The header of every repeating group.", {"block_length": "uint16", "count": "uint8"},
                                      default_factory=GroupSizeEncoding)
    var_data_length: LengthEncoding = F("Encoding of the length before every var-data field.", "uint16", default="uint32")
