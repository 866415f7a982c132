"""`hftc import sbe`: the command line of the SBE importer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

import_app = typer.Typer(help="Convert schemas of other tools into hftc schemas.", no_args_is_help=True)


@import_app.command("sbe")
def import_sbe_cmd(
    schema: Path = typer.Argument(..., help="SBE XML message schema (FIX SBE 1.0 or the RC forms; xi:include is followed)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the hftc schema here (default: stdout)."),
) -> None:
    """Convert an SBE XML message schema into an hftc schema with the same wire layout."""
    from hftc.diagnostics.model import has_errors
    from hftc.diagnostics.render import render_all
    from hftc.fileio import write_atomically
    from hftc.frontend.compile import compile_text
    from hftc.sbe.importer import import_sbe

    result = import_sbe(schema)
    if result.diagnostics:
        print(render_all(result.diagnostics, "text", result.lookup), file=sys.stderr)
    if not result.ok:
        raise typer.Exit(1)
    # The output must compile: a failure here is a defect of the importer, reported, never written.
    name = str(output) if output else f"{schema.stem}.hftc.yaml"
    check = compile_text(name, result.yaml)
    if not check.ok or has_errors(check.diagnostics):
        print(render_all(check.diagnostics, "text", lambda f: result.yaml if f == name else None), file=sys.stderr)
        raise typer.Exit(1)
    if output is None:
        sys.stdout.write(result.yaml)
    else:
        write_atomically(output, result.yaml.encode())
        print(f"wrote {output}", file=sys.stderr)


export_app = typer.Typer(help="Convert hftc schemas into other tools' formats.", no_args_is_help=True)


@export_app.command("sbe")
def export_sbe_cmd(
    schema: Path = typer.Argument(..., help="hftc schema."),
    output: Path = typer.Option(..., "-o", "--output", help="SBE XML file to write."),
) -> None:
    """Write the schema's types and messages as an SBE XML message schema."""
    from hftc.diagnostics.model import has_errors
    from hftc.diagnostics.render import render_all
    from hftc.fileio import write_atomically
    from hftc.frontend.compile import compile_file
    from hftc.sbe.exporter import export_sbe

    compiled = compile_file(str(schema))
    if not compiled.ok or has_errors(compiled.diagnostics):
        print(render_all(compiled.diagnostics, "text", compiled.sources.lookup), file=sys.stderr)
        raise typer.Exit(1)
    result = export_sbe(compiled.ir)
    if result.diagnostics:
        print(render_all(result.diagnostics, "text", compiled.sources.lookup), file=sys.stderr)
    if not result.xml:
        raise typer.Exit(1)
    write_atomically(output, result.xml.encode())
    print(f"wrote {output}", file=sys.stderr)
