"""A self-contained SVG of a study: every pair of objectives (a scatter matrix), or the objective by trial.

No plotting library: the picture is small and must open anywhere (browser,
report, CI artefact) without scripts or fonts beyond the generic families.
Axes are clipped to robust quantiles of the feasible trials so that one wild
trial does not squash the rest into a corner; clipped points sit on the edge
with an outward arrow and keep their true values in the hover title.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from hftc.optimize.pareto import TrialRecord

WIDTH, HEIGHT = 720, 480  # one panel (two objectives, or one objective by trial)
CELL_W, CELL_H = 330, 280  # one panel of the matrix (three or more objectives)
HEADER = 72  # title, legend and clipping note above the panels
LEFT, RIGHT, TOP, BOTTOM = 74, 14, 10, 46  # inside a panel: room for tick labels and axis names
QUANTILES = (2.0, 98.0)  # robust axis range, in percent of the feasible trials' values
SLACK = 0.25  # points up to this fraction of the quantile span beyond it are still shown unclipped


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.2e}"
    return f"{value:.6g}"


def _percentile(ordered: Sequence[float], q: float, inward: int) -> float:
    """The q-th percentile of sorted values, rounded towards the middle (inward=+1 from below, -1 from above).

    Rounding inward keeps a single wild value out of the estimate even when the sample is so
    small that 2% of it is less than one trial (interpolation would pull the bound towards it).
    """
    pos = (len(ordered) - 1) * q / 100.0
    return ordered[math.ceil(pos) if inward > 0 else math.floor(pos)]


MIN_TO_CLIP = 10  # fewer feasible trials than this: show the full range, there is no "rest" to protect


def robust_range(values: Sequence[float], reference: Sequence[float]) -> tuple[float, float, bool]:
    """(low, high, clipped) of an axis: `values`' range, cut to the quantiles of `reference` plus slack.

    `reference` is the feasible trials' values (all trials' when none is feasible). When the
    quantile span is zero (most trials agree, e.g. no drawdown) nothing is clipped, since the
    few different trials are the interesting ones.
    """
    finite = [v for v in values if math.isfinite(v)]
    ref = [v for v in reference if math.isfinite(v)] or finite
    if not finite:
        return 0.0, 1.0, False
    low, high = min(finite), max(finite)
    if len(ref) < MIN_TO_CLIP:
        return low, high, False
    ordered = sorted(ref)
    q_lo, q_hi = _percentile(ordered, QUANTILES[0], +1), _percentile(ordered, QUANTILES[1], -1)
    span = q_hi - q_lo
    clipped = False
    if span > 0:
        cut_lo, cut_hi = q_lo - SLACK * span, q_hi + SLACK * span
        if low < cut_lo:
            low, clipped = cut_lo, True
        if high > cut_hi:
            high, clipped = cut_hi, True
    return low, high, clipped


@dataclass
class _Axis:
    low: float
    high: float
    clipped: bool

    @classmethod
    def of(cls, values: Sequence[float], reference: Sequence[float], robust: bool = True) -> _Axis:
        finite = [v for v in values if math.isfinite(v)] or [0.0]
        low, high, clipped = robust_range(values, reference) if robust else (min(finite), max(finite), False)
        pad = (high - low) * 0.05 or (abs(low) * 0.05 or 1.0)
        return cls(low - pad, high + pad, clipped)

    def clamp(self, value: float) -> tuple[float, int]:
        """The value kept inside the axis and -1/0/+1 for clipped below / inside / above."""
        if value < self.low:
            return self.low, -1
        if value > self.high:
            return self.high, 1
        return value, 0


class _Panel:
    """One scatter panel at (ox, oy) of size w x h in the picture."""

    def __init__(self, ox: float, oy: float, w: float, h: float, xaxis: _Axis, yaxis: _Axis):
        self.ox, self.oy, self.w, self.h = ox, oy, w, h
        self.xa, self.ya = xaxis, yaxis

    def x(self, value: float) -> float:
        return self.ox + LEFT + (value - self.xa.low) / (self.xa.high - self.xa.low) * (self.w - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return (self.oy + self.h - BOTTOM
                - (value - self.ya.low) / (self.ya.high - self.ya.low) * (self.h - TOP - BOTTOM))

    def frame(self, xlabel: str, ylabel: str) -> list[str]:
        x0, x1, y0, y1 = self.ox + LEFT, self.ox + self.w - RIGHT, self.oy + TOP, self.oy + self.h - BOTTOM
        out = [(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" fill="#fff" '
                'stroke="#888"/>'),
               f'<text x="{(x0 + x1) / 2:.1f}" y="{y1 + 36:.1f}" text-anchor="middle">{escape(xlabel)}</text>',
               (f'<text transform="translate({self.ox + 14:.1f} {(y0 + y1) / 2:.1f}) rotate(-90)" '
                f'text-anchor="middle">{escape(ylabel)}</text>')]
        for t in nice_ticks(self.xa.low, self.xa.high, 4 if self.w < WIDTH else 5):
            px = self.x(t)
            out.append(f'<line x1="{px:.1f}" y1="{y0:.1f}" x2="{px:.1f}" y2="{y1:.1f}" stroke="#eee"/>')
            out.append(f'<text x="{px:.1f}" y="{y1 + 16:.1f}" text-anchor="middle" font-size="11">{_fmt(t)}</text>')
        for t in nice_ticks(self.ya.low, self.ya.high):
            py = self.y(t)
            out.append(f'<line x1="{x0:.1f}" y1="{py:.1f}" x2="{x1:.1f}" y2="{py:.1f}" stroke="#eee"/>')
            out.append(f'<text x="{x0 - 6:.1f}" y="{py + 4:.1f}" text-anchor="end" font-size="11">{_fmt(t)}</text>')
        return out

    def place(self, xv: float, yv: float) -> tuple[float, float, int, int]:
        """Picture coordinates of a point and its clip directions on x and y."""
        cx, dx = self.xa.clamp(xv)
        cy, dy = self.ya.clamp(yv)
        return self.x(cx), self.y(cy), dx, dy


DOT = '<circle r="3" fill="#bbb"/>'
FRONT = '<circle r="4.5" fill="#1f77b4"/>'
INFEASIBLE = '<path d="M-3,-3L3,3M-3,3L3,-3" stroke="#d62728" stroke-width="1.5"/>'
CHOSEN = '<circle r="8" fill="none" stroke="#ff7f0e" stroke-width="2.5"/>'
CLIPPED = '<path d="M0,-7L4,-1L-4,-1Z" fill="#333"/>'  # legend swatch: an arrow pointing off the axis


def _clip_arrow(dx: int, dy: int) -> str:
    """A small dark arrow pointing the way the point's true value lies (off the axis)."""
    angle = math.degrees(math.atan2(-dy, dx)) + 90.0  # 0 degrees = pointing up in SVG
    return f'<path class="clip-arrow" d="M0,-9L4,-3L-4,-3Z" fill="#333" transform="rotate({angle:.0f})"/>'


