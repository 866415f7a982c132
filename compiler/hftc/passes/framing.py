"""Check that what the schema writes into its framing fits the framing's encodings.

The message header carries each message's template id and block length, the schema id
and version; every group size carries a block length and a count. A custom `encoding:`
may narrow any of them (a uint8 template id, a uint8 group block length), so each value
is checked against its encoding here, after layout has computed the block lengths.
"""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic, error
from hftc.ir.model import PRIMITIVES, Group, Schema

_HELP = "choose a wider type under `encoding:`"


def _max(prim: str) -> int:
    return (1 << (8 * PRIMITIVES[prim].size)) - 1


def _group(g: Group, owner: str, limit: int, prim: str, out: list[Diagnostic]) -> None:
    if g.block_length > limit:
        out.append(error("HFT0315", f"entries of group `{owner}.{g.name}` are {g.block_length} bytes, over the {limit} "
                         f"a {prim} group block length holds", g.span, label="this group", help=_HELP))
    for sub in g.groups:
        _group(sub, f"{owner}.{g.name}", limit, prim, out)


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    w = ir.wire
    out: list[Diagnostic] = []
    if w.is_default:
        return ir, out
    for what, value, prim in (("schema_id", ir.schema_id, w.schema_id), ("version", ir.version, w.version)):
        if value > _max(prim):
            out.append(error("HFT0315", f"`{what}: {value}` does not fit the header's {prim} {what}", w.span,
                             label=f"the header encodes {what} as {prim}", help=_HELP))
    for m in ir.messages:
        if m.id > _max(w.template_id):
            out.append(error("HFT0315", f"template id {m.id} of `{m.name}` does not fit the header's {w.template_id} "
                             "template_id", m.span, label="this message", help=_HELP))
        if m.block_length > _max(w.block_length):
            out.append(error("HFT0315", f"the block of `{m.name}` is {m.block_length} bytes, over the "
                             f"{_max(w.block_length)} a {w.block_length} block length holds", m.span,
                             label="this message", help=_HELP))
        for g in m.groups:
            _group(g, m.name, _max(w.group_block_length), w.group_block_length, out)
    return ir, out
