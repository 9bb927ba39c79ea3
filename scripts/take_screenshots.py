"""Regenerate the README screenshots by driving the real window (run under Xvfb, or offscreen).

    xvfb-run -s '-screen 0 1400x900x24' .venv/bin/python scripts/take_screenshots.py docs/
Uses the shipped models; the user's settings and models are kept out of it (temporary XDG folders).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

home = tempfile.mkdtemp(prefix="rednet-shots-")
for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
    os.environ[var] = os.path.join(home, var.lower())

from PySide6.QtCore import QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from app.main import create_application  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from rednet.paths import samples_dir  # noqa: E402


def new_window() -> MainWindow:
    window = MainWindow()
    window.resize(1360, 860)
    window.show()
    QTest.qWaitForWindowExposed(window)
    return window


def restore_and_wait(window: MainWindow) -> None:
    done = []
    window.runner.done.connect(lambda *_: done.append(1))
    window.start_restore()
    start = time.time()
    while not done and time.time() - start < 600:
        QTest.qWait(50)


def paint(window: MainWindow, points, size: int) -> None:
    canvas = window.compare.canvas
    window.mask_panel.set_brush_size(size)
    pts = [canvas.image_to_widget(QPointF(*p)).toPoint() for p in points]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    for a, b in zip(pts, pts[1:]):
        for i in range(1, 9):
            QTest.mouseMove(canvas, a + (b - a) * i / 8)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])


def close(window: MainWindow) -> None:
    if window.doc:
        window.doc.saved_photo = window.doc.current  # no "unsaved result" prompt
    window.close()


def main(out: Path) -> None:
    app = create_application(sys.argv[0])
    out.mkdir(parents=True, exist_ok=True)

    window = new_window()  # split view: the noisy sample, denoised with the shipped model
    window.open_path(str(samples_dir() / "noisy.png"))
    window.panel.set_task("denoise")
    restore_and_wait(window)
    window.set_compare_mode("split")
    window.compare.set_divider(0.5)
    QTest.qWait(500)
    window.grab().save(str(out / "screenshot-split.png"))
    close(window)

    window = new_window()  # the mask brush over the words written on the text sample
    window.open_path(str(samples_dir() / "text.png"))
    window.panel.set_task("inpaint")
    QTest.qWait(300)
    paint(window, [(36, 52), (262, 52)], 22)
    paint(window, [(36, 70), (262, 70)], 22)
    paint(window, [(256, 446), (330, 446)], 24)
    QTest.mouseMove(window.compare.canvas, window.compare.canvas.image_to_widget(QPointF(345, 447)).toPoint())
    QTest.qWait(500)
    window.grab().save(str(out / "screenshot-mask.png"))
    close(window)
    app.quit()
    print(f"saved {out / 'screenshot-split.png'} and {out / 'screenshot-mask.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
