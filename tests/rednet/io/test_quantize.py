"""`quantize` and `float_to_unit` without full-size copies: the same values as the plain formula,
NaN and infinities still mapped (NaN and -inf to 0, +inf to the top), the input never touched."""

from __future__ import annotations

import numpy as np
import pytest

from rednet.io import Photo, read_photo, write_photo
from rednet.io.photo import float_to_unit, quantize

SPECIALS = np.array([np.nan, np.inf, -np.inf, -0.5, 0.0, 0.5, 1.0, 1.5, 1e30, -1e30], np.float32)


def reference(values: np.ndarray, bits: int) -> np.ndarray:
    """The formula quantize kept before it went strip by strip."""
    top = 255.0 if bits == 8 else 65535.0
    out = np.nan_to_num(np.asarray(values, np.float32), copy=True, nan=0.0, posinf=1.0, neginf=0.0)
    out = np.clip(out * np.float32(top) + np.float32(0.5), 0.0, top)
    return out.astype(np.uint8 if bits == 8 else np.uint16)


@pytest.mark.parametrize("bits", [8, 16])
def test_specials_map_as_before(bits):
    top = 255 if bits == 8 else 65535
    out = quantize(SPECIALS, bits)
    assert out.dtype == (np.uint8 if bits == 8 else np.uint16)
    assert out.tolist() == [0, top, 0, 0, 0, round(top / 2 + 0.01), top, top, top, 0]
    assert np.array_equal(out, reference(SPECIALS, bits))


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("shape", [(7, 5, 3), (300, 1000, 3), (301, 997, 1), (5, 4), (1, 1, 3)])
def test_same_values_as_the_formula_over_several_strips(bits, shape):
    rng = np.random.default_rng(sum(shape))
    values = rng.uniform(-0.1, 1.1, shape).astype(np.float32)
    values.flat[::97] = np.nan
    values.flat[1::89] = np.inf
    values.flat[2::83] = -np.inf
    before = values.copy()
    out = quantize(values, bits)
    assert np.array_equal(out, reference(values, bits))
    assert np.array_equal(values, before, equal_nan=True)  # the photo's own pixels are never touched


def test_round_half_up_at_every_8_bit_level():
    levels = np.arange(256, dtype=np.float32) / 255
    assert np.array_equal(quantize(levels, 8), np.arange(256))


def test_quantize_fills_a_view_of_a_larger_array():
    values = np.random.default_rng(1).random((40, 30, 3)).astype(np.float32)
    out = np.zeros((40, 30, 4), np.uint8)
    quantize(values, 8, out=out[:, :, :3])
    assert np.array_equal(out[:, :, :3], reference(values, 8)) and not out[:, :, 3].any()


def test_quantize_takes_other_dtypes():
    assert quantize(np.array([0.0, 0.5, 1.0]), 8).tolist() == [0, 128, 255]  # float64
    assert quantize(np.array([0, 1]), 16).tolist() == [0, 65535]  # integers


def test_float_to_unit_maps_specials_and_copies():
    arr = SPECIALS.reshape(2, 5)
    before = arr.copy()
    out = float_to_unit(arr)
    assert out.shape == (2, 5, 1) and out.dtype == np.float32
    assert out.ravel().tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 0.0]
    assert np.array_equal(arr, before, equal_nan=True)
    assert not np.shares_memory(float_to_unit(out), out)  # a new array even when already float32


@pytest.mark.parametrize("suffix, bits", [(".png", 8), (".png", 16), (".tif", 16), (".jpg", 8)])
def test_nan_and_infinities_are_written_as_0_and_the_top(tmp_path, suffix, bits):
    pixels = np.zeros((8, 8, 3), np.float32)
    pixels[0, 0] = np.nan
    pixels[0, 1] = np.inf
    pixels[0, 2] = -np.inf
    pixels[4:, 4:] = 1.0  # so that JPEG's blocks do not blur the three pixels into each other much
    path = tmp_path / f"out{suffix}"
    write_photo(Photo(pixels=pixels, bit_depth=bits), path)
    back = read_photo(path).pixels
    tolerance = 0.1 if suffix == ".jpg" else 0.0
    assert np.allclose(back[0, 0], 0.0, atol=tolerance) and np.allclose(back[0, 2], 0.0, atol=tolerance)
    if suffix != ".jpg":
        assert np.array_equal(back[0, 1], [1.0, 1.0, 1.0])


def test_nan_alpha_is_transparent_when_composited_over_white(tmp_path):
    pixels = np.zeros((4, 4, 3), np.float32)
    alpha = np.ones((4, 4), np.float32)
    alpha[0, 0], alpha[0, 1] = np.nan, np.inf
    write_photo(Photo(pixels=pixels, alpha=alpha), tmp_path / "out.bmp")
    back = read_photo(tmp_path / "out.bmp").pixels
    assert back[0, 0].tolist() == [1.0, 1.0, 1.0]  # NaN alpha counts as 0: white shows
    assert back[0, 1].tolist() == [0.0, 0.0, 0.0] and back[1, 1].tolist() == [0.0, 0.0, 0.0]
