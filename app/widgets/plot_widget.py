"""A tiny QPainter line plot for live training curves (no matplotlib).

Each series has its own y axis, on the left or the right, linear or logarithmic. Points are appended
as they arrive; repaints are throttled (at most one every `REDRAW_INTERVAL_MS`), and long series are
thinned to about one point per pixel when drawn, so a plot fed every step of a long run stays cheap.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

REDRAW_INTERVAL_MS = 200


@dataclass
class Series:
    name: str
    color: QColor
    side: str = "left"  # which y axis: "left" or "right"
    log: bool = False
    unit: str = ""
    marker: bool = False  # draw a dot on each point (sparse series such as validation)
    legend: bool = True
    width: float = 1.6
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)


def _nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    ticks, v = [], first
    while v <= hi + step * 1e-6:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Ticks (as log10 values) for a log axis spanning lo..hi (log10 units): decades when it spans
    several, else 1-2-5 steps, else every digit."""
    if hi - lo >= 2.5:
        return list(range(math.ceil(lo), math.floor(hi) + 1))
    for mantissas in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [math.log10(m) + e for e in range(math.floor(lo) - 1, math.ceil(hi) + 1) for m in mantissas]
        ticks = [t for t in ticks if lo <= t <= hi]
        if len(ticks) >= 2:
            return ticks
    return [math.log10(v) for v in _nice_ticks(10**lo, 10**hi) if v > 0]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.3g}"
    return f"{v:.1e}" if a < 1e-3 else f"{v:.3g}"


