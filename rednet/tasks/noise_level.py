"""Estimating a photo's noise level, so denoising works without the user knowing sigma.

Method (numpy only, deterministic; 0.2-0.3 s on a 12-megapixel photo, as it reads at most
_MAX_BLOCKS blocks):

1. The photo is cut into 8x8 blocks (a regular subset of them on large photos) and each block
   goes through the orthonormal 2-D DCT. Identical channels (a grey photo stored as RGB) are
   used once; colour channels are pooled.
2. Under white Gaussian noise every DCT coefficient has variance sigma^2, independently of the
   others. The noise is *measured* on the 10 highest-frequency coefficients (u + v >= 11), where
   photos, above all upscaled ones, have little structure; the other 53 AC coefficients only
   *select* flat blocks (mean energy under 1.5x the noise level). The two sets are independent,
   so the selection, however strict, does not bias the measurement downwards, and the iteration
   climbs from the flattest blocks to the smallest consistent noise level. Blocks whose measured
   energy exceeds 2x the noise level are trimmed (texture or edges that the selection missed),
   with the exact chi-square correction for the trimmed tail.
3. A file's values are clipped to 0..1, so near black or white part of the noise is clipped
   away; that is what made the old estimator read 21.7 for a true 25 on a photo with a black
   background (astronaut, upscaled x1.5). Each block's clipped-noise variance is modelled from
   its observed mean (a censored Gaussian, inverted for the mean shift that clipping causes,
   with a second-order correction for the noise of the block mean itself), and sigma is fitted
   by weighted least squares over the kept blocks, each weighted by what it says about sigma
   (Gaussian maximum likelihood: blocks deep in a clipped area say little). Blocks whose mean is
   within sigma / 4 of black or white are not used.
4. 8-bit quantisation adds 1/12 LSB^2 of variance; it is subtracted when the input is on the
   8-bit grid.

Limits: fine texture that is as strong as the noise in the highest frequencies reads as noise
(the 512-pixel `grass` photo reads up to ~1.5 too high at sigma 25-50); noise that a JPEG encoder
later removed cannot be measured. Photos under 8 pixels use the old estimator (Donoho's MAD on
the Haar HH band). Measured by scripts/measure_noise_estimate.py.
"""

from __future__ import annotations

import math

import numpy as np

_B = 8  # block size
_MAX_BLOCKS = 32768  # blocks used at most (all channels together); a regular subset beyond
_SELECT = 1.5  # flat block: mean selection-coefficient energy < _SELECT x noise level
_TRIM = 2.0  # kept block: mean noise-coefficient energy < _TRIM x noise level
_MIN_FRACTION = 0.02  # at least this share of the blocks (and 64) is always used
_ITERATIONS = 12
_BINS = 128  # histogram of block means for the clipping model


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)
    c = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * math.sqrt(2.0 / n)
    c[0] /= math.sqrt(2.0)
    return c


_D = _dct_matrix(_B)
_DCT2 = np.kron(_D, _D).T.astype(np.float32)  # (64, 64): flattened block @ _DCT2 = 2-D DCT
_U, _V = np.divmod(np.arange(_B * _B), _B)
_NOISE = (_U + _V) >= 11  # the 10 highest-frequency coefficients
_SELECTION = ~_NOISE
_SELECTION[0] = False  # the 53 other AC coefficients
_K = int(_NOISE.sum())


def _gammainc_lower(a: float, x: float) -> float:
    """Regularised lower incomplete gamma function P(a, x) (series; fine for moderate x)."""
    if x <= 0.0:
        return 0.0
    term = 1.0 / a
    total = term
    n = 0
    while term > 1e-15 * total and n < 1000:
        n += 1
        term *= x / (a + n)
        total += term
    return math.exp(a * math.log(x) - x - math.lgamma(a)) * total


def _trimmed_mean_factor(c: float, k: int) -> float:
    """E[X | X < c] for X = chi2_k / k: the trimmed mean of pure-noise block energies."""
    return _gammainc_lower(k / 2 + 1, k * c / 2) / _gammainc_lower(k / 2, k * c / 2)


