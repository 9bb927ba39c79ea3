"""What a task is: the one place that knows a restoration task's options, network input and degradation.

A `Task` (spandrel's descriptor idea applied to tasks) holds everything the rest of rednet and the app
would otherwise spell out per task: its name and titles, its options with their ranges and defaults,
how they are checked, how a photo becomes the network input and how the output comes back, how a clean
photo is degraded (for training, evaluation, benchmarks and previews), and its shipped model. The CLI,
the GUI, batch runs, training, eval and bench ask the task; none of them branches on a task's name.

A new task is one module in this package with a `Task` subclass, listed in `rednet/tasks/__init__.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from rednet.errors import UsageError

# (network input HxWxC, constant condition value or None, progress state) -> restored HxWx3
RunModel = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Option:
    """One user-facing option of a task (a number; the mask is a `MaskOption`)."""

    name: str  # the restore() keyword and, with dashes, the CLI option: "sigma" -> --sigma
    title: str  # how the GUI labels it
    low: float
    high: float
    default: float | None  # None: chosen from the photo (`auto` says how)
    help: str  # the CLI help text, without the default
    auto: str = ""  # what happens when it is left out, e.g. "estimated from the photo"
    integer: bool = False
    unit: str = ""

    @property
    def kind(self) -> type:
        return int if self.integer else float

    def check(self, value) -> None:
        """Raise a UsageError about this option when `value` is out of its range."""
        if value is None:
            return
        v = float(value)
        if not (self.low <= v <= self.high):
            units = f" ({self.unit})" if self.unit else ""
            raise UsageError(
                f"must be between {_exact(self.low)} and {_exact(self.high)}{units}, got {_exact(v)}", option=self.name
            )

    def cli_help(self) -> str:
        if self.default is not None:
            return f"{self.help} (default {_exact(self.default)})"
        return f"{self.help} (default: {self.auto})" if self.auto else self.help


@dataclass(frozen=True)
class MaskOption:
    """A task's mask: a bool HxW array, True = fill; on the command line a PNG file."""

    name: str = "mask"
    title: str = "Mask"
    help: str = "mask image, white = fill, same size as the photo"
    required: bool = True


@dataclass
class Degraded:
    """A clean photo degraded for a task: everything eval, bench and the fine-tune preview need."""

    clean: np.ndarray  # the target (sr: cropped to a whole multiple of the scale)
    pixels: np.ndarray  # what restore() gets (sr: the low-resolution photo)
    options: dict  # restore() keywords that describe the degradation (sigma / scale / quality / mask)
    shown: np.ndarray  # the degraded photo at the target's size (sr: bicubic back up), the baseline
    extra: dict = field(default_factory=dict)  # jpeg: the file's bytes; inpaint: the mask
    jpeg_quality: int | None = None  # set when `pixels` are a JPEG file's (whose quality a reader sees)


