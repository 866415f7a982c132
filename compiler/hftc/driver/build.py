"""`hftc build`: generate every requested target and write it, or check it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hftc import __version__
from hftc.diagnostics.model import Diagnostic, error, has_errors
from hftc.driver.checks import backend_diagnostics, check_targets  # noqa: F401 (callers import them from here)
from hftc.driver.format import FormatError, format_text
from hftc.driver.registry import known_targets, load_backend
from hftc.driver.write import MANIFEST, manifest_for, stale_files, write_trees
from hftc.ir.backend import BackendOptions
from hftc.ir.model import Schema
from hftc.transaction import recover

DEFAULT_TARGETS = ("docs",)


@dataclass
class TargetOutput:
    target: str
    directory: str
    files: dict[str, bytes] = field(default_factory=dict)
    executables: set[str] = field(default_factory=set)


@dataclass
class BuildReport:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    outputs: list[TargetOutput] = field(default_factory=list)
    stale: dict[str, list[str]] = field(default_factory=dict)


def default_output_dir(ir: Schema) -> str:
    return os.path.join("hftc-out", ir.package_snake)


def generate(ir: Schema, targets: list[str], out_dir: str, options: dict | None = None) -> BuildReport:
    """Run backends and formatters in memory; nothing is written."""
    report = BuildReport()
    for target in targets:
        backend = load_backend(target)
        if backend is None:
            report.diagnostics.append(error("HFT0801", f"unknown target `{target}`", None,
                                            help="known targets: " + ", ".join(known_targets())))
            continue
        if ir.ir_version not in backend.ir_versions:
            report.diagnostics.append(error("HFT0803", f"backend `{target}` supports IR versions "
                                            f"{list(backend.ir_versions)}, not {ir.ir_version}", None))
            continue
        try:
            result = backend.generate(ir, BackendOptions(extra=dict(options or {})))
        except Exception as exc:  # a backend bug must surface as a diagnostic, not a traceback
            report.diagnostics.append(error("HFT0802", f"backend `{target}` failed: {type(exc).__name__}: {exc}", None))
            continue
        report.diagnostics.extend(result.diagnostics)
        out = TargetOutput(target, os.path.join(out_dir, target))
        for gen in result.files:
            try:
                text = format_text(gen.formatter, gen.path, gen.content)
            except FormatError as exc:
                report.diagnostics.append(error(exc.code, str(exc), None))
                continue
            out.files[gen.path] = text.encode("utf-8")
            if gen.executable:
                out.executables.add(gen.path)
        meta = {"generator": f"hftc {__version__}", "target": target, "package": ir.package,
                "schema_version": ir.version, "ir_version": ir.ir_version}
        out.files[MANIFEST] = manifest_for(out.files, meta)
        report.outputs.append(out)
    return report


def build(ir: Schema, targets: list[str], out_dir: str, check: bool = False, options: dict | None = None) -> BuildReport:
    report = generate(ir, targets, out_dir, options)
    if has_errors(report.diagnostics):
        return report  # write nothing when anything failed
    try:
        recover(out_dir)  # finish (or undo) a killed build first, so --check compares what readers see
    except OSError as exc:
        report.diagnostics.append(error("HFT0805", f"cannot finish an interrupted build in {out_dir}: "
                                        f"{exc.strerror or exc}", None))
        return report
    for out in report.outputs:
        if check:
            stale = stale_files(out.directory, out.files)
            if stale:
                report.stale[out.target] = stale
                report.diagnostics.append(error("HFT0804", f"output of `{out.target}` in {out.directory} is stale "
                                                f"({len(stale)} file{'s' if len(stale) != 1 else ''} differ)", None,
                                                notes=tuple(stale[:10]), help="run `hftc build` to refresh it"))
    if check or not report.outputs:
        return report
    try:  # every target or none: a multi-target build never leaves a mix of old and new
        write_trees(out_dir, {os.path.basename(out.directory): (out.files, out.executables) for out in report.outputs})
    except OSError as exc:
        report.diagnostics.append(error("HFT0805", f"cannot write {out_dir}: {exc.strerror or exc}", None))
    return report
