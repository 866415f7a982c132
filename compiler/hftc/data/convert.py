"""`hftc data convert`: read inputs of any supported format, merge, write one tape.

Merging sorts every instrument's rows by (local_ts, seq), where seq says which
input line released the row; numpy's lexsort is stable, so rows of one message
stay together and ties keep source order (FORMATS.md §4).

Clock correction: recorders' clocks are often not synchronised with the venue's;
the Binance captures shipped with the project have local timestamps about 1.27 s
*behind* the exchange's, i.e. negative feed latency. A backtest that adds order
latency to local time would then act on the future. As hftbacktest's
`correct_local_timestamp` does, when the smallest `local_ts - exch_ts` over all
inputs is negative every local timestamp is shifted by the same offset so that it
becomes `base_latency_ns` (0 by default); one offset for all inputs keeps the
instruments' relative timing. The smallest latency is taken among the rows inside
the bulk of the latencies, never from one extreme row (hftc.data.quality); every
row and book is then checked, and the findings go to the metadata's `quality`.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hftc import __version__
from hftc.data.errors import DataError, make_diagnostic
from hftc.data.events import InstrumentEvents, Steps, paused_gc
from hftc.data.quality import POLICIES, Checker, check_and_repair, quality_diagnostics, robust_clock_offset
from hftc.data.tape import CLEAR, DEPTH, KIND_NAMES, MAX_INSTRUMENTS, TRADE, Instrument, write_tape
from hftc.diagnostics.model import Diagnostic, Severity

FORMATS = ("binance", "hftbacktest", "tardis")


@dataclass
class Conversion:
    """The merged result, before or after it is written."""

    instruments: list[Instrument]
    columns: dict[str, np.ndarray]           # the seven tape columns, sorted
    update_id: np.ndarray                    # venue update id on END rows of depth messages (0 = none)
    meta: dict[str, Any]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    path: Path | None = None

    def __len__(self) -> int:
        return int(self.columns["kind"].shape[0])

    def summary(self) -> dict[str, Any]:
        local = self.columns["local_ts"]
        per = []
        for i, inst in enumerate(self.instruments):
            mask = self.columns["instrument"] == i
            kinds = self.columns["kind"][mask]
            per.append({"symbol": inst.symbol, "tick_size": self.meta["instruments"][i]["tick_size"],
                        "lot_size": self.meta["instruments"][i]["lot_size"],
                        "events": int(mask.sum()),
                        **{KIND_NAMES[k]: int((kinds == k).sum()) for k in (DEPTH, TRADE, CLEAR)}})
        return {
            "output": str(self.path) if self.path else None,
            "events": len(self),
            "instruments": per,
            "start_ns": int(local[0]) if len(self) else None,
            "end_ns": int(local[-1]) if len(self) else None,
            "gaps": len(self.meta["gaps"]),
            "clock_offset_ns": self.meta["clock"]["offset_ns"],
            "quality": self.meta.get("quality"),
        }


def detect_format(path: str) -> str:
    """Guess an input's format from its first bytes (gzip is looked through)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
            fh.seek(0)
            if head.startswith(b"PK\x03\x04"):
                return "hftbacktest"
            if head.startswith(b"\x93NUMPY"):
                return "hftbacktest"
            if head.startswith(b"\x1f\x8b"):
                with gzip.open(fh) as gz:
                    sample = gz.read(4096)
            else:
                sample = fh.read(4096)
    except (OSError, EOFError) as exc:
        raise DataError("HFT1001", f"cannot read input: {getattr(exc, 'strerror', None) or exc}", path) from None
    first = sample.split(b"\n", 1)[0].strip()
    if first.startswith(b"exchange,symbol,timestamp,local_timestamp"):
        return "tardis"
    stamp, _, rest = first.partition(b" ")
    if stamp.isdigit() and rest.lstrip().startswith(b"{"):
        return "binance"
    raise DataError("HFT1002", "cannot tell the input format from its first line", path,
                    hint="pass --format binance|hftbacktest|tardis (Binance captures are `<ts_ns> <json>` lines, "
                         "Tardis CSV starts with an `exchange,symbol,timestamp,local_timestamp` header, "
                         "hftbacktest data is a .npz archive)")


