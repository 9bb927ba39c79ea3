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
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rednet.errors import ModelError
from rednet.io import safe_json
from rednet.io.atomic import atomic_write, atomic_write_text
from rednet.io.safe_files import FileRefused, check_regular, describe, open_regular
from rednet.paths import shipped_weights_dir, user_models_dir
from rednet.tasks import TASK_NAMES, TASKS

if TYPE_CHECKING:  # torch is imported when a network is built or read, not to list models
    import torch
    from torch import nn

DESCRIPTOR_KEY = "rednet.descriptor"
WEIGHT_SUFFIXES = (".safetensors",)
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")

# What a model file may claim: anything outside is refused before memory is allocated for it.
MIN_DEPTH, MAX_DEPTH, MAX_WIDTH = 4, 60, 512
COLORS = (1, 3)
# A descriptor is a flat object of a dozen fields; a card a small document.
DESCRIPTOR_MAX_BYTES, DESCRIPTOR_MAX_DEPTH = 64 * 1024, 8
CARD_MAX_BYTES, CARD_MAX_DEPTH = 1 << 20, 32


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
    def block(self) -> int:
        """Pixels per side folded into one network position (1 = full resolution)."""
        return ARCHITECTURES[self.arch].block

    @property
    def receptive_radius(self) -> int:
        """How many full-resolution pixels each way an output pixel depends on."""
        return self.block * self.depth + (self.block - 1)

    @property
    def receptive_field(self) -> int:
        return 2 * self.receptive_radius + 1

    @property
    def margin(self) -> int:
        """Context a tile needs on each side for an exact result: the receptive radius, rounded up to
        whole blocks so that every tile's blocks line up with the whole image's."""
        return -(-self.receptive_radius // self.block) * self.block

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelDescriptor":
        data = safe_json.loads(text, max_depth=DESCRIPTOR_MAX_DEPTH, max_bytes=DESCRIPTOR_MAX_BYTES)
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        for key in ("scale_range", "sigma_range", "quality_range"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def descriptor_for_task(
    task: str, depth: int = 30, width: int = 64, blind: bool = False, name: str | None = None, arch: str = "rednet"
) -> ModelDescriptor:
    """The descriptor of a model covering `task`'s whole range; `blind` drops the sigma/quality map."""
    spec = TASKS.get(task)
    if spec is None:
        raise ModelError(f"unknown task {task!r}; choose one of {', '.join(TASK_NAMES)}")
    if blind and spec.condition is not None and not spec.can_be_blind:
        raise ModelError(f"a {task} model needs its {spec.condition} input: it cannot be blind")
    cond = None if blind else spec.condition
    descriptor = ModelDescriptor(task=task, arch=arch, depth=depth, width=width, cond=cond, **spec.descriptor_ranges)
    check_descriptor(descriptor, name or f"RED{depth}-{width} {task}")  # e.g. `rednet train --width 100000`
    return descriptor


# --- the architecture registry -------------------------------------------------------------------
def _build_rednet(d: ModelDescriptor) -> nn.Module:
    from rednet.models.arch import REDNet

    return REDNet(depth=d.depth, width=d.width, colors=d.colors, cond_channels=d.cond_channels)


def _build_rednet_s2d(d: ModelDescriptor) -> nn.Module:
    from rednet.models.arch import SpaceToDepthREDNet

    return SpaceToDepthREDNet(depth=d.depth, width=d.width, colors=d.colors, cond_channels=d.cond_channels)


@dataclass(frozen=True)
class Architecture:
    build: Callable[[ModelDescriptor], nn.Module]
    block: int  # pixels per side folded into one network position (1 = full resolution)
    title: str  # what a model card and a model list call it, before "<depth>-<width>"


# "rednet": the network as its authors released it; "rednet-s2d": the same chain on a 2x2
# space-to-depth input (see arch.SpaceToDepthREDNet).
ARCHITECTURES: dict[str, Architecture] = {
    "rednet": Architecture(_build_rednet, 1, "RED"),
    "rednet-s2d": Architecture(_build_rednet_s2d, 2, "space-to-depth RED"),  # arch.BLOCK (tested equal)
}


def architecture_title(d: ModelDescriptor) -> str:
    """E.g. "RED20-32" or "space-to-depth RED20-64"."""
    return f"{ARCHITECTURES[d.arch].title}{d.depth}-{d.width}"


def build_network(descriptor: ModelDescriptor) -> nn.Module:
    try:
        architecture = ARCHITECTURES[descriptor.arch]
    except KeyError:
        raise ModelError(f"unknown architecture {descriptor.arch!r}") from None
    return architecture.build(descriptor)


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

    @property
    def is_default(self) -> bool:
        """The shipped model `restore` uses for its task when none is named."""
        return self.source == "shipped" and self.path == default_model_path(self.task)


def model_name(path: Path) -> str:
    return Path(path).name.removesuffix(".safetensors")


def card_path(weights: Path) -> Path:
    return Path(weights).with_name(model_name(weights) + ".card.json")


def read_card(weights: Path) -> dict:
    """The model card beside `weights`; {} when there is none or it is unreadable (a card is optional).

    Read through safe_files/safe_json: a pipe or a device named like a card, a huge card or one
    nested thousands of levels deep is treated as no card."""
    try:
        card = safe_json.load_file(card_path(weights), "card", max_depth=CARD_MAX_DEPTH, max_bytes=CARD_MAX_BYTES)
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def checkpoint_path(weights: str | Path) -> Path:
    """Where an unfinished training run of `weights` keeps its checkpoint (`--resume`)."""
    return Path(weights).with_name(model_name(weights) + ".ckpt")


# --- loading -------------------------------------------------------------------------------------
def check_descriptor(d: ModelDescriptor, name: str = "model") -> None:
    """Refuse a descriptor no usable model has (absurd depth or width, unknown task, ...).

    Called on what a file claims before anything is built for it, so a file asking for
    depth 100000 or width 10**9 costs nothing.
    """

    def refuse(what: str) -> None:
        raise ModelError(f"{name}: refused: the model descriptor claims {what}")

    if not isinstance(d.task, str) or d.task not in TASKS:
        refuse(f"task {d.task!r} (known: {', '.join(TASK_NAMES)})")
    if not isinstance(d.arch, str) or d.arch not in ARCHITECTURES:
        raise ModelError(f"{name}: unknown architecture {d.arch!r}")
    if type(d.depth) is not int or not MIN_DEPTH <= d.depth <= MAX_DEPTH or d.depth % 2:
        refuse(f"depth {d.depth!r} (RED-Net depth is an even number from {MIN_DEPTH} to {MAX_DEPTH})")
    if type(d.width) is not int or not 1 <= d.width <= MAX_WIDTH:
        refuse(f"width {d.width!r} (1 to {MAX_WIDTH} channels)")
    if type(d.colors) is not int or d.colors not in COLORS:
        refuse(f"colors {d.colors!r} (1 or 3)")
    spec = TASKS[d.task]
    allowed = (spec.condition,) if spec.condition is None or not spec.can_be_blind else (spec.condition, None)
    if d.cond not in allowed:
        article = "an" if d.task[0] in "aeiou" else "a"
        refuse(f"input condition {d.cond!r} ({article} {d.task} model takes {' or '.join(repr(a) for a in allowed)})")


def _check_layout(d: ModelDescriptor, shapes: dict[str, tuple[int, ...]], name: str) -> None:
    """The tensors' names and shapes must be exactly those of the network the descriptor builds."""
    import torch

    with torch.device("meta"):  # shapes only: no memory
        expected = {k: tuple(v.shape) for k, v in build_network(d).state_dict().items()}
    problem = None
    missing = [k for k in expected if k not in shapes]
    extra = [k for k in shapes if k not in expected]
    wrong = [k for k in expected if k in shapes and tuple(shapes[k]) != expected[k]]
    if wrong:
        k = wrong[0]
        problem = f"{k} is {_dims(shapes[k])}, expected {_dims(expected[k])}"
    elif missing:
        problem = f"{len(missing)} tensors missing, e.g. {missing[0]}"
    elif extra:
        problem = f"{len(extra)} unexpected tensors, e.g. {extra[0]}"
    if problem:
        raise ModelError(
            f"{name}: weights do not match the {d.arch} depth {d.depth} width {d.width} layout ({problem})"
        )


def _dims(shape) -> str:
    return "x".join(str(int(n)) for n in shape) or "a scalar"


def _read_safetensors(path: Path, task: str | None) -> tuple[dict[str, torch.Tensor], ModelDescriptor]:
    """Header first (descriptor, tensor names and shapes), checked; the tensor data only then."""
    from safetensors import safe_open

    def invalid(exc: Exception) -> ModelError:
        return ModelError(f"{path.name}: not a valid safetensors file ({_short(exc)})")

    _check_model_file(path, "model")
    try:
        handle = safe_open(str(path), framework="pt")
    except Exception as exc:  # safetensors raises its own error types for junk and truncation
        raise invalid(exc) from None
    with handle as f:
        try:
            meta = f.metadata() or {}
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
        except Exception as exc:
            raise invalid(exc) from None
        if DESCRIPTOR_KEY in meta:
            try:
                descriptor = ModelDescriptor.from_json(meta[DESCRIPTOR_KEY])
            except safe_json.JSONLimitError as exc:
                if exc.limit is None:
                    raise ModelError(f"{path.name}: malformed model descriptor ({_short(exc)})") from None
                raise ModelError(f"{path.name}: refused: the model descriptor is {exc}") from None
            except (ValueError, TypeError) as exc:
                raise ModelError(f"{path.name}: malformed model descriptor ({_short(exc)})") from None
        else:
            descriptor = _descriptor_from_tensors(shapes, task, path.name)
        _check_model(descriptor, shapes, task, path.name)
        try:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        except Exception as exc:
            raise invalid(exc) from None
    return tensors, descriptor


def _check_model(d: ModelDescriptor, shapes: dict[str, tuple[int, ...]], task: str | None, name: str) -> None:
    check_descriptor(d, name)
    if task is not None and d.task != task:
        raise ModelError(f"{name}: is a {d.task} model, not a {task} model")
    _check_layout(d, shapes, name)


def _check_model_file(path: Path, kind: str) -> None:
    """ModelError unless `path` is a regular file within the size cap (a pipe would hang the load)."""
    try:
        check_regular(path, kind)
    except FileRefused as exc:
        raise ModelError(str(exc)) from None


def _read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    import torch

    try:
        fh = open_regular(path, "checkpoint")
    except FileRefused as exc:
        raise ModelError(str(exc)) from None
    try:
        with fh, warnings.catch_warnings():  # torch's notes about pickle protocols are not for the user
            warnings.simplefilter("ignore")
            obj = torch.load(fh, map_location="cpu", weights_only=True)
    except Exception as exc:  # includes pickle payloads refused by weights_only
        raise ModelError(
            f"{path.name}: refused: not a plain weights checkpoint ({_unpickle_reason(exc)}); "
            "only tensors can be loaded, nothing in the file was run"
        ) from None
    for key in ("ema", "state_dict", "model", "params"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError(f"{path.name}: does not contain a state dict of tensors")
    return obj


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__


def _unpickle_reason(exc: Exception) -> str:
    """The line of torch's weights-only refusal that says what was refused (not its advice to
    re-run with weights_only=False, which would execute the file)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in lines:
        if "unsupported" in line.lower() or "GLOBAL" in line:
            line = line.removeprefix("WeightsUnpickler error:").strip()
            return line.split(". ")[0].rstrip(".")[:160]  # the finding, not the how-to-allow-it
    if lines and lines[0].startswith("Weights only load failed"):
        return "not a pickle of plain tensors"
    return _short(exc)


def _descriptor_from_tensors(
    tensors: dict[str, torch.Tensor] | dict[str, tuple[int, ...]], task: str | None, name: str = "model"
) -> ModelDescriptor:
    """Infer a RED-Net descriptor from a bare state dict (for user checkpoints without metadata).

    Takes the tensors or just their shapes; the result still has to pass `check_descriptor`.
    """
    shapes = {k: tuple(v) if isinstance(v, tuple) else tuple(v.shape) for k, v in tensors.items()}
    convs = sorted(int(m.group(1)) for k in shapes if (m := re.fullmatch(r"convs\.(\d+)\.weight", k)))
    if not convs or task is None:
        raise ModelError(f"{name}: file has no RED-Net descriptor; pass --task for a plain RED-Net state dict")
    try:
        width, in_ch = int(shapes["convs.0.weight"][0]), int(shapes["convs.0.weight"][1])
        colors = int(shapes[f"deconvs.{len(convs) - 1}.weight"][1])
    except (KeyError, IndexError):
        raise ModelError(
            f"{name}: not a RED-Net state dict (its first or last layer is missing or misshapen)"
        ) from None
    base = descriptor_for_task(task, depth=2 * len(convs), width=width, name=name)
    return ModelDescriptor(**{**asdict(base), "colors": colors, "cond": base.cond if in_ch > colors else None})


def load_model(name_or_path: str | Path, task: str | None = None) -> LoadedModel:
    """Load a model by file path or by name (shipped or user). Never executes code from the file."""
    path = resolve_model_path(name_or_path)
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        tensors, descriptor = _read_safetensors(path, task)  # checked before the data is read
    elif suffix in CHECKPOINT_SUFFIXES:
        tensors = _read_checkpoint(path)
        descriptor = _descriptor_from_tensors(tensors, task, path.name)
        _check_model(descriptor, {k: tuple(v.shape) for k, v in tensors.items()}, task, path.name)
    else:
        raise ModelError(f"{path.name}: unsupported model file type (use .safetensors, or .pt/.pth/.ckpt)")
    net = build_network(descriptor)
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise ModelError(
            f"{path.name}: weights do not match the {descriptor.arch} "
            f"depth {descriptor.depth} width {descriptor.width} layout ({_short(exc)})"
        ) from None
    net.eval()
    return LoadedModel(net=net, descriptor=descriptor, card=read_card(path), path=path)


def resolve_model_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    _refuse_special(path, name_or_path)
    for folder in (user_models_dir(), shipped_weights_dir()):
        candidate = folder / f"{name_or_path}.safetensors"
        if candidate.is_file():
            return candidate
        _refuse_special(candidate, name_or_path)
    if path.suffix or os.sep in str(name_or_path):
        raise ModelError(f"{name_or_path}: model file not found")
    known = ", ".join(m.name for m in list_models()) or "none"
    raise ModelError(f"no model named {name_or_path!r} (known: {known})")


def _refuse_special(path: Path, shown: str | Path) -> None:
    """A path that exists but is no regular file (a pipe, a device, a folder) is said to be that,
    not "not found"."""
    what = describe(path)
    if what in (None, "missing"):
        return
    if what == "a broken link":
        raise ModelError(f"{shown}: is a broken link (the file it points to does not exist)")
    raise ModelError(f"{shown}: is {what}, not a model file")


def default_model_path(task: str) -> Path:
    """Where the shipped model for `task` lives (whether or not it is there)."""
    return shipped_weights_dir() / TASKS[task].default_model_file


def default_model(task: str) -> LoadedModel:
    """The shipped model for `task`."""
    path = default_model_path(task)
    if not path.is_file():
        raise ModelError(f"no shipped {task} model in {shipped_weights_dir()}; pass --model")
    return load_model(path, task=task)


# --- saving --------------------------------------------------------------------------------------
def save_model(net: nn.Module, descriptor: ModelDescriptor, path: str | Path, card: dict | None = None) -> Path:
    """Write weights (safetensors, descriptor in its metadata) and the card beside them, atomically."""
    import torch
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in net.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata={DESCRIPTOR_KEY: descriptor.to_json()}))
    if card is not None:
        card = {"descriptor": asdict(descriptor), **card}
        text = json.dumps(card, indent=2, sort_keys=False, default=str)
        atomic_write_text(card_path(path), text + "\n")
    return path


# --- listing -------------------------------------------------------------------------------------
def list_models(task: str | None = None) -> list[ModelInfo]:
    """Shipped models first, then the user's fine-tunes; unreadable files are skipped."""
    found = []
    for source, folder in (("shipped", shipped_weights_dir()), ("user", user_models_dir())):
        if not folder.is_dir():
            continue
        try:
            paths = sorted(folder.glob("*.safetensors"))
        except OSError:
            continue
        for path in paths:
            info = _model_info(path, source)
            if info is not None and (task is None or info.task == task):
                found.append(info)
    return found


def _model_info(path: Path, source: str) -> ModelInfo | None:
    from safetensors import safe_open

    try:
        st = check_regular(path, "model")  # a pipe named like a model would hang safe_open
        with safe_open(str(path), framework="numpy") as f:  # the header only ("pt" would import torch)
            descriptor = ModelDescriptor.from_json((f.metadata() or {})[DESCRIPTOR_KEY])
        check_descriptor(descriptor, path.name)  # a file no one can load is not offered
    except Exception:
        return None
    card = read_card(path)
    summary = card.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        summary = f"RED{descriptor.depth}, width {descriptor.width}"
    summary = " ".join(summary.split())[:200]
    return ModelInfo(model_name(path), descriptor.task, path, source, st.st_size, summary)
