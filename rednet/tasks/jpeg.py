"""JPEG clean-up: the decoded JPEG plus a constant quality map (quality / 100); 0 means "quality
unknown", which the model is also trained on, for photos that are no longer JPEG files."""

from __future__ import annotations

import numpy as np

from rednet.tasks import degradations as deg
from rednet.tasks.base import Degraded, Option, Task, gray_copy

QUALITY_RANGE = (5, 90)  # what the model is trained on; other qualities are clamped to it
UNKNOWN_QUALITY = 0
VISIBLE_ARTEFACTS_QUALITY = 80  # at or below this a JPEG's blocks and ringing show at 100%


def quality_channel_value(quality: int | None) -> float:
    if quality is None or quality == UNKNOWN_QUALITY:
        return 0.0
    return float(np.clip(quality, *QUALITY_RANGE)) / 100.0


class JpegCleanup(Task):
    name = "jpeg"
    title = "JPEG clean-up"
    button_text = "JPEG"
    result_word = "cleaned"
    hint = "Removes JPEG blocks and ringing. The quality the file was saved at tells the model how much to clean."
    condition = "quality"
    options = (
        Option(
            "quality",
            "JPEG quality",
            1,
            100,
            None,
            f"the JPEG quality 1-100 the photo was saved at; the model covers "
            f"{QUALITY_RANGE[0]}-{QUALITY_RANGE[1]} and clamps values outside",
            auto="read from the file",
            integer=True,
        ),
    )
    descriptor_ranges = {"quality_range": QUALITY_RANGE}
    example = {"quality": 20}
    gray_fraction = 0.2

    def step_label(self, options: dict) -> str:
        q = options.get("quality")
        return "JPEG clean-up (auto)" if q is None else f"JPEG clean-up q {q}"

    def condition_value(self, options: dict) -> float:
        return quality_channel_value(options.get("quality"))

    def suits(self, photo) -> str | None:
        q = photo.jpeg_quality
        if photo.format == "JPEG" and q is not None and q <= VISIBLE_ARTEFACTS_QUALITY:
            return f"This JPEG was saved at quality {q}: {self.title} removes its blocks and ringing."
        return None

    def restore_pixels(self, photo, rgb, options, run, *, margin, state):
        notes = []
        quality = options.get("quality")
        if quality is None:
            quality = photo.jpeg_quality
            notes.append(
                f"JPEG quality {quality} read from the file"
                if quality
                else "JPEG quality unknown: the model estimates it"
            )
        return run(rgb, cond=quality_channel_value(quality), state=state), photo.alpha, notes

    def degrade(self, clean, rng, quality: int | None = None) -> Degraded:
        quality = int(self.example["quality"] if quality is None else quality)
        data = deg.jpeg_encode(clean, quality)  # one file: our model gets its pixels, jpegqs its bytes
        decoded = deg.jpeg_decode(data, clean.shape[2])
        return Degraded(clean, decoded, {"quality": quality}, decoded, extra={"jpeg": data}, jpeg_quality=quality)

    def training_pair(self, clean, rng, patch):
        gray = rng.random() < self.gray_fraction
        if gray:
            clean = gray_copy(clean)
        # Encode a larger crop and cut a random window, so JPEG's 8x8 grid is at a random phase.
        big = clean[: patch + 16, : patch + 16]
        q = int(rng.integers(QUALITY_RANGE[0], QUALITY_RANGE[1] + 1))
        decoded = deg.jpeg_degrade(big[..., :1] if gray else big, q)  # gray JPEGs have no chroma
        decoded = np.repeat(decoded, 3, axis=2) if gray else decoded
        oy, ox = rng.integers(0, 17, 2)
        target = big[oy : oy + patch, ox : ox + patch]
        decoded = decoded[oy : oy + patch, ox : ox + patch]
        known = rng.random() >= 0.2
        return self.network_input(decoded, quality=q if known else None), target

    def pair_options(self, corrupted_photo, corrupted, clean):
        return {"quality": corrupted_photo.jpeg_quality}


JPEG = JpegCleanup()