def _legend(items: list[tuple[str, str]], y: float) -> list[str]:
    out = []
    x = 16.0
    for swatch, label in items:
        out.append(f'<g transform="translate({x:.0f} {y:.0f})">{swatch}'
                   f'<text x="10" y="4" font-size="11">{escape(label)}</text></g>')
        x += 22 + 6.5 * len(label)
    return out


def _point(t: TrialRecord, front_numbers: set[int], values: tuple[float, float], panel: _Panel,
           extra: str = "") -> str:
    x, y, dx, dy = panel.place(*values)
    shape = FRONT if t.number in front_numbers else (DOT if t.feasible else INFEASIBLE)
    state = "front" if t.number in front_numbers else ("feasible" if t.feasible else "infeasible")
    clipped = dx != 0 or dy != 0
    params = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.params.items())
    title = f"trial {t.number} ({state}): {', '.join(_fmt(v) for v in t.values)}; {params}"
    return (f'<g class="trial {state}{" clipped" if clipped else ""}" transform="translate({x:.1f} {y:.1f})">'
            f'<title>{escape(title)}</title>{shape}{_clip_arrow(dx, dy) if clipped else ""}{extra}</g>')


def _by_trial(trials: Sequence[TrialRecord], front_numbers: set[int], chosen: TrialRecord | None, label: str,
              direction: str, reference: list[TrialRecord]) -> tuple[list[str], bool]:
    """One objective: its value by trial number with the running best of the feasible trials."""
    ys = [t.values[0] for t in trials]
    xaxis = _Axis.of([float(t.number) for t in trials], [], robust=False)
    yaxis = _Axis.of(ys, [t.values[0] for t in reference])
    panel = _Panel(0, HEADER, WIDTH, HEIGHT - HEADER, xaxis, yaxis)
    arrow = "↑" if direction == "maximize" else "↓"
    parts = ['<g class="panel" data-x="trial" data-y="' + escape(label) + '">']
    parts += panel.frame("trial", f"{label} {arrow}")
    best: float | None = None
    steps: list[str] = []
    better = (lambda a, b: a > b) if direction == "maximize" else (lambda a, b: a < b)
    for t in sorted(trials, key=lambda r: r.number):
        if t.feasible and math.isfinite(t.values[0]) and (best is None or better(t.values[0], best)):
            best = t.values[0]
        if best is not None:
            x, y, _, _ = panel.place(float(t.number), best)
            steps.append(f"{'M' if not steps else 'L'}{x:.1f},{y:.1f}")
    if steps:
        parts.append(f'<path d="{" ".join(steps)}" fill="none" stroke="#1f77b4" stroke-opacity="0.6"/>')
    clipped = False
    for t in trials:
        if math.isfinite(t.values[0]):
            parts.append(_point(t, front_numbers, (float(t.number), t.values[0]), panel))
            clipped |= panel.place(float(t.number), t.values[0])[3] != 0
    if chosen is not None and math.isfinite(chosen.values[0]):
        x, y, _, _ = panel.place(float(chosen.number), chosen.values[0])
        parts.append(f'<g class="chosen" transform="translate({x:.1f} {y:.1f})">{CHOSEN}</g>')
    parts.append("</g>")
    return parts, clipped


