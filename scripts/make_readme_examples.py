"""Before/after pictures for the README, one per task, restored by the `rednet` command itself.

    .venv/bin/python scripts/make_readme_examples.py docs/
Each picture is a crop of a sample photo: left the input, right what `rednet restore` made of it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from rednet.paths import samples_dir

# task, sample, extra CLI options, crop box in the input (x0, y0, x1, y1), upscale of the crop for display
EXAMPLES = [
    ("denoise", "noisy.png", [], (150, 40, 350, 190), 2),
    ("sr", "small.png", ["--scale", "3"], (60, 40, 160, 115), 3),
    ("jpeg", "compressed.jpg", [], (200, 60, 400, 210), 2),
    ("inpaint", "text.png", ["--mask", str(samples_dir() / "text-mask.png")], (20, 20, 320, 110), 1),
]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    for task, sample, options, box, zoom in EXAMPLES:
        src = samples_dir() / sample
        dst = work / f"{task}.png"
        subprocess.run(
            [sys.executable, "-m", "rednet", "restore", str(src), "-o", str(dst), "--task", task, *options], check=True
        )
        before, after = Image.open(src).convert("RGB"), Image.open(dst).convert("RGB")
        ratio = after.width / before.width  # sr: the result is larger
        w, h = (box[2] - box[0]) * zoom, (box[3] - box[1]) * zoom
        left = before.crop(box).resize((w, h), Image.Resampling.NEAREST)
        right = after.crop(tuple(round(v * ratio) for v in box)).resize((w, h), Image.Resampling.NEAREST)
        canvas = Image.new("RGB", (2 * w + 6, h + 24), (30, 30, 32))
        canvas.paste(left, (0, 24))
        canvas.paste(right, (w + 6, 24))
        draw = ImageDraw.Draw(canvas)
        draw.text((6, 5), f"input ({sample})", fill=(220, 220, 220))
        draw.text(
            (w + 12, 5),
            f"rednet restore --task {task} {' '.join(o for o in options if not o.endswith('.png'))}",
            fill=(220, 220, 220),
        )
        canvas.save(out / f"example-{task}.png", optimize=True)
        print(f"wrote {out / f'example-{task}.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
