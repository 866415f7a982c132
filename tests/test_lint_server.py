"""The lint server (hftc.lintserver): the first `hftc lint` that compiles a schema starts it, later
lints are answered by it with exactly the output, exit code and cache behaviour of a lint in its own
process; `hftc lint-server status|stop` see and stop it; it exits when idle, a second one for the same
socket steps aside, a dead one's socket is linted past and replaced, and it is not used when switched
off, under CI, or without a private folder for its socket. Every server a test starts is stopped."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import REPO

_SCRIPT = Path(sys.executable).parent / "hftc"
HFTC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hftc"]

EXAMPLE = "examples/fx_market_maker.hftc.yaml"
ERRORS = "tests/diagnostics/unknown_type.yaml"
WARNINGS = "tests/diagnostics/lints.yaml"

COMMON = "hftc: 1\npackage: common\ntypes:\n  Px: {decimal: int64, exponent: -9}\n"
MAIN = ("hftc: 1\npackage: served\nimports: [common.hftc.yaml]\n"
        "messages:\n  Quote: {id: 1, fields: {px: Px, qty: Qty}}\n")


class Env:
    """A private socket folder and lint cache, the server switched on, and a way to run hftc."""

    def __init__(self, runtime: Path, cache: Path):
        self.runtime = runtime
        self.vars = {k: v for k, v in os.environ.items() if k not in ("CI", "FORCE_COLOR", "CLICOLOR_FORCE")}
        self.vars.update({"HFTC_LINT_SERVER": "on", "XDG_RUNTIME_DIR": str(runtime),
                          "XDG_CACHE_HOME": str(cache), "HFTC_LINT_SERVER_IDLE": "60"})

    def run(self, *args: str, cwd: Path = REPO, stdin: bytes = b"", **env: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([*HFTC, *args], cwd=cwd, capture_output=True, timeout=180, env={**self.vars, **env},
                              input=stdin, check=False)
        return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())

    def status(self, cwd: Path = REPO) -> tuple[int, str]:
        proc = self.run("lint-server", "status", cwd=cwd)
        return proc.returncode, proc.stdout

    def socket_path(self) -> Path:
        _, text = self.status()
        return Path(text.rsplit("socket: ", 1)[1].strip())

    def served(self) -> int:
        """Requests the running server has answered, not counting the status request itself."""
        code, text = self.status()
        assert code == 0, text
        return int(text.split(" answered")[0].rsplit(", ", 1)[1].split()[0]) - 1

    def wait_running(self) -> None:
        """The server the last lint started is up (it warms up before it binds its socket)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.status()[0] == 0:
                return
            time.sleep(0.2)
        pytest.fail(f"no lint server came up: {self.status()[1]}")

    def pids(self) -> list[int]:
        found = []
        for lock in self.runtime.glob("hftc/*.lock"):
            text = lock.read_text().strip()
            if text.isdigit():
                found.append(int(text))
        return found


@pytest.fixture
def env(tmp_path):
    # A short folder of its own: a socket path must fit in 108 bytes; a test's tmp_path may not.
    runtime = Path(tempfile.mkdtemp(prefix="hl", dir="/tmp"))
    runtime.chmod(0o700)
    environment = Env(runtime, tmp_path / "cache")
    yield environment
    environment.run("lint-server", "stop")
    for pid in environment.pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    shutil.rmtree(runtime, ignore_errors=True)


def _same(a: subprocess.CompletedProcess, b: subprocess.CompletedProcess) -> None:
    assert (b.returncode, b.stdout, b.stderr) == (a.returncode, a.stdout, a.stderr)


CASES = {
    "clean": [EXAMPLE],
    "errors_text": [ERRORS],
    "errors_json": [ERRORS, "--error-format", "json"],
    "errors_github": ["--error-format=github", ERRORS],
    "warnings_denied": [WARNINGS, "--deny-warnings"],
    "several": [EXAMPLE, ERRORS, WARNINGS, "--error-format=json"],
}


def test_lints_after_the_first_are_answered_by_the_server_with_the_same_output(env):
    first = env.run("lint", "--no-cache", EXAMPLE)
    assert first.returncode == 0 and first.stderr == ""
    env.wait_running()
    for name, args in CASES.items():
        before = env.served()
        here = env.run("lint", "--no-cache", *args, HFTC_LINT_SERVER="off")
        served = env.run("lint", "--no-cache", *args)
        _same(here, served)
        schemas = [a for a in args if a.endswith(".yaml")]
        assert env.served() == before + 1 + len(schemas), name  # the status request and one per schema
    assert env.run("lint", "--no-cache", ERRORS).returncode == 1


