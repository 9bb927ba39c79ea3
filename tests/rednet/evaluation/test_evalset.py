"""The public evaluation photos (scikit-image's bundled samples)."""

from __future__ import annotations

import numpy as np
import pytest

from rednet.evaluation.evalset import EVAL_PHOTOS, is_colour, load_eval_photo, load_eval_set

pytest.importorskip("skimage")


def _is_8bit(x: np.ndarray) -> bool:
    return bool(np.abs(x * 255.0 - np.round(x * 255.0)).max() < 1e-3)


def test_eval_set_shapes_dtype_range_and_quantisation():
    photos = load_eval_set(long_side=512)
    assert tuple(photos) == EVAL_PHOTOS
    for name, x in photos.items():
        assert x.dtype == np.float32, name
        assert x.ndim == 3 and x.shape[2] == (3 if is_colour(name) else 1), (name, x.shape)
        assert max(x.shape[:2]) <= 512, name
        assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > x.min(), name
        assert _is_8bit(x), name
    # Larger photos are downscaled to exactly 512, keeping the aspect ratio (no crop) ...
    assert photos["motorcycle_left"].shape == (345, 512, 3)  # 500x741 in scikit-image
    assert photos["coffee"].shape == (341, 512, 3)  # 400x600
    # ... smaller ones are never upscaled.
    assert photos["chelsea"].shape == (300, 451, 3)
    assert photos["camera"].shape == (512, 512, 1)


def test_long_side_gray_vs_colour_and_errors():
    x = load_eval_photo("rocket", long_side=200)
    assert max(x.shape[:2]) == 200 and x.shape == (133, 200, 3)
    assert _is_8bit(x)
    g = load_eval_photo("gravel", long_side=128)
    assert g.shape == (128, 128, 1) and _is_8bit(g)
    assert [n for n in EVAL_PHOTOS if is_colour(n)] == [
        "astronaut",
        "coffee",
        "chelsea",
        "rocket",
        "motorcycle_left",
    ]
    # Returned arrays are fresh copies: editing one does not leak into the next call.
    x[:] = 0
    assert load_eval_photo("rocket", long_side=200).max() > 0
    with pytest.raises(ValueError):
        load_eval_photo("lena")
    with pytest.raises(ValueError):
        is_colour("horse")
    with pytest.raises(ValueError):
        load_eval_photo("camera", long_side=0)
