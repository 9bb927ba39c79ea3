"""RED-Net (Mao, Shen & Yang, NIPS 2016) as its authors released it.

N 3x3 stride-1 convolutions, then N 3x3 stride-1 transposed convolutions, ReLU after every layer but
the last. Symmetric skips every second layer: the feature after conv i is added to the (ReLU'd)
output of its mirror deconv N-i, and the sum goes through another ReLU. The network predicts the
residual: output = input + net(input). Stride 1 and padding 1 throughout, so any image size works.

Extra input channels (a noise-level map, a JPEG-quality map, an inpainting mask) are concatenated
after the colour channels; the residual is added to the colour channels only.
"""

from __future__ import annotations

import torch
from torch import nn


class REDNet(nn.Module):
    def __init__(self, depth: int = 30, width: int = 64, colors: int = 3, cond_channels: int = 0,
                 skips: bool | None = None):
        super().__init__()
        if depth < 4 or depth % 2:
            raise ValueError(f"RED-Net depth must be an even number >= 4, got {depth}")
        n = depth // 2
        self.depth, self.width, self.colors, self.cond_channels = depth, width, colors, cond_channels
        # The released RED10 has no skips; RED20 and RED30 do.
        self.skips = depth >= 20 if skips is None else skips
        in_ch = colors + cond_channels
        self.convs = nn.ModuleList(
            nn.Conv2d(in_ch if i == 0 else width, width, 3, padding=1) for i in range(n))
        self.deconvs = nn.ModuleList(
            nn.ConvTranspose2d(width, colors if j == n - 1 else width, 3, padding=1) for j in range(n))
        # 1-based: conv i feeds deconv n-i, for i = n-1, n-3, ... >= 1 (RED30: conv14->deconv1 ... conv2->deconv13).
        self.skip_from = {n - i: i for i in range(n - 1, 0, -2)} if self.skips else {}

    @property
    def receptive_field(self) -> int:
        return 2 * self.depth + 1

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
