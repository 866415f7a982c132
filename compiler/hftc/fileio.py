"""Atomic file writes: a temporary file in the target's folder, then a rename.

A reader (a running backtest mapping a tape, an editor holding a schema) never sees half a
file, and a crash or an error leaves the previous file as it was and no temporary behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def umask() -> int:
    """The process's file-creation mask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_mode() -> int:
    """The permissions `open()` gives a new file: 0o666 less the umask (mkstemp's are 0o600)."""
    return 0o666 & ~umask()


def write_atomically(path: str | os.PathLike[str], data: bytes | Callable[[BinaryIO], None], *,
                     mode: int | None = None, fsync: bool = False) -> Path:
    """Replace `path` with `data` (bytes, or a function writing to the open file) in one rename.

    The folder is created when missing. `mode` defaults to an ordinary new file's permissions;
    `fsync` flushes the data to disk before the rename (for files worth a power cut).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            if callable(data):
                data(out)
            else:
                out.write(data)
            if fsync:
                out.flush()
                os.fsync(out.fileno())
        os.chmod(tmp, default_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
