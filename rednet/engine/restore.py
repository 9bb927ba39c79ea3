"""Restoring a photo, and the one read -> restore -> write pipeline the CLI, batch runs and the app use.

`restore` validates once, resolves the model once (cached by file and modification time), hands the
photo to its task for the one task-specific step (`Task.restore_pixels`) and finishes the same way for
every task. `restore_file` adds reading and an atomic write; its result carries the reader's, the
task's and the writer's warnings alike.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from rednet.engine.progressive import Progressive
from rednet.errors import UsageError
from rednet.io import Photo, read_photo, write_photo
from rednet.io.write import DEFAULT_PNG_COMPRESSION
from rednet.models.registry import LoadedModel, default_model, default_model_path, load_model, resolve_model_path
from rednet.progress import SubState, TaskState, ensure_state
from rednet.tasks import TASK_NAMES, get_task
from rednet.tasks.noise_level import estimate_sigma

__all__ = [
    "TASK_NAMES",
    "UsageError",
    "restore",
    "restore_file",
    "estimate_sigma",
    "output_size",
    "validate_options",
    "resolve_model",
]


def validate_options(task: str, *, size: tuple[int, int] | None = None, **options) -> None:
    """Raise a UsageError (naming the option) unless `options` make a valid request for `task`."""
    get_task(task).validate(options, size=size)


def output_size(photo_or_size, task: str, scale: float | None = None) -> tuple[int, int]:
    """(width, height) of the restored photo."""
    size = (photo_or_size.width, photo_or_size.height) if hasattr(photo_or_size, "width") else photo_or_size
    return get_task(task).output_size(tuple(size), {"scale": scale})


@functools.lru_cache(maxsize=8)
def _cached_model(key: str, task: str, mtime: float) -> LoadedModel:
    return default_model(task) if key == "default" else load_model(key, task=task)


def resolve_model(model: str | Path | LoadedModel | None, task: str) -> LoadedModel:
    """A LoadedModel for `task`: the given one, a file or name, or the shipped default (cached)."""
    if isinstance(model, LoadedModel):
        if model.descriptor.task != task:
            raise UsageError(f"{model.name} is a {model.descriptor.task} model, not a {task} model", option="model")
        return model
    path = resolve_model_path(model) if model is not None else default_model_path(task)
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _cached_model("default" if model is None else str(path), task, mtime)


def restore(
    photo: Photo,
    task: str,
    *,
    sigma: float | None = None,
    scale: float | None = None,
    quality: int | None = None,
    mask: np.ndarray | None = None,
    model: str | Path | LoadedModel | None = None,
    device: str = "auto",
    tile: int | None = None,
    precision: str | None = None,
    state: TaskState | SubState | None = None,
    ensemble: bool = False,
    progressive: Progressive | None = None,
) -> Photo:
    """Restore `photo` with `task`'s model; returns a new Photo (the input is left untouched).
    `ensemble`: best quality, the mean over the 8 flips/rotations of the input (8x slower).
    `progressive`: the window's tile order and per-tile results, in the result's pixels (see
    `rednet.engine.progressive`; tasks whose network output is not the result tile for tile, such as
    inpainting's few masked regions, ignore it); the result is the same either way."""
    from rednet.engine.inference import run_model  # torch: not for a window that only shows a photo

    state = ensure_state(state)
    spec = get_task(task)
    options = {
        k: v
        for k, v in dict(sigma=sigma, scale=scale, quality=quality, mask=mask).items()
        if spec.option(k) is not None
    }
    spec.validate(options, size=(photo.width, photo.height))
    loaded = resolve_model(model, spec.name)
    rgb = np.repeat(photo.pixels, 3, axis=2) if photo.pixels.shape[2] == 1 else photo.pixels
    # every task runs through `run`, so `ensemble` reaches each (inpaint: the mask channel is part of
    # the network input, so it is flipped with the photo)
    run = functools.partial(
        run_model,
        loaded,
        device=device,
        tile=tile,
        precision=precision,
        ensemble=ensemble,
        progressive=progressive if spec.progressive else None,
    )
    out, alpha, notes = spec.restore_pixels(photo, rgb, options, run, margin=loaded.descriptor.margin, state=state)
    out = np.clip(out, 0.0, 1.0, out=out)  # `out` is always a fresh array: no full-size copy
    if photo.is_gray:
        out = out.mean(axis=2, keepdims=True)
    state.report(1.0, "done")
    return photo.replace(pixels=out.astype(np.float32, copy=False), alpha=alpha, warnings=list(photo.warnings) + notes)


def restore_file(
    src: str | Path,
    dst: str | Path,
    *,
    task: str,
    overwrite: bool = False,
    jpeg_quality: int = 95,
    png_compression: str = DEFAULT_PNG_COMPRESSION,
    state: TaskState | SubState | None = None,
    photo: Photo | None = None,
    replace_input: bool = False,
    **options,
) -> Photo:
    """Read, restore and atomically write one photo; returns the result, whose `warnings` hold the
    reader's, the task's and the writer's. Never overwrites `src` unless `replace_input` (the user
    asked: the write is atomic, so the photo stays whole until the restored one replaces it); `dst`
    only with `overwrite`. `photo`: `src` already read (the caller checked it first).
    `jpeg_quality` and `png_compression` are `write_photo`'s."""
    src, dst = Path(src), Path(dst)
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        if not replace_input:
            raise UsageError(f"{dst}: output would overwrite the input photo")
        overwrite = True
    photo = read_photo(src) if photo is None else photo
    result = restore(photo, task, state=state, **options)
    if state is not None:
        state.check()  # cancelled after the last tile: still nothing is written
    written = write_photo(result, dst, jpeg_quality=jpeg_quality, png_compression=png_compression, overwrite=overwrite)
    return _with_writer_warnings(result, written)


def _with_writer_warnings(result: Photo, written) -> Photo:
    """`write_photo` returns what it had to change (e.g. 16-bit to 8-bit for JPEG): keep it with the result."""
    extra = [w for w in (written or []) if isinstance(w, str) and w not in result.warnings]
    return result.replace(warnings=list(result.warnings) + extra) if extra else result
