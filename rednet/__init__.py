"""RED-Net Studio core: models, degradations, inference, training, I/O and CLI.

This package never imports Qt; the GUI in `app/` calls these plain functions from a worker thread.
"""

__version__ = "0.1.0"
