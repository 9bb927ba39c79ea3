"""The evaluation protocol: for each task its settings, the case each setting makes of a clean
photo (through the task's own `degrade`), how it is scored, and the peers it is compared with."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from rednet.evaluation import peers as P
from rednet.evaluation.evalset import is_colour
from rednet.evaluation.metrics import psnr, rgb_to_y, ssim
from rednet.io import Photo
from rednet.tasks import degradations as deg
from rednet.tasks import get_task


@dataclass
class Case:
    """One photo's degraded input for one setting: what every method gets and how it is scored."""

    clean: np.ndarray  # the reference every output is scored against
    degraded: np.ndarray  # every method's input (for sr: the low-resolution photo)
    photo: Photo  # restore()'s input: `degraded` as a Photo
    options: dict  # restore()'s options for the task (sigma, scale, mask)
    baseline: np.ndarray  # what "input PSNR" measures (for sr: the bicubic upscale)
    extra: dict = field(default_factory=dict)  # further peer inputs (the JPEG file's bytes, the mask)
    border: int = 0
    luma: bool = False
    quantize_ours: bool = True  # our output rounded to 8-bit before scoring, as a saved file would be

    def score(self, out: np.ndarray) -> tuple[float, float]:
        view = rgb_to_y if self.luma else (lambda im: im)
        c, o = view(self.clean), view(out)
        return psnr(c, o, self.border), ssim(c, o, self.border)

    def input_psnr(self) -> float:
        view = rgb_to_y if self.luma else (lambda im: im)
        return psnr(view(self.clean), view(self.baseline), self.border)


@dataclass(frozen=True)
class Peer:
    name: str  # as shown in the table
    run: Callable[[Case], tuple[np.ndarray, float]] | None  # -> (output, seconds); None when missing
    settings: str = ""  # what else decides its output (options, versions): part of the cache key
    missing: str | None = None  # why it cannot run here, else None


def _timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _optional_peer(name: str, package: str, run, settings: str) -> Peer:
    reason = P.missing_reason(package)
    if reason is not None:
        return Peer(f"{name} ({reason})", None, missing=reason)
    return Peer(name, run, f"{settings}; {package} {P.peer_version(package)}")


# --- the peers of each setting -------------------------------------------------------------------
def _bm3d(sigma, name):
    return _optional_peer(name, "bm3d", lambda c: _timed(lambda: P.bm3d_peer(c.degraded, sigma)), f"sigma {sigma}")


def _ffdnet(sigma):
    def run(c):
        P.ffdnet_net(c.degraded.shape[2])  # loading the weights is not the method's time
        return _timed(lambda: P.ffdnet_peer(c.degraded, sigma))

    return _optional_peer("FFDNet", "ffdnet", run, f"sigma {sigma}; torch {P.peer_version('torch')}")


def _nlm(sigma):
    return Peer(
        "OpenCV NLM",
        lambda c: _timed(lambda: P.nlm_peer(c.degraded, sigma)),
        f"h {sigma}, 7x7, 21x21; opencv {P.peer_version('opencv')}",
    )


def _bicubic():
    return Peer(
        "bicubic", lambda c: _timed(lambda: _bicubic_up(c.degraded, c.clean)), f"pillow {P.peer_version('pillow')}"
    )


def _jpeg_itself():
    return Peer(
        "JPEG",
        lambda c: _timed(lambda: deg.jpeg_decode(c.extra["jpeg"], c.clean.shape[2])),
        f"pillow decode {P.peer_version('pillow')}",
    )


def _jpegqs(quality=1):
    name = f"jpegqs -q {quality}"
    reason = P.missing_reason("jpegqs")
    if reason is not None:
        return Peer(f"{name} ({reason})", None, missing=reason)
    run = lambda c: _timed(lambda: P.jpegqs_peer(c.extra["jpeg"], c.clean.shape[2], quality))  # noqa: E731
    return Peer(name, run, f"jpegqs {P.peer_version('jpegqs')}; pillow decode {P.peer_version('pillow')}")


