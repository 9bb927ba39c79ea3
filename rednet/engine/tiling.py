"""Tiled inference: bounded memory on photos of any size, with output identical to a whole-image pass.

Each tile is run with a margin of context on every side equal to the network's receptive radius (a
RED-Net of depth D sees D pixels each way, so margin = D is exactly enough and no more; a
space-to-depth one 2D + 1, rounded up to 2D + 2 with its tiles on the 2x2 grid); only the
tile's centre is kept, so zero padding at tile edges never reaches a kept pixel. Progress is reported
between tiles; cancellation is checked between tiles and, for networks that offer it (the fast
RED-Nets), between layers, so Cancel answers within one layer of one tile.

A window may pass `priority` (which tile next) and `on_tile` (a tile is done): the same tiles run in
another order and the output is the same (see `progressive`).

Memory: the input may be any strided 1xCxHxW view (e.g. of an HxWxC numpy array); only one tile of it
is copied at a time, a constant condition channel (`cond`) is added per tile rather than to the whole
photo, and the output is one channels-last (HxWxC in memory) float32 array written tile by tile.
"""

from __future__ import annotations

import contextlib
import math
from typing import Callable

import torch

from rednet.engine.progressive import Box
from rednet.progress import SubState, TaskState, ensure_state

Network = Callable[[torch.Tensor], torch.Tensor]


def _spans(length: int, count: int, align: int = 1) -> list[tuple[int, int]]:
    """`count` near-equal spans of 0..length whose inner bounds are multiples of `align` (fewer when
    `length` has too few aligned positions for them)."""
    inner = sorted({round(i * length / count / align) * align for i in range(1, count)} - {0})
    bounds = [0, *(b for b in inner if b < length), length]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def tile_grid(length: int, tile: int, align: int = 1) -> list[tuple[int, int]]:
    """Split 0..length into near-equal spans of at most `tile` (no sliver at the end), starting at
    multiples of `align`; with `align` > 1 a span may exceed `tile` by up to `align` - 1."""
    return _spans(length, max(1, math.ceil(length / tile)), align)


def flexible_grid(height: int, width: int, tile: int, margin: int, align: int = 1) -> tuple[list, list]:
    """Rows and columns of tiles of any shape whose padded area is at most (tile + 2 margin)^2,
    chosen to compute the fewest pixels in all (a 1155x866 photo: 2 tiles of 1155x433 instead of 4
    squares when the budget allows, about half the overlap)."""
    limit = (tile + 2 * margin) ** 2
    best = None
    for ny in range(1, min(height, 4096) + 1):
        span_h = math.ceil(height / ny)
        pad_h = height if ny == 1 else span_h + 2 * margin
        room = limit // pad_h
        if width <= room:
            nx = 1
        elif room - 2 * margin >= 1:
            nx = math.ceil(width / (room - 2 * margin))
        else:
            continue
        cost = (height + 2 * margin * (ny - 1)) * (width + 2 * margin * (nx - 1))
        key = (cost, ny * nx)
        if best is None or key < best[0]:
            best = (key, ny, nx)
        if nx == 1:
            break  # more rows would only add overlap
    if best is None:  # not even a 1-pixel-wide tile fits: fall back to squares
        return tile_grid(height, tile, align), tile_grid(width, tile, align)
    return _spans(height, best[1], align), _spans(width, best[2], align)


def _mirror(start: int, end: int, length: int, flipped: bool) -> tuple[int, int]:
    """Where the span start..end of a flipped axis of `length` lies on the unflipped axis."""
    return (length - end, length - start) if flipped else (start, end)


def _unflipped(box: Box, height: int, width: int, flip: tuple[bool, bool]) -> Box:
    """Where a box of the flipped image lies in the unflipped one."""
    (y0, y1), (x0, x1) = _mirror(box[0], box[1], height, flip[0]), _mirror(box[2], box[3], width, flip[1])
    return (y0, y1, x0, x1)


