"""The `hftc` console script: `hftc lint` and `hftc lsp` without the command-line framework,
everything else through the typer app in hftc.cli.

Linting is what editors, pre-commit hooks and CI run over and over, so its start-up matters;
importing typer and rich costs more than linting a typical schema. This module reads a `lint`
command line it fully understands (files, `-` for standard input, `--stdin-filename`, `--error-format`,
`--deny-warnings`, `--import-path`, `--no-cache`) and behaves exactly as the typer command does: same
output (coloured as `--color auto` colours it), same exit codes. Results are kept in a cache
(hftc.driver.lint_cache) that an unchanged schema is answered from, and what the cache cannot answer
goes to the lint server (hftc.lintserver) when one runs. Any other argument, or an option it does not
know, goes to the typer app unchanged, so options added there keep working.
"""

from __future__ import annotations

import gc
import os
import sys

_FORMATS = ("text", "json", "github")


class LintRequest:
    __slots__ = ("color", "deny_warnings", "error_format", "import_paths", "no_cache", "schemas", "stdin_filename")

    def __init__(self) -> None:
        self.schemas: list[str] = []
        self.error_format = "text"
        self.color = False  # ANSI-coloured text, decided as the typer app decides it (`--color auto`)
        self.deny_warnings = False
        self.no_cache = False
        self.import_paths: list[str] = []
        self.stdin_filename: str | None = None  # names the schema read from `-`

    @property
    def output_kind(self) -> str:
        """What the rendered output depends on besides the files: the format, and colour for text
        (the lint cache keeps coloured and plain results apart)."""
        return f"{self.error_format}+color" if self.color else self.error_format


def path_text(word: str) -> str:
    """`str(pathlib.Path(word))`, as typer hands a path argument over, without importing pathlib (with
    the URL parser it pulls in, a tenth of a served lint): empty and `.` parts dropped, slashes
    collapsed except POSIX's two leading ones, `..` kept."""
    lead = "//" if word.startswith("//") and not word.startswith("///") else "/" if word.startswith("/") else ""
    rest = "/".join(part for part in word.split("/") if part and part != ".")
    return (lead + rest) or "."


def parse_lint(args: list[str]) -> LintRequest | None:
    """The lint request of `args` (the words after `hftc`), or None when the typer app must read them."""
    if not args or args[0] != "lint":
        return None
    request = LintRequest()
    words = iter(args[1:])
    for word in words:
        if word.startswith("-"):
            name, eq, value = word.partition("=")
            if name == "--deny-warnings" and not eq:
                request.deny_warnings = True
                continue
            if name == "--no-cache" and not eq:
                request.no_cache = True
                continue
            if word == "-":
                request.schemas.append(word)
                continue
            if name not in ("--error-format", "--import-path", "--stdin-filename"):
                return None  # `--`, --help, options added later: the typer app's business
            if not eq:
                value = next(words, None)
                if value is None:
                    return None
            if not value or value.startswith("-"):
                return None
            if name == "--error-format":
                if value not in _FORMATS:
                    return None
                request.error_format = value
            elif name == "--stdin-filename":
                request.stdin_filename = path_text(value)
            else:
                request.import_paths.append(path_text(value))
        elif word:
            request.schemas.append(path_text(word))
        else:
            return None
    if request.stdin_filename is not None and "-" not in request.schemas:
        return None  # a usage error, which the typer app words
    return request if request.schemas else None


def run_lint(request: LintRequest) -> int:
    """Lint as `hftc lint` does (coloured on a terminal as its `--color auto` colours) and return the
    exit code.

    Each schema's result comes from the lint cache when nothing it depends on changed, else from the
    lint server (hftc.lintserver) when one runs for this environment, else from linting it here,
    after which a server is started for the next lint."""
    stream = sys.stderr if request.error_format == "text" else sys.stdout
    if request.error_format == "text":
        from hftc.diagnostics.color import wants_color

        request.color = wants_color(stream)
    cache = None
    if not request.no_cache:
        from hftc.driver.lint_cache import LintCache

        cache = LintCache()
    server = _ServerLink(cache)
    failed = False
    for schema in request.schemas:
        stdin = _read_stdin() if schema == "-" else None  # linted afresh every time, never cached
        found = cache.get(schema, request.import_paths, request.output_kind) \
            if cache is not None and stdin is None else None
        if found is None:
            found = server.lint(schema, request, stdin)
        if found is None:
            found = lint_one(schema, request, cache, stdin)
            server.wanted = True
        if found["output"]:
            print(found["output"], file=stream)
        failed |= found["failed"] or (request.deny_warnings and found["warned"])
    server.start_if_wanted()
    return 1 if failed else 0


