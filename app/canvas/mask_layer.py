"""The inpainting mask as a paintable overlay.

The mask lives in a premultiplied ARGB QImage the size of the photo: a pixel is "fill" when its
alpha is set (drawn in the overlay colour) and "keep" when transparent, so the canvas can paint it
directly as a translucent overlay. `to_array()` gives the bool HxW mask that `rednet` expects.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from rednet.io import masks

OVERLAY_COLOR = QColor(255, 52, 92)
MIN_BRUSH, MAX_BRUSH = 1, 500


class MaskLayer(QObject):
    changed = Signal(object)  # QRect of the changed area, or None for everything

    def __init__(self, width: int = 0, height: int = 0, parent: QObject | None = None):
        super().__init__(parent)
        self.color = QColor(OVERLAY_COLOR)
        self.image = QImage()
        self.set_size(width, height)

    # ------------------------------------------------------------------ size and content
    def set_size(self, width: int, height: int) -> None:
        """A fresh, empty mask of the given size."""
        if width > 0 and height > 0:
            self.image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
            self.image.fill(Qt.GlobalColor.transparent)
        else:
            self.image = QImage()
        self.changed.emit(None)

    @property
    def width(self) -> int:
        return self.image.width()

    @property
    def height(self) -> int:
        return self.image.height()

    def rect(self) -> QRect:
        return QRect(0, 0, self.width, self.height)

    def _bgra(self) -> np.ndarray:
        """A writable HxWx4 view on the image's bytes (B, G, R, A on little-endian machines)."""
        img = self.image
        h, bpl = img.height(), img.bytesPerLine()
        buf = np.frombuffer(img.bits(), dtype=np.uint8, count=bpl * h)  # bits() detaches: writable
        return buf.reshape(h, bpl)[:, : img.width() * 4].reshape(h, img.width(), 4)

    def _alpha_index(self) -> int:
        return 3 if np.little_endian else 0

    def to_array(self, rect: QRect | None = None) -> np.ndarray:
        """The mask (or a part of it) as bool HxW, True = fill."""
        return image_to_mask(self.image, rect)

    def set_array(self, mask: np.ndarray, rect: QRect | None = None) -> None:
        """Replace the whole mask (or the part inside `rect`) from a bool array."""
        mask = np.asarray(mask, dtype=bool)
        if rect is None:
            if mask.shape != (self.height, self.width):
                self.set_size(mask.shape[1], mask.shape[0])
            rect = self.rect()
        r = rect.intersected(self.rect())
        if mask.shape != (r.height(), r.width()):
            raise ValueError(f"mask of shape {mask.shape} does not fit {r.width()}x{r.height()}")
        px = self._bgra()
        region = px[r.top() : r.top() + r.height(), r.left() : r.left() + r.width()]
        c = self.color
        bgra = np.array([c.blue(), c.green(), c.red(), 255], dtype=np.uint8)
        if not np.little_endian:
            bgra = bgra[::-1]
        region[...] = 0
        region[mask] = bgra
        self.changed.emit(QRect(r))

    def is_empty(self) -> bool:
        return self.image.isNull() or not bool(self.to_array().any())

    def coverage(self) -> float:
        a = self.to_array()
        return np.count_nonzero(a) / a.size if a.size else 0.0  # a bool mean goes through float64

    # ------------------------------------------------------------------ painting
    def paint_segment(self, p0: QPointF, p1: QPointF, size: float, erase: bool = False) -> QRect:
        """Paint (or erase) a round-capped line of diameter `size`; returns the changed area."""
        if self.image.isNull():
            return QRect()
        size = float(min(max(size, MIN_BRUSH), MAX_BRUSH))
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        color = QColor(Qt.GlobalColor.transparent) if erase else self.color
        if p0 == p1:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(p0, size / 2.0, size / 2.0)
        else:
            pen = QPen(color, size, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.drawLine(p0, p1)
        painter.end()
        pad = size / 2.0 + 2
        dirty = QRectF(p0, p1).normalized().adjusted(-pad, -pad, pad, pad).toAlignedRect()
        dirty = dirty.intersected(self.rect())
        self.changed.emit(QRect(dirty))
        return dirty

    # ------------------------------------------------------------------ whole-mask edits (return new arrays)
    def inverted(self) -> np.ndarray:
        return ~self.to_array()

    def grown(self, pixels: int) -> np.ndarray:
        return masks.grow(self.to_array(), pixels)

    def shrunk(self, pixels: int) -> np.ndarray:
        return masks.shrink(self.to_array(), pixels)


def image_to_mask(image: QImage, rect: QRect | None = None) -> np.ndarray:
    """The fill pixels (alpha > 127) of a mask layer's ARGB32 image, or of a part of it, as bool HxW.

    Only reads the image, so it may run on a worker thread on a copy of the layer's image (`QImage`
    copies share their pixels until one side paints, which then detaches).
    """
    if image.isNull():
        return np.zeros((0, 0), dtype=bool)
    h, w, bpl = image.height(), image.width(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=bpl * h)
    alpha = buf.reshape(h, bpl)[:, : w * 4].reshape(h, w, 4)[:, :, 3 if np.little_endian else 0]
    if rect is not None:
        r = rect.intersected(QRect(0, 0, w, h))
        alpha = alpha[r.top() : r.top() + r.height(), r.left() : r.left() + r.width()]
    return alpha > 127
