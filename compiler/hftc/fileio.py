"""Atomic file writes: a temporary file in the target's folder, then a rename.

A reader (a running backtest mapping a tape, an editor holding a schema) never sees half a
file, and a crash or an error leaves the previous file as it was and no temporary behind.
A writer killed outright (SIGKILL, power cut) cannot remove its temporary, so each writer
holds an advisory lock on its temporary while it exists and the next write of the same file
deletes the temporaries whose lock nobody holds.
"""

from __future__ import annotations

import fcntl
import glob
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
    remove_stale_temporaries(path)
    fd, tmp = _locked_temporary(path)
    try:
        with os.fdopen(fd, "wb") as out:  # the lock lives as long as this descriptor: past the rename
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


def temporary_pattern(path: Path) -> str:
    """The glob matching write_atomically's temporaries for `path` (for cleaners and tests)."""
    return f".{glob.escape(path.name)}.*.tmp"


def _locked_temporary(path: Path) -> tuple[int, str]:
    """A new temporary beside `path`, locked; retried if a cleaner removed it before the lock was taken."""
    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)


def remove_stale_temporaries(path: str | os.PathLike[str]) -> int:
    """Delete the temporaries of `path` left by killed writers (no one holds their lock); returns the count."""
    path = Path(path)
    removed = 0
    for candidate in glob.glob(os.path.join(glob.escape(str(path.parent)), temporary_pattern(path))):
        try:
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.stat(candidate).st_ino == os.fstat(fd).st_ino:
                os.unlink(candidate)
                removed += 1
        except OSError:  # locked by a live writer, or already gone
            pass
        finally:
            os.close(fd)
    return removed