def _read(fmt: str, group: list[tuple[int, str]], steps: Steps):
    """Run one format's reader on its inputs → ([(input index, InstrumentEvents)], info)."""
    if fmt == "binance":
        from hftc.data import binance as reader
    elif fmt == "hftbacktest":
        from hftc.data import hftbacktest as reader
    else:
        from hftc.data import tardis as reader
    return reader.read(group, steps)


def convert(inputs: Sequence[str | Path], fmt: str = "auto", steps: Steps | None = None, clock: str = "auto",
            base_latency_ns: int = 0, on_error: str = "drop") -> Conversion:
    """Read and merge `inputs`; raises DataError on bad input. Nothing is written."""
    steps = steps or Steps()
    paths = [str(p) for p in inputs]
    if not paths:
        raise DataError("HFT1001", "no input files given")
    if fmt != "auto" and fmt not in FORMATS:
        raise DataError("HFT1002", f"unknown format `{fmt}`", hint=f"use one of auto, {', '.join(FORMATS)}")
    if clock not in ("auto", "off"):
        raise DataError("HFT1006", f"unknown clock correction `{clock}`", hint="use auto or off")
    if on_error not in POLICIES:
        raise DataError("HFT1006", f"unknown --on-error policy `{on_error}`", hint="use drop, fail or keep")
    for path in paths:
        if not Path(path).is_file():
            raise DataError("HFT1001", "input file does not exist" if not Path(path).exists() else "not a file", path)
    formats = {path: (detect_format(path) if fmt == "auto" else fmt) for path in paths}

    instruments: list[tuple[int, InstrumentEvents]] = []
    extra: dict[str, Any] = {}
    with paused_gc():
        for name in FORMATS:
            group = [(i, p) for i, p in enumerate(paths) if formats[p] == name]
            if group:
                read, info = _read(name, group, steps)
                instruments.extend(read)
                if info:
                    extra[name] = info
    _check_unknown_symbols(steps, [inst for _, inst in instruments])
    instruments.sort(key=lambda pair: (pair[0], pair[1].symbol))
    events = [inst for _, inst in instruments]
    if not events:
        raise DataError("HFT1008", "the inputs hold no market events", paths[0])
    if len(events) > MAX_INSTRUMENTS:
        raise DataError("HFT1009", f"{len(events)} instruments; a tape holds at most {MAX_INSTRUMENTS}")
    seen: dict[str, int] = {}
    for inst in events:
        if inst.symbol in seen:
            raise DataError("HFT1009", f"instrument {inst.symbol} comes from two inputs of different formats",
                            hint="convert them into separate tapes")
        seen[inst.symbol] = 1
    return _merge(events, paths, formats, clock, base_latency_ns, extra, on_error)


def _check_unknown_symbols(steps: Steps, events: list[InstrumentEvents]) -> None:
    from hftc.diagnostics.model import did_you_mean

    names = {inst.symbol.upper() for inst in events} | {
        str(inst.notes.get("venue_symbol", inst.symbol)).upper() for inst in events}
    for symbol in sorted(steps.known() - names):
        hint = did_you_mean(symbol, names)
        raise DataError("HFT1006", f"--tick/--lot/--multiplier name `{symbol}`, which is not in the inputs "
                        f"(instruments: {', '.join(sorted(i.symbol for i in events))})", hint=hint)


