"""A cache of `hftc lint` results: linting an unchanged schema again (a pre-commit hook over a
repository, an editor on save, CI re-runs) costs reading and hashing its files, not a compilation.

An entry is looked up by everything the command's output depends on besides file contents: hftc's
version and a fingerprint of its own files (size and modification time of every file of the package,
the backends, the strategy templates and the C++ and Rust runtimes whose headers the checks read,
so an edited checkout never serves old results), the
Python version, the folders distributions are installed in (a backend plug-in added or removed
changes one), the working folder (diagnostics name files relative to it), the schema path as given,
the import paths and the output format. The entry holds the rendered diagnostics and, for every
path the compilation looked at (the schema, each import, each place an import was searched for and
each strategy template), where it resolves and a hash of its bytes, or that nothing was there; it is
used only when all of them are unchanged. A missing, unreadable or malformed entry is a miss, and
failing to write one is not an error: the cache only ever saves time. Past MAX_ENTRIES entries the
oldest are removed.

Entries live under `$XDG_CACHE_HOME/hftc/lint` (`~/.cache/hftc/lint` by default). This module is on
the start-up path of `hftc lint`, so it imports nothing beyond the standard library.
"""

from __future__ import annotations

import json
import os
import stat
import sys

try:  # the built-in BLAKE2, without loading OpenSSL for hashlib's other algorithms (a third of a warm run)
    from _blake2 import blake2b
except ImportError:  # an interpreter without it
    from hashlib import blake2b

FORMAT = 1  # of an entry; bumped when its layout changes
MAX_ENTRIES = 2000  # past this many entries, storing one removes the oldest quarter (about 1 KB each)
READ_LIMIT = 16 * 1024 * 1024 + 1  # the front end reads no more of a file or of stdin (MAX_FILE_BYTES + 1)


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):  # the XDG spec: a relative value is invalid and ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hftc", "lint")


