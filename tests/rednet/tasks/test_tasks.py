import numpy as np
import pytest

from rednet.tasks import inputs as T
from tests.support.photos import smooth_photo


@pytest.mark.parametrize("task,channels", [("denoise", 4), ("sr", 3), ("jpeg", 4), ("inpaint", 4)])
def test_training_pairs_have_the_network_layout(task, channels):
    clean = smooth_photo(64, 64)
    x, y = T.training_pair(task, clean, np.random.default_rng(0), patch=48)
    assert x.shape == (48, 48, channels) and y.shape == (48, 48, 3)
    assert x.dtype == np.float32 and y.dtype == np.float32


def test_condition_maps_carry_sigma_and_quality():
    img = smooth_photo(8, 8)
    assert np.allclose(T.network_input("denoise", img, sigma=51)[..., 3], 0.2)
    assert np.allclose(T.network_input("jpeg", img, quality=30)[..., 3], 0.3)
    assert np.allclose(T.network_input("jpeg", img, quality=None)[..., 3], 0.0)
    assert np.allclose(T.network_input("jpeg", img, quality=99)[..., 3], 0.9)  # clamped to the trained range


def test_inpaint_input_prefills_only_the_hole():
    img = smooth_photo(32, 32)
    mask = np.zeros((32, 32), bool)
    mask[10:14, 5:25] = True
    holed = np.where(mask[..., None], 0.0, img).astype(np.float32)
    x = T.network_input("inpaint", holed, mask=mask)
    assert np.array_equal(x[~mask, :3], holed[~mask])
    assert np.abs(x[mask, :3] - img[mask]).mean() < 0.1  # Telea is a fair first guess on a smooth photo
    assert np.array_equal(x[..., 3] > 0.5, mask)


@pytest.mark.parametrize("task", ["denoise", "jpeg"])
def test_some_training_pairs_are_gray_with_identical_channels(task):
    rng = np.random.default_rng(0)
    pairs = [T.training_pair(task, smooth_photo(64, 64), rng, patch=48) for _ in range(40)]
    gray = [x for x, y in pairs if np.array_equal(y[..., 0], y[..., 1])]
    assert 2 <= len(gray) <= 20
    assert all(np.array_equal(x[..., 0], x[..., 2]) for x in gray)  # the corruption is gray too
