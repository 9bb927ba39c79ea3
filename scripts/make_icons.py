"""Render the application icon: rednet_resources/icons/rednet-studio.svg -> .png (256 px) and .ico.

    python scripts/make_icons.py

The SVG is the source (drawn for this project); Qt's SVG renderer rasterises it at each size and
Pillow writes the multi-size Windows .ico. Run it again after editing the SVG.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "rednet_resources" / "icons"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(svg: Path, size: int):
    """The SVG rendered at size x size, as an RGBA Pillow image."""
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_RGBA8888)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = bytes(image.constBits())[: image.bytesPerLine() * size]
    return Image.frombuffer("RGBA", (size, size), data, "raw", "RGBA", image.bytesPerLine(), 1).copy()


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts/painting need it
    svg = ICONS / "rednet-studio.svg"
    images = {size: render(svg, size) for size in ICO_SIZES}
    images[256].save(ICONS / "rednet-studio.png", optimize=True)
    images[256].save(
        ICONS / "rednet-studio.ico",
        sizes=[(s, s) for s in ICO_SIZES],
        append_images=[images[s] for s in ICO_SIZES if s != 256],
    )
    print(
        f"wrote {ICONS / 'rednet-studio.png'} and {ICONS / 'rednet-studio.ico'} ({', '.join(map(str, ICO_SIZES))} px)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
