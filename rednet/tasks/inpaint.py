"""Inpainting: the photo with its holes pre-filled by OpenCV's Telea method plus the mask (1 = fill);
the network refines the fill, and only masked pixels are taken from its output. Only boxes around the
mask are run, each with the model's receptive field as context."""

from __future__ import annotations

import numpy as np

from rednet.tasks import degradations as deg
from rednet.tasks.base import Degraded, MaskOption, Task

WHITE = (1.0, 1.0, 1.0)


def prefill_holes(img: np.ndarray, mask: np.ndarray, radius: int = 5) -> np.ndarray:
    """Fill masked pixels with OpenCV's Telea inpainting: a cheap, smooth first guess."""
    import cv2

    if not mask.any():
        return img.copy()
    u8 = deg.to_uint8(img)
    m8 = mask.astype(np.uint8) * 255
    planes = u8 if u8.shape[2] != 2 else u8[..., :1]
    filled = cv2.inpaint(np.ascontiguousarray(planes), m8, radius, cv2.INPAINT_TELEA)
    filled = filled.reshape(img.shape).astype(np.float32) / 255.0
    return np.where(mask[..., None], filled, img).astype(np.float32)


def mask_regions(mask: np.ndarray, margin: int) -> list[tuple[slice, slice, np.ndarray]]:
    """Boxes around each cluster of masked pixels, grown by `margin` (clusters closer than that merge).

    Returns (rows, cols, pixels of the mask this box is responsible for) for each box.
    """
    import cv2

    h, w = mask.shape
    ys, xs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if ys.size == 0:
        return []
    # Work only on the mask's bounding box grown by the margin, which holds every grown pixel: same
    # boxes in the same order as on the whole photo, without dilating 12 MP for a small mask.
    y0, y1 = max(0, ys[0] - margin) // 2 * 2, min(h, ys[-1] + margin + 1)  # even: OpenCV's 2x2 blocks
    x0, x1 = max(0, xs[0] - margin) // 2 * 2, min(w, xs[-1] + margin + 1)
    box = mask[y0:y1, x0:x1]
    grown = cv2.dilate(box.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    regions = []
    for k in range(1, count):
        x, y, bw, bh, _ = stats[k]
        own = (labels[y : y + bh, x : x + bw] == k) & box[y : y + bh, x : x + bw]
        regions.append((slice(y0 + y, y0 + y + bh), slice(x0 + x, x0 + x + bw), own))
    return regions


class Inpaint(Task):
    name = "inpaint"
    title = "Inpaint"
    button_text = "Inpaint"
    result_word = "retouched"
    hint = "Paint over text, scratches or blemishes with the mask brush, then press Restore to fill them in."
    condition = "mask"
    options = (MaskOption(),)
    descriptor_ranges = {}
    example = {"mask": "text"}
    learns_from_pairs = False  # it learns from masks drawn over clean photos
    can_be_blind = False  # the mask is its input
    progressive = False  # it runs a few boxes around the mask, and keeps only the masked pixels

    def network_input(self, degraded, mask=None, **options):
        filled = prefill_holes(degraded, mask)
        return np.concatenate([filled, mask[..., None].astype(np.float32)], axis=2)

    def compose_output(self, network_input, prediction):
        m = network_input[:, 3:4]
        return network_input[:, :3] * (1 - m) + prediction * m

    def restore_pixels(self, photo, rgb, options, run, *, margin, state):
        mask = options["mask"].astype(bool)
        out = rgb.copy()
        regions = mask_regions(mask, margin=margin + 8)
        for i, (rows, cols, own) in enumerate(regions):
            pred = run(
                self.network_input(rgb[rows, cols], mask=mask[rows, cols]),
                state=state.span(i / len(regions), (i + 1) / len(regions)),
            )
            out[rows, cols][own] = pred[own]
        return out, photo.alpha, []

    def degrade(self, clean, rng, mask="text", fill=WHITE) -> Degraded:
        """`mask`: "text" (words 14-34 px high, as over a photo with a caption), "random" (the training
        mix of text, scratches and strokes) or a bool array; the holes are painted `fill`."""
        h, w = clean.shape[:2]
        if isinstance(mask, str):
            mask = (
                deg.text_mask(h, w, rng, size_range=(14, 34), dilate=1)
                if mask == "text"
                else deg.random_mask(h, w, rng)
            )
        holed = np.where(mask[..., None], np.asarray(fill, np.float32), clean).astype(np.float32)
        return Degraded(clean, holed, {"mask": mask}, holed, extra={"mask": mask})

    def training_pair(self, clean, rng, patch):
        target = clean[:patch, :patch]
        mask = deg.random_mask(patch, patch, rng)
        holed = np.where(mask[..., None], 0.0, target).astype(np.float32)
        return self.network_input(holed, mask=mask), target


INPAINT = Inpaint()
