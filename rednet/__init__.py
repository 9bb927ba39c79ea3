"""RED-Net Studio core: models, degradations, inference, training, I/O and CLI.

This package never imports Qt; the GUI in `app/` calls these plain functions from a worker thread.
"""

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
