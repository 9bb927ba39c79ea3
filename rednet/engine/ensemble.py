"""Test-time self-ensemble, as in the RED-Net authors' released code: the mean of the network's output
over the 8 flips and rotations of its input (the dihedral group), each undone on the output. It costs
8 passes and gains about 0.1 dB.

No full-size copy of the photo is made: a transposition is a view of it, the flips are done tile by
tile (`run_tiled(flip=...)`, since torch has no negative strides), and every pass adds straight into
one float32 accumulator.
"""

from __future__ import annotations

import itertools
from typing import Callable

import torch

from rednet.progress import SubState, TaskState

# (transpose, flip rows, flip columns): all 8 compose to the 4 rotations and their mirror images
TRANSFORMS = tuple(itertools.product((False, True), repeat=3))


class _PassState(SubState):
    """Pass i's slice of the progress, its messages prefixed "pass i of 8"."""

    def __init__(self, parent, i: int):
        super().__init__(parent, i / len(TRANSFORMS), (i + 1) / len(TRANSFORMS))
        self._prefix = f"pass {i + 1} of {len(TRANSFORMS)}"

    def report(self, fraction: float, message: str = "") -> None:
        super().report(fraction, f"{self._prefix}, {message}" if message else self._prefix)


def ensemble_mean(
    run: Callable[..., torch.Tensor], x: torch.Tensor, out_channels: int, state: TaskState | SubState
) -> torch.Tensor:
    """The mean over `TRANSFORMS` of T^-1(net(T(x))), x being 1xCxHxW; 1xOxHxW float32, channels-last.

    `run(x, flip=, add_to=, state=)` is `run_tiled` with the network and its options bound; it adds
    flip(net(flip(x))) into `add_to`. A transposed pass gets transposed views of `x` and the
    accumulator, so its output lands untransposed."""
    _, _, height, width = x.shape
    acc = torch.zeros((1, height, width, out_channels), dtype=torch.float32).permute(0, 3, 1, 2)
    for i, (transpose, flip_rows, flip_cols) in enumerate(TRANSFORMS):
        view = (lambda t: t.transpose(2, 3)) if transpose else (lambda t: t)
        run(view(x), flip=(flip_rows, flip_cols), add_to=view(acc), state=_PassState(state, i))
    return acc.div_(len(TRANSFORMS))