def _opencv_inpaint():
    def run(c):
        candidates = {
            m: _timed(lambda m=m: P.opencv_inpaint_peer(c.degraded, c.extra["mask"], m)) for m in ("telea", "ns")
        }
        return max(candidates.values(), key=lambda r: psnr(c.clean, r[0]))  # the better one, its time

    return Peer("OpenCV (best of Telea, NS)", run, f"radius 5; opencv {P.peer_version('opencv')}")


def _bicubic_up(lr, hr):
    return deg.quantize8(deg.bicubic_resize(lr, (hr.shape[1], hr.shape[0])))


# --- the settings --------------------------------------------------------------------------------
@dataclass
class Setting:
    task: str
    name: str
    photos: list[str]
    make_case: Callable[[np.ndarray, np.random.Generator], Case]
    peers: list[Peer]
    sigma: float | None = None  # denoise: the true noise level, for the noise-estimate row


def eval_input_photo(px: np.ndarray, jpeg_quality: int | None = None) -> Photo:
    """An 8-bit photo as an evaluation input (a JPEG when `jpeg_quality` is given, so its quality is read)."""
    return Photo(
        pixels=px.astype(np.float32),
        alpha=None,
        bit_depth=8,
        exif=None,
        icc=None,
        format="JPEG" if jpeg_quality else "PNG",
        jpeg_quality=jpeg_quality,
        path=None,
    )


def _case(task: str, *, restore_keys=(), quantize_ours=True, border=0, luma=False, **setting):
    """A setting's case builder: the task degrades the clean photo (`setting`: its degradation); our
    model gets the degraded photo as an 8-bit file would give it, with `restore_keys` of the task's
    options passed on (jpeg passes none: the quality is read from the file, as for a user)."""
    spec = get_task(task)

    def make(clean, rng):
        d = spec.degrade(clean, rng, **setting)
        photo = eval_input_photo(d.pixels, jpeg_quality=d.jpeg_quality)
        options = {k: d.options[k] for k in restore_keys}
        return Case(
            d.clean,
            d.pixels,
            photo,
            options,
            d.shown,
            extra=d.extra,
            quantize_ours=quantize_ours,
            border=border,
            luma=luma,
        )

    return make


def _denoise_settings(colour, gray, photos):
    def setting(kind, sigma, names, bm3d):
        case = _case("denoise", sigma=sigma, restore_keys=("sigma",), quantize_ours=False)
        return Setting(
            "denoise", f"{kind} sigma {sigma}", names, case, [_bm3d(sigma, bm3d), _ffdnet(sigma), _nlm(sigma)], sigma
        )

    return [setting("colour", s, colour, "CBM3D") for s in (25, 50)] + [
        setting("gray", s, gray, "BM3D") for s in (15, 50)
    ]


def _sr_settings(colour, gray, photos):
    return [
        Setting(
            "sr",
            f"x{scale} (Y)",
            list(photos),
            _case("sr", scale=scale, restore_keys=("scale",), border=scale, luma=True),
            [_bicubic()],
        )
        for scale in (2, 3, 4)
    ]


def _jpeg_settings(colour, gray, photos):
    return [
        Setting("jpeg", f"colour q{q}", colour, _case("jpeg", quality=q), [_jpeg_itself(), _jpegqs(1)])
        for q in (10, 20, 30)
    ]


def _inpaint_settings(colour, gray, photos):
    case = _case("inpaint", mask="text", restore_keys=("mask",))
    return [Setting("inpaint", "text 14-34 px", list(photos), case, [_opencv_inpaint()])]


# The evaluation protocol: for each task, its settings and the peers each is compared with (the peers
# are the free tools a user of that task would otherwise reach for).
PROTOCOL: dict[str, Callable[[list, list, list], list[Setting]]] = {
    "denoise": _denoise_settings,
    "sr": _sr_settings,
    "jpeg": _jpeg_settings,
    "inpaint": _inpaint_settings,
}


def settings_for(tasks, photos) -> list[Setting]:
    colour = [n for n in photos if is_colour(n)]
    gray = [n for n in photos if not is_colour(n)]
    out = [s for task in tasks for s in PROTOCOL[get_task(task).name](colour, gray, list(photos))]
    return [s for s in out if s.photos]  # e.g. no grey setting when only colour photos were asked for
