"""Reliability of the desktop app (issue 9, the app's part): bad and odd files through every way of
opening them, autosave and crash recovery, and faults (disk full, read-only folders, cancel,
corrupt settings, a crashing worker).

Every input comes from tests/bad_inputs.py, generated into tmp folders; every model is a tiny
one; every modal dialog is patched (app.dialogs.prompts through the `dialogs` recorder, the recovery
question through app.services.autosave.ask_recover, and QMessageBox.exec where the real box is checked).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer, QEventLoop, QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

import app.services.autosave as autosave
import app.dialogs.prompts as app_dialogs
from app.services import settings as S
from tests.support.app_fixtures import app_env, dialogs, make_photo, smooth_pixels, window  # noqa: F401 (fixtures)
from rednet.io import imageio
from rednet.engine import restore as core_restore
from rednet.io.imageio import read_mask, read_photo
from tests.support import bad_inputs as B

REAL_SHOW_ERROR = app_dialogs.show_error  # before any fixture replaces it
ROOT = Path(__file__).resolve().parents[2]


BROKEN, ODD = B.case_names()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, B.ImageCase]:
    return {c.name: c for c in B.write_image_corpus(tmp_path_factory.mktemp("corpus"))}


# ================================================================================================ helpers
def use_model(window, monkeypatch, tiny_models) -> None:
    """Restore with the tiny model of whichever task is chosen (they are not in the picker)."""
    monkeypatch.setattr(window.panel, "model", lambda: str(tiny_models[window.panel.task()]))


def run_restore(qtbot, window, task: str = "denoise") -> None:
    window.panel.set_task(task)
    with qtbot.waitSignal(window.runner.done, timeout=30000):
        assert window.start_restore()


def paint(qtbot, window, points, size: int = 6) -> None:
    """A brush stroke through image points, with the mouse on the canvas."""
    window.panel.set_task("inpaint")
    assert window.actions["brush"].isChecked()
    window.mask_panel.set_brush_size(size)
    c = window.compare.canvas
    pts = [c.image_to_widget(QPointF(x, y)).toPoint() for x, y in points]
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(c, p)
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=pts[-1])
    assert not window.doc.mask.is_empty()


def wait_autosave(qtbot, window, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: not window.autosave.busy, timeout=timeout)


def autosave_now(qtbot, window) -> None:
    """What the 30 s timer does."""
    window.autosave.timer.timeout.emit()
    wait_autosave(qtbot, window)


def drop_file(window, path: Path) -> bool:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    return drop.isAccepted()


def snapshot(window) -> dict:
    doc = window.doc
    return {"doc": doc, "current": doc.current, "original": doc.original, "mask": doc.mask.to_array().copy(),
            "count": doc.undo_stack.count(), "index": doc.undo_stack.index(), "steps": list(doc.steps),
            "unsaved": doc.has_unsaved_result, "title": window.windowTitle()}


def assert_untouched(window, before: dict, what: str = "") -> None:
    doc = window.doc
    assert doc is before["doc"] and doc.current is before["current"] and doc.original is before["original"], what
    assert np.array_equal(doc.mask.to_array(), before["mask"]), what
    assert (doc.undo_stack.count(), doc.undo_stack.index()) == (before["count"], before["index"]), what
    assert doc.steps == before["steps"] and doc.has_unsaved_result == before["unsaved"], what
    assert window.windowTitle() == before["title"], what


def check_photo(photo, case: B.ImageCase, what: str = "") -> None:
    """Size, gray/colour, alpha, bit depth and orientation as the case expects."""
    assert (photo.width, photo.height) == (case.width, case.height), what
    assert photo.is_gray == case.gray, f"{what}: gray must stay gray and colour colour"
    assert photo.bit_depth == case.bit_depth, what
    if case.alpha is None:
        assert photo.alpha is None, what
    else:
        assert photo.alpha is not None, f"{what}: alpha lost"
        assert np.array_equal(np.round(photo.alpha * 255).astype(np.uint8), case.alpha), what
    if case.marker:
        assert B.marker_is_upright(photo.pixels), f"{what}: the picture is not upright"
    assert np.isfinite(photo.pixels).all()


def error_calls(dialogs) -> list[tuple]:
    return dialogs.named("show_error")


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).rglob("*") if p.name.startswith(".") or p.suffix == ".tmp")


def session_folders() -> list[Path]:
    root = autosave.autosave_root()
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def session_meta(folder: Path) -> dict:
    return json.loads((folder / autosave.SESSION_FILE).read_text(encoding="utf-8"))


def simulate_kill(window) -> Path:
    """What a kill leaves: the session folder as last written, and its lock released by the OS
    (the window gets no close prompt and runs no clean-up)."""
    window.autosave.runner.wait()
    folder = window.autosave.folder
    assert folder is not None and (folder / autosave.SESSION_FILE).is_file()
    window.autosave.timer.stop()
    window.autosave._session.lock.unlock()  # the kernel drops a dead process's lock
    window.hide()
    return folder


class Answers:
    """Stands in for app.services.autosave.ask_recover: records the questions, answers from a list."""

    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.asked: list[tuple[str, str, str]] = []

    def __call__(self, parent, when, name, details=""):
        self.asked.append((when, name, details))
        return self.answers.pop(0) if self.answers else "later"


def start_window(qtbot, monkeypatch, *answers: str):
    """A new MainWindow (a new start of the app) whose recovery question gets `answers`."""
    from app.main_window import MainWindow

    ask = Answers(*answers)
    monkeypatch.setattr(autosave, "ask_recover", ask)
    w = MainWindow()
    w.show()
    qtbot.waitExposed(w)
    qtbot.wait(20)  # the offer runs right after the window is shown
    return w, ask


def close_quietly(w) -> None:
    w.runner.shutdown()
    if w.doc is not None:
        w.doc.saved_photo = w.doc.current
    w.close()
    w.deleteLater()


@pytest.fixture
def busy_window(window, make_photo, tiny_models, qtbot, monkeypatch):
    """A window with a photo, an unsaved denoised result and a painted mask."""
    assert window.open_path(make_photo("current.png"))
    use_model(window, monkeypatch, tiny_models)
    run_restore(qtbot, window)
    paint(qtbot, window, [(8, 8), (30, 20)])
    wait_autosave(qtbot, window)
    assert window.doc.has_unsaved_result and not window.doc.mask.is_empty()
    return window


# ================================================================================================ 1. opening
def test_broken_files_via_file_open_show_one_message_and_change_nothing(busy_window, corpus, dialogs):
    w = busy_window
    before = snapshot(w)
    for name in BROKEN:
        case = corpus[name]
        n = len(error_calls(dialogs))
        dialogs.answer("ask_open_path", str(case.path))
        w.actions["open"].trigger()
        new = error_calls(dialogs)[n:]
        assert len(new) == 1, f"{name}: {new}"
        _, title, message = new[0][:3]
        assert title == "Cannot open photo"
        assert message.startswith(f"{case.path.name}: ") and case.error in message, name
        assert "\n" not in message
        assert_untouched(w, before, name)
    assert dialogs.named("ask_save_discard_cancel") == []  # never asked to give up the result first


def test_broken_files_via_drag_and_drop_show_one_message_and_change_nothing(busy_window, corpus, dialogs, qtbot):
    w = busy_window
    before = snapshot(w)
    for name in BROKEN:
        case = corpus[name]
        n = len(error_calls(dialogs))
        assert drop_file(w, case.path), f"{name}: the drop was refused"
        qtbot.waitUntil(lambda: len(error_calls(dialogs)) > n, timeout=5000)
        qtbot.wait(5)
        new = error_calls(dialogs)[n:]
        assert len(new) == 1, name
        assert case.path.name in new[0][2] and case.error in new[0][2], name
        assert_untouched(w, before, name)
    assert dialogs.named("ask_save_discard_cancel") == []


def test_the_real_error_box_names_the_file_and_the_reason(busy_window, corpus, dialogs, monkeypatch):
    """Through the real QMessageBox (its exec patched): the text a user would read."""
    shown = []

    def fake_exec(box):
        shown.append((box.windowTitle(), box.text(), box.icon()))
        return int(QMessageBox.StandardButton.Ok)

    monkeypatch.setattr(app_dialogs, "show_error", REAL_SHOW_ERROR)
    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    case = corpus["truncated-jpg"]
    assert not busy_window.open_path(case.path)
    ((title, text, icon),) = shown
    assert title == "Cannot open photo" and icon == QMessageBox.Icon.Critical
    assert text == f"{case.path.name}: image data is truncated or corrupt"


@pytest.fixture
def run_main(qapp, monkeypatch, dialogs, tmp_path):
    """`rednet-studio PHOTO` in this process (app.main.main with its event loop), returning the
    exit status and the window it made; the theme and names it sets on the QApplication are undone."""
    import app.main_window as mw
    import app.theme
    from app import main as app_main

    names = (qapp.applicationName(), qapp.applicationDisplayName(), qapp.organizationName(),
             qapp.applicationVersion(), qapp.windowIcon())
    monkeypatch.setattr(app.theme, "apply_theme", lambda app: None)
    made = []

    class Recording(mw.MainWindow):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(mw, "MainWindow", Recording)
    # main() ends with app.quit(); a real quit would leave this process's QApplication unable to run
    # nested event loops (qtbot.wait) afterwards, so its exec/quit run a local event loop instead.
    loops: list[QEventLoop] = []

    def local_exec(*_args):
        loops.append(QEventLoop())
        return loops[-1].exec()

    monkeypatch.setattr(QApplication, "exec", local_exec)
    monkeypatch.setattr(QApplication, "quit", lambda *_args: loops[-1].quit())

    def run(path: Path):
        code = app_main.main([str(path), "--screenshot", str(tmp_path / "shot.png"), "--screenshot-delay", "20"])
        return code, made[-1]

    yield run
    for w in made:
        w.deleteLater()
    qapp.setApplicationName(names[0])
    qapp.setApplicationDisplayName(names[1])
    qapp.setOrganizationName(names[2])
    qapp.setApplicationVersion(names[3])
    qapp.setWindowIcon(names[4])


def test_the_command_line_path_broken_and_odd(run_main, corpus, dialogs, app_env):
    for name in BROKEN:
        case = corpus[name]
        n = len(error_calls(dialogs))
        code, w = run_main(case.path)
        new = error_calls(dialogs)[n:]
        assert code == 0 and w.doc is None, name
        assert len(new) == 1 and new[0][1] == "Cannot open photo", name
        assert case.path.name in new[0][2] and case.error in new[0][2], name
    for name in ("exif-orientation-6-jpg", "la-png", "16bit-gray-tif", "palette-transparency", "unicode-path"):
        case = corpus[name]
        n = len(error_calls(dialogs))
        code, w = run_main(case.path)
        assert code == 0 and error_calls(dialogs)[n:] == [], name
        assert w.doc is not None and w.doc.source_path == case.path.resolve(), name
        check_photo(w.doc.current, case, name)


@pytest.mark.parametrize("name", ODD)
def test_odd_files_open_correctly_and_restore(window, corpus, tiny_models, qtbot, dialogs, monkeypatch, tmp_path,
                                              name):
    case = corpus[name]
    w = window
    messages: list[str] = []
    w.statusBar().messageChanged.connect(messages.append)
    assert drop_file(w, case.path)
    qtbot.waitUntil(lambda: w.doc is not None, timeout=5000)
    check_photo(w.doc.current, case, "dropped")
    dialogs.answer("ask_open_path", str(case.path))
    w.actions["open"].trigger()  # File > Open replaces it (nothing unsaved: no question)
    check_photo(w.doc.current, case, "opened")
    if case.warning:
        assert any(case.warning in m for m in w.doc.current.warnings)
        assert any(case.warning in m for m in messages), messages
    kind = "gray" if case.gray else "RGB"
    assert f"{case.bit_depth}-bit {kind}{'A' if case.alpha is not None else ''}" in w.size_label.text()

    use_model(w, monkeypatch, tiny_models)
    run_restore(qtbot, w)
    assert w.doc.has_result
    check_photo(w.doc.current, case, "restored")
    out = tmp_path / f"restored{case.out_ext}"
    dialogs.answer("ask_save_path", str(out))
    assert w.save_as()
    check_photo(read_photo(out), case, "saved")
    assert error_calls(dialogs) == [] and dialogs.named("ask_save_discard_cancel") == []


def test_bad_masks_are_refused_and_the_mask_is_kept(window, corpus, qtbot, dialogs, tmp_path):
    case = corpus["unicode-path"]  # 32x24
    w = window
    assert w.open_path(case.path)
    paint(qtbot, w, [(4, 4), (20, 12)], size=4)
    before = snapshot(w)
    bad = B.write_bad_masks(tmp_path / "masks")
    expected = {"wrong-size": "mask is 10x10 but the photo is 32x24", "not-an-image": "not an image file",
                "empty": "file is empty (0 bytes)"}
    for key, path in bad.items():
        n = len(error_calls(dialogs))
        dialogs.answer("ask_open_path", str(path))
        w.actions["mask_import"].trigger()
        new = error_calls(dialogs)[n:]
        assert len(new) == 1, key
        assert new[0][1] == "Cannot import mask"
        assert path.name in new[0][2] and expected[key] in new[0][2], (key, new[0][2])
        assert_untouched(w, before, key)
    good = tmp_path / "masks" / "good.png"
    B.write_mask_for(case, good)
    dialogs.answer("ask_open_path", str(good))
    w.actions["mask_import"].trigger()  # the import still works afterwards
    assert np.array_equal(w.doc.mask.to_array(), read_mask(good))


# ================================================================================================ 2. autosave
def test_autosave_writes_after_a_restore_and_on_the_timer(window, make_photo, tiny_models, qtbot, monkeypatch):
    assert 30_000 <= autosave.INTERVAL_MS <= 60_000
    assert window.autosave.timer.isActive() and window.autosave.timer.interval() == autosave.INTERVAL_MS
    src = make_photo("deep.png", bit_depth=16)
    w = window
    assert w.open_path(src)
    autosave_now(qtbot, w)
    assert session_folders() == []  # nothing changed yet: nothing written

    use_model(w, monkeypatch, tiny_models)
    t0 = time.time()
    run_restore(qtbot, w)
    wait_autosave(qtbot, w)  # right after the restore, without waiting for the timer
    (folder,) = session_folders()
    meta = session_meta(folder)
    st = src.stat()
    assert meta["source"] == str(src.resolve())
    assert (meta["source_size"], meta["source_mtime_ns"]) == (st.st_size, st.st_mtime_ns)
    assert meta["steps"] == w.doc.steps and meta["steps"][0].startswith("Denoise")
    assert t0 - 1 <= meta["timestamp"] <= time.time() + 1 and meta["unsaved"] is True
    assert meta["mask"] is None
    saved = read_photo(folder / meta["result"])
    assert saved.bit_depth == 16 and saved.format == "PNG"
    assert np.abs(saved.pixels - w.doc.current.pixels).max() <= 1 / 65535 + 1e-6
    result_bytes = (folder / meta["result"]).read_bytes()

    w.autosave.set_interval(50)  # the timer (injectable interval) writes the painted mask by itself
    with qtbot.waitSignal(w.autosave.saved, timeout=10000):
        paint(qtbot, w, [(10, 10), (40, 30)])
    wait_autosave(qtbot, w)
    meta2 = session_meta(folder)
    assert np.array_equal(read_mask(folder / meta2["mask"]), w.doc.mask.to_array())
    assert meta2["result"] == meta["result"]  # the unchanged result is not written again
    assert (folder / meta["result"]).read_bytes() == result_bytes
    assert sorted(p.name for p in folder.iterdir()) == sorted(["lock", "session.json", meta2["mask"], meta["result"]])


def test_nothing_to_recover_leaves_no_autosave(window, make_photo, qtbot):
    w = window
    assert w.open_path(make_photo("plain.png"))
    paint(qtbot, w, [(5, 5), (9, 9)])
    autosave_now(qtbot, w)
    (folder,) = session_folders()
    assert session_meta(folder)["mask"]
    w.actions["undo"].trigger()  # back to the untouched photo: nothing worth recovering
    autosave_now(qtbot, w)
    assert not (folder / autosave.SESSION_FILE).exists()
    assert autosave.find_orphans(autosave.autosave_root()) == []


def test_kill_then_restart_recovers_the_exact_mask_and_result(window, make_photo, tiny_models, qtbot,
                                                               monkeypatch, dialogs):
    a = window
    src = make_photo("holiday.png")
    assert a.open_path(src)
    use_model(a, monkeypatch, tiny_models)
    run_restore(qtbot, a)
    paint(qtbot, a, [(6, 30), (50, 36), (58, 10)], size=5)
    autosave_now(qtbot, a)
    mask, result, steps = a.doc.mask.to_array().copy(), a.doc.current, list(a.doc.steps)
    folder = simulate_kill(a)

    b, ask = start_window(qtbot, monkeypatch, "recover")
    try:
        ((when, name, details),) = ask.asked
        assert name == "holiday.png" and when == autosave.describe_time(session_meta(folder)["timestamp"])
        assert "restored photo" in details and "mask" in details
        doc = b.doc
        assert doc is not None and doc.source_path == src.resolve()
        assert np.array_equal(doc.original.pixels, read_photo(src).pixels)  # the source, reopened
        assert np.abs(doc.current.pixels - result.pixels).max() <= 0.5 / 255 + 1e-6
        assert doc.steps == steps
        assert np.array_equal(doc.mask.to_array(), mask)  # exactly the painted mask
        assert doc.has_unsaved_result and b.isWindowModified()
        assert b.autosave.folder == folder  # adopted: a second crash loses nothing either
        b.actions["undo"].trigger()
        assert b.doc.current is b.doc.original
        b.actions["redo"].trigger()
        dialogs.answer("ask_save_discard_cancel", "discard")
        assert b.close()  # a clean close clears it
        assert session_folders() == []
    finally:
        close_quietly(b)


CHILD = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from app.main_window import MainWindow
    from app.document.mask_commands import replace_command
    w = MainWindow()
    w.show()
    assert w.open_path(sys.argv[1])
    mask = np.zeros((w.doc.mask.height, w.doc.mask.width), bool)
    mask[5:20, 10:40] = True
    mask[30, :] = True
    w.doc.undo_stack.push(replace_command(w.doc.mask, mask, "Brush stroke"))
    w.autosave.timer.timeout.emit()
    w.autosave.runner.wait()
    app.processEvents()
    print(w.autosave.folder, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_real_kill_of_the_process_loses_no_mask(app_env, make_photo, qtbot, monkeypatch, dialogs):
    src = make_photo("killed.png")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(src)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    folder = Path(proc.stdout.strip().splitlines()[-1])
    assert (folder / "lock").exists()  # a stale lock: its process is gone
    expected = np.zeros((48, 64), bool)
    expected[5:20, 10:40] = True
    expected[30, :] = True

    b, ask = start_window(qtbot, monkeypatch, "recover")
    try:
        assert len(ask.asked) == 1 and ask.asked[0][1] == "killed.png"
        assert b.doc.source_path == src.resolve() and not b.doc.has_result
        assert np.array_equal(b.doc.mask.to_array(), expected)
        assert b.autosave.folder == folder
    finally:
        close_quietly(b)


@pytest.mark.parametrize("what", ["deleted", "modified"])
def test_recovery_opens_the_result_alone_when_the_source_is_gone_or_changed(window, make_photo, tiny_models, qtbot,
                                                                           monkeypatch, dialogs, tmp_path, what):
    a = window
    src = make_photo("source.png")
    assert a.open_path(src)
    use_model(a, monkeypatch, tiny_models)
    run_restore(qtbot, a)
    paint(qtbot, a, [(4, 4), (20, 20)])
    autosave_now(qtbot, a)
    mask, result = a.doc.mask.to_array().copy(), a.doc.current
    simulate_kill(a)
    if what == "deleted":
        src.unlink()
    else:
        time.sleep(0.01)
        make_photo("source.png", seed=7)  # same name and size, other pixels

    b, ask = start_window(qtbot, monkeypatch, "recover")
    try:
        doc = b.doc
        assert doc.source_path is None and doc.display_name == "source-recovered.png"
        assert np.abs(doc.current.pixels - result.pixels).max() <= 0.5 / 255 + 1e-6
        assert np.array_equal(doc.mask.to_array(), mask)
        assert doc.has_unsaved_result and b.isWindowModified()
        assert "source.png" in b.statusBar().currentMessage()
        assert b.suggested_save_path() == tmp_path / "source-recovered.png"
        out = tmp_path / "kept.png"
        dialogs.answer("ask_save_path", str(out))
        assert b.save_as()
        assert np.array_equal(read_photo(out).pixels, doc.current.pixels)
        wait_autosave(qtbot, b)
        assert session_folders() == []  # a clean save clears the autosave
    finally:
        close_quietly(b)


def test_a_pasted_photo_is_recovered_from_its_pixels(window, qtbot, monkeypatch):
    from app.canvas.image_convert import pixels_to_qimage

    a = window
    levels = (smooth_pixels() * 255).round().astype(np.uint8)
    QGuiApplication.clipboard().setImage(pixels_to_qimage(levels / 255.0))
    assert a.paste()
    paint(qtbot, a, [(30, 30), (40, 40)])
    autosave_now(qtbot, a)
    mask = a.doc.mask.to_array().copy()
    simulate_kill(a)
    b, _ = start_window(qtbot, monkeypatch, "recover")
    try:
        assert np.array_equal((b.doc.current.pixels * 255).round().astype(np.uint8), levels)
        assert np.array_equal(b.doc.mask.to_array(), mask)
    finally:
        close_quietly(b)


def test_discard_removes_the_autosave_and_later_keeps_it(busy_window, qtbot, monkeypatch):
    autosave_now(qtbot, busy_window)
    folder = simulate_kill(busy_window)
    b, ask = start_window(qtbot, monkeypatch, "later")  # closed the question without choosing
    close_quietly(b)
    assert len(ask.asked) == 1 and b.doc is None and (folder / autosave.SESSION_FILE).is_file()
    c, ask = start_window(qtbot, monkeypatch, "discard")
    close_quietly(c)
    assert len(ask.asked) == 1 and c.doc is None and not folder.exists()
    d, ask = start_window(qtbot, monkeypatch)
    close_quietly(d)
    assert ask.asked == []


def test_the_recovery_question_as_the_user_sees_it(qtbot, monkeypatch):
    seen = []

    def fake_exec(box):
        seen.append((box.windowTitle(), box.text(), box.informativeText(), [b.text() for b in box.buttons()]))
        next(b for b in box.buttons() if b.text() == "Discard").click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    ts = time.mktime((2024, 5, 6, 14, 32, 0, 0, 0, -1))
    when = autosave.describe_time(ts)
    assert when == "2024-05-06 14:32" and autosave.describe_time(time.time()) == time.strftime("%H:%M")
    assert autosave.ask_recover(None, when, "beach.jpg", "RED-Net Studio did not close normally.") == "discard"
    ((title, text, info, buttons),) = seen
    assert text == "Recover unsaved work from 2024-05-06 14:32 for beach.jpg?"
    assert title == "Recover unsaved work" and "did not close normally" in info
    assert sorted(buttons) == ["Discard", "Recover"]


def test_clean_save_and_clean_close_clear_the_autosave(busy_window, qtbot, dialogs, tmp_path):
    w = busy_window
    autosave_now(qtbot, w)
    assert len(session_folders()) == 1
    dialogs.answer("ask_save_path", str(tmp_path / "saved.png"))
    assert w.save_as()
    wait_autosave(qtbot, w)
    assert session_folders() == []
    paint(qtbot, w, [(50, 5), (60, 10)])  # new work after the save is autosaved again
    autosave_now(qtbot, w)
    assert len(session_folders()) == 1
    run_restore(qtbot, w)  # a new, unsaved result, so closing asks
    wait_autosave(qtbot, w)
    dialogs.answer("ask_save_discard_cancel", "cancel")
    assert not w.close()
    assert len(session_folders()) == 1  # close cancelled: the autosave stays
    dialogs.answer("ask_save_discard_cancel", "discard")
    assert w.close()
    assert session_folders() == []


def test_a_running_instance_keeps_its_autosave_to_itself(busy_window, qtbot, monkeypatch):
    autosave_now(qtbot, busy_window)
    folder = busy_window.autosave.folder
    b, ask = start_window(qtbot, monkeypatch, "discard")  # a second window while the first still runs
    try:
        assert ask.asked == [] and b.doc is None
        assert (folder / autosave.SESSION_FILE).is_file()
    finally:
        close_quietly(b)
    assert (folder / autosave.SESSION_FILE).is_file()  # its clean close did not touch the other's


class FailingFile:
    """A file whose write() fails like a full disk (after writing half of the data)."""

    def __init__(self, fh, code: int):
        self.fh, self.code = fh, code

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()

    def write(self, data):
        self.fh.write(data[: len(data) // 2])
        raise OSError(self.code, os.strerror(self.code))

    def flush(self):
        self.fh.flush()

    def fileno(self):
        return self.fh.fileno()


def break_writes(monkeypatch, code: int = errno.ENOSPC, at: str = "write") -> None:
    """rednet.io.imageio's atomic writer fails: at 'open' (read-only folder) or 'write' (disk full)."""
    import builtins

    def fake_open(path, mode="r", *args, **kwargs):
        if at == "open":
            raise OSError(code, os.strerror(code), str(path))
        return FailingFile(builtins.open(path, mode, *args, **kwargs), code)

    monkeypatch.setattr(imageio, "open", fake_open, raising=False)