_TRIM_FACTOR = _trimmed_mean_factor(_TRIM, _K)


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7)."""
    s = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
    return s * (1.0 - poly * np.exp(-x * x))


def _clipped_noise_table(sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For clean levels x (0-255 units): mean and variance of clip(x + sigma Z, 0, 255), and the
    second derivative of that variance with respect to the mean."""
    x = np.linspace(-4.0 * sigma, 255.0 + 4.0 * sigma, 256)
    a, b = -x / sigma, (255.0 - x) / sigma
    pa, pb = 0.5 * (1.0 + _erf(a / math.sqrt(2.0))), 0.5 * (1.0 + _erf(b / math.sqrt(2.0)))
    da, db = np.exp(-0.5 * a * a) / math.sqrt(2 * math.pi), np.exp(-0.5 * b * b) / math.sqrt(2 * math.pi)
    m1 = (da - db) + a * pa + b * (1.0 - pb)  # E[clip(Z, a, b)]
    m2 = (pb - pa) + (a * da - b * db) + a * a * pa + b * b * (1.0 - pb)
    mean = x + sigma * m1
    var = np.maximum(sigma * sigma * (m2 - m1 * m1), 1e-12)
    curv = np.gradient(np.gradient(var, mean), mean)
    return mean, var, curv


def _clipped_variance(means: np.ndarray, sigma: float, pixels: int) -> np.ndarray:
    """Expected clipped-noise variance of blocks with these observed means (0-255 units)."""
    mean, var, curv = _clipped_noise_table(sigma)
    v = np.interp(means, mean, var)
    # the block mean is itself noisy (variance v / pixels); the variance is concave in the level
    return np.maximum(v - 0.5 * np.interp(means, mean, curv) * v / pixels, 1e-12)


