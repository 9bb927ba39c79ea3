"""Progressive restoring for a window: the tiles under the user's view first, each shown as it lands.

A `Progressive` is a plain option of the tiled runner (`run_tiled`, `run_model`, `restore`): the CLI
and batch never pass one, and it changes only the order in which the same tiles run, so the result
is the very same array. Both callables run on the worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Box = tuple[int, int, int, int]  # (top, bottom, left, right) in output pixels, end-exclusive


@dataclass(frozen=True)
class Progressive:
    """`priority(box)`: lower runs first; asked for every remaining tile before each one, so a view
    that zooms or pans during the run re-orders what is left. `on_tile(box, pixels)`: a tile is done;
    `pixels` is its HxWx3 float32 result (a view into the output: copy what you keep)."""

    priority: Callable[[Box], float] | None = None
    on_tile: Callable[[Box, np.ndarray], None] | None = None


def view_priority(view: Box) -> Callable[[Box], float]:
    """Tiles that overlap `view` first, nearest its centre first, then the rest by distance."""
    top, bottom, left, right = view
    cy, cx = (top + bottom) / 2.0, (left + right) / 2.0

    def priority(box: Box) -> float:
        y0, y1, x0, x1 = box
        distance = float(np.hypot((y0 + y1) / 2.0 - cy, (x0 + x1) / 2.0 - cx))
        overlaps = y0 < bottom and top < y1 and x0 < right and left < x1
        return distance if overlaps else 1e12 + distance

    return priority
