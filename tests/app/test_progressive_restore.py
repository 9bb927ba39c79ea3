"""Restoring where the user looks: tiles under the view first, each shown in the After view as it
lands, the same result as a plain run; Cancel within half a second; quitting during a run asks."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF

import app.services.restore_controller as controller
from app.canvas.image_convert import qimage_to_uint8
from app.services import settings as S
from rednet.engine import restore as core_restore
from rednet.models.registry import build_network, descriptor_for_task, save_model
from rednet.paths import user_models_dir
from tests.support.app_fixtures import choose_model, wait_idle

TILE = 32


def overlaps(box, view) -> bool:
    return box[0] < view[1] and view[0] < box[1] and box[2] < view[3] and view[2] < box[3]


@pytest.fixture
def tiled_window(window, make_photo, tiny_user_models, qtbot):
    """A 160x120 photo opened, the tiny denoiser chosen, tiles of 32 px (20 of them)."""
    window.settings.set(S.TILE, TILE)
    assert window.open_path(make_photo("big.png", w=160, h=120))
    choose_model(window, tiny_user_models["denoise"])
    wait_idle(qtbot, window)
    return window


def held_restore(monkeypatch):
    """Make the worker wait at the start of the restore until the returned event is set."""
    go, real = threading.Event(), core_restore.restore

    def waiting(*args, **kwargs):
        assert go.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(controller.core_restore, "restore", waiting)
    return go


def test_tiles_in_view_come_first_and_appear_at_once_and_the_result_is_unchanged(tiled_window, qtbot):
    w = tiled_window
    w.compare.state.set_view(8.0, QPointF(140, 100))  # zoomed into the bottom right corner
    view = w.compare.visible_box()
    tiles = []

    def landed(_request, box, image):
        shown = qimage_to_uint8(w.compare.canvas._after)[box[0] : box[1], box[2] : box[3], :3]
        tiles.append((box, np.array_equal(shown, qimage_to_uint8(image)[..., :3])))

    w.restorer.tile_ready.connect(landed)
    photo, model, options = w.doc.current, w.panel.model(), w.panel.options()
    with qtbot.waitSignal(w.runner.done, timeout=20000):
        assert w.start_restore()
    assert len(tiles) == 20 and overlaps(tiles[0][0], view)
    assert all(shown for _, shown in tiles)  # each tile was in the After view as soon as it landed
    plain = core_restore.restore(photo, "denoise", model=model, tile=TILE, **options)
    assert np.array_equal(w.doc.current.pixels, plain.pixels)


def test_panning_during_a_run_reorders_the_remaining_tiles(tiled_window, qtbot, monkeypatch):
    w = tiled_window
    go = held_restore(monkeypatch)
    w.compare.state.set_view(8.0, QPointF(10, 10))  # top left
    first = []
    w.restorer.tile_ready.connect(lambda _r, box, _i: first.append(box))
    with qtbot.waitSignal(w.runner.done, timeout=20000):
        assert w.start_restore()
        w.compare.state.set_view(8.0, QPointF(150, 110))  # the user pans to the bottom right
        moved = w.compare.visible_box()
        go.set()
    assert overlaps(first[0], moved)


def test_a_cancelled_progressive_run_shows_the_photo_as_it_was(tiled_window, qtbot, monkeypatch):
    w = tiled_window
    before = qimage_to_uint8(w.compare.canvas._after)
    go = held_restore(monkeypatch)
    with qtbot.waitSignal(w.runner.done, timeout=20000):
        assert w.start_restore()
        assert w.compare.canvas._after is w._preview.image  # the preview is on show
        w.cancel_restore()
        go.set()
    assert not w.doc.has_result and w._preview is None
    assert np.array_equal(qimage_to_uint8(w.compare.canvas._after), before)


def slow_model(task: str = "denoise"):
    """A RED20-32: its one 1024 px tile takes seconds on the CPU, one layer a twentieth of that."""
    torch.manual_seed(0)
    d = descriptor_for_task(task, depth=20, width=32)
    return save_model(build_network(d), d, user_models_dir() / "slow-denoise.safetensors", card={"summary": "slow"})


def test_cancel_stops_a_run_within_half_a_second(window, make_photo, qtbot, app_env):
    path = slow_model()
    assert window.open_path(make_photo("large.png", w=1024, h=1024))
    choose_model(window, path)
    wait_idle(qtbot, window)
    inside = threading.Event()
    real = controller.core_restore.restore

    def marked(*args, **kwargs):
        inside.set()
        return real(*args, **kwargs)

    controller.core_restore.restore = marked
    try:
        started = time.monotonic()
        assert window.start_restore()
        qtbot.waitUntil(inside.is_set, timeout=10000)
        qtbot.wait(600)  # well inside the first (and only) tile
        with qtbot.waitSignal(window.runner.done, timeout=10000):
            pressed = time.monotonic()
            window.cancel_restore()
        stopped = time.monotonic()
    finally:
        controller.core_restore.restore = real
    assert stopped - pressed < 0.5, (
        f"Cancel took {stopped - pressed:.2f} s (run started {pressed - started:.1f} s before)"
    )
    assert not window.doc.has_result


def test_quit_during_a_run_asks_and_no_keeps_it_running(tiled_window, qtbot, dialogs, monkeypatch):
    w = tiled_window
    go = held_restore(monkeypatch)
    assert w.start_restore()
    dialogs.answer("ask_yes_no", False)
    assert not w.close()
    assert w.running and w.isVisible()
    (args,) = dialogs.named("ask_yes_no")
    assert "running" in args[2]
    go.set()
    qtbot.waitUntil(lambda: not w.running, timeout=20000)


def test_quit_during_a_run_cancels_it_and_closes_within_a_second(tiled_window, qtbot, dialogs, monkeypatch):
    w = tiled_window
    go = held_restore(monkeypatch)
    assert w.start_restore()
    dialogs.answer("ask_yes_no", True)
    go.set()
    start = time.monotonic()
    assert w.close()
    assert time.monotonic() - start < 1.0
    assert not w.isVisible() and w.runner.pool.activeThreadCount() == 0


def test_the_command_leaves_at_once_when_the_window_has_closed(monkeypatch):
    """`rednet-studio` skips the interpreter's teardown (a second after a big photo): by then the
    window has saved or discarded the result, stopped its workers and written its settings."""
    import app.main as app_main

    exits = []
    monkeypatch.setattr(app_main, "main", lambda: 3)
    monkeypatch.setattr(app_main.os, "_exit", exits.append)
    app_main.run()
    assert exits == [3]


def test_an_upscale_shows_its_tiles_over_the_enlarged_photo(window, make_photo, tiny_user_models, qtbot):
    window.settings.set(S.TILE, TILE)
    assert window.open_path(make_photo("small.png", w=80, h=60))
    window.panel.set_task("sr")
    choose_model(window, tiny_user_models["sr"])
    window.panel.field("scale").spin.setValue(2.0)
    wait_idle(qtbot, window)
    window.compare.state.set_view(8.0, QPointF(70, 50))  # zoomed into a corner of the small photo
    sizes, boxes = [], []
    window.restorer.tile_ready.connect(
        lambda _r, box, _i: (boxes.append(box), sizes.append(window.compare.canvas.image_size().toTuple()))
    )
    with qtbot.waitSignal(window.runner.done, timeout=20000):
        assert window.start_restore()
    assert set(sizes) == {(160, 120)}  # the preview is the result's size from the first tile on
    assert overlaps(boxes[0], (80, 120, 120, 160))  # the same corner, in the result's pixels
    assert window.compare.zoom() == pytest.approx(4.0)  # the view kept its region
    assert (window.doc.current.width, window.doc.current.height) == (160, 120)
