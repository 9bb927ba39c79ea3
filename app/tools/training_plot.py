"""The live plot of Tools > Fine-tune a Model: each step's training loss (faint), its moving average,
and the validation PSNR, fed with `rednet.train.finetune`'s log entries; and the metrics line under it.

Validation is named as held-out wherever it is shown, to tell it from the preview's score of one crop
(app.tools.finetune_preview), which can move the other way."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from app.widgets.plot_widget import LinePlot

LOSS_SMOOTHING = 0.1  # the plotted training loss is an exponential moving average (raw steps drawn faint)
VALIDATION_NAME = "validation PSNR (held-out photos)"


class TrainingPlot(LinePlot):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._loss_avg: tuple[float, int] | None = None  # (EMA, count) of the training loss
        self.add_series(
            "loss", "loss (each step)", QColor(110, 170, 255, 70), side="left", log=True, legend=False, width=1.0
        )
        self.add_series("loss_avg", "training loss", QColor(110, 170, 255), side="left", log=True, width=2.0)
        self.add_series("psnr", VALIDATION_NAME, QColor(235, 96, 108), side="right", unit="dB", marker=True)
        self.placeholder = "The loss and the validation score appear here as it learns"

    def clear(self) -> None:
        super().clear()
        self._loss_avg = None

    def add_entry(self, entry: dict) -> None:
        """One log entry ({"step", "loss"} and/or {"val_psnr"})."""
        step = entry["step"]
        if "loss" in entry:
            self.add_point("loss", step, entry["loss"])
            # exponential moving average, bias-corrected so the first steps are their plain mean
            ema, n = self._loss_avg or (0.0, 0)
            ema, n = ema + LOSS_SMOOTHING * (entry["loss"] - ema), n + 1
            self._loss_avg = (ema, n)
            self.add_point("loss_avg", step, ema / (1 - (1 - LOSS_SMOOTHING) ** n))
        if "val_psnr" in entry:
            self.add_point("psnr", step, entry["val_psnr"])


def metrics_text(log: list[dict], skipped: list[str]) -> str:
    """The line under the plot: the last step's loss, the last and best validation score."""
    entry = log[-1]
    vals = [e["val_psnr"] for e in log if "val_psnr" in e]
    text = f"Step {entry['step']} · loss {entry.get('loss', float('nan')):.5f}"
    if vals:
        text += f" · {VALIDATION_NAME} {vals[-1]:.2f} dB (best {max(vals):.2f})"
    if skipped:
        text += f" · {len(skipped)} photo(s) skipped"
    return text
