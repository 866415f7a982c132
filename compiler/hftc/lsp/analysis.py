"""One open document's compiled state: the front end and passes on every edit, the targets' checks after.

The front end (YAML, validation, lowering, every pass) is what an edit needs at once; the build targets'
checks render templates and take longer, so they run in a worker thread afterwards and are published
with the rest when they finish, unless a newer edit superseded them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from hftc.diagnostics.model import Diagnostic
from hftc.frontend.compile import CompileResult
from hftc.ir.model import Schema
from hftc.loader.yaml_nodes import LoadedYaml


def uri_to_path(uri: str) -> str:
    parsed = urlparse(uri)
    return os.path.abspath(unquote(parsed.path)) if parsed.scheme == "file" else uri


def path_to_uri(path: str) -> str:
    from pathlib import Path

    return Path(os.path.abspath(path)).as_uri()


@dataclass
class Analysis:
    """What the compiler said about one version of a document."""

    uri: str
    file: str  # the absolute path spans use
    version: int | None
    text: str
    result: CompileResult
    front_end_ms: float
    targets: list[Diagnostic] | None = None  # None until the target checks ran
    targets_ms: float = 0.0

    @property
    def doc(self) -> LoadedYaml | None:
        return self.result.sources.docs.get(self.file)

    @property
    def ir(self) -> Schema | None:
        return self.result.ir

    @property
    def diagnostics(self) -> list[Diagnostic]:
        found = self.targets if self.targets is not None else self.result.diagnostics
        if len(found) == 1 and found[0].code == NOT_A_SCHEMA:
            return []  # a YAML file that is no hftc schema (a CI workflow, a k8s manifest): not ours to judge
        return found


def analyze(uri: str, version: int | None, text: str, import_paths: tuple[str, ...] = ()) -> Analysis:
    """Front end and passes over unsaved text, with fix edits; imports are read from disk."""
    from hftc.driver.lint import front_end_text

    file = uri_to_path(uri)
    start = time.perf_counter()
    try:
        result = front_end_text(file, text, import_paths)
    except Exception as exc:  # a bug in hftc: say so in the editor instead of going silent
        from hftc.diagnostics.model import Span, error

        result = CompileResult(None, [error("HFT0000", f"internal compiler error: {type(exc).__name__}: {exc}",
                                            Span.point(file, 1, 1), help="this is a bug in hftc; please report it "
                                            "with the schema (`hftc lint` with HFTC_DEBUG=1 shows the traceback)")])
    return Analysis(uri, file, version, text, result, (time.perf_counter() - start) * 1000)


NOT_A_SCHEMA = "HFT0007"  # unknown document form: any other YAML file the editor opens


def check_targets_of(analysis: Analysis) -> list[Diagnostic]:
    """The front end's diagnostics with every build target's checks added (what `hftc lint` reports)."""
    import copy

    from hftc.driver.lint import add_target_checks

    start = time.perf_counter()
    try:
        result = add_target_checks(copy.copy(analysis.result))
    except Exception as exc:
        from hftc.diagnostics.model import Span, error

        return analysis.result.diagnostics + [error("HFT0000", f"internal compiler error in the target checks: "
                                                    f"{type(exc).__name__}: {exc}", Span.point(analysis.file, 1, 1),
                                                    help="this is a bug in hftc; please report it with the schema")]
    analysis.targets_ms = (time.perf_counter() - start) * 1000
    return result.diagnostics


@dataclass
class Workspace:
    """Open documents: the latest analysis of each, and the last one whose YAML parsed (completion and
    navigation keep working while a line is half typed)."""

    latest: dict[str, Analysis] = field(default_factory=dict)
    last_good: dict[str, Analysis] = field(default_factory=dict)
    published: dict[str, set[str]] = field(default_factory=dict)  # document -> URIs it published to

    def store(self, analysis: Analysis) -> None:
        self.latest[analysis.uri] = analysis
        if analysis.doc is not None:
            self.last_good[analysis.uri] = analysis

    def forget(self, uri: str) -> None:
        self.latest.pop(uri, None)
        self.last_good.pop(uri, None)

    def structured(self, uri: str) -> Analysis | None:
        return self.last_good.get(uri) or self.latest.get(uri)