def _haar_mad(img: np.ndarray) -> float:
    """Donoho's MAD on the Haar HH band (0-255 units): the fallback for photos under 8 pixels."""
    h, w = (img.shape[0] // 2) * 2, (img.shape[1] // 2) * 2
    if h < 2 or w < 2:
        return 0.0
    img = img[:h, :w].astype(np.float32)
    hh = (img[0::2, 0::2] - img[0::2, 1::2] - img[1::2, 0::2] + img[1::2, 1::2]) / 2.0
    return float(np.mean([np.median(np.abs(hh[..., c])) for c in range(img.shape[2])]) / 0.6745 * 255.0)


def _blocks(img: np.ndarray) -> np.ndarray:
    """(N, 64) float32 8x8 blocks in 0-255 units: a regular subset, distinct channels only."""
    h, w, c = img.shape
    nby, nbx = h // _B, w // _B
    step = max(1, math.ceil(math.sqrt(nby * nbx * c / _MAX_BLOCKS)))
    planes = []
    for ch in range(c):
        grid = img[: nby * _B, : nbx * _B, ch].reshape(nby, _B, nbx, _B)[::step, :, ::step, :]
        plane = np.ascontiguousarray(grid.transpose(0, 2, 1, 3), dtype=np.float32).reshape(-1, _B * _B)
        if not any(np.array_equal(plane, p) for p in planes):  # a grey photo stored as RGB
            planes.append(plane)
    return np.concatenate(planes) * np.float32(255.0)


def _smallest(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` smallest values."""
    if count >= len(values):
        return np.arange(len(values))
    return np.argpartition(values, count - 1)[:count]


def estimate_sigma(pixels: np.ndarray) -> float:
    """Gaussian noise level in 0-255 units of a photo (HxWxC or HxW, float 0..1).

    See the module docstring for the method. A trailing alpha channel (2 or 4 channels) is ignored.
    """
    img = np.asarray(pixels)
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[2] in (2, 4):
        img = img[..., :-1]
    if img.shape[0] < _B or img.shape[1] < _B:
        return _haar_mad(img)
    x = _blocks(img)
    clipped = bool(x.min() >= 0.0 and x.max() <= 255.0)  # a photo from a file: noise was clipped
    probe = x[:4096]
    q = 1.0 / 12.0 if bool(np.all(np.abs(probe - np.round(probe)) < 1e-3)) else 0.0  # 8-bit grid
    y = x @ _DCT2
    y2 = y * y
    noise = y2[:, _NOISE].mean(axis=1, dtype=np.float64)
    texture = y2[:, _SELECTION].mean(axis=1, dtype=np.float64)
    means = y[:, 0].astype(np.float64) / _B
    n = len(x)
    floor = min(n, max(64, int(_MIN_FRACTION * n)))

    kept = _smallest(texture, floor)  # start low: the flattest blocks
    sigma = math.sqrt(max(float(noise[kept].mean()) - q, 0.0))
    for _ in range(_ITERATIONS):
        if sigma <= 1e-3:
            return 0.0
        level = _clipped_variance(means, sigma, _B * _B) if clipped else np.full(n, sigma * sigma)
        usable = (np.minimum(means, 255.0 - means) > 0.25 * sigma) if clipped else np.ones(n, bool)
        if usable.sum() < floor:
            usable = np.ones(n, bool)
        flat = usable & (texture < _SELECT * level + q)
        if flat.sum() < floor:
            candidates = np.flatnonzero(usable)
            flat = np.zeros(n, bool)
            flat[candidates[_smallest(texture[candidates] / (level[candidates] + q), floor)]] = True
        keep = flat & (noise < _TRIM * (level + q))
        factor = _TRIM_FACTOR
        if keep.sum() < 16:
            keep, factor = flat, 1.0
        new = _fit_sigma(noise[keep] / factor, means[keep], q, sigma, clipped)
        done = abs(new - sigma) <= 1e-4 * max(sigma, 1e-3)
        sigma = new
        if done:
            break
    return float(sigma)


def _fit_sigma(energy: np.ndarray, means: np.ndarray, q: float, sigma0: float, clipped: bool) -> float:
    """Sigma whose (clipped) noise variance plus q best explains the blocks' mean energies."""
    if not clipped:
        return math.sqrt(max(float(energy.mean()) - q, 0.0))
    bins = np.clip((means * (_BINS / 255.0)).astype(np.int64), 0, _BINS - 1)
    count = np.bincount(bins, minlength=_BINS).astype(np.float64)
    total = np.bincount(bins, weights=energy, minlength=_BINS)
    used = count > 0
    count, total = count[used], total[used]
    centre = (np.flatnonzero(used) + 0.5) * (255.0 / _BINS)
    # Gaussian maximum-likelihood weights at the current sigma: d(variance)/d(sigma) / variance^2
    v0 = _clipped_variance(centre, sigma0, _B * _B)
    dv = (_clipped_variance(centre, sigma0 * 1.01, _B * _B) - v0) / (0.01 * sigma0)
    weight = np.maximum(dv, 0.0) / (v0 + q) ** 2 + 1e-30

    def excess(s: float) -> float:
        return float((weight * (total - count * (_clipped_variance(centre, s, _B * _B) + q))).sum())

    # excess() falls as sigma grows; clipping only ever lowers the variance, so lo is a lower bound
    lo = math.sqrt(max(float(energy.mean()) - q, 1e-8))
    f_lo = excess(lo)
    if f_lo <= 0:
        return lo
    hi = lo * 1.5
    f_hi = excess(hi)
    while f_hi > 0 and hi < lo * 20:
        lo, f_lo, hi = hi, f_hi, hi * 1.5
        f_hi = excess(hi)
    side = 0
    for _ in range(30):  # regula falsi, Illinois variant
        mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        f_mid = excess(mid)
        if abs(f_mid) == 0 or hi - lo < 1e-6 * hi:
            return mid
        if f_mid > 0:
            lo, f_lo = mid, f_mid
            if side == 1:
                f_hi *= 0.5
            side = 1
        else:
            hi, f_hi = mid, f_mid
            if side == -1:
                f_lo *= 0.5
            side = -1
        if hi - lo < 1e-5 * hi:
            break
    return 0.5 * (lo + hi)
