"""Each shipped model improves on its degraded input (and on the cheap classical fix) on a small crop.

A guard against shipping a broken or untrained file: the margins are far below what `rednet eval`
measures on the full photos, and far above what an identity or a damaged network would reach.
"""

import numpy as np
import pytest

from rednet.engine.restore import restore
from rednet.evaluation.evalset import load_eval_photo
from rednet.evaluation.metrics import psnr, rgb_to_y
from rednet.evaluation.peers import opencv_inpaint_peer
from rednet.evaluation.protocol import eval_input_photo
from rednet.models.registry import default_model
from rednet.tasks import degradations as deg


@pytest.fixture(scope="module")
def crop():
    # Fur, grass and a face: a crop of chelsea (colour) at long side 256.
    return load_eval_photo("chelsea", 256)[40:136, 60:156]


@pytest.fixture(scope="module")
def gray_crop():
    return load_eval_photo("camera", 256)[32:128, 64:160]


@pytest.mark.parametrize("sigma,gain", [(15, 3.0), (50, 7.0)])
def test_denoiser_beats_its_noisy_input_in_colour_and_gray(crop, gray_crop, sigma, gain):
    model = default_model("denoise")
    for clean in (crop, gray_crop):
        noisy = deg.add_gaussian_noise(clean, sigma, np.random.default_rng(sigma))
        out = restore(eval_input_photo(noisy), "denoise", sigma=sigma, model=model).pixels
        assert out.shape == clean.shape
        assert psnr(clean, out) > psnr(clean, noisy) + gain


def test_super_resolution_beats_bicubic(crop):
    lr = deg.quantize8(deg.bicubic_resize(crop, (32, 32)))
    bicubic = deg.quantize8(deg.bicubic_resize(lr, (96, 96)))
    out = restore(eval_input_photo(lr), "sr", scale=3, model=default_model("sr")).pixels
    assert psnr(rgb_to_y(crop), rgb_to_y(out), 3) > psnr(rgb_to_y(crop), rgb_to_y(bicubic), 3) + 0.2


def test_jpeg_model_beats_the_jpeg(crop):
    decoded = deg.jpeg_degrade(crop, 15)
    out = restore(eval_input_photo(decoded, jpeg_quality=15), "jpeg", model=default_model("jpeg")).pixels
    assert psnr(crop, out) > psnr(crop, decoded) + 0.15


def test_inpainting_beats_opencv_telea(crop):
    mask = deg.text_mask(96, 96, np.random.default_rng(3), size_range=(14, 20), words=4, dilate=1)
    holed = np.where(mask[..., None], 1.0, crop).astype(np.float32)
    out = restore(eval_input_photo(holed), "inpaint", mask=mask, model=default_model("inpaint")).pixels
    assert np.array_equal(out[~mask], holed[~mask])  # only the masked pixels change
    assert psnr(crop, out) > psnr(crop, opencv_inpaint_peer(holed, mask, "telea"))
