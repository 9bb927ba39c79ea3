"""Re-describe a trained model as the starting point for another task (transfer learning).

A denoiser's filters are a far better start for JPEG clean-up, inpainting or upscaling than zeros: the
layers already know natural-image structure; only what the one condition channel means changes (sigma,
JPEG quality or the mask). For a target without a condition channel (sr) the first layer's weights on
it are dropped (the condition is the last input channel, or the last 2x2 block of channels of a
space-to-depth network). The card keeps the source's history so the target's `training_history`
counts every step that shaped the weights.

    python scripts/transfer_start.py rednet_resources/weights/denoise.safetensors --task jpeg \
        -o runs/jpeg/start.safetensors
    rednet train --task jpeg --init runs/jpeg/start.safetensors ...
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from rednet.models.registry import build_network, descriptor_for_task, load_model, read_card, save_model
from rednet.tasks import TASK_NAMES


def transfer(source: Path, task: str, out: Path) -> Path:
    loaded = load_model(source)
    src = loaded.descriptor
    target = descriptor_for_task(task, depth=src.depth, width=src.width, arch=src.arch)
    if target.colors != src.colors or target.cond_channels > src.cond_channels:
        raise SystemExit(
            f"error: a {src.task} model has {src.colors}+{src.cond_channels} input channels; "
            f"a {task} model needs {target.colors}+{target.cond_channels}"
        )
    target = dataclasses.replace(target, min_size=src.min_size)
    net = build_network(target)
    state = loaded.net.state_dict()
    for name, tensor in net.state_dict().items():
        if state[name].shape != tensor.shape:  # the first layer: keep the colours' input channels only
            state[name] = state[name][:, : tensor.shape[1]]
    net.load_state_dict(state)
    card = read_card(source)
    history = [{**run, "task": src.task} for run in card.get("training_history", [])]
    return save_model(
        net,
        target,
        out,
        card={
            "summary": f"{task} start transferred from the {src.task} model {source.name}",
            "base_model": str(source),
            "training_history": history,
            "total_steps": sum(r["steps"] for r in history),
        },
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", type=Path)
    p.add_argument("--task", required=True, choices=TASK_NAMES)
    p.add_argument("-o", "--output", type=Path, required=True)
    args = p.parse_args(argv)
    print(transfer(args.source, args.task, args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
