"""Fine-tuning a shipped (or any) model on the user's own photos.

Self-supervised by default: the user's clean photos are corrupted on the fly with the task's
degradation. With `pairs`, corrupted/clean photos matched by file name are used as they are.
Starts from the base model with a low learning rate, holds out a validation split, stops early when
validation PSNR stops improving, and checkpoints so an interrupted run resumes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from rednet.engine.restore import resolve_model
from rednet.models.registry import LoadedModel
from rednet.paths import user_models_dir
from rednet.progress import SubState, TaskState
from rednet.train.data import DataError
from rednet.train.loop import TrainConfig, TrainResult, train

MIN_IMAGES = 2  # one to learn from and one to validate on


def output_path(name_or_path: str | Path) -> Path:
    """A bare name goes to the user models folder (where every model picker looks); a path stays."""
    text = str(name_or_path)
    path = Path(text if text.endswith(".safetensors") else text + ".safetensors")
    return user_models_dir() / path.name if path.parent == Path(".") else path


def finetune(
    task: str,
    data: str | Path,
    out: str | Path,
    *,
    base: str | Path | LoadedModel | None = None,
    pairs: str | Path | None = None,
    iters: int = 300,
    minutes: float | None = None,
    lr: float = 1e-4,
    val_fraction: float = 0.2,
    batch: int = 16,
    patch: int = 48,
    resume: bool = False,
    device: str = "auto",
    precision: str = "auto",
    seed: int = 0,
    patience: int | None = 4,
    val_every: int = 25,
    checkpoint_every: int = 25,
    overwrite: bool = False,
    state: TaskState | SubState | None = None,
    on_log: Callable[[dict], None] | None = None,
) -> TrainResult:
    target = output_path(out)
    if target.exists() and not (overwrite or resume):
        raise DataError(
            f"a model named {target.name.removesuffix('.safetensors')!r} already exists at "
            f"{target.parent}; choose another name or replace it (--overwrite)"
        )
    base_model = resolve_model(base, task)
    cfg = TrainConfig(
        task=task,
        data=data,
        out=target,
        base=base_model,
        pairs=pairs,
        iters=iters,
        minutes=minutes,
        lr=lr,
        lr_min=lr / 10,
        warmup=0,
        val_fraction=val_fraction,
        batch=batch,
        patch=patch,
        resume=resume,
        device=device,
        precision=precision,
        seed=seed,
        patience=patience,
        val_every=val_every,
        checkpoint_every=checkpoint_every,
        val_patches=32,
        ema=0.99,
        min_images=MIN_IMAGES,
        card={"summary": f"{task} fine-tuned from {base_model.name} on {Path(data).name}", "fine_tuned": True},
    )
    return train(cfg, state, on_log)
