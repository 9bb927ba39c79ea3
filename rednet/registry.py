"""The explicit registry of architectures, model descriptors, and safe weight loading.

A model file is a safetensors file whose metadata holds its descriptor (what it restores and how it
is built); its model card sits beside it as `<name>.card.json`. Loading never unpickles: a PyTorch
checkpoint (.pt/.pth/.ckpt) from a user is read with `torch.load(weights_only=True)`, which refuses
anything but tensors and plain containers.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .arch import REDNet
from .paths import shipped_weights_dir, user_models_dir

TASKS = ("denoise", "sr", "jpeg", "inpaint")

# What each task feeds the network besides the colour channels.
TASK_CONDITION = {"denoise": "sigma", "sr": None, "jpeg": "quality", "inpaint": "mask"}

DESCRIPTOR_KEY = "rednet.descriptor"
WEIGHT_SUFFIXES = (".safetensors",)
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")


class ModelError(ValueError):
    """A model file that cannot be used: unreadable, unsafe, or built for something else."""


@dataclass(frozen=True)
class ModelDescriptor:
    task: str
    arch: str = "rednet"
    depth: int = 30
    width: int = 64
    colors: int = 3
    cond: str | None = None
    # Smallest tile side the network sensibly runs on, and the input range it was trained for.
    min_size: int = 1
    scale_range: tuple[float, float] | None = None
    sigma_range: tuple[float, float] | None = None
    quality_range: tuple[int, int] | None = None

    @property
    def cond_channels(self) -> int:
        return 0 if self.cond is None else 1

    @property
    def receptive_field(self) -> int:
        return 2 * self.depth + 1

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelDescriptor":
        data = json.loads(text)
        for key in ("scale_range", "sigma_range", "quality_range"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def descriptor_for_task(task: str, depth: int = 30, width: int = 64) -> ModelDescriptor:
    """The descriptor of a model covering `task`'s whole range."""
    if task not in TASKS:
        raise ModelError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    ranges = {
        "denoise": dict(sigma_range=(0.0, 75.0)),
        "sr": dict(scale_range=(1.25, 4.0)),
        "jpeg": dict(quality_range=(5, 90)),
        "inpaint": {},
    }[task]
    return ModelDescriptor(task=task, depth=depth, width=width, cond=TASK_CONDITION[task], **ranges)


# --- the architecture registry -------------------------------------------------------------------
def _build_rednet(d: ModelDescriptor) -> nn.Module:
    return REDNet(depth=d.depth, width=d.width, colors=d.colors, cond_channels=d.cond_channels)


ARCHITECTURES: dict[str, Callable[[ModelDescriptor], nn.Module]] = {"rednet": _build_rednet}


def build_network(descriptor: ModelDescriptor) -> nn.Module:
    try:
        builder = ARCHITECTURES[descriptor.arch]
    except KeyError:
        raise ModelError(f"unknown architecture {descriptor.arch!r}") from None
    return builder(descriptor)


@dataclass
class LoadedModel:
    net: nn.Module
    descriptor: ModelDescriptor
    card: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def name(self) -> str:
        return model_name(self.path) if self.path else f"{self.descriptor.task}-untrained"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    task: str
    path: Path
    source: str  # "shipped" or "user"
    size_bytes: int
    summary: str


def model_name(path: Path) -> str:
    return Path(path).name.removesuffix(".safetensors")


def card_path(weights: Path) -> Path:
    return Path(weights).with_name(model_name(weights) + ".card.json")


# --- loading -------------------------------------------------------------------------------------
def _read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises its own error types for junk and truncation
        raise ModelError(f"{path.name}: not a valid safetensors file ({_short(exc)})") from None
    return tensors, meta


