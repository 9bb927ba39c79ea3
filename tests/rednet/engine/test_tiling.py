import pytest
import torch

from rednet.engine.tiling import run_tiled, tile_grid
from rednet.models.arch import REDNet
from rednet.progress import Cancelled, TaskState


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return REDNet(depth=10, width=8, cond_channels=1).eval()


def _whole(net, x):
    with torch.inference_mode():
        return net(x)


@pytest.mark.parametrize("h,w,tile", [(67, 101, 32), (50, 50, 17), (31, 90, 64), (20, 21, 5)])
def test_tiled_output_equals_whole_image_output(net, h, w, tile):
    x = torch.rand(1, 4, h, w)
    with torch.inference_mode():
        tiled = run_tiled(net, x, tile=tile, margin=net.depth, out_channels=3, device=torch.device("cpu"))
    assert tiled.shape == (1, 3, h, w)
    assert float((tiled - _whole(net, x)).abs().max()) < 1e-3


def test_too_small_a_margin_would_show_seams(net):
    x = torch.rand(1, 4, 40, 80)
    with torch.inference_mode():
        tiled = run_tiled(net, x, tile=16, margin=2, out_channels=3, device=torch.device("cpu"))
    assert float((tiled - _whole(net, x)).abs().max()) > 1e-3


def test_grid_covers_every_pixel_once_without_slivers():
    spans = tile_grid(1000, 384)
    assert spans[0][0] == 0 and spans[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert max(e - s for s, e in spans) <= 384 and min(e - s for s, e in spans) > 300


def test_progress_is_reported_per_tile_and_cancel_stops_between_tiles(net):
    seen = []
    state = TaskState(lambda p: (seen.append(p.fraction), state.cancel() if len(seen) == 2 else None))
    with pytest.raises(Cancelled), torch.inference_mode():
        run_tiled(
            net, torch.rand(1, 4, 64, 64), tile=16, margin=10, out_channels=3, device=torch.device("cpu"), state=state
        )
    assert seen == [1 / 16, 2 / 16]


def test_bf16_autocast_stays_close(net):
    x = torch.rand(1, 4, 40, 40)
    with torch.inference_mode():
        bf = run_tiled(
            net,
            x,
            tile=20,
            margin=10,
            out_channels=3,
            device=torch.device("cpu"),
            dtype=torch.bfloat16,
            channels_last=True,
        )
    assert float((bf - _whole(net, x)).abs().max()) < 0.05
