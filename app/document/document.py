"""One open photo: the original, the current result, the chain of restore steps, the mask and the
undo history (brush strokes and restore steps share one QUndoStack, like a photo editor's History)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from app.canvas.mask_layer import MaskLayer
from rednet.tasks import get_task

SAVE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")  # kept by Save As


class Document(QObject):
    result_changed = Signal()  # the current photo (or the step list) changed

    def __init__(
        self,
        photo,
        source_path: str | Path | None = None,
        parent: QObject | None = None,
        *,
        name: str | None = None,
        unsaved: bool = False,
    ):
        """`name` is shown when there is no file name (a recovered result); `unsaved=True` marks a
        photo that exists in no file yet (a recovered result whose source is gone) as unsaved."""
        super().__init__(parent)
        self.original = photo
        self.current = photo
        self.steps: list[str] = []
        self.step_tasks: list[str | None] = []  # the task of each step (None: not known, a recovered one)
        self.source_path = Path(source_path).resolve() if source_path else None
        self.name = name
        self.save_path: Path | None = None  # where the result was last saved
        self.saved_photo = None if unsaved else photo  # the photo as last written (or opened)
        self.undo_stack = QUndoStack(self)
        self.mask = MaskLayer(photo.width, photo.height, self)

    @property
    def display_name(self) -> str:
        if self.save_path is not None:
            return self.save_path.name
        return self.source_path.name if self.source_path else (self.name or "Pasted photo")

    @property
    def has_result(self) -> bool:
        return self.current is not self.original

    @property
    def has_unsaved_result(self) -> bool:
        if self.current is self.saved_photo:
            return False
        return self.has_result or self.saved_photo is None  # None: a recovered photo in no file yet

    def suggested_save_path(self, folder: Path) -> Path:
        """Where Save As starts: the last save, else beside the source with what was done in the
        name ("-denoised", "-denoised-upscaled"; "-restored" when a step's task is not known) and
        its format when it can be written, else `folder` for a pasted photo."""
        if self.save_path is not None:
            return self.save_path
        if self.source_path is not None:
            suffix = self.source_path.suffix.lower()
            suffix = suffix if suffix in SAVE_SUFFIXES else ".png"
            return self.source_path.with_name(self.source_path.stem + self._done_words() + suffix)
        return folder / (self.name or "pasted-photo.png")

    def _done_words(self) -> str:
        if not self.has_result:
            return ""
        if not self.step_tasks or None in self.step_tasks:
            return "-restored"
        words = [get_task(t).result_word for t in self.step_tasks]
        return "".join(f"-{w}" for i, w in enumerate(words) if w not in words[:i])

    def mark_saved(self, path: str | Path) -> None:
        self.save_path = Path(path).resolve()
        self.saved_photo = self.current
        self.result_changed.emit()

    def set_mask(self, mask: np.ndarray) -> bool:
        """Replace the mask (not undoable: a recovered one); False when it does not fit the photo."""
        if mask.shape != (self.mask.height, self.mask.width):
            return False
        self.mask.set_array(mask)
        return True

    # ------------------------------------------------------------------ results
    def apply_result(self, photo, label: str, clear_mask: bool = False, task: str | None = None) -> None:
        """Make `photo` the current result of a step of `task` (undoable)."""
        steps = (self.steps + [label], self.step_tasks + [task])
        self.undo_stack.push(ResultCommand(self, photo, steps, label, clear_mask))

    def apply_recovered(self, photo, steps: list[str], text: str = "Recovered unsaved work") -> None:
        """Make a recovered result current, with the step labels it had (one undoable step)."""
        self.undo_stack.push(ResultCommand(self, photo, (list(steps), [None] * len(steps)), text, clear_mask=False))

    def revert_to_original(self) -> None:
        if self.has_result:
            self.undo_stack.push(ResultCommand(self, self.original, ([], []), "Revert to original", clear_mask=False))

    def _set_current(self, photo, steps: tuple[list[str], list]) -> None:
        self.current = photo
        self.steps, self.step_tasks = list(steps[0]), list(steps[1])
        if (self.mask.width, self.mask.height) != (photo.width, photo.height):
            self.mask.set_size(photo.width, photo.height)
        self.result_changed.emit()


class ResultCommand(QUndoCommand):
    """Switch the document to another photo; undo restores the previous photo and its mask."""

    def __init__(self, doc: Document, photo, steps: tuple[list[str], list], text: str, clear_mask: bool):
        """`steps`: the step labels and their tasks once `photo` is current."""
        super().__init__(text)
        self.doc = doc
        self.before_photo, self.before_steps = doc.current, (list(doc.steps), list(doc.step_tasks))
        self.after_photo, self.after_steps = photo, steps
        self.mask_before = np.packbits(doc.mask.to_array(), axis=None)
        self.mask_shape = (doc.mask.height, doc.mask.width)
        self.clear_mask = clear_mask

    def redo(self) -> None:
        self.doc._set_current(self.after_photo, self.after_steps)
        if self.clear_mask and self.doc.mask.width:
            self.doc.mask.set_size(self.doc.mask.width, self.doc.mask.height)

    def undo(self) -> None:
        self.doc._set_current(self.before_photo, self.before_steps)
        n = self.mask_shape[0] * self.mask_shape[1]
        mask = np.unpackbits(self.mask_before, count=n).astype(bool).reshape(self.mask_shape)
        self.doc.mask.set_array(mask)
