"""Packaging: the wheel carries rednet_resources/, build.spec is portable, the icon and .desktop file are
complete, a windowed start without stdout survives, and (slow, deselected by default) the PyInstaller
bundle builds and passes its own self-test: `pytest -m slow tests/test_bundle.py`."""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "rednet_resources"


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ wheel
def test_packages_are_discovered_not_listed():
    """A new subpackage must reach the wheel without anyone remembering to list it."""
    setuptools = _pyproject()["tool"]["setuptools"]
    assert not isinstance(setuptools["packages"], list)
    assert setuptools["packages"]["find"]["include"] == ["rednet*", "app*"]
    found = {
        ".".join(p.parent.relative_to(REPO).parts)
        for top in ("rednet", "app", "rednet_resources")
        for p in (REPO / top).rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert {"rednet.engine", "app.canvas", "rednet_resources"} <= found


def test_wheel_ships_the_resources_and_finds_them(tmp_path):
    pytest.importorskip("setuptools")
    # Build from a copy, so setuptools' build/ and egg-info folders stay out of the working tree.
    source = tmp_path / "source"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for folder in ("rednet", "app", "rednet_resources"):
        shutil.copytree(REPO / folder, source / folder, ignore=skip)
    wheels = tmp_path / "wheels"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(wheels),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = wheels.glob("rednet_studio-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for sample in (RESOURCES / "samples").iterdir():
        assert f"rednet_resources/samples/{sample.name}" in names
    for icon in ("rednet-studio.svg", "rednet-studio.png", "rednet-studio.ico", "open.svg"):
        assert f"rednet_resources/icons/{icon}" in names
    for weights in sorted((RESOURCES / "weights").glob("*.safetensors")):
        assert f"rednet_resources/weights/{weights.name}" in names
    assert "rednet/paths.py" in names and "app/main.py" in names and "app/selftest.py" in names

    # "Install" it (a wheel is a zip laid out as site-packages) and ask rednet where its resources are.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {k: v for k, v in os.environ.items() if k not in ("REDNET_RESOURCES", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    code = (
        "import rednet, rednet.paths as p; print(rednet.__file__); print(p.resources_dir()); "
        "print(sorted(x.name for x in p.samples_dir().iterdir()))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    module, resources, samples = proc.stdout.splitlines()
    assert Path(module).is_relative_to(site)
    assert Path(resources) == site / "rednet_resources"
    assert ast.literal_eval(samples) == sorted(p.name for p in (RESOURCES / "samples").iterdir())


def test_resources_dir_order(monkeypatch, tmp_path):
    from rednet import paths

    monkeypatch.delenv("REDNET_RESOURCES", raising=False)
    assert paths.resources_dir() == RESOURCES  # a checkout
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == tmp_path / "resources"  # a bundle
    monkeypatch.setenv("REDNET_RESOURCES", str(tmp_path / "mine"))
    assert paths.resources_dir() == tmp_path / "mine"  # the override wins


def test_bundle_extra_and_slow_marker_are_configured():
    config = _pyproject()
    assert any(r.lower().startswith("pyinstaller") for r in config["project"]["optional-dependencies"]["bundle"])
    assert "-m 'not slow'" in config["tool"]["pytest"]["ini_options"]["addopts"]


# ------------------------------------------------------------------ spec
def test_build_spec_is_python_with_only_relative_paths():
    text = (REPO / "build.spec").read_text(encoding="utf-8")
    ast.parse(text)
    strings = [n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    absolute = [s for s in strings if re.match(r"^(/|[A-Za-z]:[\\/]|~)", s)]
    assert not absolute, f"build.spec must use paths relative to SPECPATH: {absolute}"
    assert "SPECPATH" in text
    assert 'name="rednet-studio", console=False' in text and 'name="rednet", console=True' in text


# ------------------------------------------------------------------ icon and desktop entry
def test_application_icon_files():
    from PIL import Image

    svg = (RESOURCES / "icons" / "rednet-studio.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg") and "#d63a48" in svg  # the app's accent red
    png = Image.open(RESOURCES / "icons" / "rednet-studio.png")
    assert png.size == (256, 256) and png.mode == "RGBA"
    ico = Image.open(RESOURCES / "icons" / "rednet-studio.ico")
    assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])


def test_desktop_file():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(RESOURCES / "rednet-studio.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "RED-Net Studio"
    assert entry["Exec"].split()[0] == "rednet-studio" and entry["Icon"] == "rednet-studio"
    assert entry["Terminal"] == "false" and "Graphics;" in entry["Categories"]
    assert "image/jpeg" in entry["MimeType"].split(";")


def test_window_icon_is_set():
    """The application (and so every window) gets the icon; run apart so the theme stays out of
    the other GUI tests' QApplication."""
    code = (
        "from app.main import create_application\n"
        "app = create_application()\n"
        "print(app.windowIcon().pixmap(48, 48).isNull(), app.desktopFileName())\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "rednet-studio"]


# ------------------------------------------------------------------ windowed start (no console)
def test_missing_stdout_and_stderr_go_to_a_log_file(tmp_path):
    """A console-less GUI executable starts with sys.stdout/stderr = None."""
    code = (
        "import sys; sys.stdout = None; sys.stderr = None\n"
        "from app.main import ensure_stdio\n"
        "ensure_stdio(); print('hello from a windowed start'); sys.stderr.write('and its stderr\\n')\n"
    )
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    log = tmp_path / "data" / "rednet-studio" / "rednet-studio.log"
    assert log.read_text(encoding="utf-8") == "hello from a windowed start\nand its stderr\n"


# ------------------------------------------------------------------ the bundle itself
@pytest.mark.slow
def test_build_bundle_script_builds_a_bundle_that_passes_its_selftest():
    """Builds dist/rednet-studio/ with PyInstaller (minutes) and runs its self-test offscreen."""
    pytest.importorskip("PyInstaller")
    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "build_bundle.sh")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=3600,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-4000:]
    for task in ("denoise", "sr", "jpeg", "inpaint"):
        assert re.search(rf"^PASS {task} \S+ -> \d+x\d+ in ", out, re.M), out
    assert re.search(r"^selftest: (\d+) of \1 checks passed", out, re.M)
    assert "Qt: one copy (PySide6)" in out
    assert re.search(r"^rednet-studio --version: \d+\.\d+ s", out, re.M)
    bundle = REPO / "dist" / "rednet-studio"
    assert (bundle / "rednet-studio").is_file() and (bundle / "rednet").is_file()
    assert (bundle / "_internal" / "resources" / "icons" / "rednet-studio.svg").is_file()
