"""Property-based tests (Hypothesis) of the pure functions: tiling, degradations, image I/O round trips.

Kept small (25 examples each, tiny arrays) so the whole file runs in a few seconds; set
REDNET_HYPOTHESIS_EXAMPLES=500 for a deeper search.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from rednet.engine.tiling import run_tiled, tile_grid
from rednet.io import Photo, read_photo, write_photo
from rednet.models.arch import REDNet
from rednet.tasks import degradations as deg

SETTINGS = settings(
    max_examples=int(os.environ.get("REDNET_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# ------------------------------------------------------------------------------------------------
# tiling
# ------------------------------------------------------------------------------------------------
@SETTINGS
@given(length=st.integers(1, 5000), tile=st.integers(1, 700))
def test_tile_grid_covers_the_range_exactly_once(length, tile):
    spans = tile_grid(length, tile)
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # contiguous: no gap, no overlap
    sizes = [b - a for a, b in spans]
    assert min(sizes) >= 1 and max(sizes) <= tile
    assert max(sizes) - min(sizes) <= 1  # near-equal: no sliver at the end
    assert len(spans) == -(-length // tile)  # as few tiles as the tile size allows


_NETS: dict[tuple[int, int], REDNet] = {}


def _net(depth: int, cond: int) -> REDNet:
    if (depth, cond) not in _NETS:
        torch.manual_seed(depth * 10 + cond)
        net = REDNet(depth=depth, width=4, cond_channels=cond, skips=depth >= 6).double().eval()
        with torch.no_grad():  # larger weights than the default init: errors would show
            for p in net.parameters():
                p.mul_(2.0)
        _NETS[(depth, cond)] = net
    return _NETS[(depth, cond)]


@SETTINGS
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    tile=st.integers(1, 48),
    depth=st.sampled_from([4, 6]),
    cond=st.sampled_from([0, 1]),
    seed=st.integers(0, 2**16),
)
def test_tiled_inference_equals_whole_image_inference(h, w, tile, depth, cond, seed):
    net = _net(depth, cond)
    x = torch.from_numpy(np.random.default_rng(seed).random((1, 3 + cond, h, w)))  # float64
    with torch.inference_mode():
        whole = net(x)
        tiled = run_tiled(net, x, tile=tile, margin=depth, out_channels=3, device=torch.device("cpu"))
    assert tiled.shape == (1, 3, h, w)
    assert float((tiled.double() - whole).abs().max()) < 1e-6  # exact up to the float32 output


# ------------------------------------------------------------------------------------------------
# degradations
# ------------------------------------------------------------------------------------------------
def _image(h: int, w: int, c: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, c), dtype=np.float32)


sizes = st.integers(1, 48)
channels = st.sampled_from([1, 3])
seeds = st.integers(0, 2**16)


@SETTINGS
@given(h=sizes, w=sizes, c=channels, sigma=st.floats(0, 75), seed=seeds, quantize=st.booleans())
def test_noise_keeps_shape_dtype_and_range(h, w, c, sigma, seed, quantize):
    img = _image(h, w, c, seed)
    out = deg.add_gaussian_noise(img, sigma, np.random.default_rng(seed), quantize=quantize)
    assert out.shape == img.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    if quantize:  # on the 8-bit grid, as a photo on disk
        assert np.allclose(out * 255, np.round(out * 255), atol=1e-3)


@SETTINGS
@given(h=sizes, w=sizes, c=channels, scale=st.floats(1.0, 4.0), seed=seeds, quantize=st.booleans())
def test_bicubic_degrade_keeps_shape_dtype_and_range_at_any_scale(h, w, c, scale, seed, quantize):
    img = _image(h, w, c, seed)
    out = deg.bicubic_degrade(img, scale, quantize=quantize)
    assert out.shape == img.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


@SETTINGS
@given(h=sizes, w=sizes, c=channels, tw=st.integers(1, 64), th=st.integers(1, 64), seed=seeds)
def test_bicubic_resize_gives_the_asked_size(h, w, c, tw, th, seed):
    out = deg.bicubic_resize(_image(h, w, c, seed), (tw, th))
    assert out.shape == (th, tw, c) and out.dtype == np.float32 and np.isfinite(out).all()


@SETTINGS
@given(
    h=sizes,
    w=sizes,
    c=channels,
    quality=st.integers(1, 100),
    seed=seeds,
    subsampling=st.sampled_from(["4:2:0", "4:4:4"]),
)
def test_jpeg_degrade_keeps_shape_dtype_and_range(h, w, c, quality, seed, subsampling):
    img = _image(h, w, c, seed)
    out = deg.jpeg_degrade(img, quality, subsampling=subsampling)
    assert out.shape == img.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


@SETTINGS
@given(
    h=st.integers(1, 64),
    w=st.integers(1, 64),
    seed=seeds,
    maker=st.sampled_from(["text", "scratch", "stroke", "random"]),
)
def test_masks_are_boolean_of_the_asked_size(h, w, seed, maker):
    make = {"text": deg.text_mask, "scratch": deg.scratch_mask, "stroke": deg.stroke_mask, "random": deg.random_mask}[
        maker
    ]
    mask = make(h, w, np.random.default_rng(seed))
    assert mask.shape == (h, w) and mask.dtype == bool
    if maker == "random":
        assert mask.any()  # never empty: there is always something to fill
    again = make(h, w, np.random.default_rng(seed))
    assert np.array_equal(mask, again)  # seeded


# ------------------------------------------------------------------------------------------------
# image I/O round trips
# ------------------------------------------------------------------------------------------------
def _exif(make: str, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = "2024:01:02 03:04:05"
    return exif.tobytes()


def _fake_icc(payload: bytes, gray: bool) -> bytes:
    """Bytes with an ICC header's size and colour-space fields (the writer checks the colour space)."""
    body = bytearray(128 + len(payload))
    body[0:4] = len(body).to_bytes(4, "big")
    body[16:20] = b"GRAY" if gray else b"RGB "
    body[36:40] = b"acsp"
    body[128:] = payload
    return bytes(body)


