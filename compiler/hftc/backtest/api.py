"""compile_strategy -> CompiledStrategy.run(tape, params, options) -> BacktestResult."""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from hftc.backtest.build import Built, build_library
from hftc.backtest.errors import BacktestError
from hftc.backtest.fees import resolve_fees
from hftc.backtest.inputs import refuse_dirty
from hftc.backtest.native import MAX_INSTRUMENTS, Config, Library, load
from hftc.backtest.options import CANCEL_POLICIES, BacktestOptions
from hftc.backtest.result import FILLS_DTYPE, QUOTES_DTYPE, BacktestResult, max_correlation
from hftc.backtest.risk import risk_setting
from hftc.backtest.shim import StrategyShape, shape_of, shim_source
from hftc.backtest.tapeinfo import TapeInfo, read_tape_info
from hftc.data.quality import tape_quality
from hftc.diagnostics.model import did_you_mean
from hftc.ir.expr import Type
from hftc.ir.model import Schema

INT64_MAX = (1 << 63) - 1


def compile_strategy(schema: Schema, name: str) -> CompiledStrategy:
    """Generate, compile (or fetch from the cache) and load the backtest library of strategy `name`."""
    strategy = schema.strategy_named(name)
    if strategy is None:
        names = [s.name for s in schema.strategies]
        raise BacktestError("HFT1101", f"the schema has no strategy `{name}`",
                            help=did_you_mean(name, names) or f"its strategies are: {', '.join(names) or 'none'}")
    shape = shape_of(strategy)
    if len(shape.checked.instruments) > MAX_INSTRUMENTS:
        raise BacktestError("HFT1115", f"strategy `{name}` trades {len(shape.checked.instruments)} instruments; "
                                       f"the backtester replays at most {MAX_INSTRUMENTS}", span=strategy.span)
    built = build_library(shim_source(shape), _file_stem(name))
    return CompiledStrategy(schema, shape, built, load(built.library))


def _file_stem(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40] or "strategy"


