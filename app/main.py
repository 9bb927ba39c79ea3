"""Entry point of the `rednet-studio` console script: `rednet-studio [PHOTO]`."""

from __future__ import annotations

import argparse
import sys

from . import APP_ID, APP_NAME, ORG_NAME


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from rednet import __version__

    parser = argparse.ArgumentParser(prog=APP_ID, description=f"{APP_NAME}: restore photos with RED-Net.")
    parser.add_argument("photo", nargs="?", help="a photo to open")
    parser.add_argument("--version", action="version", version=f"{APP_ID} {__version__}")
    # Debugging aid: render the window to a PNG after it settles and quit (used for README shots).
    parser.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    parser.add_argument("--screenshot-delay", type=int, default=800, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_ID])
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    from rednet import __version__

    app.setApplicationVersion(__version__)
    apply_theme(app)
    window = MainWindow()
    window.show()
    if args.photo:
        QTimer.singleShot(0, lambda: window.open_path(args.photo))
    if args.screenshot:
        def grab() -> None:
            window.grab().save(args.screenshot)
            window.close()
            app.quit()

        QTimer.singleShot(args.screenshot_delay, grab)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
