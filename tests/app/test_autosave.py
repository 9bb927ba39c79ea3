"""Autosave and crash recovery (app.services.autosave, app.services.autosave_store, app.dialogs.recovery):
what is written when, a kill loses nothing that was written, recovery after a restart (the same mask
and result, or the result alone when the source is gone), the recovery question, and failures that
are reported once in the status bar and never as a dialog.

Every model is a tiny one; every modal dialog is patched (app.dialogs.prompts through the `dialogs`
recorder, the recovery question through app.dialogs.recovery.ask_recover, QMessageBox.exec where the
real box is checked).
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

import app.services.autosave as autosave
import app.services.autosave_store as store
from app.dialogs import recovery
from rednet.io import read_mask, read_photo
from rednet.io import write as io_write
from tests.support.app_fixtures import (
    autosave_now,
    break_writes,
    close_quietly,
    error_calls,
    paint,
    run_restore,
    session_meta,
    smooth_pixels,
    temp_files,
    use_model,
    wait_autosave,
)

ROOT = Path(__file__).resolve().parents[2]


def session_folders() -> list[Path]:
    root = store.autosave_root()
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def simulate_kill(window) -> Path:
    """What a kill leaves: the session folder as last written, and its lock released by the OS
    (the window gets no close prompt and runs no clean-up)."""
    window.autosave.runner.wait()
    folder = window.autosave.folder
    assert folder is not None and (folder / store.SESSION_FILE).is_file()
    window.autosave.timer.stop()
    window.autosave._session.lock.unlock()  # the kernel drops a dead process's lock
    window.hide()
    return folder


class Answers:
    """Stands in for app.dialogs.recovery.ask_recover: records the questions, answers from a list."""

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
    monkeypatch.setattr(recovery, "ask_recover", ask)
    w = MainWindow()
    w.show()
    qtbot.waitExposed(w)
    qtbot.wait(20)  # the offer runs right after the window is shown
    return w, ask


# ================================================================================================ writing
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
    assert not (folder / store.SESSION_FILE).exists()
    assert store.find_orphans(store.autosave_root()) == []


# ================================================================================================ recovery
def test_kill_then_restart_recovers_the_exact_mask_and_result(
    window, make_photo, tiny_models, qtbot, monkeypatch, dialogs
):
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
        assert name == "holiday.png" and when == store.describe_time(session_meta(folder)["timestamp"])
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
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(src)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
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
def test_recovery_opens_the_result_alone_when_the_source_is_gone_or_changed(
    window, make_photo, tiny_models, qtbot, monkeypatch, dialogs, tmp_path, what
):
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
    assert len(ask.asked) == 1 and b.doc is None and (folder / store.SESSION_FILE).is_file()
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
    when = store.describe_time(ts)
    assert when == "2024-05-06 14:32" and store.describe_time(time.time()) == time.strftime("%H:%M")
    assert recovery.ask_recover(None, when, "beach.jpg", "RED-Net Studio did not close normally.") == "discard"
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
        assert (folder / store.SESSION_FILE).is_file()
    finally:
        close_quietly(b)
    assert (folder / store.SESSION_FILE).is_file()  # its clean close did not touch the other's


# ================================================================================================ failures
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
    root = store.autosave_root()
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_bytes(b"a file where the autosave folder should be")
    messages: list[str] = []
    w.statusBar().messageChanged.connect(messages.append)
    for i in range(3):
        paint(qtbot, w, [(2 + i, 40), (20 + i, 44)])
        assert not w.autosave.save_now()
    assert [t for t in messages if t.startswith("Autosave failed")] == [
        "Autosave failed: File exists. Save your work to keep it."
    ]
    assert error_calls(dialogs) == [] and w.autosave.dirty


def test_autosave_writes_on_a_worker_thread_one_file_at_a_time(window, make_photo, tiny_models, qtbot, monkeypatch):
    """A slow disk (the first file is held until released, then 0.2 s per file) never stalls the
    event loop, and writes never overlap: requests made meanwhile are coalesced into one more write."""
    w = window
    assert w.open_path(make_photo("slow.png"))
    use_model(w, monkeypatch, tiny_models)
    paint(qtbot, w, [(5, 5), (30, 30)])
    real = io_write.write_photo
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

    monkeypatch.setattr("rednet.io.write.write_photo", slow_write)
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
