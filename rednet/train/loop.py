"""The training loop behind `rednet train` and `rednet finetune`.

Random crops with 8-fold flips/rotations, corrupted on the fly across the task's whole range; Adam on
MSE (the network predicts the residual); cosine learning-rate decay over the iteration or time
budget; an exponential moving average of the weights (what gets saved); validation PSNR on held-out
photos; checkpoints that `resume` continues from, losing at most one checkpoint interval.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from rednet.engine.device import autocast_dtype, cpu_has_fast_bf16, cpu_name, resolve_device
from rednet.io.atomic import atomic_write
from rednet.models.registry import (
    LoadedModel,
    architecture_title,
    build_network,
    checkpoint_path,
    descriptor_for_task,
    load_model,
    save_model,
)
from rednet.progress import Cancelled, SubState, TaskState, ensure_state
from rednet.tasks import get_task
from rednet.train.data import PairSampler, PatchSampler, load_image_source, load_pairs


@dataclass
class TrainConfig:
    task: str
    data: str | Path
    out: str | Path
    arch: str = "rednet"  # a name in registry.ARCHITECTURES
    depth: int = 20
    width: int = 64
    patch: int = 48
    batch: int = 32
    iters: int = 2000
    minutes: float | None = None  # a time budget; whichever of iters/minutes ends first
    lr: float = 1e-3
    lr_min: float = 1e-5
    warmup: int = 50
    ema: float = 0.999
    seed: int = 0
    val_fraction: float = 0.1
    val_patches: int = 64
    val_every: int = 100
    checkpoint_every: int = 100
    resume: bool = False
    device: str = "auto"
    precision: str = "auto"  # "auto" = bf16 where the hardware does it natively
    base: str | Path | None = None  # start from this model (fine-tuning)
    pairs: str | Path | None = None  # corrupted photos matched to `data` by file name, used as they are
    patience: int | None = None  # stop after this many validations without improvement
    blind: bool = False  # denoise/jpeg without the sigma/quality map
    min_images: int = 1  # fewer usable photos in `data` is a DataError before training
    card: dict = field(default_factory=dict)  # extra model-card fields (data, recipe notes)


@dataclass
class TrainResult:
    path: Path
    steps: int
    wall_s: float
    input_psnr: float
    val_psnr_before: float
    val_psnr: float
    stopped: str  # "iterations", "time", "early stop"
    history: list[dict]


def _split(images: list[np.ndarray], fraction: float, rng: np.random.Generator):
    if len(images) < 2 or fraction <= 0:
        return images, images
    order = rng.permutation(len(images))
    n_val = max(1, int(round(len(images) * fraction)))
    return [images[i] for i in order[n_val:]], [images[i] for i in order[:n_val]]


def _psnr_batch(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR of the pooled error over all patches: an average of per-patch PSNR would be ruled by
    near-flat patches, where a tiny error moves PSNR by many dB."""
    mse = ((a.float().clamp(0, 1) - b.float()) ** 2).mean().clamp_min(1e-10)
    return float(10 * torch.log10(1 / mse))


def _lr_at(cfg: TrainConfig, progress: float, step: int) -> float:
    warm = min(1.0, (step + 1) / max(1, cfg.warmup))
    cos = cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * min(progress, 1.0)))
    return cos * warm


class _Distributed:
    """torchrun support: every rank draws the same global batch and trains on its own slice of it, so
    N processes see N shards of one stream of patches and match a single-process run numerically."""

    def __init__(self, device: torch.device):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.world > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, batch: np.ndarray) -> np.ndarray:
        if self.world == 1:
            return batch
        if len(batch) % self.world:
            raise ValueError(f"batch {len(batch)} does not split evenly over {self.world} processes")
        size = len(batch) // self.world
        return batch[self.rank * size : (self.rank + 1) * size]

    def wrap(self, net: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        if self.world == 1:
            return net
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)

    def any(self, flag: bool) -> bool:
        """True on every rank if it is true on any (so all ranks stop at the same step)."""
        if self.world == 1:
            return flag
        t = torch.tensor([1.0 if flag else 0.0])
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item())

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()


def _device_for_rank(name: str) -> torch.device:
    device = resolve_device(name)
    if device.type == "cuda" and "LOCAL_RANK" in os.environ:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    return device


def make_samplers(cfg: TrainConfig, rng: np.random.Generator, skipped: list[str]):
    """(train sampler, validation sampler, image counts) for clean photos or corrupted/clean pairs;
    photos left out as unreadable or too small are named in `skipped`."""
    if cfg.pairs is not None:
        pairs = load_pairs(cfg.data, cfg.pairs, cfg.task, min_side=cfg.patch)
        train_pairs, val_pairs = _split(pairs, cfg.val_fraction, np.random.default_rng(cfg.seed + 1))
        return (
            PairSampler(train_pairs, cfg.task, cfg.patch, rng),
            PairSampler(val_pairs, cfg.task, cfg.patch, np.random.default_rng(cfg.seed + 2)),
            len(train_pairs),
            len(val_pairs),
        )
    images = load_image_source(cfg.data, min_side=cfg.patch + 16, min_images=cfg.min_images, skipped=skipped)
    train_images, val_images = _split(images, cfg.val_fraction, np.random.default_rng(cfg.seed + 1))
    return (
        PatchSampler(train_images, cfg.task, cfg.patch, rng),
        PatchSampler(val_images, cfg.task, cfg.patch, np.random.default_rng(cfg.seed + 2)),
        len(train_images),
        len(val_images),
    )


