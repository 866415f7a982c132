"""Replace several files or folders of one directory all together, surviving SIGKILL at any instant.

`hftc build` writes several target folders (OUT/cpp, OUT/rust, ...), a backtest report or an
optimiser run several files; a reader must find either the complete old set or the complete
new one. One rename cannot move several entries, so a small write-ahead journal does:

1. the new entries are written under DIR/.hftc-txn/new/ (nothing visible changes);
2. DIR/.hftc-txn/journal.json is written atomically: from here the transaction is committed,
   it names each entry and the SHA-256 of its identity (a file's bytes, a folder's manifest);
3. each entry is swapped into place: a file by one rename, a folder by one RENAME_EXCHANGE
   (or, where the filesystem lacks it, by moving the old folder aside then the new one in);
4. the journal is deleted, then the staging folder.

Every run first takes an exclusive lock on DIR and recovers: with a journal it finishes step 3
(each step is idempotent: an entry whose identity already matches is left alone), without one
it deletes the uncommitted staging folder. A kill before step 2 therefore rolls back, a kill
after it rolls forward, and each entry is at every instant a complete old or new version.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hftc.fileio import default_mode, write_atomically

STAGING = ".hftc-txn"
JOURNAL = "journal.json"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True)
class Tree:
    """A folder to install: its files (relative paths), which are executable, and the file naming its version."""

    files: Mapping[str, bytes]
    identity: str
    executables: frozenset[str] = field(default_factory=frozenset)


Entry = bytes | Tree


def replace_entries(directory: str | os.PathLike[str], entries: Mapping[str, Entry], *,
                    leftovers: tuple[str, ...] = ()) -> None:
    """Install `entries` (name -> file bytes or Tree) in `directory`: all of them or, if interrupted, none.

    `leftovers` are glob patterns of older writers' temporaries in `directory` to delete first.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    for name in entries:
        if not name or "/" in name or name in (".", "..", STAGING):
            raise ValueError(f"not a plain entry name: {name!r}")
    with _locked(root):
        recover_locked(root)
        _remove_leftovers(root, leftovers)
        try:
            journal = _stage(root / STAGING, entries)
        except BaseException:
            _finish(root)  # not committed: an error rolls back at once (a kill, at the next run)
            raise
        _roll_forward(root, journal)
        _finish(root)


def _stage(staging: Path, entries: Mapping[str, Entry]) -> dict[str, dict[str, str]]:
    """Write the new entries and then the journal, which commits them."""
    new = staging / "new"
    new.mkdir(parents=True)
    journal: dict[str, dict[str, str]] = {}
    for name, entry in entries.items():
        if isinstance(entry, Tree):
            _write_tree(new / name, entry)
            journal[name] = {"kind": "tree", "identity": entry.identity, "sha256": _sha(entry.files[entry.identity])}
        else:
            (new / name).write_bytes(entry)
            os.chmod(new / name, default_mode())
            journal[name] = {"kind": "file", "identity": "", "sha256": _sha(entry)}
    _fsync_tree(new)
    write_atomically(staging / JOURNAL, json.dumps({"entries": journal}, sort_keys=True).encode(), fsync=True)
    return journal


def recover(directory: str | os.PathLike[str]) -> bool:
    """Finish or undo an interrupted transaction in `directory`; True when there was one."""
    root = Path(directory)
    if not (root / STAGING).exists():
        return False
    with _locked(root):
        return recover_locked(root)


def recover_locked(root: Path) -> bool:
    staging = root / STAGING
    if not staging.exists():
        return False
    try:
        journal = json.loads((staging / JOURNAL).read_bytes())["entries"]
    except (OSError, ValueError, KeyError, TypeError):
        journal = None  # never committed (the journal is written atomically): roll back
    if journal:
        _roll_forward(root, journal)
    _finish(root)
    return True


def _roll_forward(root: Path, journal: Mapping[str, Mapping[str, str]]) -> None:
    staging = root / STAGING
    for name, spec in sorted(journal.items()):
        final, staged = root / name, staging / "new" / name
        if _identity(final, spec) == spec["sha256"]:
            continue  # already in place (or unchanged)
        if _identity(staged, spec) != spec["sha256"]:
            raise OSError(f"interrupted update of {final} cannot be finished: its staged copy is gone")
        if spec["kind"] == "file" or not final.exists():
            os.replace(staged, final)
        elif not _exchange(staged, final):
            aside = staging / "old"
            aside.mkdir(exist_ok=True)
            shutil.rmtree(aside / name, ignore_errors=True)
            os.rename(final, aside / name)
            os.rename(staged, final)
        _fsync_dir(root)


def _finish(root: Path) -> None:
    staging = root / STAGING
    (staging / JOURNAL).unlink(missing_ok=True)
    _fsync_dir(staging)
    shutil.rmtree(staging, ignore_errors=True)


def _identity(path: Path, spec: Mapping[str, str]) -> str | None:
    target = path / spec["identity"] if spec["kind"] == "tree" else path
    try:
        if spec["kind"] == "tree" and not path.is_dir():
            return None
        return _sha(target.read_bytes())
    except OSError:
        return None


def _write_tree(folder: Path, tree: Tree) -> None:
    folder.mkdir(parents=True)
    for rel, data in tree.files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if rel in tree.executables:
            os.chmod(target, 0o755)


def _remove_leftovers(root: Path, patterns: tuple[str, ...]) -> None:
    for pattern in patterns:
        for path in root.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Exclusive advisory lock on the folder itself (released by the kernel if the process dies)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


_libc = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            _libc.renameat2  # noqa: B018 - probe: glibc before 2.28 lacks it
        except (OSError, AttributeError):
            _libc = False
    if not _libc:
        return False
    if _libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the filesystem cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_tree(folder: Path) -> None:
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
