"""The one Jinja environment setup every backend uses."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


def environment(package_file: str) -> jinja2.Environment:
    """An environment over the `templates/` folder beside a backend's `__init__.py`, one per folder
    and process: it keeps its compiled templates, so a long-lived process (the language server, which
    lints on every edit) compiles each template once instead of on every check.

    StrictUndefined turns a typo in a template into an error instead of empty
    output; the whitespace options keep templates readable without stray blank lines.
    """
    return _environment(os.path.join(os.path.dirname(os.path.abspath(package_file)), "templates"))


@functools.lru_cache(maxsize=None)
def _environment(folder: str) -> jinja2.Environment:
    import jinja2  # here, not at the top: `hftc lint` imports every backend and renders few templates

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


_CACHE: list = []


def _bytecode_cache():
    """Compiled templates kept in jinja2's per-user temporary folder (keyed by each template's
    checksum, so an edited template is compiled again): compiling them took longer than rendering
    them in `hftc lint`. None, and templates compiled in memory, where that folder cannot be used."""
    if not _CACHE:
        import jinja2

        try:
            _CACHE.append(jinja2.FileSystemBytecodeCache())
        except (OSError, RuntimeError):  # no usable temp folder, or one owned by another user
            _CACHE.append(None)
    return _CACHE[0]
