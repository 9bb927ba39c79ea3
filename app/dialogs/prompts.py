"""Every modal dialog the window opens, as plain module functions.

The window and its tools call these through the module (`dialogs.ask_open_path(...)`), so tests
replace them with monkeypatch and never block on a modal dialog.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

from rednet.io import SUPPORTED_READ_EXTENSIONS

IMAGE_FILTER = "Images (" + " ".join("*" + e for e in SUPPORTED_READ_EXTENSIONS) + ")"

OPEN_FILTERS = ";;".join(
    [
        IMAGE_FILTER,
        "PNG (*.png)",
        "JPEG (*.jpg *.jpeg)",
        "TIFF (*.tif *.tiff)",
        "WebP (*.webp)",
        "All files (*)",
    ]
)

SAVE_FILTERS = {
    "PNG (*.png)": ".png",
    "JPEG (*.jpg *.jpeg)": ".jpg",
    "TIFF (*.tif *.tiff)": ".tif",
    "WebP (*.webp)": ".webp",
}

MASK_FILTERS = "PNG mask (*.png);;" + IMAGE_FILTER


def ask_open_path(
    parent: QWidget | None, directory: str = "", title: str = "Open Photo", filters: str = OPEN_FILTERS
) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, directory, filters)
    return path


def ask_save_path(parent: QWidget | None, suggested: str, title: str = "Save Photo As") -> str:
    """A path to save to; the extension follows the chosen filter when the user typed none."""
    filters = ";;".join(SAVE_FILTERS)
    suffix = "." + suggested.rsplit(".", 1)[-1].lower() if "." in suggested else ".png"
    selected = next(
        (f for f, s in SAVE_FILTERS.items() if s == suffix or (suffix == ".jpeg" and s == ".jpg")), "PNG (*.png)"
    )
    path, chosen = QFileDialog.getSaveFileName(parent, title, suggested, filters, selected)
    if path and "." not in path.rsplit("/", 1)[-1]:
        path += SAVE_FILTERS.get(chosen, ".png")
    return path


def ask_mask_save_path(parent: QWidget | None, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Export Mask", suggested, "PNG mask (*.png)")
    if path and not path.lower().endswith(".png"):
        path += ".png"
    return path


def ask_folder(parent: QWidget | None, title: str, directory: str = "") -> str:
    return QFileDialog.getExistingDirectory(parent, title, directory)


def ask_open_file(parent: QWidget | None, title: str, directory: str = "", filters: str = "") -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, directory, filters)
    return path


def ask_csv_path(parent: QWidget | None, suggested: str, title: str = "Save Batch Report") -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, "CSV (*.csv)")
    if path and not path.lower().endswith(".csv"):
        path += ".csv"
    return path


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str:
    """The text typed, or "" when the box was cancelled."""
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    return value if ok else ""


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def show_warning(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.warning(parent, title, message)


def ask_yes_no(parent: QWidget | None, title: str, message: str) -> bool:
    answer = QMessageBox.question(
        parent,
        title,
        message,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_save_discard_cancel(parent: QWidget | None, message: str) -> str:
    """'save', 'discard' or 'cancel'."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved result", message, parent=parent)
    box.setInformativeText("Do you want to save the restored photo?")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
        QMessageBox.StandardButton(answer), "cancel"
    )


def show_about(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.about(parent, title, text)
