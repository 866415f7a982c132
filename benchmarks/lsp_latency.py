"""How long the language server takes to re-check a schema after an edit (its front end and passes, in
process, warm), and how long the build targets' checks that follow take. A measurement, not a test:

    python benchmarks/lsp_latency.py [SCHEMA] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schema", nargs="?", default=str(Path(__file__).resolve().parents[1] / "examples" /
                                                           "fx_market_maker.hftc.yaml"))
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from hftc.lsp.analysis import analyze, check_targets_of

    path = Path(args.schema).resolve()
    text = path.read_text(encoding="utf-8")
    uri = path.as_uri()
    for i in range(5):  # warm-up: imports, template parsing, compiled Jinja templates
        check_targets_of(analyze(uri, i, text + f"\n# edit {i}\n"))
    front, targets = [], []
    for i in range(args.runs):
        edited = text + f"\n# edit {i}\n"  # a different text each time, as typing makes
        start = time.perf_counter()
        analysis = analyze(uri, i, edited)
        front.append((time.perf_counter() - start) * 1000)
        check_targets_of(analysis)
        targets.append(analysis.targets_ms)
    print(f"{path.name}: {args.runs} edits")
    print(f"  re-check (front end + passes): median {statistics.median(front):.1f} ms, "
          f"min {min(front):.1f} ms, max {max(front):.1f} ms")
    print(f"  target checks afterwards:      median {statistics.median(targets):.1f} ms, "
          f"min {min(targets):.1f} ms, max {max(targets):.1f} ms")


if __name__ == "__main__":
    main()
