"""Restoring the open photo: a `RestoreRequest` says what to run, the `RestoreController` runs it on
the window's worker Runner and reports back, with the request, through its signals.

The worker job is `rednet.engine.restore.restore` plus the result's display image (QImage is safe to
build off the GUI thread), so a large result costs the event loop nothing. The controller neither
applies the result nor touches a widget: the window does, after checking that the request is still
about what is open.

A progressive request (the task's output is the network's, tile for tile, and no self-ensemble) runs
in tiles of `PROGRESSIVE_TILE` pixels, those under the window's view first (`set_view`, which the
window calls whenever the view moves), and hands each finished tile over as `tile_ready`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.canvas.image_convert import photo_to_qimage, pixels_to_qimage
from app.services.runner import Runner
from rednet.engine import restore as core_restore
from rednet.engine.progressive import Box, Progressive, view_priority
from rednet.progress import Progress
from rednet.tasks import Task

if TYPE_CHECKING:
    from app.document.document import Document

# The window's tile side. A tile shows up every second or two on a 12 MP photo on the CPU, and these
# tiles cost no more than the automatic ones (scripts/bench_progressive.py; figures in docs/bench.md).
# Cancel does not wait for a tile: the network checks between its layers.
PROGRESSIVE_TILE = 1024


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
    def progressive(self) -> bool:
        """Tiles can be shown as they finish: the task's output is the network's, and no ensemble."""
        return self.task.progressive and not self.ensemble

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


def restore_for_display(photo, task: str, *, state, view: "ViewOrder | None" = None, **options):
    """Worker-thread job: the restored photo and its display image. With `view`, progressively: the
    tiles in `view`'s order, each handed to `state.partial` as (box, display image of the tile)."""
    if view is not None:
        options["progressive"] = Progressive(
            view.priority, lambda box, px: state.partial((box, _tile_image(photo, px)))
        )
    result = core_restore.restore(photo, task, state=state, **options)
    return result, photo_to_qimage(result)


def _tile_image(photo, pixels):
    """A finished tile as it will look in the result (gray photos come back gray)."""
    return pixels_to_qimage(pixels.mean(axis=2) if photo.is_gray else pixels)


class ViewOrder:
    """The order of a progressive run's tiles: the window sets the view on the GUI thread, the worker
    asks for priorities (one attribute swapped whole, so the worker always sees a complete view)."""

    def __init__(self, view: Box | None):
        self._priority = view_priority(view) if view is not None else None

    def set_view(self, view: Box | None) -> None:
        self._priority = view_priority(view) if view is not None else None

    def priority(self, box: Box) -> float:
        rank = self._priority
        return 0.0 if rank is None else rank(box)


class RestoreController(QObject):
    """Runs one RestoreRequest at a time on `runner` (the window's worker)."""

    progress = Signal(object)  # Progress
    tile_ready = Signal(object, object, object)  # request, box (top, bottom, left, right), the tile's QImage
    finished = Signal(object, object, object, float)  # request, result photo, its display QImage, seconds
    failed = Signal(object, object, str)  # request, the exception, the worker's traceback
    cancelled = Signal(object)  # request
    done = Signal()  # after any of the three

    def __init__(self, runner: Runner, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.request: RestoreRequest | None = None
        self._t0 = 0.0
        self._order: ViewOrder | None = None
        runner.progress.connect(self._progress)
        runner.partial.connect(self._partial)
        runner.finished.connect(self._finished)
        runner.failed.connect(self._failed)
        runner.cancelled.connect(self._cancelled)
        runner.done.connect(self._done)

    @property
    def running(self) -> bool:
        return self.runner.running

    def start(self, request: RestoreRequest, view: Box | None = None) -> None:
        """Run `request`; `view`: the part of the result in view, for a progressive request."""
        self.request = request
        self._t0 = time.monotonic()
        kwargs = request.restore_keywords()
        self._order = None
        if request.progressive:
            self._order = ViewOrder(view)
            kwargs.update(view=self._order, tile=request.tile or PROGRESSIVE_TILE)
        self.runner.start(restore_for_display, request.photo, request.task.name, **kwargs)

    def set_view(self, view: Box | None) -> None:
        """The view moved: the remaining tiles of a progressive run are re-ordered around it."""
        if self._order is not None:
            self._order.set_view(view)

    def cancel(self) -> None:
        if self.running:
            self.runner.cancel()

    def _progress(self, p: Progress) -> None:
        self.progress.emit(p)

    def _partial(self, value) -> None:
        box, image = value
        if self.request is not None:
            self.tile_ready.emit(self.request, box, image)

    def _finished(self, result) -> None:
        photo, image = result
        if self.request is not None:
            self.finished.emit(self.request, photo, image, time.monotonic() - self._t0)

    def _failed(self, exc: BaseException) -> None:
        self.failed.emit(self.request, exc, self.runner.last_traceback)

    def _cancelled(self) -> None:
        self.cancelled.emit(self.request)

    def _done(self) -> None:
        self.request, self._order = None, None
        self.done.emit()