def test_autosave_failures_show_once_in_the_status_bar_and_never_a_dialog(busy_window, qtbot, dialogs, monkeypatch):
    w = busy_window
    messages: list[str] = []
    w.statusBar().messageChanged.connect(messages.append)
    with monkeypatch.context() as m:
        break_writes(m, errno.ENOSPC)
        for i in range(3):
            paint(qtbot, w, [(2 + i, 40), (20 + i, 44)])
            with qtbot.waitSignal(w.autosave.failed, timeout=10000) as blocker:
                w.autosave.timer.timeout.emit()
            assert blocker.args == ["No space left on device"]
            wait_autosave(qtbot, w)
        assert temp_files(w.autosave.folder) == []
    failures = [t for t in messages if t.startswith("Autosave failed")]
    assert failures == ["Autosave failed: No space left on device. Save your work to keep it."]
    assert error_calls(dialogs) == []
    assert w.autosave.dirty  # tried again at the next tick ...
    autosave_now(qtbot, w)  # ... which works once there is space again
    meta = session_meta(w.autosave.folder)
    assert np.array_equal(read_mask(w.autosave.folder / meta["mask"]), w.doc.mask.to_array())


def test_an_unusable_autosave_folder_is_reported_once(window, make_photo, qtbot, dialogs):
    w = window
    assert w.open_path(make_photo("unusable.png"))
    root = autosave.autosave_root()
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_bytes(b"a file where the autosave folder should be")
    messages: list[str] = []
    w.statusBar().messageChanged.connect(messages.append)
    for i in range(3):
        paint(qtbot, w, [(2 + i, 40), (20 + i, 44)])
        assert not w.autosave.save_now()
    assert [t for t in messages if t.startswith("Autosave failed")] == [
        "Autosave failed: File exists. Save your work to keep it."]
    assert error_calls(dialogs) == [] and w.autosave.dirty


