"""Tiled inference: bounded memory on photos of any size, with output identical to a whole-image pass.

Each tile is run with a margin of context on every side at least the network's receptive radius;
only the tile's centre is kept, so zero padding at tile edges never reaches a kept pixel. Progress is
reported and cancellation checked between tiles.
"""

from __future__ import annotations

import contextlib
import math
from typing import Callable

import torch

from .progress import SubState, TaskState, ensure_state

Network = Callable[[torch.Tensor], torch.Tensor]


def tile_grid(length: int, tile: int) -> list[tuple[int, int]]:
    """Split 0..length into near-equal spans of at most `tile` (no sliver at the end)."""
    count = max(1, math.ceil(length / tile))
    bounds = [round(i * length / count) for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(count)]


def run_tiled(net: Network, x: torch.Tensor, *, tile: int, margin: int, out_channels: int,
              device: torch.device, dtype: torch.dtype | None = None,
              state: TaskState | SubState | None = None, channels_last: bool = False) -> torch.Tensor:
    """Apply `net` to `x` (1xCxHxW, on the CPU) tile by tile on `device`; returns 1xOxHxW float32 on the CPU."""
    state = ensure_state(state)
    _, _, height, width = x.shape
    rows, cols = tile_grid(height, tile), tile_grid(width, tile)
    out = torch.empty((1, out_channels, height, width), dtype=torch.float32)
    total, done = len(rows) * len(cols), 0
    autocast = (torch.autocast(device_type=device.type, dtype=dtype) if dtype is not None
                else contextlib.nullcontext())
    for y0, y1 in rows:
        for x0, x1 in cols:
            state.check()
            ty0, ty1 = max(0, y0 - margin), min(height, y1 + margin)
            tx0, tx1 = max(0, x0 - margin), min(width, x1 + margin)
            patch = x[:, :, ty0:ty1, tx0:tx1].to(device, non_blocking=True)
            if channels_last:
                patch = patch.contiguous(memory_format=torch.channels_last)
            with autocast:
                pred = net(patch)
            out[:, :, y0:y1, x0:x1] = pred[:, :, y0 - ty0:y1 - ty0, x0 - tx0:x1 - tx0].float().cpu()
            done += 1
            state.report(done / total, f"tile {done} of {total}")
    return out