class CompiledStrategy:
    """A strategy's loaded backtest library; `run` may be called from several threads at once."""

    def __init__(self, schema: Schema, shape: StrategyShape, built: Built, library: Library):
        self.schema = schema
        self.shape = shape
        self.built = built
        self._lib = library
        self._tapes: dict[str, TapeInfo] = {}
        self._metas: dict[str, dict] = {}
        self._tapes_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.shape.checked.name

    @property
    def param_names(self) -> tuple[str, ...]:
        return self.shape.param_names

    @property
    def defaults(self) -> dict[str, int | float | bool]:
        return {p.name: p.default for p in self.shape.checked.params}

    def param_values(self, params: Mapping[str, object] | None) -> list[float]:
        """Defaults overlaid with `params`, in declaration order; BacktestError on a bad name or value."""
        decls = {p.name: p for p in self.shape.checked.params}
        values = dict(self.defaults)
        for key, raw in (params or {}).items():
            decl = decls.get(key)
            if decl is None:
                known = ", ".join(f"`{n}`" for n in decls) or "none"
                raise BacktestError("HFT1103", f"strategy `{self.name}` has no parameter `{key}`",
                                    help=did_you_mean(key, decls) or f"its parameters are: {known}")
            if isinstance(raw, bool) or not isinstance(raw, (int, float, np.integer, np.floating)):
                raise BacktestError("HFT1104", f"parameter `{key}` of `{self.name}` is {raw!r}, not a number",
                                    span=decl.span)
            value = float(raw)
            if not math.isfinite(value):
                raise BacktestError("HFT1104", f"parameter `{key}` of `{self.name}` is {raw!r}, not a finite number",
                                    span=decl.span)
            if decl.type is Type.INT and not value.is_integer():
                raise BacktestError("HFT1104", f"parameter `{key}` of `{self.name}` is an int, got {raw!r}",
                                    span=decl.span, help="give a whole number")
            values[key] = int(value) if decl.type is Type.INT else value
        return [float(values[p.name]) for p in self.shape.checked.params]

    def _tape_info(self, path: str) -> TapeInfo:
        with self._tapes_lock:
            info = self._tapes.get(path)
        if info is None:
            info = read_tape_info(path)
            with self._tapes_lock:
                self._tapes[path] = info
        return info

    def _tape_meta(self, path: str) -> dict:
        """The tape's conversion metadata (venue, quality record), read once per path."""
        with self._tapes_lock:
            if path in self._metas:
                return self._metas[path]
        from hftc.data import open_tape

        meta = open_tape(path, validate=False).meta
        with self._tapes_lock:
            self._metas[path] = meta
        return meta

    def names_on(self, tape) -> bool:
        """True when every instrument the strategy trades is on the tape by name."""
        info = self._tape_info(os.fspath(getattr(tape, "path", tape)))
        symbols = {i.symbol.upper() for i in info.instruments}
        return all(w.upper() in symbols for w in (list(self.shape.checked.instruments) or [self.name]))

    def instrument_map(self, info: TapeInfo, explicit: Mapping[str, str] | str | None = None) -> tuple[list[int], str]:
        """Tape instrument of each strategy instrument, and how it was found.

        By symbol when every name is on the tape; otherwise only as `explicit` says: pairs
        {strategy instrument: tape symbol} (names on the tape need no pair), or "position" for the
        tape's instruments in order. Names that disagree without it are HFT1122: a strategy for
        BTCUSDT silently run on ETHUSDT gives a result for the wrong market."""
        wanted = list(self.shape.checked.instruments) or [self.name]
        symbols = [i.symbol.upper() for i in info.instruments]
        if len(info.instruments) < len(wanted):
            raise BacktestError(
                "HFT1106", f"strategy `{self.name}` trades {len(wanted)} instruments ({', '.join(wanted)}) but "
                           f"{info.path} holds {len(info.instruments)} ({', '.join(symbols)})",
                help="convert a tape with every instrument (`hftc data convert A.gz B.gz -o pair.hftt`)")
        if explicit == "position":
            return list(range(len(wanted))), "by position (--map position)"
        pairs = {k.upper(): v.upper() for k, v in (explicit or {}).items()}
        unknown = [k for k in pairs if k not in {w.upper() for w in wanted}]
        if unknown:
            raise BacktestError("HFT1122", f"--map names {', '.join(unknown)}, which strategy `{self.name}` does not "
                                f"trade (it trades {', '.join(wanted)})", help="map the strategy's instruments")
        legs, missing = [], []
        for w in wanted:
            target = pairs.get(w.upper(), w.upper())
            if target in symbols:
                legs.append(symbols.index(target))
            else:
                missing.append(w if w.upper() not in pairs else f"{w} → {target}")
        if missing:
            raise BacktestError(
                "HFT1122", f"strategy `{self.name}` trades {', '.join(missing)}, not on {info.path} "
                           f"(it holds {', '.join(symbols)})",
                help=f"map them explicitly: --map {wanted[0]}={symbols[0]} (repeat per instrument), or --map "
                     "position to take the tape's instruments in order")
        return legs, "by symbol" if not pairs else "as mapped (--map " + ", ".join(f"{k}={v}" for k, v in
                                                                                   pairs.items()) + ")"

    def run(self, tape, params: Mapping[str, object] | None = None,
            options: BacktestOptions | None = None, allow_dirty: bool = False) -> BacktestResult:
        """Replay `tape` (a path or an opened tape with a `.path`) with `params` over the defaults.

        A tape whose data-quality record counts unresolved problems raises HFT1118 unless
        `allow_dirty`; the record is in `result.summary["data_quality"]` (None for older tapes)."""
        options = (options or BacktestOptions()).validated()
        path = os.fspath(getattr(tape, "path", tape))
        info = self._tape_info(path)
        meta = self._tape_meta(path)
        quality = tape_quality(meta)
        refuse_dirty(path, quality, allow_dirty)
        fees = resolve_fees(meta, options.maker_fee_bps, options.taker_fee_bps, options.fee_profile)
        options = dataclasses.replace(options, maker_fee_bps=fees.maker_bps, taker_fee_bps=fees.taker_bps)
        legs, how = self.instrument_map(info, options.instrument_map)
        contracts, currency = contract_terms(path, info, meta, options.contract)
        values = self.param_values(params)
        inst0 = info.instruments[legs[0]]
        risk = risk_setting(self.schema, self.name, inst0, options.risk, inverse=contracts[legs[0]] == "inverse")
        config, keep = _config(options, legs, risk)
        for i, kind in enumerate(contracts):
            config.inverse[i] = int(kind == "inverse")
        summary, raw_fills, equity, raw_quotes = self._lib.run(path, config, values)
        del keep
        fills = _fills(raw_fills, info)
        summary["max_correlation"] = max_correlation(equity)
        wanted = list(self.shape.checked.instruments) or [self.name]
        summary.update({
            "strategy": self.name,
            "tape": path,
            "instrument_map": {w: info.instruments[t].symbol for w, t in zip(wanted, legs)},
            "instrument_map_how": how,
            "params": dict(zip(self.param_names, (int(v) if p.type is Type.INT else v for v, p in
                                                   zip(values, self.shape.checked.params)))),
            "latency": ({"model": "empirical", "samples": len(options.latency_samples), "seed": options.seed,
                         "histogram": _histogram(options.latency_samples)}
                        if options.latency_samples is not None else
                        {"model": "constant", "entry_ns": options.latency_ns, "response_ns": options.latency_ns}),
            "queue": options.queue,
            "cancel": options.cancel,
            "maker_fee_bps": options.maker_fee_bps,
            "taker_fee_bps": options.taker_fee_bps,
            "fee_source": fees.source,
            "contracts": {info.instruments[t].symbol: contracts[t] for t in legs},
            "settlement_currency": currency,
            "capital": options.capital,
            "return_interval_s": options.bar_ns / 1e9,
            "risk": risk.to_json(),
            "data_quality": quality,
        })
        result = BacktestResult(summary, fills, equity, quotes=_quotes(raw_quotes, info))
        summary["constraints"] = self.constraint_findings(result)
        return result

    def constraint_findings(self, result: BacktestResult) -> list[dict]:
        """The strategy's declared constraints checked against this run (`max_leverage <= 3.0` held or not)."""
        from hftc.optimize.problem import parse_constraint

        strategy = self.schema.strategy_named(self.name)
        findings = []
        for declared in (strategy.constraints if strategy is not None else ()):
            parsed, _ = parse_constraint(declared.text)
            if parsed is None:
                continue  # lint reports it; the schema compiled, so this does not happen in practice
            value = result.metric(parsed.metric)
            findings.append({"constraint": declared.text, "value": value, "holds": parsed.holds(value)})
        return findings


