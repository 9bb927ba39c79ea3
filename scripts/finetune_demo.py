"""What a short fine-tune buys on a kind of photo the shipped models never saw, end to end via the CLI.

    .venv/bin/python scripts/finetune_demo.py documents [--iters 150 | --minutes 5]
    .venv/bin/python scripts/finetune_demo.py microscopy --minutes 5

documents: scikit-image's `page` and `text` scans; microscopy: its `immunohistochemistry` slide.
Each photo's left half gives the training crops and its right half the held-out crops, so nothing
tested was trained on. The held-out crops get Gaussian noise (sigma 25, seeded), then
`rednet restore --task denoise --sigma 25` runs with the shipped model and with the fine-tuned one
(`--model`); PSNR against the clean crops is printed for both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from rednet.evaluation.metrics import psnr
from rednet.io import read_photo
from rednet.tasks.degradations import add_gaussian_noise, to_uint8

SETS = {"documents": ("page", "text"), "microscopy": ("immunohistochemistry",)}


def load(name: str) -> np.ndarray:
    from skimage import data

    img = np.asarray(getattr(data, name)(), dtype=np.float32) / 255.0
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]


def crops(img: np.ndarray, size: int, step: int) -> list[np.ndarray]:
    h, w = img.shape[:2]
    return [
        img[y : y + size, x : x + size]
        for y in range(0, max(1, h - size + 1), step)
        for x in range(0, max(1, w - size + 1), step)
    ]


def rednet(work: Path, *args: str) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(work / "user-data")}  # the fine-tune stays out of the real user folder
    subprocess.run([sys.executable, "-m", "rednet", *args], check=True, stdout=subprocess.DEVNULL, env=env)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=sorted(SETS))
    ap.add_argument("--iters", type=int, default=150)
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--sigma", type=float, default=25)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix=f"finetune-{args.kind}-"))
    train, clean, noisy = (work / d for d in ("train", "clean", "noisy"))
    for d in (train, clean, noisy):
        d.mkdir()
    rng = np.random.default_rng(0)
    n_train = n_test = 0
    for name in SETS[args.kind]:
        img = load(name)
        split = img.shape[1] // 2
        size = min(96, img.shape[0])
        for c in crops(img[:, :split], size, size // 2):
            Image.fromarray(to_uint8(c)).save(train / f"{name}-{n_train:03d}.png")
            n_train += 1
        for c in crops(img[:, split:], 256, 256):  # the right half, in pieces of at most 256 px
            Image.fromarray(to_uint8(c)).save(clean / f"{name}-{n_test:03d}.png")
            Image.fromarray(to_uint8(add_gaussian_noise(c, args.sigma, rng))).save(noisy / f"{name}-{n_test:03d}.png")
            n_test += 1
    model = f"demo-{args.kind}"
    budget = ["--minutes", str(args.minutes), "--iters", "1000000"] if args.minutes else ["--iters", str(args.iters)]
    rednet(work, "finetune", "--task", "denoise", "--data", str(train), "-o", model, "--overwrite", *budget)
    inputs = sorted(str(p) for p in noisy.iterdir())
    rednet(work, "restore", *inputs, "-o", str(work / "shipped"), "--task", "denoise", "--sigma", str(args.sigma))
    rednet(
        work,
        "restore",
        *inputs,
        "-o",
        str(work / "tuned"),
        "--task",
        "denoise",
        "--sigma",
        str(args.sigma),
        "--model",
        model,
    )
    scores = {"noisy": [], "shipped": [], "tuned": []}
    for p in sorted(clean.iterdir()):
        ref = read_photo(p).pixels
        for key, folder in (("noisy", noisy), ("shipped", work / "shipped"), ("tuned", work / "tuned")):
            scores[key].append(psnr(ref, read_photo(folder / p.name).pixels))
    budget_text = f"{args.minutes:g} min" if args.minutes else f"{args.iters} iterations"
    print(
        f"{args.kind}: {n_train} training crops, {n_test} held-out crops, fine-tune {budget_text}, sigma {args.sigma:g}"
    )
    print(f"  noisy input     {np.mean(scores['noisy']):.2f} dB")
    print(f"  shipped model   {np.mean(scores['shipped']):.2f} dB")
    tuned, shipped = np.mean(scores["tuned"]), np.mean(scores["shipped"])
    print(f"  fine-tuned      {tuned:.2f} dB  ({tuned - shipped:+.2f} dB)")


if __name__ == "__main__":
    main()
