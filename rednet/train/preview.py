"""The fine-tune preview: a fixed crop of the user's first photo, degraded as the task's users' photos
are, restored with the base model, a training checkpoint or the new model, and scored against the
clean crop.

Every preview of a run shows the same crop with the same damage (a fixed seed): the degradation comes
from the task itself (`Task.degrade`), with the preview's fixed setting (`preview_setting`): noise
σ 25, ×2 down-scaling, JPEG quality 20, or a random mask painted red. No Qt here: the app turns the
pixels into images on its worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rednet.engine.restore import restore
from rednet.errors import DataError
from rednet.io import ImageReadError, Photo, read_photo
from rednet.models.registry import LoadedModel, load_model
from rednet.tasks import Task, get_task
from rednet.tasks.degradations import bicubic_resize
from rednet.train.data import find_images

PREVIEW_SIZE = 96  # crop side in pixels
PREVIEW_SEED = 0
# The preview's degradation, by option name (a task option not listed here takes the task's example).
PREVIEW_VALUES = {"sigma": 25.0, "scale": 2, "quality": 20}
PREVIEW_FILL = (0.84, 0.23, 0.28)  # a mask task's holes are painted this red


@dataclass
class PreviewSample:
    """A fixed crop of the first photo and its degraded version (the restore input)."""

    source: Path | None
    task: str
    clean: np.ndarray  # s x s x 3, the target
    restore_input: Photo
    options: dict  # restore() keywords for the degradation (sigma / scale / quality / mask)
    shown: np.ndarray  # the degraded crop as shown (at the clean crop's size)
    setting: dict  # what it was degraded with (Task.degrade's keywords)


@dataclass
class PreviewResult:
    sample: PreviewSample
    restored: np.ndarray  # at the clean crop's size
    psnr_degraded: float
    psnr_restored: float
    step: int | None  # the training step of a checkpoint, None for a model file


def preview_setting(task: str | Task) -> dict:
    """Task.degrade keywords for the preview of `task`."""
    task = get_task(task)
    setting = {o.name: PREVIEW_VALUES.get(o.name, task.example.get(o.name)) for o in task.numeric_options}
    setting = {k: v for k, v in setting.items() if v is not None}
    if task.mask_option is not None:
        setting.update({task.mask_option.name: "random", "fill": PREVIEW_FILL})
    return setting


def describe_setting(task: str | Task, setting: dict) -> str:
    """The preview's degradation in words: "Noise level σ 25", "a random mask (red)"."""
    task = get_task(task)
    parts = [f"{o.title} {setting[o.name]:g}" for o in task.numeric_options if o.name in setting]
    if task.mask_option is not None and task.mask_option.name in setting:
        parts.append(f"a random {task.mask_option.title.lower()} (red)")
    return ", ".join(parts) or task.title


def prepare_preview(
    data: str | Path, task: str | Task, size: int = PREVIEW_SIZE, seed: int = PREVIEW_SEED
) -> PreviewSample:
    """Crop the most detailed part of the first readable photo in `data` and degrade it for `task`."""
    task = get_task(task)
    photo = None
    for path in find_images(data):
        try:
            photo = read_photo(path)
            break
        except ImageReadError:
            continue
    if photo is None:
        raise DataError(f"{data}: no readable photo for the preview")
    px = photo.pixels if photo.pixels.shape[2] == 3 else np.repeat(photo.pixels, 3, axis=2)
    h, w = px.shape[:2]
    s = min(size, h, w)
    s -= s % 2  # even: ×2 down and up again lands on the same size
    y, x = _detailed_corner(px, s)
    clean = np.ascontiguousarray(px[y : y + s, x : x + s], dtype=np.float32)
    setting = preview_setting(task)
    degraded = task.degrade(clean, np.random.default_rng(seed), **setting)
    restore_input = Photo(pixels=degraded.pixels, jpeg_quality=degraded.jpeg_quality)
    return PreviewSample(
        photo.path, task.name, degraded.clean, restore_input, dict(degraded.options), degraded.shown, setting
    )


def _detailed_corner(px: np.ndarray, s: int) -> tuple[int, int]:
    """(y, x) of the s x s crop with the most detail among nine evenly spread ones (the centre on a tie),
    so the preview shows texture rather than a flat patch of sky."""
    h, w = px.shape[:2]
    gray = px.mean(axis=2)
    best, best_score = ((h - s) // 2, (w - s) // 2), -1.0
    for fy in (0.5, 0.2, 0.8):
        for fx in (0.5, 0.2, 0.8):
            y, x = int((h - s) * fy), int((w - s) * fx)
            c = gray[y : y + s, x : x + s]
            score = float(np.abs(np.diff(c, axis=0)).mean() + np.abs(np.diff(c, axis=1)).mean())
            if score > best_score + 1e-6:
                best, best_score = (y, x), score
    return best


def restore_preview(
    sample: PreviewSample, model: str | Path | LoadedModel | None = None, device: str = "auto", *, state=None
) -> PreviewResult:
    """Restore the sample's degraded crop with `model`: a model file, a training checkpoint (.ckpt, whose
    averaged weights `load_model` reads) or None for the shipped default."""
    step = None
    if isinstance(model, (str, Path)) and Path(model).suffix == ".ckpt":
        step = checkpoint_step(model)
        model = load_model(model, task=sample.task)
    out = restore(sample.restore_input, sample.task, model=model, device=device, state=state, **sample.options)
    restored = (
        out.pixels
        if out.pixels.shape[:2] == sample.clean.shape[:2]
        else bicubic_resize(out.pixels, (sample.clean.shape[1], sample.clean.shape[0]))
    )
    return PreviewResult(sample, restored, _psnr(sample.clean, sample.shown), _psnr(sample.clean, restored), step)


def checkpoint_step(path: str | Path) -> int | None:
    """The step a training checkpoint was written at (None if it cannot be read)."""
    import torch

    try:
        saved = torch.load(str(path), map_location="cpu", weights_only=True)
        return int(saved["step"])
    except Exception:  # noqa: BLE001 - only a caption depends on it
        return None


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of 0..1 images (rednet.evaluation's, which this layer does not import)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)
