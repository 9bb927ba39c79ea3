"""Opening a photo by every route: File > Open, drag and drop, paste, Open Recent, the command line
and Help > Open Sample; plus unreadable files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from app.canvas.image_convert import pixels_to_qimage
from app.services.recent_files import MAX_RECENT
from rednet.io import read_photo
from tests.support.app_fixtures import smooth_pixels

W, H = 64, 48


def test_window_title_and_empty_state(window):
    assert window.windowTitle() == "RED-Net Studio"
    assert window.doc is None
    assert not window.actions["save"].isEnabled() and not window.actions["restore"].isEnabled()
    assert window.size_label.text() == "No photo"


def test_file_open_dialog(window, make_photo, dialogs):
    path = make_photo("open-me.png")
    dialogs.answer("ask_open_path", str(path))
    window.actions["open"].trigger()
    assert window.doc is not None and window.doc.source_path == path.resolve()
    assert np.array_equal(window.doc.current.pixels, read_photo(path).pixels)
    assert window.windowTitle() == "open-me.png[*] — RED-Net Studio"
    assert window.compare.canvas.image_size().width() == W
    assert window.actions["save"].isEnabled() and window.actions["restore"].isEnabled()
    (args,) = dialogs.named("ask_open_path")
    assert args[1] == ""  # no last folder yet


def test_cancelled_open_dialog_changes_nothing(window, dialogs):
    dialogs.answer("ask_open_path", "")
    window.actions["open"].trigger()
    assert window.doc is None


def _drop(window, mime: QMimeData) -> tuple[QDragEnterEvent, QDropEvent]:
    pos = QPoint(window.width() // 2, window.height() // 2)  # QDragEnterEvent takes a QPoint
    enter = QDragEnterEvent(
        pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(
        QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    if enter.isAccepted():
        QApplication.sendEvent(window, drop)
    return enter, drop


def test_drag_and_drop_a_file(window, make_photo, qtbot):
    path = make_photo("dropped.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter, drop = _drop(window, mime)
    assert enter.isAccepted() and drop.isAccepted()
    qtbot.waitUntil(lambda: window.doc is not None)
    assert window.doc.source_path == path.resolve()


def test_a_drop_proposed_as_a_move_is_accepted_as_a_copy(window, make_photo, qtbot):
    """A file manager that honours "moved" would delete the user's original."""
    path = make_photo("moved.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPoint(window.width() // 2, window.height() // 2)  # QDragEnterEvent takes a QPoint
    both = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    buttons, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, both, mime, buttons, none)
    enter.setDropAction(Qt.DropAction.MoveAction)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted() and enter.dropAction() == Qt.DropAction.CopyAction
    drop = QDropEvent(QPointF(pos), both, mime, buttons, none)
    drop.setDropAction(Qt.DropAction.MoveAction)
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted() and drop.dropAction() == Qt.DropAction.CopyAction
    qtbot.waitUntil(lambda: window.doc is not None)
    assert path.exists()


def test_drag_of_a_non_image_is_refused(window, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    enter, _ = _drop(window, mime)
    assert not enter.isAccepted()
    assert window.doc is None


def test_paste_an_image_from_the_clipboard(window, qtbot):
    levels = (smooth_pixels() * 255).round().astype(np.uint8)
    QGuiApplication.clipboard().setImage(pixels_to_qimage(levels / 255.0))
    window.actions["paste"].trigger()
    doc = window.doc
    assert doc is not None and doc.source_path is None
    assert (doc.current.width, doc.current.height, doc.current.bit_depth) == (W, H, 8)
    assert np.array_equal((doc.current.pixels * 255).round().astype(np.uint8), levels)
    assert window.windowTitle().startswith("Pasted photo")


def test_paste_a_copied_file(window, make_photo):
    path = make_photo("copied.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    QGuiApplication.clipboard().setMimeData(mime)
    assert window.paste()
    assert window.doc.source_path == path.resolve()


def test_paste_with_nothing_useful(window):
    QGuiApplication.clipboard().setText("just words")
    assert not window.paste()
    assert window.doc is None


def test_open_recent_keeps_the_last_ten_and_persists(window, make_photo, tmp_path, qtbot):
    paths = [make_photo(f"r{i}.png", seed=i) for i in range(MAX_RECENT + 2)]
    for p in paths:
        assert window.open_path(p)
    recent = window.recent.paths
    assert len(recent) == MAX_RECENT
    assert recent[0] == str(paths[-1].resolve()) and str(paths[0].resolve()) not in recent
    window.recent.fill_menu(window.recent_menu)
    entries = [a for a in window.recent_menu.actions() if a.data()]
    assert [a.data() for a in entries] == recent
    assert entries[0].text().endswith("r11.png")
    entries[3].trigger()
    assert window.doc.source_path == paths[-4].resolve()
    assert window.recent.paths[0] == str(paths[-4].resolve())

    from app.main_window import MainWindow

    other = MainWindow()  # a new session reads the list back from the INI file
    try:
        assert other.recent.paths == window.recent.paths
    finally:
        other.close()
        other.deleteLater()


def test_recent_entry_for_a_deleted_file_is_dropped(window, make_photo, dialogs):
    path = make_photo("gone.png")
    window.open_path(path)
    path.unlink()
    window.recent.open_requested.emit(str(path.resolve()))
    (args,) = dialogs.named("show_error")
    assert "gone.png" in args[2] and "not found" in args[2]
    assert str(path.resolve()) not in window.recent.paths


def test_unreadable_file_shows_the_reason(window, tmp_path, dialogs):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a PNG at all")
    assert not window.open_path(bad)
    (args,) = dialogs.named("show_error")
    assert args[1] == "Cannot open photo" and "broken.png" in args[2]
    assert window.doc is None


def test_help_open_sample_lists_the_samples_folder(window, make_photo, app_env, qtbot):
    from rednet.paths import samples_dir

    folder = samples_dir()
    for name in ("noisy.png", "small.png", "text.png"):
        make_photo(name, folder=folder)
    make_photo("compressed.jpg", folder=folder, quality=20)
    (folder / "README.txt").write_text("not a photo")
    window.samples_menu.aboutToShow.emit()
    names = [a.text() for a in window.samples_menu.actions()]
    assert names == ["compressed.jpg", "noisy.png", "small.png", "text.png"]
    window.samples_menu.actions()[0].trigger()
    assert window.doc.source_path == (folder / "compressed.jpg").resolve()
    assert window.doc.current.jpeg_quality is not None


def test_command_line_opens_the_photo(app_env, make_photo, tmp_path):
    """`rednet-studio PHOTO` in a fresh process (its own QApplication), rendered to a PNG."""
    import os
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    from app.services import settings as S

    photo = make_photo("cli.png")
    shot = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "app", str(photo), "--screenshot", str(shot), "--screenshot-delay", "300"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    img = QImage(str(shot))
    assert img.width() >= 600 and img.height() >= 400
    assert S.Settings().get(S.RECENT) == [str(photo.resolve())]  # it was opened


def test_version_flag(capsys):
    from app.main import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == "rednet-studio 0.1.0"


def test_opening_resets_the_view(window, make_photo):
    window.open_path(make_photo("a.png"))
    window.compare.canvas.zoom_to(8.0)
    window.set_compare_mode("side-by-side")
    window.open_path(make_photo("b.png", w=80, h=60))
    assert window.compare.state.fit
    assert window.compare.mode.value == "single"
    assert window.doc.mask.width == 80
    p = window.compare.canvas.image_to_widget(QPointF(0, 0))
    assert isinstance(p.toPoint(), QPoint)
