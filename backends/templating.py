"""The one Jinja environment setup every backend uses."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


def environment(package_file: str) -> jinja2.Environment:
    """An environment over the `templates/` folder beside a backend's `__init__.py`.

    StrictUndefined turns a typo in a template into an error instead of empty
    output; the whitespace options keep templates readable without stray blank lines.
    """
    import jinja2  # here, not at the top: `hftc lint` imports every backend and renders few templates

    folder = os.path.join(os.path.dirname(os.path.abspath(package_file)), "templates")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
