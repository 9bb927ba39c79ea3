"""Limits for tests that point the program at pipes and devices: a hang or a runaway read fails the
test, it never blocks the suite or exhausts the machine's memory.

    @pytest.fixture(autouse=True)
    def _bounded():
        with within(60):
            yield

    pipe = mkfifo(tmp_path / "in.png")      # os.mkfifo, and released by `within` when time is up
    with memory_cap():                       # reads of /dev/zero end in MemoryError, not in the OOM killer
        read_photo(link_to_dev_zero)

`within(seconds)` raises TimeoutError in the main thread after `seconds` (SIGALRM). An open() of a FIFO
blocked inside a library (safetensors' Rust code retries the interrupted call itself, so no Python
signal handler ever runs) is released as well: when time is up a watchdog thread opens every pipe made
with `mkfifo` for writing and closes it again, which ends the blocked open and gives the reader EOF.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path

_fifos: list[Path] = []


def mkfifo(path: str | os.PathLike) -> Path:
    """os.mkfifo(path), remembered so that `within` can release a reader stuck on it."""
    path = Path(path)
    os.mkfifo(path)
    _fifos.append(path)
    return path


def _release_fifos() -> None:
    for path in list(_fifos):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # fails (ENXIO) when nobody reads it
        except OSError:
            continue
        os.close(fd)


@contextlib.contextmanager
def within(seconds: float):
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return
    done = threading.Event()

    def watchdog() -> None:
        if done.wait(seconds):
            return
        while not done.wait(0.2):  # until the blocked test gives up
            _release_fifos()

    def expired(signum, frame):
        raise TimeoutError(f"did not finish within {seconds:g} s (a blocking open or an endless read?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    guard = threading.Thread(target=watchdog, name="hang-guard", daemon=True)
    guard.start()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        done.set()
        guard.join(timeout=5)
        _fifos.clear()


@contextlib.contextmanager
def memory_cap(extra_bytes: int = 2 << 30):
    """Limit this process's address space to what it uses now plus `extra_bytes` (soft limit, put
    back afterwards), so that reading a device without end fails with MemoryError. A no-op where
    the limit cannot be set."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as fh:
            used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        cap = used + extra_bytes
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, OSError, ValueError, AttributeError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def device_link(folder: Path, device: str, name: str) -> Path:
    """A link named like a photo or model to a device such as /dev/zero (skipped where there is none)."""
    import pytest

    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    link = Path(folder) / name
    link.symlink_to(device)
    return link
