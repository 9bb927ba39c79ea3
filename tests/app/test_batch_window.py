"""Tools > Batch Restore: a real `rednet.engine.batch.run_batch` over a small folder tree on the worker thread,
with the folder pickers monkeypatched: outputs keep the tree, failures are listed with their reason,
the report saves as CSV, cancel leaves only complete files, and usage errors show inline."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.dialogs import prompts
from rednet.io import read_photo

W, H = 40, 30


@pytest.fixture
def photo_tree(tmp_path, make_photo):
    """in/a.png, in/sub/b.png, in/sub/deeper/c.png (good) and in/sub/broken.png (not an image)."""
    root = tmp_path / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    make_photo("a.png", W, H, seed=1, folder=root)
    make_photo("b.png", W, H, seed=2, folder=root / "sub")
    make_photo("c.png", W, H, seed=3, folder=root / "sub" / "deeper")
    (root / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not a photo")
    return root


def open_batch(window, qtbot):
    window.batch_action.trigger()
    dlg = window.tool("batch")
    qtbot.waitExposed(dlg)
    return dlg


def set_up(dlg, monkeypatch, qtbot, src: Path, dst: Path, model: Path) -> None:
    answers = [str(src), str(dst)]
    monkeypatch.setattr(prompts, "ask_folder", lambda *a, **k: answers.pop(0))
    qtbot.mouseClick(dlg.input_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dlg.output_button, Qt.MouseButton.LeftButton)
    assert dlg.input_edit.text() == str(src) and dlg.output_edit.text() == str(dst)
    dlg.set_task("denoise")
    dlg.field("sigma").auto.setChecked(False)
    dlg.field("sigma").spin.setValue(15)
    assert dlg.options() == {"sigma": 15.0}
    assert dlg.choose_model(model)
    dlg.recursive_check.setChecked(True)
    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData("png"))
    dlg.template_edit.setText("{stem}-clean")
    assert dlg.name_preview.text() == "photo.jpg → photo-clean.png"


def leftovers(folder: Path) -> list[Path]:
    """Temporary or hidden files a write could leave behind."""
    return [p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


def test_tools_menu_opens_non_modal_windows(window, qtbot):
    titles = [a.text() for m in window.menuBar().actions() if m.text() == "&Tools" for a in m.menu().actions()]
    assert titles == ["&Batch Restore…", "&Fine-tune a Model…"]
    dlg = open_batch(window, qtbot)
    assert dlg.isVisible() and not dlg.isModal() and window.isEnabled()
    assert window.show_batch_dialog() is dlg  # one window, raised again


def test_batch_runs_a_tree_to_completion(
    window, qtbot, photo_tree, tmp_path, tiny_user_models, monkeypatch, make_photo
):
    out = tmp_path / "out"
    dlg = open_batch(window, qtbot)
    set_up(dlg, monkeypatch, qtbot, photo_tree, out, tiny_user_models["denoise"])
    # Hold the batch after its first file, to show the main window is usable meanwhile.
    state_holder = {}

    def first_file(run_no, result):  # runs on the worker thread (direct connection)
        if not state_holder:
            state_holder["state"] = dlg.runner.state
            dlg.runner.state.pause()

    dlg.relay.file_done.connect(first_file, Qt.ConnectionType.DirectConnection)
    progress = []
    dlg.runner.progress.connect(progress.append)
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert dlg.running and not dlg.start_button.isEnabled() and dlg.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: len(dlg.results) == 1 and bool(state_holder), timeout=30000)
    assert window.open_path(make_photo("meanwhile.png"))  # the main window works during the batch
    assert window.doc is not None and dlg.running
    with qtbot.waitSignal(dlg.runner.done, timeout=60000):
        state_holder["state"].resume()

    # outputs keep the tree; the broken file is listed with its reason
    for rel in ("a-clean.png", "sub/b-clean.png", "sub/deeper/c-clean.png"):
        photo = read_photo(out / rel)
        assert (photo.width, photo.height) == (W, H)
    assert not (out / "sub" / "broken-clean.png").exists()
    assert leftovers(out) == []
    assert dlg.results_view.table.rowCount() == 4
    assert dlg.results_view.failed_rows() == [("sub/broken.png", "Image data is truncated or corrupt")]
    assert dlg.results_view.failures_only.isChecked()  # failures first when there are some
    assert [dlg.results_view.table.isRowHidden(i) for i in range(4)] == [r.status != "failed" for r in dlg.results]
    assert dlg.report is not None and dlg.report.counts == {"ok": 3, "failed": 1, "skipped": 0, "not_done": 0}
    assert dlg.results_view.progress.format() == "4 of 4" and dlg.results_view.progress.value() == 1000
    assert dlg.results_view.current_label.text().startswith("Done: 3 restored, 0 skipped, 1 failed")
    assert any(p.message.startswith("file 2 of 4") for p in progress)
    assert not dlg.error_label.isVisible()
    # a live thumbnail of the last result, read back from the written file
    qtbot.waitUntil(
        lambda: dlg.results_view.thumbnail.pixmap() is not None and not dlg.results_view.thumbnail.pixmap().isNull(),
        timeout=10000,
    )
    assert dlg.results_view.thumb_caption.text().split("\n")[0] in ("a-clean.png", "b-clean.png", "c-clean.png")

    # the report saves as CSV
    report = tmp_path / "report.csv"
    monkeypatch.setattr(prompts, "ask_csv_path", lambda parent, suggested: str(report))
    assert dlg.results_view.save_report_button.isEnabled()
    qtbot.mouseClick(dlg.results_view.save_report_button, Qt.MouseButton.LeftButton)
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert len(rows) == 4
    assert {Path(r["input"]).relative_to(photo_tree).as_posix(): r["status"] for r in rows} == {
        "a.png": "ok",
        "sub/b.png": "ok",
        "sub/deeper/c.png": "ok",
        "sub/broken.png": "failed",
    }
    broken = next(r for r in rows if r["status"] == "failed")
    assert "corrupt" in broken["reason"]
    assert str(report) in dlg.results_view.report_label.text()

    # existing outputs are skipped on a second run
    with qtbot.waitSignal(dlg.runner.done, timeout=60000):
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert dlg.report.counts == {"ok": 0, "failed": 1, "skipped": 3, "not_done": 0}


def test_cancel_mid_run_leaves_only_complete_files(window, qtbot, tmp_path, tiny_user_models, monkeypatch, make_photo):
    src = tmp_path / "many"
    src.mkdir()
    for i in range(6):
        make_photo(f"p{i}.png", W, H, seed=i, folder=src)
    out = tmp_path / "out"
    dlg = open_batch(window, qtbot)
    set_up(dlg, monkeypatch, qtbot, src, out, tiny_user_models["denoise"])
    held = []

    def first_file(run_no, result):  # worker thread: hold the run until the Cancel click lands
        if not held:
            held.append(result)
            dlg.runner.state.pause()

    dlg.relay.file_done.connect(first_file, Qt.ConnectionType.DirectConnection)
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dlg.results) == 1 and bool(held), timeout=30000)  # the first file-done signal
    with qtbot.waitSignal(dlg.runner.cancelled, timeout=30000):
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.running)

    written = sorted(p.name for p in out.rglob("*") if p.is_file())
    assert written == ["p0-clean.png"]
    photo = read_photo(out / "p0-clean.png")
    assert (photo.width, photo.height) == (W, H)
    assert leftovers(out) == []
    report = dlg.report
    assert report.cancelled and report.counts == {"ok": 1, "failed": 0, "skipped": 0, "not_done": 5}
    assert dlg.results_view.current_label.text().startswith("Cancelled: 1 restored, 5 not done")
    assert dlg.start_button.isEnabled() and not dlg.cancel_button.isEnabled()
    path = tmp_path / "cancelled.csv"
    monkeypatch.setattr(prompts, "ask_csv_path", lambda parent, suggested: str(path))
    assert dlg.save_report()
    assert len(list(csv.DictReader(path.open(encoding="utf-8")))) == 1


def test_usage_errors_show_inline(window, qtbot, tmp_path, tiny_user_models, photo_tree):
    dlg = open_batch(window, qtbot)
    dlg.input_edit.clear()
    dlg.output_edit.setText(str(tmp_path / "out"))
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert dlg.error_label.isVisible() and "Choose the input folder" in dlg.error_label.text()
    assert not dlg.running and not (tmp_path / "out").exists()

    dlg.input_edit.setText(str(tmp_path / "nowhere"))
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert "input folder not found" in dlg.error_label.text() and not dlg.running

    dlg.input_edit.setText(str(photo_tree))
    dlg.output_edit.setText(str(photo_tree))
    assert not dlg.start()
    assert "must not be the input folder" in dlg.error_label.text()

    dlg.output_edit.setText(str(tmp_path / "out"))
    dlg.set_task("inpaint")
    assert not dlg.start()
    # worded with the window's label of the option (the Task's), never a CLI flag
    assert dlg.error_label.text() == "Mask: inpaint needs a mask (white = fill)"

    dlg.set_task("denoise")
    dlg.template_edit.setText("{name}")
    assert not dlg.start()
    assert "unknown field {name}" in dlg.error_label.text()
    assert not (tmp_path / "out").exists()

    # a fixed problem clears the message and the run starts
    dlg.template_edit.setText("{stem}")
    assert dlg.choose_model(tiny_user_models["denoise"])
    with qtbot.waitSignal(dlg.runner.done, timeout=60000):
        assert dlg.start()
    assert not dlg.error_label.isVisible() and dlg.report.ok == 3


def test_no_model_installed_is_reported_inline(window, qtbot, tmp_path, photo_tree):
    dlg = open_batch(window, qtbot)
    dlg.input_edit.setText(str(photo_tree))
    dlg.output_edit.setText(str(tmp_path / "out"))
    dlg.refresh_models()
    assert dlg.model_combo.currentData() is None  # "No denoise model installed"
    with qtbot.waitSignal(dlg.runner.done, timeout=30000):
        assert dlg.start()
    assert dlg.error_label.isVisible() and "No shipped denoise model" in dlg.error_label.text()
    assert "--model" not in dlg.error_label.text()
    assert not (tmp_path / "out").exists() and dlg.results_view.table.rowCount() == 0