def _merge(events: list[InstrumentEvents], paths: list[str], formats: dict[str, str], clock: str,
           base_latency_ns: int, extra: dict[str, Any], on_error: str = "drop") -> Conversion:
    parts = [inst.columns for inst in events]
    local = np.concatenate([p["local_ts"] for p in parts])
    exch = np.concatenate([p["exch_ts"] for p in parts])
    seq = np.concatenate([p["seq"] for p in parts])
    instrument = np.concatenate([np.full(len(inst), i, dtype=np.uint16) for i, inst in enumerate(events)])
    diagnostics: list[Diagnostic] = []

    min_latency = int((local[exch > 0] - exch[exch > 0]).min()) if (exch > 0).any() else None
    offset, outlier_rows, clock_info = (robust_clock_offset(local, exch, base_latency_ns) if clock == "auto"
                                        else (0, np.zeros(local.shape, dtype=bool), {"method": "off"}))
    if offset:
        diagnostics.append(make_diagnostic(
            Severity.NOTE, "HFT1032",
            f"local timestamps are up to {offset / 1e6 - int(base_latency_ns) / 1e6:.3f} ms behind the exchange's "
            f"(outliers aside); shifted by {offset / 1e6:.3f} ms so that the smallest feed latency is "
            f"{int(base_latency_ns)} ns",
            hint="`hftc data convert --clock off` keeps the recorded timestamps; --base-latency-ns sets the "
                 "smallest feed latency"))

    order = np.lexsort((seq, local))
    columns = {
        "local_ts": local[order] + offset,
        "exch_ts": exch[order],
        "px": np.concatenate([p["px"] for p in parts])[order],
        "qty": np.concatenate([p["qty"] for p in parts])[order],
        "instrument": instrument[order],
        "kind": np.concatenate([p["kind"] for p in parts])[order],
        "flags": np.concatenate([p["flags"] for p in parts])[order],
    }
    update_id = np.concatenate([p["update_id"] for p in parts])[order]
    checker = Checker(on_error, [inst.symbol for inst in events])
    columns, update_id, quality = check_and_repair(columns, update_id, outlier_rows[order], checker)
    quality["clock"] = {"offset_ns": offset, **clock_info}
    diagnostics.extend(quality_diagnostics(quality))

    gaps = []
    for i, inst in enumerate(events):
        for gap in inst.gaps:
            gaps.append({"instrument": i, **gap, "local_ts": gap["local_ts"] + offset})
            diagnostics.append(make_diagnostic(
                Severity.WARNING, "HFT1030",
                f"{inst.symbol}: update-id gap: expected {gap['expected']}, got {gap['got']}; the book is cleared "
                "and rebuilt from the following diffs", gap.get("file"), gap.get("line")))
        if "warning" in inst.notes:
            diagnostics.append(make_diagnostic(Severity.WARNING, "HFT1031", f"{inst.symbol}: {inst.notes['warning']}",
                                               (inst.notes.get("files") or [None])[0]))
        for key in ("unknown_side_trades",):
            if inst.notes.get(key):
                diagnostics.append(make_diagnostic(
                    Severity.WARNING, "HFT1033", f"{inst.symbol}: {inst.notes[key]} trades without an aggressor "
                    "side; inferred with the tick rule (up-tick = buyer, down-tick = seller, else as before)"))

    latency = columns["local_ts"] - columns["exch_ts"]
    meta_instruments = []
    for i, inst in enumerate(events):
        mask = columns["instrument"] == i
        stamped = mask & (columns["exch_ts"] > 0)
        lat = latency[stamped]
        entry = {"symbol": inst.symbol, **inst.sizes, "multiplier": inst.multiplier, **inst.notes}
        if lat.size:
            entry["feed_latency_ns"] = {"min": int(lat.min()), "median": int(np.median(lat)),
                                        "p99": int(np.percentile(lat, 99)), "max": int(lat.max())}
        meta_instruments.append(entry)

    meta = {
        "created_by": f"hftc {__version__} data convert",
        "sources": [{"file": p, "format": formats[p]} for p in paths],
        "instruments": meta_instruments,
        "gaps": gaps,
        "clock": {"correction": clock, "offset_ns": offset, "base_latency_ns": int(base_latency_ns),
                  "min_feed_latency_ns_recorded": min_latency},
        "quality": {**quality, "gaps": len(gaps)},
        **extra,
    }
    instruments = [Instrument(inst.symbol, float(inst.tick), float(inst.lot), inst.multiplier) for inst in events]
    return Conversion(instruments, columns, update_id, meta, diagnostics)


def write(conversion: Conversion, output: str | Path) -> Path:
    """Write a conversion atomically; HFT1010 when the output cannot be written."""
    try:
        conversion.path = write_tape(output, conversion.instruments, conversion.columns, conversion.meta)
    except OSError as exc:
        raise DataError("HFT1010", f"cannot write the tape: {exc.strerror or exc}", str(output)) from None
    return conversion.path
