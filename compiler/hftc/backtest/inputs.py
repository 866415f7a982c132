"""Turn the `--data` files of `hftc backtest` into one tape the engine can map.

- one `.hftt` tape: used as it is;
- several tapes: merged (instruments concatenated, events interleaved by local timestamp,
  ties in argument order) into a cached tape;
- raw captures (Binance `.gz`, hftbacktest `.npz`, Tardis `.csv`): converted with `hftc.data`
  into a cached tape.

Cached tapes live under `<backtest cache>/tapes/`, named by the sha256 of the inputs' contents,
so a second run with the same files starts at once and a changed file is converted again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from hftc.backtest.build import cache_dir
from hftc.backtest.errors import BacktestError

#: Bump when the merge/convert step changes what it writes.
_TAPE_CACHE_VERSION = 1


def _digest(paths: Sequence[Path], kind: str) -> str:
    """Key of a cached tape: the inputs' names and bytes, and the converter's own source."""
    import hftc.data

    h = hashlib.sha256(f"{kind}:{_TAPE_CACHE_VERSION}".encode())
    for src in sorted(Path(hftc.data.__file__).parent.glob("*.py")):
        h.update(src.read_bytes())
    for p in paths:
        h.update(b"\0" + p.name.encode() + b"\0")
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def is_tape(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(8) == b"HFTTAPE1"
    except OSError:
        return False


def resolve_tape(paths: Sequence[Path], progress: Callable[[str], None] = lambda _m: None,
                 warn: Callable[[list], None] = lambda _d: None) -> Path:
    """One tape path for `paths`, converting or merging (and caching) as needed.

    `warn` receives the converter's diagnostics (update-id gaps, ...) when a capture is converted.
    """
    if not paths:
        raise BacktestError("HFT1112", "no market data given", help="pass --data FILE (a .hftt tape or a capture)")
    for p in paths:
        if not p.is_file():
            raise BacktestError("HFT1112", f"{p}: no such data file", help="check the path given to --data")
    tapes = [is_tape(p) for p in paths]
    if all(tapes) and len(paths) == 1:
        return paths[0]
    try:
        folder = cache_dir() / "tapes"
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BacktestError("HFT1117", f"cannot use the backtest cache folder: {exc.strerror or exc}",
                            help="set $HFTC_CACHE_DIR to a writable folder, or convert with `hftc data convert`") from None
    kind = "merge" if all(tapes) else "convert"
    out = folder / f"{_digest(paths, kind)[:32]}.hftt"
    if out.exists():
        progress(f"using cached tape {out}")
        return out
    if all(tapes):
        progress(f"merging {len(paths)} tapes into {out}")
        merge_tapes(paths, out)
    elif any(tapes):
        raise BacktestError("HFT1112", "--data mixes .hftt tapes and raw captures",
                            help="pass either tapes or captures (captures are converted and merged together)")
    else:
        progress(f"converting {', '.join(p.name for p in paths)} into {out}")
        warn(_convert(paths, out))
    return out


def merge_tapes(paths: Sequence[Path], out: Path) -> Path:
    """Write one tape holding every instrument of `paths`, events ordered by local timestamp.

    A bad tape raises `hftc.data.DataError`, whose diagnostic names the file.
    """
    import numpy as np

    from hftc.data import open_tape, write_tape

    opened = [open_tape(p) for p in paths]  # a bad tape raises DataError with its own diagnostic
    instruments = [i for t in opened for i in t.instruments]
    names = [i.symbol for i in instruments]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise BacktestError("HFT1112", f"instrument {', '.join(dup)} appears in more than one tape",
                            help="give each instrument once")
    cols: dict[str, list] = {}
    base = 0
    for t in opened:
        c = t.columns()
        for name, values in c.items():
            v = np.asarray(values)
            if name == "instrument":
                v = v.astype(np.uint16) + np.uint16(base)
            cols.setdefault(name, []).append(v)
        base += len(t.instruments)
    merged = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.argsort(merged["local_ts"], kind="stable")
    merged = {k: v[order] for k, v in merged.items()}
    meta = {"merged_from": [str(p) for p in paths], "sources": [t.meta for t in opened]}
    return write_tape(out, instruments, merged, meta)


def _convert(paths: Sequence[Path], out: Path) -> list:
    """Convert captures into the tape `out`; returns the converter's warnings."""
    from hftc.data.convert import convert, write

    conversion = convert([str(p) for p in paths])  # bad input raises DataError with file and line
    write(conversion, out)
    return list(conversion.diagnostics)


def refuse_dirty(tape, quality: dict | None, allow_dirty: bool) -> None:
    """BacktestError HFT1118 when the tape's quality record counts unresolved problems and the
    caller did not allow it: `hftc backtest`, `hftc optimize` and the Python API refuse alike."""
    if quality and quality.get("unresolved") and not allow_dirty:
        from hftc.data.quality import summary_line

        raise BacktestError("HFT1118", f"{tape}: the tape has {quality['unresolved']} unresolved data problem(s): "
                            + summary_line(quality).removeprefix("data quality: "),
                            help="convert again with `--on-error drop`, or pass --allow-dirty "
                                 "(allow_dirty=True in Python) to run anyway")


def tape_quality_of(path: Path) -> dict | None:
    """The data-quality record of the tape at `path` (hftc.data.quality), None for older tapes."""
    from hftc.data import open_tape
    from hftc.data.quality import tape_quality

    return tape_quality(open_tape(path, validate=False).meta)