def test_autosave_writes_on_a_worker_thread_one_file_at_a_time(window, make_photo, tiny_models, qtbot, monkeypatch):
    """A slow disk (the first file is held until released, then 0.2 s per file) never stalls the
    event loop, and writes never overlap: requests made meanwhile are coalesced into one more write."""
    w = window
    assert w.open_path(make_photo("slow.png"))
    use_model(w, monkeypatch, tiny_models)
    paint(qtbot, w, [(5, 5), (30, 30)])
    real = imageio.write_photo
    lock, release = threading.Lock(), threading.Event()
    active, peak, calls = [0], [0], []

    def slow_write(photo, path, **kwargs):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            calls.append((Path(path).name, threading.current_thread() is threading.main_thread()))
        try:
            release.wait(20)
            time.sleep(0.2)
            return real(photo, path, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(imageio, "write_photo", slow_write)
    run_restore(qtbot, w)  # the autosave starts right after the restore (mask + result) and hangs
    assert w.autosave.busy
    for i in range(5):  # more changes and ticks while it writes
        paint(qtbot, w, [(40, 5 + i), (50, 5 + i)])
        t = time.perf_counter()
        w.autosave.timer.timeout.emit()
        assert time.perf_counter() - t < 0.05  # a tick costs the GUI thread next to nothing
    assert w.autosave.busy and len(calls) == 1

    gaps, clock = [], QElapsedTimer()
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: gaps.append(clock.restart()))
    clock.start()
    heartbeat.start(5)  # while the GUI thread only waits, the event loop must keep turning
    QTimer.singleShot(300, release.set)
    wait_autosave(qtbot, w)
    heartbeat.stop()
    assert peak[0] == 1
    assert not any(on_main for _, on_main in calls)
    assert [n.split("-")[0] for n, _ in calls] == ["mask", "result", "mask"]  # the result is not rewritten
    assert len(gaps) >= 20 and max(gaps) < 250, f"the event loop stalled for {max(gaps)} ms"
    meta = session_meta(w.autosave.folder)
    assert np.array_equal(read_mask(w.autosave.folder / meta["mask"]), w.doc.mask.to_array())


