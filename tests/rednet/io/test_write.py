"""Tests for rednet.io.write (and encode): write_photo's files, its one-line errors and
its atomic writes.

Every image is generated inside tmp_path by the test itself; all of them are tiny.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from rednet.io import SUPPORTED_WRITE_EXTENSIONS, ImageWriteError, Photo, read_photo, write_photo
from tests.rednet.io.helpers import MAKE, as_float, exif_bytes, leftovers, rand8, rand16, small_photo, smooth, srgb_icc
from tests.support.unprivileged import run_python


# ------------------------------------------------------------------------------------------------
# encoders
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_files_written_are_readable_by_opencv_and_pillow(tmp_path, ext):
    data = rand16(4, 5, 3, seed=9)
    out = tmp_path / f"x{ext}"
    write_photo(Photo(as_float(data, 65535), bit_depth=16, icc=srgb_icc(), exif=exif_bytes()), out)
    decoded = cv2.imdecode(np.fromfile(str(out), np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.dtype == np.uint16 and np.array_equal(decoded[..., ::-1], data)
    with Image.open(out) as im:
        assert im.size == (5, 4)
        assert im.getexif()[MAKE] == "RED-Net Test"
        assert im.info["icc_profile"] == srgb_icc()


def test_8bit_tiff_written_is_readable_by_pillow_and_opencv(tmp_path):
    data = rand8(6, 4, 3, seed=2)
    out = tmp_path / "x.tif"
    write_photo(Photo(as_float(data, 255)), out)
    with Image.open(out) as im:
        assert np.array_equal(np.asarray(im), data)
    assert np.array_equal(cv2.imread(str(out), cv2.IMREAD_UNCHANGED)[..., ::-1], data)


def test_jpeg_quality_out_of_range(tmp_path):
    with pytest.raises(ValueError):
        write_photo(Photo(smooth(4, 4)), tmp_path / "a.jpg", jpeg_quality=0)
    with pytest.raises(ValueError):
        write_photo(Photo(smooth(4, 4)), tmp_path / "a.jpg", jpeg_quality=101)


def test_write_does_not_modify_the_photo(tmp_path):
    photo = Photo(smooth(4, 4), alpha=np.full((4, 4), 0.5, np.float32), exif=exif_bytes(6))
    pixels, alpha, exif = photo.pixels.copy(), photo.alpha.copy(), photo.exif
    for ext in SUPPORTED_WRITE_EXTENSIONS:
        write_photo(photo, tmp_path / f"w{ext}")
    assert np.array_equal(photo.pixels, pixels) and np.array_equal(photo.alpha, alpha)
    assert photo.exif == exif and photo.warnings == []


# ------------------------------------------------------------------------------------------------
# write errors and atomicity
# ------------------------------------------------------------------------------------------------
def test_overwrite_false_refuses_existing_file(tmp_path):
    out = tmp_path / "keep.png"
    out.write_bytes(b"original")
    with pytest.raises(ImageWriteError) as info:
        write_photo(small_photo(), out, overwrite=False)
    assert str(info.value).startswith("keep.png: already exists")
    assert out.read_bytes() == b"original"
    assert leftovers(tmp_path) == []


def test_overwrite_false_writes_new_file_and_overwrite_true_replaces(tmp_path):
    out = tmp_path / "new.png"
    write_photo(small_photo(0.25), out, overwrite=False)
    assert read_photo(out).pixels.mean() == pytest.approx(64 / 255)
    write_photo(small_photo(0.75), out)
    assert read_photo(out).pixels.mean() == pytest.approx(191 / 255)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.png"]


def test_missing_folder_and_directory_destination(tmp_path):
    missing = r"^out\.png: cannot write: folder .* does not exist$"
    with pytest.raises(ImageWriteError, match=missing):
        write_photo(small_photo(), tmp_path / "nope" / "out.png")
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageWriteError, match=r"^dir\.png: is a directory$"):
        write_photo(small_photo(), tmp_path / "dir.png")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        proc = run_python(
            "import errno, numpy as np\n"
            "from rednet.io import Photo, write_photo, ImageWriteError\n"
            "try:\n    write_photo(Photo(np.zeros((2, 3, 3), np.float32)), 'ro/out.png')\n"
            "except ImageWriteError as e:\n    print(e, e.errno == errno.EACCES)",
            tmp_path,
        )
    finally:
        folder.chmod(0o755)
    assert proc.stdout.strip() == "out.png: cannot write: Permission denied True", proc.stderr
    assert list(folder.iterdir()) == []


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_disk_full_leaves_no_temp_file_and_old_file_intact(tmp_path, monkeypatch, failing):
    # Simulated failures: works as root too, where a read-only folder would still be writable.
    out = tmp_path / "out.png"
    write_photo(small_photo(0.25), out)
    before = out.read_bytes()
    monkeypatch.setattr(os, failing, _disk_full)
    with pytest.raises(ImageWriteError) as info:
        write_photo(small_photo(0.75), out)
    monkeypatch.undo()
    assert str(info.value) == "out.png: cannot write: No space left on device"
    assert info.value.errno == errno.ENOSPC
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_permission_error_simulated(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(ImageWriteError) as info:
        write_photo(small_photo(), tmp_path / "out.jpg")
    monkeypatch.undo()
    assert str(info.value) == "out.jpg: cannot write: Permission denied"
    assert list(tmp_path.iterdir()) == []


def test_temp_file_lives_in_the_destination_folder(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src), Path(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_photo(small_photo(), tmp_path / "x.tif")
    ((src, dst),) = seen
    assert src.parent == dst.parent == tmp_path
    assert src.name.startswith(".x.tif.") and src.name.endswith(".tmp")