class Task:
    """Base class; each task module defines one subclass and one instance."""

    name: str = ""
    title: str = ""  # "JPEG clean-up"
    button_text: str = ""  # short, for the task buttons: "JPEG"
    result_word: str = "restored"  # what was done, for a file name: "photo-denoised.png"
    hint: str = ""  # one or two sentences for the GUI
    condition: str | None = None  # the extra input channel: "sigma", "quality", "mask" or None
    options: tuple = ()  # Option / MaskOption
    descriptor_ranges: dict = {}  # ModelDescriptor fields a model covering the whole task has
    example: dict = {}  # degrade() setting for previews and bench: a typical case
    gray_fraction: float = 0.0  # share of training patches made gray (three equal channels)
    learns_from_pairs: bool = True  # fine-tuning may give corrupted/clean pairs instead of clean photos
    can_be_blind: bool = True  # a model may do without the condition channel
    progressive: bool = True  # the network's output is the result, tile for tile (a window may show tiles)

    def suits(self, photo) -> str | None:
        """Why this task is what the opened `photo` needs, in a few words for a hint, or None."""
        return None

    @property
    def default_model_file(self) -> str:
        """The shipped model's file name in rednet_resources/weights."""
        return f"{self.name}.safetensors"

    def option(self, name: str) -> Option | MaskOption | None:
        return next((o for o in self.options if o.name == name), None)

    @property
    def numeric_options(self) -> tuple[Option, ...]:
        return tuple(o for o in self.options if isinstance(o, Option))

    @property
    def mask_option(self) -> MaskOption | None:
        return next((o for o in self.options if isinstance(o, MaskOption)), None)

    # --- checking and describing a request ----------------------------------------------------------
    def validate(self, options: dict, size: tuple[int, int] | None = None) -> None:
        """Raise a UsageError (naming the option) when `options` do not make a valid request."""
        for opt in self.numeric_options:
            opt.check(options.get(opt.name))
        mask_opt = self.mask_option
        mask = options.get("mask")
        if mask_opt is not None and mask_opt.required and mask is None:
            raise UsageError(f"{self.name} needs a mask (white = fill)", option="mask")
        if mask is not None and size is not None and (mask.shape[1], mask.shape[0]) != tuple(size):
            raise UsageError(
                f"mask is {mask.shape[1]}x{mask.shape[0]} but the photo is {size[0]}x{size[1]}", option="mask"
            )

    def output_size(self, size: tuple[int, int], options: dict) -> tuple[int, int]:
        """(width, height) of the restored photo for an input of `size`."""
        return tuple(size)

    def step_label(self, options: dict) -> str:
        """A short history entry for a finished restore: 'Denoise σ 25', 'Upscale ×2', ..."""
        return self.title

    # --- the network's view ---------------------------------------------------------------------------
    def condition_value(self, options: dict) -> float | None:
        """The constant of the condition channel for these options (None: no constant channel)."""
        return None

    def network_input(self, degraded: np.ndarray, **options) -> np.ndarray:
        """The degraded photo (HxWx3, at output size) stacked with its condition channel."""
        value = self.condition_value(options)
        if value is None:
            return degraded.astype(np.float32, copy=False)
        return np.concatenate([degraded, constant_map(degraded, value)], axis=2)

    def full_input(self, pixels: np.ndarray, options: dict) -> np.ndarray:
        """The whole network input for degraded `pixels` (HxWx3), at the output size: what `restore`
        feeds through the tiles (for timing the network alone)."""
        return self.network_input(pixels, **options)

    def restore_pixels(
        self, photo, rgb: np.ndarray, options: dict, run: RunModel, *, margin: int, state
    ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
        """Restore `rgb` (the photo's pixels as RGB): (restored RGB, alpha, notes for the user).

        `run(x, cond=..., state=...)` runs the model on a network input (tiled; `cond` a constant
        condition channel to append per tile); `margin` is the model's context in pixels."""
        return run(rgb, cond=self.condition_value(options), state=state), photo.alpha, []

    def compose_output(self, network_input, prediction):
        """The restored photo from the network's prediction (inpainting keeps unmasked pixels)."""
        return prediction

    # --- degrading clean photos -------------------------------------------------------------------------
    def degrade(self, clean: np.ndarray, rng: np.random.Generator, **setting) -> Degraded:
        """`clean` (HxWx3, 0..1) degraded as this task's users' photos are; `setting` picks the case
        (the defaults: `example`)."""
        raise NotImplementedError

    def training_pair(self, clean: np.ndarray, rng: np.random.Generator, patch: int) -> tuple[np.ndarray, np.ndarray]:
        """(network input, target), both `patch` x `patch`, from `clean` (at least patch+16 px a side),
        with the degradation drawn across the task's whole range so one model covers it."""
        raise NotImplementedError

    def fit_pair(self, corrupted: np.ndarray, clean: np.ndarray) -> np.ndarray | None:
        """A user's corrupted photo whose size differs from its clean partner's, brought to that size;
        None when this task has no such pairs (the pair is then refused)."""
        return None

    def pair_options(self, corrupted_photo, corrupted: np.ndarray, clean: np.ndarray) -> dict:
        """restore() options for a user's corrupted/clean training pair (fine-tuning on pairs)."""
        return {}

    def __repr__(self) -> str:
        return f"<Task {self.name}>"


def constant_map(like: np.ndarray, value: float) -> np.ndarray:
    return np.full(like.shape[:2] + (1,), value, dtype=np.float32)


def gray_copy(clean: np.ndarray) -> np.ndarray:
    """A gray photo as the RGB model sees one: three equal channels."""
    return np.repeat(clean.mean(axis=2, keepdims=True), 3, axis=2)


def _exact(value) -> str:
    """A number as short as it can be written without changing it: 1.0000001 is not "1"."""
    short = f"{float(value):g}"
    return short if float(short) == float(value) else repr(float(value))
