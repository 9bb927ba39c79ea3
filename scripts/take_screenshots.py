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
from app.resources import sample_photos  # noqa: E402
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

    window = new_window()  # side by side after an upscale, with the loupe under the pointer
    window.open_sample(next(s for s in sample_photos() if s.task == "sr"))
    window.panel.field("scale").spin.setValue(2.0)
    restore_and_wait(window)
    window.set_compare_mode("side-by-side")
    window.compare.zoom_fit()
    window.actions["loupe"].setChecked(True)
    canvas = window.compare.canvas
    QTest.mouseMove(canvas, canvas.image_to_widget(QPointF(250, 170)).toPoint())
    QTest.qWait(500)
    window.grab().save(str(out / "screenshot-loupe.png"))
    close(window)

    window = new_window()  # a 12 MP photo zoomed into a corner: that corner is restored first
    seconds = progressive_shot(window, out / "screenshot-progressive.png")
    close(window)
    app.quit()
    print(f"saved {', '.join(p.name for p in sorted(out.glob('screenshot-*.png')))} in {out}")
    print(f"12 MP denoise: the first tile under a 100% view of a corner landed {seconds:.1f} s after Restore")


def progressive_shot(window: MainWindow, path: Path) -> float:
    """Open a noisy 12 MP photo, zoom to 100% on its bottom right corner, press Restore and save the
    window once the first tile under the view has landed; returns when it landed (s after Restore)."""
    import numpy as np

    from rednet.evaluation.bench_inputs import bench_photo
    from rednet.io import Photo, write_photo
    from rednet.tasks.degradations import add_gaussian_noise

    pixels, _ = bench_photo(4000, 3000)
    noisy = np.clip(add_gaussian_noise(pixels, 25.0, np.random.default_rng(0)), 0, 1)
    photo_path = Path(home) / "noisy-12mp.png"
    write_photo(Photo(pixels=noisy.astype(np.float32)), photo_path)
    window.open_path(str(photo_path))
    window.panel.set_task("denoise")
    window.compare.canvas.zoom_to(1.0)
    window.compare.state.set_view(1.0, QPointF(3500, 2650))
    landed = []
    window.restorer.tile_ready.connect(lambda *_: landed.append(time.time()))
    start = time.time()
    window.start_restore()
    while not landed and time.time() - start < 120:
        QTest.qWait(20)
    QTest.qWait(300)
    window.grab().save(str(path))
    window.cancel_restore()
    while window.running:
        QTest.qWait(20)
    return landed[0] - start


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