def _walk(root: str, digest) -> None:
    """Names, sizes and modification times of every file under `root` (bytecode caches left out)."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        digest.update(b"\0missing\0" + root.encode())
        return
    for entry in entries:
        if entry.name in ("__pycache__", "target"):  # bytecode, Cargo's build output
            continue
        try:
            if entry.is_dir():
                _walk(entry.path, digest)
                continue
            info = entry.stat()
        except OSError:
            continue
        digest.update(f"{entry.path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))


def _own_files() -> list[str]:
    """The folders whose files make up this hftc: the package, its backends, the strategy templates
    and the runtimes the C++ and Rust checks read."""
    import hftc
    from hftc.paths import runtime_cpp_folder, runtime_rust_folder

    package = os.path.dirname(os.path.abspath(hftc.__file__))
    folders = [package, os.path.join(runtime_cpp_folder(), "include"), runtime_rust_folder() or "<no Rust runtime>"]
    try:
        import importlib.util

        spec = importlib.util.find_spec("hftc.backends")
        folders += list(spec.submodule_search_locations or []) if spec is not None else []
    except (ImportError, ValueError):
        pass
    checkout_templates = os.path.join(os.path.dirname(os.path.dirname(package)), "schemas", "strategies")
    if os.path.isdir(checkout_templates):
        folders.append(checkout_templates)
    return sorted({os.path.realpath(f) for f in folders})


def environment_key() -> bytes:
    """What every entry depends on besides the command line and the files linted: this hftc and the
    Python it runs on."""
    from hftc import __version__

    digest = blake2b(digest_size=32)
    digest.update(f"{FORMAT}\0{__version__}\0{sys.version}\0{sys.executable}\n".encode("utf-8", "surrogateescape"))
    for folder in _own_files():
        _walk(folder, digest)
    for entry in sys.path:
        digest.update(f"{entry}\0{_distributions_state(entry)}\n".encode("utf-8", "surrogateescape"))
    return digest.digest()


def _distributions_state(folder: str) -> int | None:
    """The modification time of an import folder holding distributions (installing or removing one, a
    backend plug-in say, touches it); None for a folder without any, whose other changes (a scratch
    folder's, the working folder's) do not matter."""
    if not os.path.isabs(folder):
        folder = os.path.abspath(folder or ".")
    try:
        with os.scandir(folder) as entries:
            if not any(e.name.endswith((".dist-info", ".egg-info")) for e in entries):
                return None
        return os.stat(folder).st_mtime_ns
    except OSError:
        return None


def path_state(path: str) -> list:
    """What the front end would find at `path`: where it resolves and the hash of a regular file's
    bytes, or the kind of thing that is there instead (devices and pipes are not read)."""
    real = os.path.realpath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return ["absent", real]
    except IsADirectoryError:
        return ["dir", real]
    except OSError as exc:
        return ["error", real, exc.errno]
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            return ["dir", real]
        if not stat.S_ISREG(info.st_mode):
            return ["other", real]
        digest, left = blake2b(digest_size=32), READ_LIMIT
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        return ["file", real, digest.hexdigest()]
    except OSError as exc:
        return ["error", real, exc.errno]
    finally:
        os.close(fd)


class LintCache:
    """Entries for one run of `hftc lint` (one environment key, one working folder)."""

    def __init__(self, folder: str | None = None, environment: bytes | None = None):
        self.folder = folder or cache_dir()
        self.environment = environment or environment_key()  # the lint server's is its client's
        self._cwd = os.getcwd()

    def _entry_path(self, schema: str, import_paths: list[str], error_format: str) -> str:
        digest = blake2b(self.environment, digest_size=32)
        command = [self._cwd, schema, [os.path.realpath(p) for p in import_paths], list(import_paths), error_format,
                   os.path.realpath(os.path.dirname(os.path.abspath(schema)))]
        digest.update(json.dumps(command).encode("utf-8", "surrogateescape"))
        return os.path.join(self.folder, digest.hexdigest() + ".json")

    def get(self, schema: str, import_paths: list[str], error_format: str) -> dict | None:
        """The stored result (`output`, `failed`, `warned`) when every file it depends on is unchanged."""
        try:
            with open(self._entry_path(schema, import_paths, error_format), "rb") as f:
                entry = json.loads(f.read())
            probes = entry["probes"]
            result = {"output": entry["output"], "failed": entry["failed"], "warned": entry["warned"]}
            if not (isinstance(probes, list) and probes and isinstance(result["output"], str)
                    and isinstance(result["failed"], bool) and isinstance(result["warned"], bool)):
                return None
            for path, state in probes:
                if not isinstance(path, str) or path_state(path) != state:
                    return None
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None  # no entry, or one this code did not write: linted afresh, and replaced
        return result

    def put(self, schema: str, import_paths: list[str], error_format: str, probed, output: str,
            failed: bool, warned: bool) -> None:
        """Store a result; a folder that cannot be written just means no cache."""
        paths = list(dict.fromkeys([schema, *probed]))
        entry = {"probes": [[p, path_state(p)] for p in paths], "output": output, "failed": failed, "warned": warned}
        target = self._entry_path(schema, import_paths, error_format)
        temporary = f"{target}.{os.getpid()}.tmp"
        try:
            os.makedirs(self.folder, exist_ok=True)
            with open(temporary, "w", encoding="utf-8", errors="surrogateescape") as f:
                json.dump(entry, f)
            os.replace(temporary, target)
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            return
        self._trim()

    def _trim(self) -> None:
        """Keep the folder bounded: every temporary folder a test suite lints in adds entries."""
        try:
            with os.scandir(self.folder) as found:
                entries = [e for e in found if e.name.endswith(".json")]
            if len(entries) <= MAX_ENTRIES:
                return
            by_age = sorted(entries, key=lambda e: e.stat().st_mtime_ns)
            for old in by_age[: len(entries) - MAX_ENTRIES * 3 // 4]:
                os.unlink(old.path)
        except OSError:
            pass  # another lint trimming at the same time, or a folder gone: the next store tries again
