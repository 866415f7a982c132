"""Insert or update one `deployments:` entry in a schema file, keeping its comments and layout.

ruamel.yaml's round-trip mode keeps comments, key order, flow/block style and
quoting; only the edited entry changes. The edited text is compiled before it
replaces the file, and the file is replaced atomically (temporary file + rename).
"""

from __future__ import annotations

import difflib
import io
import os
from dataclasses import dataclass, field
from typing import Any

from hftc.diagnostics.model import Diagnostic, has_errors
from hftc.fileio import write_atomically


class SchemaEditError(ValueError):
    """The schema file cannot take a deployment entry (not a mapping, `deployments:` not a mapping...)."""


def round_trip_yaml():
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _styled(value: Any, depth: int) -> Any:
    """Plain data as ruamel nodes in the schema's house style: nested maps and lists in flow style."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _styled(v, depth + 1)
        if depth >= 1:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_styled(v, depth + 1) for v in value)
        s.fa.set_flow_style()
        return s
    return value


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def dump_entry(name: str, entry: dict[str, Any]) -> str:
    """`name:` and the entry, as it reads under `deployments:` (without the indentation)."""
    out = io.StringIO()
    round_trip_yaml().dump({name: _styled(entry, 0)}, out)
    return out.getvalue()


def existing_entry(text: str, name: str) -> dict[str, Any] | None:
    """The plain value of `deployments.<name>` in the schema text, if there is one."""
    data = round_trip_yaml().load(text)
    deployments = data.get("deployments") if isinstance(data, dict) else None
    if isinstance(deployments, dict) and isinstance(deployments.get(name), dict):
        return _plain(deployments[name])
    return None


def _update(target: Any, entry: dict[str, Any], depth: int) -> None:
    """Set `entry`'s values in the round-trip map `target`, in place, so comments and styles stay."""
    for key, value in entry.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _update(current, value, depth + 1)
            for stale in [k for k in current if k not in value]:
                del current[stale]
        elif isinstance(value, list) and isinstance(current, list) and _plain(current) == value:
            continue
        elif _plain(current) != value or key not in target:
            target[key] = _styled(value, depth + 1)
    for stale in [k for k in target if k not in entry]:
        del target[stale]


def edit_schema_text(text: str, name: str, entry: dict[str, Any]) -> str:
    """The schema text with `deployments.<name>` set to `entry` (inserted, or updated in place)."""
    from ruamel.yaml.comments import CommentedMap

    y = round_trip_yaml()
    data = y.load(text)
    if not isinstance(data, CommentedMap):
        raise SchemaEditError("the schema's top level is not a mapping")
    deployments = data.get("deployments")
    if deployments is None:
        deployments = CommentedMap()
        if "monitoring" in data:
            data.insert(list(data).index("monitoring"), "deployments", deployments)
        else:
            data["deployments"] = deployments
    elif not isinstance(deployments, CommentedMap):
        raise SchemaEditError("`deployments:` is not a mapping")
    if name in deployments and isinstance(deployments[name], CommentedMap):
        _update(deployments[name], entry, 0)
    else:
        deployments[name] = _styled(entry, 0)
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def unified_diff(old: str, new: str, path: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{path}", tofile=f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


@dataclass
class WriteResult:
    written: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: Any = None


def write_validated(path: str, new_text: str) -> WriteResult:
    """Compile `new_text` as the content of `path`; replace the file atomically only when it compiles clean.

    Imports resolve against `path`'s folder and diagnostics name `path`. The new text
    goes to a temporary file next to the schema, which is renamed over the original.
    """
    from hftc.frontend.compile import compile_text

    result = compile_text(path, new_text)
    if not result.ok or has_errors(result.diagnostics):
        return WriteResult(False, result.diagnostics, result.sources)
    try:
        mode: int | None = os.stat(path).st_mode & 0o7777  # keep the schema's permissions
    except OSError:
        mode = None
    write_atomically(path, new_text.encode("utf-8"), mode=mode)
    return WriteResult(True, result.diagnostics, result.sources)
