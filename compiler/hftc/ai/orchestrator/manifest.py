"""The run folder: one sub-folder per phase, each with a manifest (inputs hash, outputs, status, timings).

A phase is done when its manifest says `complete` and its inputs hash is the one
the phase would have now; `--resume` skips exactly those.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftc.fileio import write_atomically

PHASES = ("learn", "generate", "build", "optimize", "deploy", "monitor", "report")


def digest(value: Any) -> str:
    """Hash of plain data (files are hashed by content where a phase lists them)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(str(path), (json.dumps(data, indent=2, default=str) + "\n").encode("utf-8"))


@dataclass
class RunFolder:
    root: Path

    def phase_dir(self, phase: str) -> Path:
        return self.root / f"{PHASES.index(phase) + 1}-{phase}"

    def manifest_path(self, phase: str) -> Path:
        return self.phase_dir(phase) / "manifest.json"

    def manifest(self, phase: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.manifest_path(phase).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def done(self, phase: str, inputs_hash: str) -> bool:
        m = self.manifest(phase)
        return bool(m and m.get("status") == "complete" and m.get("inputs_hash") == inputs_hash and all(
            (self.root / o).exists() for o in m.get("outputs", [])))

    def record(self, phase: str, status: str, inputs_hash: str, inputs: Any, outputs: list[Path],
               started: float, result: Any = None, error: str | None = None) -> dict[str, Any]:
        finished = time.time()
        data = {"phase": phase, "status": status, "inputs_hash": inputs_hash, "inputs": inputs,
                "outputs": sorted(str(p.relative_to(self.root)) for p in outputs),
                "started": started, "finished": finished, "seconds": round(finished - started, 3),
                "result": result, "error": error}
        write_json(self.manifest_path(phase), data)
        return data

    def run_info(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.root / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
