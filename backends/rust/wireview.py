"""The framing of wire.rs: Rust expressions for the schema's header, group size and var-data length."""

from __future__ import annotations

from hftc.ir.model import PRIMITIVES, WireFormat

_RS = {"uint8": "u8", "uint16": "u16", "uint32": "u32"}


def _to_usize(prim: str, expr: str) -> str:
    """`expr`, read as `prim`, widened to usize (`as` only for u32, which `From` does not cover)."""
    rs = _RS[prim]
    return f"{rs}::read({expr}) as usize" if rs == "u32" else f"usize::from({rs}::read({expr}))"


class WireView:
    """Expressions the template splices in; the default framing renders the historical text."""

    def __init__(self, w: WireFormat):
        self.w = w
        self.custom = not w.is_default
        self.endian = "be" if w.big_endian else "le"
        self.header = tuple((name, _RS[prim], off) for name, prim, off in w.header_fields)
        self.block_size = PRIMITIVES[w.group_block_length].size
        self.count_rs = "u32" if w.group_count == "uint32" else "u16"  # what the API holds a count in
        self.narrow_count = w.group_count == "uint8"
        self.max_count = (1 << (8 * PRIMITIVES[w.group_count].size)) - 1
        self.block_expr = {"uint8": "(block_length as u8)", "uint16": "block_length",
                           "uint32": "u32::from(block_length)"}[w.group_block_length]
        self.len_rs = _RS[w.var_data_length]
        self.len_max = "u32::MAX as usize" if self.len_rs == "u32" else f"usize::from({self.len_rs}::MAX)"

    def read_block(self, h: str) -> str:
        return _to_usize(self.w.group_block_length, h)

    def read_count(self, h: str) -> str:
        return _to_usize(self.w.group_count, f"&{h}[{self.block_size}..]")

    def read_len(self, b: str) -> str:
        return _to_usize(self.w.var_data_length, b)

    def count_usize(self, c: str) -> str:
        return f"{c} as usize" if self.count_rs == "u32" else f"usize::from({c})"
