"""Super-resolution: the low-resolution photo bicubic-upscaled to the target size (as in the paper);
no condition map."""

from __future__ import annotations

import numpy as np

from rednet.tasks import degradations as deg
from rednet.tasks.base import Degraded, Option, Task

SCALE_RANGE = (1.25, 4.0)
DEFAULT_SCALE = 2.0


class SuperResolution(Task):
    name = "sr"
    title = "Upscale"
    button_text = "Upscale"
    result_word = "upscaled"
    hint = "Enlarges the photo and restores the detail that plain resizing blurs."
    condition = None
    options = (
        Option(
            "scale",
            "Scale",
            SCALE_RANGE[0],
            SCALE_RANGE[1],
            DEFAULT_SCALE,
            f"upscaling factor {SCALE_RANGE[0]:g}-{SCALE_RANGE[1]:g}",
        ),
    )
    descriptor_ranges = {"scale_range": SCALE_RANGE}
    example = {"scale": 2}
    can_be_blind = False  # nothing to be blind to

    def output_size(self, size, options):
        w, h = size
        s = DEFAULT_SCALE if options.get("scale") is None else float(options["scale"])
        return max(1, int(w * s + 0.5)), max(1, int(h * s + 0.5))  # half up: 101 x 2.5 -> 253

    def step_label(self, options: dict) -> str:
        return f"Upscale ×{options.get('scale') or DEFAULT_SCALE:g}"

    def full_input(self, pixels, options):
        h, w = pixels.shape[:2]
        return self.network_input(deg.bicubic_resize(pixels, self.output_size((w, h), options)))

    def restore_pixels(self, photo, rgb, options, run, *, margin, state):
        size = self.output_size((photo.width, photo.height), options)
        out = run(deg.bicubic_enlarge(rgb, size, check=state.check), state=state)
        alpha = photo.alpha
        if alpha is not None:
            alpha = np.clip(deg.bicubic_resize(alpha[..., None], size)[..., 0], 0.0, 1.0)
        return out, alpha, []

    def degrade(self, clean, rng, scale: float | None = None) -> Degraded:
        """The photo cropped to a whole multiple of `scale` (a whole number) and shrunk by it, on the
        8-bit grid as a saved small photo is."""
        scale = int(self.example["scale"] if scale is None else scale)
        h, w = clean.shape[0] // scale * scale, clean.shape[1] // scale * scale
        hr = clean[:h, :w]
        lr = deg.quantize8(deg.bicubic_resize(hr, (w // scale, h // scale)))
        shown = deg.quantize8(deg.bicubic_resize(lr, (w, h)))  # plain bicubic, saved as an 8-bit file
        return Degraded(hr, lr, {"scale": float(scale)}, shown)

    def training_pair(self, clean, rng, patch):
        target = clean[:patch, :patch]
        scale = float(rng.uniform(*SCALE_RANGE))
        return self.network_input(deg.bicubic_degrade(target, scale)), target

    def fit_pair(self, corrupted, clean):
        """A smaller corrupted photo is the low-resolution one: bicubic-upscaled, as at restore time."""
        if corrupted.shape[0] <= clean.shape[0] and corrupted.shape[1] <= clean.shape[1]:
            return deg.bicubic_resize(corrupted, (clean.shape[1], clean.shape[0]))
        return None


SR = SuperResolution()
