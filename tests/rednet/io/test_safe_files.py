"""safe_files: every user-supplied path is opened as a regular file, or refused with one line, at once.

Named pipes, links to /dev/zero and /dev/urandom are made at test time; every test runs under a time
limit, so a blocking open or an endless read fails the test instead of hanging the suite.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rednet.io import ImageReadError, read_mask, read_photo, safe_files
from rednet.io.safe_files import FileRefused, check_regular, describe, open_regular, problem, read_bytes, read_text
from tests.support.hang_guard import device_link, memory_cap, mkfifo, within

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and /dev need POSIX")


@pytest.fixture(autouse=True)
def _bounded():
    with within(60):
        yield


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe.png"
    mkfifo(path)
    return path


# ------------------------------------------------------------------------------------------------
# the guard itself
# ------------------------------------------------------------------------------------------------
@posix_only
@pytest.mark.parametrize("call", [read_bytes, check_regular, open_regular, read_text])
def test_a_named_pipe_is_refused_at_once(fifo, call):
    start = time.monotonic()
    with pytest.raises(FileRefused) as info:
        call(fifo, "photo")
    assert str(info.value) == "pipe.png: is a named pipe, not a photo"
    assert time.monotonic() - start < 5


@posix_only
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_link_to_a_device_is_refused_without_reading(tmp_path, device):
    link = device_link(tmp_path, device, "photo.jpg")
    with memory_cap(), pytest.raises(FileRefused, match=r"^photo\.jpg: is a device, not a photo$"):
        read_bytes(link, "photo")
    assert describe(link) == "a device"


@posix_only
def test_the_pipe_is_refused_even_if_it_appears_after_the_stat(tmp_path, monkeypatch):
    """The descriptor is checked too (fstat), and the open itself never waits for a writer."""
    pipe = tmp_path / "late.png"
    mkfifo(pipe)
    regular = tmp_path / "regular.png"
    regular.write_bytes(b"x")
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: real_stat(regular if Path(p) == pipe else p, *a, **k))
    with pytest.raises(FileRefused, match="is a named pipe, not a mask"):
        read_bytes(pipe, "mask")


def test_other_kinds_of_non_files(tmp_path):
    (tmp_path / "folder.png").mkdir()
    assert str(_refused(tmp_path / "folder.png")) == "folder.png: is a directory"
    assert str(_refused(tmp_path / "gone.png")) == "gone.png: file not found"
    if hasattr(os, "symlink"):
        (tmp_path / "dangling.png").symlink_to(tmp_path / "nowhere.png")
        assert str(_refused(tmp_path / "dangling.png")) == (
            "dangling.png: is a broken link (the file it points to does not exist)"
        )
    assert problem(tmp_path / "gone.png", "mask") == "file not found"
    assert problem(tmp_path / "folder.png", "mask") == "is a directory"


def _refused(path: Path) -> FileRefused:
    with pytest.raises(FileRefused) as info:
        read_bytes(path, "photo")
    return info.value


def test_the_size_cap_is_checked_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "card.card.json"
    big.write_bytes(b" " * 2000)
    with pytest.raises(
        FileRefused,
        match=r"^card\.card\.json: file is too large for a model card "
        r"\(2\.0 KB; at most 1\.0 KB\)$",
    ):
        read_bytes(big, "card", limit=1000)
    monkeypatch.setitem(safe_files.KINDS, "card", ("a model card", 1500))
    with pytest.raises(FileRefused, match="too large"):
        read_bytes(big, "card")
    assert read_bytes(big, "card", limit=5000) == b" " * 2000


def test_a_regular_file_reads_whole_and_blocking(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(bytes(range(256)) * 100)
    assert read_bytes(path) == bytes(range(256)) * 100
    with open_regular(path, "photo") as fh:
        assert os.get_blocking(fh.fileno()) if hasattr(os, "get_blocking") else True
        assert fh.read(3) == b"\x00\x01\x02"
    assert check_regular(path).st_size == 25600
    assert describe(path) is None and problem(path) is None


def test_text_must_be_utf8(tmp_path):
    path = tmp_path / "t.json"
    path.write_bytes(b"\xef\xbb\xbf{}")
    assert read_text(path) == "{}"
    path.write_bytes(b"\xff\xfe{")
    with pytest.raises(FileRefused, match=r"^t\.json: is not UTF-8 text"):
        read_text(path)


# ------------------------------------------------------------------------------------------------
# photos and masks
# ------------------------------------------------------------------------------------------------
def _read_error(path: Path, reader=read_photo) -> str:
    with pytest.raises(ImageReadError) as info:
        reader(path)
    message = str(info.value)
    assert "\n" not in message
    return message


@posix_only
def test_a_named_pipe_as_photo_or_mask(fifo):
    assert _read_error(fifo) == "pipe.png: is a named pipe, not a photo"
    assert _read_error(fifo, read_mask) == "pipe.png: is a named pipe, not a mask"


@posix_only
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_photo_is_refused_not_read_until_memory_runs_out(tmp_path, device):
    link = device_link(tmp_path, device, "scan.tif")
    with memory_cap():  # were it read, it would end in MemoryError here, not in the OOM killer
        assert _read_error(link) == "scan.tif: is a device, not a photo"
        if device == "/dev/zero":
            assert _read_error(Path(device)) == "zero: is a device, not a photo"


def test_a_regular_photo_still_reads(tmp_path):
    path = tmp_path / "ok.png"
    Image.fromarray(np.full((4, 5, 3), 7, np.uint8)).save(path)
    assert read_photo(path).pixels.shape == (4, 5, 3)
