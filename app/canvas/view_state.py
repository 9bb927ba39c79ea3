"""The zoom and pan shared by every pane that shows the same photo (side-by-side panes stay in sync
because they share one ViewState)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, Signal

# Zoom levels that Ctrl +/- steps through (fractions of 100%).
ZOOM_LEVELS = (
    1 / 32,
    1 / 24,
    1 / 16,
    1 / 12,
    1 / 8,
    1 / 6,
    1 / 4,
    1 / 3,
    1 / 2,
    2 / 3,
    1.0,
    1.5,
    2.0,
    3.0,
    4.0,
    6.0,
    8.0,
    12.0,
    16.0,
    24.0,
    32.0,
)
MIN_ZOOM, MAX_ZOOM = ZOOM_LEVELS[0], ZOOM_LEVELS[-1]


def clamp_zoom(z: float) -> float:
    return min(max(float(z), MIN_ZOOM), MAX_ZOOM)


def next_zoom_level(z: float, direction: int) -> float:
    """The next standard zoom level above (direction > 0) or below (direction < 0) z."""
    eps = 1e-6
    if direction > 0:
        return next((lv for lv in ZOOM_LEVELS if lv > z + eps), MAX_ZOOM)
    return next((lv for lv in reversed(ZOOM_LEVELS) if lv < z - eps), MIN_ZOOM)


class ViewState(QObject):
    """Zoom factor, fit flag and the image point shown at the centre of the view."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._zoom = 1.0
        self._fit = True
        self._center = QPointF(0.0, 0.0)

    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def fit(self) -> bool:
        return self._fit

    @property
    def center(self) -> QPointF:
        return QPointF(self._center)

    def set_fit(self) -> None:
        self._fit = True
        self.changed.emit()

    def set_view(self, zoom: float, center: QPointF) -> None:
        zoom = clamp_zoom(zoom)
        if not self._fit and abs(zoom - self._zoom) < 1e-9 and center == self._center:
            return
        self._fit = False
        self._zoom = zoom
        self._center = QPointF(center)
        self.changed.emit()

    def set_center(self, center: QPointF) -> None:
        self.set_view(self._zoom, center)
