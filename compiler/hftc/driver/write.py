"""Write generated trees atomically, with a manifest of content hashes.

All targets of a build are replaced together through hftc.transaction, so a failed or
killed build leaves either every previous target or every new one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping

from hftc.transaction import Tree, replace_entries

MANIFEST = "hftc-manifest.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_for(files: Mapping[str, bytes], meta: Mapping[str, object]) -> bytes:
    entries = [{"path": p, "sha256": sha256(files[p]), "size": len(files[p])} for p in sorted(files)]
    doc = {**meta, "files": entries}
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def read_tree(root: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if not os.path.isdir(root):
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            with open(full, "rb") as handle:
                out[rel] = handle.read()
    return out


def stale_files(root: str, files: Mapping[str, bytes]) -> list[str]:
    """Paths that differ between `files` and the tree on disk (added, changed or extra)."""
    on_disk = read_tree(root)
    changed = [p for p in files if on_disk.get(p) != files[p]]
    extra = [p for p in on_disk if p not in files]
    return sorted(changed + extra)


LEGACY_LEFTOVERS = (".*.tmp-*", ".*.old-*")  # staging and set-aside folders of builds before the journal


def write_trees(out_dir: str, trees: Mapping[str, tuple[Mapping[str, bytes], set[str]]]) -> None:
    """Replace the folders out_dir/<name> (name -> (files, executables)) all together or not at all.

    Each tree must hold its manifest; see hftc.transaction for why a kill at any instant is safe.
    """
    replace_entries(out_dir, {name: Tree(dict(files), MANIFEST, frozenset(executables))
                              for name, (files, executables) in trees.items()},
                    leftovers=LEGACY_LEFTOVERS)

