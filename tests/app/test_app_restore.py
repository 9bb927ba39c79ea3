"""Restoring through the window: each task to completion with real `rednet.engine.restore` calls on a worker
thread, chained and undoable results, cancel, error dialogs, the task panel's live values, and the
event-loop responsiveness probe."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from PySide6.QtCore import QElapsedTimer, QPoint, QPointF, Qt, QTimer

from app.canvas.compare import CompareMode
from app.services import settings as S
from rednet.engine import restore as core_restore
from rednet.io import read_photo
from rednet.models.registry import LoadedModel, build_network, descriptor_for_task, save_model
from tests.support.app_fixtures import choose_model, wait_idle

W, H = 64, 48


def paint_mask(qtbot, window, y: int = 24) -> None:
    window.panel.set_task("inpaint")
    window.mask_panel.set_brush_size(6)
    c = window.compare.canvas
    a = c.image_to_widget(QPointF(12, y)).toPoint()
    b = c.image_to_widget(QPointF(40, y)).toPoint()
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(c, b)
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=b)
    assert not window.doc.mask.is_empty()


def run_restore(qtbot, window, timeout: int = 20000) -> None:
    with qtbot.waitSignal(window.runner.done, timeout=timeout):
        qtbot.mouseClick(window.panel.restore_button, Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("task", ["denoise", "sr", "jpeg", "inpaint"])
def test_each_task_runs_to_completion(window, make_photo, tiny_user_models, qtbot, dialogs, task):
    name = "photo.jpg" if task == "jpeg" else "photo.png"
    original = read_photo(make_photo(name, quality=30))
    assert window.open_path(original.path)
    window.panel.set_task(task)
    choose_model(window, tiny_user_models[task])
    if task == "inpaint":
        paint_mask(qtbot, window)
        mask = window.doc.mask.to_array()
    if task == "sr":
        window.panel.field("scale").spin.setValue(2.0)
    wait_idle(qtbot, window)
    progress = []
    window.runner.progress.connect(progress.append)
    run_restore(qtbot, window)

    assert dialogs.named("show_error") == []
    doc = window.doc
    assert doc.has_result and len(doc.steps) == 1
    out = doc.current
    expected = core_restore.output_size(original, task, 2.0)
    assert (out.width, out.height) == expected
    assert window.compare.canvas.image_size().width() == expected[0]
    if task == "inpaint":
        changed = np.any(np.abs(out.pixels - original.pixels) > 1e-6, axis=2)
        assert not changed[~mask].any()  # only the painted pixels change
        assert doc.mask.is_empty()  # the filled mask is cleared (undo brings it back)
    assert progress and progress[-1].fraction == 1.0
    assert window.panel.progress.value() == 1000
    assert "done" in window.panel.progress_label.text()
    assert window.compare.mode is CompareMode.SPLIT  # results open in the compare mode
    assert window.isWindowModified() and doc.has_unsaved_result
    assert window.doc.original is not out and np.array_equal(doc.original.pixels, original.pixels)


def test_chain_denoise_then_upscale_listed_and_undoable(window, make_photo, tiny_user_models, qtbot):
    window.open_path(make_photo("chain.png"))
    original = window.doc.current
    window.panel.set_task("denoise")
    choose_model(window, tiny_user_models["denoise"])
    window.panel.field("sigma").auto.setChecked(False)
    window.panel.field("sigma").spin.setValue(15)
    run_restore(qtbot, window)
    denoised = window.doc.current
    window.panel.set_task("sr")
    choose_model(window, tiny_user_models["sr"])
    window.panel.field("scale").spin.setValue(2.0)
    assert window.panel.page().output_size_label.text().startswith(f"Result: {2 * W} × {2 * H} px")
    run_restore(qtbot, window)

    doc = window.doc
    assert doc.steps == ["Denoise σ 15", "Upscale ×2"]
    assert window.panel.steps_label.text() == "Applied: Denoise σ 15 → Upscale ×2"
    assert (doc.current.width, doc.current.height) == (2 * W, 2 * H)
    history = [doc.undo_stack.text(i) for i in range(doc.undo_stack.count())]
    assert history == ["Denoise σ 15", "Upscale ×2"]
    assert window.history.stack() is doc.undo_stack

    window.actions["undo"].trigger()
    assert doc.current is denoised and doc.steps == ["Denoise σ 15"]
    assert window.compare.canvas.image_size().width() == W
    window.actions["undo"].trigger()
    assert doc.current is original and not doc.has_result and doc.steps == []
    assert not window.actions["revert"].isEnabled()
    window.actions["redo"].trigger()
    window.actions["redo"].trigger()
    assert doc.steps == ["Denoise σ 15", "Upscale ×2"]
    window.actions["revert"].trigger()
    assert doc.current is original
    window.actions["undo"].trigger()
    assert doc.steps == ["Denoise σ 15", "Upscale ×2"]
    # Clicking a row of the History panel jumps there.
    window.history.setCurrentIndex(window.history.model().index(1, 0))
    assert doc.current is denoised


def test_an_automatic_noise_level_is_labelled_with_the_estimate(window, make_photo, tiny_user_models, qtbot):
    assert window.open_path(make_photo("auto.png"))
    window.panel.set_task("denoise")
    choose_model(window, tiny_user_models["denoise"])
    wait_idle(qtbot, window)
    estimate = window.panel.sigma_estimate
    assert estimate is not None and window.panel.options() == {"sigma": None}
    run_restore(qtbot, window)
    assert window.doc.steps == [f"Denoise σ {round(estimate, 1):g} (auto)"]  # the estimate of the input
    window.panel.set_task("jpeg")
    assert window.restore_request().label == "JPEG clean-up (auto)"  # nothing estimated for the quality


def test_mask_strokes_survive_undoing_an_upscale(window, make_photo, tiny_user_models, qtbot):
    window.open_path(make_photo("m.png"))
    paint_mask(qtbot, window)
    painted = window.doc.mask.to_array()
    window.panel.set_task("sr")
    choose_model(window, tiny_user_models["sr"])
    run_restore(qtbot, window)
    assert window.doc.mask.to_array().shape == (2 * H, 2 * W)
    window.actions["undo"].trigger()
    assert np.array_equal(window.doc.mask.to_array(), painted)
    window.actions["undo"].trigger()
    assert window.doc.mask.is_empty()


class GatedNet(torch.nn.Module):
    """Wraps a network; its 3rd call blocks until released, so the test can cancel mid-run."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner
        self.calls = 0
        self.reached = threading.Event()
        self.release = threading.Event()

    def forward(self, x):
        self.calls += 1
        if self.calls == 3:
            self.reached.set()
            self.release.wait(10)
        return self.inner(x)