def pareto_svg(trials: Sequence[TrialRecord], front: Sequence[TrialRecord], chosen: TrialRecord | None,
               labels: Sequence[str], directions: Sequence[str], title: str) -> str:
    """Every pair of objectives against each other (a scatter matrix for three or more), or value by trial.

    Trials are grey dots (feasible), red crosses (infeasible: a constraint or the minimum
    activity failed), blue discs (the Pareto front), and the chosen trial is ringed in orange.
    """
    front_numbers = {t.number for t in front}
    reference = [t for t in trials if t.feasible] or list(trials)
    parts: list[str] = []
    if len(labels) < 2:
        width, height = WIDTH, HEIGHT
        panel_parts, clipped = _by_trial(trials, front_numbers, chosen, labels[0], directions[0], reference)
        parts += panel_parts
    else:
        k = len(labels)
        arrows = ["↑" if d == "maximize" else "↓" for d in directions]
        axes = [_Axis.of([t.values[i] for t in trials], [t.values[i] for t in reference]) for i in range(k)]
        clipped = any(a.clipped for a in axes)
        pairs = list(itertools.combinations(range(k), 2))
        cw, ch = (WIDTH, HEIGHT - HEADER) if k == 2 else (CELL_W, CELL_H)
        width, height = (k - 1) * cw if k > 2 else WIDTH, HEADER + (k - 1) * ch
        for i, j in pairs:  # x = objective i, y = objective j; row j-1, column i: the lower triangle
            panel = _Panel(i * cw, HEADER + (j - 1) * ch, cw, ch, axes[i], axes[j])
            parts.append(f'<g class="panel" data-x="{escape(labels[i])}" data-y="{escape(labels[j])}">')
            parts += panel.frame(f"{labels[i]} {arrows[i]}", f"{labels[j]} {arrows[j]}")
            if k == 2 and len(front) > 1:
                ordered = sorted(front, key=lambda t: (t.values[0], t.values[1]))
                path = " ".join(f"{'M' if n == 0 else 'L'}{panel.place(t.values[0], t.values[1])[0]:.1f},"
                                f"{panel.place(t.values[0], t.values[1])[1]:.1f}" for n, t in enumerate(ordered))
                parts.append(f'<path d="{path}" fill="none" stroke="#1f77b4" stroke-opacity="0.5"/>')
            for t in trials:
                if math.isfinite(t.values[i]) and math.isfinite(t.values[j]):
                    parts.append(_point(t, front_numbers, (t.values[i], t.values[j]), panel))
            if chosen is not None and math.isfinite(chosen.values[i]) and math.isfinite(chosen.values[j]):
                x, y, _, _ = panel.place(chosen.values[i], chosen.values[j])
                parts.append(f'<g class="chosen" transform="translate({x:.1f} {y:.1f})">{CHOSEN}</g>')
            parts.append("</g>")
        if k > 2:
            title += f" ({len(pairs)} pairs of {k} objectives)"
    legend = [(DOT, "feasible trial"), (INFEASIBLE, "infeasible"),
              (FRONT, "Pareto front" if len(labels) > 1 else "best so far"), (CHOSEN, "chosen")]
    if clipped:
        legend.append((CLIPPED, "clipped"))
    head = [f'<text x="{width / 2:.1f}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>']
    head += _legend(legend, 42)
    if clipped:
        head.append(f'<text class="clip-note" x="16" y="63" font-size="11" fill="#444">Axes cut at the '
                    f'{QUANTILES[0]:g}th-{QUANTILES[1]:g}th percentile of feasible trials (+{SLACK:.0%}); '
                    'arrows mark trials beyond (values in their titles).</text>')
    body = "\n".join(head + parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">\n'
            f'<rect width="100%" height="100%" fill="#fafafa"/>\n{body}\n</svg>\n')


__all__ = ["nice_ticks", "pareto_svg", "robust_range"]
