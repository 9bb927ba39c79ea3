"""Restoring the open photo: a `RestoreRequest` says what to run, the `RestoreController` runs it on
the window's worker Runner and reports back, with the request, through its signals.

The worker job is `rednet.engine.restore.restore` plus the result's display image (QImage is safe to
build off the GUI thread), so a large result costs the event loop nothing. The controller neither
applies the result nor touches a widget: the window does, after checking that the request is still
about what is open.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.canvas.image_convert import photo_to_qimage
from app.services.runner import Runner
from rednet.engine import restore as core_restore
from rednet.progress import Progress
from rednet.tasks import Task

if TYPE_CHECKING:
    from app.document.document import Document


@dataclass(frozen=True)
class RestoreRequest:
    """One restore, as the window's panel and preferences describe it."""

    doc: "Document"
    photo: object  # the document's current photo (rednet.io Photo) when the restore was asked for
    task: Task
    options: dict  # the task's options (sigma / scale / quality); None = chosen from the photo
    model: object = None  # a model file, a LoadedModel, or None for the shipped default
    device: str = "auto"
    tile: int | None = None  # None: automatic
    ensemble: bool = False
    mask: np.ndarray | None = field(default=None, compare=False)  # the task's mask (bool HxW), if it takes one

    @property
    def needs_mask(self) -> bool:
        """The task takes a mask and nothing is painted yet."""
        return self.task.mask_option is not None and (self.mask is None or not self.mask.any())

    @property
    def label(self) -> str:
        """The history entry of the finished step: 'Denoise σ 25', 'Upscale ×2', ..."""
        return self.task.step_label(self.options)

    def label_with(self, estimates: dict[str, float]) -> str:
        """The label, with the values the window estimated for the options left automatic."""
        auto = {k: round(v, 1) for k, v in estimates.items() if k in self.options and self.options[k] is None}
        return self.task.step_label(dict(self.options, **auto)) + " (auto)" if auto else self.label

    def restore_keywords(self) -> dict:
        """Every keyword for `rednet.engine.restore.restore` after the photo and the task."""
        kwargs = dict(self.options, model=self.model, device=self.device, tile=self.tile, ensemble=self.ensemble)
        if self.task.mask_option is not None:
            kwargs[self.task.mask_option.name] = self.mask
        return kwargs


def restore_for_display(photo, task: str, *, state, **options):
    """Worker-thread job: the restored photo and its display image."""
    result = core_restore.restore(photo, task, state=state, **options)
    return result, photo_to_qimage(result)


class RestoreController(QObject):
    """Runs one RestoreRequest at a time on `runner` (the window's worker)."""

    progress = Signal(object)  # Progress
    finished = Signal(object, object, object, float)  # request, result photo, its display QImage, seconds
    failed = Signal(object, object, str)  # request, the exception, the worker's traceback
    cancelled = Signal(object)  # request
    done = Signal()  # after any of the three

    def __init__(self, runner: Runner, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.request: RestoreRequest | None = None
        self._t0 = 0.0
        runner.progress.connect(self._progress)
        runner.finished.connect(self._finished)
        runner.failed.connect(self._failed)
        runner.cancelled.connect(self._cancelled)
        runner.done.connect(self._done)

    @property
    def running(self) -> bool:
        return self.runner.running

    def start(self, request: RestoreRequest) -> None:
        self.request = request
        self._t0 = time.monotonic()
        self.runner.start(restore_for_display, request.photo, request.task.name, **request.restore_keywords())

    def cancel(self) -> None:
        if self.running:
            self.runner.cancel()

    def _progress(self, p: Progress) -> None:
        self.progress.emit(p)

    def _finished(self, result) -> None:
        photo, image = result
        if self.request is not None:
            self.finished.emit(self.request, photo, image, time.monotonic() - self._t0)

    def _failed(self, exc: BaseException) -> None:
        self.failed.emit(self.request, exc, self.runner.last_traceback)

    def _cancelled(self) -> None:
        self.cancelled.emit(self.request)

    def _done(self) -> None:
        self.request = None
        self.done.emit()