def train(
    cfg: TrainConfig, state: TaskState | SubState | None = None, on_log: Callable[[dict], None] | None = None
) -> TrainResult:
    state = ensure_state(state)
    spec = get_task(cfg.task)
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    device = _device_for_rank(cfg.device)
    dist = _Distributed(device)
    precision = cfg.precision
    if precision == "auto":
        precision = "bf16" if (device.type == "cuda" or cpu_has_fast_bf16()) else "fp32"
    amp = autocast_dtype(precision)

    skipped: list[str] = []
    sampler, val_sampler, n_train, n_val = make_samplers(cfg, rng, skipped)
    if skipped and on_log is not None:
        on_log({"skipped": list(skipped)})  # before step 0, for the app to show
    vx, vy = (torch.from_numpy(a) for a in val_sampler.batch(cfg.val_patches))

    if cfg.base is not None:
        base = cfg.base if isinstance(cfg.base, LoadedModel) else load_model(cfg.base, task=cfg.task)
        descriptor, net = base.descriptor, copy.deepcopy(base.net)
    else:
        descriptor = descriptor_for_task(cfg.task, depth=cfg.depth, width=cfg.width, blind=cfg.blind, arch=cfg.arch)
        net = build_network(descriptor)
        # Start as the identity (zero residual) rather than a random one: with PyTorch's default init
        # a fresh RED-Net's output starts near 10 dB and short CPU runs spend their first steps undoing it.
        last = net.output_layer
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.zeros_(last.bias)
    # channels_last makes 3x3 convs ~2.5x faster on x86 CPUs (measured: RED20-64 step 2.7 s -> 1.0 s).
    memory_format = torch.channels_last if device.type == "cpu" else torch.contiguous_format
    net.to(device, memory_format=memory_format).train()
    ema = copy.deepcopy(net).eval().requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    model = dist.wrap(net, device)
    in_channels = descriptor.colors + descriptor.cond_channels  # a blind model ignores the map
    vx = vx[:, :in_channels]

    step, elapsed_before, history = 0, 0.0, []
    best = {"psnr": -math.inf, "state": None}
    ckpt = checkpoint_path(out)
    if cfg.resume and ckpt.is_file():
        saved = torch.load(ckpt, map_location="cpu", weights_only=True)
        net.load_state_dict(saved["net"])
        ema.load_state_dict(saved["ema"])
        opt.load_state_dict(saved["opt"])
        step, elapsed_before, history = saved["step"], saved["elapsed"], list(saved["history"])
        rng.bit_generator.state = saved["rng"]
        best = {"psnr": saved["best_psnr"], "state": saved.get("best_state")}

    def validate(model) -> tuple[float, float]:
        with torch.inference_mode(), _autocast(device, amp):
            x = vx.to(device).contiguous(memory_format=memory_format)
            pred = spec.compose_output(x, model(x)).float().cpu()
        return _psnr_batch(pred, vy), _psnr_batch(vx[:, :3], vy)

    before, input_psnr = validate(ema)
    if step == 0:
        history.append({"step": 0, "val_psnr": before, "input_psnr": input_psnr})
        if on_log is not None:
            on_log(history[0])  # the starting point of a live plot
    start = time.monotonic()
    paused = 0.0  # time spent paused does not count against a time budget
    stopped, stale = "iterations", 0
    last_val = before

    def save_checkpoint():
        if not dist.is_main:  # rank 0 writes; the others hold identical weights
            return
        saved = {
            "net": net.state_dict(),
            "ema": ema.state_dict(),
            "opt": opt.state_dict(),
            "step": step,
            "elapsed": elapsed_before + time.monotonic() - start - paused,
            "history": history,
            "rng": rng.bit_generator.state,
            "best_psnr": best["psnr"],
            "best_state": best["state"],
        }
        atomic_write(ckpt, lambda tmp: torch.save(saved, tmp))

    try:
        while step < cfg.iters:
            elapsed = elapsed_before + time.monotonic() - start - paused
            if dist.any(cfg.minutes is not None and elapsed >= cfg.minutes * 60):
                stopped = "time"
                break
            waited = time.monotonic()
            state.check()  # blocks while paused
            paused += time.monotonic() - waited
            progress = max(step / cfg.iters, elapsed / (cfg.minutes * 60) if cfg.minutes else 0.0)
            for group in opt.param_groups:
                group["lr"] = _lr_at(cfg, progress, step)
            xb, yb = sampler.batch(cfg.batch)
            xb, yb = (
                torch.from_numpy(dist.shard(a)).to(device).contiguous(memory_format=memory_format)
                for a in (xb[:, :in_channels], yb)
            )
            with _autocast(device, amp):
                pred = spec.compose_output(xb, model(xb))
            loss = F.mse_loss(pred.float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                decay = min(cfg.ema, (1 + step) / (10 + step))  # short runs: don't average in the random init
                for pe, p in zip(ema.parameters(), net.parameters()):
                    pe.lerp_(p, 1 - decay)
            step += 1
            entry = {"step": step, "loss": loss.item(), "lr": opt.param_groups[0]["lr"]}
            if step % cfg.val_every == 0 or step == cfg.iters:
                entry["val_psnr"], _ = validate(ema)
                if entry["val_psnr"] > best["psnr"] + 1e-3:
                    best = {
                        "psnr": entry["val_psnr"],
                        "state": {k: v.detach().cpu().clone() for k, v in ema.state_dict().items()},
                    }
                    stale = 0
                else:
                    stale += 1
            history.append(entry)
            if on_log is not None:
                on_log(entry)
            last_val = entry.get("val_psnr", last_val)
            state.report(
                progress if cfg.minutes else step / cfg.iters,
                f"step {step}/{cfg.iters}  loss {entry['loss']:.5f}  val {last_val:.2f} dB",
            )
            if step % cfg.checkpoint_every == 0:
                save_checkpoint()
            if cfg.patience is not None and "val_psnr" in entry and stale >= cfg.patience:
                stopped = "early stop"
                break
    except (Cancelled, KeyboardInterrupt):
        save_checkpoint()  # Ctrl-C or Cancel: `--resume` continues from here
        raise

    final, _ = validate(ema)
    if best["state"] is not None and best["psnr"] > final:
        ema.load_state_dict(best["state"])  # keep the best validated weights
        final = best["psnr"]
    wall = elapsed_before + time.monotonic() - start - paused
    card = _card(
        cfg,
        descriptor,
        device,
        precision,
        step,
        wall,
        input_psnr,
        before,
        final,
        n_train,
        n_val,
        dist.world,
        skipped,
        base_card=base.card if cfg.base is not None else {},
    )
    if dist.is_main:
        save_model(ema, descriptor, out, card=card)
        ckpt.unlink(missing_ok=True)
    dist.barrier()
    return TrainResult(out, step, wall, input_psnr, before, final, stopped, history)


def _autocast(device: torch.device, dtype):
    return torch.autocast(device_type=device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def _card(
    cfg,
    descriptor,
    device,
    precision,
    steps,
    wall,
    input_psnr,
    before,
    after,
    n_train,
    n_val,
    processes=1,
    skipped=(),
    base_card: dict | None = None,
) -> dict:
    hardware = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{cpu_name()} CPU, {torch.get_num_threads()} threads"
    )
    if processes > 1:
        hardware += f", x{processes} processes (torchrun, DistributedDataParallel)"
    recipe = {k: v for k, v in asdict(cfg).items() if k not in ("card", "out", "resume", "data", "base", "pairs")}
    recipe.update(arch=descriptor.arch, depth=descriptor.depth, width=descriptor.width)  # a base model's win
    # Training accumulates over runs that each start from the last one: the card keeps them all.
    run = {
        "data": str(cfg.data),
        "steps": steps,
        "patches": steps * cfg.batch,
        "wall_time_s": round(wall, 1),
        "lr": cfg.lr,
        "hardware": hardware,
        "val_psnr_db": round(after, 3),
    }
    history = [*(base_card or {}).get("training_history", []), run]
    return {
        "task": cfg.task,
        "architecture": f"{architecture_title(descriptor)} ({descriptor.arch}: depth {descriptor.depth}, "
        f"width {descriptor.width}, {descriptor.colors}+{descriptor.cond_channels} input "
        f"channels, receptive field {descriptor.receptive_field} px)",
        "summary": cfg.card.get("summary", f"{architecture_title(descriptor)} {cfg.task}"),
        "base_model": (cfg.base.name if isinstance(cfg.base, LoadedModel) else str(cfg.base)) if cfg.base else None,
        "training_data": {
            "source": str(cfg.data),
            "pairs": str(cfg.pairs) if cfg.pairs else None,
            "train_images": n_train,
            "val_images": n_val,
            "skipped_files": list(skipped),
            **cfg.card.get("training_data", {}),
        },
        "recipe": {
            **recipe,
            "optimizer": "Adam",
            "loss": "MSE on the output (residual learning)",
            "precision": precision,
            "steps_done": steps,
            "patches_seen": steps * cfg.batch,
        },
        "hardware": hardware,
        "wall_time_s": round(wall, 1),
        "validation": {
            "input_psnr_db": round(input_psnr, 3),
            "psnr_before_db": round(before, 3),
            "psnr_after_db": round(after, 3),
        },
        "training_history": history,
        "total_steps": sum(r["steps"] for r in history),
        **{k: v for k, v in cfg.card.items() if k not in ("summary", "training_data")},
    }
