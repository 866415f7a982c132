"""Generate the schema's C++ and build its `<pkg>_venue` (or `<pkg>_engine`), once per content hash, in the
build cache.

The key covers the generated sources, the C++ runtime headers and the build flavour, so a changed
schema, runtime or template rebuilds and an unchanged one starts at once. A build goes to a
folder of its own and the executable appears only when the build succeeded.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from hftc.ir.model import Schema
from hftc.venue.errors import VenueError

BUILD_TIMEOUT_S = 900


def check_venue(ir: Schema) -> None:
    """VenueError HFT1501 when the schema cannot have a venue (no order-entry roles, no tape messages)."""
    from hftc.backends.cpp.venue import missing_roles

    missing = missing_roles(ir)
    if missing:
        raise VenueError("HFT1501", f"package `{ir.package}` declares no order-entry message with role "
                         + ", ".join(f"`{r}`" for r in missing),
                         help="declare the session's messages with `role:` (new_order, execution_report, logon, "
                              "logout, heartbeat; cancel, replace, order_reject as needed), as "
                              "examples/fx_market_maker.hftc.yaml does")


def check_snapshots(ir: Schema) -> None:
    """VenueError HFT1506 when the venue has no snapshot message to send (`--snapshot-interval-ms`)."""
    from hftc.passes.trading import analyse

    model, _ = analyse(ir)
    plan = model.pipelines[0] if model is not None and model.pipelines else None
    if plan is None or not any(i.role == "snapshot" for i in plan.feed.inputs):
        raise VenueError("HFT1506", f"package `{ir.package}` has no snapshot message for the venue to send",
                         help="give the pipeline's feed handler an input with role snapshot, or leave out "
                              "--snapshot-interval-ms")


def generated_cpp(ir: Schema) -> dict[str, bytes]:
    """The `--target cpp` files of `ir`, formatted, in memory."""
    from hftc.diagnostics.model import Severity, has_errors
    from hftc.driver.build import generate

    report = generate(ir, ["cpp"], "")
    if has_errors(report.diagnostics) or not report.outputs:
        first = next((d for d in report.diagnostics if d.severity is Severity.ERROR), None)
        raise VenueError("HFT1504", "the C++ of the venue could not be generated"
                         + (f": {first.message}" if first else ""), help="run `hftc build SCHEMA -t cpp` to see why")
    files = report.outputs[0].files
    if "src/venue_main.cpp" not in files:
        raise VenueError("HFT1501", f"package `{ir.package}` has no venue program: its pipeline's feed handler "
                         "needs a depth_update input to carry the tape's market data",
                         help="give the feed handler an input with role depth_update (and trade, snapshot)")
    return files


def build_venue(ir: Schema, progress: Callable[[str], None], sanitize: bool = False) -> Path:
    """The `<pkg>_venue` executable of `ir` (built, or taken from the cache)."""
    return _build(ir, "venue", progress, sanitize)


def build_engine(ir: Schema, progress: Callable[[str], None], sanitize: bool = False) -> Path:
    """The `<pkg>_engine` executable of `ir`, with its in-process backtest venue (`--backtest`)."""
    return _build(ir, "engine", progress, sanitize)


def _build(ir: Schema, program: str, progress: Callable[[str], None], sanitize: bool) -> Path:
    from hftc.paths import build_cache, runtime_cpp_dir

    missing = [t for t in ("cmake", "ninja", "g++") if shutil.which(t) is None]
    if missing:
        raise VenueError("HFT1504", f"building the {program} needs {', '.join(missing)}",
                         help="install them (Debian: `apt-get install cmake ninja-build g++`)")
    check_venue(ir)
    files = generated_cpp(ir)
    runtime = runtime_cpp_dir()
    digest = hashlib.sha256((b"asan" if sanitize else b"release") + program.encode())
    for name in sorted(files):
        if name != "hftc-manifest.json":
            digest.update(name.encode() + b"\0" + files[name])
    for path in sorted(p for p in (runtime / "include").rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(runtime)).encode() + b"\0" + path.read_bytes())
    home = build_cache() / program / digest.hexdigest()[:16]
    target = f"{ir.package_snake}_{program}"
    exe = home / "build" / target
    if exe.is_file():
        progress(f"{program} {target} from the build cache")
        return exe
    src = home / "src"
    if src.exists():
        shutil.rmtree(src)
    for name, data in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    progress(f"compiling {target} (cmake + ninja, {'Debug with ASan/UBSan' if sanitize else 'Release'})")
    steps = (["cmake", "-G", "Ninja", "-S", str(src), "-B", str(home / "build"),
              f"-DCMAKE_BUILD_TYPE={'Debug' if sanitize else 'Release'}", "-DCMAKE_CXX_COMPILER=g++",
              f"-DHFTC_RUNTIME_DIR={runtime}", f"-DHFTC_SANITIZE={'ON' if sanitize else 'OFF'}",
              "-DHFTC_BUILD_TESTS=OFF", "-DHFTC_BUILD_BENCH=OFF"],
             ["nice", "-n", "10", "ninja", "-j", "2", "-C", str(home / "build"), target])
    for cmd in steps:
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise VenueError("HFT1504", f"`{cmd[0]}` did not finish within {BUILD_TIMEOUT_S} s") from None
        if run.returncode != 0:
            raise VenueError("HFT1504", f"`{' '.join(cmd[:2])}` failed:\n{(run.stdout + run.stderr)[-3000:]}",
                             help="this is a bug in hftc or its C++ runtime; please report it with the schema")
    if not exe.is_file():
        raise VenueError("HFT1504", f"the build wrote no {target}")
    return exe
