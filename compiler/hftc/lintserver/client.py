"""The `hftc lint` side: ask the server for one schema's result, or start the server."""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hftc.entry import LintRequest

ACK = b"+"  # the server's first byte: a fork of it took the request
LIMITS = ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_CPU")
_CONNECT_SECONDS = 1.0
_ACK_SECONDS = 5.0  # a warm server forks at once; a machine this loaded lints faster on its own
_MAX_REPLY = 256 * 1024 * 1024  # diagnostics of a pathological schema, and then some


def ask(path: str, environment_key: bytes, schema: str, request: LintRequest, stdin: bytes | None) -> dict | None:
    """The server's result for `schema` (`output`, `failed`, `warned`), exactly what linting it here
    would give; `stdin` is what was read for `-`. None when there is no server or no usable answer
    (then the caller lints it here)."""
    found = _call(path, {
        "op": "lint", "cwd": os.getcwd(), "env": dict(os.environ), "key": environment_key.hex(), "schema": schema,
        "import_paths": request.import_paths, "error_format": request.error_format, "color": request.color,
        "no_cache": request.no_cache, "stdin_filename": request.stdin_filename,
        "stdin": stdin.decode("latin-1") if stdin is not None else None,  # bytes as they came, one char each
        "limits": _limits()})
    if not (isinstance(found, dict) and isinstance(found.get("output"), str)
            and isinstance(found.get("failed"), bool) and isinstance(found.get("warned"), bool)):
        return None  # an error report, or something this client does not know: lint here
    return found


def _limits() -> dict[str, int]:
    """This process's soft limits on memory and CPU time, which the server's fork takes on: a lint
    bounded with `ulimit` stays bounded when the server runs it."""
    import resource

    found = {}
    for name in LIMITS:
        soft, _ = resource.getrlimit(getattr(resource, name))
        if soft != resource.RLIM_INFINITY:
            found[name] = soft
    return found


def status(path: str) -> dict | None:
    """The running server's `pid`, `started` (Unix time), `served` (requests so far, this one
    included) and `idle_seconds`; None when none answers."""
    found = _call(path, {"op": "status"})
    return found if isinstance(found, dict) and isinstance(found.get("pid"), int) else None


def stop(path: str) -> int | None:
    """Ask the server to exit; the pid it had, or None when none answered."""
    found = _call(path, {"op": "stop"})
    return found.get("stopping") if isinstance(found, dict) and isinstance(found.get("stopping"), int) else None


def _call(path: str, request: dict):
    """One request, one JSON answer; None for no server, a stale socket or a server gone mid-answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(_CONNECT_SECONDS)
            conn.connect(path)
            conn.sendall(json.dumps(request, ensure_ascii=False).encode("utf-8", "surrogateescape"))
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(_ACK_SECONDS)
            if conn.recv(1) != ACK:
                return None
            conn.settimeout(None)  # linting a large schema takes what it takes, here or there
            reply = read_until_eof(conn, _MAX_REPLY)
        return None if reply is None else json.loads(reply.decode("utf-8", "surrogateescape"))
    except (OSError, ValueError):
        return None


def read_until_eof(conn: socket.socket, limit: int) -> bytes | None:
    """Everything the peer sends until it shuts its side; None past `limit` bytes."""
    chunks, size = [], 0
    while True:
        chunk = conn.recv(1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def start(path: str) -> None:
    """Start the server for `path` in the background, detached from this process and its terminal;
    a server already starting or running for it makes the new one exit at once. Failing to start
    one costs nothing but the time it would have saved."""
    devnull = os.devnull
    actions = [(os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, devnull, os.O_WRONLY, 0)]
    try:
        # -P: the working folder is not put on the module path, so hftc is the one this lint ran
        os.posix_spawn(sys.executable, [sys.executable, "-P", "-m", "hftc.lintserver", path], os.environ,
                       file_actions=actions, setsid=True)
    except (OSError, AttributeError, NotImplementedError):
        pass
