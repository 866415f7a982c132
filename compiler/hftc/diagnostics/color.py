"""Whether diagnostics are coloured: `--color auto|always|never`, NO_COLOR and FORCE_COLOR."""

from __future__ import annotations

import os
from typing import TextIO

MODES = ("auto", "always", "never")
_mode = "auto"


def set_mode(mode: str) -> None:
    """The `--color` of the command line, for every later `wants_color` question."""
    global _mode
    if mode not in MODES:
        raise ValueError(f"colour mode must be one of {', '.join(MODES)}, not {mode!r}")
    _mode = mode


def wants_color(stream: TextIO, mode: str | None = None) -> bool:
    """`always` and `never` are final; `auto` colours a terminal unless NO_COLOR is set (no-color.org),
    and colours anything when FORCE_COLOR is set (and not 0), as CI logs that render ANSI ask for."""
    mode = mode or _mode
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force and force.lower() not in ("0", "false", "no"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # a closed or detached stream
        return False


def rich_options() -> dict:
    """Keyword arguments for a rich Console so tables and live views follow `--color` too
    (`auto` leaves it to rich, which already honours NO_COLOR and FORCE_COLOR)."""
    if _mode == "never":
        return {"color_system": None}  # no ANSI styles at all, bold and italics included
    if _mode == "always":  # also under TERM=dumb, where rich would otherwise pick no colours
        return {"force_terminal": True, **({"color_system": "standard"} if os.environ.get("TERM") == "dumb" else {})}
    return {}
