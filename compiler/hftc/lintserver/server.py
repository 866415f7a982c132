"""The server: import the compiler, lint a starter schema to warm it (validators built, the expression
parser made, every target's checks loaded), then answer each request in a fork of that warm process.

A fork per request keeps every lint as isolated as one in its own process (working folder,
environment, memory freed at exit) and lets concurrent lints (pre-commit's parallel batches) run
side by side, for the price of a fork."""

from __future__ import annotations

import fcntl
import gc
import json
import os
import resource
import signal
import socket
import socketserver
import struct
import sys
import time

from hftc.lintserver import idle_seconds
from hftc.lintserver.client import ACK, LIMITS, read_until_eof

_MAX_REQUEST = 64 * 1024 * 1024  # a command line, an environment and up to 16 MiB of standard input


def warm_up() -> None:
    """Do once what every lint would otherwise do first: import, build, load."""
    from hftc.driver.lint import add_target_checks
    from hftc.driver.registry import NO_CHECKS, known_targets, load_backend, remember_plugins
    from hftc.frontend.compile import compile_text
    from hftc.ir.serialize import ir_to_dict
    from hftc.starter import starter_schema

    remember_plugins()
    result = add_target_checks(compile_text("warm_up.hftc.yaml", starter_schema("warm_up")))
    for target in known_targets():  # also those the starter gives nothing to check (deployments)
        if target not in NO_CHECKS:
            load_backend(target)
    if result.ir is not None:
        ir_to_dict(result.ir)  # the IR's serialiser, which the deployment checks size the IR with


class _Handler(socketserver.BaseRequestHandler):
    """Runs in the fork that took the connection."""

    server: _Server

    def handle(self) -> None:
        conn: socket.socket = self.request
        if not _same_user(conn):
            return
        conn.sendall(ACK)
        try:
            request = json.loads(_read_request(conn).decode("utf-8", "surrogateescape"))
            op = request.get("op")
            if op == "lint":
                reply = _lint(request)
            elif op == "status":
                reply = {"pid": os.getppid(), "started": self.server.started, "served": self.server.served,
                         "idle_seconds": self.server.timeout}
            elif op == "stop":
                reply = {"stopping": os.getppid()}
                os.kill(os.getppid(), signal.SIGTERM)
            else:
                reply = {"error": f"unknown request {op!r}"}
        except Exception as exc:  # noqa: BLE001 - the client then lints in its own process and reports any bug there
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        conn.sendall(json.dumps(reply).encode("utf-8", "surrogateescape"))


def _same_user(conn: socket.socket) -> bool:
    """Only this user's processes are answered (the socket's folder is private too)."""
    try:
        credentials = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (AttributeError, OSError):
        return True  # no peer credentials here: the private folder is the guard
    _, uid, _ = struct.unpack("3i", credentials)
    return uid == os.getuid()


def _read_request(conn: socket.socket) -> bytes:
    data = read_until_eof(conn, _MAX_REQUEST)
    if data is None:
        raise ValueError("request too large")
    return data


def _lint(request: dict) -> dict:
    """One schema linted as the client would have: its folder, its environment, its lint cache."""
    from hftc.driver.lint_cache import LintCache
    from hftc.entry import LintRequest, lint_one

    gc.disable()  # a process that ends after this lint, as the client's would
    _take_limits(request.get("limits") or {})
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    lint = LintRequest()
    lint.schemas = [request["schema"]]
    lint.import_paths = list(request["import_paths"])
    lint.error_format = request["error_format"]
    lint.color = bool(request["color"])
    lint.no_cache = bool(request["no_cache"])
    lint.stdin_filename = request["stdin_filename"]
    stdin = request["stdin"].encode("latin-1") if request["stdin"] is not None else None
    cache = None if lint.no_cache else LintCache(environment=bytes.fromhex(request["key"]))
    return lint_one(request["schema"], lint, cache, stdin)


def _take_limits(limits: dict) -> None:
    """The client's soft limits on memory and CPU time (a fork's CPU time starts at zero)."""
    for name in LIMITS:
        value = limits.get(name)
        if isinstance(value, int) and value >= 0:
            kind = getattr(resource, name)
            soft, hard = resource.getrlimit(kind)
            if soft == resource.RLIM_INFINITY or value < soft:
                resource.setrlimit(kind, (value, hard))


class _Server(socketserver.ForkingMixIn, socketserver.UnixStreamServer):
    request_queue_size = 128  # pre-commit's parallel batches connect at once; past the backlog a lint runs alone
    idle = False
    served = 0
    started = 0.0

    def process_request(self, request, client_address) -> None:
        self.served += 1  # before the fork, so the fork's status counts itself
        super().process_request(request, client_address)

    def handle_timeout(self) -> None:
        self.idle = True


def _stop(signum, frame) -> None:
    raise SystemExit(0)


def serve(path: str) -> int:
    """Serve at `path` until idle or stopped; 0 at once when another server holds it."""
    path = os.path.abspath(path)
    lock = open(f"{path}.lock", "a+", encoding="utf-8")  # noqa: SIM115 - held (locked) for the server's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return 0  # another lint started one first
    try:
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        os.chdir("/")  # hold no client's folder
        signal.signal(signal.SIGTERM, _stop)
        warm_up()
        gc.collect()
        gc.freeze()  # the warm objects stay shared with every fork, never touched by a collection
        _serve_until_idle(path)
    finally:
        os.unlink(lock.name)  # still held: a server starting now fails to lock it and leaves it be
        lock.close()
    return 0


def _serve_until_idle(path: str) -> None:
    try:
        os.unlink(path)  # a server that died without cleaning up
    except FileNotFoundError:
        pass
    server = _Server(path, _Handler)
    server.timeout = idle_seconds()
    server.started = time.time()
    bound = os.stat(path).st_ino
    try:
        while not server.idle:
            server.handle_request()
            server.collect_children()
    finally:
        try:
            if os.stat(path).st_ino == bound:  # not a newer server's
                os.unlink(path)
        except OSError:
            pass
        server.server_close()


def main() -> None:
    if len(sys.argv) != 2:
        print("usage: python -m hftc.lintserver SOCKET_PATH", file=sys.stderr)
        sys.exit(2)
    sys.exit(serve(sys.argv[1]))
