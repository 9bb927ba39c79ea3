"""Broken pipes, full and closed stdout/stderr: printing never decides a job's outcome.

`rednet restore ... | true`, stdout on /dev/full, `2>&-`: the outputs are written, the exit status
is the work's, and no traceback or "Exception ignored" reaches the terminal.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rednet.cli import console
from rednet.cli.main import main
from rednet.cli.progress import ProgressPrinter
from rednet.progress import Progress
from tests.support.hang_guard import within


@pytest.fixture(autouse=True)
def _bounded():
    with within(300):
        yield


class FailingStream(io.TextIOBase):
    """A stdout/stderr whose every write fails like a closed pipe or a full disk."""

    def __init__(self, err: int):
        self.err = err
        self.attempts = 0

    def write(self, text):
        self.attempts += 1
        raise OSError(self.err, os.strerror(self.err))

    def flush(self):
        raise OSError(self.err, os.strerror(self.err))

    def isatty(self):
        return False


def _photos(folder: Path, n: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = folder / f"p{i}.png"
        Image.fromarray(rng.integers(0, 255, (16, 20, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


# ------------------------------------------------------------------------------------------------
# the writer
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("err", [errno.EPIPE, errno.ENOSPC, errno.EBADF])
def test_a_failing_stream_is_ignored_and_then_left_alone(err):
    stream = FailingStream(err)
    assert console.write(stream, "hello\n") is False
    assert console.write(stream, "again\n") is False
    assert stream.attempts == 1 and console.is_dead(stream)


def test_a_closed_or_missing_stream_is_ignored():
    closed = io.StringIO()
    closed.close()
    assert console.write(closed, "x") is False
    assert console.write(None, "x") is False


def test_a_working_stream_gets_every_line():
    buf = io.StringIO()
    assert console.write(buf, "a\n") and console.write(buf, "b\n")
    assert buf.getvalue() == "a\nb\n"


def test_say_and_tell_follow_the_current_streams(monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    console.say("to", "stdout")
    console.tell("to stderr")
    assert out.getvalue() == "to stdout\n" and err.getvalue() == "to stderr\n"
    monkeypatch.setattr(sys, "stdout", None)  # started with stdout closed (`>&-`)
    assert console.say("lost") is False


def test_progress_on_a_broken_stream_never_raises():
    for tty in (False, True):
        stream = FailingStream(errno.EPIPE)
        stream.isatty = lambda tty=tty: tty
        printer = ProgressPrinter("job", stream=stream, interval_s=0.0)
        printer(Progress(0.5, "half", 1.0, 1.0))
        printer(Progress(1.0, "done", 2.0, 0.0))
        printer.close()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_device_is_retired_so_the_exit_flush_is_quiet():
    full = open("/dev/full", "w")
    try:
        assert console.write(full, "x" * 10) is False
        full.write("more")  # what other code may still buffer
        full.flush()  # goes to the null device now: no "No space left on device"
    finally:
        full.close()


# ------------------------------------------------------------------------------------------------
# the commands
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("err", [errno.EPIPE, errno.ENOSPC])
def test_restore_with_a_broken_stdout_succeeds(tiny_models, tmp_path, capsys, monkeypatch, err):
    (src,) = _photos(tmp_path / "in", 1)
    out = tmp_path / "out.png"
    monkeypatch.setattr(sys, "stdout", FailingStream(err))
    code = main(
        [
            "restore",
            str(src),
            "-o",
            str(out),
            "--task",
            "denoise",
            "--sigma",
            "10",
            "--model",
            str(tiny_models["denoise"]),
        ]
    )
    stderr = capsys.readouterr().err
    assert code == 0, stderr
    assert out.is_file() and "error" not in stderr and "Traceback" not in stderr


def test_restore_with_both_streams_broken_still_reports_through_the_exit_status(tiny_models, tmp_path, monkeypatch):
    (good,) = _photos(tmp_path / "in", 1)
    bad = tmp_path / "in" / "notes.png"
    bad.write_text("not a photo")
    monkeypatch.setattr(sys, "stdout", FailingStream(errno.EPIPE))
    monkeypatch.setattr(sys, "stderr", FailingStream(errno.EPIPE))
    code = main(
        [
            "restore",
            str(good),
            str(bad),
            "-o",
            str(tmp_path / "out"),
            "--task",
            "denoise",
            "--sigma",
            "10",
            "--model",
            str(tiny_models["denoise"]),
        ]
    )
    assert code == 1  # one input failed: that is the work's outcome, whatever the terminal did
    assert (tmp_path / "out" / "p0.png").is_file() and not (tmp_path / "out" / "notes.png").exists()


def test_batch_with_a_broken_stdout_ends_normally(tiny_models, tmp_path, capsys, monkeypatch):
    _photos(tmp_path / "in", 3)
    monkeypatch.setattr(sys, "stdout", FailingStream(errno.EPIPE))
    code = main(
        [
            "batch",
            str(tmp_path / "in"),
            "-o",
            str(tmp_path / "out"),
            "--task",
            "denoise",
            "--sigma",
            "10",
            "--model",
            str(tiny_models["denoise"]),
        ]
    )
    stderr = capsys.readouterr().err
    assert code == 0, stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p0.png", "p1.png", "p2.png"]
    assert "Traceback" not in stderr and "Broken pipe" not in stderr


@pytest.mark.skipif(os.name != "posix", reason="pipes with a closed read end")
def test_rednet_batch_piped_into_a_closed_pipe(tiny_models, tmp_path):
    """The real thing: `rednet batch ... | true` (stdout's reader is gone before anything is printed)."""
    _photos(tmp_path / "in", 2)
    read_end, write_end = os.pipe()
    os.close(read_end)
    repo = str(Path(__file__).resolve().parents[3])
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "rednet",
                "batch",
                str(tmp_path / "in"),
                "-o",
                str(tmp_path / "out"),
                "--task",
                "denoise",
                "--sigma",
                "10",
                "--model",
                str(tiny_models["denoise"]),
            ],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=240,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": repo},
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored" at exit
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p0.png", "p1.png"]
