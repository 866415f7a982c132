"""The `hftc` command line. Heavy modules are imported inside commands so that
`hftc --help` and `hftc --version` start fast."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from hftc import __version__

app = typer.Typer(
    name="hftc",
    help="Compile a trading-system schema (YAML) to C++, Rust and Python code, deployment files and monitoring.",
    add_completion=True,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


class ErrorFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def _emit(diagnostics, fmt: ErrorFormat, lookup) -> None:
    from hftc.diagnostics.color import wants_color
    from hftc.diagnostics.render import render_all

    if not diagnostics:
        return
    stream = sys.stderr if fmt is ErrorFormat.text else sys.stdout
    text = render_all(diagnostics, fmt.value, lookup, color=wants_color(stream))
    print(text, file=stream)


def _version_callback(value: bool) -> None:
    if value:
        print(f"hftc {__version__}")
        raise typer.Exit(0)


class ColorMode(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
    color: ColorMode = typer.Option(ColorMode.auto, "--color", help="Colour diagnostics: auto (on a terminal, "
                                    "unless NO_COLOR is set; FORCE_COLOR forces it), always or never."),
) -> None:
    """hftc: schema in, trading system out."""
    from hftc.diagnostics.color import set_mode

    set_mode(color.value)


def _import_path_option():
    return typer.Option(None, "--import-path", metavar="DIR", help="Another folder imports may come from "
                        "(repeatable); by default only the schema's own folder tree.")


def _compile(schema: Path, fmt: ErrorFormat, import_path: Optional[List[Path]] = None):
    from hftc.diagnostics.model import has_errors
    from hftc.frontend import compile_file

    result = compile_file(str(schema), [str(p) for p in import_path or []])
    _emit(result.diagnostics, fmt, result.sources.lookup)
    if not result.ok or has_errors(result.diagnostics):
        raise typer.Exit(1)
    return result


@app.command()
def build(
    schema: Path = typer.Argument(..., help="Schema file."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output folder (default: ./hftc-out/<package>)."),
    target: Optional[List[str]] = typer.Option(None, "--target", "-t", help="Backend to run; repeat for several (default: docs)."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the output on disk is stale."),
    vectors: Optional[Path] = typer.Option(None, "--vectors", help="Also write cross-language test vectors (JSON) to this file."),
    seed: int = typer.Option(20240808, "--seed", help="Seed of the vectors' random values (recorded in the file)."),
    params: Optional[Path] = typer.Option(None, "--params", help="Parameter overlay (YAML, e.g. best_params.yaml of hftc optimize): new strategy parameter defaults."),
    error_format: ErrorFormat = typer.Option(ErrorFormat.text, "--error-format", help="Diagnostics as text, json or github."),
    import_path: Optional[List[Path]] = _import_path_option(),
) -> None:
    """Generate code and configuration from SCHEMA."""
    from hftc.diagnostics.model import has_errors
    from hftc.driver.build import DEFAULT_TARGETS, build as run_build, default_output_dir

    result = _compile(schema, error_format, import_path)
    if params is not None:
        from hftc.params_overlay import apply_overlay, load_overlay

        overlay, diags = load_overlay(str(params), result.sources)
        if overlay is not None:
            result.ir, applied = apply_overlay(result.ir, overlay)
            diags = diags + applied
        _emit(diags, error_format, result.sources.lookup)
        if overlay is None or has_errors(diags):
            raise typer.Exit(1)
    out_dir = str(output) if output else default_output_dir(result.ir)
    targets = list(dict.fromkeys(target or DEFAULT_TARGETS))
    report = run_build(result.ir, targets, out_dir, check=check)
    _emit(report.diagnostics, error_format, result.sources.lookup)
    if any(d.code == "HFT0801" for d in report.diagnostics):
        raise typer.Exit(2)
    if has_errors(report.diagnostics):
        raise typer.Exit(1)
    if vectors is not None and not check:
        from hftc.fileio import write_atomically
        from hftc.vectors import vectors_json

        write_atomically(vectors, vectors_json(result.ir, seed).encode("utf-8"))
        if error_format is ErrorFormat.text:
            print(f"wrote vectors {vectors}", file=sys.stderr)
    if error_format is ErrorFormat.text:
        verb = "up to date" if check else "wrote"
        for out in report.outputs:
            print(f"{verb} {out.directory} ({len(out.files)} files)", file=sys.stderr)


@app.command()
def lint(
    schemas: List[Path] = typer.Argument(..., help="Schema files; `-` reads one from standard input."),
    error_format: ErrorFormat = typer.Option(ErrorFormat.text, "--error-format", help="Diagnostics as text, json or github."),
    deny_warnings: bool = typer.Option(False, "--deny-warnings", help="Exit 1 on warnings too."),
    import_path: Optional[List[Path]] = _import_path_option(),
    stdin_filename: Optional[Path] = typer.Option(None, "--stdin-filename", metavar="PATH", help="With `-`: the "
                                                  "file name in diagnostics, and where relative imports resolve from."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Lint afresh: neither read nor store cached results "
                                  "(kept for unchanged files; not with --color or standard input)."),
) -> None:
    """Check schemas and report every problem, those of every build target included; write nothing."""
    from hftc.diagnostics.model import Severity, has_errors
    from hftc.driver.lint import lint_file, lint_stdin

    if stdin_filename is not None and all(str(s) != "-" for s in schemas):
        print("error: --stdin-filename names the schema read from `-`; pass `-` among the schemas", file=sys.stderr)
        raise typer.Exit(2)
    failed = False
    for schema in schemas:
        roots = [str(p) for p in import_path or []]
        if str(schema) == "-":
            result = lint_stdin(str(stdin_filename) if stdin_filename else None, roots)
        else:
            result = lint_file(str(schema), roots)
        _emit(result.diagnostics, error_format, result.sources.lookup)
        warned = any(d.severity is Severity.WARNING for d in result.diagnostics)
        failed |= (not result.ok) or has_errors(result.diagnostics) or (deny_warnings and warned)
    raise typer.Exit(1 if failed else 0)


class LintServerAction(str, Enum):
    status = "status"
    stop = "stop"


@app.command("lint-server")
def lint_server(action: LintServerAction = typer.Argument(LintServerAction.status, help="status or stop.")) -> None:
    """The background process that answers `hftc lint` warm: whether it runs, or stop it."""
    from hftc.lintserver.control import status_text, stop_text

    text, code = (status_text if action is LintServerAction.status else stop_text)()
    print(text)
    raise typer.Exit(code)


@app.command("format")
def format_cmd(
    files: List[Path] = typer.Argument(..., help="Schema files, rewritten in place."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when a file would change."),
    error_format: ErrorFormat = typer.Option(ErrorFormat.text, "--error-format", help="Diagnostics as text, json or github."),
) -> None:
    """Lay schemas out canonically, comments kept (the language server formats the same way)."""
    from hftc.driver.schema_format import format_files

    raise typer.Exit(format_files([str(f) for f in files], check, lambda d, texts: _emit(d, error_format, texts.get)))


@app.command()
def lsp() -> None:
    """Run the language server on stdin/stdout (diagnostics, hover, completion, definitions, formatting)."""
    from hftc.lsp.server import serve

    serve()


@app.command()
def ir(
    schema: Optional[Path] = typer.Argument(None, help="Schema file."),
    json_schema: bool = typer.Option(False, "--json-schema", help="Print the JSON Schema of the IR instead."),
    error_format: ErrorFormat = typer.Option(ErrorFormat.text, "--error-format"),
    import_path: Optional[List[Path]] = _import_path_option(),
) -> None:
    """Print the compiled IR of SCHEMA as JSON."""
    if json_schema:
        from hftc.editor_schema import ir_json_schema_text

        sys.stdout.write(ir_json_schema_text())
        return
    from hftc.ir.serialize import ir_to_json

    if schema is None:
        print("error: give a SCHEMA file (or --json-schema)", file=sys.stderr)
        raise typer.Exit(2)
    result = _compile(schema, error_format, import_path)
    sys.stdout.write(ir_to_json(result.ir))


@app.command("schema")
def schema_cmd(
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout."),
) -> None:
    """Print the JSON Schema editors use for schema files."""
    from hftc.editor_schema import editor_json_schema_text

    text = editor_json_schema_text()
    if output:
        from hftc.fileio import write_atomically

        write_atomically(output, text.encode("utf-8"))
    else:
        sys.stdout.write(text)


@app.command()
def explain(
    code: Optional[str] = typer.Argument(None, help="A diagnostic code, e.g. HFT0402."),
    list_codes: bool = typer.Option(False, "--list", help="List every diagnostic code with its title."),
) -> None:
    """Explain a diagnostic code, or list them all."""
    from hftc.diagnostics.codes import CODES, explain as lookup

    if list_codes:
        for info in sorted(CODES.values(), key=lambda c: c.code):
            print(f"{info.code}  {info.title}")
        return
    if code is None:
        print("error: give a diagnostic code (e.g. HFT0402) or --list", file=sys.stderr)
        raise typer.Exit(2)
    info = lookup(code)
    if info is None:
        from hftc.diagnostics.model import did_you_mean

        hint = did_you_mean(code.upper(), CODES)
        print(f"error: unknown diagnostic code `{code}`" + (f"; {hint}" if hint else ""), file=sys.stderr)
        raise typer.Exit(2)
    print(f"{info.code}: {info.title}\n\n{info.explanation}")


@app.command()
def init(
    name: str = typer.Argument(..., help="Package name, e.g. desk.mm (also the file name)."),
    directory: Path = typer.Option(Path("."), "--dir", help="Folder to write into."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter schema NAME.hftc.yaml that lints clean and builds."""
    from hftc.starter import package_name, starter_schema

    package = package_name(name)
    if package is None:
        print(f"error: `{name}` cannot be a package name (use letters, digits, _ and .)", file=sys.stderr)
        raise typer.Exit(2)
    path = directory / f"{package.replace('.', '_')}.hftc.yaml"
    if path.exists() and not force:
        print(f"error: {path} exists; pass --force to overwrite", file=sys.stderr)
        raise typer.Exit(1)
    from hftc.fileio import write_atomically

    write_atomically(path, starter_schema(package).encode("utf-8"))
    print(f"wrote {path}", file=sys.stderr)