# ================================================================================================ 3. faults
@pytest.fixture
def saved_once(busy_window, qtbot, dialogs, tmp_path):
    """A result saved to out.png, then a newer unsaved result on top."""
    w = busy_window
    out = tmp_path / "out.png"
    dialogs.answer("ask_save_path", str(out))
    assert w.save_as()
    run_restore(qtbot, w)
    wait_autosave(qtbot, w)
    assert w.doc.has_unsaved_result and w.autosave.folder is not None
    return w, out


@pytest.mark.parametrize("fault,code,reason,advice", [
    ("disk-full", errno.ENOSPC, "No space left on device", "The disk is full"),
    ("writer-raises", errno.ENOSPC, "No space left on device", "The disk is full"),
    ("read-only-fs", errno.EROFS, "Read-only file system", "cannot be written to"),
    ("no-permission", errno.EACCES, "Permission denied", "cannot be written to"),
])
def test_a_failed_save_keeps_the_old_file_and_the_unsaved_result(saved_once, dialogs, monkeypatch, qtbot, fault, code,
                                                                reason, advice):
    w, out = saved_once
    old = out.read_bytes()
    current = w.doc.current
    with monkeypatch.context() as m:
        if fault == "writer-raises":
            def boom(*args, **kwargs):
                raise OSError(code, os.strerror(code))

            m.setattr(imageio, "write_photo", boom)
        else:
            break_writes(m, code, at="write" if fault == "disk-full" else "open")
        assert not w.save()  # to out.png again, no dialog for the path
    ((_, title, message),) = [c[:3] for c in error_calls(dialogs)]
    assert title == "Cannot save photo"
    assert message.startswith("out.png: cannot write: ") and reason in message and advice in message
    assert out.read_bytes() == old and temp_files(out.parent) == []
    assert w.doc.current is current and w.doc.has_unsaved_result and w.isWindowModified()
    assert (w.autosave.folder / autosave.SESSION_FILE).is_file()  # the autosave is kept
    assert w.save()  # works again afterwards
    assert out.read_bytes() != old and not w.doc.has_unsaved_result


