"""Imports stay inside the schema's folder tree and --import-path roots; devices and pipes are not read."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from hftc.cli import app
from hftc.frontend import compile_file

runner = CliRunner()
LIB = "hftc: 1\npackage: lib\ntypes:\n  Px: {decimal: int64, exponent: -2}\n"
SECRET = "root:x:0:0:root:/root:/bin/bash\n"


def _main(folder, imports: str) -> str:
    path = folder / "main.hftc.yaml"
    path.write_text(f"hftc: 1\npackage: app\nimports: [{imports}]\nmessages:\n  M: {{id: 1, fields: {{p: Px}}}}\n")
    return str(path)


def _codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "app" / "lib").mkdir(parents=True)
    (tmp_path / "app" / "lib" / "types.hftc.yaml").write_text(LIB)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "types.hftc.yaml").write_text(LIB)
    (tmp_path / "outside" / "passwd").write_text(SECRET)
    return tmp_path


def test_imports_inside_the_folder_tree_still_work(tree):
    assert compile_file(_main(tree / "app", "lib/types.hftc.yaml")).ok
    assert compile_file(_main(tree / "app", "./lib/../lib/types.hftc.yaml")).ok


@pytest.mark.parametrize("entry", ["/etc/passwd", "../outside/passwd", "lib/../../outside/types.hftc.yaml",
                                   "{abs}/outside/types.hftc.yaml"])
def test_absolute_paths_and_escapes_are_refused_without_reading(tree, entry):
    result = compile_file(_main(tree / "app", entry.format(abs=tree)))
    assert _codes(result)[0] == "HFT0205", result.diagnostics
    text = json.dumps([d.message + str(d.notes) + str(d.help) for d in result.diagnostics])
    assert "root:x" not in text
    assert len(result.sources.texts) == 1  # only the schema itself was read


def test_a_symbolic_link_out_of_the_tree_is_refused(tree):
    (tree / "app" / "link.yaml").symlink_to(tree / "outside" / "passwd")
    assert _codes(compile_file(_main(tree / "app", "link.yaml")))[0] == "HFT0205"


def test_an_import_path_root_allows_its_files(tree):
    main = _main(tree / "app", "types.hftc.yaml")  # found under the root, not beside main
    assert _codes(compile_file(main))[0] == "HFT0201"
    assert compile_file(main, [str(tree / "outside")]).ok
    main = _main(tree / "app", f"{tree}/outside/types.hftc.yaml")
    assert compile_file(main, [str(tree / "outside")]).ok
    assert _codes(compile_file(_main(tree / "app", "../outside/passwd"), [str(tree / "outside" / "sub")]))[0] \
        == "HFT0205"


def test_cli_import_path_option_and_a_refusal_exit_code(tree):
    main = _main(tree / "app", "types.hftc.yaml")
    assert runner.invoke(app, ["lint", main]).exit_code == 1
    assert runner.invoke(app, ["lint", main, "--import-path", str(tree / "outside")]).exit_code == 0
    refused = runner.invoke(app, ["lint", _main(tree / "app", "/etc/passwd"), "--error-format", "json"])
    assert refused.exit_code == 1 and "HFT0205" in refused.output and "root:" not in refused.output


def test_devices_pipes_and_folders_are_not_read(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo), str(tmp_path)):
        result = compile_file(path)
        assert _codes(result) == ["HFT0001"], (path, result.diagnostics)
    main = _main(tmp_path, "pipe.yaml")  # an import of a FIFO neither blocks nor reads
    assert _codes(compile_file(main))[0] == "HFT0001"
