"""Run by tests/test_finetune.py under `torchrun`: one tiny training run, same on every rank."""

import sys

from rednet.train.loop import TrainConfig, train

data, out = sys.argv[1], sys.argv[2]
train(
    TrainConfig(
        task="denoise",
        data=data,
        out=out,
        depth=4,
        width=8,
        patch=24,
        batch=8,
        iters=6,
        val_every=3,
        val_patches=8,
        lr=2e-3,
        warmup=1,
        device="cpu",
        precision="fp32",
        checkpoint_every=100,
    )
)
