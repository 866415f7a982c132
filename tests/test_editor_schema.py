"""The editor JSON Schema: human titles and descriptions, shipped with hftc, and the modelines of
`hftc init` and `hftc new` resolve offline to a file equal to `hftc schema`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from hftc.editor_schema import editor_json_schema, editor_json_schema_text, installed_schema_path, modeline

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(.+)$")


def _walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def test_titles_are_written_for_people() -> None:
    schema = editor_json_schema()
    titles = [(path, node["title"]) for path, node in _walk(schema) if isinstance(node.get("title"), str)]
    assert titles
    for path, title in titles:
        assert "||" not in title and not re.fullmatch(r"([A-Z][a-z0-9]*)( [A-Z][a-z0-9]*)+", title), (path, title)
    assert schema["$defs"]["SchemaDocument"]["title"] == "A complete hftc schema (language version 1)"
    for name, definition in schema["$defs"].items():
        for key, prop in definition.get("properties", {}).items():
            assert "title" not in prop, (name, key)  # an editor shows the description instead
            assert prop.get("description"), (name, key)


def test_shipped_schema_equals_hftc_schema() -> None:
    shipped = installed_schema_path()
    assert shipped.is_file()
    printed = subprocess.run([sys.executable, "-m", "hftc", "schema"], check=False, capture_output=True, text=True,
                             timeout=120)
    assert printed.returncode == 0
    assert shipped.read_text(encoding="utf-8") == printed.stdout == editor_json_schema_text(), \
        "the shipped schema is stale: run `hftc schema -o schemas/hftc.schema.json`"


def _target(text: str, schema_file: Path) -> Path:
    match = MODELINE.match(text.splitlines()[0])
    assert match, text.splitlines()[0]
    target = Path(match.group(1))
    return target if target.is_absolute() else (schema_file.parent / target)


def test_init_modeline_resolves_offline(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "hftc", "init", "desk.mm", "--dir", str(tmp_path)], check=False,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "desk_mm.hftc.yaml"
    target = _target(written.read_text(encoding="utf-8"), written)
    assert target.is_file() and "://" not in str(target)
    assert json.loads(target.read_text(encoding="utf-8")) == editor_json_schema()


def test_new_modeline_resolves_offline(tmp_path: Path) -> None:
    from hftc.ai.new import plan_schema

    path = tmp_path / "seed.hftc.yaml"
    result = plan_schema("a BTCUSDT market maker on Binance spot", str(path))
    assert result.text is not None, result.problems
    assert result.text.splitlines()[0] == modeline()
    target = _target(result.text, path)
    assert target.is_file() and target.read_text(encoding="utf-8") == editor_json_schema_text()
