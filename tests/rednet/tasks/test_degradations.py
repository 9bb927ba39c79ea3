import numpy as np
import pytest

from rednet.tasks import degradations as deg
from tests.support.photos import smooth_photo


@pytest.fixture
def img():
    return smooth_photo(48, 64)


def test_noise_is_seeded_has_the_right_level_and_stays_8bit(img):
    a = deg.add_gaussian_noise(img, 25, np.random.default_rng(1), quantize=False, clip=False)
    b = deg.add_gaussian_noise(img, 25, np.random.default_rng(1), quantize=False, clip=False)
    assert np.array_equal(a, b) and a.dtype == np.float32 and a.shape == img.shape
    assert abs((a - img).std() * 255 - 25) < 1.5
    q = deg.add_gaussian_noise(img, 25, np.random.default_rng(1))
    assert q.min() >= 0 and q.max() <= 1 and np.allclose(q * 255, np.round(q * 255), atol=1e-4)


def test_sigma_zero_changes_nothing_but_quantisation(img):
    out = deg.add_gaussian_noise(deg.quantize8(img), 0, np.random.default_rng(0))
    assert np.array_equal(out, deg.quantize8(img))


@pytest.mark.parametrize("scale", [1.25, 2, 2.7, 3, 4])
def test_bicubic_degrade_keeps_shape_and_loses_detail(img, scale):
    out = deg.bicubic_degrade(img, scale)
    assert out.shape == img.shape and out.dtype == np.float32
    rough = np.random.default_rng(0).random(img.shape, dtype=np.float32)
    assert np.abs(deg.bicubic_degrade(rough, scale) - rough).mean() > 0.05


def test_bicubic_resize_non_integer_sizes(img):
    assert deg.bicubic_resize(img, (37, 21)).shape == (21, 37, 3)


@pytest.mark.parametrize("channels", [1, 3])
def test_jpeg_degrade_uses_a_real_encoder(channels):
    img = smooth_photo(40, 56, channels)
    low, high = deg.jpeg_degrade(img, 5), deg.jpeg_degrade(img, 90)
    assert low.shape == img.shape and low.dtype == np.float32
    assert np.abs(low - img).mean() > np.abs(high - img).mean()


def test_colour_jpeg_subsamples_chroma():
    # A one-pixel red/blue checker survives luma coding but not 4:2:0 chroma.
    img = np.zeros((16, 16, 3), np.float32)
    img[::2, ::2] = [1, 0, 0]
    img[1::2, 1::2] = [1, 0, 0]
    img[::2, 1::2] = [0, 0, 1]
    img[1::2, ::2] = [0, 0, 1]
    err_420 = np.abs(deg.jpeg_degrade(img, 90, "4:2:0") - img).mean()
    err_444 = np.abs(deg.jpeg_degrade(img, 90, "4:4:4") - img).mean()
    assert err_420 > 2 * err_444


@pytest.mark.parametrize("maker", [deg.text_mask, deg.scratch_mask, deg.stroke_mask, deg.random_mask])
def test_masks_are_seeded_boolean_and_non_trivial(maker):
    a = maker(96, 128, np.random.default_rng(3))
    b = maker(96, 128, np.random.default_rng(3))
    assert a.dtype == bool and a.shape == (96, 128) and np.array_equal(a, b)
    assert 0 < a.mean() < 0.6


def test_text_mask_is_dilated():
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    thin = deg.text_mask(64, 128, rng_a, words=3, dilate=0)
    thick = deg.text_mask(64, 128, rng_b, words=3, dilate=1)
    assert thick.sum() > thin.sum() and np.all(thick[thin])


def test_a_big_enlargement_is_made_in_strips_that_agree_with_one_resize(monkeypatch):
    from rednet.progress import Cancelled, TaskState

    monkeypatch.setattr(deg, "STRIP_PIXELS", 800 * 50)  # strips of 50 rows
    img = np.random.default_rng(0).random((150, 200, 3), dtype=np.float32)
    checks = []
    strips = deg.bicubic_enlarge(img, (800, 600), check=lambda: checks.append(1))
    assert len(checks) == 12
    assert float(np.abs(strips - deg.bicubic_resize(img, (800, 600))).max()) < 1e-5
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        deg.bicubic_enlarge(img, (800, 600), check=state.check)
