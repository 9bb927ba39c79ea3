"""app.services.prefetch: the command-line photo read on a thread while the window loads."""

from __future__ import annotations

import numpy as np
import pytest

from app.services.prefetch import PhotoPrefetch
from rednet.errors import ImageReadError
from rednet.io import read_photo


def test_the_prefetched_photo_is_the_one_read_photo_gives(make_photo):
    path = make_photo("p.png", 40, 30)
    photo = PhotoPrefetch(path).read(path)
    assert np.array_equal(photo.pixels, read_photo(path).pixels) and photo.path == path


def test_another_file_or_a_second_read_is_read_afresh(make_photo, monkeypatch):
    first, other = make_photo("a.png", 20, 10, seed=1), make_photo("b.png", 30, 20, seed=2)
    prefetch = PhotoPrefetch(first)
    assert prefetch.read(other).width == 30
    prefetch = PhotoPrefetch(first)
    taken = prefetch.read(first)
    again = prefetch.read(first)
    assert again is not taken and np.array_equal(again.pixels, taken.pixels)


def test_a_broken_file_raises_its_own_error_where_it_is_opened(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    prefetch = PhotoPrefetch(path)  # no error on the thread's side
    with pytest.raises(ImageReadError, match="broken.png"):
        prefetch.read(path)
