"""How the window words what went wrong: the core's errors and failed saves, in one line each.

The core's messages never name the option they are about (`UsageError.option` does), so the window
prefixes the label it gives that option with `UsageError.worded`: a task option's `title` ("Noise
level σ"), or `OPTION_LABELS` for the options that are not a task's. Nothing is rewritten.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from rednet.engine.batch import EXISTS_REASON
from rednet.errors import ImageWriteError, ModelError, UsageError
from rednet.models.registry import default_model_path
from rednet.tasks import TASKS, Task, get_task

# Labels of the options that are not a task's, as the forms and Preferences show them.
OPTION_LABELS = {
    "tile": "Tile size (Preferences)",
    "device": "Device (Preferences)",
    "output_quality": "Output quality",
    "format": "Format",
    "name": "Name",
    "if_exists": "If it exists",
    "model": "Model",
    "task": "Task",
}

# Per-file reasons of a batch that the window states in its own words (the core's name CLI options).
FILE_REASONS = {
    EXISTS_REASON: "output exists (choose Skip or Overwrite for existing files)",
}


def option_label(option: str | None, task: str | Task | None = None) -> str | None:
    """The window's label for `option`: the task option's title, else OPTION_LABELS."""
    if option is None:
        return None
    tasks = [get_task(task)] if task is not None else []
    for t in tasks + list(TASKS.values()):
        opt = t.option(option)
        if opt is not None:
            return opt.title
    return OPTION_LABELS.get(option)


def sentence(text: str) -> str:
    """One line, starting with a capital letter."""
    text = str(text).strip()
    line = text.splitlines()[0].strip() if text else ""
    line = line or "unknown error"
    return line[:1].upper() + line[1:]


def missing_model_text(task: str | Task) -> str | None:
    """The window's sentence for a task whose shipped model is not installed (None when it is)."""
    name = get_task(task).name
    path = default_model_path(name)
    return None if path.is_file() else f"No shipped {name} model in {path.parent}: choose a model in the list"


def error_text(exc: BaseException | str, task: str | Task | None = None, *, model_chosen: bool = True) -> str:
    """One line for the user about `exc`: a UsageError about an option prefixed with its label; a
    ModelError of a run without a chosen model whose task has no shipped model says so."""
    if isinstance(exc, ModelError) and not model_chosen and task is not None:
        missing = missing_model_text(task)
        if missing:
            return missing
    if isinstance(exc, UsageError):
        return sentence(exc.worded(option_label(exc.option, task)))
    if isinstance(exc, BaseException):
        return sentence(str(exc) or type(exc).__name__)
    return sentence(exc)


def file_reason(reason: str) -> str:
    """A batch's per-file reason (FileResult.reason) for the results table."""
    return sentence(FILE_REASONS.get(reason, reason))


def save_error_message(path: Path, exc: BaseException) -> str:
    """One clear line for a failed save: the file, what went wrong and what to do about it."""
    text = str(exc).strip()
    code = getattr(exc, "errno", None)
    if not isinstance(exc, ImageWriteError) and isinstance(exc, OSError):
        text = f"{path.name}: cannot write: {os.strerror(code) if code else (text or type(exc).__name__)}"
    elif path.name not in text:
        text = f"{path.name}: {text}"
    if code == errno.ENOSPC:
        text += ". The disk is full: free some space or save to another drive."
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        text += f". {path.parent} cannot be written to: choose another folder."
    return text + "\nNothing was written; the photo is still open here."
