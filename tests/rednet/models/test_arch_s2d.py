"""The space-to-depth RED-Net: shapes, odd sizes, its residual, receptive field, and exact tiling."""

import numpy as np
import pytest
import torch

from rednet.engine import inference
from rednet.engine.tiling import run_tiled, tile_grid
from rednet.models.arch import SpaceToDepthREDNet, from_blocks, to_blocks
from rednet.models.registry import LoadedModel, build_network, descriptor_for_task, load_model, save_model


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def _live(net):
    """Random weights large enough that every layer and skip visibly matters (the default init of a
    deep chain is near zero by the last layer)."""
    torch.manual_seed(0)
    for p in net.parameters():
        p.data.uniform_(-0.1, 0.1)
    return net.eval()


def test_parameter_counts_match_the_measured_candidates():
    # 16 channels in (3 colours + 1 map, folded 2x2), 12 out: RED20-64 0.68M, RED30-64 1.05M.
    assert n_params(SpaceToDepthREDNet(depth=20, width=64, cond_channels=1)) == 680_908
    assert n_params(SpaceToDepthREDNet(depth=30, width=64, cond_channels=1)) == 1_050_188


@pytest.mark.parametrize("h,w", [(101, 67), (1, 1), (7, 50), (33, 2), (2, 1), (64, 64)])
def test_any_size_in_gives_the_same_size_out(h, w):
    net = SpaceToDepthREDNet(depth=4, width=8, cond_channels=1)
    assert net(torch.rand(2, 4, h, w)).shape == (2, 3, h, w)


def test_blocks_round_trip_and_put_the_colours_first():
    x = torch.rand(1, 4, 9, 12)
    blocks = to_blocks(x)
    assert blocks.shape == (1, 16, 5, 6)
    assert torch.equal(from_blocks(blocks, 9, 12), x)
    assert torch.equal(from_blocks(blocks[:, :12], 9, 12), x[:, :3])  # the residual is the colours


def test_zero_output_layer_gives_the_identity_on_odd_sizes():
    net = SpaceToDepthREDNet(depth=4, width=8, cond_channels=1)
    torch.nn.init.zeros_(net.output_layer.weight)
    torch.nn.init.zeros_(net.output_layer.bias)
    x = torch.rand(1, 4, 21, 30)
    assert torch.equal(net(x), x[:, :3])


def test_receptive_field_covers_the_measured_influence():
    net = _live(SpaceToDepthREDNet(depth=4, width=8).double())
    x = torch.zeros(1, 3, 41, 41, dtype=torch.float64, requires_grad=True)
    net(x)[0, :, 20, 20].sum().backward()
    rows = (x.grad.abs().sum(dim=(0, 1, 3)) > 0).nonzero()[:, 0]
    reach = max(20 - int(rows.min()), int(rows.max()) - 20)
    assert reach == net.receptive_radius == 9  # 2 x depth + the other pixel of its block


def test_descriptor_margin_is_whole_blocks_covering_the_radius():
    d = descriptor_for_task("denoise", arch="rednet-s2d", depth=20, width=64)
    assert (d.block, d.receptive_radius, d.margin, d.receptive_field) == (2, 41, 42, 83)
    faithful = descriptor_for_task("denoise", depth=20, width=64)
    assert (faithful.block, faithful.margin, faithful.receptive_field) == (1, 20, 41)


def test_aligned_grid_starts_every_tile_on_the_block_grid():
    spans = tile_grid(101, 17, align=2)
    assert spans[0][0] == 0 and spans[-1][1] == 101
    assert all(a[1] == b[0] and b[0] % 2 == 0 for a, b in zip(spans, spans[1:]))


def _model(depth=4, width=8, task="denoise") -> LoadedModel:
    d = descriptor_for_task(task, arch="rednet-s2d", depth=depth, width=width)
    return LoadedModel(net=_live(build_network(d)), descriptor=d)


@pytest.mark.parametrize("h,w,tile", [(67, 101, 24), (50, 37, 9), (31, 90, 64), (1, 1, 64)])
def test_tiled_equals_the_whole_image_on_odd_sizes(h, w, tile):
    model = _model()
    rgb = np.random.default_rng(0).random((h, w, 3), dtype=np.float32)
    whole_in = torch.from_numpy(np.concatenate([rgb, np.full((h, w, 1), 0.2, np.float32)], 2)).permute(2, 0, 1)
    with torch.inference_mode():
        whole = model.net(whole_in[None])[0].permute(1, 2, 0).numpy()
    tiled = inference.run_model(model, rgb, tile=tile, precision="fp32", cond=0.2)
    assert tiled.shape == (h, w, 3)
    assert float(np.abs(tiled - rgb).mean()) > 1e-3  # the network does something
    assert float(np.abs(tiled - whole).max()) < 1e-5


def test_unaligned_tiles_would_show_seams():
    model = _model()
    x = torch.rand(1, 4, 40, 81)
    fast = inference.FastSpaceToDepthREDNet(model.net, torch.device("cpu"))
    with torch.inference_mode():
        whole = model.net(x)
        shifted = run_tiled(
            fast, x, tile=15, margin=model.descriptor.margin + 1, out_channels=3, device=torch.device("cpu")
        )
        aligned = run_tiled(
            fast, x, tile=15, margin=model.descriptor.margin, align=2, out_channels=3, device=torch.device("cpu")
        )
    assert float((shifted - whole).abs().max()) > 1e-3
    assert float((aligned - whole).abs().max()) < 1e-5


def test_fast_path_equals_the_module_in_fp32_and_bf16():
    model = _model(depth=10)
    x = torch.rand(1, 4, 29, 41)
    fast = inference.FastSpaceToDepthREDNet(model.net, torch.device("cpu"))
    with torch.inference_mode():
        ref = model.net(x)
        assert float((fast(x) - ref).abs().max()) < 1e-5
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf = fast(x)
    assert float((bf.float() - ref).abs().max()) < 0.05


def test_saves_and_loads_through_the_registry(tmp_path):
    model = _model(task="jpeg")
    path = save_model(model.net, model.descriptor, tmp_path / "s2d.safetensors", card={"summary": "s2d"})
    loaded = load_model(path, task="jpeg")
    assert loaded.descriptor.arch == "rednet-s2d" and isinstance(loaded.net, SpaceToDepthREDNet)
    x = torch.rand(1, 4, 13, 17)
    with torch.inference_mode():
        assert torch.equal(loaded.net(x), model.net(x))