def contract_terms(path: str, info: TapeInfo, meta: dict, override: str | None) -> tuple[list[str], str]:
    """Contract type of every tape instrument and the run's settlement currency ("" if unknown).

    A tape that does not record a contract type is refused unless `override` says which it is:
    accounting an inverse contract as linear gives a PnL in the wrong currency and of the wrong
    size, with nothing to show for it."""
    from hftc.data.contracts import contract_of_meta, instrument_metas

    metas = instrument_metas(meta)
    found = [contract_of_meta(metas[i]) if i < len(metas) else (None, "") for i in range(len(info.instruments))]
    if override is not None:
        kinds = [override] * len(found)
    else:
        unknown = [info.instruments[i].symbol for i, (kind, _) in enumerate(found) if kind is None]
        if unknown:
            raise BacktestError("HFT1121", f"{path}: the tape does not say whether {', '.join(unknown)} "
                                "is a linear or an inverse (coin-margined) contract",
                                help="pass --contract linear or --contract inverse (contract= in Python), or "
                                     "convert the capture again with this hftc, which records it")
        kinds = [kind for kind, _ in found]
    currencies = {c for _, c in found if c}
    if len(set(kinds)) > 1:
        raise BacktestError("HFT1121", f"{path}: the tape mixes linear and inverse contracts, whose PnL is in "
                            "different currencies", help="backtest linear and inverse instruments separately")
    return kinds, currencies.pop() if len(currencies) == 1 else ""


