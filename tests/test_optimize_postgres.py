"""Two `hftc optimize` workers share one study in a real PostgreSQL server started by the test.

The server runs from the Debian `postgresql` package's binaries (scripts/system-deps.sh), as an
unprivileged user because PostgreSQL refuses to run as root, on a free 127.0.0.1 port, with its
data in a temporary folder; it is stopped in teardown whatever happens.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import build_cache
from test_optimize import SCHEMA, write_synthetic_tape


def postgres_bin() -> Path | None:
    """The folder with initdb and pg_ctl: Debian keeps them in /usr/lib/postgresql/<major>/bin."""
    found = shutil.which("initdb") and shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(shutil.which("pg_ctl"))).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


BIN = postgres_bin()
pytestmark = pytest.mark.skipif(BIN is None, reason="PostgreSQL binaries (initdb, pg_ctl) not found; install the "
                                                    "Debian `postgresql` package (scripts/system-deps.sh)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as(user: str | None, args: list[str], **kwargs) -> subprocess.CompletedProcess:
    prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"] if user else []
    return subprocess.run(prefix + args, check=False, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def postgres_url():
    user = None
    if os.geteuid() == 0:  # postgres will not run as root: use its own account, else nobody
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
                user = name
                break
            except KeyError:
                continue
        if user is None or shutil.which("setpriv") is None:
            pytest.skip("running as root without a `postgres`/`nobody` account or setpriv to drop privileges")
    root = Path(tempfile.mkdtemp(prefix="hftc-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if user:
        entry = pwd.getpwnam(user)
        os.chmod(root, 0o755)
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    started = False
    try:
        done = _run_as(user, [str(BIN / "initdb"), "-D", str(data), "-U", "hftc", "--auth=trust", "-E", "UTF8",
                              "--no-sync"])
        assert done.returncode == 0, done.stderr
        done = _run_as(user, [str(BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60",
                              "-o", f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off", "start"])
        started = done.returncode == 0
        log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
        assert started, done.stderr + log
        yield f"postgresql://hftc@127.0.0.1:{port}/postgres"
    finally:
        if started or (data / "postmaster.pid").exists():
            stop = _run_as(user, [str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
            pid_file = data / "postmaster.pid"
            if stop.returncode != 0 and pid_file.exists():  # last resort: the server's own pid, nothing broader
                try:
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        shutil.rmtree(root, ignore_errors=True)


def test_two_workers_share_one_postgres_study(postgres_url, tmp_path, monkeypatch):
    import optuna

    monkeypatch.setenv("HFTC_CACHE_DIR", str(build_cache() / "backtest"))
    tape = write_synthetic_tape(tmp_path / "tape.hftt", steps=3000)
    # Compile once up front, so the workers load the cached library instead of racing to build it.
    from hftc.backtest import compile_strategy
    from hftc.frontend import compile_file

    compile_strategy(compile_file(str(SCHEMA)).ir, "mm")
    url_file = tmp_path / "storage-url"
    url_file.write_text(postgres_url + "\n")
    storage_args = (["--storage", postgres_url], ["--storage-file", str(url_file)])  # both ways of naming it
    workers = [subprocess.Popen([sys.executable, "-m", "hftc", "optimize", str(SCHEMA), "--strategy", "mm",
                                 "--data", str(tape), "--trials", "5", *storage_args[i],
                                 "--study", "shared", "--out", str(tmp_path / f"w{i}"), "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(2)]
    outputs = []
    try:
        for w in workers:
            out, err = w.communicate(timeout=240)
            outputs.append((w.returncode, out, err))
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    for rc, out, err in outputs:
        assert rc == 0, err
    from hftc.optimize.study import storage_url

    study = optuna.load_study(study_name="shared", storage=storage_url(postgres_url))
    trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(trials) == 10
    pids = {int(t.user_attrs["worker"].rsplit(":", 1)[1]) for t in trials}
    assert pids == {w.pid for w in workers}
    # Each worker's summary sees the whole shared study, whichever finished last.
    import json

    assert max(json.loads(out)["trials"] for _, out, _ in outputs) == 10
