import numpy as np
import pytest

from rednet.degradations import add_gaussian_noise
from rednet.noise_level import estimate_sigma
from tests.conftest import smooth_photo


@pytest.mark.parametrize("sigma", [5, 15, 25, 50])
def test_estimate_recovers_the_noise_level_of_a_smooth_photo(sigma):
    clean = smooth_photo(128, 160)
    noisy = add_gaussian_noise(clean, sigma, np.random.default_rng(0), quantize=False, clip=False)
    assert abs(estimate_sigma(noisy) - sigma) < max(1.5, 0.08 * sigma)


def test_clean_photo_estimates_near_zero_and_tiny_images_do_not_crash():
    assert estimate_sigma(smooth_photo(64, 64)) < 1.0
    assert estimate_sigma(np.zeros((1, 1, 3), np.float32)) == 0.0
    assert estimate_sigma(smooth_photo(5, 9, 1)) >= 0.0
