"""Before/after comparison: the result alone (hold backslash to flash the original), a split view
with a draggable divider, or side-by-side panes that share one zoom and pan."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QPointF, QRect, QRectF, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.canvas.view_state import ViewState, next_zoom_level
from app.canvas.viewer import ImageCanvas


class CompareMode(str, Enum):
    SINGLE = "single"
    SPLIT = "split"
    SIDE_BY_SIDE = "side-by-side"

    @property
    def title(self) -> str:
        return {"single": "Result", "split": "Split", "side-by-side": "Side by side"}[self.value]


class CompareView(QWidget):
    """The central area of the window: one or two ImageCanvas panes over a shared ViewState."""

    mode_changed = Signal(str)
    view_changed = Signal()  # zoom or pan changed
    cursor_moved = Signal(object)
    stroke_started = Signal(QPointF)
    stroke_moved = Signal(QPointF)
    stroke_finished = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = ViewState(self)
        self.before_canvas = ImageCanvas(self.state, self)
        self.before_canvas.label = "Before"
        self.canvas = ImageCanvas(self.state, self)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.before_canvas, 1)
        lay.addWidget(self.canvas, 1)
        self.before_canvas.hide()
        self._mode = CompareMode.SINGLE
        self._flash = False
        self.state.changed.connect(self.view_changed)
        self.canvas.resized.connect(self.view_changed)
        for c in self.canvases():
            c.cursor_moved.connect(self.cursor_moved)
            c.stroke_started.connect(self.stroke_started)
            c.stroke_moved.connect(self.stroke_moved)
            c.stroke_finished.connect(self.stroke_finished)

    def canvases(self) -> tuple[ImageCanvas, ImageCanvas]:
        return (self.canvas, self.before_canvas)

    # ------------------------------------------------------------------ content
    def set_images(self, result: QImage | None, original: QImage | None = None) -> None:
        """Show a result and its original. When the result's size differs from what was shown (an
        upscale, or its undo), a zoomed-in view keeps showing the same part of the photo."""
        original = original if original is not None else result
        old = self.canvas.image_size()
        self.canvas.set_images(result, original)
        # the Before pane counts in the result's pixels too: both panes show the same region
        size = result.size() if result is not None else None
        self.before_canvas.set_images(original, original, size=size)
        self.before_canvas.loupe_result = result
        new = self.canvas.image_size()
        if not self.state.fit and not old.isEmpty() and not new.isEmpty() and old != new:
            f = new.width() / old.width()
            c = self.state.center
            self.state.set_view(self.state.zoom / f, QPointF(c.x() * f, c.y() * new.height() / old.height()))
        self.view_changed.emit()

    def update_result_region(self, rect: QRect) -> None:
        """Part of the shown result was painted over (a finished tile of a running restore)."""
        for c in self.canvases():
            if c.loupe:
                c.update()  # the loupe may show any part of the photo
            else:
                c.update(c.image_to_widget_rect(QRectF(rect)).toAlignedRect().adjusted(-1, -1, 1, 1))

    def visible_box(self) -> tuple[int, int, int, int] | None:
        """(top, bottom, left, right) of the photo in view, in result pixels; None without a photo."""
        if not self.has_image():
            return None
        r = self.canvas.visible_image_rect()
        return (int(r.top()), int(r.bottom() + 0.999), int(r.left()), int(r.right() + 0.999))

    def set_mask_image(self, mask: QImage | None) -> None:
        self.canvas.set_mask_image(mask)
        self.before_canvas.set_mask_image(mask)

    def mask_changed(self, rect: QRect | None = None) -> None:
        for c in self.canvases():
            c.mask_changed(rect)

    def has_image(self) -> bool:
        return self.canvas.has_image()

    # ------------------------------------------------------------------ modes
    @property
    def mode(self) -> CompareMode:
        return self._mode

    def set_mode(self, mode: CompareMode | str) -> None:
        mode = CompareMode(mode)
        self._mode = mode
        self.canvas.split = mode is CompareMode.SPLIT
        self.canvas.label = "After" if mode is CompareMode.SIDE_BY_SIDE else None
        self.before_canvas.setVisible(mode is CompareMode.SIDE_BY_SIDE)
        self.canvas.update()
        self.mode_changed.emit(mode.value)
        self.view_changed.emit()

    @property
    def flashing(self) -> bool:
        return self._flash

    def set_flash(self, on: bool) -> None:
        """Show the original in place of the result while the compare key is held."""
        self._flash = bool(on)
        self.canvas.flash_before = self._flash
        self.canvas.update()

    def set_divider(self, fraction: float) -> None:
        self.canvas.divider = min(max(float(fraction), 0.0), 1.0)
        self.canvas.update()

    # ------------------------------------------------------------------ zoom
    def zoom(self) -> float:
        return self.canvas.effective_zoom()

    def zoom_in(self) -> None:
        self.canvas.zoom_to(next_zoom_level(self.zoom(), +1))

    def zoom_out(self) -> None:
        self.canvas.zoom_to(next_zoom_level(self.zoom(), -1))

    def zoom_fit(self) -> None:
        self.state.set_fit()

    def zoom_actual(self) -> None:
        self.canvas.zoom_to(1.0)

    # ------------------------------------------------------------------ tools
    def set_brush_enabled(self, on: bool) -> None:
        for c in self.canvases():
            c.set_brush_enabled(on)

    def set_brush_size(self, size: float) -> None:
        for c in self.canvases():
            c.set_brush_size(size)

    def set_space_pressed(self, down: bool) -> None:
        for c in self.canvases():
            c.set_space_pressed(down)

    def set_loupe(self, on: bool) -> None:
        for c in self.canvases():
            c.set_loupe(on)

    def set_mask_visible(self, on: bool) -> None:
        for c in self.canvases():
            c.show_mask = on
            c.update()

    def set_mask_opacity(self, opacity: float) -> None:
        for c in self.canvases():
            c.mask_opacity = opacity
            c.update()
