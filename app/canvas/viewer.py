"""The photo canvas: a custom-painted widget with wheel / keyboard zoom, drag and Space+drag pan,
a split divider, and the brush cursor of the mask tool.

Mapping: widget = origin + image * zoom, where origin is rounded to whole pixels so that 100% is
pixel-exact (nearest-neighbour at and above 100%, smooth below).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.canvas.image_convert import smooth_scaled
from app.canvas.view_state import ViewState, clamp_zoom

CANVAS_BG = QColor(38, 38, 40)
HINT_COLOR = QColor(150, 150, 155)
DIVIDER_GRIP_PX = 8
LOUPE_SIDE = 160  # each of the loupe's two squares, in screen pixels
LOUPE_MIN_ZOOM, LOUPE_ZOOM_FACTOR = 2.0, 4.0  # at least 200%, and 4x the view's zoom


class ImageCanvas(QWidget):
    """Shows one photo (or, in split mode, the original left of a divider and the result right of it)
    plus an optional translucent mask overlay."""

    cursor_moved = Signal(object)  # QPointF in image pixels, or None when outside
    stroke_started = Signal(QPointF)  # image coordinates
    stroke_moved = Signal(QPointF)
    stroke_finished = Signal()
    divider_moved = Signal(float)
    resized = Signal()  # a fitted photo's zoom changes with the widget's size
    first_photo_painted = Signal()  # once, when a photo is first on screen (start-up probes)
    files_hint = "Open a photo (Ctrl+O), drop one here, or paste one (Ctrl+V)"

    def __init__(self, state: ViewState | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(120, 90)
        self.state = state if state is not None else ViewState(self)
        self.state.changed.connect(self.update)
        self._after: QImage | None = None
        self._before: QImage | None = None
        self._size = QSize(0, 0)  # the photo's size in the pixels the view state counts in
        self.loupe_result: QImage | None = None  # the loupe's After when this pane shows the original
        self._mask: QImage | None = None
        self.mask_opacity = 0.5
        self.show_mask = True
        self.label: str | None = None  # a small tag painted in the corner ("Before", "After")
        self.split = False
        self.divider = 0.5  # fraction of the widget width
        self.flash_before = False  # show the original instead of the result
        self.loupe = False  # a magnified Before/After pair under the pointer
        # tools
        self.brush_enabled = False
        self.brush_size = 24.0  # image pixels (diameter)
        self.space_pressed = False
        self._mouse_pos: QPointF | None = None
        self._drag: str | None = None  # "pan", "divider", "stroke"
        self._drag_start = QPointF()
        self._drag_center = QPointF()
        self._scaled_cache: dict[tuple[int, float], QImage] = {}
        self._painted_photo = False

    # ---------------------------------------------------------------- content
    def set_images(self, after: QImage | None, before: QImage | None = None, size: QSize | None = None) -> None:
        """Show `after` (the result); `before` (the original) is used by split view, flashing and the
        loupe. `size`: the size the view's pixels count in when it is not `after`'s own (side by side
        shows the original of an upscaled photo stretched over the result's pixels, so both panes
        show the same region).

        Images are drawn as they are (QImage, no conversion), so a large photo costs no extra copy.
        """
        self._after = after
        self._before = before if before is not None else after
        self._size = QSize(size) if size is not None else after.size() if after is not None else QSize(0, 0)
        self._scaled_cache.clear()
        self.update()

    def set_mask_image(self, mask: QImage | None) -> None:
        self._mask = mask
        self.update()

    def mask_changed(self, rect: QRect | None = None) -> None:
        if rect is None or self._after is None:
            self.update()
            return
        self.update(self.image_to_widget_rect(QRectF(rect)).toAlignedRect().adjusted(-2, -2, 2, 2))

    def has_image(self) -> bool:
        return self._after is not None

    def image_size(self) -> QSize:
        return QSize(self._size)

    def visible_image_rect(self) -> QRectF:
        """The part of the photo in view, in image pixels."""
        s = self.image_size()
        seen = QRectF(self.widget_to_image(QPointF(0, 0)), self.widget_to_image(QPointF(self.width(), self.height())))
        return seen.intersected(QRectF(0, 0, s.width(), s.height()))

    # ---------------------------------------------------------------- geometry
    def fit_zoom(self) -> float:
        s = self.image_size()
        if s.isEmpty():
            return 1.0
        margin = 16
        w = max(self.width() - margin, 1)
        h = max(self.height() - margin, 1)
        return clamp_zoom(min(w / s.width(), h / s.height()))

    def effective_zoom(self) -> float:
        return self.fit_zoom() if self.state.fit else self.state.zoom

    def effective_center(self) -> QPointF:
        if self.state.fit:
            s = self.image_size()
            return QPointF(s.width() / 2.0, s.height() / 2.0)
        return self.state.center

    def origin(self) -> QPointF:
        z = self.effective_zoom()
        c = self.effective_center()
        return QPointF(round(self.width() / 2.0 - c.x() * z), round(self.height() / 2.0 - c.y() * z))

    def image_to_widget(self, p: QPointF) -> QPointF:
        z, o = self.effective_zoom(), self.origin()
        return QPointF(o.x() + p.x() * z, o.y() + p.y() * z)

    def widget_to_image(self, p: QPointF) -> QPointF:
        z, o = self.effective_zoom(), self.origin()
        return QPointF((p.x() - o.x()) / z, (p.y() - o.y()) / z)

    def image_to_widget_rect(self, r: QRectF) -> QRectF:
        return QRectF(self.image_to_widget(r.topLeft()), self.image_to_widget(r.bottomRight()))

    def image_rect_in_widget(self) -> QRectF:
        s = self.image_size()
        return self.image_to_widget_rect(QRectF(0, 0, s.width(), s.height()))

    def divider_x(self) -> float:
        return self.divider * self.width()

    def brush_radius_px(self) -> float:
        """Radius of the brush cursor on screen: the brush size at the current zoom."""
        return self.brush_size * self.effective_zoom() / 2.0

    # ---------------------------------------------------------------- zoom and pan
    def _clamped_center(self, c: QPointF, zoom: float) -> QPointF:
        """Where the view's centre may be at `zoom`: on an axis where the photo fits, its middle (a
        photo smaller than the view stays centred); elsewhere no further than the photo's edge."""
        s = self.image_size()

        def axis(v: float, extent: int, view: int) -> float:
            half = view / 2.0 / zoom
            if extent * zoom <= view:
                return extent / 2.0
            return min(max(v, half), extent - half)

        return QPointF(axis(c.x(), s.width(), self.width()), axis(c.y(), s.height(), self.height()))

    def zoom_to(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under `anchor` (widget coordinates) where it is."""
        if not self.has_image():
            return
        zoom = clamp_zoom(zoom)
        if anchor is None:
            anchor = QPointF(self.width() / 2.0, self.height() / 2.0)
        ip = self.widget_to_image(anchor)
        wc = QPointF(self.width() / 2.0, self.height() / 2.0)
        center = QPointF(ip.x() - (anchor.x() - wc.x()) / zoom, ip.y() - (anchor.y() - wc.y()) / zoom)
        self.state.set_view(zoom, self._clamped_center(center, zoom))

    def pan_by(self, dx: float, dy: float) -> None:
        if not self.has_image():
            return
        z = self.effective_zoom()
        c = self.effective_center()
        self.state.set_view(z, self._clamped_center(QPointF(c.x() - dx / z, c.y() - dy / z), z))

    # ---------------------------------------------------------------- painting
    def _scaled_for(self, pm: QImage, zoom: float) -> QImage:
        """A smoothly pre-scaled copy for zooms below 100% (cached), else the image itself."""
        if zoom >= 1.0:
            return pm
        key = (pm.cacheKey(), round(zoom, 6))
        cached = self._scaled_cache.get(key)
        if cached is None:
            if len(self._scaled_cache) > 6:
                self._scaled_cache.clear()
            s = self.image_size()
            cached = smooth_scaled(pm, max(1, round(s.width() * zoom)), max(1, round(s.height() * zoom)))
            self._scaled_cache[key] = cached
        return cached

    def _draw_photo(self, p: QPainter, pm: QImage) -> None:
        z = self.effective_zoom()
        o = self.origin()
        s = self.image_size()
        if abs(z - 1.0) < 1e-9 and pm.size() == s:
            p.drawImage(QPoint(int(o.x()), int(o.y())), pm)  # pixel-exact
            return
        if z < 1.0:
            scaled = self._scaled_for(pm, z)
            p.drawImage(QPoint(int(o.x()), int(o.y())), scaled)
            return
        # Enlarged: draw only the visible part, nearest-neighbour.
        src = self.visible_image_rect()
        if src.isEmpty():
            return
        src = QRectF(
            QPointF(math.floor(src.left()), math.floor(src.top())),
            QPointF(math.ceil(src.right()), math.ceil(src.bottom())),
        )
        target = self.image_to_widget_rect(src)
        sx = pm.width() / s.width()
        sy = pm.height() / s.height()
        source = QRectF(src.left() * sx, src.top() * sy, src.width() * sx, src.height() * sy)
        p.drawImage(target, pm, source)

    def _draw_tag(self, p: QPainter, text: str, right: bool) -> None:
        fm = p.fontMetrics()
        w = fm.horizontalAdvance(text) + 14
        h = fm.height() + 6
        x = self.width() - w - 10 if right else 10
        r = QRectF(x, 10, w, h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 150))
        p.drawRoundedRect(r, 4, 4)
        p.setPen(QColor(235, 235, 235))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), CANVAS_BG)
        if self._after is None:
            p.setPen(HINT_COLOR)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.files_hint)
            return
        z = self.effective_zoom()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        after = self._before if self.flash_before else self._after
        if self.split and not self.flash_before:
            dx = int(round(self.divider_x()))
            p.save()
            p.setClipRect(QRect(0, 0, dx, self.height()))
            self._draw_photo(p, self._before)
            p.restore()
            p.save()
            p.setClipRect(QRect(dx, 0, self.width() - dx, self.height()))
            self._draw_photo(p, after)
            p.restore()
        else:
            self._draw_photo(p, after)
        if self._mask is not None and self.show_mask and not self.flash_before:
            p.save()
            p.setOpacity(self.mask_opacity)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, z < 1.0)
            p.drawImage(self.image_rect_in_widget(), self._mask)
            p.restore()
        if self.split and not self.flash_before:
            self._draw_divider(p)
            self._draw_tag(p, "Before", right=False)
            self._draw_tag(p, "After", right=True)
        elif self.flash_before:
            self._draw_tag(p, "Original", right=False)
        elif self.label:
            self._draw_tag(p, self.label, right=False)
        if self.brush_enabled and self._mouse_pos is not None and self._drag != "pan" and not self.space_pressed:
            self._draw_brush_cursor(p, self._mouse_pos)
        if self.loupe and self._mouse_pos is not None:
            self._draw_loupe(p, self._mouse_pos)
        if not self._painted_photo:
            self._painted_photo = True
            self.first_photo_painted.emit()

    # ---------------------------------------------------------------- loupe
    def loupe_zoom(self) -> float:
        return min(max(LOUPE_MIN_ZOOM, LOUPE_ZOOM_FACTOR * self.effective_zoom()), 32.0)

    def loupe_rects(self, pos: QPointF) -> tuple[QRectF, QRectF]:
        """The loupe's Before and After squares for the pointer at `pos`: above and right of it,
        moved inside the widget when it would leave it."""
        side, gap = LOUPE_SIDE, 24
        x = pos.x() + gap if pos.x() + gap + 2 * side <= self.width() else pos.x() - gap - 2 * side
        y = pos.y() - gap - side if pos.y() - gap - side >= 0 else pos.y() + gap
        x, y = min(max(x, 0.0), max(self.width() - 2 * side, 0.0)), min(max(y, 0.0), max(self.height() - side, 0.0))
        return QRectF(x, y, side, side), QRectF(x + side, y, side, side)

    def _draw_loupe(self, p: QPainter, pos: QPointF) -> None:
        centre, zoom, s = self.widget_to_image(pos), self.loupe_zoom(), self.image_size()
        half = LOUPE_SIDE / zoom / 2.0
        source = QRectF(centre.x() - half, centre.y() - half, 2 * half, 2 * half)
        p.save()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.setBrush(Qt.BrushStyle.NoBrush)  # the frames are outlines
        after = self.loupe_result if self.loupe_result is not None else self._after
        for rect, image, tag in zip(self.loupe_rects(pos), (self._before, after), ("Before", "After")):
            p.fillRect(rect, CANVAS_BG)
            sx, sy = image.width() / max(s.width(), 1), image.height() / max(s.height(), 1)
            p.drawImage(
                rect, image, QRectF(source.x() * sx, source.y() * sy, source.width() * sx, source.height() * sy)
            )
            p.setPen(QPen(QColor(240, 240, 240), 1))
            p.drawRect(rect.adjusted(0, 0, -1, -1))
            p.drawText(rect.adjusted(6, 4, -6, -4), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, tag)
        p.restore()

    def _draw_divider(self, p: QPainter) -> None:
        x = self.divider_x()
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(0, 0, 0, 120), 3))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.setPen(QPen(QColor(240, 240, 240), 1))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        cy = self.height() / 2.0
        p.setBrush(QColor(240, 240, 240))
        p.setPen(QPen(QColor(0, 0, 0, 140), 1))
        p.drawEllipse(QPointF(x, cy), 11, 11)
        p.setBrush(QColor(60, 60, 64))
        p.setPen(Qt.PenStyle.NoPen)
        for sgn in (-1, 1):
            tri = [QPointF(x + sgn * 2, cy - 4), QPointF(x + sgn * 7, cy), QPointF(x + sgn * 2, cy + 4)]
            p.drawPolygon(tri)
        p.restore()

    def _draw_brush_cursor(self, p: QPainter, pos: QPointF) -> None:
        r = max(self.brush_radius_px(), 1.5)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0, 200), 3))
        p.drawEllipse(pos, r, r)
        p.setPen(QPen(QColor(255, 255, 255, 230), 1))
        p.drawEllipse(pos, r, r)
        p.drawPoint(pos)
        p.restore()

    # ---------------------------------------------------------------- events
    def resizeEvent(self, event) -> None:  # noqa: N802
        self._scaled_cache.clear()
        super().resizeEvent(event)
        self.resized.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if not self.has_image():
            return
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta == 0:
            return
        factor = math.pow(1.0015, delta)  # one notch (120) = about 20 %
        self.zoom_to(self.effective_zoom() * factor, event.position())
        event.accept()

    def _near_divider(self, pos: QPointF) -> bool:
        return self.split and abs(pos.x() - self.divider_x()) <= DIVIDER_GRIP_PX

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if not self.has_image():
            return
        pos = event.position()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self.space_pressed):
            self._start_pan(pos)
        elif button == Qt.MouseButton.LeftButton and self._near_divider(pos):
            self._drag = "divider"
            self.setCursor(Qt.CursorShape.SplitHCursor)
        elif button == Qt.MouseButton.LeftButton and self.brush_enabled:
            self._drag = "stroke"
            self.stroke_started.emit(self.widget_to_image(pos))
        elif button == Qt.MouseButton.LeftButton:
            self._start_pan(pos)
        event.accept()

    def _start_pan(self, pos: QPointF) -> None:
        self._drag = "pan"
        self._drag_start = QPointF(pos)
        self._drag_center = self.effective_center()
        self._drag_zoom = self.effective_zoom()
        self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        old = self._mouse_pos
        self._mouse_pos = QPointF(pos)
        if self._drag == "pan":
            d = pos - self._drag_start
            z = self._drag_zoom
            c = QPointF(self._drag_center.x() - d.x() / z, self._drag_center.y() - d.y() / z)
            self.state.set_view(z, self._clamped_center(c, z))
        elif self._drag == "divider":
            self.divider = min(max(pos.x() / max(self.width(), 1), 0.0), 1.0)
            self.divider_moved.emit(self.divider)
            self.update()
        elif self._drag == "stroke":
            self.stroke_moved.emit(self.widget_to_image(pos))
        self._update_cursor_shape(pos)
        if self.has_image():
            ip = self.widget_to_image(pos)
            s = self.image_size()
            inside = 0 <= ip.x() < s.width() and 0 <= ip.y() < s.height()
            self.cursor_moved.emit(ip if inside else None)
        if self.brush_enabled:
            r = self.brush_radius_px() + 4
            for c in (old, pos):
                if c is not None:
                    self.update(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r).toAlignedRect())
        if self.loupe:
            for c in (old, pos):
                if c is not None:
                    before, after = self.loupe_rects(c)
                    self.update(before.united(after).toAlignedRect().adjusted(-1, -1, 1, 1))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag == "stroke":
            self.stroke_finished.emit()
        self._drag = None
        self._update_cursor_shape(event.position())
        self.update()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._mouse_pos = None
        self.cursor_moved.emit(None)
        self.update()

    def _update_cursor_shape(self, pos: QPointF) -> None:
        if self._drag == "pan":
            shape = Qt.CursorShape.ClosedHandCursor
        elif self.space_pressed:
            shape = Qt.CursorShape.OpenHandCursor
        elif self._drag == "divider" or self._near_divider(pos):
            shape = Qt.CursorShape.SplitHCursor
        elif self.brush_enabled:
            shape = Qt.CursorShape.BlankCursor
        else:
            shape = Qt.CursorShape.OpenHandCursor if self.has_image() else Qt.CursorShape.ArrowCursor
        if self.cursor().shape() != shape:
            self.setCursor(shape)

    def set_space_pressed(self, down: bool) -> None:
        self.space_pressed = down
        if self._mouse_pos is not None:
            self._update_cursor_shape(self._mouse_pos)
        self.update()

    def set_brush_enabled(self, on: bool) -> None:
        self.brush_enabled = on
        if self._mouse_pos is not None:
            self._update_cursor_shape(self._mouse_pos)
        self.update()

    def set_loupe(self, on: bool) -> None:
        self.loupe = bool(on)
        self.update()

    def set_brush_size(self, size: float) -> None:
        self.brush_size = float(size)
        self.update()