def test_cancel_stops_within_one_tile_and_leaves_the_photo(window, make_photo, qtbot, monkeypatch, dialogs):
    window.settings.set(S.TILE, 16)  # 64x48 -> 12 tiles
    window.open_path(make_photo("cancel.png"))
    before = window.doc.current
    d = descriptor_for_task("denoise", depth=4, width=8)
    gated = GatedNet(build_network(d))
    monkeypatch.setattr(window.panel, "model", lambda: LoadedModel(net=gated, descriptor=d))
    window.panel.set_task("denoise")
    wait_idle(qtbot, window)
    qtbot.mouseClick(window.panel.restore_button, Qt.MouseButton.LeftButton)
    assert window.running and window.panel.cancel_button.isEnabled()
    assert not window.panel.restore_button.isEnabled() and not window.actions["open"].isEnabled()
    qtbot.waitUntil(gated.reached.is_set, timeout=10000)
    with qtbot.waitSignal(window.runner.cancelled, timeout=10000):
        qtbot.mouseClick(window.panel.cancel_button, Qt.MouseButton.LeftButton)
        gated.release.set()
    assert gated.calls == 3  # the tile in flight finished; no further tile was started
    assert window.doc.current is before and not window.doc.has_result
    assert window.doc.undo_stack.count() == 0
    assert "Cancelled" in window.panel.progress_label.text()
    assert not window.running and window.panel.restore_button.isEnabled()
    assert dialogs.named("show_error") == []


