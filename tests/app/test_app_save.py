"""Saving results: every format with EXIF and ICC intact, 16 bits where the format has them, the JPEG
quality preference, never overwriting the original silently, and the unsaved-result prompts."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.services import settings as S
from rednet.io import read_photo
from tests.support.app_fixtures import choose_model, exif_bytes, srgb_icc

W, H = 64, 48


def restore_once(qtbot, window, models, task="denoise"):
    window.panel.set_task(task)
    choose_model(window, models[task])
    with qtbot.waitSignal(window.runner.done, timeout=20000):
        assert window.start_restore()
    assert window.doc.has_result


@pytest.fixture
def restored(window, make_photo, tiny_user_models, qtbot):
    """A window holding a denoised photo whose source has EXIF and an ICC profile."""
    src = make_photo("source.png", exif=exif_bytes(), icc=srgb_icc())
    assert window.open_path(src)
    restore_once(qtbot, window, tiny_user_models)
    return window


@pytest.mark.parametrize("ext,fmt", [(".png", "PNG"), (".jpg", "JPEG"), (".tif", "TIFF"), (".webp", "WEBP")])
def test_save_as_each_format_keeps_exif_and_icc(restored, dialogs, tmp_path, ext, fmt):
    w = restored
    out = tmp_path / f"result{ext}"
    dialogs.answer("ask_save_path", str(out))
    assert w.save_as()
    saved = read_photo(out)
    assert saved.format == fmt
    assert saved.exif is not None and b"RED-Net Test Camera" in saved.exif
    assert saved.icc == srgb_icc()
    result = w.doc.current
    if fmt in ("PNG", "TIFF"):  # lossless: exactly the result, quantized to 8 bits
        assert np.array_equal(np.round(saved.pixels * 255), np.round(result.pixels * 255))
    else:
        assert np.abs(saved.pixels - result.pixels).mean() < 0.05
    assert not w.doc.has_unsaved_result and not w.isWindowModified()
    assert w.windowTitle().startswith(out.name)


def test_suggested_name_keeps_the_format_and_says_what_was_done(restored, dialogs, tiny_user_models, qtbot):
    restored.save_as()
    (args,) = dialogs.named("ask_save_path")
    assert args[1].endswith("source-denoised.png")
    restored.panel.field("scale", "sr").spin.setValue(2.0)
    restore_once(qtbot, restored, tiny_user_models, task="sr")
    restored.save_as()
    assert dialogs.named("ask_save_path")[-1][1].endswith("source-denoised-upscaled.png")


@pytest.mark.parametrize("task,word", [("jpeg", "cleaned"), ("inpaint", "retouched"), ("sr", "upscaled")])
def test_each_task_names_its_result(window, make_photo, tiny_user_models, qtbot, dialogs, task, word):
    from tests.support.app_fixtures import paint

    assert window.open_path(make_photo("shot.jpg", quality=30))
    if task == "inpaint":
        paint(qtbot, window, [(10, 20), (40, 20)])
    restore_once(qtbot, window, tiny_user_models, task=task)
    window.save_as()
    assert dialogs.named("ask_save_path")[-1][1].endswith(f"shot-{word}.jpg")


@pytest.mark.parametrize("ext,depth", [(".png", 16), (".tif", 16), (".jpg", 8), (".webp", 8)])
def test_16_bit_is_kept_where_the_format_allows(
    window, make_photo, tiny_user_models, qtbot, dialogs, tmp_path, ext, depth
):
    window.open_path(make_photo("deep.png", bit_depth=16))
    assert window.doc.current.bit_depth == 16
    assert "16-bit" in window.size_label.text()
    restore_once(qtbot, window, tiny_user_models)
    assert window.doc.current.bit_depth == 16
    out = tmp_path / f"deep-out{ext}"
    dialogs.answer("ask_save_path", str(out))
    assert window.save_as()
    assert read_photo(out).bit_depth == depth


def test_jpeg_quality_preference_is_used(restored, dialogs, tmp_path):
    restored.settings.set(S.SAVE_JPEG_QUALITY, 40)
    out = tmp_path / "q40.jpg"
    dialogs.answer("ask_save_path", str(out))
    assert restored.save_as()
    q = read_photo(out).jpeg_quality
    assert q is not None and abs(q - 40) <= 3


def test_save_asks_where_then_reuses_that_path(restored, dialogs, tmp_path, qtbot):
    w = restored
    out = tmp_path / "mine.png"
    dialogs.answer("ask_save_path", str(out))
    w.activateWindow()
    w.compare.canvas.setFocus()
    qtbot.keyClick(w.compare.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert out.is_file() and len(dialogs.named("ask_save_path")) == 1
    first = out.stat().st_mtime_ns
    w.panel.set_task("denoise")
    with qtbot.waitSignal(w.runner.done, timeout=20000):
        w.start_restore()
    assert w.doc.has_unsaved_result
    assert w.save()  # no dialog this time
    assert len(dialogs.named("ask_save_path")) == 1
    assert out.stat().st_mtime_ns >= first and not w.doc.has_unsaved_result


def test_the_original_is_never_overwritten_silently(restored, dialogs):
    w = restored
    src = w.doc.source_path
    original_bytes = src.read_bytes()
    dialogs.answer("ask_save_path", str(src))
    dialogs.answer("ask_yes_no", False)
    assert not w.save()
    assert src.read_bytes() == original_bytes
    (question,) = dialogs.named("ask_yes_no")
    assert "original" in question[1].lower()
    assert w.doc.has_unsaved_result

    dialogs.answer("ask_save_path", str(src))
    dialogs.answer("ask_yes_no", True)
    assert w.save()
    assert src.read_bytes() != original_bytes


def test_a_write_error_is_reported(restored, dialogs, tmp_path):
    dialogs.answer("ask_save_path", str(tmp_path / "no-such-folder" / "x.png"))
    assert not restored.save_as()
    (args,) = dialogs.named("show_error")
    assert args[1] == "Cannot save photo" and "x.png" in args[2]
    assert restored.doc.has_unsaved_result


def test_close_with_an_unsaved_result_prompts(restored, dialogs, tmp_path):
    w = restored
    dialogs.answer("ask_save_discard_cancel", "cancel")
    assert not w.close()
    assert w.isVisible()
    dialogs.answer("ask_save_discard_cancel", "save")
    out = tmp_path / "on-close.png"
    dialogs.answer("ask_save_path", str(out))
    assert w.close()
    assert out.is_file()


def test_close_and_discard(restored, dialogs):
    dialogs.answer("ask_save_discard_cancel", "discard")
    assert restored.close()
    assert len(dialogs.named("ask_save_discard_cancel")) == 1


def test_opening_another_photo_asks_about_the_unsaved_result(restored, dialogs, make_photo):
    w = restored
    other = make_photo("other.png", seed=5)
    dialogs.answer("ask_save_discard_cancel", "cancel")
    assert not w.open_path(other)
    assert w.doc.source_path.name == "source.png" and w.doc.has_result
    dialogs.answer("ask_save_discard_cancel", "discard")
    assert w.open_path(other)
    assert w.doc.source_path.name == "other.png"


def test_no_prompt_without_a_result(window, make_photo, dialogs):
    window.open_path(make_photo("plain.png"))
    assert window.close()
    assert dialogs.named("ask_save_discard_cancel") == []


def test_the_png_compression_preference_reaches_the_writer(restored, dialogs, tmp_path, monkeypatch):
    import app.main_window as mw

    seen = []
    real = mw.rio.write_photo
    monkeypatch.setattr(mw.rio, "write_photo", lambda *a, **kw: (seen.append(kw["png_compression"]), real(*a, **kw))[1])
    restored.settings.set(S.SAVE_PNG_COMPRESSION, "small")
    dialogs.answer("ask_save_path", str(tmp_path / "small.png"))
    assert restored.save_as()
    assert seen == ["small"] and read_photo(tmp_path / "small.png").width == W
