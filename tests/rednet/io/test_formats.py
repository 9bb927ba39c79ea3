"""Tests for rednet.io.formats: the extensions read and written."""

from __future__ import annotations

from pathlib import Path

import pytest

from rednet.io import (
    SUPPORTED_READ_EXTENSIONS,
    SUPPORTED_WRITE_EXTENSIONS,
    ImageWriteError,
    is_supported_image_path,
    write_photo,
)
from tests.rednet.io.helpers import small_photo


def test_extension_lists():
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif"} <= set(SUPPORTED_READ_EXTENSIONS)
    assert set(SUPPORTED_WRITE_EXTENSIONS) == {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}
    assert is_supported_image_path("a/b/PHOTO.JPG")
    assert is_supported_image_path(Path("x.tiff"))
    assert not is_supported_image_path("notes.txt")
    assert not is_supported_image_path("noextension")


@pytest.mark.parametrize("name", ["out.gif", "out.xyz", "out"])
def test_unsupported_extension(tmp_path, name):
    with pytest.raises(ImageWriteError) as info:
        write_photo(small_photo(), tmp_path / name)
    message = str(info.value)
    assert message.startswith(f"{name}: ")
    for ext in SUPPORTED_WRITE_EXTENSIONS:
        assert ext in message
    assert list(tmp_path.iterdir()) == []