class BenchLang(str, Enum):
    cpp = "cpp"
    rust = "rust"
    all = "all"


@app.command()
def bench(
    schema: Path = typer.Argument(..., help="Schema file."),
    lang: BenchLang = typer.Option(BenchLang.cpp, "--lang", help="cpp, rust, or all (side by side)."),
    json_output: bool = typer.Option(False, "--json", help="Print {\"results\": [...]} for machines."),
    only: Optional[str] = typer.Option(None, "--only", help="Run only these benchmark programs (comma-separated): "
                                       "bench_ring, bench_book_hist, bench_tick_to_order, bench_backtest, "
                                       "bench_codecs, bench_pipeline (C++); ring_bench, book_bench, bench (Rust)."),
    quick: bool = typer.Option(False, "--quick", help="Fewer repetitions where a program supports it "
                               "(bench_ring, bench_tick_to_order, bench_pipeline, ring_bench): a smoke run, not a measurement."),
) -> None:
    """Build and run the benchmarks (-O3 -march=native) and compare with targets and baselines."""
    import json as json_module

    from hftc.bench.runner import PROGRAMS, Selection, run_benchmarks

    picked = None
    if only is not None:
        picked = frozenset(name.strip() for name in only.split(",") if name.strip())
        unknown = sorted(picked - set(PROGRAMS))
        if unknown or not picked:
            print(f"error: --only: unknown benchmark {', '.join(unknown) or '(none given)'}; "
                  f"known: {', '.join(PROGRAMS)}", file=sys.stderr)
            raise typer.Exit(2)
    result = _compile(schema, ErrorFormat.text)
    langs = ["cpp", "rust"] if lang is BenchLang.all else [lang.value]
    progress = (lambda msg: None) if json_output else (lambda msg: print(f"· {msg}", file=sys.stderr))
    results, problems = run_benchmarks(result.ir, langs, progress, pick=Selection(picked, quick))
    if json_output:
        for problem in problems:  # the JSON carries them too; say them where a person looks
            print(f"note: {problem}", file=sys.stderr)
        from hftc.bench.compare import rust_vs_cpp

        print(json_module.dumps({"results": [r.to_json() for r in results],
                                 "rust_vs_cpp": [p.to_json() for p in rust_vs_cpp(results)],
                                 "problems": problems}, indent=2))
    else:
        from hftc.bench.table import render

        render(results, problems)
    if not results:
        raise typer.Exit(1)