def _parsed(exif: bytes) -> dict:
    e = Image.Exif()
    e.load(exif)
    return {**dict(e), **{f"exif.{k}": v for k, v in e.get_ifd(0x8769).items()}}


@SETTINGS
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    gray=st.booleans(),
    alpha=st.booleans(),
    bits=st.sampled_from([8, 16]),
    ext=st.sampled_from([".png", ".tif"]),
    seed=seeds,
    make=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=20),
    icc_payload=st.binary(min_size=0, max_size=64),
    with_meta=st.booleans(),
)
def test_write_then_read_keeps_pixels_mode_depth_and_metadata(
    h, w, gray, alpha, bits, ext, seed, make, icc_payload, with_meta
):
    rng = np.random.default_rng(seed)
    top = 255 if bits == 8 else 65535
    ints = rng.integers(0, top + 1, (h, w, 1 if gray else 3))
    a_ints = rng.integers(0, top + 1, (h, w)) if alpha else None
    exif = _exif(make, 1) if with_meta else None
    icc = _fake_icc(icc_payload, gray) if with_meta else None
    photo = Photo(pixels=ints / top, alpha=None if a_ints is None else a_ints / top, bit_depth=bits, exif=exif, icc=icc)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"round trip{ext}"
        warnings = write_photo(photo, path)
        back = read_photo(path)
    assert back.bit_depth == bits and (back.width, back.height) == (w, h)
    got = np.round(back.pixels * top).astype(np.int64)
    if ext == ".tif" and bits == 16 and gray and alpha:  # documented: saved as 16-bit RGBA
        assert warnings and not back.is_gray and np.array_equal(got, np.repeat(ints, 3, axis=2))
    else:
        assert back.is_gray == gray and np.array_equal(got, ints)
    if alpha:
        assert back.alpha is not None and np.array_equal(np.round(back.alpha * top).astype(np.int64), a_ints)
    else:
        assert back.alpha is None
    if with_meta:
        assert _parsed(back.exif) == _parsed(exif)  # every tag, the EXIF sub-directory too
        if ext == ".png":
            assert back.exif == exif  # PNG carries the block byte for byte
        if not (ext == ".tif" and bits == 16 and gray and alpha):
            assert back.icc == icc
    else:
        assert back.exif is None and back.icc is None


@SETTINGS
@given(h=st.integers(1, 10), w=st.integers(1, 10), orientation=st.integers(1, 8), seed=seeds)
def test_orientation_is_applied_once_and_reset(h, w, orientation, seed):
    """A PNG stored with any EXIF orientation reads upright (as Pillow's exif_transpose) with orientation 1."""
    from PIL import ImageOps

    ints = np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "o.png"
        Image.fromarray(ints).save(path, exif=_exif("cam", orientation))
        back = read_photo(path)
        with Image.open(path) as im:
            upright = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    assert np.array_equal(np.round(back.pixels * 255).astype(np.uint8), upright)
    assert _parsed(back.exif)[0x0112] == 1
