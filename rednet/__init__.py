"""RED-Net Studio core: restoration tasks, models, the restore engine, photo I/O, training, evaluation.

This package never imports Qt; the GUI in `app/` calls these plain functions from a worker thread.
The names below are the curated public API (`from rednet import restore, read_photo`); they load on
first use, so `import rednet` stays cheap and torch is not loaded before it is needed.

    photo = rednet.read_photo("scan.jpg")
    clean = rednet.restore(photo, "denoise")           # sigma estimated
    rednet.write_photo(clean, "scan-clean.png")
    rednet.restore_file("a.jpg", "a-clean.png", task="jpeg")   # the CLI's pipeline, in one call
"""

import importlib as _importlib
import os as _os
import sys as _sys

# OpenMP threads that finish their share of a layer sleep instead of spinning: on a machine shared with
# other work, spinning threads take the core a lagging thread needs (RED30-64 bf16, 2 cores with one
# busy: 3.9 s -> 3.4 s a tile); with layers this large the wake-ups cost nothing measurable. libgomp
# reads it when torch loads, and every module of rednet is imported after this package: set here, it
# applies wherever rednet loads torch first (the CLI, the app, scripts). A value in the environment wins.
if "torch" not in _sys.modules:
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

_PUBLIC = {
    # tasks
    "TASKS": "rednet.tasks",
    "TASK_NAMES": "rednet.tasks",
    "Task": "rednet.tasks",
    "get_task": "rednet.tasks",
    # restoring
    "restore": "rednet.engine.restore",
    "restore_file": "rednet.engine.restore",
    "BatchJob": "rednet.engine.batch",
    "run_batch": "rednet.engine.batch",
    "estimate_sigma": "rednet.tasks.noise_level",
    # photos
    "Photo": "rednet.io",
    "read_photo": "rednet.io",
    "write_photo": "rednet.io",
    "read_mask": "rednet.io",
    "write_mask": "rednet.io",
    # models
    "LoadedModel": "rednet.models.registry",
    "ModelDescriptor": "rednet.models.registry",
    "load_model": "rednet.models.registry",
    "default_model": "rednet.models.registry",
    "list_models": "rednet.models.registry",
    # training and measuring
    "TrainConfig": "rednet.train.loop",
    "train": "rednet.train.loop",
    "finetune": "rednet.train.finetune",
    "evaluate": "rednet.evaluation.evaluate",
    # progress and errors
    "TaskState": "rednet.progress",
    "Cancelled": "rednet.progress",
    "RednetError": "rednet.errors",
    "UsageError": "rednet.errors",
    "ModelError": "rednet.errors",
    "ImageReadError": "rednet.errors",
    "ImageWriteError": "rednet.errors",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'rednet' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
