"""A warm `hftc lint`: a background process that keeps the compiler imported and lints each request
in a fork of itself, so a lint after an edit skips Python's start-up and the compiler's imports.

The first `hftc lint` that has a schema to compile (not answered by the lint cache) does it in its
own process, as always, and then starts the server for the next one. The server serves one
environment: its socket is named after the lint cache's environment key (this hftc's files, the
Python, the installed distributions), so an upgraded or edited hftc is served by a new server and
never by an old one. It exits after `HFTC_LINT_SERVER_IDLE` seconds without a request (600 by
default). `HFTC_LINT_SERVER=off` (or `0`, `no`, `false`) keeps every lint in its own process; so
does a set `CI` variable, where nothing should outlive the job.

The server is only ever a way to save time: a client that cannot reach it, or gets no answer it can
use, lints in its own process, and the output is the same either way. This module and the client are
on the start-up path of `hftc lint`, so they import only the standard library.
"""

from __future__ import annotations

import os

IDLE_SECONDS = 600.0
_OFF = ("0", "off", "no", "false")
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, fewer elsewhere


def enabled() -> bool:
    """Whether lints may use (and start) a server: not when switched off, not under CI, and only on
    POSIX systems (Unix sockets, fork)."""
    if os.name != "posix":
        return False
    setting = os.environ.get("HFTC_LINT_SERVER", "").strip().lower()
    if setting in _OFF:
        return False
    return bool(setting) or not os.environ.get("CI")


def idle_seconds() -> float:
    try:
        value = float(os.environ.get("HFTC_LINT_SERVER_IDLE", IDLE_SECONDS))
    except ValueError:
        return IDLE_SECONDS
    return value if value > 0 else IDLE_SECONDS


def _private_folder() -> str | None:
    """A folder only this user can enter: `$XDG_RUNTIME_DIR/hftc` when the session has one, else the
    lint cache's parent folder. None when it cannot be made private (then no server is used)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR") or ""
    if os.path.isabs(runtime) and os.path.isdir(runtime):
        folder = os.path.join(runtime, "hftc")
    else:
        from hftc.driver.lint_cache import cache_dir

        folder = os.path.join(os.path.dirname(cache_dir()), "server")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None  # somebody else's folder, or one others can enter: do not trust a socket in it
    return folder


def socket_path(environment_key: bytes) -> str | None:
    """Where the server for this environment listens (or would); None when no safe place exists."""
    folder = _private_folder()
    if folder is None:
        return None
    path = os.path.join(folder, f"lint-{environment_key.hex()[:24]}.sock")
    return path if len(path.encode("utf-8", "surrogateescape")) <= _MAX_SOCKET_PATH else None
