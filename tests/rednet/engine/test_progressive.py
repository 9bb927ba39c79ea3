"""Viewport-first tiles and per-tile results: another order, the same output."""

import numpy as np
import pytest
import torch

from rednet.engine.inference import FastREDNet, FastSpaceToDepthREDNet, run_model
from rednet.engine.progressive import Progressive, view_priority
from rednet.engine.restore import restore
from rednet.engine.tiling import run_tiled
from rednet.io import Photo
from rednet.models.arch import REDNet, SpaceToDepthREDNet
from rednet.models.registry import LoadedModel, ModelDescriptor
from rednet.progress import Cancelled, TaskState

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return REDNet(depth=10, width=8, cond_channels=1).eval()


def _tiled(net, x, **kw):
    with torch.inference_mode():
        return run_tiled(net, x, tile=16, margin=net.depth, out_channels=3, device=CPU, **kw)


def test_view_priority_puts_the_tiles_under_the_view_first_nearest_its_centre():
    priority = view_priority((0, 40, 60, 100))  # the top right corner of a 100x100 photo
    boxes = [(0, 50, 0, 50), (0, 50, 50, 100), (50, 100, 50, 100), (50, 100, 0, 50)]
    assert sorted(boxes, key=priority)[0] == (0, 50, 50, 100)
    assert priority((50, 100, 50, 100)) > priority((0, 50, 0, 50)) - 1e11  # both outside: by distance


def test_a_priority_changes_the_order_not_the_output(net):
    x = torch.rand(1, 4, 64, 64)
    order = []
    corner = view_priority((48, 64, 48, 64))
    out = _tiled(net, x, priority=corner, on_tile=lambda box, view: order.append(box))
    assert torch.equal(out, _tiled(net, x))
    assert order[0] == (48, 64, 48, 64)  # the bottom right tile, where the view is
    assert len(order) == 16 and len(set(order)) == 16


def test_the_order_follows_a_view_that_moves_during_the_run(net):
    x = torch.rand(1, 4, 64, 64)
    view = [view_priority((0, 16, 0, 16))]
    order = []

    def on_tile(box, _view):
        order.append(box)
        if len(order) == 1:
            view[0] = view_priority((48, 64, 48, 64))  # the user pans to the far corner

    _tiled(net, x, priority=lambda box: view[0](box), on_tile=on_tile)
    assert order[:2] == [(0, 16, 0, 16), (48, 64, 48, 64)]


def test_each_tile_handed_over_is_its_final_part_of_the_output(net):
    x = torch.rand(1, 4, 40, 56)
    parts = {}
    out = _tiled(net, x, on_tile=lambda box, view: parts.__setitem__(box, view.clone()))
    for (y0, y1, x0, x1), part in parts.items():
        assert torch.equal(part, out[:, :, y0:y1, x0:x1])
    assert sum((y1 - y0) * (x1 - x0) for y0, y1, x0, x1 in parts) == 40 * 56


def test_flipped_passes_report_boxes_in_the_photo_s_own_coordinates(net):
    x = torch.rand(1, 4, 30, 45)
    parts = {}
    out = _tiled(net, x, flip=(True, True), on_tile=lambda box, view: parts.__setitem__(box, view.clone()))
    for (y0, y1, x0, x1), part in parts.items():
        assert torch.equal(part, out[:, :, y0:y1, x0:x1])


@pytest.mark.parametrize("arch", [REDNet, SpaceToDepthREDNet])
def test_fast_nets_check_for_cancel_between_layers(arch):
    torch.manual_seed(0)
    module = arch(depth=10, width=8, cond_channels=1).eval()
    fast = (FastREDNet if arch is REDNet else FastSpaceToDepthREDNet)(module, CPU)
    calls = []
    fast(torch.rand(1, 4, 20, 20), check=lambda: calls.append(1))
    assert len(calls) == 9  # after every layer but the last of the 10


def test_cancel_stops_inside_a_tile_of_a_fast_net():
    torch.manual_seed(0)
    fast = FastREDNet(REDNet(depth=10, width=8, cond_channels=1).eval(), CPU)
    layers = []

    class CountingState(TaskState):
        def check(self):
            layers.append(1)
            if len(layers) == 4:  # Cancel pressed while the third layer of the only tile runs
                self.cancel()
            super().check()

    with pytest.raises(Cancelled), torch.inference_mode():
        run_tiled(fast, torch.rand(1, 4, 20, 20), tile=32, margin=10, out_channels=3, device=CPU, state=CountingState())
    assert len(layers) == 4  # the check before the tile, then after layers 1, 2 and 3


def _model(task="denoise"):
    torch.manual_seed(1)
    net = SpaceToDepthREDNet(depth=10, width=8, cond_channels=1).eval()
    d = ModelDescriptor(task=task, arch="rednet-s2d", depth=10, width=8, cond="sigma")
    return LoadedModel(net=net, descriptor=d)


def test_run_model_hands_numpy_tiles_and_ignores_progressive_for_the_ensemble():
    model = _model()
    x = np.random.default_rng(0).random((70, 90, 3), dtype=np.float32)
    seen = []
    p = Progressive(view_priority((0, 10, 0, 10)), lambda box, px: seen.append((box, px.copy())))
    out = run_model(model, x, tile=32, cond=0.1, progressive=p)
    assert np.array_equal(out, run_model(model, x, tile=32, cond=0.1))
    assert seen[0][0][0] == 0 and seen[0][0][2] == 0
    for (y0, y1, x0, x1), px in seen:
        assert px.shape == (y1 - y0, x1 - x0, 3) and np.array_equal(px, out[y0:y1, x0:x1])
    seen.clear()
    run_model(model, x, tile=32, cond=0.1, ensemble=True, progressive=p)
    assert seen == []


def test_restore_shows_tiles_in_result_pixels_and_its_result_is_unchanged():
    model = _model()
    photo = Photo(pixels=np.random.default_rng(2).random((60, 80, 3), dtype=np.float32))
    boxes = []
    progressive = Progressive(None, lambda box, px: boxes.append(box))
    shown = restore(photo, "denoise", sigma=10, model=model, tile=32, progressive=progressive)
    plain = restore(photo, "denoise", sigma=10, model=model, tile=32)
    assert np.array_equal(shown.pixels, plain.pixels)
    assert max(b[1] for b in boxes) == 60 and max(b[3] for b in boxes) == 80
