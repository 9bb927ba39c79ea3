import pytest
import torch

from rednet.models.arch import REDNet


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_red30_width64_rgb_has_about_1_04m_parameters():
    assert n_params(REDNet(depth=30, width=64)) == 1_037_507


def test_red30_skips_mirror_every_second_layer_as_released():
    # conv14 -> deconv1, conv12 -> deconv3, ..., conv2 -> deconv13
    assert REDNet(depth=30).skip_from == {1: 14, 3: 12, 5: 10, 7: 8, 9: 6, 11: 4, 13: 2}


def test_red10_has_no_skips_and_red20_does():
    assert REDNet(depth=10).skip_from == {}
    assert REDNet(depth=20).skip_from == {1: 9, 3: 7, 5: 5, 7: 3, 9: 1}


@pytest.mark.parametrize("h,w", [(101, 67), (1, 1), (7, 50), (33, 2)])
def test_any_size_in_gives_the_same_size_out(h, w):
    net = REDNet(depth=10, width=8, cond_channels=1)
    assert net(torch.rand(2, 4, h, w)).shape == (2, 3, h, w)


def test_all_layers_are_3x3_stride_1():
    net = REDNet(depth=20, width=16)
    for layer in list(net.convs) + list(net.deconvs):
        assert layer.kernel_size == (3, 3) and layer.stride == (1, 1) and layer.padding == (1, 1)
    assert all(isinstance(d, torch.nn.ConvTranspose2d) for d in net.deconvs)


def test_global_residual_zero_last_layer_gives_identity():
    net = REDNet(depth=10, width=8, cond_channels=1)
    torch.nn.init.zeros_(net.deconvs[-1].weight)
    torch.nn.init.zeros_(net.deconvs[-1].bias)
    x = torch.rand(1, 4, 20, 30)
    assert torch.equal(net(x), x[:, :3])


def test_skip_wiring_changes_the_output():
    torch.manual_seed(0)
    with_skips = REDNet(depth=20, width=8)
    without = REDNet(depth=20, width=8, skips=False)
    without.load_state_dict(with_skips.state_dict())
    x = torch.rand(1, 3, 16, 16)
    assert not torch.allclose(with_skips(x), without(x))


def test_receptive_field_matches_measured_influence():
    torch.manual_seed(0)
    net = REDNet(depth=10, width=8).double()
    x = torch.zeros(1, 3, 41, 41, dtype=torch.float64, requires_grad=True)
    net(x)[0, :, 20, 20].sum().backward()
    touched = (x.grad.abs().sum(dim=(0, 1)) > 0).nonzero()
    span = int(touched[:, 0].max() - touched[:, 0].min()) + 1
    assert span == net.receptive_field == 21


def test_odd_depth_is_refused():
    with pytest.raises(ValueError):
        REDNet(depth=15)
