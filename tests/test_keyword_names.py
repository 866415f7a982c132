"""Schema names that are keywords of a target language (`new`, `delete`, `type`, `class`, `match`,
`self`, `fn`, `lambda`, `None`...): the front end accepts them wherever a name only becomes codec
code, and each backend escapes them in its own language. The generated C++ (-Werror), Rust
(clippy -D warnings) and Python build and round-trip; test_cross_language.py and
test_python_ext.py run the shared vectors over the same schema, test_cpp_backend.py its C++
project in every configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO
from hftc.diagnostics.model import has_errors
from hftc.driver.build import generate
from hftc.frontend import compile_file
from hftc.ir.model import Schema
from test_rust_backend import cargo, need_cargo, write_crate

KEYWORDS = REPO / "tests" / "schemas" / "keywords.hftc.yaml"


@pytest.fixture(scope="module")
def ir() -> Schema:
    result = compile_file(str(KEYWORDS))
    assert result.ok, [str(d) for d in result.diagnostics if d.severity.name == "ERROR"]
    return result.ir


def _files(ir: Schema, target: str) -> dict[str, str]:
    report = generate(ir, [target], "/nonexistent")
    assert not has_errors(report.diagnostics), [d.message for d in report.diagnostics]
    return {rel: data.decode() for rel, data in report.outputs[0].files.items()}


def _compile(tmp_path: Path, text: str) -> Schema:
    path = tmp_path / "s.hftc.yaml"
    path.write_text(text, encoding="utf-8")
    result = compile_file(str(path))
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.ir


def test_every_schema_position_takes_a_keyword(ir: Schema) -> None:
    assert [m.name for m in ir.messages] == ["new", "delete", "import"]
    new = ir.message_named("new")
    assert {"delete", "type", "class", "match", "fn", "lambda", "super", "crate", "await", "yield"} <= \
        {f.name for f in new.fields}
    assert [g.name for g in new.groups] == ["self"] and new.groups[0].groups[0].name == "match"
    assert {v.name for v in ir.type_named("enum").values} == {"new", "delete", "None", "self"}
    assert {v.name for v in ir.type_named("union").values} >= {"Self", "True", "lambda"}


def test_engine_names_are_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.hftc.yaml"
    path.write_text("hftc: 1\npackage: x\ncomponents:\n  new: {kind: feed_handler}\n", encoding="utf-8")
    codes = [d.code for d in compile_file(str(path)).diagnostics]
    assert codes == ["HFT0107"]


def test_cpp_escapes_with_a_trailing_underscore(ir: Schema) -> None:
    files = _files(ir, "cpp")
    new = files["include/keyword_names/new.hpp"]
    types = files["include/keyword_names/types.hpp"]
    assert "class new_ " in new and "delete_() const noexcept" in new and "class_() const noexcept" in new
    assert "Self self() const noexcept" in new  # `self` is no C++ keyword: the group keeps its name
    assert "enum class enum_ : std::uint8_t" in types and "new_ = " in types and "struct struct_" in types
    assert "std::int32_t new_" in types  # composite member
    assert "on_new(const new_&" in files["include/keyword_names/dispatch.hpp"]


def test_rust_uses_raw_identifiers_and_type_names(ir: Schema) -> None:
    files = _files(ir, "rust")
    messages, types, owned = files["src/messages.rs"], files["src/types.rs"], files["src/owned.rs"]
    assert "pub struct NewDecoder<'a>" in messages and "pub struct DeleteEncoder<'a>" in messages
    assert "pub fn r#type(&self) -> Enum" in messages and "pub fn r#match(&self) -> Static" in messages
    assert "pub fn self_(&self) -> GroupIter" in messages  # `self` is no raw identifier
    assert "pub fn set_type(" in messages  # prefixed names need no escape
    assert "pub enum Enum {" in types and "    Self_ = 4," in types and "    None = 50," in types
    assert "pub struct Struct {" in types and "pub self_: u16," in types
    assert "pub struct New {" in owned and "pub r#fn: [u8; 6]," in owned


def test_python_appends_an_underscore_to_keywords_and_soft_keywords(ir: Schema) -> None:
    files = _files(ir, "python")
    messages = files["src/keyword_names/messages.py"]
    types = files["src/keyword_names/types.py"]
    assert "class import_(Message):" in messages and "class new(Message):" in messages
    assert "def lambda_(self)" in messages and "def type_(self)" in messages and "def match_(self)" in messages
    assert "def from_(self)" in messages and "def yield_(self)" in messages
    assert "def class_raw(self)" in messages and "def type_raw(self)" in messages  # composed: no `__`
    assert "class lambda_(ExactDecimal):" in types and "    None_ = 50" in types and "    True_ = 5" in types
    assert "    async_ = 1 << 2" in types


def test_docs_show_the_schema_names(ir: Schema) -> None:
    text = "\n".join(_files(ir, "docs").values())
    assert "### new (id 1)" in text and "### import (id 3)" in text
    assert "| `lambda` | `int32` |" in text and "`from` | `lambda`" in text
    assert "new_" not in text and "r#" not in text and "lambda_" not in text.replace("lambda_text", "")


CLASH = """\
hftc: 1
package: clash.names
types:
  {a}: {{decimal: int64, exponent: -2}}
  {b}: {{decimal: int64, exponent: -2}}
