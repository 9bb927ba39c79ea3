"""`rednet eval`: the shipped models against the classical peers, on the same 8-bit inputs.

Per task, on scikit-image's public photos (long side 512, fixed seeds):
- denoise: colour sigma 25/50 vs CBM3D, gray sigma 15/50 vs BM3D, both also vs OpenCV non-local means;
- sr: x2/x3/x4 on luma (BT.601), `scale` border pixels cropped, vs bicubic;
- jpeg: colour quality 10/20/30 (Pillow, 4:2:0) vs the decoded JPEG itself;
- inpaint: text masks (14-34 px words, dilated 1 px) vs the better of OpenCV's Telea and Navier-Stokes.
PSNR, SSIM and seconds per megapixel for both sides, in one run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import degradations as deg
from .evalset import EVAL_PHOTOS, is_colour, load_eval_photo
from .imageio import Photo
from .metrics import psnr, rgb_to_y, ssim
from .progress import TaskState, SubState, ensure_state
from .restore import restore, resolve_model


@dataclass
class Row:
    task: str
    setting: str
    peer: str
    n: int = 0
    ours_psnr: list = field(default_factory=list)
    ours_ssim: list = field(default_factory=list)
    peer_psnr: list = field(default_factory=list)
    peer_ssim: list = field(default_factory=list)
    input_psnr: list = field(default_factory=list)
    ours_s: float = 0.0
    peer_s: float = 0.0
    megapixels: float = 0.0

    def summary(self) -> dict:
        mean = lambda v: float(np.mean(v)) if v else float("nan")
        return {"task": self.task, "setting": self.setting, "peer": self.peer, "photos": self.n,
                "input_psnr": mean(self.input_psnr), "peer_psnr": mean(self.peer_psnr),
                "peer_ssim": mean(self.peer_ssim), "ours_psnr": mean(self.ours_psnr),
                "ours_ssim": mean(self.ours_ssim), "gain_db": mean(self.ours_psnr) - mean(self.peer_psnr),
                "peer_s_per_mp": self.peer_s / max(self.megapixels, 1e-9),
                "ours_s_per_mp": self.ours_s / max(self.megapixels, 1e-9)}


def _photo(px: np.ndarray, jpeg_quality: int | None = None) -> Photo:
    return Photo(pixels=px.astype(np.float32), alpha=None, bit_depth=8, exif=None, icc=None,
                 format="JPEG" if jpeg_quality else "PNG", jpeg_quality=jpeg_quality, path=None)


def _timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


# --- peers ---------------------------------------------------------------------------------------
def bm3d_peer(noisy: np.ndarray, sigma: float) -> np.ndarray:
    import bm3d

    if noisy.shape[2] == 3:
        return np.clip(bm3d.bm3d_rgb(noisy, sigma / 255.0), 0, 1).astype(np.float32)
    return np.clip(bm3d.bm3d(noisy[..., 0], sigma / 255.0), 0, 1)[..., None].astype(np.float32)


def nlm_peer(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """OpenCV non-local means with its documented h ~ sigma setting, 7x7 patches, 21x21 search."""
    import cv2

    u8 = deg.to_uint8(noisy)
    h = float(sigma)
    if u8.shape[2] == 3:
        out = cv2.fastNlMeansDenoisingColored(u8, None, h, h, 7, 21)
    else:
        out = cv2.fastNlMeansDenoising(u8[..., 0], None, h, 7, 21)[..., None]
    return out.astype(np.float32) / 255.0


def opencv_inpaint_peer(img: np.ndarray, mask: np.ndarray, method: str) -> np.ndarray:
    import cv2

    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    u8 = deg.to_uint8(img)
    out = cv2.inpaint(u8 if u8.shape[2] == 3 else u8[..., 0], mask.astype(np.uint8) * 255, 5, flag)
    return (out.reshape(img.shape).astype(np.float32)) / 255.0


# --- the evaluation ------------------------------------------------------------------------------
def evaluate(tasks=("denoise", "sr", "jpeg", "inpaint"), photos=EVAL_PHOTOS, long_side: int = 512,
             models: dict | None = None, device: str = "auto", precision: str | None = None,
             state: TaskState | SubState | None = None, seed: int = 0) -> list[dict]:
    state = ensure_state(state)
    models = models or {}
    images = {name: load_eval_photo(name, long_side) for name in photos}
    rows: list[Row] = []
    settings = _settings(tasks, images)
    for i, (task, setting, peer, names, run) in enumerate(settings):
        state.check()
        state.report(i / len(settings), f"{task} {setting}")
        row = Row(task, setting, peer)
        model = resolve_model(models.get(task), task)
        for name in names:
            rng = np.random.default_rng([seed, EVAL_PHOTOS.index(name), i])
            run(row, images[name], rng, model, device, precision)
            row.n += 1
            row.megapixels += images[name].shape[0] * images[name].shape[1] / 1e6
        rows.append(row)
    state.report(1.0, "done")
    return [r.summary() for r in rows]


def _settings(tasks, images):
    colour = [n for n in images if is_colour(n)]
    gray = [n for n in images if not is_colour(n)]
    out = []
    if "denoise" in tasks:
        for sigma in (25, 50):
            out.append(("denoise", f"colour sigma {sigma}", "CBM3D", colour, _denoise_runner(sigma, bm3d_peer)))
            out.append(("denoise", f"colour sigma {sigma}", "OpenCV NLM", colour, _denoise_runner(sigma, nlm_peer)))
        for sigma in (15, 50):
            out.append(("denoise", f"gray sigma {sigma}", "BM3D", gray, _denoise_runner(sigma, bm3d_peer)))
            out.append(("denoise", f"gray sigma {sigma}", "OpenCV NLM", gray, _denoise_runner(sigma, nlm_peer)))
    if "sr" in tasks:
        for scale in (2, 3, 4):
            out.append(("sr", f"x{scale} (Y)", "bicubic", list(images), _sr_runner(scale)))
    if "jpeg" in tasks:
        for q in (10, 20, 30):
            out.append(("jpeg", f"colour q{q}", "JPEG", colour, _jpeg_runner(q)))
    if "inpaint" in tasks:
        out.append(("inpaint", "text 14-34 px", "OpenCV (best of Telea, NS)", list(images), _inpaint_runner()))
    return out


def _record(row: Row, clean, degraded, peer_out, ours_out, peer_s, ours_s, border=0, luma=False):
    view = (lambda im: rgb_to_y(im)) if luma else (lambda im: im)
    c = view(clean)
    row.input_psnr.append(psnr(c, view(degraded), border))
    row.peer_psnr.append(psnr(c, view(peer_out), border))
    row.peer_ssim.append(ssim(c, view(peer_out), border))
    row.ours_psnr.append(psnr(c, view(ours_out), border))
    row.ours_ssim.append(ssim(c, view(ours_out), border))
    row.peer_s += peer_s
    row.ours_s += ours_s


def _denoise_runner(sigma, peer_fn):
    def run(row, clean, rng, model, device, precision):
        noisy = deg.add_gaussian_noise(clean, sigma, rng)
        peer_out, peer_s = _timed(lambda: peer_fn(noisy, sigma))
        ours, ours_s = _timed(lambda: restore(_photo(noisy), "denoise", sigma=sigma, model=model,
                                              device=device, precision=precision).pixels)
        _record(row, clean, noisy, peer_out, ours, peer_s, ours_s)
    return run


def _sr_runner(scale):
    def run(row, clean, rng, model, device, precision):
        h, w = clean.shape[0] // scale * scale, clean.shape[1] // scale * scale  # crop to a multiple of scale
        hr = clean[:h, :w]
        lr = deg.quantize8(deg.bicubic_resize(hr, (w // scale, h // scale)))
        peer_out, peer_s = _timed(lambda: deg.quantize8(deg.bicubic_resize(lr, (w, h))))
        ours, ours_s = _timed(lambda: restore(_photo(lr), "sr", scale=scale, model=model, device=device,
                                              precision=precision).pixels)
        _record(row, hr, peer_out, peer_out, deg.quantize8(ours), peer_s, ours_s, border=scale, luma=True)
    return run


def _jpeg_runner(q):
    def run(row, clean, rng, model, device, precision):
        decoded, peer_s = _timed(lambda: deg.jpeg_degrade(clean, q))
        ours, ours_s = _timed(lambda: restore(_photo(decoded, jpeg_quality=q), "jpeg", model=model,
                                              device=device, precision=precision).pixels)
        _record(row, clean, decoded, decoded, deg.quantize8(ours), peer_s, ours_s)
    return run


def _inpaint_runner():
    def run(row, clean, rng, model, device, precision):
        mask = deg.text_mask(clean.shape[0], clean.shape[1], rng, size_range=(14, 34), dilate=1)
        holed = np.where(mask[..., None], 1.0, clean).astype(np.float32)  # white text over the photo
        candidates = {}
        for method in ("telea", "ns"):
            candidates[method] = _timed(lambda: opencv_inpaint_peer(holed, mask, method))
        best = max(candidates, key=lambda m: psnr(clean, candidates[m][0]))
        peer_out, peer_s = candidates[best]
        ours, ours_s = _timed(lambda: restore(_photo(holed), "inpaint", mask=mask, model=model, device=device,
                                              precision=precision).pixels)
        _record(row, clean, holed, peer_out, deg.quantize8(ours), peer_s, ours_s)
    return run


def markdown_table(summaries: list[dict]) -> str:
    lines = []
    for task in dict.fromkeys(s["task"] for s in summaries):
        lines += [f"### {task}", "",
                  "| setting | photos | input PSNR | peer | peer PSNR / SSIM | ours PSNR / SSIM | gain | peer s/MP | ours s/MP |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for s in (s for s in summaries if s["task"] == task):
            lines.append(f"| {s['setting']} | {s['photos']} | {s['input_psnr']:.2f} | {s['peer']} | "
                         f"{s['peer_psnr']:.2f} / {s['peer_ssim']:.4f} | {s['ours_psnr']:.2f} / {s['ours_ssim']:.4f} | "
                         f"{s['gain_db']:+.2f} dB | {s['peer_s_per_mp']:.2f} | {s['ours_s_per_mp']:.2f} |")
        lines.append("")
    return "\n".join(lines)
