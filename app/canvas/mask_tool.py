"""The mask brush as a tool: turns canvas strokes into undoable mask edits, and runs the whole-mask
commands (clear, invert, grow, shrink) and PNG import/export (through rednet.io.imageio)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRect

from rednet.io import imageio

from app.dialogs import prompts as dialogs
from app.services import settings as S
from app.document.mask_commands import replace_command, stroke_command
from app.canvas.mask_layer import MAX_BRUSH, MIN_BRUSH

if TYPE_CHECKING:
    from app.main_window import MainWindow

GROW_STEP_PX = 2
BRUSH_STEP = 1.25  # `[` and `]` change the size by this factor


class MaskTool(QObject):
    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self.window = window
        self._stroke: dict | None = None

    @property
    def stroking(self) -> bool:
        return self._stroke is not None

    def _editable(self) -> bool:
        w = self.window
        return w.doc is not None and not w.running

    # ------------------------------------------------------------------ brush size
    def brush_size_changed(self, size: int) -> None:
        self.window.compare.set_brush_size(size)
        self.window.settings.set(S.BRUSH_SIZE, int(size))

    def step_brush_size(self, direction: int) -> None:
        panel = self.window.mask_panel
        size = panel.brush_size()
        new = int(round(size * BRUSH_STEP if direction > 0 else size / BRUSH_STEP))
        if new == size:
            new = size + (1 if direction > 0 else -1)
        panel.set_brush_size(min(max(new, MIN_BRUSH), MAX_BRUSH))

    # ------------------------------------------------------------------ strokes (image coordinates)
    def stroke_started(self, pos: QPointF) -> None:
        w = self.window
        if not self._editable() or not w.actions["brush"].isChecked():
            return
        mask = w.doc.mask
        erase = w.actions["erase"].isChecked()
        self._stroke = {"before": mask.to_array().copy(), "last": QPointF(pos), "erase": erase}
        self._stroke["rect"] = mask.paint_segment(pos, pos, w.mask_panel.brush_size(), erase)

    def stroke_moved(self, pos: QPointF) -> None:
        s, w = self._stroke, self.window
        if s is None or w.doc is None:
            return
        r = w.doc.mask.paint_segment(s["last"], pos, w.mask_panel.brush_size(), s["erase"])
        s["rect"] = s["rect"].united(r)
        s["last"] = QPointF(pos)

    def stroke_finished(self) -> None:
        s, self._stroke = self._stroke, None
        w = self.window
        if s is not None and w.doc is not None and not s["rect"].isEmpty():
            w.doc.undo_stack.push(stroke_command(w.doc.mask, s["before"], QRect(s["rect"]), s["erase"]))
        w.update_actions()

    # ------------------------------------------------------------------ whole-mask edits
    def _replace(self, new_mask: np.ndarray, text: str) -> None:
        if self._editable():
            self.window.doc.undo_stack.push(replace_command(self.window.doc.mask, new_mask, text))

    def clear(self) -> None:
        if self._editable() and not self.window.doc.mask.is_empty():
            m = self.window.doc.mask
            self._replace(np.zeros((m.height, m.width), bool), "Clear mask")

    def invert(self) -> None:
        if self._editable():
            self._replace(self.window.doc.mask.inverted(), "Invert mask")

    def grow(self, pixels: int = GROW_STEP_PX) -> None:
        if self._editable():
            self._replace(self.window.doc.mask.grown(pixels), f"Grow mask {pixels} px")

    def shrink(self, pixels: int = GROW_STEP_PX) -> None:
        if self._editable():
            self._replace(self.window.doc.mask.shrunk(pixels), f"Shrink mask {pixels} px")

    # ------------------------------------------------------------------ files
    def import_png(self) -> None:
        w = self.window
        if not self._editable():
            return
        path = dialogs.ask_open_path(w, w.settings.get(S.LAST_DIR), "Import Mask", dialogs.MASK_FILTERS)
        if not path:
            return
        try:
            mask = imageio.read_mask(path, size=(w.doc.mask.width, w.doc.mask.height))
        except (imageio.ImageReadError, OSError, ValueError) as exc:
            dialogs.show_error(w, "Cannot import mask", str(exc))
            return
        self._replace(mask, f"Import mask {Path(path).name}")
        w.actions["brush"].setChecked(True)

    def export_png(self) -> None:
        w = self.window
        if w.doc is None:
            return
        base = w.doc.source_path or Path(w.settings.get(S.LAST_DIR) or ".") / "photo"
        path = dialogs.ask_mask_save_path(w, str(base.with_name(base.stem + "-mask.png")))
        if not path:
            return
        try:
            imageio.write_mask(w.doc.mask.to_array(), path)
        except (imageio.ImageWriteError, OSError, ValueError) as exc:
            dialogs.show_error(w, "Cannot export mask", str(exc))
            return
        w.statusBar().showMessage(f"Mask saved to {path}", 6000)
