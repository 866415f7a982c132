"""Feed roles: declared and inferred roles, field maps, symbol tables and integer quantities.

The role schemas under tests/schemas are a small matrix of what the schema language accepts
(numeric instrument, symbol-keyed or unkeyed feeds; decimal and integer quantities; depth,
trade, snapshot, BBO and execution-report inputs; with and without optional fields). Their
generated C++ engine and components test build under -Wall -Wextra -Wpedantic -Werror in Debug
and Release and pass; their Rust crates pass `cargo clippy -D warnings` and `cargo test`.
"""

from __future__ import annotations

import shutil
import typing
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from hftc.diagnostics.model import has_errors
from hftc.driver.build import generate
from hftc.frontend import compile_file
from hftc.ir.roles import FIELD_KINDS, ROLES
from hftc.ir.serialize import ir_from_json, ir_to_json
from hftc.schema.messages import FieldRole, MessageRole
from test_cpp_components import _run, _write_tree

RUNTIME = REPO / "runtime_cpp"
SCHEMAS = {"roles_symbol_bbo": "roles_bbo", "roles_depth_snapshot": "roles_depth"}  # file -> C++ pkg


def _ir(name: str):
    result = compile_file(str(REPO / "tests" / "schemas" / f"{name}.hftc.yaml"))
    assert result.ok and not result.diagnostics, [str(d) for d in result.diagnostics]
    return result.ir


def _roles(ir) -> dict[str, tuple[str | None, dict[str, str]]]:
    return {m.name: (m.role, dict(m.field_roles)) for m in ir.messages}


def test_schema_literals_follow_the_role_table() -> None:
    assert set(typing.get_args(MessageRole)) == set(ROLES)
    assert set(typing.get_args(FieldRole)) == set(FIELD_KINDS)


def test_conventions_infer_the_examples_roles() -> None:
    roles = _roles(compile_file(str(EXAMPLES / "fx_market_maker.hftc.yaml")).ir)
    assert roles["BookDelta"][0] == "depth_update" and roles["BookDelta"][1]["ts"] == "ts_exchange"
    assert roles["Trade"] == ("trade", {"side": "aggressor", "price": "price", "qty": "qty", "instrument": "instrument",
                                        "seq": "seq", "ts": "ts_exchange"})
    assert roles["Snapshot"][1]["levels"] == "levels"
    assert roles["NewOrder"][0] == "new_order" and roles["NewOrder"][1]["client_order_id"] == "client_order_id"
    assert roles["ExecutionReport"] == ("execution_report", {
        "side": "side", "price": "last_price", "qty": "last_qty", "client_order_id": "client_order_id",
        "ts": "ts_exchange", "orig_client_order_id": "orig_client_order_id", "exec_type": "exec_type",
        "order_status": "order_status", "leaves_qty": "leaves_qty", "cum_qty": "cum_qty", "seq": "seq"})
    assert roles["ReplaceOrder"][1]["orig_client_order_id"] == "orig_client_order_id"
    assert roles["Logon"][1]["credentials"] == "api_key" and roles["Logon"][1]["heartbeat_interval"] == "heartbeat_ms"
    assert roles["OrderReject"][1]["reject_reason"] == "reject_code"


@pytest.mark.parametrize("schema", [EXAMPLES / "fx_market_maker.hftc.yaml",
                                    *sorted((REPO / "schemas" / "venues").glob("*.hftc.yaml"))],
                         ids=lambda p: p.stem)
def test_order_entry_messages_carry_every_session_role_once(schema: Path) -> None:
    from hftc.ir.roles import SESSION_ROLES

    result = compile_file(str(schema))
    assert result.ok and not result.diagnostics, [str(d) for d in result.diagnostics]
    declared = [m.role for m in result.ir.messages if m.role_declared]
    for role in ("new_order", "execution_report", *SESSION_ROLES):
        assert declared.count(role) == 1, f"{schema.name}: {role} declared {declared.count(role)} times"


