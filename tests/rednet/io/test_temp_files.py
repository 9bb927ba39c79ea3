"""Temporary files: a recognisable name, and a sweep that removes those a killed run left behind
(and nothing a live writer still owns)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rednet.cli.main import main
from rednet.io import Photo, temp_files, write_photo
from rednet.io.atomic import atomic_write_text
from rednet.io.temp_files import FOREIGN_STALE_S, is_temp_name, remove_stale, temp_path
from tests.support.hang_guard import within

OURS = re.compile(r"^\.(.+)\.rednet-[0-9a-f]{6}-(\d+)-[0-9a-f]{8}\.tmp$")


@pytest.fixture(autouse=True)
def _bounded():
    with within(300):
        yield


def _photos(folder: Path, n: int = 2) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (16, 20, 3), dtype=np.uint8)).save(folder / f"p{i}.png")


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _fake_temp(folder: Path, final: str, pid: int, host: str | None = None, age_s: float = 0.0) -> Path:
    host = host or temp_files._HOST
    path = folder / f".{final}.rednet-{host}-{pid}-0123abcd.tmp"
    path.write_bytes(b"partial")
    if age_s:
        t = time.time() - age_s
        os.utime(path, (t, t))
    return path


# ------------------------------------------------------------------------------------------------
# naming
# ------------------------------------------------------------------------------------------------
def test_temp_names_say_whose_they_are(tmp_path):
    tmp = temp_path(tmp_path / "photo.png")
    match = OURS.match(tmp.name)
    assert tmp.parent == tmp_path and match and match.group(1) == "photo.png"
    assert int(match.group(2)) == os.getpid() and is_temp_name(tmp.name)
    long = temp_path(tmp_path / ("x" * 250 + ".png"))
    assert len(os.fsencode(long.name)) <= 255 and OURS.match(long.name)


@pytest.mark.parametrize("writer", ["photo", "atomic"])
def test_both_writers_use_the_name(tmp_path, monkeypatch, writer):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    if writer == "photo":
        write_photo(Photo(np.zeros((2, 2, 3), np.float32)), tmp_path / "a.png")
    else:
        atomic_write_text(tmp_path / "a.card.json", "{}")
    assert len(seen) == 1 and OURS.match(seen[0])
    assert _hidden(tmp_path) == []


# ------------------------------------------------------------------------------------------------
# the sweep
# ------------------------------------------------------------------------------------------------
def test_the_sweep_removes_only_what_no_live_writer_owns(tmp_path):
    dead = _fake_temp(tmp_path, "a.png", _dead_pid())
    mine = _fake_temp(tmp_path, "b.png", os.getpid())
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        live = _fake_temp(tmp_path, "c.png", sleeper.pid)  # written after its writer started
        reused = _fake_temp(tmp_path, "d.png", sleeper.pid, age_s=3600)  # older than that process
        other_young = _fake_temp(tmp_path, "e.png", 1, host="ffffff" if temp_files._HOST != "ffffff" else "eeeeee")
        other_old = _fake_temp(
            tmp_path,
            "f.png",
            1,
            host="ffffff" if temp_files._HOST != "ffffff" else "eeeeee",
            age_s=FOREIGN_STALE_S + 60,
        )
        legacy_young = tmp_path / ".g.png.0123456789ab.tmp"
        legacy_old = tmp_path / ".h.png.0123456789ab.tmp"
        not_ours = tmp_path / ".notes.txt.0123456789ab.tmp"
        user_file = tmp_path / ".hidden-settings"
        for p in (legacy_young, legacy_old, not_ours, user_file):
            p.write_bytes(b"x")
        old = time.time() - FOREIGN_STALE_S - 60
        for p in (legacy_old, not_ours):
            os.utime(p, (old, old))
        removed = remove_stale(tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()
    expect_removed = {dead, other_old, legacy_old}
    if temp_files._process_start_time(os.getpid()) is not None:  # where process start times are known
        expect_removed.add(reused)
    assert set(removed) == expect_removed
    for p in (mine, live, other_young, legacy_young, not_ours, user_file):
        assert p.exists(), p.name


def test_the_sweep_never_raises(tmp_path):
    assert remove_stale(tmp_path / "missing") == []
    (tmp_path / "file").write_text("x")
    assert remove_stale(tmp_path / "file") == []


# ------------------------------------------------------------------------------------------------
# a run killed while writing, then a rerun
# ------------------------------------------------------------------------------------------------
KILL_WHILE_WRITING = """
import os, signal, sys
import numpy as np
from rednet.io import Photo, write_photo

def die(*args, **kwargs):  # the moment between writing the temporary file and renaming it
    os.kill(os.getpid(), signal.SIGKILL)

os.replace = os.link = die
write_photo(Photo(np.zeros((16, 20, 3), np.float32)), sys.argv[1])
"""


def _killed_while_writing(dst: Path) -> str:
    repo = str(Path(__file__).resolve().parents[3])
    proc = subprocess.run(
        [sys.executable, "-c", KILL_WHILE_WRITING, str(dst)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": repo},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = _hidden(dst.parent)
    assert len(left) == 1, left  # what the crash left behind
    return left[0]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_skip_existing_batch_rerun_removes_what_a_killed_batch_left(tiny_models, tmp_path, capsys):
    _photos(tmp_path / "in", 2)
    out = tmp_path / "out"
    args = [
        "batch",
        tmp_path / "in",
        "-o",
        out,
        "--task",
        "denoise",
        "--sigma",
        "10",
        "--model",
        tiny_models["denoise"],
        "--skip-existing",
    ]
    assert main([str(a) for a in args]) == 0
    (out / "p1.png").unlink()
    _killed_while_writing(out / "p1.png")
    assert main([str(a) for a in args]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png"]  # the leftover is gone


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_restore_removes_what_a_killed_run_left_in_its_output_folder(tiny_models, tmp_path, capsys):
    _photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    out.mkdir()
    _killed_while_writing(out / "p0.png")
    code = main(
        [
            "restore",
            str(tmp_path / "in" / "p0.png"),
            "-o",
            str(out / "p0.png"),
            "--task",
            "denoise",
            "--sigma",
            "10",
            "--model",
            str(tiny_models["denoise"]),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["p0.png"]
