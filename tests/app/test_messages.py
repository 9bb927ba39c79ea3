"""How the window words the core's errors (app.services.messages): a UsageError about an option gets the
window's label of that option (the task option's title, or the table for the other options), never a
rewritten CLI message."""

from __future__ import annotations

import errno
from pathlib import Path

from app.services.messages import error_text, file_reason, option_label, save_error_message
from rednet.engine.batch import EXISTS_REASON
from rednet.errors import ImageWriteError, ModelError, UsageError
from rednet.tasks import TASKS


def test_task_options_are_labelled_with_their_titles():
    for task in TASKS.values():
        for option in task.options:
            assert option_label(option.name, task.name) == option.title
    assert option_label("sigma") == "Noise level σ"
    assert option_label("tile") == "Tile size (Preferences)" and option_label("output_quality") == "Output quality"
    assert option_label(None) is None and option_label("no-such-option") is None


def test_usage_errors_are_worded_with_the_label():
    exc = UsageError("must be between 0 and 75 (0-255 units), got 80", option="sigma")
    assert error_text(exc, "denoise") == "Noise level σ: must be between 0 and 75 (0-255 units), got 80"
    assert (
        error_text(UsageError("must be a positive whole number, got -1", option="tile"))
        == "Tile size (Preferences): must be a positive whole number, got -1"
    )
    assert (
        error_text(UsageError("the output folder must not be the input folder"))
        == "The output folder must not be the input folder"
    )
    assert error_text(UsageError("no label for this one", option="no-such-option")) == "No label for this one"
    assert error_text(ValueError("first line\nsecond line")) == "First line"
    assert error_text(RuntimeError()) == "RuntimeError"


def test_a_missing_shipped_model_is_said_in_the_windows_words(app_env):
    exc = ModelError("no shipped denoise model in /somewhere; pass --model")
    text = error_text(exc, "denoise", model_chosen=False)
    assert text.startswith("No shipped denoise model in ") and "--model" not in text
    assert error_text(exc, "denoise") == "No shipped denoise model in /somewhere; pass --model"  # a chosen model


def test_file_reasons_and_failed_saves():
    assert (
        "--" not in file_reason(EXISTS_REASON) and file_reason("image data is truncated") == "Image data is truncated"
    )
    path = Path("/photos/out.png")
    text = save_error_message(path, OSError(errno.ENOSPC, "No space left on device"))
    assert text.startswith("out.png: cannot write: No space left on device. The disk is full")
    assert text.endswith("Nothing was written; the photo is still open here.")
    assert save_error_message(path, ImageWriteError("out.png: unsupported")).startswith("out.png: unsupported")
