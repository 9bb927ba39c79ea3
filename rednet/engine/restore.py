"""Restoring a photo: the single entry point the CLI, the GUI and batch runs call."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from rednet.tasks import inputs as T
from rednet.tasks.degradations import bicubic_resize
from rednet.io.imageio import Photo, read_photo, write_photo
from rednet.engine.inference import run_model
from rednet.tasks.noise_level import estimate_sigma
from rednet.progress import TaskState, SubState, ensure_state
from rednet.models.registry import TASKS, LoadedModel, default_model, load_model

__all__ = ["TASKS", "UsageError", "restore", "restore_file", "estimate_sigma", "output_size",
           "validate_options", "resolve_model"]


class UsageError(ValueError):
    """An option out of range or missing: the user's to fix, reported without a traceback."""


def _exact(value) -> str:
    """A number as short as it can be written without changing it: 1.0000001 is not "1"."""
    short = f"{float(value):g}"
    return short if float(short) == float(value) else repr(float(value))


def validate_options(task: str, *, sigma=None, scale=None, quality=None, mask=None,
                     size: tuple[int, int] | None = None) -> None:
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if sigma is not None and not (0.0 <= float(sigma) <= T.SIGMA_MAX):
        raise UsageError(f"--sigma must be between 0 and {T.SIGMA_MAX:g} (0-255 units), got {_exact(sigma)}")
    if scale is not None and not (T.SCALE_RANGE[0] <= float(scale) <= T.SCALE_RANGE[1]):
        raise UsageError(f"--scale must be between {T.SCALE_RANGE[0]:g} and {T.SCALE_RANGE[1]:g}, got {_exact(scale)}")
    if quality is not None and not (1 <= int(quality) <= 100):
        raise UsageError(f"--quality must be between 1 and 100, got {quality}")
    if task == "inpaint":
        if mask is None:
            raise UsageError("inpaint needs a mask (white = fill): --mask MASK.png")
        if size is not None and (mask.shape[1], mask.shape[0]) != tuple(size):
            raise UsageError(f"mask is {mask.shape[1]}x{mask.shape[0]} but the photo is {size[0]}x{size[1]}")


def output_size(photo_or_size, task: str, scale: float | None = None) -> tuple[int, int]:
    """(width, height) of the restored photo."""
    w, h = (photo_or_size.width, photo_or_size.height) if hasattr(photo_or_size, "width") else photo_or_size
    if task != "sr":
        return w, h
    s = 2.0 if scale is None else float(scale)
    return max(1, int(w * s + 0.5)), max(1, int(h * s + 0.5))  # half up: 101 x 2.5 -> 253


@functools.lru_cache(maxsize=8)
def _cached_model(key: str, task: str, mtime: float) -> LoadedModel:
    return default_model(task) if key == "default" else load_model(key, task=task)


def resolve_model(model: str | Path | LoadedModel | None, task: str) -> LoadedModel:
    """A LoadedModel for `task`: the given one, a file or name, or the shipped default (cached)."""
    if isinstance(model, LoadedModel):
        if model.descriptor.task != task:
            raise UsageError(f"model {model.name} is a {model.descriptor.task} model, not a {task} model")
        return model
    from rednet.models.registry import default_model_path, resolve_model_path

    path = resolve_model_path(model) if model is not None else default_model_path(task)
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _cached_model("default" if model is None else str(path), task, mtime)


