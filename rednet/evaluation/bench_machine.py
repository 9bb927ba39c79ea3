"""What `rednet bench` measures the machine and a model by: FLOPs per pixel counted from the
descriptor, the CPU and its cores, and the measured peaks of a large matmul and a convolution."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np

from rednet.engine.device import cpu_name


# --- model arithmetic ----------------------------------------------------------------------------
def layer_channels(descriptor) -> list[tuple[int, int]]:
    """(Cin, Cout) of every 3x3 layer of a RED-Net: N convolutions, then N transposed convolutions
    (a space-to-depth one folds each 2x2 block into 4x the colour and condition channels)."""
    d = descriptor
    n, fold = d.depth // 2, d.block**2
    convs = [((d.colors + d.cond_channels) * fold if i == 0 else d.width, d.width) for i in range(n)]
    deconvs = [(d.width, d.colors * fold if j == n - 1 else d.width) for j in range(n)]
    return convs + deconvs


def flops_per_pixel(descriptor) -> int:
    """FLOPs per output pixel of the conv stack: 2 * 9 * Cin * Cout per layer (a MAC counts 2), per
    network position, which a space-to-depth network shares among a block's pixels."""
    per_position = sum(2 * 9 * cin * cout for cin, cout in layer_channels(descriptor))
    return -(-per_position // descriptor.block**2)


def weight_count(descriptor) -> int:
    """Weights of the 3x3 kernels (biases left out): FLOPs per pixel are twice this."""
    return sum(9 * cin * cout for cin, cout in layer_channels(descriptor))


# --- machine -------------------------------------------------------------------------------------
def _physical_cores() -> int | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    cores, phys = set(), None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            phys = value.strip()
        elif key == "core id":
            cores.add((phys, value.strip()))
    return len(cores) or None


def machine_info() -> dict:
    import torch

    from rednet.engine.device import cpu_has_fast_bf16
    from rednet.engine.inference import available_memory

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    info = {
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "cpu": cpu_name(),
        "logical_cores": os.cpu_count(),
        "physical_cores": _physical_cores(),
        "torch_threads": torch.get_num_threads(),
        "fast_bf16": cpu_has_fast_bf16(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "mem_available_gb": (available_memory() or 0) / 2**30,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_before": list(load) if load else None,
    }
    return info


def _best_time(fn, reps: int, min_total: float = 0.0, median: bool = False) -> float:
    """Best (or median) wall time of `fn` over at least `reps` calls and `min_total` seconds."""
    fn()  # warm-up: primitive creation, caches
    times: list[float] = []
    while len(times) < reps or sum(times) < min_total:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) if median else min(times)


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def matmul_peak(dtype: str, device: str = "cpu", n: int = 2048, reps: int = 5) -> float:
    """GFLOP/s of an n x n x n matmul in `dtype` ("fp32", "bf16", "fp16"): the machine's practical peak."""
    import torch

    dt = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]
    a = torch.randn(n, n, device=device).to(dt)
    b = torch.randn(n, n, device=device).to(dt)

    def run():
        a @ b
        _sync(device)

    # the median over ~2 s: on a shared machine the model timings see average contention, not the best moment
    return 2 * n**3 / _best_time(run, reps, min_total=2.0 if n >= 2048 else 0.0, median=True) / 1e9


def conv_peak(dtype: str, device: str = "cpu", side: int = 512, width: int = 64, reps: int = 3) -> float:
    """GFLOP/s of one width->width 3x3 convolution on a side x side map (channels-last) in `dtype`."""
    import torch
    import torch.nn.functional as F

    dt = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]
    x = torch.randn(1, width, side, side, device=device).to(dt).contiguous(memory_format=torch.channels_last)
    w = (torch.randn(width, width, 3, 3, device=device) * 0.05).to(dt).contiguous(memory_format=torch.channels_last)

    def run():
        with torch.inference_mode():
            F.conv2d(x, w, None, padding=1)
        _sync(device)

    return 2 * 9 * width * width * side * side / _best_time(run, reps, median=True) / 1e9
