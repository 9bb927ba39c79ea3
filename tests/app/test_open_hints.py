"""What a newly opened photo shows: nothing left over from the last run, a hint when the file itself
says which task it needs, and samples that open ready for their task."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.support.app_fixtures import choose_model


def test_a_new_photo_shows_nothing_of_the_last_run(window, make_photo, tiny_user_models, qtbot):
    window.open_path(make_photo("first.png"))
    choose_model(window, tiny_user_models["denoise"])
    with qtbot.waitSignal(window.runner.done, timeout=20000):
        assert window.start_restore()
    assert "done in" in window.panel.progress_label.text() and window.panel.progress.value() == 1000
    window.doc.saved_photo = window.doc.current  # no unsaved-result question
    window.open_path(make_photo("second.png", seed=3))
    assert window.panel.progress_label.text() == "Ready"
    assert window.panel.progress.value() == 0 and window.panel.progress.text() == ""
    assert "done in" not in window.statusBar().currentMessage()


def test_a_low_quality_jpeg_suggests_jpeg_clean_up(window, make_photo, qtbot):
    window.open_path(make_photo("web.jpg", quality=10))
    hint = window.panel.suggestion
    assert hint.isVisible() and "quality" in hint.label.text() and "JPEG" in hint.button.text()
    assert window.panel.task() == "denoise"  # offered, not imposed
    qtbot.mouseClick(hint.button, Qt.MouseButton.LeftButton)
    assert window.panel.task() == "jpeg" and not hint.isVisible()


def test_no_suggestion_for_a_png_or_a_good_jpeg(window, make_photo):
    window.open_path(make_photo("clean.png"))
    assert not window.panel.suggestion.isVisible()
    window.open_path(make_photo("camera.jpg", quality=95))
    assert not window.panel.suggestion.isVisible()


def test_the_suggestion_goes_when_the_task_is_chosen_another_way(window, make_photo):
    window.open_path(make_photo("web.jpg", quality=20))
    assert window.panel.suggestion.isVisible()
    window.panel.set_task("jpeg")
    assert not window.panel.suggestion.isVisible()


def test_samples_list_photos_only_and_the_text_sample_opens_with_its_mask_for_inpainting(window, make_photo):
    import json

    import numpy as np

    from rednet.io import write_mask
    from rednet.paths import samples_dir

    folder = samples_dir()
    make_photo("text.png", folder=folder)
    make_photo("noisy.png", folder=folder)
    mask = np.zeros((48, 64), bool)
    mask[20:28, 10:50] = True
    write_mask(mask, folder / "text-mask.png")
    (folder / "samples.json").write_text(json.dumps({"text.png": "inpaint", "noisy.png": "denoise"}))
    window.samples_menu.aboutToShow.emit()
    actions = {a.text(): a for a in window.samples_menu.actions()}
    assert sorted(actions) == ["noisy.png", "text.png"]  # the mask is not offered as a photo
    actions["text.png"].trigger()
    assert window.panel.task() == "inpaint"
    assert np.array_equal(window.doc.mask.to_array(), mask)
    actions["noisy.png"].trigger()
    assert window.panel.task() == "denoise"