def _read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # includes pickle payloads refused by weights_only
        raise ModelError(f"{path.name}: refused: not a plain weights checkpoint ({_short(exc)}); "
                         "only tensors can be loaded, nothing in the file was run") from None
    for key in ("ema", "state_dict", "model", "params"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError(f"{path.name}: does not contain a state dict of tensors")
    return obj


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__


def _descriptor_from_tensors(tensors: dict[str, torch.Tensor], task: str | None) -> ModelDescriptor:
    """Infer a RED-Net descriptor from a bare state dict (for user checkpoints without metadata)."""
    convs = sorted(int(m.group(1)) for k in tensors if (m := re.fullmatch(r"convs\.(\d+)\.weight", k)))
    if not convs or task is None:
        raise ModelError("file has no RED-Net descriptor; pass --task for a plain RED-Net state dict")
    first = tensors["convs.0.weight"]
    width, in_ch = first.shape[0], first.shape[1]
    colors = tensors[f"deconvs.{len(convs) - 1}.weight"].shape[1]
    base = descriptor_for_task(task, depth=2 * len(convs), width=width)
    return ModelDescriptor(**{**asdict(base), "colors": colors,
                              "cond": base.cond if in_ch > colors else None})


def load_model(name_or_path: str | Path, task: str | None = None) -> LoadedModel:
    """Load a model by file path or by name (shipped or user). Never executes code from the file."""
    path = resolve_model_path(name_or_path)
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        tensors, meta = _read_safetensors(path)
        if DESCRIPTOR_KEY in meta:
            try:
                descriptor = ModelDescriptor.from_json(meta[DESCRIPTOR_KEY])
            except (ValueError, TypeError) as exc:
                raise ModelError(f"{path.name}: malformed model descriptor ({exc})") from None
        else:
            descriptor = _descriptor_from_tensors(tensors, task)
    elif suffix in CHECKPOINT_SUFFIXES:
        tensors = _read_checkpoint(path)
        descriptor = _descriptor_from_tensors(tensors, task)
    else:
        raise ModelError(f"{path.name}: unsupported model file type (use .safetensors, or .pt/.pth/.ckpt)")
    if task is not None and descriptor.task != task:
        raise ModelError(f"{path.name}: is a {descriptor.task} model, not a {task} model")
    net = build_network(descriptor)
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{path.name}: weights do not match the {descriptor.arch} "
                         f"depth {descriptor.depth} width {descriptor.width} layout ({_short(exc)})") from None
    net.eval()
    card = {}
    if card_path(path).is_file():
        try:
            card = json.loads(card_path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            card = {}
    return LoadedModel(net=net, descriptor=descriptor, card=card, path=path)


def resolve_model_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    for folder in (user_models_dir(), shipped_weights_dir()):
        candidate = folder / f"{name_or_path}.safetensors"
        if candidate.is_file():
            return candidate
    if path.suffix or os.sep in str(name_or_path):
        raise ModelError(f"{name_or_path}: model file not found")
    known = ", ".join(m.name for m in list_models()) or "none"
    raise ModelError(f"no model named {name_or_path!r} (known: {known})")


def default_model(task: str) -> LoadedModel:
    """The shipped model for `task`."""
    path = shipped_weights_dir() / f"{task}.safetensors"
    if not path.is_file():
        raise ModelError(f"no shipped {task} model in {shipped_weights_dir()}; pass --model")
    return load_model(path, task=task)


# --- saving --------------------------------------------------------------------------------------
def save_model(net: nn.Module, descriptor: ModelDescriptor, path: str | Path, card: dict | None = None) -> Path:
    """Write weights (safetensors, descriptor in its metadata) and the card beside them, atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in net.state_dict().items()}
    _atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata={DESCRIPTOR_KEY: descriptor.to_json()}))
    if card is not None:
        card = {"descriptor": asdict(descriptor), **card}
        text = json.dumps(card, indent=2, sort_keys=False, default=str)
        _atomic_write(card_path(path), lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
    return path


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- listing -------------------------------------------------------------------------------------
def list_models(task: str | None = None) -> list[ModelInfo]:
    """Shipped models first, then the user's fine-tunes; unreadable files are skipped."""
    found = []
    for source, folder in (("shipped", shipped_weights_dir()), ("user", user_models_dir())):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.safetensors")):
            info = _model_info(path, source)
            if info is not None and (task is None or info.task == task):
                found.append(info)
    return found


def _model_info(path: Path, source: str) -> ModelInfo | None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            descriptor = ModelDescriptor.from_json((f.metadata() or {})[DESCRIPTOR_KEY])
    except Exception:
        return None
    card = {}
    if card_path(path).is_file():
        try:
            card = json.loads(card_path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    summary = card.get("summary") or f"RED{descriptor.depth}, width {descriptor.width}"
    return ModelInfo(model_name(path), descriptor.task, path, source, path.stat().st_size, summary)
