"""The result as it is being restored: the photo (at the result's size) with each finished tile
painted over it, shown in the After view while a restore runs."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter


class ResultPreview:
    def __init__(self, photo: QImage, size: QSize):
        """`photo`: the display image of the photo being restored; `size`: the result's size (an
        upscale's preview starts as the photo smoothly enlarged)."""
        base = photo if photo.size() == size else photo.scaled(size, mode=Qt.TransformationMode.SmoothTransformation)
        opaque = not base.hasAlphaChannel()
        self.image = base.convertToFormat(
            QImage.Format.Format_RGB32 if opaque else QImage.Format.Format_ARGB32_Premultiplied
        )

    def paint(self, box: tuple[int, int, int, int], tile: QImage) -> QRect:
        """Paint a finished tile (box = top, bottom, left, right in result pixels); returns its rect."""
        top, bottom, left, right = box
        painter = QPainter(self.image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(left, top, tile)
        painter.end()
        return QRect(left, top, right - left, bottom - top)
