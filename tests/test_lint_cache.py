"""The lint result cache (hftc.driver.lint_cache): an unchanged schema is answered from it with the
same output and exit code, and any change to what the result depends on (the schema, an import, a
file appearing where an import is searched for, hftc itself) lints afresh. A damaged entry is
ignored, `--no-cache` neither reads nor writes, and an unwritable cache folder only costs time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from hftc import entry
from hftc.driver import lint_cache
from hftc.driver.lint_cache import LintCache

COMMON = """\
hftc: 1
package: common
types:
  Px: {decimal: int64, exponent: -9}
"""
MAIN = """\
hftc: 1
package: cached
imports: [common.hftc.yaml]
messages:
  Quote: {id: 1, fields: {px: Px, qty: u64}}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A schema importing a second file, the working folder set to it and a private cache folder."""
    (tmp_path / "common.hftc.yaml").write_text(COMMON)
    (tmp_path / "main.hftc.yaml").write_text(MAIN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path


class Lints:
    """Runs the console script's lint in-process, counting the compilations the cache did not spare."""

    def __init__(self, monkeypatch):
        self.compiled = 0
        real = entry.lint_one

        def counting(*args):
            self.compiled += 1
            return real(*args)

        monkeypatch.setattr(entry, "lint_one", counting)

    def __call__(self, *args: str, capsys) -> tuple[int, str, str]:
        request = entry.parse_lint(["lint", *args])
        assert request is not None
        code = entry.run_lint(request)
        out, err = capsys.readouterr()
        return code, out, err


