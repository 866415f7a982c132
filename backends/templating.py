"""The one Jinja environment setup every backend uses."""

from __future__ import annotations

import functools
import os

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
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
