"""Entry point of the `rednet-studio` console script: `rednet-studio [PHOTO]`.

Also `rednet-studio --version` (no Qt, no torch: a quick start-up probe) and `rednet-studio --selftest`
(opens the window offscreen and restores the bundled samples with every task; see app/selftest.py).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys

from app import APP_ID, APP_NAME, ORG_NAME

LOG_NAME = f"{APP_ID}.log"
LOG_MAX_BYTES = 1 << 20  # start the log afresh once it passes 1 MiB


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from rednet import __version__

    parser = argparse.ArgumentParser(prog=APP_ID, description=f"{APP_NAME}: restore photos with RED-Net.")
    parser.add_argument("photo", nargs="?", help="a photo to open")
    parser.add_argument("--version", action="version", version=f"{APP_ID} {__version__}")
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="open the window offscreen (QT_QPA_PLATFORM=offscreen unless set), restore "
        "the bundled samples with every task using the shipped models, print one "
        "PASS/FAIL line per check and exit (0 = all passed)",
    )
    parser.add_argument(
        "--selftest-output",
        metavar="DIR",
        help="with --selftest: keep the restored samples in DIR (default: a temporary "
        "folder, removed unless a check failed)",
    )
    # For `rednet bench`: print when the photo is first painted (wall-clock epoch) and quit.
    parser.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    # Debugging aid: render the window to a PNG after it settles and quit (used for README shots).
    parser.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    parser.add_argument("--screenshot-delay", type=int, default=800, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def ensure_stdio() -> None:
    """Give print() somewhere to go in a windowed build.

    A GUI executable without a console (PyInstaller console=False on Windows, pythonw) starts with
    sys.stdout / sys.stderr set to None: writing to them raises, and tracebacks, warnings and
    `--version` / `--selftest` output would be lost. Attach to the console of the terminal that
    started us when there is one (Windows), else append to a log file in the user data folder
    (os.devnull if that cannot be written).
    """
    if sys.stdout is not None and sys.stderr is not None:
        return
    stream = _parent_console() if sys.platform == "win32" else None
    if stream is None:
        try:
            from rednet.paths import user_data_dir

            folder = user_data_dir()
            folder.mkdir(parents=True, exist_ok=True)
            log = folder / LOG_NAME
            mode = "w" if log.is_file() and log.stat().st_size > LOG_MAX_BYTES else "a"
            stream = open(log, mode, encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
        except OSError:
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stdout is None:
        sys.stdout = stream
    if sys.stderr is None:
        sys.stderr = stream


def _parent_console():
    """Windows: a text stream on the console of the process that started us, or None."""
    try:
        import ctypes

        if not ctypes.windll.kernel32.AttachConsole(-1):  # ATTACH_PARENT_PROCESS
            return None
        return open("CONOUT$", "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
    except (AttributeError, OSError):
        return None


def x11_defaults() -> None:
    """Linux: Qt's X11 backend draws without MIT-SHM unless the user says otherwise. With shared
    memory, on virtual and remote X servers (Xvfb, VNC, containers) the photo's area showed stale,
    wrongly zoomed pixels while another window (Help > Shortcuts) was open over the main one,
    though the canvas painted the right ones; a plain copy per repaint costs little locally."""
    if sys.platform.startswith("linux"):
        os.environ.setdefault("QT_XCB_NO_MITSHM", "1")


def import_core_first() -> None:
    """The core's modules (numpy, Pillow, OpenCV, rednet) before any of Qt's. PySide6 replaces
    `__import__` and reads the source of every module imported after it (for its opt-in
    `__feature__` syntax): 0.1 s at start-up for modules that never use Qt. Also, the photo
    prefetch thread then decodes without importing anything beside the main thread."""
    import rednet.engine.batch  # noqa: F401 - imported for their side effect: loaded before Qt
    import rednet.io  # noqa: F401
    import rednet.models.registry  # noqa: F401
    import rednet.tasks  # noqa: F401


BROKEN_BINDINGS = {"6.12.0": "drops a reference to None on every call, and the window aborts after a few minutes"}


def bindings_warning() -> str | None:
    """One line about installed Qt bindings known to break the window (pyproject.toml excludes them;
    an environment made otherwise may still have them)."""
    import PySide6

    version = PySide6.__version__
    why = BROKEN_BINDINGS.get(version)
    if why is None:
        return None
    return f"{APP_ID}: PySide6 {version} {why}; install another: pip install 'PySide6-Essentials!={version}'"


def create_application(argv0: str | None = None):
    """The QApplication with the app's names, icon and theme (shared by the window and the self-test)."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        x11_defaults()
    from app.resources import app_icon
    from app.theme import apply_theme
    from rednet import __version__

    app = QApplication.instance() or QApplication([argv0 or (sys.argv[0] if sys.argv else APP_ID)])
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)  # matches rednet_resources/rednet-studio.desktop (Wayland/X11 task bars)
    app.setWindowIcon(app_icon())
    apply_theme(app)
    return app


def _probe_shown(app) -> None:
    import time

    shown = time.time()  # before the import below, which is no part of the start-up
    from rednet.evaluation.bench_ratios import SHOWN  # what `rednet bench` waits for

    print(f"{SHOWN} {shown:.6f}", flush=True)
    app.quit()


def main(argv: list[str] | None = None) -> int:
    ensure_stdio()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import_core_first()
    prefetch = None
    if args.photo and not args.selftest:
        from app.services.prefetch import PhotoPrefetch

        prefetch = PhotoPrefetch(args.photo)  # decodes while Qt and the window's modules load

    from app.main_window import MainWindow  # the composition root: the only module that builds the window

    if args.selftest:
        from app.selftest import run_selftest

        return run_selftest(create_application, MainWindow, output_dir=args.selftest_output)

    from PySide6.QtCore import QTimer

    from app.services.preload import preload_engine

    warning = bindings_warning()
    if warning:
        print(warning, file=sys.stderr)
    app = create_application()
    window = MainWindow()
    window.show()
    if args.photo:
        QTimer.singleShot(0, lambda: window.open_path(args.photo, prefetch.read))
    if args.startup_probe:
        window.compare.canvas.first_photo_painted.connect(lambda: _probe_shown(app))
    else:
        # torch after the first paint: the photo shows sooner, and the first Restore need not wait
        QTimer.singleShot(0, lambda: QTimer.singleShot(0, preload_engine))
    if args.screenshot:

        def grab() -> None:
            window.grab().save(args.screenshot)
            window.close()
            app.quit()

        QTimer.singleShot(args.screenshot_delay, grab)
    return app.exec()


def run() -> None:
    """The `rednet-studio` command: `main`, then out at once. When the window has closed, the result
    was saved or discarded, every worker stopped and the settings written; the interpreter's own
    teardown of torch and Qt took another second after a big photo (the process seemed to linger)."""
    status = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(status)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    run()