def test_coloured_output_is_served_too(env):
    env.run("lint", "--no-cache", EXAMPLE)
    env.wait_running()
    here = env.run("lint", "--no-cache", ERRORS, WARNINGS, HFTC_LINT_SERVER="off", FORCE_COLOR="1")
    before = env.served()
    served = env.run("lint", "--no-cache", ERRORS, WARNINGS, FORCE_COLOR="1")
    _same(here, served)
    assert "\x1b[" in served.stderr and env.served() == before + 3


STDIN = {
    "named_with_imports": (["-", "--stdin-filename", EXAMPLE], (REPO / EXAMPLE).read_bytes()),
    "errors_json": (["-", "--stdin-filename", ERRORS, "--error-format=json"], (REPO / ERRORS).read_bytes()),
    "not_utf8": (["-"], b"hftc: 1\npackage: caf\xe9\n"),
    "read_twice": (["-", "-"], (REPO / WARNINGS).read_bytes()),
}


def test_standard_input_is_served_byte_for_byte(env):
    env.run("lint", "--no-cache", EXAMPLE)
    env.wait_running()
    for name, (args, data) in STDIN.items():
        here = env.run("lint", *args, stdin=data, HFTC_LINT_SERVER="off")
        before = env.served()
        served = env.run("lint", *args, stdin=data)
        _same(here, served)
        assert env.served() == before + 1 + args.count("-"), name
    not_utf8 = env.run("lint", "-", stdin=STDIN["not_utf8"][1])
    assert "error[HFT0002]: file is not UTF-8 text (byte 0xe9 at offset 20)" in not_utf8.stderr


