"""Peak memory and start-up of `rednet restore`, each measured in a fresh process."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from rednet.evaluation.bench_inputs import SIGMA, BenchModel, small_mask, synthetic_photo
from rednet.tasks import get_task

# What `rednet restore` is run as in the probes: the console script's own code, instrumented to print
# the wall-clock time of its first progress callback (start-up = that minus the process's start) and,
# after the command has finished, its peak RSS (VmHWM; ru_maxrss from wait4 is no good on Linux: a
# child inherits its parent's high-water mark across fork and exec) and the CUDA peak when it used CUDA.
_PROBE_DRIVER = (
    "import sys, time\n"
    "import rednet.cli.progress as cp\n"
    "_call = cp.ProgressPrinter.__call__\n"
    "def first(self, p, _seen=[]):\n"
    "    if not _seen:\n"
    "        _seen.append(1)\n"
    "        sys.stderr.write('REDNET_FIRST_PROGRESS %.6f\\n' % time.time())\n"
    "        sys.stderr.flush()\n"
    "    return _call(self, p)\n"
    "cp.ProgressPrinter.__call__ = first\n"
    "from rednet.cli.main import main\n"
    "rc = main(sys.argv[1:])\n"
    "t = sys.modules.get('torch')\n"
    "if t is not None and t.cuda.is_available() and t.cuda.is_initialized():\n"
    "    print('CUDA_MAX_ALLOCATED', t.cuda.max_memory_allocated(), file=sys.stderr)\n"
    "try:\n"
    "    hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')]\n"
    "    print('VMHWM_KB', hwm[0].split()[1], file=sys.stderr)\n"
    "except (OSError, IndexError):\n"
    "    pass\n"
    "sys.exit(rc)\n"
)


# --- memory and start-up, in a fresh process -----------------------------------------------------
def _size_for(megapixels: float) -> tuple[int, int]:
    """(width, height) at 4:3 with about `megapixels`."""
    h = max(8, int(round(math.sqrt(megapixels * 1e6 * 3 / 4))))
    return max(8, int(round(h * 4 / 3))), h


def run_probe(
    args: list[str], *, kill_at_first_progress: bool = False, timeout: float | None = None, env: dict | None = None
) -> dict:
    """Run `rednet ARGS` in a fresh Python process; returns wall time, peak RSS (MB), the time from
    process start to its first progress line, the CUDA peak it printed, and its exit status."""
    cmd = [sys.executable, "-c", _PROBE_DRIVER, *[str(a) for a in args]]
    t0, start = time.perf_counter(), time.time()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or os.environ.copy()
    )
    first: list[float] = []
    err_lines: list[str] = []

    def read_stderr():
        for line in proc.stderr:
            if not first and line.startswith("REDNET_FIRST_PROGRESS"):
                first.append(float(line.split()[1]) - start)
                if kill_at_first_progress:
                    proc.kill()
            err_lines.append(line)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    timer = threading.Timer(timeout, proc.kill) if timeout else None
    if timer:
        timer.start()
    rss_mb = None
    try:
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            # the fallback where the probe cannot read VmHWM: KiB on Linux, bytes on macOS
            rss_mb = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
        else:  # pragma: no cover - Windows
            proc.wait()
    finally:
        if timer:
            timer.cancel()
    wall = time.perf_counter() - t0
    reader.join(timeout=5)
    proc.stdout.read()
    cuda = None
    for line in err_lines:
        if line.startswith("CUDA_MAX_ALLOCATED"):
            cuda = int(line.split()[1]) / 2**20
        elif line.startswith("VMHWM_KB"):
            rss_mb = int(line.split()[1]) / 2**10
    errors = [ln.strip() for ln in err_lines if "error" in ln.lower()]
    return {
        "wall_s": wall,
        "peak_rss_mb": rss_mb,
        "startup_s": first[0] if first else None,
        "cuda_max_allocated_mb": cuda,
        "rc": proc.returncode,
        "killed_at_first_progress": kill_at_first_progress,
        "error": errors[-1] if errors else None,
    }


def _probe_args(bm: BenchModel, folder: Path, megapixels: float, device: str, photos: dict) -> list[str]:
    """Write (once per size) the synthetic photo a probe restores and return `rednet restore` args."""
    from rednet.io import Photo, write_mask, write_photo

    task = bm.loaded.descriptor.task
    spec = get_task(task)
    w, h = _size_for(megapixels)
    factor = spec.output_size((w, h), spec.example)[0] / w  # sr: the input is `factor` times smaller
    w, h = int(w / factor), int(h / factor)
    key = (w, h)
    if key not in photos:
        path = folder / f"probe-{w}x{h}.png"
        rng = np.random.default_rng(1)
        px = synthetic_photo(h, w)
        px += rng.standard_normal(px.shape, dtype=np.float32) * np.float32(SIGMA / 255)
        np.clip(px, 0, 1, out=px)
        write_photo(Photo(pixels=px), path)
        mask_path = folder / f"probe-{w}x{h}-mask.png"
        write_mask(small_mask(h, w), mask_path)
        photos[key] = (path, mask_path)
    src, mask_path = photos[key]
    args = ["restore", src, "-o", folder / "probe-out.png", "--task", task, "--model", bm.path, "--device", device]
    for name, value in spec.example.items():  # the task's typical case, as in `task_case`
        args += [f"--{name}", mask_path if name == "mask" else str(value)]
    return args
