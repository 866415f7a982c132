"""Plain data to schema YAML, written by hftc: model text is parsed as JSON and never pasted into YAML.

House style: sections and entries in block style, leaf mappings and lists (all
scalars) in flow style, as the hand-written examples are.
"""

from __future__ import annotations

import io
from typing import Any



def _is_leaf(value: Any) -> bool:
    if isinstance(value, dict):
        return all(not isinstance(v, (dict, list)) or (isinstance(v, list) and all(
            not isinstance(x, (dict, list)) for x in v)) for v in value.values())
    if isinstance(value, list):
        return all(not isinstance(x, (dict, list)) for x in value)
    return True


def _styled(value: Any, depth: int) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[str(k)] = _styled(v, depth + 1)
        if depth >= 2 and _is_leaf(value) and len(value) <= 8:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_styled(v, depth + 1) for v in value)
        if _is_leaf(value):
            s.fa.set_flow_style()
        return s
    return value


def dump_document(document: dict[str, Any], header: list[str] | None = None) -> str:
    """YAML text of `document`, with `header` lines as comments under the editor-schema line."""
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    y.dump(_styled(document, 0), out)
    from hftc.editor_schema import modeline

    lines = [modeline()]
    lines += [("# " + h).rstrip() for h in header or []]
    body = out.getvalue()
    # Blank lines between top-level sections, as in the hand-written examples.
    parts = body.split("\n")
    spaced: list[str] = []
    for i, line in enumerate(parts):
        if i > 0 and line and not line[0].isspace() and not line.startswith("-") and \
                isinstance(document.get(line.split(":", 1)[0]), (dict, list)) and document.get(line.split(":", 1)[0]):
            spaced.append("")
        spaced.append(line)
    return "\n".join(lines) + "\n" + "\n".join(spaced).rstrip("\n") + "\n"
