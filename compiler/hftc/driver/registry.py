"""Backends by name: built-ins plus the `hftc.backends` entry-point group."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from hftc.ir.backend import Backend

# name -> "module:attribute"; imported only when used, so the CLI starts fast.
BUILTIN: dict[str, str] = {
    "cpp": "hftc.backends.cpp:BACKEND",
    "docs": "hftc.backends.docs:BACKEND",
    "k8s": "hftc.backends.k8s:BACKEND",
    "terraform": "hftc.backends.terraform:BACKEND",
    "prometheus": "hftc.backends.prometheus:BACKEND",
    "grafana": "hftc.backends.grafana:BACKEND",
    "python": "hftc.backends.python:BACKEND",
    "python-ext": "hftc.backends.python_ext:BACKEND",
    "rust": "hftc.backends.rust:BACKEND",
}

# Built-in targets whose checks only look at one part of the IR: with that part empty they report
# nothing, so `hftc lint` does not even import them (tests/test_lint_checks.py holds them to it).
CHECKS_ONLY: dict[str, str] = {"k8s": "deployments", "terraform": "deployments"}

# Built-in targets whose check reports nothing for any IR (their output is built from names the passes
# checked): `hftc lint` does not import them at all (tests/test_lint_checks.py holds them to it).
NO_CHECKS: frozenset[str] = frozenset({"docs", "grafana"})


_remembered: dict[str, object] | None = None


def _external() -> dict[str, object]:
    if _remembered is not None:
        return _remembered
    try:
        return {ep.name: ep for ep in entry_points(group="hftc.backends")}
    except Exception:  # a broken third-party distribution must not break the CLI
        return {}


def remember_plugins() -> None:
    """Scan the installed distributions for backend plug-ins once and keep the answer (scanning
    is a fifth of a warm lint). For a process that serves one set of installed distributions
    only: the lint server, which a changed set replaces (its key covers them)."""
    global _remembered
    _remembered = None
    _remembered = _external()


def known_targets() -> list[str]:
    return sorted(set(BUILTIN) | set(_external()))


def load_backend(name: str) -> Backend | None:
    if name in BUILTIN:
        module, _, attr = BUILTIN[name].partition(":")
        return getattr(importlib.import_module(module), attr)
    ep = _external().get(name)
    if ep is None:
        return None
    obj = ep.load()
    return obj() if isinstance(obj, type) else obj
