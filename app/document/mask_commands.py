"""Undoable mask edits (QUndoCommand): brush strokes and whole-mask changes.

Each command stores the changed area before and after as bit-packed bool arrays, so a stroke on a
large photo costs a few kilobytes of undo memory.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QUndoCommand

from app.canvas.mask_layer import MaskLayer


class _Packed:
    """A bool array stored one bit per pixel."""

    __slots__ = ("shape", "bits")

    def __init__(self, a: np.ndarray):
        self.shape = a.shape
        self.bits = np.packbits(a, axis=None)

    def unpack(self) -> np.ndarray:
        n = int(np.prod(self.shape))
        return np.unpackbits(self.bits, count=n).astype(bool).reshape(self.shape)


class MaskEditCommand(QUndoCommand):
    """Set the area `rect` of the mask from `before` to `after` (both bool arrays of rect's size).

    With `already_applied=True` (a stroke that was painted live) the first redo() does nothing.
    """

    def __init__(
        self,
        layer: MaskLayer,
        rect: QRect,
        before: np.ndarray,
        after: np.ndarray,
        text: str,
        already_applied: bool = False,
    ):
        super().__init__(text)
        self.layer = layer
        self.rect = QRect(rect)
        self._size = (layer.width, layer.height)
        self._before = _Packed(np.asarray(before, dtype=bool))
        self._after = _Packed(np.asarray(after, dtype=bool))
        self._skip_redo = already_applied

    def _apply(self, packed: _Packed) -> None:
        if (self.layer.width, self.layer.height) != self._size:
            return  # the photo changed size since (the history restores it before we get here)
        self.layer.set_array(packed.unpack(), self.rect)

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self._apply(self._after)

    def undo(self) -> None:
        self._apply(self._before)


def stroke_command(layer: MaskLayer, before_full: np.ndarray, rect: QRect, erase: bool) -> MaskEditCommand:
    """A command for a stroke already painted on `layer`; `before_full` is the mask before it."""
    r = rect.intersected(layer.rect())
    before = before_full[r.top() : r.top() + r.height(), r.left() : r.left() + r.width()]
    after = layer.to_array(r)
    return MaskEditCommand(layer, r, before, after, "Erase" if erase else "Brush stroke", already_applied=True)


def replace_command(layer: MaskLayer, after: np.ndarray, text: str) -> MaskEditCommand:
    """A command replacing the whole mask (clear, invert, grow, shrink, import)."""
    return MaskEditCommand(layer, layer.rect(), layer.to_array().copy(), after, text)
