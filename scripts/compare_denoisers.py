"""Compare denoising models on the public evaluation photos, with the true and the estimated sigma.

Used to choose the shipped denoiser's design (width, blind vs noise-level map) by measurement:
    .venv/bin/python scripts/compare_denoisers.py runs/a.safetensors runs/b.safetensors [--long-side 256]
"""

from __future__ import annotations

import argparse

import numpy as np

from rednet.engine.restore import restore
from rednet.evaluation.evalset import EVAL_PHOTOS, load_eval_photo
from rednet.evaluation.metrics import psnr
from rednet.io import Photo
from rednet.models.registry import load_model
from rednet.tasks.degradations import add_gaussian_noise


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--long-side", type=int, default=256)
    ap.add_argument("--sigmas", type=float, nargs="+", default=[15, 25, 50])
    args = ap.parse_args()
    photos = {n: load_eval_photo(n, args.long_side) for n in EVAL_PHOTOS}
    print("| model | sigma given | " + " | ".join(f"sigma {s:g}" for s in args.sigmas) + " |")
    print("|---|---|" + "---|" * len(args.sigmas))
    for path in args.models:
        model = load_model(path)
        modes = [("true", True)] + ([("estimated", False)] if model.descriptor.cond else [])
        for label, give in modes:
            cells = []
            for sigma in args.sigmas:
                gains = []
                for i, clean in enumerate(photos.values()):
                    rgb = np.repeat(clean, 3, axis=2) if clean.shape[2] == 1 else clean
                    noisy = add_gaussian_noise(rgb, sigma, np.random.default_rng([i, int(sigma)]))
                    out = restore(Photo(pixels=noisy), "denoise", sigma=sigma if give else None, model=model).pixels
                    gains.append(psnr(rgb, out))
                cells.append(f"{np.mean(gains):.2f}")
            print(
                f"| {model.name} (RED{model.descriptor.depth}-{model.descriptor.width}"
                f"{'' if model.descriptor.cond else ', blind'}) | {label if model.descriptor.cond else 'n/a'} | "
                + " | ".join(cells)
                + " |",
                flush=True,
            )


if __name__ == "__main__":
    main()
