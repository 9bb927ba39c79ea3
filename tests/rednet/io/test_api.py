"""rednet.io's public names: where they live, and what importing the package costs."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import rednet.io


def test_every_public_name_resolves_to_the_object_in_its_module():
    for name in rednet.io.__all__:
        module = importlib.import_module(rednet.io._PUBLIC[name])
        assert getattr(rednet.io, name) is getattr(module, name), name
    assert set(rednet.io.__all__) <= set(dir(rednet.io))


def test_a_name_patched_in_its_module_is_seen_through_the_package(monkeypatch):
    def fake(*args, **kwargs):
        return ["patched"]

    monkeypatch.setattr("rednet.io.write.write_photo", fake)
    assert rednet.io.write_photo is fake


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        rednet.io.no_such_thing  # noqa: B018


def test_light_modules_do_not_load_opencv_or_pillow():
    code = (
        "import sys\n"
        "import rednet.io, rednet.io.masks, rednet.io.atomic, rednet.io.safe_json, rednet.io.temp_files\n"
        "from rednet.io import SUPPORTED_READ_EXTENSIONS, Photo, is_supported_image_path\n"
        "print(sorted(m for m in ('cv2', 'PIL') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("module", ["rednet.io.read", "rednet.io.write"])
def test_reading_or_writing_alone_sets_up_pillow_for_photos_up_to_max_pixels(module):
    code = (
        f"import {module}\nfrom PIL import Image, ImageFile\n"
        "print(Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    limit, truncated = out.split()
    assert int(limit) >= rednet.io.MAX_PIXELS and truncated == "False"
