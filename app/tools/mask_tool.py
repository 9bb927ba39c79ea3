"""The mask brush as a tool: turns canvas strokes into undoable mask edits, and runs the whole-mask
commands (clear, invert, grow, shrink) and PNG import/export (through rednet.io).

It is given what it works on (the settings, and callables for the open document and whether the
window is busy) and reports through signals; the window sets the brush mode and size."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRect, Signal
from PySide6.QtWidgets import QWidget

from app.canvas.mask_layer import MAX_BRUSH, MIN_BRUSH
from app.dialogs import prompts as dialogs
from app.document.mask_commands import replace_command, stroke_command
from app.services import settings as S
from rednet import io as rio
from rednet.errors import ImageReadError, ImageWriteError

if TYPE_CHECKING:
    from app.document.document import Document

GROW_STEP_PX = 2
BRUSH_STEP = 1.25  # `[` and `]` change the size by this factor


class MaskTool(QObject):
    stroke_done = Signal()  # a stroke ended (pushed onto the undo stack, or empty)
    brush_wanted = Signal()  # a mask was imported: the brush should be on to refine it
    brush_size_wanted = Signal(int)  # `[` / `]`: the size the brush controls should show
    message = Signal(str)  # a line for the status bar

    def __init__(
        self,
        settings: S.Settings,
        parent: QWidget,
        *,
        document: Callable[[], "Document | None"],
        busy: Callable[[], bool],
    ):
        super().__init__(parent)
        self._dialog_parent = parent
        self.settings = settings
        self._document = document
        self._busy = busy
        self.brush_on = False
        self.erasing = False
        self.brush_size = int(settings.get(S.BRUSH_SIZE))
        self._stroke: dict | None = None

    @property
    def doc(self) -> "Document | None":
        return self._document()

    @property
    def stroking(self) -> bool:
        return self._stroke is not None

    def _editable(self) -> bool:
        return self.doc is not None and not self._busy()

    def commands(self) -> dict[str, Callable[[], None]]:
        """The tool's commands, by the id of the window action that runs each (app.actions)."""
        return {
            "brush_smaller": lambda: self.step_brush_size(-1),
            "brush_bigger": lambda: self.step_brush_size(+1),
            "mask_clear": self.clear,
            "mask_invert": self.invert,
            "mask_grow": lambda: self.grow(),
            "mask_shrink": lambda: self.shrink(),
            "mask_import": self.import_png,
            "mask_export": self.export_png,
        }

    def set_mode(self, brush: bool, erase: bool) -> None:
        self.brush_on, self.erasing = bool(brush), bool(erase)

    # ------------------------------------------------------------------ brush size
    def set_brush_size(self, size: int) -> None:
        self.brush_size = int(size)
        self.settings.set(S.BRUSH_SIZE, int(size))

    def step_brush_size(self, direction: int) -> None:
        size = self.brush_size
        new = int(round(size * BRUSH_STEP if direction > 0 else size / BRUSH_STEP))
        if new == size:
            new = size + (1 if direction > 0 else -1)
        self.brush_size_wanted.emit(min(max(new, MIN_BRUSH), MAX_BRUSH))

    # ------------------------------------------------------------------ strokes (image coordinates)
    def stroke_started(self, pos: QPointF) -> None:
        if not self._editable() or not self.brush_on:
            return
        mask = self.doc.mask
        self._stroke = {"before": mask.to_array().copy(), "last": QPointF(pos), "erase": self.erasing}
        self._stroke["rect"] = mask.paint_segment(pos, pos, self.brush_size, self.erasing)

    def stroke_moved(self, pos: QPointF) -> None:
        s, doc = self._stroke, self.doc
        if s is None or doc is None:
            return
        r = doc.mask.paint_segment(s["last"], pos, self.brush_size, s["erase"])
        s["rect"] = s["rect"].united(r)
        s["last"] = QPointF(pos)

    def stroke_finished(self) -> None:
        s, self._stroke = self._stroke, None
        doc = self.doc
        if s is not None and doc is not None and not s["rect"].isEmpty():
            doc.undo_stack.push(stroke_command(doc.mask, s["before"], QRect(s["rect"]), s["erase"]))
        self.stroke_done.emit()

    # ------------------------------------------------------------------ whole-mask edits
    def _replace(self, new_mask: np.ndarray, text: str) -> None:
        if self._editable():
            self.doc.undo_stack.push(replace_command(self.doc.mask, new_mask, text))

    def clear(self) -> None:
        if self._editable() and not self.doc.mask.is_empty():
            m = self.doc.mask
            self._replace(np.zeros((m.height, m.width), bool), "Clear mask")

    def invert(self) -> None:
        if self._editable():
            self._replace(self.doc.mask.inverted(), "Invert mask")

    def grow(self, pixels: int = GROW_STEP_PX) -> None:
        if self._editable():
            self._replace(self.doc.mask.grown(pixels), f"Grow mask {pixels} px")

    def shrink(self, pixels: int = GROW_STEP_PX) -> None:
        if self._editable():
            self._replace(self.doc.mask.shrunk(pixels), f"Shrink mask {pixels} px")

    # ------------------------------------------------------------------ files
    def import_png(self) -> None:
        if not self._editable():
            return
        parent = self._dialog_parent
        path = dialogs.ask_open_path(parent, self.settings.get(S.LAST_DIR), "Import Mask", dialogs.MASK_FILTERS)
        if path:
            self.load(path)

    def load(self, path: str | Path) -> bool:
        """Make the mask in `path` the document's (undoable); False, after saying why, when it cannot."""
        if not self._editable():
            return False
        doc = self.doc
        try:
            mask = rio.read_mask(path, size=(doc.mask.width, doc.mask.height))
        except (ImageReadError, OSError, ValueError) as exc:
            dialogs.show_error(self._dialog_parent, "Cannot import mask", str(exc))
            return False
        self._replace(mask, f"Import mask {Path(path).name}")
        self.brush_wanted.emit()
        return True

    def export_png(self) -> None:
        doc = self.doc
        if doc is None:
            return
        base = doc.source_path or Path(self.settings.get(S.LAST_DIR) or ".") / "photo"
        path = dialogs.ask_mask_save_path(self._dialog_parent, str(base.with_name(base.stem + "-mask.png")))
        if not path:
            return
        try:
            rio.write_mask(doc.mask.to_array(), path)
        except (ImageWriteError, OSError, ValueError) as exc:
            dialogs.show_error(self._dialog_parent, "Cannot export mask", str(exc))
            return
        self.message.emit(f"Mask saved to {path}")
