"""The app's own files when something hostile sits in their place: a named pipe as settings.ini or
as an autosave record, an oversized settings file, an autosave record nested 100,000 levels deep.
Start-up must not hang or crash; the file is treated as unreadable and the defaults are used."""

from __future__ import annotations

import os
import time

import pytest

from app.services import autosave_store as store
from app.services import settings as S
from tests.support.hang_guard import mkfifo, within

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")


@pytest.fixture(autouse=True)
def _bounded():
    with within(60):
        yield


@posix_only
def test_a_named_pipe_as_settings_ini(app_env):
    path = S.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    mkfifo(path)
    start = time.monotonic()
    s = S.Settings()
    assert time.monotonic() - start < 10
    assert s.get(S.TILE) == 0 and len(s.warnings) == 1
    assert "is a named pipe, not a settings file" in s.warnings[0] and "Using the defaults" in s.warnings[0]
    s.set(S.TILE, 64)
    s.sync()
    assert path.is_file() and S.Settings().get(S.TILE) == 64


def test_an_oversized_settings_file(app_env):
    path = S.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[run]\n" + "; padding\n" * 200_000 + "tile=64\n")
    s = S.Settings()
    assert s.get(S.TILE) == 0 and "too large for a settings file" in s.warnings[0]


def test_an_autosave_record_nested_100000_deep(app_env, tmp_path):
    folder = tmp_path / "session"
    folder.mkdir()
    (folder / store.SESSION_FILE).write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    assert store.read_session(folder) is None  # unreadable, not a RecursionError
    (folder / store.SESSION_FILE).write_text('{"source": "x.png", "timestamp": 1}')
    assert store.read_session(folder) == {"source": "x.png", "timestamp": 1}


@posix_only
def test_a_named_pipe_as_the_autosave_record(app_env, tmp_path):
    folder = tmp_path / "session"
    folder.mkdir()
    mkfifo(folder / store.SESSION_FILE)
    start = time.monotonic()
    assert store.read_session(folder) is None
    assert time.monotonic() - start < 10