def _read_stdin() -> bytes:
    """What `hftc lint -` reads of standard input: as much as the front end would."""
    from hftc.driver.lint_cache import READ_LIMIT

    return sys.stdin.buffer.read(READ_LIMIT)


class _ServerLink:
    """The lint server as this run sees it: looked for on the first schema the cache cannot answer,
    started at the end when some schema had to be linted here."""

    def __init__(self, cache) -> None:
        self._cache = cache
        self._path: str | None = None
        self._looked = False
        self.wanted = False

    def _find(self) -> str | None:
        if not self._looked:
            self._looked = True
            from hftc.lintserver import enabled, socket_path

            if enabled():
                if self._cache is not None:
                    key = self._cache.environment
                else:
                    from hftc.driver.lint_cache import environment_key

                    key = environment_key()
                self._key, self._path = key, socket_path(key)
        return self._path

    def lint(self, schema: str, request: LintRequest, stdin: bytes | None) -> dict | None:
        path = self._find()
        if path is None or self.wanted:  # none to ask, or it did not answer for an earlier schema
            return None
        from hftc.lintserver.client import ask

        return ask(path, self._key, schema, request, stdin)

    def start_if_wanted(self) -> None:
        if self.wanted and self._path is not None:
            from hftc.lintserver.client import start

            start(self._path)


def lint_one(schema: str, request: LintRequest, cache, stdin: bytes | None = None) -> dict:
    """Lint one schema (the compiler imported on first use) and store the result in `cache`; `stdin`
    is what was read for `-` (its result is not stored)."""
    from hftc.diagnostics.model import Severity, has_errors
    from hftc.diagnostics.render import render_all
    from hftc.driver.lint import lint_file, lint_stdin

    if stdin is not None:
        import io

        cache = None
        result = lint_stdin(request.stdin_filename, request.import_paths, io.BytesIO(stdin))
    else:
        before = cache is not None and _root_state(schema)
        result = lint_file(schema, request.import_paths)
    output = render_all(result.diagnostics, request.error_format, result.sources.lookup, color=request.color) \
        if result.diagnostics else ""
    found = {"output": output, "failed": (not result.ok) or has_errors(result.diagnostics),
             "warned": any(d.severity is Severity.WARNING for d in result.diagnostics)}
    if cache is not None and _root_state(schema) == before:  # not rewritten while it was being linted
        cache.put(schema, request.import_paths, request.output_kind, result.sources.probed, **found)
    return found


def _root_state(schema: str) -> list:
    from hftc.driver.lint_cache import path_state

    return path_state(schema)


def _exit_now(code: int) -> None:
    """Exit without tearing down the interpreter: freeing a large schema's millions of objects one by
    one took longer than reading it. Nothing is left to run (lint writes no files) but the flush."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`hftc lint ... | head`): as click does, exit 1 quietly
        os._exit(1)
    os._exit(code)


def _serve_lsp() -> None:
    """`hftc lsp` (no options: it has none): the language server, which an editor starts for every
    window, imports the server and the compiler only."""
    from hftc.lsp.server import serve

    try:
        serve()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug in hftc itself: reported as the typer path reports it
        if os.environ.get("HFTC_DEBUG"):
            raise
        from hftc.cli import _report_internal_error

        _report_internal_error(exc)
        sys.exit(3)


def main() -> None:
    # pydantic scans every installed distribution for plugins at import; hftc uses none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if sys.argv[1:] == ["lsp"]:
        _serve_lsp()
        return
    request = parse_lint(sys.argv[1:])
    code = None
    if request is not None:
        # A short-lived process that frees nothing until it ends: the cyclic collector would only
        # rescan the same objects again and again (imports included).
        gc.disable()
        try:
            code = run_lint(request)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)
        except BrokenPipeError:
            _exit_now(1)
        except Exception as exc:  # a bug in hftc itself: reported as the typer path reports it
            if os.environ.get("HFTC_DEBUG"):
                raise
            from hftc.cli import _report_internal_error

            _report_internal_error(exc)
            sys.exit(3)
    if code is None:
        from hftc.cli import main as app_main

        gc.enable()
        app_main()
        return
    _exit_now(code)