@pytest.fixture
def lint(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("CLICOLOR_FORCE", raising=False)
    return Lints(monkeypatch)


def test_an_unchanged_schema_is_answered_from_the_cache(project, lint, capsys):
    first = lint("main.hftc.yaml", "--error-format", "json", capsys=capsys)
    second = lint("main.hftc.yaml", "--error-format", "json", capsys=capsys)
    assert first == second and lint.compiled == 1
    assert first[0] == 1 and "HFT0301" in first[1]  # `u64` is not a type: the error is cached too
    assert len(list((project / "xdg" / "hftc" / "lint").glob("*.json"))) == 1


def test_each_format_and_option_is_its_own_entry(project, lint, capsys):
    text = lint("main.hftc.yaml", capsys=capsys)
    as_json = lint("main.hftc.yaml", "--error-format=json", capsys=capsys)
    assert lint.compiled == 2 and text[2] and as_json[1] and text != as_json
    assert lint("main.hftc.yaml", "--import-path", ".", capsys=capsys) == text and lint.compiled == 3
    assert lint("main.hftc.yaml", capsys=capsys) == text and lint.compiled == 3


def test_warnings_are_denied_from_a_cached_result_too(project, lint, capsys):
    (project / "w.yaml").write_text((REPO / "tests" / "diagnostics" / "lints.yaml").read_text())
    assert lint("w.yaml", capsys=capsys)[0] == 0
    code, _, err = lint("w.yaml", "--deny-warnings", capsys=capsys)
    assert code == 1 and "warning[" in err and lint.compiled == 1


def test_editing_the_schema_lints_afresh(project, lint, capsys):
    assert lint("main.hftc.yaml", capsys=capsys)[0] == 1
    (project / "main.hftc.yaml").write_text(MAIN.replace("u64", "uint64"))
    assert lint("main.hftc.yaml", capsys=capsys) == (0, "", "") and lint.compiled == 2


def test_a_same_size_rewrite_with_the_same_timestamp_lints_afresh(project, lint, capsys):
    path = project / "main.hftc.yaml"
    assert lint("main.hftc.yaml", capsys=capsys)[0] == 1
    info = path.stat()
    path.write_text(MAIN.replace("qty: u64", "qty: u16"))  # still unknown, a different message
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    code, _, err = lint("main.hftc.yaml", capsys=capsys)
    assert code == 1 and "`u16`" in err and lint.compiled == 2


def test_editing_an_import_lints_afresh(project, lint, capsys):
    assert lint("main.hftc.yaml", "--error-format=json", capsys=capsys)[0] == 1
    (project / "common.hftc.yaml").write_text(COMMON + "  u64: {decimal: int64, exponent: -2}\n")
    code, out, _ = lint("main.hftc.yaml", "--error-format=json", capsys=capsys)
    assert code == 0 and "HFT0301" not in out and "HFT0903" in out and lint.compiled == 2


def test_removing_an_import_lints_afresh(project, lint, capsys):
    lint("main.hftc.yaml", "--error-format=json", capsys=capsys)
    (project / "common.hftc.yaml").unlink()
    code, out, _ = lint("main.hftc.yaml", "--error-format=json", capsys=capsys)
    assert code == 1 and "HFT0201" in out and lint.compiled == 2


def test_a_file_appearing_where_an_import_is_searched_for_lints_afresh(project, lint, capsys):
    """With `--import-path lib`, an import missing beside the schema is looked for in lib/: creating it
    there changes the result although no file the first run read has changed."""
    (project / "lib").mkdir()
    (project / "main.hftc.yaml").write_text(MAIN.replace("[common.hftc.yaml]", "[extra.hftc.yaml]"))
    code, out, _ = lint("main.hftc.yaml", "--import-path", "lib", "--error-format=json", capsys=capsys)
    assert code == 1 and "HFT0201" in out
    (project / "lib" / "extra.hftc.yaml").write_text(COMMON)
    code, out, _ = lint("main.hftc.yaml", "--import-path", "lib", "--error-format=json", capsys=capsys)
    assert "HFT0201" not in out and lint.compiled == 2


def test_a_changed_hftc_lints_afresh(project, lint, capsys, monkeypatch):
    """Another version, or any file of hftc edited (a checkout being worked on), is another cache."""
    code = project / "code"
    code.mkdir()
    (code / "module.py").write_text("A = 1\n")
    monkeypatch.setattr(lint_cache, "_own_files", lambda: [str(code)])
    lint("main.hftc.yaml", capsys=capsys)
    lint("main.hftc.yaml", capsys=capsys)
    assert lint.compiled == 1
    (code / "module.py").write_text("A = 22\n")
    lint("main.hftc.yaml", capsys=capsys)
    assert lint.compiled == 2
    monkeypatch.setattr("hftc.__version__", "999.0")
    lint("main.hftc.yaml", capsys=capsys)
    assert lint.compiled == 3
    lint("main.hftc.yaml", capsys=capsys)
    assert lint.compiled == 3


def test_the_real_fingerprint_covers_the_package_backends_and_templates():
    folders = lint_cache._own_files()
    assert os.path.realpath(Path(entry.__file__).parent) in folders
    assert any(Path(f, "k8s", "__init__.py").is_file() for f in folders)  # the backends
    assert any(Path(f, "market_making.hftc.yaml").is_file() for f in folders)  # the strategy templates
    assert any(Path(f, "hft").is_dir() for f in folders)  # the C++ runtime's headers
    assert any(Path(f, "Cargo.toml").is_file() for f in folders)  # the Rust runtime
    assert lint_cache.environment_key() == lint_cache.environment_key()


@pytest.mark.parametrize("damage", [b"", b"{not json", b"[]", b'{"probes": [], "output": "", "failed": false}',
                                    b'{"probes": [["main.hftc.yaml", "x"]], "output": 3, "failed": 0, "warned": 0}',
                                    b"\xff\xfe"])
def test_a_damaged_entry_is_ignored_and_replaced(project, lint, capsys, damage):
    expected = lint("main.hftc.yaml", capsys=capsys)
    (entry_file,) = (project / "xdg" / "hftc" / "lint").glob("*.json")
    entry_file.write_bytes(damage)
    assert lint("main.hftc.yaml", capsys=capsys) == expected and lint.compiled == 2
    assert json.loads(entry_file.read_text())["output"] == expected[2].rstrip("\n")
    assert lint("main.hftc.yaml", capsys=capsys) == expected and lint.compiled == 2


def test_no_cache_neither_reads_nor_writes(project, lint, capsys):
    lint("main.hftc.yaml", "--no-cache", capsys=capsys)
    assert not (project / "xdg").exists()
    lint("main.hftc.yaml", capsys=capsys)
    lint("main.hftc.yaml", "--no-cache", capsys=capsys)
    assert lint.compiled == 3


def test_an_unwritable_cache_folder_only_costs_time(project, lint, capsys, monkeypatch):
    (project / "xdg").write_text("a file where the cache folder would be")
    expected = lint("main.hftc.yaml", capsys=capsys)
    assert lint("main.hftc.yaml", capsys=capsys) == expected and expected[0] == 1 and lint.compiled == 2


def test_relative_xdg_cache_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert lint_cache.cache_dir() == str(tmp_path / ".cache" / "hftc" / "lint")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert LintCache().folder == str(tmp_path / "x" / "hftc" / "lint")


def test_the_console_script_answers_from_the_cache_without_importing_the_compiler(project):
    """End to end, in fresh processes: the second run prints the same and never imports the front end."""
    script = ("import os, sys\nsys.argv = ['hftc', *sys.argv[1:]]\nfrom hftc import entry\n"
              "real_exit = os._exit\n"
              "os._exit = lambda code: (sys.stderr.write('\\nLOADED %s' % ('hftc.frontend' in sys.modules)), "
              "sys.stderr.flush(), real_exit(code))\nentry.main()\n")
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env["XDG_CACHE_HOME"] = str(project / "xdg")
    runs = [subprocess.run([sys.executable, "-c", script, "lint", "main.hftc.yaml", "--deny-warnings"], cwd=project,
                           capture_output=True, text=True, timeout=180, env=env, check=False) for _ in range(2)]
    (first_err, first_loaded), (second_err, second_loaded) = [r.stderr.rsplit("\nLOADED ", 1) for r in runs]
    assert runs[0].returncode == runs[1].returncode == 1
    assert first_err == second_err and "error[HFT0301]" in first_err
    assert (first_loaded, second_loaded) == ("True", "False")


def test_the_cache_folder_stays_bounded(project, lint, capsys, monkeypatch):
    monkeypatch.setattr(lint_cache, "MAX_ENTRIES", 8)
    folder = project / "xdg" / "hftc" / "lint"
    folder.mkdir(parents=True)
    for i in range(8):
        (folder / f"old{i}.json").write_text("{}")
        os.utime(folder / f"old{i}.json", ns=(10**18 + i, 10**18 + i))
    lint("main.hftc.yaml", capsys=capsys)
    left = sorted(p.name for p in folder.glob("*.json"))
    assert len(left) == 6 and "old0.json" not in left and "old1.json" not in left
    assert lint("main.hftc.yaml", capsys=capsys) and lint.compiled == 1  # the new entry was kept
