"""Measure the automatic noise estimate (rednet.tasks.noise_level.estimate_sigma) against the true sigma.

Grid: the nine public evaluation photos x sigma x upscale x channel layout, with the noise added
the way a file carries it (as rednet.tasks.degradations.add_gaussian_noise: clipped to 0..1, 8-bit).

* upscale 1 / 1.5 / 2: the clean photo is bicubic-upscaled (rednet.tasks.degradations.bicubic_resize,
  then 8-bit) *before* the noise is added: smooth structure, white noise;
* layout "native": the photo as loaded (grey photos have one channel), independent noise per
  channel; layout "rgb-same": three channels (grey photos repeated) with one noise plane added to
  every channel (a grey photo stored as RGB: channels identical, noise included).

    nice -n 19 .venv/bin/python scripts/measure_noise_estimate.py            # the current estimator
    nice -n 19 .venv/bin/python scripts/measure_noise_estimate.py --baseline # the original one
    options: --long-side 512 --sigmas 5 10 15 25 35 50 --upscales 1 1.5 2 --photos ... --table
             --seed N (another noise draw) --no-timing

Prints one row per photo x upscale x layout: the estimate on the clean photo, then the error
(estimate - true sigma) for every sigma (with --table the estimate too), then the max |error| per
upscale and overall, and the time for one 12-megapixel (4000x3000 RGB) photo.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rednet.evaluation.evalset import EVAL_PHOTOS, load_eval_photo
from rednet.tasks.degradations import add_gaussian_noise, bicubic_resize, quantize8
from rednet.tasks.noise_level import estimate_sigma


def baseline_estimate_sigma(pixels: np.ndarray) -> float:
    """The original estimator (Donoho's MAD on the whole Haar HH band), kept for comparison."""
    img = pixels.astype(np.float32)
    if img.ndim == 2:
        img = img[..., None]
    h, w = (img.shape[0] // 2) * 2, (img.shape[1] // 2) * 2
    if h < 2 or w < 2:
        return 0.0
    img = img[:h, :w]
    hh = (img[0::2, 0::2] - img[0::2, 1::2] - img[1::2, 0::2] + img[1::2, 1::2]) / 2.0
    sigmas = [np.median(np.abs(hh[..., c])) / 0.6745 for c in range(img.shape[2])]
    return float(np.mean(sigmas) * 255.0)


def clean_case(photo: np.ndarray, upscale: float, layout: str) -> np.ndarray:
    """The clean photo, bicubic-upscaled (8-bit) and, for "rgb-same", with three channels."""
    img = np.repeat(photo, 3, axis=2) if layout == "rgb-same" and photo.shape[2] == 1 else photo
    if upscale != 1:
        h, w = img.shape[:2]
        img = quantize8(bicubic_resize(img, (round(w * upscale), round(h * upscale))))
    return img


def noisy_case(clean: np.ndarray, sigma: float, layout: str, seed) -> np.ndarray:
    """`clean` (from clean_case) with white Gaussian noise, clipped and 8-bit as in a file."""
    rng = np.random.default_rng(seed)
    if layout == "rgb-same":  # one noise plane for every channel
        noise = rng.standard_normal(clean.shape[:2] + (1,), dtype=np.float32)
        return quantize8(clean + noise * np.float32(sigma / 255.0))
    return add_gaussian_noise(clean, sigma, rng)


def cases(photos, long_side, upscales, layouts, sigmas, seed=0):
    """Yield (name, upscale, layout, clean, [(sigma, noisy), ...]) over the grid, deterministically."""
    for i, name in enumerate(photos):
        photo = load_eval_photo(name, long_side)
        for upscale in upscales:
            for layout in layouts:
                clean = clean_case(photo, upscale, layout)
                key = [i, int(upscale * 10), len(layout), seed]
                yield (
                    name,
                    upscale,
                    layout,
                    clean,
                    [(s, noisy_case(clean, s, layout, key + [int(s * 10)])) for s in sigmas],
                )


def twelve_megapixel(sigma: float = 25.0) -> np.ndarray:
    """A synthetic 4000x3000 RGB photo (smooth gradients) with 8-bit noise."""
    yy, xx = np.mgrid[0:3000, 0:4000].astype(np.float32)
    img = np.stack([0.5 + 0.35 * np.sin(xx * f / 200) * np.cos(yy * f / 200) for f in (1.0, 1.3, 1.7)], axis=-1)
    return add_gaussian_noise(img.astype(np.float32), sigma, np.random.default_rng(0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--long-side", type=int, default=512)
    ap.add_argument("--sigmas", type=float, nargs="+", default=[5, 10, 15, 25, 35, 50])
    ap.add_argument("--upscales", type=float, nargs="+", default=[1, 1.5, 2])
    ap.add_argument("--layouts", nargs="+", default=["native", "rgb-same"], choices=["native", "rgb-same"])
    ap.add_argument("--photos", nargs="+", default=list(EVAL_PHOTOS), choices=list(EVAL_PHOTOS))
    ap.add_argument("--baseline", action="store_true", help="measure the original HH-band MAD")
    ap.add_argument("--table", action="store_true", help="print every estimate, not only errors")
    ap.add_argument("--seed", type=int, default=0, help="another noise draw for the same grid")
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args()
    est = baseline_estimate_sigma if args.baseline else estimate_sigma
    print(
        f"estimator: {'baseline (HH-band MAD)' if args.baseline else 'rednet.tasks.noise_level'}, "
        f"long side {args.long_side}, seed {args.seed}"
    )

    head = " | ".join(f"s={s:g}" for s in args.sigmas)
    print(f"| photo | upscale | layout | clean | {head} | max abs |")
    print("|---|---|---|---|" + "---|" * (len(args.sigmas) + 1))
    worst: dict[float, float] = {}
    worst_case = (0.0, "")
    grid = cases(args.photos, args.long_side, args.upscales, args.layouts, args.sigmas, args.seed)
    for name, upscale, layout, clean, noisy in grid:
        cells, errs = [], []
        for sigma, img in noisy:
            e = est(img)
            errs.append(e - sigma)
            cells.append(f"{e:.2f} ({e - sigma:+.2f})" if args.table else f"{e - sigma:+.2f}")
        m = max(abs(x) for x in errs)
        worst[upscale] = max(worst.get(upscale, 0.0), m)
        j = int(np.argmax(np.abs(errs)))
        if m > worst_case[0]:
            worst_case = (m, f"{name} x{upscale:g} {layout} sigma {args.sigmas[j]:g}")
        print(
            f"| {name} | {upscale:g} | {layout} | {est(clean):.2f} | " + " | ".join(cells) + f" | {m:.2f} |", flush=True
        )
    for u, m in worst.items():
        print(f"max |error| at upscale x{u:g}: {m:.2f}")
    print(f"max |error| overall: {worst_case[0]:.2f} ({worst_case[1]})")
    if not args.no_timing:
        big = twelve_megapixel()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            s = est(big)
            times.append(time.perf_counter() - t)
        print(
            f"12 MP (4000x3000x3, sigma 25): estimate {s:.2f}, "
            f"median {np.median(times):.3f} s, min {min(times):.3f} s of 5 runs"
        )


if __name__ == "__main__":
    main()
