"""RED-Net (Mao, Shen & Yang, NIPS 2016) as its authors released it, and a space-to-depth variant.

N 3x3 stride-1 convolutions, then N 3x3 stride-1 transposed convolutions, ReLU after every layer but
the last. Symmetric skips every second layer: the feature after conv i is added to the (ReLU'd)
output of its mirror deconv N-i, and the sum goes through another ReLU. The network predicts the
residual: output = input + net(input). Stride 1 and padding 1 throughout, so any image size works.

Extra input channels (a noise-level map, a JPEG-quality map, an inpainting mask) are concatenated
after the colour channels; the residual is added to the colour channels only.

`SpaceToDepthREDNet` runs the same chain on a 2x2 pixel-unshuffled input (as FFDNet does): a quarter
of the pixels per layer, so four times the training per CPU-second at the same width and depth.
"""

from __future__ import annotations

import torch
from torch import nn


class REDNet(nn.Module):
    def __init__(
        self, depth: int = 30, width: int = 64, colors: int = 3, cond_channels: int = 0, skips: bool | None = None
    ):
        super().__init__()
        if depth < 4 or depth % 2:
            raise ValueError(f"RED-Net depth must be an even number >= 4, got {depth}")
        n = depth // 2
        self.depth, self.width, self.colors, self.cond_channels = depth, width, colors, cond_channels
        # The released RED10 has no skips; RED20 and RED30 do.
        self.skips = depth >= 20 if skips is None else skips
        in_ch = colors + cond_channels
        self.convs = nn.ModuleList(nn.Conv2d(in_ch if i == 0 else width, width, 3, padding=1) for i in range(n))
        self.deconvs = nn.ModuleList(
            nn.ConvTranspose2d(width, colors if j == n - 1 else width, 3, padding=1) for j in range(n)
        )
        # 1-based: conv i feeds deconv n-i, for i = n-1, n-3, ... >= 1 (RED30: conv14->deconv1 ... conv2->deconv13).
        self.skip_from = {n - i: i for i in range(n - 1, 0, -2)} if self.skips else {}

    @property
    def receptive_radius(self) -> int:
        return self.depth

    @property
    def receptive_field(self) -> int:
        return 2 * self.receptive_radius + 1

    @property
    def output_layer(self) -> nn.ConvTranspose2d:
        """The last deconvolution: zeroed, it makes the network the identity (a fresh start)."""
        return self.deconvs[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.convs)
        kept = set(self.skip_from.values())  # hold on only to the features a skip needs (memory)
        feats = {}
        h = x
        for i, conv in enumerate(self.convs, start=1):
            h = torch.relu(conv(h))
            if i in kept:
                feats[i] = h
        for j, deconv in enumerate(self.deconvs, start=1):
            h = deconv(h)
            if j == n:
                break
            h = torch.relu(h)
            if j in self.skip_from:
                h = torch.relu(h + feats.pop(self.skip_from[j]))
        return x[:, : self.colors] + h


# --- space-to-depth ------------------------------------------------------------------------------
BLOCK = 2  # the space-to-depth factor: 2x2 pixels become one position with 4x the channels


def to_blocks(x: torch.Tensor) -> torch.Tensor:
    """Pad an odd height or width by reflection (a 1-pixel side by repetition), then fold each 2x2
    block into the channels. Channel c*4 + k of the result is pixel k of block, channel c, so the
    colours' blocks come first and the condition maps' after them."""
    h, w = x.shape[-2:]
    pad_h, pad_w = h % BLOCK, w % BLOCK
    if pad_h or pad_w:
        mode = "reflect" if min(h, w) > 1 else "replicate"
        x = torch.nn.functional.pad(x, (0, pad_w, 0, pad_h), mode=mode)
    return torch.nn.functional.pixel_unshuffle(x, BLOCK)


def from_blocks(y: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The inverse of `to_blocks`: unfold the channels into 2x2 blocks and crop the padding."""
    return torch.nn.functional.pixel_shuffle(y, BLOCK)[..., :height, :width]


class SpaceToDepthREDNet(nn.Module):
    """RED-Net run at half resolution, as FFDNet runs its network: the image and its condition maps
    are folded 2x2 into channels (3+1 channels become 12+4), the RED-Net chain (3x3 stride-1 convs
    then deconvs, mirrored skips, ReLU) runs on that quarter-size grid, and the result is unfolded
    back. Its residual is the unfolded colours, so output = input + net(input) at full resolution.

    The same layers cost a quarter of the pixels, so a step is ~4.7x cheaper at width 64 and each
    layer sees twice as far: a depth-D body reaches 2D+1 full-resolution pixels each way.
    """

    def __init__(self, depth: int = 20, width: int = 64, colors: int = 3, cond_channels: int = 0):
        super().__init__()
        self.depth, self.width, self.colors, self.cond_channels = depth, width, colors, cond_channels
        self.body = REDNet(depth=depth, width=width, colors=colors * BLOCK**2, cond_channels=cond_channels * BLOCK**2)

    @property
    def receptive_radius(self) -> int:
        # D half-resolution pixels each way, plus the other pixel of the edge block.
        return BLOCK * self.depth + 1

    @property
    def receptive_field(self) -> int:
        return 2 * self.receptive_radius + 1

    @property
    def output_layer(self) -> nn.ConvTranspose2d:
        return self.body.output_layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        return from_blocks(self.body(to_blocks(x)), h, w)
