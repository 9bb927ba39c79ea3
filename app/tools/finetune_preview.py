"""The preview of Tools > Fine-tune a Model: a crop of the user's first photo, degraded and restored
(rednet.train.preview) on its own worker, shown side by side with their PSNR.

That PSNR is not the validation score of the plot, and the two can move apart: it scores one crop of
one photo (which may be a training photo) at one fixed damage level, while validation pools patches
of the held-out photos over the task's whole range of damage. The note beside the images says so.

The fine-tune window says which model to show (the base model, each new checkpoint, the new model);
this widget only runs and shows previews, one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.canvas.image_convert import pixels_to_qimage
from app.services.messages import error_text
from app.services.runner import Runner
from rednet.errors import ModelError
from rednet.train.preview import PreviewSample, describe_setting, prepare_preview, restore_preview

PREVIEW_SHOW = 176  # side of each preview image on screen
CHECKPOINT = "Latest checkpoint"  # the label of a checkpoint's preview until its step is known
CROP_SCORE_NOTE = (
    "The dB under the images measure this one crop, at this one damage level, against its clean original; "
    "the plot's validation score averages patches of held-out photos over the whole range of damage, "
    "so the two can move apart."
)


@dataclass
class PreviewShown:
    """A preview ready to show: the images and their PSNR against the clean crop."""

    sample: PreviewSample
    degraded: QImage
    restored: QImage
    psnr_degraded: float
    psnr_restored: float
    step: int | None  # the checkpoint's training step, None for a model file


def preview_job(
    sample: PreviewSample | None, data: str, task: str, model, device: str = "auto", *, state
) -> PreviewShown:
    """Worker-thread job: restore the preview crop (prepared first when `sample` is None) with `model`
    (a model file, a training checkpoint or None for the shipped default), with its display images."""
    if sample is None:
        sample = prepare_preview(data, task)
    r = restore_preview(sample, model, device, state=state)
    return PreviewShown(
        sample, pixels_to_qimage(sample.shown), pixels_to_qimage(r.restored), r.psnr_degraded, r.psnr_restored, r.step
    )


class PreviewImage(QLabel):
    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("previewImage")
        self.setFixedSize(PREVIEW_SHOW + 4, PREVIEW_SHOW + 4)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet(
            "QLabel#previewImage { background: #1e1e21; border: 1px solid #3a3a3e;"
            " border-radius: 3px; color: #77777c; }"
        )
        self.empty_text = title
        self.setText(title)

    def set_image(self, image: QImage | None) -> None:
        if image is None or image.isNull():
            self.clear()
            self.setText(self.empty_text)
            return
        self.setPixmap(
            QPixmap.fromImage(image).scaled(
                PREVIEW_SHOW, PREVIEW_SHOW, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
            )
        )


class FinetunePreview(QWidget):
    shown = Signal()  # a preview is on screen

    def __init__(self, parent: QWidget | None = None, *, device: Callable[[], str] = lambda: "auto"):
        super().__init__(parent)
        self._device = device
        self.runner = Runner(self)
        self.runner.finished.connect(self._ready)
        self.runner.failed.connect(self._failed)
        self.sample: PreviewSample | None = None  # the crop, once the first preview prepared it
        self.key: str | None = None  # what the preview in flight (or on screen) was restored with
        self.history: list[str] = []  # what each shown preview was restored with

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)
        self.before_image = PreviewImage("Degraded crop", self)
        self.after_image = PreviewImage("Restored", self)
        self.before_caption = self._add_image(row, self.before_image, "Degraded")
        self.after_caption = self._add_image(row, self.after_image, "Restored")
        self.label = QLabel(
            "A crop of your first photo, degraded and restored: at the start with the "
            "base model, then with each checkpoint, then with the new model.",
            self,
        )
        self.label.setObjectName("hint")
        self.label.setWordWrap(True)
        self.label.setMinimumWidth(160)
        row.addWidget(self.label, 1, Qt.AlignmentFlag.AlignTop)

    def _add_image(self, row: QHBoxLayout, image: PreviewImage, title: str) -> QLabel:
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(image)
        caption = QLabel(title, self)
        caption.setObjectName("hint")
        caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        box.addWidget(caption)
        row.addLayout(box)
        return caption

    @property
    def busy(self) -> bool:
        return self.runner.running

    def reset(self) -> None:
        """A new run: a new crop (of its photos) on the next preview."""
        self.sample, self.key, self.history = None, None, []
        self.before_image.set_image(None)
        self.after_image.set_image(None)

    def start(self, model, label: str, data: str, task: str) -> None:
        """Restore the crop of `data`'s first photo for `task` with `model`, shown as `label`."""
        self.key = label
        self.label.setText(f"{label}: restoring the crop…")
        self.runner.start(preview_job, self.sample, data, task, model, self._device())

    def start_checkpoint(self, path, data: str, task: str) -> None:
        self.start(path, CHECKPOINT, data, task)

    def _ready(self, shown: PreviewShown) -> None:
        sample = self.sample = shown.sample
        if shown.step is not None:
            self.key = f"Checkpoint at step {shown.step}"
        self.history.append(self.key)
        self.before_image.set_image(shown.degraded)
        self.after_image.set_image(shown.restored)
        self.before_caption.setText(f"Degraded · {shown.psnr_degraded:.1f} dB")
        self.after_caption.setText(f"Restored · {shown.psnr_restored:.1f} dB")
        for caption in (self.before_caption, self.after_caption):
            caption.setToolTip("PSNR of this crop against its clean original (not the validation score)")
        self.label.setText(
            f"{self.key}\n\nA {sample.clean.shape[1]} px crop of "
            f"{sample.source.name if sample.source else 'your first photo'} with "
            f"{describe_setting(sample.task, sample.setting)}. {CROP_SCORE_NOTE}"
        )
        self.shown.emit()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, (ModelError, OSError)) and str(self.key).startswith(CHECKPOINT):
            return  # the checkpoint went away (the run ended): the final preview follows
        self.label.setText(f"No preview: {error_text(exc)}")

    def cancel(self) -> None:
        self.runner.cancel()

    def shutdown(self, timeout_ms: int) -> None:
        self.runner.shutdown(timeout_ms)
