"""File > Preferences: where the network runs (device, tile size), saving and view options."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.canvas.compare import CompareMode
from app.services import settings as S
from rednet.engine.device import available_devices

# What each choice costs on a 12 MP photo (docs/bench.md, "Encoding and decoding big photos").
PNG_COMPRESSION_LABELS = {
    "fast": "Fast (about 1 s for 12 MP; a slightly larger file)",
    "small": "Smallest file (8-13% smaller; 30-40 s for 12 MP)",
}

DEVICE_LABELS = {
    "auto": "Automatic (best available)",
    "cpu": "CPU",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (Metal)",
}


class PreferencesDialog(QDialog):
    """Edits a Settings object; `accept()` writes the values back."""

    def __init__(self, settings: S.Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(420)
        form = QFormLayout()

        self.device_combo = QComboBox(self)
        for d in ["auto", *available_devices()]:
            self.device_combo.addItem(DEVICE_LABELS.get(d, d), d)
        current = settings.get(S.DEVICE)
        idx = self.device_combo.findData(current)
        if idx < 0:  # a device saved on another machine: keep it visible, marked unavailable
            self.device_combo.addItem(f"{current} (not available here)", current)
            idx = self.device_combo.count() - 1
        self.device_combo.setCurrentIndex(idx)
        form.addRow("Device", self.device_combo)

        self.tile_spin = QSpinBox(self)
        self.tile_spin.setRange(0, 4096)
        self.tile_spin.setSingleStep(64)
        self.tile_spin.setSpecialValueText("Automatic")
        self.tile_spin.setSuffix(" px")
        self.tile_spin.setValue(settings.get(S.TILE))
        form.addRow("Tile size", self.tile_spin)
        note = QLabel(
            "Photos are processed in tiles of this size; smaller tiles use less memory and let Cancel stop sooner.",
            self,
        )
        note.setWordWrap(True)
        note.setObjectName("hint")
        form.addRow("", note)

        self.jpeg_spin = QSpinBox(self)
        self.jpeg_spin.setRange(1, 100)
        self.jpeg_spin.setValue(settings.get(S.SAVE_JPEG_QUALITY))
        form.addRow("JPEG save quality", self.jpeg_spin)

        self.png_combo = QComboBox(self)
        for value, label in PNG_COMPRESSION_LABELS.items():
            self.png_combo.addItem(label, value)
        self.png_combo.setCurrentIndex(max(self.png_combo.findData(settings.get(S.SAVE_PNG_COMPRESSION)), 0))
        self.png_combo.setToolTip("PNG is lossless either way: the same pixels, bit depth and metadata.")
        form.addRow("PNG compression", self.png_combo)

        self.compare_combo = QComboBox(self)
        for m in CompareMode:
            self.compare_combo.addItem(m.title, m.value)
        self.compare_combo.setCurrentIndex(max(self.compare_combo.findData(settings.get(S.COMPARE_MODE)), 0))
        form.addRow("Compare mode for results", self.compare_combo)

        self.opacity_spin = QDoubleSpinBox(self)
        self.opacity_spin.setRange(0.05, 1.0)
        self.opacity_spin.setSingleStep(0.05)
        self.opacity_spin.setValue(settings.get(S.MASK_OPACITY))
        form.addRow("Mask overlay opacity", self.opacity_spin)

        path = QLabel(f"Stored in {settings.path}", self)
        path.setObjectName("hint")
        path.setWordWrap(True)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(path)
        lay.addWidget(buttons)

    def restore_defaults(self) -> None:
        self.device_combo.setCurrentIndex(max(self.device_combo.findData(S.DEVICE.default), 0))
        self.tile_spin.setValue(S.TILE.default)
        self.jpeg_spin.setValue(S.SAVE_JPEG_QUALITY.default)
        self.png_combo.setCurrentIndex(max(self.png_combo.findData(S.SAVE_PNG_COMPRESSION.default), 0))
        self.compare_combo.setCurrentIndex(max(self.compare_combo.findData(S.COMPARE_MODE.default), 0))
        self.opacity_spin.setValue(S.MASK_OPACITY.default)

    def accept(self) -> None:
        s = self.settings
        s.set(S.DEVICE, self.device_combo.currentData())
        s.set(S.TILE, self.tile_spin.value())
        s.set(S.SAVE_JPEG_QUALITY, self.jpeg_spin.value())
        s.set(S.SAVE_PNG_COMPRESSION, self.png_combo.currentData())
        s.set(S.COMPARE_MODE, self.compare_combo.currentData())
        s.set(S.MASK_OPACITY, round(self.opacity_spin.value(), 2))
        s.sync()
        super().accept()
