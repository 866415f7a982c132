"""hftc.transaction: several files or folders replaced together, rolled forward or back after a kill."""

from __future__ import annotations

import fcntl
import json
import os
import stat

import pytest

from hftc import transaction
from hftc.fileio import default_mode, remove_stale_temporaries, write_atomically
from hftc.transaction import STAGING, Tree, recover, replace_entries


def _tree(version: str) -> Tree:
    return Tree({"a.txt": version.encode(), "sub/b.sh": b"#!/bin/sh\n", "m.json": version.encode()}, "m.json",
                frozenset({"sub/b.sh"}))


def _versions(root) -> dict[str, str]:
    return {name: (root / name / "a.txt").read_text() for name in ("cpp", "rust") if (root / name).exists()}


def test_installs_trees_and_files_and_keeps_other_entries(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    replace_entries(tmp_path, {"cpp": _tree("1"), "rust": _tree("1"), "summary.json": b"{}"})
    replace_entries(tmp_path, {"cpp": _tree("2"), "rust": _tree("2")})
    assert _versions(tmp_path) == {"cpp": "2", "rust": "2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpp", "keep.txt", "rust", "summary.json"]
    assert os.access(tmp_path / "cpp" / "sub" / "b.sh", os.X_OK)
    assert stat.S_IMODE((tmp_path / "summary.json").stat().st_mode) == default_mode()


def _interrupt_after_swaps(monkeypatch, root, swaps: int) -> None:
    """Make the commit die (like a kill) after `swaps` entries were moved into place."""
    real = transaction._fsync_dir
    calls = {"n": 0}

    def dying(folder):
        real(folder)
        if folder == root:  # synced after each entry is swapped in
            calls["n"] += 1
            if calls["n"] >= swaps:
                raise KeyboardInterrupt("killed")

    monkeypatch.setattr(transaction, "_fsync_dir", dying)


@pytest.mark.parametrize("exchange", [True, False], ids=["rename-exchange", "two-renames"])
def test_a_commit_killed_midway_is_rolled_forward_by_the_next_run(tmp_path, monkeypatch, exchange):
    replace_entries(tmp_path, {"cpp": _tree("1"), "rust": _tree("1")})
    if not exchange:
        monkeypatch.setattr(transaction, "_exchange", lambda a, b: False)
    _interrupt_after_swaps(monkeypatch, tmp_path, 1)
    with pytest.raises(KeyboardInterrupt):
        replace_entries(tmp_path, {"cpp": _tree("2"), "rust": _tree("2")})
    monkeypatch.undo()
    assert _versions(tmp_path) == {"cpp": "2", "rust": "1"}  # each folder whole, the set not yet
    assert (tmp_path / STAGING / "journal.json").exists()
    assert recover(tmp_path) is True
    assert _versions(tmp_path) == {"cpp": "2", "rust": "2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpp", "rust"]


def test_an_uncommitted_transaction_is_rolled_back(tmp_path, monkeypatch):
    replace_entries(tmp_path, {"cpp": _tree("1"), "rust": _tree("1")})
    monkeypatch.setattr(transaction, "write_atomically", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "full")))
    with pytest.raises(OSError):
        replace_entries(tmp_path, {"cpp": _tree("2"), "rust": _tree("2")})
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpp", "rust"]  # an error cleans up at once
    (tmp_path / STAGING / "new" / "cpp").mkdir(parents=True)  # what a kill while staging leaves
    (tmp_path / STAGING / "new" / "cpp" / "a.txt").write_text("half")
    replace_entries(tmp_path, {"summary.json": b"x"})  # any next run recovers first
    assert _versions(tmp_path) == {"cpp": "1", "rust": "1"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpp", "rust", "summary.json"]


def test_a_journal_whose_staged_copy_vanished_is_an_error_not_silence(tmp_path):
    (tmp_path / STAGING).mkdir()
    (tmp_path / STAGING / "journal.json").write_text(json.dumps(
        {"entries": {"cpp": {"kind": "tree", "identity": "m.json", "sha256": "0" * 64}}}))
    with pytest.raises(OSError, match="cannot be finished"):
        recover(tmp_path)


def test_legacy_staging_folders_are_removed(tmp_path):
    from hftc.driver.write import MANIFEST, write_trees

    for name in (".cpp.tmp-abc", ".rust.old-def"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x").write_text("half")
    write_trees(str(tmp_path), {"cpp": ({"a": b"1", MANIFEST: b"m"}, set())})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpp"]


def test_entry_names_are_plain(tmp_path):
    for bad in ("../x", "a/b", STAGING, ""):
        with pytest.raises(ValueError):
            replace_entries(tmp_path, {bad: b"x"})


def test_write_atomically_removes_temporaries_of_killed_writers_but_not_live_ones(tmp_path):
    target = tmp_path / "t.hftt"
    dead = tmp_path / ".t.hftt.dead1234.tmp"
    dead.write_bytes(b"half")
    live = tmp_path / ".t.hftt.live5678.tmp"
    live.write_bytes(b"writing")
    other = tmp_path / ".u.hftt.zzz.tmp"
    other.write_bytes(b"another file's")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a live writer holds its temporary's lock
        write_atomically(target, b"new")
        assert target.read_bytes() == b"new"
        assert sorted(p.name for p in tmp_path.iterdir()) == [".t.hftt.live5678.tmp", ".u.hftt.zzz.tmp", "t.hftt"]
    finally:
        os.close(fd)
    assert remove_stale_temporaries(target) == 1
    assert not live.exists() and other.exists()
