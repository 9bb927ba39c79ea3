"""Managing the user's own models (fine-tunes): naming, renaming, exporting and deleting.

A user model is `<name>.safetensors` in the user models folder, with its card `<name>.card.json`
and, while a fine-tune is unfinished, its checkpoint `<name>.ckpt`. Shipped models are read-only.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from rednet.models.registry import ModelError, card_path, checkpoint_path, model_name
from rednet.paths import user_models_dir
from rednet.tasks import TASKS

NAME_RE = re.compile(r"[\w][\w .+\-]{0,79}")


def model_files(weights: Path) -> list[Path]:
    """The weights, their card and an interrupted run's checkpoint (those that exist)."""
    return [p for p in (Path(weights), card_path(weights), checkpoint_path(weights)) if p.exists()]


def is_user_model(path: Path) -> bool:
    try:
        return Path(path).resolve().parent == user_models_dir().resolve() and Path(path).suffix == ".safetensors"
    except OSError:
        return False


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a user model, or None if it can."""
    if not name:
        return "a model needs a name"
    if not NAME_RE.fullmatch(name) or name.endswith((".", " ")):
        return (
            f"{name!r} cannot be a model name: use letters, digits, spaces and . + - _ "
            "(no slashes), up to 80 characters"
        )
    if name.lower().endswith((".safetensors", ".ckpt")):
        return "give the name without an extension"
    if name in TASKS:
        return f"{name!r} is the name of a shipped model; choose another"
    return None


def _user_model(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix != ".safetensors":
        path = user_models_dir() / f"{name_or_path}.safetensors"
    if not path.is_file():
        raise ModelError(f"no user model named {model_name(path)!r}")
    if not is_user_model(path):
        raise ModelError(f"{model_name(path)}: only your own models can be changed, not the shipped ones")
    return path


def rename_user_model(name_or_path: str | Path, new_name: str) -> Path:
    """Rename a user model with its card and checkpoint; refuses to replace another model."""
    path = _user_model(name_or_path)
    problem = name_problem(new_name)
    if problem:
        raise ModelError(problem)
    target = path.with_name(f"{new_name}.safetensors")
    if target.exists():
        raise ModelError(f"you already have a model named {new_name!r}")
    moves = [(path, target), (card_path(path), card_path(target)), (checkpoint_path(path), checkpoint_path(target))]
    done = []
    try:
        for src, dst in moves:
            if src.exists():
                src.rename(dst)
                done.append((src, dst))
    except OSError as exc:
        for src, dst in reversed(done):  # all or nothing
            dst.rename(src)
        raise ModelError(f"could not rename {model_name(path)!r}: {exc.strerror or exc}") from None
    return target


def delete_user_model(name_or_path: str | Path) -> list[Path]:
    """Delete a user model's weights, card and checkpoint. Returns what was removed."""
    path = _user_model(name_or_path)
    files = model_files(path)
    try:
        for p in files:
            p.unlink()
    except OSError as exc:
        raise ModelError(f"could not delete {model_name(path)!r}: {exc.strerror or exc}") from None
    return files


def export_model(weights: str | Path, folder: str | Path, overwrite: bool = False) -> list[Path]:
    """Copy a model's weights and card into `folder` (any model, shipped or user)."""
    from rednet.models.registry import resolve_model_path

    path, folder = resolve_model_path(weights), Path(folder)
    files = [p for p in (path, card_path(path)) if p.is_file()]
    clashes = [folder / p.name for p in files if (folder / p.name).exists()]
    if clashes and not overwrite:
        raise ModelError(f"{', '.join(c.name for c in clashes)} already in {folder}")
    if not folder.is_dir():
        raise ModelError(f"{folder}: not a folder")
    try:
        for p in files:
            shutil.copy2(p, folder / p.name)
    except OSError as exc:
        raise ModelError(f"could not export to {folder}: {exc.strerror or exc}") from None
    return [folder / p.name for p in files]