def _config(o: BacktestOptions, legs: list[int], risk) -> tuple[Config, object]:
    import ctypes

    c = Config()
    keep = None
    c.entry_latency_ns = c.response_latency_ns = int(o.latency_ns)
    if o.latency_samples is not None:
        keep = np.ascontiguousarray(np.asarray(o.latency_samples, dtype=np.int64))
        c.latency_samples = keep.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))
        c.latency_sample_count = len(keep)
    c.seed = int(o.seed)
    c.queue_model = 1 if o.queue == "probabilistic" else 0
    c.queue_power = o.queue_power
    c.maker_fee_bps = o.maker_fee_bps
    c.taker_fee_bps = o.taker_fee_bps
    c.capital = o.capital
    c.start_ns = int(o.start_ns) if o.start_ns is not None else 0
    c.end_ns = int(o.end_ns) if o.end_ns is not None else INT64_MAX
    c.sample_ns = int(o.sample_ns)
    c.bar_ns = int(o.bar_ns)
    c.cancel_policy = CANCEL_POLICIES.index(o.cancel)
    c.risk_enabled = int(risk.enabled)
    c.risk_max_position = risk.max_position
    c.risk_max_order_qty = risk.max_order_qty
    c.risk_max_orders_per_second = risk.max_orders_per_second
    c.risk_price_band_bps = risk.price_band_bps
    c.risk_max_notional = risk.max_notional
    c.risk_kill_switch = int(risk.kill_switch)
    c.risk_max_open_notional = risk.max_open_notional
    c.risk_max_open_orders = risk.max_open_orders
    for i in range(MAX_INSTRUMENTS):
        c.legs[i] = legs[i] if i < len(legs) else 0
    return c, keep


def _histogram(samples, bins: int = 24) -> dict:
    """The latency samples' distribution, for the report (the samples themselves stay with the caller)."""
    counts, edges = np.histogram(np.asarray(samples, dtype=np.float64), bins=bins)
    return {"edges_ns": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def _quotes(raw: np.ndarray, info: TapeInfo) -> np.ndarray:
    """Quote changes with symbol and price in natural units (qty 0: the side was withdrawn)."""
    out = np.zeros(len(raw), dtype=QUOTES_DTYPE)
    if not len(raw):
        return out
    for name in ("local_ts", "instrument", "side", "px", "qty"):
        out[name] = raw[name]
    idx = raw["instrument"].astype(np.intp)
    out["symbol"] = np.array([i.symbol for i in info.instruments])[idx]
    for k, inst in enumerate(info.instruments):
        rows = idx == k
        out["price"][rows] = np.round(raw["px"][rows] * inst.tick_size, _decimals(inst.tick_size))
        out["quantity"][rows] = np.round(raw["qty"][rows] * inst.lot_size, _decimals(inst.lot_size))
    return out


def _fills(raw: np.ndarray, info: TapeInfo) -> np.ndarray:
    out = np.zeros(len(raw), dtype=FILLS_DTYPE)
    if not len(raw):
        return out
    for name in ("local_ts", "exch_ts", "order_id", "px", "qty", "fee"):
        out[name] = raw[name]
    out["instrument"] = raw["instrument"]
    out["side"] = raw["side"]
    out["maker"] = raw["maker"] != 0
    syms = np.array([i.symbol for i in info.instruments])
    idx = raw["instrument"].astype(np.intp)
    out["symbol"] = syms[idx]
    for k, inst in enumerate(info.instruments):
        rows = idx == k
        # Rounded to the step's decimals: 618016 ticks of 0.1 is 61801.6, not 61801.600000000006.
        out["price"][rows] = np.round(raw["px"][rows] * inst.tick_size, _decimals(inst.tick_size))
        out["quantity"][rows] = np.round(raw["qty"][rows] * inst.lot_size, _decimals(inst.lot_size))
    return out


def _decimals(step: float) -> int:
    """Decimal places of a tick or lot size as written (0.001 -> 3), at most 15."""
    from decimal import Decimal

    exponent = Decimal(repr(float(step))).normalize().as_tuple().exponent
    return min(max(0, -int(exponent)), 15) if isinstance(exponent, int) else 15


__all__ = ["CompiledStrategy", "compile_strategy"]