@app.command()
def deploy(
    schema: Path = typer.Argument(..., help="Schema file to add the deployment to."),
    prompt: str = typer.Option(..., "--prompt", "-p", help="The request in plain words; `-` reads it from stdin."),
    name: Optional[str] = typer.Option(None, "--name", help="Entry name (default: from the component and environment)."),
    write: bool = typer.Option(False, "--write", help="Write the entry into SCHEMA (after it compiles clean)."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Write or apply even if parts of the request were not understood."),
    apply: bool = typer.Option(False, "--apply", help="Build the k8s target and submit it to the cluster of your kubeconfig."),
    dry_run: bool = typer.Option(True, "--dry-run/--no-dry-run", help="With --apply: server-side dry run (default), or really apply."),
    kubeconfig: Optional[Path] = typer.Option(None, "--kubeconfig", help="Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)."),
    context: Optional[str] = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
    provider: Optional[str] = typer.Option(None, "--provider", help="Have a model read the request (openai, anthropic, google or a custom name; default: the AI config, else the rule parser)."),
    offline: bool = typer.Option(False, "--offline", help="With a model configured: use only its reply cache, else the rule parser."),
    error_format: ErrorFormat = typer.Option(ErrorFormat.text, "--error-format", help="Diagnostics as text, json or github."),
) -> None:
    """Turn a deployment request in plain words into a `deployments:` entry: show the diff, write it, apply it."""
    from hftc.ai.cli import model_deployment
    from hftc.deploy import DeploymentConfig
    from hftc.deploy.schema_edit import SchemaEditError, edit_schema_text, existing_entry, unified_diff, write_validated

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    try:
        old_text = schema.read_text(encoding="utf-8")
    except OSError as exc:
        say(f"error: cannot read {schema}: {exc.strerror or exc}")
        raise typer.Exit(1)
    request = sys.stdin.read() if prompt == "-" else prompt
    lines = request.splitlines()
    config = model_deployment(request, schema, old_text, name, provider, offline, error_format.value) \
        or DeploymentConfig.from_prompt(request, name=name)
    try:
        existing = existing_entry(old_text, config.name)
        if existing is not None:
            config = config.merged_onto(existing)
        new_text = edit_schema_text(old_text, config.name, config.to_dict())
    except SchemaEditError as exc:
        say(f"error: cannot edit {schema}: {exc}")
        raise typer.Exit(1)
    except Exception as exc:  # ruamel.yaml parse errors: `hftc lint` shows them with positions
        say(f"error: cannot edit {schema}: {type(exc).__name__}: {exc}; run `hftc lint {schema}`")
        raise typer.Exit(1)

    for item in config.unrecognized:
        where = f"line {item.line}" if item.line else "request"
        say(f"warning: {where}: {item.reason}")
        if 0 < item.line <= len(lines):
            say(f"  {item.line:>3} | {item.text.rstrip()}")  # clipped by the parser
    for note in config.assumptions:
        say(f"note: {note}")
    if config.missing:
        say("warning: the request does not say " + ", ".join(f"`{m}`" for m in config.missing)
            + f"; entry `{config.name}` is incomplete")

    diff = unified_diff(old_text, new_text, str(schema))
    if not diff:
        say(f"no change: {schema} already holds this entry `{config.name}`")
    elif sys.stdout.isatty():
        from rich.console import Console
        from rich.text import Text

        from hftc.diagnostics.color import rich_options

        console = Console(highlight=False, soft_wrap=True, **rich_options())  # soft wrap: long lines stay whole
        for line in diff.splitlines():
            style = ("bold" if line.startswith(("---", "+++")) else "cyan" if line.startswith("@@")
                     else "green" if line.startswith("+") else "red" if line.startswith("-") else "")
            console.print(Text(line, style=style))
    else:
        sys.stdout.write(diff)

    if not (write or apply):
        return
    if config.unrecognized and not allow_partial:
        say(f"error: {len(config.unrecognized)} part(s) of the request were not understood; nothing was "
            "written or applied (rephrase them, or pass --allow-partial)")
        raise typer.Exit(1)
    if config.missing:
        say("error: the entry is incomplete; say " + ", ".join(f"`{m}`" for m in config.missing) + " in the request")
        raise typer.Exit(1)
    if write and diff:
        outcome = write_validated(str(schema), new_text)
        _emit(outcome.diagnostics, error_format, outcome.sources.lookup)
        if not outcome.written:
            say(f"error: the edited schema does not compile; {schema} is unchanged")
            raise typer.Exit(1)
        say(f"wrote deployment `{config.name}` to {schema}")
    if not apply:
        return
    if not dry_run and not write:
        say("error: --no-dry-run applies what the schema file says; add --write so the file and the cluster agree")
        raise typer.Exit(1)

    from hftc.deploy.apply import ApplyError, apply_manifests, build_manifests, connect
    from hftc.diagnostics.model import has_errors
    from hftc.frontend.compile import compile_text

    compiled = compile_text(str(schema), new_text)
    _emit(compiled.diagnostics, error_format, compiled.sources.lookup)
    if not compiled.ok or has_errors(compiled.diagnostics):
        say("error: the edited schema does not compile; nothing was applied")
        raise typer.Exit(1)
    try:
        objects, diagnostics = build_manifests(compiled.ir, config.name)
        _emit(diagnostics, error_format, compiled.sources.lookup)
        client = connect(str(kubeconfig) if kubeconfig else None, context)
    except ApplyError as exc:
        _emit(exc.diagnostics, error_format, compiled.sources.lookup)
        say(f"error: {exc}")
        raise typer.Exit(1)
    report = apply_manifests(objects, client, dry_run=dry_run)
    for r in report.results:
        say(f"{r.status:9} {r.ref}" + (f": {r.message}" if r.message else ""))
    counts = {s: sum(r.status == s for r in report.results) for s in ("applied", "valid", "unchecked", "failed")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if dry_run:
        say(f"server-side dry run of {len(report.results)} objects: {summary}; nothing was changed "
            "(--no-dry-run applies)")
    else:
        say(f"applied {len(report.results)} objects: {summary}")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def monitor(
    schema: Path = typer.Argument(..., help="Schema file (its `monitoring:` section gives the interval and alerts)."),
    source: str = typer.Argument(..., help="Metrics source: an http(s) URL of a Prometheus-text endpoint, or shm:NAME."),
    once: bool = typer.Option(False, "--once", help="Take one snapshot and exit."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON (one snapshot with --once, else one line per refresh)."),
    interval: int | None = typer.Option(None, "--interval", min=10, help="Refresh interval, ms (default: the schema's monitoring.interval_ms)."),
    count: int | None = typer.Option(None, "--count", min=1, help="Stop after this many refreshes (default: run until interrupted)."),
) -> None:
    """Watch a running engine: latency percentiles, throughput, alert states and a p99 sparkline
    (plain timestamped lines when stdout is not a terminal)."""
    from hftc.monitor.alerts import rules_from_schema
    from hftc.monitor.sources import SourceError, normalise
    from hftc.monitor.view import run

    result = _compile(schema, ErrorFormat.text)
    monitoring = result.ir.monitoring
    try:
        spec = normalise(source)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(2)
    rules, unsupported = rules_from_schema(monitoring)
    if not json_output:
        for item in unsupported:
            print(f"note: alert `{item.name}` ({item.expr}) is not evaluated here: {item.reason}", file=sys.stderr)
    interval_ms = interval if interval is not None else (monitoring.interval_ms if monitoring else 1000)
    code = run(spec, rules, unsupported, interval_ms / 1000.0, result.ir.package, once, json_output, count)
    if code:
        raise typer.Exit(code)


@app.command()
def targets() -> None:
    """List the known build targets."""
    from hftc.driver.registry import known_targets, load_backend

    for name in known_targets():
        try:
            description = getattr(load_backend(name), "description", "")
        except Exception as exc:  # a broken plug-in must not hide the others
            description = f"(cannot be loaded: {type(exc).__name__}: {exc})"
        print(f"{name:12} {description}")


from hftc.backtest.cli import backtest_cmd  # noqa: E402  (imports only typer)

app.command("backtest")(backtest_cmd)


from hftc.venue.cli import venue_cmd  # noqa: E402  (imports only typer)

app.command("venue")(venue_cmd)


from hftc.optimize.cli import optimize as optimize_cmd  # noqa: E402  (imports only typer)

app.command("optimize")(optimize_cmd)


from hftc.data.cli import data_app  # noqa: E402  (imports only typer)

from hftc.ai.cli import new_cmd  # noqa: E402  (imports only typer)

app.command("new")(new_cmd)

from hftc.ai.strategy_cli import strategy_app  # noqa: E402  (imports only typer)

app.add_typer(strategy_app, name="strategy")

from hftc.ai.orchestrator.cli import auto_cmd  # noqa: E402  (imports only typer)

app.command("auto")(auto_cmd)

app.add_typer(data_app, name="data")

from hftc.evolution.cli import breaking_cmd  # noqa: E402  (imports only typer)

app.command("breaking")(breaking_cmd)

from hftc.ai.knowledge.cli import learn_app  # noqa: E402  (imports only typer)

app.add_typer(learn_app, name="learn")

from hftc.sbe.cli import export_app, import_app  # noqa: E402  (imports only typer)

app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

from hftc.audit.cli import audit_cmd  # noqa: E402  (imports only typer)

app.command("audit")(audit_cmd)


def main() -> None:
    # pydantic scans every installed distribution for plugins at import; hftc uses none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug in hftc itself: report it briefly, never dump a traceback
        if os.environ.get("HFTC_DEBUG"):
            raise
        _report_internal_error(exc)
        sys.exit(3)


def _requested_error_format(argv: list[str]) -> str:
    """The --error-format of the command line, read directly: the parsed value is lost with the exception."""
    for i, arg in enumerate(argv):
        if arg == "--error-format" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--error-format="):
            return arg.split("=", 1)[1]
    return "text"


def _report_internal_error(exc: Exception) -> None:
    """HFT0000 in the format the caller asked for (a JSON consumer must still get JSON), briefly."""
    from hftc.diagnostics.model import error
    from hftc.diagnostics.render import render_all

    fmt = _requested_error_format(sys.argv)
    detail = str(exc)
    detail = detail if len(detail) <= 300 else detail[:300] + "..."
    help_text = "this is a bug in hftc; rerun with HFTC_DEBUG=1 for the traceback and report it"
    if fmt in ("json", "github"):
        diag = error("HFT0000", f"internal compiler error: {type(exc).__name__}: {detail}", None, help=help_text)
        print(render_all([diag], fmt, {}), file=sys.stdout)
        return
    print(f"error[HFT0000]: internal compiler error: {type(exc).__name__}: {detail}\n  = help: {help_text}",
          file=sys.stderr)