messages:
  M: {{id: 1, fields: {{x: {a}, y: {b}}}}}
"""


@pytest.mark.parametrize(("a", "b", "targets"), [
    ("new", "new_", {"cpp": "C++", "python-ext": "C++", "rust": "Rust"}),  # Rust: both `New`
    ("lambda", "lambda_", {"python": "Python", "python-ext": "Python", "rust": "Rust"}),
    ("price", "Price", {"rust": "Rust"}),
])
def test_names_that_meet_once_escaped_are_hft0809(tmp_path: Path, a: str, b: str, targets: dict[str, str]) -> None:
    ir = _compile(tmp_path, CLASH.format(a=a, b=b))
    for target in ("cpp", "rust", "python", "python-ext"):
        report = generate(ir, [target], "/nonexistent")
        clashes = [d for d in report.diagnostics if d.code == "HFT0809"]
        if target in targets:
            assert clashes and f"types `{a}` and `{b}`" in clashes[0].message, target
            assert targets[target] in clashes[0].message and clashes[0].span is not None
            assert all(set(o.files) <= {"hftc-manifest.json"} for o in report.outputs), target  # no code
        else:
            assert not clashes, (target, [d.message for d in clashes])


def test_rust_crate_lints_and_round_trips(ir: Schema, cache_dir: Path) -> None:
    need_cargo()
    crate = write_crate(ir, cache_dir / "rust-generated" / "keyword_names")
    fmt = cargo(["fmt", "--check"], crate, cache_dir)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    clippy = cargo(["clippy", "--all-targets", "--", "-D", "warnings"], crate, cache_dir)
    assert clippy.returncode == 0, clippy.stderr[-4000:]
    test = cargo(["test"], crate, cache_dir)
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]
    assert "new_round_trips ... ok" in test.stdout and "import_round_trips ... ok" in test.stdout


MEMBER_CLASH = """\
hftc: 1
package: clash.members
messages:
  M: {id: 1, fields: {self: uint8, self_: uint8}}
"""


def test_members_that_meet_once_escaped_are_hft0809(tmp_path: Path) -> None:
    """Rust spells the field `self` as `self_`; C++ and Python keep both names apart."""
    ir = _compile(tmp_path, MEMBER_CLASH)
    codes = {t: [d.code for d in generate(ir, [t], "/nonexistent").diagnostics] for t in ("cpp", "rust", "python")}
    assert codes == {"cpp": [], "rust": ["HFT0809"], "python": []}
