"""Running a loaded model over an image: device, precision, tile size, out-of-memory recovery.

What makes it fast and lean (measured in docs/bench.md):
- RED-Nets run through `FastREDNet`: the stride-1 transposed convolutions are rewritten as the
  equivalent convolutions, the weights are cast once per run to the tile's dtype (no per-call autocast
  casts), ReLUs and skip additions happen in place (one feature map less in flight), and on the CPU
  each convolution + ReLU is one fused oneDNN call where PyTorch exposes it.
- The photo is never copied whole: tiles are cut from the HxWxC array as they are needed, a constant
  condition channel (noise level, JPEG quality) is added per tile, and the output is written straight
  into an HxWxC array (see `tiling.run_tiled`).
- The tile is the largest whose activations fit a budget taken from the memory actually available
  (/proc/meminfo MemAvailable and the cgroup limit on Linux), and when the tile is chosen
  automatically its shape follows the photo so that the fewest overlapping pixels are computed.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
import weakref
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from rednet.engine.device import autocast_dtype, default_precision, resolve_device
from rednet.engine.ensemble import ensemble_mean
from rednet.engine.progressive import Progressive
from rednet.engine.tiling import run_tiled
from rednet.models.registry import LoadedModel, ModelDescriptor
from rednet.progress import SubState, TaskState, ensure_state

MIN_TILE = 64
MAX_TILE = 2048
# CPU activation budget: a quarter of the available memory, within these bounds. The upper bound keeps
# a 12 MP photo under 1.5 GB of peak RSS (photo + result + runtime + tile); see docs/bench.md.
CPU_BUDGET_MIN = 64 * 2**20
CPU_BUDGET_MAX = 768 * 2**20
CPU_BUDGET_FALLBACK = 512 * 2**20  # when the available memory cannot be read
_move_lock = threading.Lock()


# --- memory --------------------------------------------------------------------------------------
def _meminfo_available() -> int | None:
    """MemAvailable from /proc/meminfo in bytes (Linux), or None."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_available() -> int | None:
    """Room left under a cgroup v2 memory limit (containers), or None when there is no limit."""
    try:
        limit = open("/sys/fs/cgroup/memory.max").read().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int(open("/sys/fs/cgroup/memory.current").read().strip()))
    except (OSError, ValueError):
        return None