def _gateway_schema(gateway_extra: str, logon: bool = True) -> str:
    logon_msg = "  Logon: {id: 20, role: logon, fields: {seq: uint64, api_key: Key}}\n" if logon else ""
    return (
        "hftc: 1\npackage: t.creds\nversion: 1\n"
        "types:\n  Price: {decimal: int64, exponent: -2}\n  Side: {enum: uint8, values: {buy: 1, sell: 2}}\n"
        "  Key: {char: 32}\n"
        "messages:\n  Order: {id: 10, fields: {side: Side, price: Price, qty: uint32}}\n" + logon_msg +
        f"components:\n  gateway: {{kind: order_gateway, output: Order{gateway_extra}}}\n")


@pytest.mark.parametrize("extra, expected", [
    (", credentials: {env: VENUE_API_KEY}", ("env", "VENUE_API_KEY")),
    (", credentials: {file: /var/run/secrets/venue/key}", ("file", "/var/run/secrets/venue/key")),
    ("", None),
])
def test_credentials_are_a_reference_in_the_ir(extra: str, expected) -> None:
    from hftc.frontend import compile_text

    result = compile_text("creds.hftc.yaml", _gateway_schema(extra + ", heartbeat_ms: 250"))
    assert not has_errors(result.diagnostics), [str(d) for d in result.diagnostics]
    gateway = result.ir.component_named("gateway")
    assert gateway.credentials == expected and gateway.heartbeat_ms == 250
    assert ir_from_json(ir_to_json(result.ir)) == result.ir


@pytest.mark.parametrize("extra, code, logon", [
    (", credentials: {env: VENUE_KEY, file: /run/key}", "HFT0651", True),  # both
    (", credentials: {}", "HFT0651", True),  # neither
    (", credentials: {file: \"/run/key\\n\"}", "HFT0651", True),  # a line break: not a path
    (", credentials: {file: \" /run/key\"}", "HFT0651", True),  # surrounding blanks
    (", credentials: {env: \"sk-live 123\"}", "HFT0106", True),  # a secret pasted in, not a variable name
    (", credentials: {env: VENUE_KEY}", "HFT0652", False),  # no logon message to carry it
    (", heartbeat_ms: 0", "HFT0104", True),  # out of range
])
def test_bad_credentials_are_diagnostics(extra: str, code: str, logon: bool) -> None:
    from hftc.frontend import compile_text

    result = compile_text("creds.hftc.yaml", _gateway_schema(extra, logon))
    codes = [d.code for d in result.diagnostics if d.severity.value == "error"]
    assert codes == [code], [str(d) for d in result.diagnostics]


def test_declared_roles_and_field_maps_resolve() -> None:
    roles = _roles(_ir("roles_symbol_bbo"))
    assert roles["Quote"] == ("bbo", {"bid_price": "best_bid", "bid_qty": "bid_size", "ask_price": "best_ask",
                                      "ask_qty": "ask_size", "symbol": "symbol"})
    assert roles["Fill"][1] == {"side": "side", "price": "last_px", "qty": "last_shares", "symbol": "symbol"}
    assert roles["Order"][1]["qty"] == "shares" and roles["Order"][1]["client_order_id"] == "cl_id"
    depth = _roles(_ir("roles_depth_snapshot"))
    assert depth["Book"][1] == {"levels": "entries", "side": "side", "price": "price", "qty": "amount",
                                "instrument": "instrument", "seq": "seq"}
    assert depth["Top"][0] == "bbo"  # inferred: bid_px, bid_qty, ask_px, ask_qty


def test_roles_survive_the_ir_json_round_trip() -> None:
    ir = _ir("roles_symbol_bbo")
    back = ir_from_json(ir_to_json(ir))
    assert back == ir
    assert back.component_named("feed").instruments == ("AAPL", "MSFT")


