"""PSNR cost and speed of bf16 against fp32 inference, with a shipped model on the evaluation photos.

.venv/bin/python scripts/measure_bf16.py [--task denoise] [--sigma 25]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rednet.engine.restore import resolve_model, restore
from rednet.evaluation.evalset import EVAL_PHOTOS, load_eval_photo
from rednet.evaluation.metrics import psnr
from rednet.io import Photo
from rednet.tasks.degradations import add_gaussian_noise, bicubic_resize, jpeg_degrade, quantize8


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="denoise", choices=("denoise", "sr", "jpeg"))
    ap.add_argument("--long-side", type=int, default=512)
    args = ap.parse_args()
    model = resolve_model(None, args.task)
    totals = {"fp32": [0.0, []], "bf16": [0.0, []]}
    megapixels = 0.0
    for i, name in enumerate(EVAL_PHOTOS):
        clean = load_eval_photo(name, args.long_side)
        clean = np.repeat(clean, 3, axis=2) if clean.shape[2] == 1 else clean
        if args.task == "denoise":
            photo, opts = Photo(add_gaussian_noise(clean, 25, np.random.default_rng(i))), {"sigma": 25}
        elif args.task == "jpeg":
            photo, opts = Photo(jpeg_degrade(clean, 20), jpeg_quality=20), {}
        else:
            h, w = clean.shape[0] // 2 * 2, clean.shape[1] // 2 * 2
            clean = clean[:h, :w]
            photo, opts = Photo(quantize8(bicubic_resize(clean, (w // 2, h // 2)))), {"scale": 2}
        megapixels += clean.shape[0] * clean.shape[1] / 1e6
        for precision in ("fp32", "bf16"):
            restore(photo, args.task, model=model, precision=precision, **opts)  # warm-up
            t = time.perf_counter()
            out = restore(photo, args.task, model=model, precision=precision, **opts).pixels
            totals[precision][0] += time.perf_counter() - t
            totals[precision][1].append(psnr(clean, quantize8(out)))
    for precision, (seconds, values) in totals.items():
        print(f"{args.task} {precision}: {np.mean(values):.3f} dB mean PSNR, {seconds / megapixels:.2f} s/MP")
    print(
        f"bf16 PSNR cost: {np.mean(totals['fp32'][1]) - np.mean(totals['bf16'][1]):+.4f} dB "
        f"(worst photo {max(a - b for a, b in zip(totals['fp32'][1], totals['bf16'][1])):+.4f} dB)"
    )


if __name__ == "__main__":
    main()
