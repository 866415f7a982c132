"""Where the cursor is in a schema, read from the text itself: a half-typed line is not valid YAML, so
completion cannot rely on the parsed document. The path of keys comes from indentation and from the
brackets of flow collections on the cursor's line."""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY_LINE = re.compile(r"^(\s*)(?:-\s+)?([A-Za-z_][\w.-]*)\s*:(?:\s|$)")


@dataclass(frozen=True)
class Place:
    path: tuple[str, ...]  # keys from the top; in value mode the last one is the key being given a value
    mode: str  # "key" or "value"
    word: str  # the partial word before the cursor
    in_list: bool = False  # the value is an item of a list


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _parents(lines: list[str], index: int, indent: int) -> list[str]:
    """The keys of the block mappings enclosing a line with this indentation."""
    keys: list[str] = []
    for j in range(index - 1, -1, -1):
        line = lines[j]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        own = _indent(line)
        stripped = line.lstrip()
        if stripped.startswith("- "):
            own += 2  # a list item's mapping starts after the dash
            if own <= indent:
                indent = own - 2
        if own < indent:
            match = _KEY_LINE.match(line)
            if match:
                keys.append(match.group(2))
            indent = _indent(line)
            if indent == 0:
                break
    return list(reversed(keys))


def _flow(prefix: str) -> tuple[list[str], str, bool, str]:
    """Keys opened on this line (the line's key, then each `{`'s current key), the mode at the end of
    `prefix`, whether the end is inside a `[...]`, and the word being typed."""
    keys: list[str] = []
    stack: list[str] = []  # '{' or '['
    token = ""
    mode = "key"
    quote = ""
    for ch in prefix:
        if quote:
            if ch == quote:
                quote = ""
            token += ch
            continue
        if ch in "\"'":
            quote = ch
            token += ch
        elif ch == ":":
            depth = sum(1 for s in stack if s == "{")
            keys = keys[:depth]
            keys.append(token.strip().lstrip("- ").strip())
            token, mode = "", "value"
        elif ch == "{":
            stack.append("{")
            token, mode = "", "key"
        elif ch == "[":
            stack.append("[")
            token = ""
        elif ch in "}]":
            if stack:
                closed = stack.pop()
                if closed == "{":
                    keys = keys[:sum(1 for s in stack if s == "{") + 1]
            token = ""
        elif ch == ",":
            token = ""
            if stack and stack[-1] == "{":
                mode = "key"
                keys = keys[:sum(1 for s in stack if s == "{")]
        else:
            token += ch
    in_list = bool(stack) and stack[-1] == "["
    if in_list:
        mode = "value"
    word = re.search(r"[\w.]*$", token).group(0)
    return keys, mode, in_list, word


def place_at(text: str, line0: int, char: int) -> Place:
    lines = text.split("\n")
    line = lines[line0] if line0 < len(lines) else ""
    prefix = line[:char]
    stripped = prefix.lstrip()
    is_item = stripped.startswith("- ") or stripped == "-"
    indent = _indent(line) if line.strip() else len(prefix) - len(stripped)
    parents = _parents(lines, line0, indent)
    own, mode, in_list, word = _flow(stripped[2:] if is_item else stripped)
    if is_item and not own:
        return Place(tuple(parents), "value", word, True)
    return Place(tuple(parents + own), mode, word, in_list)
