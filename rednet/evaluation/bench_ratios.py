"""The whole commands against what a user would otherwise run, each in a fresh process, as ratios:

- a small inpaint on a big photo (`rednet restore --task inpaint`) against the floor of any tool that
  edits a PNG: a fresh Python process that reads it with Pillow and writes it back;
- a 1 MP denoise (`rednet restore --task denoise`) against FFDNet as a whole process (read, denoise,
  write: what running FFDNet's own script costs);
- the app from `rednet-studio PHOTO` to the photo on screen against a minimal PySide6 program that
  shows the same photo in a QLabel (both offscreen).

Each is timed `reps` times and the fastest kept (start-up varies with the disk cache and, the first
time, with compiling the sources to bytecode). A row whose
peer cannot run here says why instead of a figure.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rednet.evaluation.bench_inputs import SIGMA, bench_photo, small_mask

# What the floor and the peers are run as: small programs on `python -c`.
_PILLOW_COPY = "import sys\nfrom PIL import Image\nImage.open(sys.argv[1]).save(sys.argv[2])\n"
_FFDNET_PROCESS = (
    "import sys\n"
    "import numpy as np, torch\n"
    "from PIL import Image\n"
    "from rednet.evaluation.peers import ffdnet_peer\n"
    "px = np.asarray(Image.open(sys.argv[1]).convert('RGB'), np.float32) / 255\n"
    "out = ffdnet_peer(px, float(sys.argv[3]))\n"
    "Image.fromarray((np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)).save(sys.argv[2])\n"
)
_MINIMAL_VIEWER = (
    "import sys, time\n"
    "from PySide6.QtCore import QTimer\n"
    "from PySide6.QtGui import QPixmap\n"
    "from PySide6.QtWidgets import QApplication, QLabel\n"
    "app = QApplication([])\n"
    "class Shown(QLabel):\n"
    "    def paintEvent(self, event):\n"
    "        super().paintEvent(event)\n"
    "        print('REDNET_PHOTO_SHOWN %.6f' % time.time(), flush=True)\n"
    "        QTimer.singleShot(0, app.quit)\n"
    "label = Shown()\n"
    "label.setPixmap(QPixmap(sys.argv[1]).scaled(1200, 800))\n"
    "label.show()\n"
    "app.exec()\n"
)
SHOWN = "REDNET_PHOTO_SHOWN"


def installed_env() -> dict:
    """This environment, but with Python caching bytecode as an installed program's does: with
    PYTHONDONTWRITEBYTECODE set (as some shells and containers do), every start compiled the app's
    sources afresh (0.1 s), which a user's install does not."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_timed(cmd: list, *, env: dict | None = None, until_shown: bool = False, timeout: float = 600) -> dict:
    """Wall seconds of `cmd` (or, with `until_shown`, until it printed SHOWN with its clock), its exit."""
    start = time.time()
    env = installed_env() if env is None else env
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=timeout)
    seconds = time.time() - start
    if until_shown:
        shown = [ln for ln in out.stdout.splitlines() if ln.startswith(SHOWN)]
        seconds = float(shown[0].split()[1]) - start if shown else None
    tail = (out.stderr.strip().splitlines() or [""])[-1][:200]
    return {"seconds": seconds, "rc": out.returncode, "error": tail if out.returncode else None}


def best_of(reps: int, cmd: list, **kw) -> dict:
    runs = [run_timed(cmd, **kw) for _ in range(reps)]
    good = [r for r in runs if r["rc"] == 0 and r["seconds"] is not None]
    return min(good, key=lambda r: r["seconds"]) if good else runs[-1]


def _rednet(*args) -> list:
    return [sys.executable, "-m", "rednet", *args]


def _offscreen_env(folder: Path) -> dict:
    env = dict(installed_env(), QT_QPA_PLATFORM="offscreen")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):  # not the user's settings
        env[var] = str(folder / "home" / var.lower())
    return env


def write_inputs(folder: Path, big: tuple[int, int], small: tuple[int, int]) -> dict:
    """The photos the commands run on: a big real photo with a small text mask, and a smaller noisy one."""
    from rednet.io import Photo, write_mask, write_photo

    pixels, source = bench_photo(*big)
    paths = {"big": folder / "big.png", "mask": folder / "big-mask.png", "noisy": folder / "noisy.png"}
    write_photo(Photo(pixels=pixels), paths["big"])
    write_mask(small_mask(big[1], big[0]), paths["mask"])
    clean, _ = bench_photo(*small)
    noisy = clean + np.random.default_rng(0).standard_normal(clean.shape, dtype=np.float32) * np.float32(SIGMA / 255)
    write_photo(Photo(pixels=np.clip(noisy, 0, 1)), paths["noisy"])
    return {**paths, "source": source}


def _row(name: str, ours: dict, peer_name: str, peer: dict | None, limit: float, note: str | None = None) -> dict:
    ok = ours["rc"] == 0 and peer is not None and peer["rc"] == 0 and ours["seconds"] and peer["seconds"]
    ratio = ours["seconds"] / peer["seconds"] if ok else None
    return {
        "name": name,
        "ours_s": ours["seconds"],
        "peer": peer_name,
        "peer_s": peer["seconds"] if peer else None,
        "ratio": ratio,
        "limit": limit,
        "met": ratio is not None and ratio <= limit,
        "note": note or ours.get("error") or (peer or {}).get("error"),
    }


def whole_command_ratios(folder: Path, *, quick: bool = False, reps: int = 2) -> dict:
    """Run every comparison; returns {"photos": ..., "rows": [...]} (see the module doc)."""
    from rednet.evaluation.peers import missing_reason

    big, small = ((320, 240), (160, 120)) if quick else ((4000, 3000), (1155, 866))
    folder.mkdir(parents=True, exist_ok=True)
    inputs = write_inputs(folder, big, small)
    out = folder / "out.png"
    rows = []

    inpaint = best_of(reps, _rednet("restore", inputs["big"], "-o", out, "--task", "inpaint", "--mask", inputs["mask"]))
    floor = best_of(reps, [sys.executable, "-c", _PILLOW_COPY, inputs["big"], out])
    rows.append(_row(f"small inpaint, {big[0]}x{big[1]}, whole command", inpaint, "Pillow read + write", floor, 1.5))

    denoise = best_of(reps, _rednet("restore", inputs["noisy"], "-o", out, "--task", "denoise", "--sigma", str(SIGMA)))
    why = missing_reason("ffdnet")
    ffdnet = None if why else best_of(reps, [sys.executable, "-c", _FFDNET_PROCESS, inputs["noisy"], out, SIGMA])
    rows.append(
        _row(f"denoise, {small[0]}x{small[1]}, whole command", denoise, "FFDNet whole process", ffdnet, 1.0, why)
    )

    if importlib.util.find_spec("PySide6") and importlib.util.find_spec("app"):
        env = _offscreen_env(folder)
        shown = best_of(
            reps, [sys.executable, "-m", "app", "--startup-probe", inputs["big"]], env=env, until_shown=True
        )
        viewer = best_of(reps, [sys.executable, "-c", _MINIMAL_VIEWER, inputs["big"]], env=env, until_shown=True)
        rows.append(
            _row(f"app start to the {big[0]}x{big[1]} photo shown", shown, "minimal PySide6 viewer", viewer, 1.5)
        )
    else:
        rows.append(
            _row(
                "app start to the photo shown",
                {"seconds": None, "rc": 1},
                "minimal PySide6 viewer",
                None,
                1.5,
                "the app is not installed here",
            )
        )
    return {"photos": {"big": list(big), "small": list(small), "source": inputs["source"]}, "rows": rows}
