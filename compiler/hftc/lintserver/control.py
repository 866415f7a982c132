"""`hftc lint-server status|stop`: what runs in the background for this hftc, and stopping it."""

from __future__ import annotations

import os
import time

from hftc.driver.lint_cache import environment_key
from hftc.lintserver import client, enabled, socket_path


def _why_off() -> str:
    if os.environ.get("HFTC_LINT_SERVER", "").strip():
        return f"switched off (HFTC_LINT_SERVER={os.environ['HFTC_LINT_SERVER']})"
    return "not used under CI (CI is set; HFTC_LINT_SERVER=on uses it anyway)"


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    return f"{seconds // 60} min" if seconds < 7200 else f"{seconds // 3600} h"


def _requests(count: int) -> str:
    return "1 request" if count == 1 else f"{count} requests"


def status_text() -> tuple[str, int]:
    """A line on the server of this environment, and 0 when one runs, 1 when none does."""
    path = socket_path(environment_key())
    setting = "" if enabled() else f"; lints here do not use it: {_why_off()}"
    if path is None:
        return ("no lint server: no private folder for its socket, or its path would be too long for one "
                "($XDG_RUNTIME_DIR/hftc, else ~/.cache/hftc/server; owned by you, closed to others)" + setting), 1
    found = client.status(path)
    if found is None:
        hint = "" if setting else "; the next `hftc lint` that compiles a schema starts one"
        return f"no lint server runs for this hftc{hint}{setting}\nsocket: {path}", 1
    up = _age(time.time() - float(found.get("started", time.time())))
    idle = float(found.get("idle_seconds", 0))
    return (f"lint server running: pid {found['pid']}, up {up}, {_requests(found.get('served', 0))} answered, "
            f"exits after {idle:g} s idle{setting}\nsocket: {path}"), 0


def stop_text() -> tuple[str, int]:
    """Stop the server of this environment; 0 whether one was running or not."""
    path = socket_path(environment_key())
    pid = client.stop(path) if path is not None else None
    if pid is None:
        return "no lint server was running for this hftc", 0
    return f"lint server stopped (pid {pid})", 0
