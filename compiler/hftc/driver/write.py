"""Write generated trees atomically, with a manifest of content hashes.

The new tree is written to a temporary sibling directory and renamed into place,
so a failed or killed build leaves the previous output intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from typing import Mapping

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


def write_tree_atomically(root: str, files: Mapping[str, bytes], executables: set[str] = frozenset()) -> None:
    root = os.path.abspath(root)
    parent = os.path.dirname(root)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(root)}.tmp-", dir=parent)
    try:
        for rel, data in files.items():
            target = os.path.join(staging, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(data)
            if rel in executables:
                os.chmod(target, 0o755)
        old = None
        if os.path.exists(root):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(root)}.old-", dir=parent)
            os.rmdir(old)
            os.rename(root, old)
        os.rename(staging, root)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