def test_escape_cancels(window, make_photo, qtbot, monkeypatch):
    window.settings.set(S.TILE, 16)
    window.open_path(make_photo("esc.png"))
    d = descriptor_for_task("denoise", depth=4, width=8)
    gated = GatedNet(build_network(d))
    monkeypatch.setattr(window.panel, "model", lambda: LoadedModel(net=gated, descriptor=d))
    window.activateWindow()
    window.compare.canvas.setFocus()
    qtbot.keyClick(window.compare.canvas, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(gated.reached.is_set, timeout=10000)
    with qtbot.waitSignal(window.runner.cancelled, timeout=10000):
        qtbot.keyClick(window.compare.canvas, Qt.Key.Key_Escape)
        gated.release.set()
    assert not window.doc.has_result


def test_a_failing_run_shows_the_reason_and_the_window_carries_on(window, make_photo, qtbot, dialogs):
    window.open_path(make_photo("fail.png"))
    window.panel.set_task("jpeg")  # no model of any kind is installed in this test
    assert window.panel.model() is None
    assert "No jpeg clean-up model installed" in window.panel.model_combo.currentText()
    run_restore(qtbot, window)
    (args,) = dialogs.named("show_error")
    assert "failed" in args[1] and "jpeg" in args[2]  # e.g. "no shipped jpeg model in ...; pass --model"
    assert not window.doc.has_result and not window.running
    assert window.panel.progress_label.text().startswith("Failed:")


def test_inpaint_with_an_empty_mask_asks_for_a_mask_instead(window, make_photo, tiny_user_models, qtbot):
    window.open_path(make_photo("empty.png"))
    window.panel.set_task("inpaint")
    assert not window.start_restore()
    assert not window.running
    assert "Paint over" in window.panel.progress_label.text()


def test_panel_shows_estimate_output_size_and_file_quality(window, make_photo, qtbot):
    rng = np.random.default_rng(3)
    path = make_photo("noisy.jpg", quality=30)
    assert window.open_path(path)
    photo = window.doc.current
    wait_idle(qtbot, window)
    expected = core_restore.estimate_sigma(photo.pixels)
    assert window.panel.sigma_estimate == pytest.approx(expected)
    assert window.panel.page().estimate_label.text() == f"Estimated noise level: σ {expected:.1f}"
    assert window.panel.options() == {"sigma": None}  # automatic: rednet estimates it too
    window.panel.set_task("sr")
    window.panel.field("scale").spin.setValue(2.5)
    w, h = core_restore.output_size(photo, "sr", 2.5)
    assert window.panel.page().output_size_label.text().startswith(f"Result: {w} × {h} px")
    window.panel.set_task("jpeg")
    assert photo.jpeg_quality is not None
    assert f"q {photo.jpeg_quality}" in window.panel.field("quality").auto.text()
    assert window.panel.options() == {"quality": None}  # read from the file by rednet
    window.panel.field("quality").auto.setChecked(False)
    window.panel.field("quality").spin.setValue(20)
    assert window.panel.options() == {"quality": 20}
    del rng


def test_model_picker_lists_shipped_and_user_models(window, tiny_user_models, tmp_path, monkeypatch):
    resources = tmp_path / "resources"
    d = descriptor_for_task("denoise", depth=4, width=8)
    save_model(build_network(d), d, resources / "weights" / "denoise.safetensors", card={"summary": "shipped"})
    monkeypatch.setenv("REDNET_RESOURCES", str(resources))
    window.panel.set_task("sr")
    window.panel.set_task("denoise")  # refreshes the list
    combo = window.panel.model_combo
    items = [combo.itemText(i) for i in range(combo.count())]
    assert items == ["denoise  (default)", "tiny-denoise  (user)"]
    assert window.panel.model() == str(resources / "weights" / "denoise.safetensors")


def test_event_loop_stays_responsive_during_a_run(window, make_photo, qtbot):
    """A 10 ms QTimer probe: no gap over 100 ms while the worker restores (target 50 ms)."""
    from rednet.paths import user_models_dir

    d = descriptor_for_task("denoise", depth=10, width=48)
    torch.manual_seed(0)
    model = save_model(build_network(d), d, user_models_dir() / "probe.safetensors")
    window.settings.set(S.TILE, 48)
    window.open_path(make_photo("probe.png", w=768, h=576))  # long enough to probe on a fast, idle machine
    window.panel.set_task("denoise")
    window.panel.refresh_models()
    choose_model(window, model)
    wait_idle(qtbot, window)

    gaps: list[int] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(10)

    def tick():
        gaps.append(clock.restart())

    probe.timeout.connect(tick)
    t0 = time.monotonic()
    with qtbot.waitSignal(window.runner.done, timeout=60000):
        window.start_restore()
        clock.start()
        probe.start()
    probe.stop()
    run_s = time.monotonic() - t0
    assert window.doc.has_result
    assert run_s > 0.3 and len(gaps) >= 10, f"the run was too short to probe ({run_s:.2f} s)"
    worst = max(gaps)
    print(
        f"\nresponsiveness probe: run {run_s:.2f} s, {len(gaps)} ticks, worst gap {worst} ms, "
        f"median {sorted(gaps)[len(gaps) // 2]} ms"
    )
    assert worst < 100


def test_viewer_works_while_running(window, make_photo, qtbot, monkeypatch):
    window.settings.set(S.TILE, 16)
    window.open_path(make_photo("busy.png"))
    d = descriptor_for_task("denoise", depth=4, width=8)
    gated = GatedNet(build_network(d))
    monkeypatch.setattr(window.panel, "model", lambda: LoadedModel(net=gated, descriptor=d))
    window.start_restore()
    qtbot.waitUntil(gated.reached.is_set, timeout=10000)
    window.actions["zoom_100"].trigger()
    assert window.compare.zoom() == 1.0
    window.set_compare_mode("split")
    assert not window.actions["undo"].isEnabled() and not window.actions["brush"].isEnabled()
    with qtbot.waitSignal(window.runner.done, timeout=10000):
        gated.release.set()
    assert window.doc.has_result
    p = window.compare.canvas.image_to_widget(QPointF(1, 1))
    assert isinstance(p.toPoint(), QPoint)


@pytest.mark.parametrize("ticked", [True, False])
def test_best_quality_checkbox_reaches_restore(window, make_photo, tiny_user_models, qtbot, monkeypatch, ticked):
    seen = []
    real = core_restore.restore

    def spy(photo, task, **kwargs):
        seen.append(kwargs["ensemble"])
        return real(photo, task, **kwargs)

    monkeypatch.setattr(core_restore, "restore", spy)  # what the worker calls
    assert window.open_path(make_photo("best.png"))
    window.panel.set_task("denoise")
    choose_model(window, tiny_user_models["denoise"])
    assert not window.panel.ensemble_check.isChecked()  # off by default: it is 8x slower
    window.panel.ensemble_check.setChecked(ticked)
    wait_idle(qtbot, window)
    run_restore(qtbot, window)
    assert seen == [ticked] and window.doc.has_result
    assert window.panel.ensemble_check.isEnabled()  # disabled while running, back afterwards
