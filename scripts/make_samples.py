"""Write the sample photos shipped in rednet_resources/samples/ (Help > Open sample in the app).

They come from scikit-image's public photos (public domain / CC0), corrupted with the project's own
degradations so each task has something to work on:
  noisy.png       chelsea with Gaussian noise, sigma 25
  small.png       coffee at 240 px wide, for super-resolution
  compressed.jpg  rocket saved at JPEG quality 10
  text.png        astronaut with words written over it, and text-mask.png marking them (white = fill)
and samples.json, which names each sample's task (Help > Open Sample opens it ready for that task).
Run: .venv/bin/python scripts/make_samples.py
"""

from __future__ import annotations

import json

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from rednet.evaluation.evalset import load_eval_photo
from rednet.paths import samples_dir
from rednet.tasks.degradations import add_gaussian_noise, bicubic_resize, to_uint8


def main() -> None:
    out = samples_dir()
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2016)

    chelsea = load_eval_photo("chelsea", long_side=451)
    Image.fromarray(to_uint8(add_gaussian_noise(chelsea, 25, rng))).save(out / "noisy.png", optimize=True)

    coffee = load_eval_photo("coffee", long_side=600)
    small = bicubic_resize(coffee, (240, 160))
    Image.fromarray(to_uint8(small)).save(out / "small.png", optimize=True)

    rocket = load_eval_photo("rocket", long_side=640)
    Image.fromarray(to_uint8(rocket)).save(out / "compressed.jpg", quality=10)

    astronaut = Image.fromarray(to_uint8(load_eval_photo("astronaut", long_side=512)))
    mask = Image.new("L", astronaut.size, 0)
    lines = [("Summer 1984", 34, (40, 40)), ("do not copy", 26, (260, 430)), ("© photo archive", 22, (40, 470))]
    for text, size, xy in lines:
        font = ImageFont.load_default(size=size)
        ImageDraw.Draw(astronaut).text(
            xy, text, fill=(255, 240, 60), font=font, stroke_width=1, stroke_fill=(40, 20, 0)
        )
        ImageDraw.Draw(mask).text(xy, text, fill=255, font=font, stroke_width=1, stroke_fill=255)
    astronaut.save(out / "text.png", optimize=True)
    # Grow the mask by two pixels so anti-aliased letter edges are filled too.
    import cv2

    grown = cv2.dilate(np.asarray(mask), np.ones((5, 5), np.uint8))
    Image.fromarray(np.where(grown > 0, 255, 0).astype(np.uint8)).save(out / "text-mask.png", optimize=True)
    tasks = {"noisy.png": "denoise", "small.png": "sr", "compressed.jpg": "jpeg", "text.png": "inpaint"}
    (out / "samples.json").write_text(json.dumps(tasks, indent=2) + "\n")
    for p in sorted(out.iterdir()):
        print(f"{p.name}: {p.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
