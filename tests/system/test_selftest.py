"""`rednet-studio --selftest` and `--version`: the checks a bundle runs on itself (app/selftest.py).

The self-test runs as a subprocess, as a user (or scripts/build_bundle.sh) runs it, against a
temporary resources folder (REDNET_RESOURCES) holding the real samples and tiny untrained models.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rednet import __version__
from rednet.paths import resources_dir

REPO = Path(__file__).resolve().parents[2]
SAMPLES = ("noisy.png", "small.png", "compressed.jpg", "text.png", "text-mask.png")
TASK_LINES = {
    "denoise": r"PASS denoise noisy\.png -> 451x300 in \d+\.\d s",
    "sr": r"PASS sr small\.png -> 480x320 in \d+\.\d s",
    "jpeg": r"PASS jpeg compressed\.jpg -> 640x427 in \d+\.\d s",
    "inpaint": r"PASS inpaint text\.png -> 512x512 in \d+\.\d s",
}


@pytest.fixture(scope="module")
def tiny_resources(tmp_path_factory) -> Path:
    """rednet_resources/ with the real samples and icons and tiny random models named after the tasks."""
    import torch

    from rednet.models.registry import build_network, descriptor_for_task, save_model
    from rednet.tasks import TASKS

    real = resources_dir()
    if not all((real / "samples" / s).is_file() for s in SAMPLES):
        pytest.skip("the sample photos are not in rednet_resources/samples")
    root = tmp_path_factory.mktemp("resources")
    shutil.copytree(real / "samples", root / "samples")
    shutil.copytree(real / "icons", root / "icons")
    for i, task in enumerate(TASKS):
        torch.manual_seed(i)
        d = descriptor_for_task(task, depth=4, width=8)
        save_model(
            build_network(d), d, root / "weights" / f"{task}.safetensors", card={"summary": f"tiny test {task} model"}
        )
    return root


def run_app(args: list[str], resources: Path | None, home: Path, timeout: float = 300):
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    env.pop("REDNET_RESOURCES", None)
    if resources is not None:
        env["REDNET_RESOURCES"] = str(resources)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=home
    )


def test_version_prints_the_version(tmp_path):
    proc = run_app(["--version"], None, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"rednet-studio {__version__}"


def test_selftest_passes_with_every_model(tiny_resources, tmp_path):
    out = tmp_path / "out"
    proc = run_app(["--selftest", "--selftest-output", str(out)], tiny_resources, tmp_path)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert any(re.fullmatch(r"PASS window \d+x\d+ shown in \d+\.\d s .*", line) for line in lines), lines
    assert any(line.startswith("PASS icons") for line in lines), lines
    for task, pattern in TASK_LINES.items():
        assert any(re.fullmatch(pattern, line) for line in lines), (task, lines)
    assert not [line for line in lines if line.startswith("FAIL")]
    assert lines[-1] == "selftest: 6 of 6 checks passed (all passed)"
    # The restored samples were written where asked, at the checked sizes.
    from PIL import Image

    sizes = {p.name: Image.open(p).size for p in out.iterdir()}
    assert sizes == {
        "denoise-noisy.png": (451, 300),
        "sr-small.png": (480, 320),
        "jpeg-compressed.png": (640, 427),
        "inpaint-text.png": (512, 512),
    }
    # The user's folders were left alone (the window's settings live in a temporary folder).
    assert not (tmp_path / "config" / "rednet-studio").exists()


def test_selftest_fails_when_a_shipped_model_is_missing(tiny_resources, tmp_path):
    resources = tmp_path / "resources"
    shutil.copytree(tiny_resources, resources)
    (resources / "weights" / "jpeg.safetensors").unlink()
    proc = run_app(["--selftest"], resources, tmp_path)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    missing = resources / "weights" / "jpeg.safetensors"
    assert f"FAIL jpeg compressed.jpg: no shipped jpeg model: {missing} is missing" in lines
    # The other tasks still ran and passed; the summary counts the failure.
    for task in ("denoise", "sr", "inpaint"):
        assert any(re.fullmatch(TASK_LINES[task], line) for line in lines), (task, lines)
    assert "selftest: 5 of 6 checks passed (1 FAILED)" in lines


# ------------------------------------------------------------------ the output checks themselves
def _photo(h=40, w=50, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_inpaint_check_accepts_a_change_inside_the_mask_only():
    from app.selftest import check_output

    before = _photo()
    mask = np.zeros(before.shape[:2], bool)
    mask[10:20, 10:30] = True
    after = before.copy()
    after[mask] = 128
    check_output("inpaint", before, after, (50, 40), mask)


def test_inpaint_check_rejects_a_change_outside_the_mask():
    from app.selftest import CheckFailed, check_output

    before = _photo()
    mask = np.zeros(before.shape[:2], bool)
    mask[10:20, 10:30] = True
    after = before.copy()
    after[mask] = 128
    after[35, 45] = (before[35, 45].astype(int) + 40) % 256
    with pytest.raises(CheckFailed, match="1 pixels outside the mask changed"):
        check_output("inpaint", before, after, (50, 40), mask)


def test_checks_reject_an_unchanged_or_wrongly_sized_result():
    from app.selftest import CheckFailed, check_output

    before = _photo()
    with pytest.raises(CheckFailed, match="unchanged"):
        check_output("denoise", before, before.copy(), (50, 40))
    with pytest.raises(CheckFailed, match="saved result is 50x40, expected 100x80"):
        check_output("sr", before, before.copy(), (100, 80))
    with pytest.raises(CheckFailed, match="blank"):
        check_output("jpeg", before, np.full_like(before, 7), (50, 40))