def test_symbol_table_and_integer_quantities_in_the_generated_code() -> None:
    report = generate(_ir("roles_symbol_bbo"), ["cpp", "rust"], "unused")
    assert not has_errors(report.diagnostics), [str(d) for d in report.diagnostics]
    cpp, rust = (out.files for out in report.outputs)
    header = cpp["include/roles_bbo/components.hpp"].decode()
    assert 'inline constexpr std::array<std::string_view, 2> kFeedSymbols = {\n    "AAPL",\n    "MSFT",\n};' in header
    assert "requires std::is_integral_v<I>" in header  # exact integer <-> lots
    assert "hft::trading::book_reset(inst, seq, ts)" in header and "fill_msg(inst, side, px, qty, ts)" in header
    engine = cpp["src/engine_main.cpp"].decode()
    assert "msg.symbol(components::kFeedSymbols[instrument]);" in engine
    assert "roles_bbo_engine" in cpp["CMakeLists.txt"].decode()
    components = rust["src/components.rs"].decode()
    assert 'pub const FEED_SYMBOLS: [&[u8]; 2] = [b"AAPL", b"MSFT"];' in components
    assert "impl ExactDecimal for WholeUnits" in components


def test_engine_without_instrument_key_marks_the_parameter_unused() -> None:
    """The engine's synthetic market keeps an instrument index even when no field carries it."""
    report = generate(_ir("roles_depth_snapshot"), ["cpp"], "unused")
    engine = report.outputs[0].files["src/engine_main.cpp"].decode()
    assert "[[maybe_unused]] std::uint32_t instrument" in engine
    with_key = generate(_ir("roles_symbol_bbo"), ["cpp"], "unused").outputs[0].files["src/engine_main.cpp"].decode()
    assert "[[maybe_unused]]" not in with_key


# ------------------------------------------------------------------------- generated builds


def _need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not installed")


@pytest.mark.parametrize("build_type", ["Debug", "Release"])
@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_engine_and_components_build_warning_free_and_pass(schema: str, build_type: str,
                                                                    cache_dir: Path) -> None:
    _need("cmake", "ninja", "g++")
    pkg = SCHEMAS[schema]
    report = generate(_ir(schema), ["cpp"], "unused")
    assert not report.diagnostics, [str(d) for d in report.diagnostics]
    root = cache_dir / "feed_roles" / schema
    _write_tree(root / "src", report.outputs[0].files)
    build = root / build_type.lower()
    if not (build / "CMakeCache.txt").exists():
        _run(["cmake", "-G", "Ninja", "-S", str(root / "src"), "-B", str(build), "-DCMAKE_CXX_COMPILER=g++",
              f"-DCMAKE_BUILD_TYPE={build_type}", f"-DHFTC_RUNTIME_DIR={RUNTIME}", "-DHFTC_BUILD_BENCH=OFF"])
    _run(["nice", "ninja", "-j", "2", "-C", str(build), f"{pkg}_engine", f"{pkg}_components_test"], timeout=900)
    tests = _run([str(build / f"{pkg}_components_test")], timeout=300)
    assert "[  PASSED  ]" in tests.stdout and "FAILED" not in tests.stdout, tests.stdout[-3000:]
    engine = _run([str(build / f"{pkg}_engine"), "--duration-s", "0.5", "--inline", "--no-pin", "--rate-hz", "20000",
                   "--fill-ratio", "0.5"], timeout=60)
    assert f"{pkg}_engine:" in engine.stderr and " 0 messages" not in engine.stderr, engine.stderr


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_rust_crate_lints_and_tests(schema: str, cache_dir: Path) -> None:
    from test_rust_backend import cargo, need_cargo, write_crate

    need_cargo()
    crate = write_crate(_ir(schema), cache_dir / "rust-generated" / schema)
    clippy = cargo(["clippy", "--all-targets", "--", "-D", "warnings"], crate, cache_dir)
    assert clippy.returncode == 0, clippy.stderr[-4000:]
    test = cargo(["test"], crate, cache_dir)
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]
    assert "bbo_resets_the_book_to_its_top_levels ... ok" in test.stdout


