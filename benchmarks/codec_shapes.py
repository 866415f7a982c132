"""The generated C++ codecs on the codec bench's shapes, beside the memcpy floor.

    python benchmarks/codec_shapes.py [--repeats 5] [--json]

Shapes (one message each, as `hftc bench` times them: one entry per group):

* `Tick` — six fixed fields (codec_shapes/shapes.hftc.yaml, SBE's standard framing);
* `BookRefresh` — three fields and a group of seven-field levels (same schema);
* `Vehicle` — SBE's Car example re-created (tests/sbe/vehicle.xml, through `hftc import sbe`):
  composites, arrays, a bit set, nested groups with var-data, trailing var-data;
* `CmeBookRefresh` — the book refresh framed as CME MDP3 frames it: a 3-byte group size (uint16
  block length + uint8 count) and character enums (codec_shapes/cme_book.hftc.yaml).

Each schema's `bench_codecs` (the program `hftc bench` runs: -O3 -march=native) is built once
and run `--repeats` times; every run measures each message's encode and decode through the
flyweight and, in the same process, the memcpy floor (a packed struct of the header and block,
plus the same number of group and var-data bytes, memcpy'd out and back). The table gives, per
figure, the median over the runs of each run's median ns/op, and the ratio to the floor. The
last line is one JSON object. Timings are figures to read, not assertions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHAPES = REPO / "benchmarks" / "codec_shapes"
SOURCES = (SHAPES / "shapes.hftc.yaml", REPO / "tests" / "sbe" / "vehicle.xml", SHAPES / "cme_book.hftc.yaml")


def _schema(path: Path, scratch: Path):
    """The compiled IR of an hftc schema, or of an SBE XML schema through `hftc import sbe`."""
    from hftc.frontend import compile_file
    from hftc.sbe.importer import import_sbe

    if path.suffix == ".xml":
        imported = import_sbe(path)
        if not imported.ok:
            sys.exit(f"{path}: import failed: " + "; ".join(d.message for d in imported.diagnostics))
        path = scratch / (path.stem + ".hftc.yaml")
        path.write_text(imported.yaml, encoding="utf-8")
    result = compile_file(str(path))
    if not result.ok:
        sys.exit(f"{path}: " + "; ".join(str(d) for d in result.diagnostics))
    return result.ir


def _program(ir) -> Path:
    """Generate the schema's C++ project and build its bench_codecs, as `hftc bench` does."""
    from hftc.bench.native import cmake_build, find_executable
    from hftc.bench.runner import NATIVE_FLAGS
    from hftc.driver.build import build
    from hftc.paths import build_cache, runtime_cpp_dir

    out = build_cache() / "bench" / "codec-shapes" / ir.package_snake
    report = build(ir, ["cpp"], str(out))
    if report.diagnostics:
        sys.exit("; ".join(d.message for d in report.diagnostics))
    build_dir = cmake_build(out / "cpp", build_cache() / "bench" / "codec-shapes-build" / ir.package_snake,
                            ["bench_codecs"], {"HFTC_RUNTIME_DIR": str(runtime_cpp_dir()), "HFTC_BUILD_TESTS": "OFF",
                                               **NATIVE_FLAGS})
    return find_executable(build_dir, "bench_codecs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each program (default 5)")
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    args = parser.parse_args()

    from hftc.bench.native import run_json

    with tempfile.TemporaryDirectory() as scratch:
        programs = [_program(_schema(path, Path(scratch))) for path in SOURCES]
    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.repeats):
        for program in programs:  # interleaved, so a slow spell of the machine hits every shape
            for r in run_json([str(program)], "cpp", "bench_codecs"):
                runs.setdefault(r.name, []).append((r.median, r.baseline))
    table = {name: {"hftc_ns": statistics.median(h for h, _ in v), "memcpy_ns": statistics.median(b for _, b in v),
                    "runs": len(v)} for name, v in runs.items()}
    if not args.json:
        print(f"{'figure':<28} {'hftc ns/op':>11} {'memcpy ns/op':>13} {'ratio':>7}   ({args.repeats} runs, medians)")
        for name, row in table.items():
            ratio = row["hftc_ns"] / row["memcpy_ns"] if row["memcpy_ns"] else float("nan")
            print(f"{name:<28} {row['hftc_ns']:>11.2f} {row['memcpy_ns']:>13.2f} {ratio:>7.2f}")
    print(json.dumps({"repeats": args.repeats, "figures": table}))


if __name__ == "__main__":
    main()
