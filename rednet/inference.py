"""Running a loaded model over an image: device, precision, tile size, out-of-memory recovery."""

from __future__ import annotations

import threading

import numpy as np
import torch

from .device import autocast_dtype, default_precision, resolve_device
from .progress import SubState, TaskState
from .registry import LoadedModel
from .tiling import run_tiled

MIN_TILE = 64
_move_lock = threading.Lock()


def auto_tile(model: LoadedModel, device: torch.device, precision: str) -> int:
    """The largest tile whose activations fit a memory budget (0.5 GB on CPU, half the free GPU memory)."""
    d = model.descriptor
    bytes_per_value = 4 if precision == "fp32" else 2
    live_maps = d.depth // 4 + 4  # skip features held plus the layers in flight
    per_pixel = d.width * bytes_per_value * live_maps
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        budget = free // 2
    else:
        budget = 512 * 2**20
    side = int((budget / per_pixel) ** 0.5) - 2 * d.depth
    return int(np.clip(side // 32 * 32, MIN_TILE, 1024))


def _prepare(net: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    with _move_lock:  # the GUI may run two jobs on one cached model
        net.to(device)
        if device.type == "cpu":
            net.to(memory_format=torch.channels_last)
    return net


def run_model(model: LoadedModel, x: np.ndarray, *, device: str | torch.device = "auto",
              tile: int | None = None, precision: str | None = None,
              state: TaskState | SubState | None = None) -> np.ndarray:
    """Apply `model` to `x` (HxWxC float32); returns HxWx3 float32. Halves the tile on CUDA OOM, then falls back to CPU."""
    dev = resolve_device(device)
    tensor = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
    while True:
        prec = precision or default_precision(dev)
        size = tile or auto_tile(model, dev, prec)
        try:
            with torch.inference_mode():
                out = run_tiled(_prepare(model.net, dev), tensor, tile=size, margin=model.descriptor.depth,
                                out_channels=model.descriptor.colors, device=dev,
                                dtype=autocast_dtype(prec), state=state, channels_last=dev.type == "cpu")
            return out[0].numpy().transpose(1, 2, 0)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            if size // 2 >= MIN_TILE:
                tile = size // 2
            else:  # even the smallest tile does not fit: finish on the CPU
                dev, tile, precision = torch.device("cpu"), None, None
