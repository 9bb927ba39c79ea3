"""Tools > Fine-tune a Model: what the status line says during and after a run. The run is scripted:
`run_finetune_job` is replaced by a job that logs a step, waits for the test, and "saves" a copy of a
tiny model, so the progress it reports can be faked; test_finetune_window.py trains for real."""

from __future__ import annotations

import re
import shutil
import threading

import pytest
from PySide6.QtCore import Qt

from app.tools import finetune_window
from rednet.progress import Progress, format_eta
from rednet.train.finetune import output_path
from rednet.train.loop import TrainResult
from tests.app.test_finetune_window import open_finetune

BUDGET_MIN = 1
SETUP_S = 20.0  # loading the photos and the base model, before the budget starts


@pytest.fixture
def photos(tmp_path, make_photo):
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(2):
        make_photo(f"scan{i}.png", 64, 56, seed=30 + i, folder=folder)
    return folder


def script_training(monkeypatch, model) -> threading.Event:
    """The next run logs step 1, waits until the returned event is set, then "saves" `model`."""
    go_on = threading.Event()

    def job(task, data, out, *, state, on_log, pairs=None, **options):
        on_log({"step": 0, "val_psnr": 20.0})
        on_log({"step": 1, "loss": 0.01})
        while not go_on.wait(0.02):
            state.check()  # Cancel (and the test's teardown) still stops it
        shutil.copyfile(model, output_path(out))
        return TrainResult(output_path(out), 3, 60.0, 18.0, 20.0, 21.5, "time", [])

    monkeypatch.setattr(finetune_window, "run_finetune_job", job)
    return go_on


def start_on_time_budget(dlg, qtbot, photos, base) -> None:
    dlg.data_edit.setText(str(photos))
    dlg.set_task("denoise")
    assert dlg.choose_base(base)
    dlg.name_edit.setText("my-scans")
    dlg.time_radio.setChecked(True)
    dlg.minutes_spin.setValue(BUDGET_MIN)
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dlg.log) == 2, timeout=10000)


def seconds_left(text: str) -> int:
    """The ETA at the end of the status line ("… · 3 min 28 s left") in seconds."""
    m = re.search(r"(?:(\d+) min )?(\d+) s left$", text)
    assert m, text
    return int(m.group(1) or 0) * 60 + int(m.group(2))


def late_start_progress(fraction: float) -> Progress:
    """What TaskState reports `fraction` of the way through a 1-minute budget that began SETUP_S in:
    its ETA extrapolates over the setup too (at 10 %: 3 min 54 s)."""
    elapsed = SETUP_S + fraction * BUDGET_MIN * 60
    return Progress(fraction, "step 1", elapsed, elapsed * (1 - fraction) / fraction)


def test_the_time_left_never_exceeds_the_budget(window, qtbot, monkeypatch, photos, tiny_user_models):
    dlg = open_finetune(window, qtbot)
    go_on = script_training(monkeypatch, tiny_user_models["denoise"])
    start_on_time_budget(dlg, qtbot, photos, tiny_user_models["denoise"])
    for fraction in (0.02, 0.1, 0.25, 0.5, 0.9):
        dlg.runner.progress.emit(late_start_progress(fraction))
        text = dlg.status_label.text()
        assert text.startswith("Step 1 · 1 min 00 s budget · "), text
        assert seconds_left(text) <= round((1 - fraction) * BUDGET_MIN * 60), text
    assert dlg.status_label.text().endswith(format_eta(6, words=True))
    with qtbot.waitSignal(dlg.runner.done, timeout=10000):
        go_on.set()


def test_the_finish_message_says_the_new_model_is_selected(window, qtbot, monkeypatch, photos, tiny_user_models):
    dlg = open_finetune(window, qtbot)
    window.panel.set_task("sr")
    go_on = script_training(monkeypatch, tiny_user_models["denoise"])
    start_on_time_budget(dlg, qtbot, photos, tiny_user_models["denoise"])
    with qtbot.waitSignal(dlg.runner.done, timeout=10000):
        go_on.set()
    saved, selected = dlg.status_label.text().split("\n")
    assert saved == "Saved “my-scans”: validation 20.00 → 21.50 dB after 3 steps in 1 min 00 s (time budget used)."
    assert selected == (
        "It is now the selected Denoise model in the main window; to switch back, "
        "choose another model in the Restore panel's Model list."
    )
    assert window.panel.task() == "denoise" and window.panel.model() == str(output_path("my-scans"))
    qtbot.waitUntil(lambda: not dlg.preview.busy, timeout=30000)


def test_a_one_step_run_says_step(tmp_path):
    result = TrainResult(
        path=tmp_path / "one.safetensors",
        steps=1,
        wall_s=4.0,
        input_psnr=19.0,
        val_psnr_before=20.0,
        val_psnr=20.1,
        stopped="iterations",
        history=[],
    )
    saved = finetune_window.finish_message(result, "denoise", []).split("\n")[0]
    assert saved.endswith("after 1 step in 4 s (all steps done).")
