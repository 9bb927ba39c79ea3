"""Reliability of the desktop app (issue 9, the app's part): bad and odd files through every way of
opening them, and faults (disk full, read-only folders, cancel, corrupt settings, a crashing worker).
Autosave and crash recovery: test_autosave.py.

Every input comes from tests/support/bad_inputs.py, generated into tmp folders; every model is a tiny
one; every modal dialog is patched (app.dialogs.prompts through the `dialogs` recorder, and
QMessageBox.exec where the real box is checked).
"""

from __future__ import annotations

import errno
import json
import os
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEventLoop, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

import app.dialogs.prompts as app_dialogs
import app.services.autosave_store as store
from app.services import settings as S
from rednet.engine import restore as core_restore
from rednet.io import read_mask, read_photo
from tests.support import bad_inputs as B
from tests.support.app_fixtures import (
    autosave_now,
    break_writes,
    close_quietly,
    error_calls,
    paint,
    run_restore,
    session_meta,
    temp_files,
    use_model,
    wait_autosave,
)

REAL_SHOW_ERROR = app_dialogs.show_error  # before any fixture replaces it
ROOT = Path(__file__).resolve().parents[2]


BROKEN, ODD = B.case_names()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, B.ImageCase]:
    return {c.name: c for c in B.write_image_corpus(tmp_path_factory.mktemp("corpus"))}


# ================================================================================================ helpers
def drop_file(window, path: Path) -> bool:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPoint(window.width() // 2, window.height() // 2)  # QDragEnterEvent takes a QPoint
    enter = QDragEnterEvent(
        pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, drop)
    return drop.isAccepted()


def snapshot(window) -> dict:
    doc = window.doc
    return {
        "doc": doc,
        "current": doc.current,
        "original": doc.original,
        "mask": doc.mask.to_array().copy(),
        "count": doc.undo_stack.count(),
        "index": doc.undo_stack.index(),
        "steps": list(doc.steps),
        "unsaved": doc.has_unsaved_result,
        "title": window.windowTitle(),
    }


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
        qtbot.waitUntil(lambda n=n: len(error_calls(dialogs)) > n, timeout=5000)
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

    names = (
        qapp.applicationName(),
        qapp.applicationDisplayName(),
        qapp.organizationName(),
        qapp.applicationVersion(),
        qapp.windowIcon(),
    )
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
def test_odd_files_open_correctly_and_restore(window, corpus, tiny_models, qtbot, dialogs, monkeypatch, tmp_path, name):
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
    expected = {
        "wrong-size": "mask is 10x10 but the photo is 32x24",
        "not-an-image": "not an image file",
        "empty": "file is empty (0 bytes)",
    }
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


# ================================================================================================ 2. faults
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


@pytest.mark.parametrize(
    "fault,code,reason,advice",
    [
        ("disk-full", errno.ENOSPC, "No space left on device", "The disk is full"),
        ("writer-raises", errno.ENOSPC, "No space left on device", "The disk is full"),
        ("read-only-fs", errno.EROFS, "Read-only file system", "cannot be written to"),
        ("no-permission", errno.EACCES, "Permission denied", "cannot be written to"),
    ],
)
def test_a_failed_save_keeps_the_old_file_and_the_unsaved_result(
    saved_once, dialogs, monkeypatch, qtbot, fault, code, reason, advice
):
    w, out = saved_once
    old = out.read_bytes()
    current = w.doc.current
    with monkeypatch.context() as m:
        if fault == "writer-raises":

            def boom(*args, **kwargs):
                raise OSError(code, os.strerror(code))

            m.setattr("rednet.io.write.write_photo", boom)
        else:
            break_writes(m, code, at="write" if fault == "disk-full" else "open")
        assert not w.save()  # to out.png again, no dialog for the path
    ((_, title, message),) = [c[:3] for c in error_calls(dialogs)]
    assert title == "Cannot save photo"
    assert message.startswith("out.png: cannot write: ") and reason in message and advice in message
    assert out.read_bytes() == old and temp_files(out.parent) == []
    assert w.doc.current is current and w.doc.has_unsaved_result and w.isWindowModified()
    assert (w.autosave.folder / store.SESSION_FILE).is_file()  # the autosave is kept
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
        proc = run_python(
            f"import runpy, sys; sys.argv = ['child', {str(src)!r}, {str(out)!r}]; "
            f"runpy.run_path({str(tmp_path / 'child.py')!r}, run_name='__main__')",
            cwd=ROOT,
        )
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
def test_cancel_at_any_moment_leaves_the_photo_and_writes_nothing(
    window, make_photo, tiny_models, qtbot, monkeypatch, dialogs, tmp_path, moment
):
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


def test_a_crash_in_the_worker_shows_the_reason_and_the_app_keeps_working(
    window, make_photo, tiny_models, qtbot, monkeypatch, dialogs
):
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