def available_memory() -> int | None:
    """Bytes a new allocation can take without swapping: the smaller of MemAvailable and the cgroup
    room on Linux; elsewhere the free physical pages sysconf reports; None when unknown."""
    found = [v for v in (_meminfo_available(), _cgroup_available()) if v is not None]
    if found:
        return min(found)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def skip_features(d: ModelDescriptor) -> int:
    """How many feature maps a RED-Net holds for its skips (RED20/RED30 have skips, RED10 none)."""
    return (d.depth // 2) // 2 if d.depth >= 20 else 0


def activation_bytes_per_pixel(d: ModelDescriptor, precision: str) -> int:
    """Peak bytes per tile pixel while the network runs: the skip features, the map in and the map
    out of the layer in flight plus one for oneDNN's reorders (a space-to-depth network has one
    network position per block of pixels), and the float32 patch and prediction."""
    value = 4 if precision == "fp32" else 2
    maps = skip_features(d) + 3
    return -(-d.width * value * maps // d.block**2) + 4 * (d.colors + d.cond_channels + 2 * d.colors)


def cpu_budget(available: int | None = None) -> int:
    """Bytes of activations a CPU tile may use: a quarter of the available memory, bounded."""
    available = available_memory() if available is None else available
    if available is None:
        return CPU_BUDGET_FALLBACK
    return int(np.clip(available // 4, CPU_BUDGET_MIN, CPU_BUDGET_MAX))


def auto_tile(model: LoadedModel, device: torch.device, precision: str, *, budget: int | None = None) -> int:
    """The largest square tile (multiple of 32) whose activations fit the memory budget: on the CPU a
    quarter of the available memory (see `cpu_budget`), on a GPU half its free memory."""
    d = model.descriptor
    if budget is None:
        if device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            budget = free // 2
        else:
            budget = cpu_budget()
    side = int((budget / activation_bytes_per_pixel(d, precision)) ** 0.5) - 2 * d.margin
    return int(np.clip(side // 32 * 32, MIN_TILE, MAX_TILE))


# --- the network, ready to run -------------------------------------------------------------------
def _fused_conv_relu():
    """PyTorch's oneDNN convolution with a fused ReLU (what torch.compile uses on the CPU), or None."""
    try:
        op = torch.ops.mkldnn._convolution_pointwise
        return op if torch.backends.mkldnn.is_available() else None
    except (AttributeError, RuntimeError):
        return None


class FastREDNet:
    """A RED-Net's forward pass for inference: the module's own function, to float rounding (see the
    module doc for what differs in how it is computed).

    Holds its own copies of the weights (per dtype, made on first use) so the model module is never
    moved or modified; runs in the autocast dtype when called under autocast, else in float32.
    `check`, when given, is called between layers (a tile of a big photo takes seconds; a layer a
    few hundredths of that), so a cancelled run stops within one layer.
    """

    checks_between_layers = True

    def __init__(self, net, device: torch.device):
        self.device = device
        self.colors = net.colors
        self.n = len(net.convs)
        self.skip_from = dict(net.skip_from)
        with torch.no_grad():
            weights = [c.weight.detach() for c in net.convs]
            # conv_transpose2d(x, W, padding=1) == conv2d(x, W^T flipped, padding=1) for 3x3, stride 1
            weights += [d.weight.detach().transpose(0, 1).flip(2, 3) for d in net.deconvs]
            self._fp32 = [
                (w, layer.bias.detach() if layer.bias is not None else None)
                for w, layer in zip(weights, [*net.convs, *net.deconvs])
            ]
        self._cache: dict[torch.dtype, list] = {}
        self._fused = _fused_conv_relu() if device.type == "cpu" else None

    def _layers(self, dtype: torch.dtype) -> list:
        if dtype not in self._cache:
            fmt = torch.channels_last if self.device.type in ("cpu", "cuda") else torch.contiguous_format
            self._cache[dtype] = [
                (
                    w.to(self.device, dtype).contiguous(memory_format=fmt),
                    None if b is None else b.to(self.device, dtype),
                )
                for w, b in self._fp32
            ]
        return self._cache[dtype]

    def _conv(self, h, w, b, relu: bool):
        if relu and self._fused is not None and h.dtype in (torch.float32, torch.bfloat16):
            try:
                return self._fused(h, w, b, [1, 1], [1, 1], [1, 1], 1, "relu", [], "")
            except (RuntimeError, TypeError, ValueError):  # refused by this build of PyTorch
                self._fused = None  # plain convolutions from now on
        out = F.conv2d(h, w, b, padding=1)
        return out.relu_() if relu else out

    def __call__(self, x: torch.Tensor, check: Callable[[], None] | None = None) -> torch.Tensor:
        dev = x.device.type
        dtype = _autocast_dtype(dev)
        layers = self._layers(dtype)
        with torch.inference_mode(), torch.autocast(dev, enabled=False):
            kept = set(self.skip_from.values())
            feats = {}
            h = x.to(dtype)
            for i in range(1, self.n + 1):
                h = self._conv(h, *layers[i - 1], relu=True)
                if i in kept:
                    feats[i] = h
                if check is not None:
                    check()
            for j in range(1, self.n + 1):
                last = j == self.n
                h = self._conv(h, *layers[self.n + j - 1], relu=not last)
                if not last and j in self.skip_from:
                    h = h.add_(feats.pop(self.skip_from[j])).relu_()
                if check is not None and not last:
                    check()
            return x[:, : self.colors] + h


def _autocast_dtype(device_type: str) -> torch.dtype:
    """The dtype autocast is running in on `device_type`, float32 when it is off."""
    try:
        on = torch.is_autocast_enabled(device_type)
        return torch.get_autocast_dtype(device_type) if on else torch.float32
    except (AttributeError, TypeError):  # torch < 2.4
        if device_type == "cpu":
            return torch.get_autocast_cpu_dtype() if torch.is_autocast_cpu_enabled() else torch.float32
        return torch.get_autocast_gpu_dtype() if torch.is_autocast_enabled() else torch.float32


class FastSpaceToDepthREDNet:
    """A space-to-depth RED-Net's forward pass: `FastREDNet` on its body, between the same folds."""

    checks_between_layers = True

    def __init__(self, net, device: torch.device):
        self.body = FastREDNet(net.body, device)

    def __call__(self, x: torch.Tensor, check: Callable[[], None] | None = None) -> torch.Tensor:
        from rednet.models.arch import from_blocks, to_blocks

        with torch.inference_mode():
            return from_blocks(self.body(to_blocks(x), check), *x.shape[-2:])


# The fast networks, made once per loaded network and device (they copy the weights into the layout
# oneDNN wants): a batch of 500 photos, or an inpainting mask of 40 regions, builds one, not 500 or 40.
# Weak keys: a model that is no longer loaded anywhere takes its fast copies with it.
_fast_nets: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _prepare(net: torch.nn.Module, device: torch.device):
    """A callable that runs `net` on `device`: the fast path for RED-Nets (cached), else the module."""
    from rednet.models.arch import REDNet, SpaceToDepthREDNet

    fast = (
        FastREDNet
        if isinstance(net, REDNet)
        else FastSpaceToDepthREDNet
        if isinstance(net, SpaceToDepthREDNet)
        else None
    )
    if fast is not None and device.type in ("cpu", "cuda"):
        with _move_lock:
            per_device = _fast_nets.setdefault(net, {})
            if str(device) not in per_device:
                per_device[str(device)] = fast(net, device)
            return per_device[str(device)]
    with _move_lock:  # the GUI may run two jobs on one cached model
        net.to(device)
        if device.type == "cpu":
            net.to(memory_format=torch.channels_last)
    return net


def _as_tensor(x: np.ndarray) -> torch.Tensor:
    """A 1xCxHxW view of an HxWxC float32 array (no copy; channels-last strides)."""
    x = np.asarray(x, dtype=np.float32)
    if any(s < 0 for s in x.strides):
        x = np.ascontiguousarray(x)
    with warnings.catch_warnings():  # read-only arrays are fine: the tensor is only ever read
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(x).permute(2, 0, 1)[None]


def _pixels_to(on_tile):
    """An `on_tile` for run_tiled that hands `on_tile` HxWx3 float32 views instead of tensors."""
    if on_tile is None:
        return None
    return lambda box, view: on_tile(box, view[0].permute(1, 2, 0).numpy())


def run_model(
    model: LoadedModel,
    x: np.ndarray,
    *,
    device: str | torch.device = "auto",
    tile: int | None = None,
    precision: str | None = None,
    state: TaskState | SubState | None = None,
    cond: float | None = None,
    ensemble: bool = False,
    progressive: Progressive | None = None,
) -> np.ndarray:
    """Apply `model` to `x` (HxWxC float32); returns HxWx3 float32. With `cond`, a constant channel of
    that value is appended to `x` (built per tile, never for the whole photo). With `ensemble`, the
    mean over the 8 flips/rotations of `x` (8x the time; see `ensemble`). `progressive`: tiles in the
    order it asks, each handed over as it is done (not with `ensemble`, whose tiles are partial sums).
    Halves the tile on CUDA OOM, then falls back to CPU."""
    state = ensure_state(state)
    dev = resolve_device(device)
    d = model.descriptor
    if d.cond_channels == 0:  # a blind model takes neither a map nor a constant condition
        x, cond = x[..., : d.colors], None
    tensor = _as_tensor(x)
    state.report(0.0, f"running on {dev.type}")
    while True:
        prec = precision or default_precision(dev)
        size = tile or auto_tile(model, dev, prec)
        try:
            with torch.inference_mode():
                run = functools.partial(
                    run_tiled,
                    _prepare(model.net, dev),
                    tile=size,
                    margin=d.margin,
                    align=d.block,
                    out_channels=d.colors,
                    device=dev,
                    dtype=autocast_dtype(prec),
                    channels_last=dev.type in ("cpu", "cuda"),
                    cond=cond,
                    flexible=tile is None,
                )
                if progressive is not None and not ensemble:
                    run = functools.partial(run, priority=progressive.priority, on_tile=_pixels_to(progressive.on_tile))
                # an out-of-memory pass restarts the whole ensemble: the accumulator holds part of it
                out = ensemble_mean(run, tensor, d.colors, state) if ensemble else run(tensor, state=state)
            return out[0].permute(1, 2, 0).numpy()
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            if size // 2 >= MIN_TILE:
                tile = size // 2
            else:  # even the smallest tile does not fit: finish on the CPU
                dev, tile, precision = torch.device("cpu"), None, None
