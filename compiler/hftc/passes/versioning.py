"""Schema evolution rules, so old and new readers keep understanding each other.

Within one schema: nothing is newer than the schema's `version`; nothing is older
than its container; fields added in a later version are appended after all older
fields (older readers find old fields at the same offsets and skip the rest by
block length); `deprecated` lies after `since_version`.
"""

from __future__ import annotations

from hftc.diagnostics.model import Diagnostic, Label, error
from hftc.ir.model import Field, Group, Message, Schema, VarData


def _check_members(owner: Message | Group, owner_since: int, schema_version: int, out: list[Diagnostic]) -> None:
    newest: Field | None = None
    for f in owner.fields:
        _check_one(f, f.name, owner.name, owner_since, schema_version, out)
        if newest is not None and f.since_version < newest.since_version:
            out.append(error("HFT0701", f"`{f.name}` (version {f.since_version}) comes after `{newest.name}` "
                             f"(version {newest.since_version})", f.span,
                             label="older field after a newer one",
                             secondary=(Label(newest.span, f"added in version {newest.since_version}"),) if newest.span else (),
                             help=f"move `{f.name}` before the fields added in later versions"))
        if newest is None or f.since_version > newest.since_version:
            newest = f
    newest_data: VarData | None = None
    for d in owner.data:
        _check_one(d, d.name, owner.name, owner_since, schema_version, out)
        if newest_data is not None and d.since_version < newest_data.since_version:
            out.append(error("HFT0701", f"var-data `{d.name}` (version {d.since_version}) comes after "
                             f"`{newest_data.name}` (version {newest_data.since_version})", d.span,
                             label="older var-data after a newer one"))
        if newest_data is None or d.since_version > newest_data.since_version:
            newest_data = d
    newest_group: Group | None = None
    for g in owner.groups:
        _check_one(g, g.name, owner.name, owner_since, schema_version, out)
        if newest_group is not None and g.since_version < newest_group.since_version:
            out.append(error("HFT0701", f"group `{g.name}` (version {g.since_version}) comes after "
                             f"`{newest_group.name}` (version {newest_group.since_version})", g.span,
                             label="older group after a newer one"))
        if newest_group is None or g.since_version > newest_group.since_version:
            newest_group = g
        _check_members(g, g.since_version, schema_version, out)


def _check_one(item, name: str, owner: str, owner_since: int, schema_version: int, out: list[Diagnostic]) -> None:
    since = item.since_version
    if since > schema_version:
        out.append(error("HFT0309", f"`{name}` has since_version {since}, newer than the schema version {schema_version}",
                         item.span, label="since_version too new", help=f"raise `version:` to {since} or lower since_version"))
    if since < owner_since:
        out.append(error("HFT0702", f"`{name}` has since_version {since}, before `{owner}` exists (version {owner_since})",
                         item.span, label="older than its container"))
    deprecated = getattr(item, "deprecated", None)
    if deprecated is not None and (deprecated <= since or deprecated > schema_version):
        out.append(error("HFT0703", f"`{name}` is deprecated in version {deprecated}, which is not after "
                         f"since_version {since} and at most the schema version {schema_version}", item.span,
                         label="inconsistent deprecated"))


def run(ir: Schema) -> tuple[Schema, list[Diagnostic]]:
    out: list[Diagnostic] = []
    for m in ir.messages:
        _check_one(m, m.name, ir.package, 0, ir.version, out)
        _check_members(m, m.since_version, ir.version, out)
    return ir, out
