"""Kill writers with SIGKILL at timed moments and check what is left on disk (tests/test_kill_writers.py).

Two writers are exercised, each by a child process that rewrites its output in a loop,
alternating between two versions:

- `build`: the trees of a real `hftc build` (cpp + rust targets of an example schema, as the
  backends and formatters produced them), written by hftc.driver.write.write_trees;
- `convert`: a .hftt tape written by hftc.data.tape.write_tape (what `hftc data convert` ends with).

The parent waits until the child's staging appears, waits 0-30 ms more (so kills land while
staging, committing and cleaning up), kills it and inspects the folder. `python kill_writers.py
build|convert N` prints the campaign's figures.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CHILD = r"""
import pickle, sys
kind, spec, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(spec, "rb") as fh:
    versions = pickle.load(fh)
if kind == "build":
    from hftc.driver.write import write_trees
    write = lambda v: write_trees(out, v)
else:
    from hftc.data.tape import write_tape
    write = lambda v: write_tape(out, v[0], v[1], v[2])
print("ready", flush=True)
i = 0
while True:
    write(versions[i % 2])
    i += 1
"""


def build_versions() -> list[dict]:
    """Two builds of the same schema that differ in every target (a different schema version)."""
    from hftc.driver.build import generate
    from hftc.frontend import compile_file

    root = Path(__file__).resolve().parent.parent
    result = compile_file(str(root / "examples" / "btc_market_maker.hftc.yaml"))
    versions = []
    for bump in (0, 1):
        ir = result.ir if not bump else _with_version(result.ir, result.ir.version + 1)
        report = generate(ir, ["cpp", "rust"], "out")
        versions.append({o.target: (o.files, o.executables) for o in report.outputs})
    return versions


def _with_version(ir, version: int):
    import dataclasses

    return dataclasses.replace(ir, version=version)


def tape_versions(rows: int = 300_000) -> list[tuple]:
    import numpy as np

    from hftc.data import DEPTH, END, Instrument

    instruments = [Instrument("BTCUSDT", 0.1, 0.001, 1.0)]
    versions = []
    for v in (1, 2):
        ts = np.arange(rows, dtype=np.int64) * 1000 + v
        cols = {"local_ts": ts, "exch_ts": ts - 10, "px": np.full(rows, 600000 + v, np.int64),
                "qty": np.full(rows, 5, np.int64), "instrument": np.zeros(rows, np.uint16),
                "kind": np.full(rows, DEPTH, np.uint8), "flags": np.full(rows, END, np.uint8)}
        versions.append((instruments, cols, {"version": v}))
    return versions


def build_state(out: Path) -> tuple[list[str], set[int]]:
    """Problems of the build folder right after a kill, and which versions (0/1) its targets hold."""
    from hftc.driver.write import MANIFEST, read_tree

    problems, held = [], set()
    for target in ("cpp", "rust"):
        tree = read_tree(str(out / target))
        if not tree:
            problems.append(f"{target} missing")
            continue
        manifest = json.loads(tree[MANIFEST])
        listed = {e["path"]: e["sha256"] for e in manifest["files"]}
        import hashlib

        actual = {p: hashlib.sha256(d).hexdigest() for p, d in tree.items() if p != MANIFEST}
        if listed != actual:
            problems.append(f"{target} does not match its manifest")
        held.add(manifest["schema_version"])
    return problems, held


def tape_state(out: Path, versions: list[tuple]) -> list[str]:
    from hftc.data import open_tape

    if not out.exists():
        return []
    try:
        tape = open_tape(out)
    except Exception as exc:  # noqa: BLE001 - any failure to read is a finding
        return [f"tape unreadable: {exc}"]
    if tape.meta.get("version") not in (1, 2):
        return ["tape of unknown version"]
    return []


def leftovers(folder: Path, expected: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in expected)


def campaign(kind: str, tries: int, folder: Path, seed: int = 7,
             recover: Callable[[Path], None] | None = None) -> dict:
    """Kill the writer `tries` times; count tries whose immediate or after-next-run state is wrong."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    versions = build_versions() if kind == "build" else tape_versions()
    spec = folder / "versions.pickle"
    spec.write_bytes(pickle.dumps(versions))
    out = folder / ("out" if kind == "build" else "t.hftt")
    staging_of = (lambda: out.is_dir() and any(p.name.startswith(".") for p in out.iterdir())) \
        if kind == "build" else None
    if kind == "build":
        _next_build(spec, out)  # the complete old output every kill must leave (or the new one)
    else:
        from hftc.data.tape import write_tape

        write_tape(out, *versions[0])
    figures = {"tries": tries, "incomplete": 0, "mixed": 0, "leftovers_after_next_run": 0,
               "leftovers_after_kill": 0, "examples": []}
    for _ in range(tries):
        child = subprocess.Popen([sys.executable, "-c", CHILD, kind, str(spec), str(out)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 5
        if staging_of is not None:
            while not staging_of() and time.monotonic() < deadline:
                time.sleep(0.0002)
        else:
            while not any(folder.glob(".t.hftt.*.tmp")) and time.monotonic() < deadline:
                time.sleep(0.0002)
        time.sleep(rng.uniform(0, 0.030))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        if leftovers(out if kind == "build" else folder, {"cpp", "rust", "t.hftt", "versions.pickle"}):
            figures["leftovers_after_kill"] += 1
        if kind == "build":
            problems, held = build_state(out)
            if problems:
                figures["incomplete"] += 1
                figures["examples"].append(problems)
            (recover or _recover_build)(out)
            problems, held = build_state(out)
            if problems or len(held) > 1:
                figures["mixed"] += 1
                figures["examples"].append(problems or [f"mixed versions {sorted(held)}"])
            # the next run: one more complete build, after which only the targets remain
            _next_build(spec, out)
            extra = leftovers(out, {"cpp", "rust"})
        else:
            problems = tape_state(out, versions)
            if problems:
                figures["incomplete"] += 1
                figures["examples"].append(problems)
            from hftc.data.tape import write_tape

            write_tape(out, *versions[0])
            extra = leftovers(folder, {"t.hftt", "versions.pickle"})
        if extra:
            figures["leftovers_after_next_run"] += 1
            figures["examples"].append(extra[:3])
    figures["examples"] = figures["examples"][:5]
    return figures


def _recover_build(out: Path) -> None:
    from hftc.transaction import recover

    recover(out)


def _next_build(spec: Path, out: Path) -> None:
    from hftc.driver.write import write_trees

    write_trees(str(out), pickle.loads(spec.read_bytes())[0])


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(campaign(sys.argv[1], int(sys.argv[2]), Path(tmp)), indent=1))
