"""What the window needs before it shows a photo does not import torch (a second or more): torch
comes with the first network, or from the window's background preload after the first paint."""

from __future__ import annotations

import subprocess
import sys


def _imports_torch(code: str) -> bool:
    check = f"{code}\nimport sys\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1] == "True"


def test_the_main_window_module_does_not_import_torch():
    assert not _imports_torch("import app.main_window")


def test_listing_and_describing_models_does_not_import_torch():
    code = (
        "from rednet.models import registry\n"
        "registry.list_models('denoise')\n"
        "registry.descriptor_for_task('denoise', depth=20, width=64, arch='rednet-s2d').margin"
    )
    assert not _imports_torch(code)


def test_restoring_does_import_it():
    assert _imports_torch("import rednet.engine.inference")


def test_the_space_to_depth_block_is_the_network_s_own():
    from rednet.models.arch import BLOCK
    from rednet.models.registry import ARCHITECTURES

    assert ARCHITECTURES["rednet-s2d"].block == BLOCK


def test_the_startup_probe_prints_when_the_photo_is_shown_and_quits(tmp_path):
    import os
    import time

    import numpy as np

    from rednet.io import Photo, write_photo

    photo = tmp_path / "probe.png"
    write_photo(Photo(pixels=np.full((40, 60, 3), 0.5, np.float32)), photo)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / var.lower())
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-m", "app", "--startup-probe", str(photo)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    (line,) = [ln for ln in out.stdout.splitlines() if ln.startswith("REDNET_PHOTO_SHOWN")]
    assert start < float(line.split()[1]) < time.time()