class LinePlot(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("linePlot")
        self.series: dict[str, Series] = {}
        self.x_label = "step"
        self.placeholder = "No data yet"
        self.paint_count = 0  # for tests: how many times the plot was actually painted
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.update)
        self.setMinimumSize(260, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(480, 240)

    # ------------------------------------------------------------------ data
    def add_series(
        self,
        key: str,
        name: str,
        color: QColor | str,
        *,
        side: str = "left",
        log: bool = False,
        unit: str = "",
        marker: bool = False,
        legend: bool = True,
        width: float = 1.6,
    ) -> None:
        self.series[key] = Series(name, QColor(color), side, log, unit, marker, legend, width)

    def add_point(self, key: str, x: float, y: float) -> None:
        s = self.series[key]
        y = float(y)
        if not math.isfinite(y) or (s.log and y <= 0):
            return
        x = float(x)
        if s.xs and x < s.xs[-1]:  # a late point (e.g. the score before training): keep x sorted
            i = bisect.bisect_right(s.xs, x)
            s.xs.insert(i, x)
            s.ys.insert(i, y)
        else:
            s.xs.append(x)
            s.ys.append(y)
        self.schedule_redraw()

    def clear(self) -> None:
        for s in self.series.values():
            s.xs.clear()
            s.ys.clear()
        self.update()

    def point_count(self, key: str | None = None) -> int:
        if key is not None:
            return len(self.series[key].xs)
        return sum(len(s.xs) for s in self.series.values())

    def schedule_redraw(self) -> None:
        """Repaint soon, at most once per REDRAW_INTERVAL_MS however fast points arrive."""
        if not self._timer.isActive():
            self._timer.start()

    # ------------------------------------------------------------------ painting
    def _y_range(self, side: str) -> tuple[float, float, bool] | None:
        ys, log = [], False
        for s in self.series.values():
            if s.side == side and s.ys:
                ys.extend(math.log10(y) if s.log else y for y in s.ys)
                log = log or s.log
        if not ys:
            return None
        lo, hi = min(ys), max(ys)
        if hi - lo < 1e-9:
            pad = 0.5 if log else max(abs(hi) * 0.05, 0.5)
            lo, hi = lo - pad, hi + pad
        else:
            pad = (hi - lo) * 0.08
            lo, hi = lo - pad, hi + pad
        return lo, hi, log

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        self.paint_count += 1
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(30, 30, 33))
        fm = QFontMetrics(self.font())
        th = fm.height()
        left_range, right_range = self._y_range("left"), self._y_range("right")
        ml = fm.horizontalAdvance("0.0e-00") + 12
        mr = fm.horizontalAdvance("00.0") + 14 if right_range else 12
        top, bottom = th + 14, 2 * th + 10  # legend above; tick labels and the axis title below
        plot = QRectF(ml, top, max(10, self.width() - ml - mr), max(10, self.height() - top - bottom))

        xs = [x for s in self.series.values() for x in s.xs]
        p.setPen(QColor(70, 70, 76))
        p.drawRect(plot)
        if not xs:
            p.setPen(QColor(140, 140, 146))
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, self.placeholder)
            self._draw_legend(p, fm)
            p.end()
            return
        x0, x1 = min(xs), max(xs)
        if x1 - x0 < 1e-9:
            x1 = x0 + 1

        def px(x: float) -> float:
            return plot.left() + (x - x0) / (x1 - x0) * plot.width()

        def py(v: float, rng) -> float:
            lo, hi, _ = rng
            return plot.bottom() - (v - lo) / (hi - lo) * plot.height()

        # grid and axes
        grid = QPen(QColor(52, 52, 57))
        grid.setStyle(Qt.PenStyle.DotLine)
        label = QColor(150, 150, 156)
        for side, rng in (("left", left_range), ("right", right_range)):
            if rng is None:
                continue
            lo, hi, log = rng
            ticks = _log_ticks(lo, hi) if log else _nice_ticks(lo, hi)
            for t in ticks:
                y = py(t, rng)
                if side == "left":
                    p.setPen(grid)
                    p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
                p.setPen(label)
                text = _fmt(10**t if log else t)
                if side == "left":
                    r = QRectF(0, y - th / 2, ml - 6, th)
                    p.drawText(r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
                else:
                    r = QRectF(plot.right() + 6, y - th / 2, mr - 6, th)
                    p.drawText(r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        p.setPen(label)
        for t in _nice_ticks(x0, x1, 5):
            if t < x0 - 1e-9:
                continue
            x = px(t)
            p.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            r = QRectF(x - 40, plot.bottom() + 4, 80, th)
            p.drawText(r, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, _fmt(t))
        p.drawText(
            QRectF(plot.left(), plot.bottom() + 4 + th, plot.width(), th), Qt.AlignmentFlag.AlignHCenter, self.x_label
        )

        # curves
        p.save()
        p.setClipRect(plot.adjusted(-3, -3, 3, 3))
        for s in self.series.values():
            rng = left_range if s.side == "left" else right_range
            if not s.xs or rng is None:
                continue
            stride = max(1, len(s.xs) // max(1, int(plot.width())))
            idx = list(range(0, len(s.xs), stride))
            if idx[-1] != len(s.xs) - 1:
                idx.append(len(s.xs) - 1)
            pts = [QPointF(px(s.xs[i]), py(math.log10(s.ys[i]) if s.log else s.ys[i], rng)) for i in idx]
            pen = QPen(s.color, s.width)
            p.setPen(pen)
            if len(pts) > 1:
                path = QPainterPath(pts[0])
                for q in pts[1:]:
                    path.lineTo(q)
                p.drawPath(path)
            if s.marker or len(pts) == 1:
                p.setBrush(s.color)
                for q in pts:
                    p.drawEllipse(q, 2.6, 2.6)
                p.setBrush(Qt.BrushStyle.NoBrush)
        p.restore()
        self._draw_legend(p, fm)
        p.end()

    def _draw_legend(self, p: QPainter, fm: QFontMetrics) -> None:
        x = 10.0
        for s in self.series.values():
            if not s.legend:
                continue
            last = f" {_fmt(s.ys[-1])}{(' ' + s.unit) if s.unit else ''}" if s.ys else ""
            text = f"{s.name}{last}" + ("  (right axis)" if s.side == "right" else "")
            p.setPen(QPen(s.color, 3))
            p.drawLine(QPointF(x, 6 + fm.height() / 2), QPointF(x + 14, 6 + fm.height() / 2))
            p.setPen(QColor(210, 210, 214))
            p.drawText(QPointF(x + 19, 6 + fm.ascent()), text)
            x += 19 + fm.horizontalAdvance(text) + 18