def test_symbol_keyed_bbo_pipeline_from_python(cache_dir: Path) -> None:
    """The python-ext pipeline of the symbol-keyed schema: BBOs by symbol in, integer share
    orders naming their symbol out; 300 shares are 3 lots of 100, 250 are off the grid, unknown
    symbols are dropped."""
    import subprocess
    import textwrap

    from hftc.backends.python_ext.venv import ensure

    _need("g++", "cmake")
    ext = ensure(_ir("roles_symbol_bbo"), cache_dir)
    code = textwrap.dedent("""
        import roles_bbo_ext as x
        def quote(sym, bid, ask, size=300):  # prices in 1e-4 dollars
            return x.encode_quote(symbol=sym, best_bid=bid, bid_size=size, best_ask=ask, ask_size=size)
        p = x.MainPipeline()
        orders = [x.decode_order(o) for o in p.process(quote("MSFT", 3_000_000, 3_001_000) +
                                                       quote("AAPL", 1_000_000, 1_001_000))]
        # AAPL (instrument 0) mid 100.05: quotes 100.04 / 100.06, one lot of 100 shares each
        assert [(o["side"], o["price"], o["shares"], o["symbol"]) for o in orders] == [
            (x.Side.buy, 1_000_400, 100, "AAPL"), (x.Side.sell, 1_000_600, 100, "AAPL")], orders
        assert p.best_bid() == (10_000, 3) and p.best_ask() == (10_010, 3)  # ticks of 0.01, lots of 100
        assert p.stats["published"] == 6 and p.stats["strategy_calls"] == 2
        assert p.process(quote("IBM", 1_000_000, 1_001_000)) == [] and p.stats["unknown_instrument"] == 1
        assert p.process(quote("AAPL", 1_000_000, 1_001_000, size=250)) == [] and p.stats["off_grid"] == 1
    """)
    proc = subprocess.run([str(ext.python), "-c", code], env=ext.env(), capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("schema", SCHEMAS)
def test_editor_schema_accepts_roles_and_symbol_tables(schema: str) -> None:
    import json

    import jsonschema
    from hftc.editor_schema import editor_json_schema_text
    from hftc.loader.yaml_nodes import load_yaml_text

    path = REPO / "tests" / "schemas" / f"{schema}.hftc.yaml"
    doc, diags = load_yaml_text(str(path), path.read_text(encoding="utf-8"))
    assert not diags
    validator = jsonschema.Draft202012Validator(json.loads(editor_json_schema_text()))
    validator.validate(doc.value)
    doc.value["messages"][next(iter(doc.value["messages"]))]["role"] = "best_bid_offer"
    assert list(validator.iter_errors(doc.value)), "an unknown role must not validate"


def test_symbol_table_must_cover_the_strategys_instruments_in_order() -> None:
    from hftc.frontend import compile_text

    text = (REPO / "tests" / "schemas" / "roles_symbol_bbo.hftc.yaml").read_text(encoding="utf-8")
    table = "instruments: [AAPL, MSFT]}"
    swapped = compile_text("swapped.hftc.yaml", text.replace(table, "instruments: [MSFT, AAPL]}"))
    assert [(d.code, d.severity.value) for d in swapped.diagnostics] == [("HFT0650", "warning")]
    assert "instrument i is the feed's i-th symbol" in swapped.diagnostics[0].message
    short = compile_text("short.hftc.yaml", text.replace(table, "instruments: [AAPL]}"))
    assert [(d.code, d.severity.value) for d in short.diagnostics] == [("HFT0650", "error")]
    assert "trades 2 instruments but feed handler `feed` lists 1 symbol" in short.diagnostics[0].message
