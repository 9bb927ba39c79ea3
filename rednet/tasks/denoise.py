"""Denoising: the noisy photo plus a constant noise-level map (sigma / 255), as in FFDNet, so one
model covers sigma 0-75 and the user can turn the strength up or down."""

from __future__ import annotations

import numpy as np

from rednet.tasks import degradations as deg
from rednet.tasks.base import Degraded, Option, Task, gray_copy
from rednet.tasks.noise_level import estimate_sigma

SIGMA_MAX = 75.0


class Denoise(Task):
    name = "denoise"
    title = "Denoise"
    button_text = "Denoise"
    result_word = "denoised"
    hint = (
        "Removes sensor and film noise. Leave the level on automatic, or set how strong the noise is "
        "(higher = smoother)."
    )
    condition = "sigma"
    options = (
        Option(
            "sigma",
            "Noise level σ",
            0.0,
            SIGMA_MAX,
            None,
            f"noise level 0-{SIGMA_MAX:g} in 0-255 units",
            auto="estimated",
            unit="0-255 units",
        ),
    )
    descriptor_ranges = {"sigma_range": (0.0, SIGMA_MAX)}
    example = {"sigma": 25.0}
    gray_fraction = 0.3
    # Half the training patches draw sigma from the low range: under an MSE loss the high-sigma patches'
    # larger errors otherwise dominate the gradient, and low sigma is where the classical peers are strongest.
    low_sigma_fraction = 0.5
    low_sigma_max = 30.0

    def step_label(self, options: dict) -> str:
        s = options.get("sigma")
        return "Denoise (auto)" if s is None else f"Denoise σ {s:g}"

    def condition_value(self, options: dict) -> float:
        return (options.get("sigma") or 0.0) / 255.0

    def restore_pixels(self, photo, rgb, options, run, *, margin, state):
        notes = []
        sigma = options.get("sigma")
        if sigma is None:
            sigma = min(estimate_sigma(rgb), SIGMA_MAX)
            notes.append(f"estimated noise level sigma {sigma:.1f}")
        return run(rgb, cond=self.condition_value({"sigma": sigma}), state=state), photo.alpha, notes

    def degrade(self, clean, rng, sigma: float | None = None) -> Degraded:
        sigma = self.example["sigma"] if sigma is None else float(sigma)
        noisy = deg.add_gaussian_noise(clean, sigma, rng)
        return Degraded(clean, noisy, {"sigma": sigma}, noisy)

    def training_pair(self, clean, rng, patch):
        # Gray photos reach the RGB model as three equal channels with equal noise: without such patches
        # it learns to average independent channel noise that gray lacks.
        gray = rng.random() < self.gray_fraction
        if gray:
            clean = gray_copy(clean)
        target = clean[:patch, :patch]
        low = rng.random() < self.low_sigma_fraction
        sigma = float(rng.uniform(0.0, self.low_sigma_max if low else SIGMA_MAX))
        noisy = deg.add_gaussian_noise(target[..., :1] if gray else target, sigma, rng)
        noisy = np.repeat(noisy, 3, axis=2) if gray else noisy
        return self.network_input(noisy, sigma=sigma), target

    def pair_options(self, corrupted_photo, corrupted, clean):
        return {"sigma": min(SIGMA_MAX, float(np.std(corrupted - clean)) * 255.0)}


DENOISE = Denoise()