def run_tiled(
    net: Network,
    x: torch.Tensor,
    *,
    tile: int,
    margin: int,
    out_channels: int,
    device: torch.device,
    dtype: torch.dtype | None = None,
    state: TaskState | SubState | None = None,
    channels_last: bool = False,
    cond: float | None = None,
    flexible: bool = False,
    align: int = 1,
    flip: tuple[bool, bool] = (False, False),
    add_to: torch.Tensor | None = None,
    priority: Callable[[Box], float] | None = None,
    on_tile: Callable[[Box, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """Apply `net` to `x` (1xCxHxW, on the CPU, any strides) tile by tile on `device`; returns
    1xOxHxW float32 on the CPU (channels-last in memory).

    `cond`: append a constant channel of this value to every tile (the network sees C+1 channels).
    `flexible`: tiles may be any shape with at most (tile + 2 margin)^2 padded pixels (see
    `flexible_grid`); otherwise they are squares of side at most `tile`.
    `align`: tiles and their margins start at multiples of this, for a network that folds
    `align` x `align` blocks into channels (a space-to-depth RED-Net: 2), so each tile's blocks are
    the whole image's blocks; `margin` must then be a multiple of it.
    `flip`: (rows, columns) to reverse: the network sees `x` flipped and its output is flipped back,
    tile by tile, so that no flipped copy of the photo is made (torch has no negative strides). The
    grid is laid on the flipped image, so the result is exactly flip(net(flip(x))) (for a
    space-to-depth network the 2x2 blocks then start at the far edge of an odd-sized photo).
    `add_to`: add the output into this 1xOxHxW tensor (any strides) and return it, instead of
    writing a new one (the self-ensemble's accumulator; see `ensemble`).
    `priority(box)`: the remaining tile with the lowest value runs next (asked again before every
    tile); boxes are (top, bottom, left, right) of the kept part, in `x`'s own coordinates.
    `on_tile(box, out_view)`: called after each tile with its part of the output.
    """
    state = ensure_state(state)
    if margin % align:
        raise ValueError(f"margin {margin} is not a multiple of the alignment {align}")
    _, channels, height, width = x.shape
    if flexible:
        rows, cols = flexible_grid(height, width, tile, margin, align)
    else:
        rows, cols = tile_grid(height, tile, align), tile_grid(width, tile, align)
    out = (
        add_to
        if add_to is not None
        else torch.empty((1, height, width, out_channels), dtype=torch.float32).permute(0, 3, 1, 2)
    )
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    dims = [d for d, on in ((2, flip[0]), (3, flip[1])) if on]
    total, done = len(rows) * len(cols), 0
    autocast = torch.autocast(device_type=device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()
    tiles = [(y0, y1, x0, x1) for y0, y1 in rows for x0, x1 in cols]  # in the flipped image
    where = [_unflipped(t, height, width, flip) for t in tiles]  # the same boxes in `x`
    checked = getattr(net, "checks_between_layers", False)  # it can answer Cancel mid-tile
    while tiles:
        state.check()
        i = 0 if priority is None else min(range(len(tiles)), key=lambda k: priority(where[k]))
        (y0, y1, x0, x1), (oy0, oy1, ox0, ox1) = tiles.pop(i), where.pop(i)
        # the tile and its margins in the flipped image's coordinates, then where they are in `x`
        ty0, ty1 = max(0, y0 - margin), min(height, y1 + margin)
        tx0, tx1 = max(0, x0 - margin), min(width, x1 + margin)
        (sy0, sy1), (sx0, sx1) = _mirror(ty0, ty1, height, flip[0]), _mirror(tx0, tx1, width, flip[1])
        window = x[:, :, sy0:sy1, sx0:sx1]
        if cond is None:
            patch = window.to(device, non_blocking=True).contiguous(memory_format=fmt)
        else:
            patch = torch.empty(
                (1, channels + 1, ty1 - ty0, tx1 - tx0), dtype=x.dtype, device=device, memory_format=fmt
            )
            patch[:, :channels].copy_(window)
            patch[:, channels:].fill_(cond)
        if dims:
            patch = patch.flip(dims).contiguous(memory_format=fmt)
        with autocast:
            pred = net(patch, check=state.check) if checked else net(patch)
        del patch
        kept = pred[:, :, y0 - ty0 : y1 - ty0, x0 - tx0 : x1 - tx0]
        if dims:
            kept = kept.flip(dims)
        target = out[:, :, oy0:oy1, ox0:ox1]
        if add_to is not None:
            target.add_(kept.to(out.device))  # add_, unlike copy_, needs one device
        else:
            target.copy_(kept)
        del pred, kept
        done += 1
        if on_tile is not None:
            on_tile((oy0, oy1, ox0, ox1), target)
        state.report(done / total, f"tile {done} of {total}")
    return out