READ_ONLY_CHILD = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    import app.dialogs.prompts as d
    from app.main_window import MainWindow
    errors = []
    d.show_error = lambda parent, title, message, details="": errors.append([title, message])
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    w = MainWindow()
    assert w.open_path(src)
    result = w.doc.current.replace(pixels=1.0 - w.doc.current.pixels)
    w.doc.apply_result(result, "Invert")
    ok = w.write_to(out)
    print(json.dumps({"ok": ok, "errors": errors, "current_is_result": w.doc.current is result,
                      "unsaved": w.doc.has_unsaved_result, "modified": w.isWindowModified(),
                      "left": sorted(os.listdir(out.parent))}))
    w.doc.saved_photo = w.doc.current
    w.close()
""")


def test_a_real_read_only_folder_keeps_the_old_file(make_photo, tmp_path, app_env):
    """File permissions enforced for real (root loses its override in the child: tests/unprivileged.py)."""
    from tests.support.unprivileged import run_python

    src = make_photo("ro-source.png")
    folder = tmp_path / "read-only"
    folder.mkdir()
    out = folder / "out.png"
    out.write_bytes(b"the previous version")
    (tmp_path / "child.py").write_text(READ_ONLY_CHILD)
    folder.chmod(0o555)
    try:
        proc = run_python(f"import runpy, sys; sys.argv = ['child', {str(src)!r}, {str(out)!r}]; "
                          f"runpy.run_path({str(tmp_path / 'child.py')!r}, run_name='__main__')", cwd=ROOT)
    finally:
        folder.chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["ok"] is False and len(report["errors"]) == 1
    title, message = report["errors"][0]
    assert title == "Cannot save photo" and message.startswith("out.png: cannot write: ")
    assert "Permission denied" in message and "cannot be written to" in message
    assert report["current_is_result"] and report["unsaved"] and report["modified"]
    assert report["left"] == ["out.png"] and out.read_bytes() == b"the previous version"


class _Gate:
    def __init__(self):
        self.reached, self.release = threading.Event(), threading.Event()


@pytest.mark.parametrize("moment", ["before-it-starts", "mid-run", "after-the-last-tile"])
def test_cancel_at_any_moment_leaves_the_photo_and_writes_nothing(window, make_photo, tiny_models, qtbot, monkeypatch,
                                                                  dialogs, tmp_path, moment):
    w = window
    folder = tmp_path / "photos"
    folder.mkdir()
    assert w.open_path(make_photo("cancel.png", folder=folder))
    use_model(w, monkeypatch, tiny_models)
    paint(qtbot, w, [(3, 3), (9, 9)])
    autosave_now(qtbot, w)
    before, files_before = snapshot(w), sorted(folder.iterdir())
    meta_before = session_meta(w.autosave.folder)
    real, gate = core_restore.restore, _Gate()

    def gated(photo, task, *, state, **kwargs):
        if moment == "mid-run":
            state.report(0.5, "tile 3 of 6")
            gate.reached.set()
            gate.release.wait(10)
        result = real(photo, task, state=state, **kwargs)
        if moment == "after-the-last-tile":
            gate.reached.set()
            gate.release.wait(10)
        return result

    monkeypatch.setattr(core_restore, "restore", gated)
    w.panel.set_task("denoise")
    with qtbot.waitSignal(w.runner.cancelled, timeout=20000):
        assert w.start_restore()
        if moment != "before-it-starts":
            qtbot.waitUntil(gate.reached.is_set, timeout=20000)
        w.actions["cancel"].trigger()
        gate.release.set()
    wait_autosave(qtbot, w)
    assert_untouched(w, before, moment)
    assert sorted(folder.iterdir()) == files_before and temp_files(folder) == []
    assert session_meta(w.autosave.folder) == meta_before  # nothing new was autosaved either
    assert "Cancelled" in w.panel.progress_label.text() and error_calls(dialogs) == []
    assert not w.running and w.actions["restore"].isEnabled()


def test_a_crash_in_the_worker_shows_the_reason_and_the_app_keeps_working(window, make_photo, tiny_models, qtbot,
                                                                           monkeypatch, dialogs):
    w = window
    assert w.open_path(make_photo("crash.png"))
    use_model(w, monkeypatch, tiny_models)
    before = snapshot(w)
    with monkeypatch.context() as m:
        def crash(*args, **kwargs):
            raise RuntimeError("simulated worker crash: CUDA error: an illegal memory access was encountered")

        m.setattr(core_restore, "restore", crash)
        run_restore(qtbot, w)
    ((_, title, message, details),) = error_calls(dialogs)
    assert title.endswith("failed") and "simulated worker crash" in message
    assert "Traceback" in details and "RuntimeError" in details
    assert_untouched(w, before)
    assert not w.running and w.actions["restore"].isEnabled() and w.actions["open"].isEnabled()
    assert w.panel.progress_label.text().startswith("Failed:")
    run_restore(qtbot, w)  # the same window restores fine afterwards
    assert w.doc.has_result and len(error_calls(dialogs)) == 1

    with monkeypatch.context() as m:  # the noise estimator failing is not worth a dialog
        m.setattr(core_restore, "estimate_sigma", lambda *a, **k: 1 / 0)
        dialogs.answer("ask_save_discard_cancel", "discard")
        assert w.open_path(make_photo("again.png", seed=3))
        qtbot.waitUntil(lambda: not w.estimator.running, timeout=10000)
    assert w.panel.sigma_estimate is None and len(error_calls(dialogs)) == 1


@pytest.mark.parametrize("junk", ["binary", "folder-is-a-file", "file-is-a-folder"])
def test_a_corrupt_settings_file_falls_back_to_defaults_and_the_app_works(app_env, qtbot, dialogs, make_photo, junk):
    from app.main_window import MainWindow

    path = S.settings_path()
    if junk == "folder-is-a-file":
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        path.parent.write_bytes(b"not a folder")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        if junk == "binary":
            path.write_bytes(b"\x00\xff[run\ntile=\x00\x01" * 20)
        else:
            path.mkdir()
    w = MainWindow()
    try:
        w.show()
        qtbot.waitExposed(w)
        assert "using the defaults" in w.statusBar().currentMessage().lower()
        assert w.settings.get(S.TILE) == 0 and w.settings.get(S.DEVICE) == "auto"
        assert w.open_path(make_photo("fine.png"))
        assert error_calls(dialogs) == []
    finally:
        close_quietly(w)