def restore(photo: Photo, task: str, *, sigma: float | None = None, scale: float | None = None,
            quality: int | None = None, mask: np.ndarray | None = None,
            model: str | Path | LoadedModel | None = None, device: str = "auto", tile: int | None = None,
            precision: str | None = None, state: TaskState | SubState | None = None,
            ensemble: bool = False) -> Photo:
    """Restore `photo` with `task`'s model; returns a new Photo (the input is left untouched).
    `ensemble`: best quality, the mean over the 8 flips/rotations of the input (8x slower)."""
    state = ensure_state(state)
    validate_options(task, sigma=sigma, scale=scale, quality=quality, mask=mask,
                     size=(photo.width, photo.height))
    loaded = resolve_model(model, task)
    rgb = _as_rgb(photo.pixels)
    alpha = photo.alpha
    # every task runs through `run`, so `ensemble` reaches each (inpaint: the mask channel is part of
    # the network input, so it is flipped with the photo)
    run = functools.partial(run_model, loaded, device=device, tile=tile, precision=precision, ensemble=ensemble)
    notes: list[str] = []

    if task == "denoise":
        if sigma is None:
            sigma = min(estimate_sigma(rgb), T.SIGMA_MAX)
            notes.append(f"estimated noise level sigma {sigma:.1f}")
        out = run(rgb, cond=_condition("denoise", rgb, sigma=sigma), state=state)
    elif task == "sr":
        size = output_size(photo, "sr", scale)
        out = run(T.network_input("sr", bicubic_resize(rgb, size)), state=state)
        if alpha is not None:
            alpha = np.clip(bicubic_resize(alpha[..., None], size)[..., 0], 0.0, 1.0)
    elif task == "jpeg":
        if quality is None:
            quality = photo.jpeg_quality
            notes.append(f"JPEG quality {quality} read from the file" if quality else
                         "JPEG quality unknown: the model estimates it")
        out = run(rgb, cond=_condition("jpeg", rgb, quality=quality), state=state)
    else:
        out = _inpaint(loaded, rgb, mask.astype(bool), run, state)

    out = np.clip(out, 0.0, 1.0, out=out)  # `out` is always a fresh array: no full-size copy
    if photo.is_gray:
        out = out.mean(axis=2, keepdims=True)
    state.report(1.0, "done")
    return photo.replace(pixels=out.astype(np.float32, copy=False), alpha=alpha,
                         warnings=list(photo.warnings) + notes)


def _condition(task: str, rgb: np.ndarray, **options) -> float:
    """The constant condition channel `T.network_input` appends for `task`, built on one pixel: the
    network gets it per tile instead of a full-size copy of the photo with the channel concatenated."""
    return float(T.network_input(task, rgb[:1, :1], **options)[0, 0, -1])


def _as_rgb(pixels: np.ndarray) -> np.ndarray:
    return np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else pixels


def mask_regions(mask: np.ndarray, margin: int) -> list[tuple[slice, slice, np.ndarray]]:
    """Boxes around each cluster of masked pixels, grown by `margin` (clusters closer than that merge).

    Returns (rows, cols, pixels of the mask this box is responsible for) for each box.
    """
    import cv2

    h, w = mask.shape
    ys, xs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if ys.size == 0:
        return []
    # Work only on the mask's bounding box grown by the margin, which holds every grown pixel: same
    # boxes in the same order as on the whole photo, without dilating 12 MP for a small mask.
    y0, y1 = max(0, ys[0] - margin) // 2 * 2, min(h, ys[-1] + margin + 1)  # even: OpenCV's 2x2 blocks
    x0, x1 = max(0, xs[0] - margin) // 2 * 2, min(w, xs[-1] + margin + 1)
    box = mask[y0:y1, x0:x1]
    grown = cv2.dilate(box.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    regions = []
    for k in range(1, count):
        x, y, bw, bh, _ = stats[k]
        own = (labels[y:y + bh, x:x + bw] == k) & box[y:y + bh, x:x + bw]
        regions.append((slice(y0 + y, y0 + y + bh), slice(x0 + x, x0 + x + bw), own))
    return regions


def _inpaint(model: LoadedModel, rgb: np.ndarray, mask: np.ndarray, run, state) -> np.ndarray:
    """Run only on boxes around the mask (plus the receptive field as context); change only masked pixels."""
    out = rgb.copy()
    regions = mask_regions(mask, margin=model.descriptor.margin + 8)
    for i, (rows, cols, own) in enumerate(regions):
        crop = rgb[rows, cols]
        pred = run(T.network_input("inpaint", crop, mask=mask[rows, cols]),
                   state=state.span(i / len(regions), (i + 1) / len(regions)))
        out[rows, cols][own] = pred[own]
    return out


def restore_file(src: str | Path, dst: str | Path, *, task: str, overwrite: bool = False,
                 jpeg_quality: int = 95, state: TaskState | SubState | None = None, **options) -> Photo:
    """Read, restore and atomically write one photo. Never overwrites `src`; `dst` only with `overwrite`."""
    src, dst = Path(src), Path(dst)
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise UsageError(f"{dst}: output would overwrite the input photo")
    photo = read_photo(src)
    result = restore(photo, task, state=state, **options)
    if state is not None:
        state.check()  # cancelled after the last tile: still nothing is written
    write_photo(result, dst, jpeg_quality=jpeg_quality, overwrite=overwrite)
    return result
