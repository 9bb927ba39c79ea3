import time

import numpy as np
import pytest

from rednet.tasks.degradations import add_gaussian_noise, bicubic_resize, quantize8
from rednet.tasks.noise_level import estimate_sigma
from tests.support.photos import smooth_photo

SIGMAS = (5, 10, 15, 25, 35, 50)


def _photo(name: str, long_side: int = 512) -> np.ndarray:
    pytest.importorskip("skimage")  # the public evaluation photos ship with scikit-image
    from rednet.evaluation.evalset import load_eval_photo

    return load_eval_photo(name, long_side)


def _upscaled(img: np.ndarray, factor: float) -> np.ndarray:
    h, w = img.shape[:2]
    return quantize8(bicubic_resize(img, (round(w * factor), round(h * factor))))


@pytest.mark.parametrize("sigma", [5, 15, 25, 50])
def test_estimate_recovers_the_noise_level_of_a_smooth_photo(sigma):
    clean = smooth_photo(128, 160)
    noisy = add_gaussian_noise(clean, sigma, np.random.default_rng(0), quantize=False, clip=False)
    assert abs(estimate_sigma(noisy) - sigma) < max(1.5, 0.08 * sigma)


def test_clean_photo_estimates_near_zero_and_tiny_images_do_not_crash():
    assert estimate_sigma(smooth_photo(64, 64)) < 1.0
    assert estimate_sigma(np.zeros((1, 1, 3), np.float32)) == 0.0
    assert estimate_sigma(smooth_photo(5, 9, 1)) >= 0.0
    assert estimate_sigma(np.zeros((64, 64, 3), np.float32)) == 0.0
    assert estimate_sigma(np.ones((64, 48), np.float32)) == 0.0


@pytest.mark.parametrize("name", ["astronaut", "camera", "coffee"])
def test_estimate_is_within_one_on_public_photos(name):
    """8-bit, clipped noise as in a file; astronaut's black sky clips much of it away."""
    clean = _photo(name)
    for sigma in SIGMAS:
        noisy = add_gaussian_noise(clean, sigma, np.random.default_rng([7, sigma]))
        assert abs(estimate_sigma(noisy) - sigma) <= 1.0, (name, sigma)


@pytest.mark.parametrize("factor", [1.5, 2.0])
def test_estimate_is_within_one_on_a_photo_upscaled_before_the_noise(factor):
    """A user read 21.7 for a true 25 on such a photo: smooth structure, white noise, black sky."""
    clean = _upscaled(_photo("astronaut"), factor)
    for sigma in (5, 25, 50):
        noisy = add_gaussian_noise(clean, sigma, np.random.default_rng([11, sigma]))
        assert abs(estimate_sigma(noisy) - sigma) <= 1.0, (factor, sigma)


def test_estimate_is_within_one_on_a_grey_photo_stored_as_rgb():
    """Channel-identical noise: the three channels are one measurement, not three."""
    grey = _upscaled(_photo("camera", 384), 1.5)
    for sigma in (5, 25, 50):
        noisy = np.repeat(add_gaussian_noise(grey, sigma, np.random.default_rng([13, sigma])), 3, axis=2)
        assert abs(estimate_sigma(noisy) - sigma) <= 1.0, sigma


def test_clean_public_photos_estimate_near_zero():
    for name in ("astronaut", "chelsea", "camera"):
        assert estimate_sigma(_photo(name)) < 1.5, name
    assert estimate_sigma(_upscaled(_photo("coffee"), 2.0)) < 1.5


def test_estimate_is_deterministic_and_accepts_2d_and_alpha():
    noisy = add_gaussian_noise(_photo("chelsea", 256), 20, np.random.default_rng(3))
    first = estimate_sigma(noisy)
    assert estimate_sigma(noisy.copy()) == first
    rgba = np.concatenate([noisy, np.ones_like(noisy[..., :1])], axis=2)
    assert estimate_sigma(rgba) == first
    assert abs(estimate_sigma(noisy[..., 1]) - 20) <= 1.0


def test_estimate_is_fast_on_a_12_megapixel_photo():
    tile = add_gaussian_noise(smooth_photo(750, 1000), 25, np.random.default_rng(0))
    noisy = np.tile(tile, (4, 4, 1))  # 3000 x 4000 x 3, cheap to build
    estimate_sigma(tile)  # warm-up
    start = time.perf_counter()
    sigma = estimate_sigma(noisy)
    elapsed = time.perf_counter() - start
    assert abs(sigma - 25) <= 1.0
    assert elapsed < 1.5, f"{elapsed:.2f} s for 12 MP"
