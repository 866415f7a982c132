"""Atomic writes shared by tapes, backtest results, optimiser outputs and schema edits."""

from __future__ import annotations

import stat

import pytest

from hftc.fileio import default_mode, write_atomically


def test_writes_bytes_or_a_writer_with_ordinary_permissions(tmp_path):
    target = tmp_path / "sub" / "a.bin"
    write_atomically(target, b"abc")
    assert target.read_bytes() == b"abc"
    assert stat.S_IMODE(target.stat().st_mode) == default_mode()  # not mkstemp's private 0o600
    write_atomically(target, lambda out: out.write(b"xyz"), mode=0o640, fsync=True)
    assert target.read_bytes() == b"xyz" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.bin"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")

    def broken(out):
        out.write(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_atomically(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
