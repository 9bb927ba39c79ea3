"""Importing the inference engine (torch: a second or more) after the photo is on screen, on a
background thread, so that neither the first paint nor the first Restore waits for it."""

from __future__ import annotations

import threading


def _import_engine() -> None:
    try:
        import rednet.engine.inference  # noqa: F401 - imported for its side effect: torch is loaded
    except Exception:  # noqa: BLE001 - the restore that needs it will report the problem
        pass


def preload_engine() -> threading.Thread:
    """Start importing the engine in the background; the worker that restores first waits for it
    (Python's import lock) if it is not done yet."""
    thread = threading.Thread(target=_import_engine, name="preload-engine", daemon=True)
    thread.start()
    return thread
