"""Tools > Fine-tune a Model: real `rednet.train.finetune.finetune` runs on the worker thread (a tiny base model,
a few steps, small photos): the live plot, the preview, the new model chosen in the task panel, bad
data refused inline before training, pause / resume and cancel / continue. (Your models:
test_model_manager.py; the plot's throttling: test_plot_widget.py; the preview: test_finetune_preview.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.dialogs import prompts
from rednet.models.registry import list_models, load_model
from rednet.paths import user_models_dir
from rednet.train.loop import checkpoint_path

PW, PH = 64, 56  # >= patch 32 + 16


@pytest.fixture
def photos(tmp_path, make_photo):
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(3):
        make_photo(f"scan{i}.png", PW, PH, seed=20 + i, folder=folder)
    return folder


def open_finetune(window, qtbot):
    window.finetune_action.trigger()
    dlg = window.tool("finetune")
    qtbot.waitExposed(dlg)
    dlg.batch, dlg.patch, dlg.val_every, dlg.lr, dlg.patience = 4, 32, 2, 1e-3, None
    return dlg


def set_up(dlg, qtbot, monkeypatch, data: Path, base: Path, name: str, iters: int) -> None:
    monkeypatch.setattr(prompts, "ask_folder", lambda *a, **k: str(data))
    qtbot.mouseClick(dlg.data_button, Qt.MouseButton.LeftButton)
    assert dlg.data_edit.text() == str(data)
    dlg.set_task("denoise")
    assert dlg.choose_base(base)
    dlg.name_edit.setText(name)
    dlg.iters_radio.setChecked(True)
    dlg.iters_spin.setValue(iters)


def pause_at(dlg, step: int) -> list:
    """Pause the run from the worker thread right after `step` (deterministic, whatever the speed)."""
    seen = []

    def on_entry(run_no, entry):
        if entry.get("step") == step and not seen:
            seen.append(entry)
            dlg.runner.state.pause()

    dlg.relay.entry.connect(on_entry, Qt.ConnectionType.DirectConnection)
    return seen


def test_short_finetune_completes_and_the_new_model_is_chosen(window, qtbot, monkeypatch, photos, tiny_user_models):
    dlg = open_finetune(window, qtbot)
    assert not dlg.isModal() and window.isEnabled()
    window.panel.set_task("sr")  # the task panel is on another task: finishing switches it
    set_up(dlg, qtbot, monkeypatch, photos, tiny_user_models["denoise"], "my-scans", 6)
    with qtbot.waitSignal(dlg.runner.done, timeout=120000):
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
        assert dlg.running and dlg.pause_button.isEnabled() and not dlg.start_button.isEnabled()

    assert not dlg.error_label.isVisible(), dlg.error_label.text()
    result = dlg.result
    assert result is not None and result.steps == 6
    path = user_models_dir() / "my-scans.safetensors"
    assert Path(result.path) == path and path.is_file() and not checkpoint_path(path).exists()
    # the plot got every step's loss and the validation points
    assert dlg.plot.point_count("loss") == 6
    assert dlg.plot.series["psnr"].xs == [0, 2, 4, 6]  # train() logs the score before training as step 0
    assert dlg.plot.series["psnr"].ys[0] == pytest.approx(result.val_psnr_before)
    assert dlg.plot.point_count("loss_avg") == 6
    assert [e["step"] for e in dlg.log] == [0, 1, 2, 3, 4, 5, 6]
    assert dlg.status_label.text().startswith("Saved “my-scans”: validation")
    assert "It is now the selected Denoise model in the main window" in dlg.status_label.text()
    # the new model is listed and chosen in the main window's picker
    assert "my-scans" in [m.name for m in list_models("denoise")]
    assert window.panel.task() == "denoise"
    assert window.panel.model() == str(path)
    assert dlg.models.selected_model() == path
    assert load_model(path).card["fine_tuned"]
    # the preview: base model first, the new model last
    qtbot.waitUntil(lambda: not dlg.preview.runner.running, timeout=30000)
    assert dlg.preview.history[0] == "Base model"
    assert dlg.preview.history[-1] == "New model “my-scans”"
    assert not dlg.preview.after_image.pixmap().isNull() and not dlg.preview.before_image.pixmap().isNull()
    caption = dlg.preview.after_caption.text()
    assert caption.startswith("Restored · ") and caption.endswith(" dB")


def test_bad_data_is_refused_inline_before_training(window, qtbot, monkeypatch, tmp_path, tiny_user_models):
    dlg = open_finetune(window, qtbot)
    dlg.data_edit.clear()
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert dlg.error_label.isVisible() and dlg.error_label.text() == "Choose the folder with your photos."
    assert not dlg.running

    empty = tmp_path / "empty"
    empty.mkdir()
    set_up(dlg, qtbot, monkeypatch, empty, tiny_user_models["denoise"], "nothing", 6)
    with qtbot.waitSignal(dlg.runner.done, timeout=30000):
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert dlg.error_label.isVisible() and "no images found" in dlg.error_label.text()
    assert dlg.status_label.text() == "Nothing was trained."
    assert dlg.plot.point_count() == 0 and dlg.log == []
    out = user_models_dir() / "nothing.safetensors"
    assert not out.exists() and not checkpoint_path(out).exists()

    dlg.name_edit.setText("bad/name")
    assert not dlg.start() and "cannot be a model name" in dlg.error_label.text()


def test_pause_then_resume_then_finish(window, qtbot, monkeypatch, photos, tiny_user_models, make_photo):
    dlg = open_finetune(window, qtbot)
    set_up(dlg, qtbot, monkeypatch, photos, tiny_user_models["denoise"], "paused", 6)
    seen = pause_at(dlg, 2)
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen) and bool(dlg.log) and dlg.log[-1]["step"] == 2, timeout=60000)
    assert dlg.paused
    qtbot.mouseClick(dlg.pause_button, Qt.MouseButton.LeftButton)  # the user's Pause (already paused)
    assert dlg.pause_button.text() == "Resume" and dlg.status_label.text().startswith("Paused at step 2")
    qtbot.wait(600)
    assert dlg.log[-1]["step"] == 2 and dlg.running  # nothing trains while paused
    assert window.open_path(make_photo("meanwhile.png"))  # the window stays usable
    # the preview shows the checkpoint written at step 2, while the run is paused
    qtbot.waitUntil(lambda: "Checkpoint at step 2" in dlg.preview.history, timeout=30000)
    assert dlg.preview.label.text().startswith("Checkpoint at step 2")
    with qtbot.waitSignal(dlg.runner.done, timeout=120000):
        qtbot.mouseClick(dlg.pause_button, Qt.MouseButton.LeftButton)  # Resume
        assert not dlg.paused and dlg.pause_button.text() == "Pause"
    assert dlg.result is not None and dlg.result.steps == 6
    assert [e["step"] for e in dlg.log] == [0, 1, 2, 3, 4, 5, 6]


def test_cancel_keeps_a_checkpoint_and_continue_finishes(window, qtbot, monkeypatch, photos, tiny_user_models):
    dlg = open_finetune(window, qtbot)
    set_up(dlg, qtbot, monkeypatch, photos, tiny_user_models["denoise"], "stopped", 8)
    seen = pause_at(dlg, 3)
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen) and bool(dlg.log) and dlg.log[-1]["step"] == 3, timeout=60000)
    with qtbot.waitSignal(dlg.runner.cancelled, timeout=30000):
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.running)
    out = user_models_dir() / "stopped.safetensors"
    assert not out.exists() and checkpoint_path(out).is_file()
    assert dlg.result is None
    assert dlg.status_label.text().startswith("Cancelled at step 3. A checkpoint was kept")
    assert "stopped" not in [m.name for m in list_models()]
    assert not dlg.resume_check.isHidden() and dlg.resume_check.isChecked()

    qtbot.waitUntil(lambda: not dlg.preview.runner.running, timeout=30000)
    with qtbot.waitSignal(dlg.runner.done, timeout=120000):
        assert dlg.start()
    assert dlg.result is not None and dlg.result.steps == 8
    assert [e["step"] for e in dlg.log] == [4, 5, 6, 7, 8]  # continued from the checkpoint
    assert out.is_file() and not checkpoint_path(out).exists() and dlg.resume_check.isHidden()


def test_event_loop_stays_responsive_while_training(window, qtbot, monkeypatch, photos, tiny_user_models):
    """A 10 ms QTimer probe while a fine-tune trains, plots and previews: no gap over 100 ms.

    Measured after a 2-step warm-up run: the first training step of a process imports much of torch
    lazily (torch.optim pulls in sympy and friends), a one-time cost that can stall every thread."""
    from PySide6.QtCore import QElapsedTimer, QTimer

    dlg = open_finetune(window, qtbot)
    set_up(dlg, qtbot, monkeypatch, photos, tiny_user_models["denoise"], "warm-up", 2)
    with qtbot.waitSignal(dlg.runner.done, timeout=120000):
        dlg.start()
    qtbot.waitUntil(lambda: not dlg.preview.runner.running, timeout=30000)
    dlg.name_edit.setText("probe")
    dlg.iters_spin.setValue(100)  # long enough to probe on a fast, idle machine
    gaps: list[int] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(lambda: gaps.append(clock.restart()))
    with qtbot.waitSignal(dlg.runner.done, timeout=120000):
        dlg.start()
        clock.start()
        probe.start()
    probe.stop()
    assert dlg.result is not None and dlg.result.steps == 100
    assert len(gaps) >= 10
    worst = max(gaps)
    print(
        f"\nfine-tune responsiveness probe: {len(gaps)} ticks, worst gap {worst} ms, "
        f"median {sorted(gaps)[len(gaps) // 2]} ms, {dlg.plot.paint_count} plot repaints"
    )
    assert worst < 100
