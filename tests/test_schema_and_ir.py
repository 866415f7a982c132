"""Editor JSON Schema, IR JSON round trip, IR JSON Schema, layouts, seed forms."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest

from hftc.editor_schema import editor_json_schema_text, ir_json_schema_text
from hftc.frontend import compile_file
from hftc.ir.model import IR_VERSION
from hftc.ir.serialize import ir_from_json, ir_to_dict, ir_to_json
from hftc.loader import load_yaml_text

from conftest import EXAMPLES, REPO

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    monkeypatch.chdir(REPO)


def test_committed_editor_schema_matches_models() -> None:
    committed = (REPO / "schemas" / "hftc.schema.json").read_text()
    assert committed == editor_json_schema_text(), "schemas/hftc.schema.json is stale: run `hftc schema -o schemas/hftc.schema.json`"


def test_committed_ir_schema_matches_ir() -> None:
    committed = (REPO / "schemas" / "hftc-ir.schema.json").read_text()
    assert committed == ir_json_schema_text(), "schemas/hftc-ir.schema.json is stale: run `hftc ir --json-schema`"


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_editor_schema_validates_examples(path) -> None:
    schema = json.loads(editor_json_schema_text())
    doc, diags = load_yaml_text(str(path), path.read_text())
    assert not diags
    jsonschema.Draft202012Validator(schema).validate(doc.value)


def test_editor_schema_rejects_unknown_keys() -> None:
    schema = json.loads(editor_json_schema_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate({"hftc": 1, "package": "x", "mesages": {}})


def test_every_surface_field_has_description_and_example() -> None:
    schema = json.loads(editor_json_schema_text())
    missing = []
    for name, definition in schema["$defs"].items():
        for prop, spec in definition.get("properties", {}).items():
            if not spec.get("description") or "examples" not in spec:
                missing.append(f"{name}.{prop}")
    assert not missing, missing


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_examples_lint_clean(path) -> None:
    result = compile_file(os.path.relpath(path, REPO))
    assert result.ok and not result.diagnostics, [d.message for d in result.diagnostics]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_ir_json_round_trip_is_exact(path) -> None:
    ir = compile_file(os.path.relpath(path, REPO)).ir
    text = ir_to_json(ir)
    again = ir_from_json(text)
    assert again == ir
    assert ir_to_json(again) == text
    jsonschema.Draft202012Validator(json.loads(ir_json_schema_text())).validate(ir_to_dict(ir))
    assert json.loads(text)["ir_version"] == IR_VERSION


def test_layout_of_example() -> None:
    ir = compile_file("examples/fx_market_maker.hftc.yaml").ir
    delta = ir.message_named("BookDelta")
    assert [(f.name, f.offset, f.size) for f in delta.fields] == [
        ("instrument", 0, 4), ("seq", 4, 8), ("ts_exchange", 12, 8), ("side", 20, 1),
        ("price", 21, 8), ("qty", 29, 8), ("order_count", 37, 2),
    ]
    assert delta.block_length == 39
    order_count = delta.fields[-1]
    assert order_count.since_version == 2 and order_count.optional and order_count.null_value == 65535
    snapshot = ir.message_named("Snapshot")
    levels = snapshot.groups[0]
    assert levels.block_length == 17 and levels.groups[0].name == "orders" and levels.groups[0].block_length == 16
    assert [d.name for d in snapshot.data] == ["venue_note"]
    new_order = ir.message_named("NewOrder")
    assert new_order.block_length == 8 + 4 + 12 + 1 + 8 + 8 + 1 + 1 + 8
    assert ir.type_named("Price").size == 8 and ir.type_named("Symbol").size == 12


def test_budget_check_points_at_target_and_stages() -> None:
    result = compile_file("tests/diagnostics/budget_exceeded.yaml")
    [d] = [d for d in result.diagnostics if d.code != "HFT0643"]  # no book: no pipeline generated
    assert d.code == "HFT0402"
    assert d.span.line == 9  # the target
    assert [s.span.line for s in d.secondary] == [4, 5]  # both stage budgets


def test_component_document_lowers_to_pipeline() -> None:
    ir = compile_file("examples/execution_engine.yaml").ir
    assert ir.document_kind == "component"
    assert ir.package == "execution_engine"
    [component] = ir.components
    assert (component.name, component.kind, component.language) == ("core", "custom", "cpp20")
    assert component.features == ("lock_free_queues", "memory_pools", "cpu_affinity", "numa_aware")
    [pipeline] = ir.pipelines
    assert pipeline.stages == ("core",)
    assert (pipeline.latency_p99_ns, pipeline.throughput_msgs_per_s, pipeline.memory_mb) == (100, 1_000_000, 1024)


def test_strategy_template_document_lowers_to_strategy() -> None:
    ir = compile_file("examples/statistical_arbitrage.yaml").ir
    assert ir.document_kind == "strategy_template"
    [s] = ir.strategies
    assert s.name == "statistical_arbitrage" and s.template == "pairs_trading"
    assert [(p.name, p.type, p.low, p.high, p.default) for p in s.params] == [
        ("lookback_window", "int", 20, 200, 60),
        ("entry_threshold", "float", 1.5, 3.0, 2.0),
        ("exit_threshold", "float", 0.2, 1.0, 0.5),
        ("order_qty", "float", 0.001, 100.0, 1.0),  # from the shipped template
    ]
    assert s.entry_long is not None and s.exit is not None and s.program is not None  # the template's rules
    assert s.maximize == ("sharpe_ratio",) and s.minimize == ("max_drawdown",)
    assert [c.text for c in s.constraints] == ["max_leverage <= 3.0", "max_correlation <= 0.8"]


def test_imports_resolve_relative_to_importing_file(tmp_path, monkeypatch) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "types.hftc.yaml").write_text("hftc: 1\npackage: lib\ntypes:\n  Px: {decimal: int64, exponent: -2}\n")
    (tmp_path / "main.hftc.yaml").write_text(
        "hftc: 1\npackage: app\nimports: [lib/types.hftc.yaml]\nmessages:\n  M: {id: 1, fields: {p: Px}}\n")
    monkeypatch.chdir(tmp_path)
    result = compile_file("main.hftc.yaml")
    assert result.ok, result.diagnostics
    assert result.ir.sources == ("lib/types.hftc.yaml", "main.hftc.yaml")