def test_the_server_lints_in_the_clients_folder_with_its_cache(env, tmp_path):
    """Relative paths and imports resolve from the client's folder; the server reads and stores the
    client's lint cache, so an unchanged schema is then answered without it."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "common.hftc.yaml").write_text(COMMON)
    (project / "main.hftc.yaml").write_text(MAIN)
    env.run("lint", "--no-cache", str(REPO / EXAMPLE))
    env.wait_running()
    here = env.run("lint", "main.hftc.yaml", cwd=project, HFTC_LINT_SERVER="off", XDG_CACHE_HOME=str(tmp_path / "c2"))
    assert here.returncode == 1 and "main.hftc.yaml:5:" in here.stderr and "Qty" in here.stderr
    before = env.served()
    served = env.run("lint", "main.hftc.yaml", cwd=project)
    _same(here, served)
    assert env.served() == before + 2
    again = env.run("lint", "main.hftc.yaml", cwd=project)  # unchanged: from the cache the server stored
    _same(here, again)
    assert env.served() == before + 3  # only the status request
    (project / "common.hftc.yaml").write_text(COMMON + "  Qty: {decimal: int64, exponent: -4}\n")
    fixed = env.run("lint", "main.hftc.yaml", cwd=project)
    assert (fixed.returncode, fixed.stderr) == (0, "")
    assert env.served() == before + 5


def test_parallel_lints_are_all_served(env):
    """pre-commit runs a hook's batches side by side: each lint gets its own fork, none falls back."""
    schemas = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests" / "diagnostics").glob("*.yaml"))[:12]
    env.run("lint", "--no-cache", EXAMPLE)
    env.wait_running()
    here = env.run("lint", "--no-cache", "--error-format=json", *schemas, HFTC_LINT_SERVER="off")
    before = env.served()
    command = [*HFTC, "lint", "--no-cache", "--error-format=json", *schemas]
    procs = [subprocess.Popen(command, cwd=REPO, env=env.vars, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(6)]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert (proc.returncode, out.decode(), err.decode()) == (here.returncode, here.stdout, here.stderr)
    assert env.served() == before + 1 + 6 * len(schemas)


def test_status_and_stop(env):
    code, text = env.status()
    assert code == 1 and "no lint server runs" in text
    env.run("lint", "--no-cache", EXAMPLE)
    env.wait_running()
    code, text = env.status()
    assert code == 0 and "lint server running: pid" in text and "exits after 60 s idle" in text
    [pid] = env.pids()
    path = env.socket_path()
    assert path.is_socket() and path.parent.stat().st_mode & 0o777 == 0o700
    stopped = env.run("lint-server", "stop")
    assert stopped.returncode == 0 and f"lint server stopped (pid {pid})" in stopped.stdout
    _wait_gone(pid)
    assert not path.exists() and not Path(f"{path}.lock").exists()
    assert "no lint server was running" in env.run("lint-server", "stop").stdout


def _wait_gone(pid: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"lint server {pid} still runs after {seconds} s")


def test_an_idle_server_exits(env):
    env.run("lint", "--no-cache", EXAMPLE, HFTC_LINT_SERVER_IDLE="2")
    env.vars["HFTC_LINT_SERVER_IDLE"] = "2"
    env.wait_running()
    [pid] = env.pids()
    path = env.socket_path()
    _wait_gone(pid)
    assert not path.exists()
    assert env.status()[0] == 1


@pytest.mark.parametrize("setting", [{"HFTC_LINT_SERVER": "off"}, {"HFTC_LINT_SERVER": "0"},
                                     {"HFTC_LINT_SERVER": "", "CI": "true"}])
def test_switched_off_or_under_ci_no_server_is_started(env, setting):
    proc = env.run("lint", "--no-cache", EXAMPLE, **setting)
    assert proc.returncode == 0
    time.sleep(1.0)  # a server would have been started by now (and would hold its lock)
    assert env.pids() == [] and not list(env.runtime.glob("hftc/*.sock"))
    assert env.status()[0] == 1


def test_status_says_why_lints_do_not_use_it(env):
    off = env.run("lint-server", "status", HFTC_LINT_SERVER="off")
    assert "switched off (HFTC_LINT_SERVER=off)" in off.stdout
    ci = env.run("lint-server", "status", HFTC_LINT_SERVER="", CI="1")
    assert "not used under CI" in ci.stdout


def test_a_folder_others_can_enter_is_not_used(env):
    folder = env.runtime / "hftc"
    folder.mkdir()
    folder.chmod(0o777)
    here = env.run("lint", "--no-cache", ERRORS, HFTC_LINT_SERVER="off")
    proc = env.run("lint", "--no-cache", ERRORS)
    _same(here, proc)
    time.sleep(1.0)
    assert list(folder.iterdir()) == []
    assert "no private folder" in env.status()[1]


def test_a_dead_servers_socket_is_linted_past_and_replaced(env):
    path = env.socket_path()
    path.parent.mkdir(mode=0o700, exist_ok=True)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens: as a killed server leaves it
    here = env.run("lint", "--no-cache", ERRORS, HFTC_LINT_SERVER="off")
    proc = env.run("lint", "--no-cache", ERRORS)
    _same(here, proc)
    env.wait_running()
    before = env.served()
    _same(here, env.run("lint", "--no-cache", ERRORS))
    assert env.served() == before + 2


def test_a_second_server_for_the_same_socket_steps_aside(env):
    env.run("lint", "--no-cache", EXAMPLE)
    env.wait_running()
    [pid] = env.pids()
    second = subprocess.run([sys.executable, "-m", "hftc.lintserver", str(env.socket_path())], capture_output=True,
                            text=True, timeout=60, env=env.vars, check=False)
    assert second.returncode == 0
    assert env.pids() == [pid] and env.status()[0] == 0


def test_the_clients_limits_on_memory_and_cpu_time_bound_the_fork():
    """A lint bounded with `ulimit` stays bounded when the server runs it: the client sends its soft
    limits on memory and CPU time, and the fork lowers its own to them (never raises them)."""
    code = ("import json, resource\n"
            "from hftc.lintserver.client import _limits\n"
            "from hftc.lintserver.server import _take_limits\n"
            "sent = _limits()\n"
            "_take_limits({'RLIMIT_CPU': 55, 'RLIMIT_DATA': 1 << 40, 'RLIMIT_AS': -1})\n"
            "print(json.dumps([sent, resource.getrlimit(resource.RLIMIT_CPU)[0],"
            " resource.getrlimit(resource.RLIMIT_DATA)[0]]))\n")
    proc = subprocess.run(["bash", "-c", 'ulimit -S -t 77 && ulimit -S -d 4000000 && exec "$0" -c "$1"',
                           sys.executable, code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    sent, cpu, data = json.loads(proc.stdout)
    assert sent == {"RLIMIT_CPU": 77, "RLIMIT_DATA": 4_096_000_000}  # RLIMIT_AS unlimited: not sent
    assert (cpu, data) == (55, 4_096_000_000)  # lowered to what was sent; a larger limit raises nothing
