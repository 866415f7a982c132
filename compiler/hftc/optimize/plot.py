"""A self-contained SVG of a study: the Pareto front, or the objective by trial for one objective.

No plotting library: the picture is small and must open anywhere (browser,
report, CI artefact) without scripts or fonts beyond the generic families.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from hftc.optimize.pareto import TrialRecord

WIDTH, HEIGHT = 720, 480
LEFT, RIGHT, TOP, BOTTOM = 86, 24, 44, 58


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


class _Axes:
    def __init__(self, xs: Sequence[float], ys: Sequence[float]):
        self.x0, self.x1 = self._range(xs)
        self.y0, self.y1 = self._range(ys)

    @staticmethod
    def _range(values: Sequence[float]) -> tuple[float, float]:
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return 0.0, 1.0
        low, high = min(finite), max(finite)
        pad = (high - low) * 0.05 or (abs(low) * 0.05 or 1.0)
        return low - pad, high + pad

    def x(self, value: float) -> float:
        return LEFT + (value - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - (value - self.y0) / (self.y1 - self.y0) * (HEIGHT - TOP - BOTTOM)

    def frame(self, title: str, xlabel: str, ylabel: str) -> list[str]:
        out = [(f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
                'fill="#fff" stroke="#888"/>'),
               f'<text x="{WIDTH / 2:.1f}" y="24" text-anchor="middle" font-size="15">{escape(title)}</text>',
               (f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{HEIGHT - 14}" text-anchor="middle">'
                f'{escape(xlabel)}</text>'),
               (f'<text transform="translate(18 {(TOP + HEIGHT - BOTTOM) / 2:.1f}) rotate(-90)" '
                f'text-anchor="middle">{escape(ylabel)}</text>')]
        for t in nice_ticks(self.x0, self.x1):
            px = self.x(t)
            out.append(f'<line x1="{px:.1f}" y1="{TOP}" x2="{px:.1f}" y2="{HEIGHT - BOTTOM}" stroke="#eee"/>')
            out.append(f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11">'
                       f'{_fmt(t)}</text>')
        for t in nice_ticks(self.y0, self.y1):
            py = self.y(t)
            out.append(f'<line x1="{LEFT}" y1="{py:.1f}" x2="{WIDTH - RIGHT}" y2="{py:.1f}" stroke="#eee"/>')
            out.append(f'<text x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end" font-size="11">{_fmt(t)}</text>')
        return out


def _legend(items: list[tuple[str, str]]) -> list[str]:
    out = []
    x = LEFT + 8
    for swatch, label in items:
        out.append(f'<g transform="translate({x} {TOP + 14})">{swatch}'
                   f'<text x="10" y="4" font-size="11">{escape(label)}</text></g>')
        x += 22 + 7 * len(label)
    return out


DOT = '<circle r="3" fill="#bbb"/>'
FRONT = '<circle r="4.5" fill="#1f77b4"/>'
INFEASIBLE = '<path d="M-3,-3L3,3M-3,3L3,-3" stroke="#d62728" stroke-width="1.5"/>'
CHOSEN = '<circle r="8" fill="none" stroke="#ff7f0e" stroke-width="2.5"/>'


def pareto_svg(trials: Sequence[TrialRecord], front: Sequence[TrialRecord], chosen: TrialRecord | None,
               labels: Sequence[str], directions: Sequence[str], title: str) -> str:
    """The first two objectives against each other (several objectives) or value by trial (one)."""
    parts: list[str] = []
    front_numbers = {t.number for t in front}
    arrows = ["↑" if d == "maximize" else "↓" for d in directions]
    if len(labels) >= 2:
        axes = _Axes([t.values[0] for t in trials], [t.values[1] for t in trials])
        xlabel, ylabel = f"{labels[0]} {arrows[0]}", f"{labels[1]} {arrows[1]}"
        if len(labels) > 2:
            title += f" (first 2 of {len(labels)} objectives)"
        parts += axes.frame(title, xlabel, ylabel)
        point = lambda t: (axes.x(t.values[0]), axes.y(t.values[1]))
        ordered = sorted(front, key=lambda t: (t.values[0], t.values[1]))
        if len(labels) == 2 and len(ordered) > 1:
            path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in
                            enumerate(point(t) for t in ordered))
            parts.append(f'<path d="{path}" fill="none" stroke="#1f77b4" stroke-opacity="0.5"/>')
    else:
        axes = _Axes([float(t.number) for t in trials], [t.values[0] for t in trials])
        parts += axes.frame(title, "trial", f"{labels[0]} {arrows[0]}")
        point = lambda t: (axes.x(float(t.number)), axes.y(t.values[0]))
        best: float | None = None
        steps: list[str] = []
        better = (lambda a, b: a > b) if directions[0] == "maximize" else (lambda a, b: a < b)
        for t in sorted(trials, key=lambda r: r.number):
            if t.feasible and (best is None or better(t.values[0], best)):
                best = t.values[0]
            if best is not None:
                steps.append(f"{'M' if not steps else 'L'}{axes.x(float(t.number)):.1f},{axes.y(best):.1f}")
        if steps:
            parts.append(f'<path d="{" ".join(steps)}" fill="none" stroke="#1f77b4" stroke-opacity="0.6"/>')
    for t in trials:
        if not all(math.isfinite(v) for v in t.values[:2]):
            continue
        x, y = point(t)
        shape = FRONT if t.number in front_numbers else (DOT if t.feasible else INFEASIBLE)
        parts.append(f'<g transform="translate({x:.1f} {y:.1f})"><title>trial {t.number}: '
                     f'{escape(", ".join(f"{k}={v:.6g}" for k, v in t.params.items()))}</title>{shape}</g>')
    if chosen is not None:
        x, y = point(chosen)
        parts.append(f'<g transform="translate({x:.1f} {y:.1f})">{CHOSEN}</g>')
    parts += _legend([(DOT, "trial"), (INFEASIBLE, "infeasible"), (FRONT, "Pareto front" if len(labels) > 1
                                                                  else "best"), (CHOSEN, "chosen")])
    body = "\n".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">\n'
            f'<rect width="100%" height="100%" fill="#fafafa"/>\n{body}\n</svg>\n')


__all__ = ["nice_ticks", "pareto_svg"]
