"""The .hftt tape: byte layout per runtime_cpp/FORMATS.md §4, round trips, validation."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hftc.data import CLEAR, DEPTH, END, SIDE_ASK, SNAPSHOT, TRADE, DataError, Instrument, open_tape, write_tape
from hftc.data.tape import COLUMNS

INSTRUMENTS = [Instrument("BTCUSDT", 0.1, 0.001, 1.0), Instrument("ETHUSDT", 0.01, 0.001, 1.0)]


def _columns(n: int = 5) -> dict[str, np.ndarray]:
    return {
        "local_ts": np.array([10, 20, 20, 30, 40][:n], dtype=np.int64),
        "exch_ts": np.array([5, 15, 16, 25, 35][:n], dtype=np.int64),
        "px": np.array([618002, 618003, 26816, -1, 618001][:n], dtype=np.int64),
        "qty": np.array([14, 0, 1000, 7, 3][:n], dtype=np.int64),
        "instrument": np.array([0, 0, 1, 1, 0][:n], dtype=np.uint16),
        "kind": np.array([DEPTH, DEPTH, TRADE, CLEAR, DEPTH][:n], dtype=np.uint8),
        "flags": np.array([SNAPSHOT, SIDE_ASK | END, END, SIDE_ASK | END, END][:n], dtype=np.uint8),
    }


def test_byte_layout_follows_formats_md(tmp_path):
    """Decode the file by hand from the spec, independently of open_tape."""
    path = write_tape(tmp_path / "t.hftt", INSTRUMENTS, _columns(), {"note": "x"})
    raw = path.read_bytes()
    magic, version, count_i, count_n, instr_off, meta_off, meta_len, first, reserved = struct.unpack_from(
        "<8sIIQQQQQQ", raw, 0)
    assert (magic, version, count_i, count_n, reserved) == (b"HFTTAPE1", 1, 2, 5, 0)
    assert instr_off == 64
    symbol, tick, lot, mult = struct.unpack_from("<40sddd", raw, instr_off + 64)
    assert (symbol.rstrip(b"\0"), tick, lot, mult) == (b"ETHUSDT", 0.01, 0.001, 1.0)
    assert json.loads(raw[meta_off:meta_off + meta_len]) == {"note": "x"}
    at = first
    expected = _columns()
    for name, dtype in COLUMNS:
        assert at % 64 == 0, name
        width = np.dtype(dtype).itemsize
        values = np.frombuffer(raw, dtype=dtype, count=5, offset=at)
        assert values.tolist() == expected[name].tolist(), name
        end = at + width * 5
        at = (end + 63) // 64 * 64
    assert len(raw) == end       # no trailing padding after the last column


def test_round_trip_and_accessors(tmp_path):
    cols = _columns()
    tape = open_tape(write_tape(tmp_path / "t.hftt", INSTRUMENTS, cols, {"gaps": []}))
    assert len(tape) == 5
    assert tape.instruments == INSTRUMENTS
    assert tape.meta == {"gaps": []}
    assert tape.path == tmp_path / "t.hftt"
    for name, _ in COLUMNS:
        assert getattr(tape, name).tolist() == cols[name].tolist()
    assert tape.local_ts.dtype == np.dtype("<i8") and tape.flags.dtype == np.uint8
    assert not tape.px.flags.writeable                    # a read-only map of the file
    assert tape.time_window(20, 40) == (1, 4)             # [start, end) on local_ts
    assert tape.time_window(None, 20) == (0, 1)
    assert tape.time_window(41, None) == (5, 5)
    assert tape.instrument_index("ETHUSDT") == 1


def test_empty_tape(tmp_path):
    tape = open_tape(write_tape(tmp_path / "e.hftt", INSTRUMENTS[:1], _columns(0)))
    assert len(tape) == 0 and tape.time_window(0, 10) == (0, 0)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_write_then_read_is_identity(tmp_path_factory, data):
    count_i = data.draw(st.integers(1, 4))
    instruments = [Instrument(data.draw(st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1,
                                                max_size=10)) + f"#{i}",
                              data.draw(st.sampled_from([1e-8, 0.01, 0.1, 0.5, 25.0])),
                              data.draw(st.sampled_from([1e-3, 1.0, 100.0])), data.draw(st.sampled_from([1.0, 0.001])))
                   for i in range(count_i)]
    n = data.draw(st.integers(0, 200))
    i64 = st.integers(-(2**63), 2**63 - 1)
    local = sorted(data.draw(st.lists(i64, min_size=n, max_size=n)))
    cols = {
        "local_ts": np.array(local, dtype=np.int64),
        "exch_ts": np.array(data.draw(st.lists(i64, min_size=n, max_size=n)), dtype=np.int64),
        "px": np.array(data.draw(st.lists(i64, min_size=n, max_size=n)), dtype=np.int64),
        "qty": np.array(data.draw(st.lists(i64, min_size=n, max_size=n)), dtype=np.int64),
        "instrument": np.array(data.draw(st.lists(st.integers(0, count_i - 1), min_size=n, max_size=n)),
                               dtype=np.uint16),
        "kind": np.array(data.draw(st.lists(st.sampled_from([DEPTH, TRADE, CLEAR]), min_size=n, max_size=n)),
                         dtype=np.uint8),
        "flags": np.array(data.draw(st.lists(st.integers(0, 7), min_size=n, max_size=n)), dtype=np.uint8),
    }
    meta = data.draw(st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)),
                                     max_size=3))
    path = tmp_path_factory.mktemp("prop") / "p.hftt"
    tape = open_tape(write_tape(path, instruments, cols, meta))
    assert tape.instruments == instruments
    assert tape.meta == meta
    for name, _ in COLUMNS:
        assert np.array_equal(getattr(tape, name), cols[name]), name


def _corrupt(path, offset, data: bytes):
    raw = bytearray(path.read_bytes())
    raw[offset:offset + len(data)] = data
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage, code, words", [
    (lambda p: _corrupt(p, 0, b"NOTATAPE"), "HFT1011", "magic"),
    (lambda p: _corrupt(p, 8, struct.pack("<I", 2)), "HFT1011", "version 2"),
    (lambda p: _corrupt(p, 12, struct.pack("<I", 0)), "HFT1012", "instrument count 0"),
    (lambda p: p.write_bytes(p.read_bytes()[:-3]), "HFT1012", "truncated"),
    (lambda p: p.write_bytes(p.read_bytes() + b"\0"), "HFT1012", "longer"),
    (lambda p: _corrupt(p, 48, struct.pack("<Q", 100)), "HFT1012", "aligned"),
    (lambda p: _corrupt(p, 16, struct.pack("<Q", 10**12)), "HFT1012", "event count"),
    (lambda p: _corrupt(p, 64 + 40, struct.pack("<d", 0.0)), "HFT1014", "tick_size"),
    (lambda p: p.write_bytes(p.read_bytes()[:20]), "HFT1011", "shorter"),
])
def test_damaged_tapes_are_clear_errors(tmp_path, damage, code, words):
    path = write_tape(tmp_path / "t.hftt", INSTRUMENTS, _columns())
    damage(path)
    with pytest.raises(DataError) as info:
        open_tape(path)
    assert info.value.code == code
    assert words in info.value.message


def test_bad_metadata_and_events(tmp_path):
    path = write_tape(tmp_path / "t.hftt", INSTRUMENTS, _columns(), {"k": "v"})
    raw = path.read_bytes()
    meta_off, _meta_len, first = struct.unpack_from("<QQQ", raw, 32)
    _corrupt(path, meta_off, b"[")
    with pytest.raises(DataError) as info:
        open_tape(path)
    assert info.value.code == "HFT1013"

    path = write_tape(tmp_path / "t.hftt", INSTRUMENTS, _columns(), {"k": "v"})
    kind_off = first + 64 * 5                                # 4 × i64 columns and the u16 one, 64 bytes each
    _corrupt(path, kind_off, bytes([9]))
    with pytest.raises(DataError) as info:
        open_tape(path)
    assert info.value.code == "HFT1015" and "unknown kind 9" in info.value.message
    assert len(open_tape(path, validate=False)) == 5           # the header alone is still sound

    path = write_tape(tmp_path / "t.hftt", INSTRUMENTS, _columns(), {"k": "v"})
    _corrupt(path, first, struct.pack("<q", 99))              # local_ts[0] after local_ts[1]
    with pytest.raises(DataError) as info:
        open_tape(path)
    assert info.value.code == "HFT1015" and "not sorted" in info.value.message


def test_writer_rejects_bad_input_and_keeps_the_old_file(tmp_path):
    path = write_tape(tmp_path / "t.hftt", INSTRUMENTS, _columns())
    before = path.read_bytes()
    unsorted = _columns()
    unsorted["local_ts"] = unsorted["local_ts"][::-1].copy()
    with pytest.raises(DataError):
        write_tape(path, INSTRUMENTS, unsorted)
    bad_instrument = _columns()
    bad_instrument["instrument"][0] = 2
    with pytest.raises(DataError):
        write_tape(path, INSTRUMENTS, bad_instrument)
    with pytest.raises(DataError):
        write_tape(path, [Instrument("X" * 41, 0.1, 1, 1)], _columns(0))
    with pytest.raises(DataError):
        write_tape(path, [Instrument("X", 0.0, 1, 1)], _columns(0))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["t.hftt"]                  # no temporary file left behind


def test_cli_info_reports_a_damaged_tape_without_traceback(tmp_path):
    path = write_tape(tmp_path / "t.hftt", INSTRUMENTS, _columns())
    ok = subprocess.run([sys.executable, "-m", "hftc", "data", "info", str(path), "--json"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    info = json.loads(ok.stdout)
    assert info["events"] == 5 and [i["symbol"] for i in info["instruments"]] == ["BTCUSDT", "ETHUSDT"]
    assert info["instruments"][0]["depth"] == 3 and info["instruments"][1]["clear"] == 1
    _corrupt(path, 0, b"XXXXXXXX")
    bad = subprocess.run([sys.executable, "-m", "hftc", "data", "info", str(path)], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 1
    assert "error[HFT1011]" in bad.stderr and "Traceback" not in bad.stderr
