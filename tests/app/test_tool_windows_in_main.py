"""What the tool windows hand the main window: a batch result to review, a fine-tuned model."""

from __future__ import annotations

import numpy as np

from app.canvas.compare import CompareMode
from rednet.io import Photo, read_photo, write_photo
from tests.support.app_fixtures import smooth_pixels


def test_a_double_clicked_batch_result_opens_with_its_photo_in_compare_mode(window, make_photo, tmp_path):
    source = make_photo("scan.png")
    result = tmp_path / "out" / "scan-denoise.png"
    result.parent.mkdir()
    write_photo(Photo(pixels=smooth_pixels(seed=5)), result)
    batch = window.show_batch_dialog()
    batch.review_requested.emit(source, result)
    doc = window.doc
    assert doc.source_path == source.resolve()
    assert np.array_equal(doc.original.pixels, read_photo(source).pixels)
    assert np.array_equal(doc.current.pixels, read_photo(result).pixels)
    assert window.compare.mode is CompareMode.SPLIT
    assert not doc.has_unsaved_result  # it is on disk already: closing asks nothing


def test_an_unreadable_batch_result_says_so_and_keeps_the_photo(window, make_photo, tmp_path, dialogs):
    source = make_photo("scan.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    window.show_batch_dialog().review_requested.emit(source, broken)
    (args,) = dialogs.named("show_error")
    assert args[1] == "Cannot open the result"
    assert window.doc.source_path == source.resolve() and not window.doc.has_result


def test_a_finished_fine_tune_says_its_model_is_now_chosen(window, tiny_user_models):
    window.show_finetune_dialog().model_created.emit(str(tiny_user_models["sr"]), "sr")
    assert window.panel.task() == "sr" and window.panel.model() == str(tiny_user_models["sr"])
    message = window.statusBar().currentMessage()
    assert "tiny-sr" in message and "Model list" in message
