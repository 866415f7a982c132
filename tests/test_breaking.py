"""`hftc breaking`: one pair of small schemas per rule, the output formats, and --against a git revision."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hftc.cli import app
from hftc.diagnostics.codes import CODES
from hftc.evolution import RULES, compare
from hftc.frontend import compile_text

runner = CliRunner()

BASE = """\
hftc: 1
package: evo.test
version: 1
schema_id: 3
types:
  Price: {decimal: int64, exponent: -8}
  Side: {enum: uint8, values: {buy: 1, sell: 2}}
  Flags: {set: uint8, choices: {post_only: 0, ioc: 1}}
  Pair: {composite: {lo: uint32, hi: uint32}}
messages:
  Quote:
    id: 1
    fields:
      instrument: uint32
      side: Side
      price: Price
      qty: int64
      flags: Flags
      span: Pair
    groups:
      levels:
        fields: {price: Price, qty: int64}
      fills:
        fields: {fill_id: uint64}
    data:
      - note
      - tag
  Cancel:
    id: 2
    fields:
      order_id: uint64
"""


def _ir(text: str, name: str):
    result = compile_text(name, text)
    assert result.ok, [d.message for d in result.diagnostics]
    return result.ir


def _codes(new_text: str, categories=("wire", "source"), old_text: str = BASE) -> list[str]:
    diags = compare(_ir(old_text, "old.hftc.yaml"), _ir(new_text, "new.hftc.yaml"), categories=categories)
    return sorted(d.code for d in diags)


def _edit(*pairs: tuple[str, str], text: str = BASE) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_identical_schemas_are_compatible() -> None:
    assert _codes(BASE) == []


def test_every_rule_has_an_explanation_and_a_category() -> None:
    for code, category in RULES.items():
        assert code in CODES and category in ("wire", "source")
    assert "HFT0725" in CODES


# (edit, expected codes) per rule; each a minimal change of BASE
CASES = {
    "message removed": ([("  Cancel:\n    id: 2\n    fields:\n      order_id: uint64\n", "")], ["HFT0710"]),
    "template id changed": ([("    id: 2\n", "    id: 9\n")], ["HFT0711"]),
    "schema id changed": ([("schema_id: 3", "schema_id: 4")], ["HFT0711"]),
    "field removed": ([("      flags: Flags\n      span: Pair\n", "      span: Pair\n")],
                      ["HFT0712", "HFT0713"]),  # `span` moves into the gap
    "fields reordered": ([("      price: Price\n      qty: int64\n", "      qty: int64\n      price: Price\n")],
                         ["HFT0713", "HFT0713"]),
    "field type changed (same size)": ([("      qty: int64\n      flags", "      qty: uint64\n      flags")],
                                       ["HFT0714"]),
    "field size changed": ([("      instrument: uint32\n", "      instrument: uint64\n")],
                           ["HFT0713"] * 5 + ["HFT0714"]),
    "presence changed": ([("      qty: int64\n      flags", "      qty: {type: int64, optional: true}\n      flags")],
                         ["HFT0714"]),
    "decimal exponent changed": ([("exponent: -8", "exponent: -9")], ["HFT0715"]),
    "enum encoding changed": ([("enum: uint8", "enum: uint16")], ["HFT0713"] * 4 + ["HFT0714", "HFT0715"]),
    "enum value removed": ([("values: {buy: 1, sell: 2}", "values: {buy: 1}")], ["HFT0716"]),
    "enum value renumbered": ([("values: {buy: 1, sell: 2}", "values: {buy: 1, sell: 3}")], ["HFT0716"]),
    "bitset choice moved": ([("choices: {post_only: 0, ioc: 1}", "choices: {post_only: 0, ioc: 2}")], ["HFT0716"]),
    "composite member reordered": ([("{lo: uint32, hi: uint32}", "{hi: uint32, lo: uint32}")],
                                   ["HFT0713", "HFT0713"]),
    "new field without since_version": ([("version: 1", "version: 2"),
                                         ("      order_id: uint64\n", "      order_id: uint64\n      reason: uint8\n")],
                                        ["HFT0717"]),
    "since_version of a field changed": ([("version: 1", "version: 2"),
                                          ("      order_id: uint64\n",
                                           "      order_id: {type: uint64, since_version: 2}\n")], ["HFT0717"]),
    "group removed": ([("      fills:\n        fields: {fill_id: uint64}\n", "")], ["HFT0718"]),
    "groups reordered": ([("      levels:\n        fields: {price: Price, qty: int64}\n"
                           "      fills:\n        fields: {fill_id: uint64}\n",
                           "      fills:\n        fields: {fill_id: uint64}\n"
                           "      levels:\n        fields: {price: Price, qty: int64}\n")], ["HFT0718"]),
    "group field changed": ([("{price: Price, qty: int64}", "{price: Price, qty: int32}")], ["HFT0714"]),
    "group added to a message with var-data": ([("version: 1", "version: 2"),
                                                ("        fields: {fill_id: uint64}\n",
                                                 "        fields: {fill_id: uint64}\n      extra:\n"
                                                 "        since_version: 2\n        fields: {x: uint8}\n")],
                                               ["HFT0718"]),
    "group inserted before existing ones": ([("      fills:\n", "      extra:\n        fields: {x: uint8}\n"
                                              "      fills:\n")],
                                            ["HFT0717", "HFT0718", "HFT0718", "HFT0719"]),
    "var-data removed": ([("      - note\n", "")], ["HFT0718"]),
    "var-data reordered": ([("      - note\n      - tag\n", "      - tag\n      - note\n")], ["HFT0718"]),
    "version not bumped": ([("      order_id: uint64\n",
                             "      order_id: uint64\n      reason: {type: uint8, since_version: 1}\n")],
                           ["HFT0717", "HFT0719"]),
    "field renamed": ([("      qty: int64\n      flags", "      quantity: int64\n      flags")], ["HFT0720"]),
    "message renamed": ([("  Cancel:\n", "  CancelOrder:\n")], ["HFT0720"]),
    "enum value renamed": ([("values: {buy: 1, sell: 2}", "values: {bid: 1, sell: 2}")], ["HFT0720"]),
    "var-data renamed": ([("      - tag\n", "      - label\n")], ["HFT0720"]),
    "type renamed": ([("  Pair: {composite", "  Range: {composite"), ("      span: Pair", "      span: Range")],
                     ["HFT0714", "HFT0721"]),
    "package renamed": ([("package: evo.test", "package: evo.other")], ["HFT0721"]),
    "var-data encoding changed": ([("      - tag\n", "      - {name: tag, encoding: bytes}\n")], ["HFT0721"]),
    "byte order changed": ([("schema_id: 3\n", "schema_id: 3\nbyte_order: big\n")], ["HFT0722"]),
    "group size changed": ([("schema_id: 3\n", "schema_id: 3\nencoding: {group_size: {block_length: uint16, "
                                                "count: uint8}}\n")], ["HFT0722"]),
    "header and var-data length changed": ([("schema_id: 3\n", "schema_id: 3\nencoding: {header: {version: uint8}, "
                                                                "var_data_length: uint16}\n")], ["HFT0722"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule(name: str) -> None:
    edits, expected = CASES[name]
    assert _codes(_edit(*edits)) == sorted(expected)


def test_version_lowered() -> None:
    assert _codes(BASE, old_text=BASE.replace("version: 1", "version: 2")) == ["HFT0719"]


def test_compatible_evolution_passes() -> None:
    new = _edit(("version: 1", "version: 2"),
                ("      order_id: uint64\n", "      order_id: uint64\n      reason: {type: uint8, since_version: 2}\n"),
                ("values: {buy: 1, sell: 2}", "values: {buy: 1, sell: 2, cross: 3}"),
                ("  Cancel:\n", "  Heartbeat:\n    id: 5\n    since_version: 2\n    fields: {ts: uint64}\n  Cancel:\n"),
                ("      - tag\n", "      - tag\n      - {name: memo, since_version: 2}\n"))
    assert _codes(new) == []


def test_category_selection_leaves_source_rules_out() -> None:
    renamed = _edit(("      qty: int64\n      flags", "      quantity: int64\n      flags"), ("package: evo.test", "package: x.y"))
    assert _codes(renamed, categories=("wire",)) == []
    assert _codes(renamed, categories=("source",)) == ["HFT0720", "HFT0721"]
    removed = _edit(("      - note\n", ""))
    assert _codes(removed, categories=("source",)) == []


def _write_pair(tmp_path: Path, new_text: str) -> tuple[Path, Path]:
    old, new = tmp_path / "old.hftc.yaml", tmp_path / "new.hftc.yaml"
    old.write_text(BASE)
    new.write_text(new_text)
    return old, new


def test_cli_text_spans_in_both_files(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write_pair(tmp_path, _edit(("values: {buy: 1, sell: 2}", "values: {buy: 1, sell: 3}")))
    result = runner.invoke(app, ["breaking", "old.hftc.yaml", "new.hftc.yaml"])
    assert result.exit_code == 1
    out = result.stderr
    assert "error[HFT0716]: value `sell` of `Side` renumbered from 2 to 3" in out
    assert "--> new.hftc.yaml:7:" in out and "::: old.hftc.yaml:7:" in out
    assert "bit 2 in old.hftc.yaml" not in out and "value 2 in old.hftc.yaml" in out


def test_cli_compatible_exits_0(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write_pair(tmp_path, BASE)
    result = runner.invoke(app, ["breaking", "old.hftc.yaml", "new.hftc.yaml"])
    assert result.exit_code == 0, result.stderr
    assert "new.hftc.yaml is compatible with old.hftc.yaml" in result.stderr


def test_cli_json_and_github(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write_pair(tmp_path, _edit(("      - note\n", "")))
    result = runner.invoke(app, ["breaking", "old.hftc.yaml", "new.hftc.yaml", "--error-format", "json"])
    assert result.exit_code == 1
    [item] = [json.loads(line) for line in result.stdout.splitlines()]
    assert item["code"] == "HFT0718" and item["span"]["file"] == "new.hftc.yaml"
    assert item["secondary"][0]["span"]["file"] == "old.hftc.yaml" and item["secondary"][0]["span"]["line"] == 26
    result = runner.invoke(app, ["breaking", "old.hftc.yaml", "new.hftc.yaml", "--error-format", "github"])
    assert result.exit_code == 1
    assert result.stdout.startswith("::error file=new.hftc.yaml,line=")
    assert "title=HFT0718::var-data `note` of message `Quote` removed" in result.stdout
    result = runner.invoke(app, ["breaking", "old.hftc.yaml", "new.hftc.yaml", "--category", "source"])
    assert result.exit_code == 0


def test_cli_usage_and_broken_input(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    old, new = _write_pair(tmp_path, "hftc: 1\npackage: [\n")
    result = runner.invoke(app, ["breaking", "old.hftc.yaml", "new.hftc.yaml"])
    assert result.exit_code == 2 and "HFT0003" in result.stderr and "new.hftc.yaml does not compile" in result.stderr
    assert runner.invoke(app, ["breaking", "old.hftc.yaml"]).exit_code == 2
    assert runner.invoke(app, ["breaking", "a", "b", "c"]).exit_code == 2


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env, timeout=60)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_against_git_ref_in_a_temporary_repo(tmp_path) -> None:
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    common = "hftc: 1\npackage: evo.common\nversion: 1\ntypes:\n  Price: {decimal: int64, exponent: -8}\n"
    (repo / "schemas" / "common.hftc.yaml").write_text(common)
    main = BASE.replace("types:\n  Price: {decimal: int64, exponent: -8}\n",
                        "imports: [common.hftc.yaml]\ntypes:\n")
    (repo / "schemas" / "main.hftc.yaml").write_text(main)
    _git(repo, "init", "-q", "-b", "trunk")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "v1")
    # the imported type changes in the work tree: the old side must read the import as committed
    (repo / "schemas" / "common.hftc.yaml").write_text(common.replace("-8", "-9"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "hftc", "breaking", "schemas/main.hftc.yaml", "--against", "HEAD"]
    done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stderr
    assert "error[HFT0715]: exponent of type `Price` changed from -8 to -9" in done.stderr
    assert "--> schemas/common.hftc.yaml:5:" in done.stderr
    assert "::: HEAD:schemas/common.hftc.yaml:5:" in done.stderr
    assert "/tmp" not in done.stderr and "hftc-breaking-" not in done.stderr

    (repo / "schemas" / "common.hftc.yaml").write_text(common)
    done = subprocess.run(cmd + ["--error-format", "github"], cwd=repo, capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr

    (repo / "schemas" / "fresh.hftc.yaml").write_text(BASE)
    done = subprocess.run([sys.executable, "-m", "hftc", "breaking", "schemas/fresh.hftc.yaml", "--against", "HEAD"],
                          cwd=repo, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and "did not exist at HEAD; nothing to compare" in done.stderr

    # several files at once (as pre-commit passes them): each against itself at the revision
    (repo / "schemas" / "main.hftc.yaml").write_text(main.replace("version: 1", "version: 0"))
    done = subprocess.run(cmd[:4] + ["schemas/fresh.hftc.yaml", "schemas/main.hftc.yaml", "schemas/common.hftc.yaml",
                                     "--against", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 1, done.stderr
    assert "HFT0719" in done.stderr and "schemas/common.hftc.yaml is compatible with HEAD:schemas/common" in done.stderr

    done = subprocess.run(cmd[:-1] + ["no-such-ref"], cwd=repo, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2 and "HFT0725" in done.stderr and "no-such-ref" in done.stderr


def test_nested_group_findings_name_their_path() -> None:
    new = BASE.replace("        fields: {price: Price, qty: int64}\n",
                       "        fields: {price: Price, qty: int64}\n        groups:\n          orders:\n"
                       "            fields: {oid: uint64}\n")
    changed = new.replace("{oid: uint64}", "{oid: uint32}")
    diags = compare(_ir(new, "old.hftc.yaml"), _ir(changed, "new.hftc.yaml"))
    assert [d.message for d in diags] == [
        "field `oid` of group `Quote.levels.orders` changed type from uint64 (8 bytes) to uint32 (4 bytes)"]
    assert diags[0].span.file == "new.hftc.yaml" and diags[0].secondary[0].span.file == "old.hftc.yaml"
    assert diags[0].span.line == diags[0].secondary[0].span.line == 25


@pytest.mark.parametrize("example", sorted(p.name for p in (Path(__file__).resolve().parents[1] / "examples").glob("*.yaml")))
def test_every_example_is_compatible_with_itself(example: str) -> None:
    from hftc.frontend import compile_file

    result = compile_file(str(Path(__file__).resolve().parents[1] / "examples" / example))
    assert result.ir is not None
    assert compare(result.ir, result.ir) == []
