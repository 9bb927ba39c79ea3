#!/usr/bin/env python3
"""Our models alone on `rednet eval`'s public photos and settings: the campaign's yardstick.

    python scripts/score_models.py --task denoise runs/a.safetensors runs/b.safetensors [--json out.json]

Same photos (scikit-image's nine, long side 512, 8-bit), same corruptions and settings as `rednet eval`
(colour sigma 25/50 and gray sigma 15/50; sr x2/x3/x4 on luma; jpeg colour q10/20/30; text inpainting),
fixed seeds, but no peers: seconds instead of minutes, so candidates can be compared after each stretch
of training without paying for CBM3D again. The peers' figures come from `rednet eval`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rednet.tasks import degradations as deg  # noqa: E402
from rednet.evaluation.evalset import EVAL_PHOTOS, is_colour, load_eval_photo  # noqa: E402
from rednet.evaluation.evaluate import eval_input_photo  # noqa: E402
from rednet.evaluation.metrics import psnr, rgb_to_y  # noqa: E402
from rednet.engine.restore import resolve_model, restore  # noqa: E402

SETTINGS = {
    "denoise": [("colour sigma 25", 25), ("colour sigma 50", 50), ("gray sigma 15", 15), ("gray sigma 50", 50)],
    "sr": [("x2 (Y)", 2), ("x3 (Y)", 3), ("x4 (Y)", 4)],
    "jpeg": [("colour q10", 10), ("colour q20", 20), ("colour q30", 30)],
    "inpaint": [("text 14-34 px", None)],
}


def _photos_for(task: str, setting: str, images: dict) -> list[str]:
    if task == "denoise" or task == "jpeg":
        want_colour = not setting.startswith("gray")
        return [n for n in images if is_colour(n) == want_colour]
    return list(images)


def score_one(task: str, setting: str, value, clean: np.ndarray, rng, model, ensemble: bool) -> tuple[float, float]:
    """(input PSNR, our PSNR) on one photo."""
    opts = {"ensemble": True} if ensemble else {}
    if task == "denoise":
        noisy = deg.add_gaussian_noise(clean, value, rng)
        out = restore(eval_input_photo(noisy), "denoise", sigma=value, model=model, **opts).pixels
        return psnr(clean, noisy), psnr(clean, out)
    if task == "sr":
        h, w = clean.shape[0] // value * value, clean.shape[1] // value * value
        hr = clean[:h, :w]
        lr = deg.quantize8(deg.bicubic_resize(hr, (w // value, h // value)))
        bicubic = deg.quantize8(deg.bicubic_resize(lr, (w, h)))
        out = deg.quantize8(restore(eval_input_photo(lr), "sr", scale=value, model=model, **opts).pixels)
        return psnr(rgb_to_y(hr), rgb_to_y(bicubic), value), psnr(rgb_to_y(hr), rgb_to_y(out), value)
    if task == "jpeg":
        decoded = deg.jpeg_degrade(clean, value)
        out = deg.quantize8(restore(eval_input_photo(decoded, jpeg_quality=value), "jpeg", model=model, **opts).pixels)
        return psnr(clean, decoded), psnr(clean, out)
    mask = deg.text_mask(clean.shape[0], clean.shape[1], rng, size_range=(14, 34), dilate=1)
    holed = np.where(mask[..., None], 1.0, clean).astype(np.float32)
    out = deg.quantize8(restore(eval_input_photo(holed), "inpaint", mask=mask, model=model, **opts).pixels)
    return psnr(clean, holed), psnr(clean, out)


def score(task: str, model_path, long_side: int = 512, ensemble: bool = False, seed: int = 0) -> dict:
    model = resolve_model(model_path, task)
    images = {n: load_eval_photo(n, long_side) for n in EVAL_PHOTOS}
    result = {"model": str(model_path or "shipped"), "task": task, "settings": {}}
    start = time.perf_counter()
    for k, (setting, value) in enumerate(SETTINGS[task]):
        ins, ours = [], []
        for name in _photos_for(task, setting, images):
            rng = np.random.default_rng([seed, EVAL_PHOTOS.index(name), k])
            a, b = score_one(task, setting, value, images[name], rng, model, ensemble)
            ins.append(a)
            ours.append(b)
        result["settings"][setting] = {"input": float(np.mean(ins)), "ours": float(np.mean(ours))}
    result["seconds"] = time.perf_counter() - start
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", required=True, choices=tuple(SETTINGS))
    ap.add_argument("models", nargs="*", help="model files or names (default: the shipped model)")
    ap.add_argument("--long-side", type=int, default=512)
    ap.add_argument("--ensemble", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    results = [score(args.task, m, args.long_side, args.ensemble) for m in (args.models or [None])]
    names = [s for s, _ in SETTINGS[args.task]]
    print("| model | " + " | ".join(names) + " | s |")
    print("|---|" + "---|" * (len(names) + 1))
    for r in results:
        cells = " | ".join(f"{r['settings'][n]['ours']:.2f}" for n in names)
        print(f"| {Path(r['model']).name} | {cells} | {r['seconds']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
