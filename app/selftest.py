"""`rednet-studio --selftest`: prove that this installation (a checkout, a wheel or the desktop bundle)
can open its window and restore photos with every task.

It opens the main window offscreen, then for each bundled sample drives the window the way a user
does — open the photo, pick the task and the shipped model, paint the mask (inpaint), press Restore,
wait for the worker, save — so the same `rednet` calls run on the same worker thread as in normal use.
Each result is read back from disk and checked. One line per check:

    PASS window 1280x820 shown in 1.9 s after start (offscreen)
    PASS denoise noisy.png -> 451x300 in 1.2 s
    FAIL jpeg compressed.jpg: no shipped jpeg model: .../resources/weights/jpeg.safetensors is missing

and a summary; the exit status is 0 only when every check passed. The user's settings, recent
files and models are never touched: the window gets settings in a temporary folder and (on Linux)
the XDG config/data/cache folders point there too, so only the shipped models are seen.

The caller (app.main) hands in how to make the application and the window, so this module imports
neither: it drives whatever window it is given through the window's and the panel's public methods.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

_T_IMPORT = time.monotonic()  # fallback "start" where the process start time is unknown

TIMEOUT_S = 900.0  # per restore; the shipped models on a slow CPU take seconds, not minutes


@dataclass(frozen=True)
class Case:
    task: str
    sample: str
    options: dict = field(default_factory=dict)  # what the panel is set to (automatic / the defaults otherwise)
    mask: str | None = None  # a task that takes a mask: the sample's mask (white = fill)


# The bundled samples (rednet_resources/samples) and the task each was made for: data about the
# files, so the tasks are named here. Options left out are automatic (estimated, read from the file).
CASES = (
    Case("denoise", "noisy.png"),
    Case("sr", "small.png", {"scale": 2.0}),
    Case("jpeg", "compressed.jpg"),
    Case("inpaint", "text.png", mask="text-mask.png"),
)


class CheckFailed(Exception):
    """One check failed; the message is the reason printed after FAIL."""


# ---------------------------------------------------------------------------------------------- timing
def process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc), or None where that is not known."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))  # field 22: starttime
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def seconds_since_start() -> tuple[float, str]:
    age = process_age_s()
    if age is not None:
        return age, "after start"
    return time.monotonic() - _T_IMPORT, "after the self-test began"


# ---------------------------------------------------------------------------------------------- output checks
def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 (gray repeated), the way an 8-bit file stores it."""
    px = np.asarray(pixels, dtype=np.float32)
    if px.ndim == 2:
        px = px[..., None]
    if px.shape[2] == 1:
        px = np.repeat(px, 3, axis=2)
    return np.clip(np.rint(px * 255.0), 0, 255).astype(np.uint8)


def changed_fraction(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of 8-bit values that differ (a, b uint8 arrays of the same shape)."""
    return float(np.mean(a != b)) if a.size else 0.0


def check_output(
    task: str, before: np.ndarray, after: np.ndarray, expected_size: tuple[int, int], mask: np.ndarray | None = None
) -> None:
    """Raise CheckFailed unless `after` (uint8 HxWx3, read back from the saved file) is a plausible
    result of `task` on `before` (uint8 HxWx3): right size, not blank, changed where it must be and
    (a task that takes a mask) nowhere else. A result of another size must be more than a resize."""
    from rednet.tasks import get_task

    w, h = expected_size
    if after.shape[:2] != (h, w):
        raise CheckFailed(f"saved result is {after.shape[1]}x{after.shape[0]}, expected {w}x{h}")
    if int(after.max()) - int(after.min()) < 8:
        raise CheckFailed("saved result is blank (almost one flat colour)")
    if get_task(task).mask_option is None and before.shape[:2] == (h, w):
        frac = changed_fraction(before, after)
        if frac < 0.01:
            raise CheckFailed(f"result is the input unchanged ({frac:.2%} of values differ)")
    elif get_task(task).mask_option is None:
        from rednet.tasks.degradations import bicubic_resize

        plain = to_uint8(bicubic_resize(before.astype(np.float32) / 255.0, (w, h)))
        frac = changed_fraction(plain, after)
        if frac < 0.001:
            raise CheckFailed(f"result is a plain bicubic resize ({frac:.2%} of values differ)")
    else:
        if mask is None or mask.shape != before.shape[:2]:
            raise CheckFailed("no mask of the photo's size to check against")
        diff = np.abs(before.astype(np.int16) - after.astype(np.int16)).max(axis=2)
        outside = diff[~mask]
        if outside.size and int(outside.max()) > 1:
            n = int(np.count_nonzero(outside > 1))
            raise CheckFailed(f"{n} pixels outside the mask changed (up to {int(outside.max())} levels)")
        inside = diff[mask]
        if inside.size == 0:
            raise CheckFailed("the mask is empty")
        if float(np.mean(inside > 0)) < 0.10:
            raise CheckFailed(f"the masked area is unchanged ({np.mean(inside > 0):.1%} of its pixels differ)")


# ---------------------------------------------------------------------------------------------- environment
@contextlib.contextmanager
def isolated_user_folders(root: Path) -> Iterator[None]:
    """Point platformdirs (XDG on Linux) at `root`, so user settings and models stay out of it."""
    names = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")
    saved = {k: os.environ.get(k) for k in names}
    for k in names:
        folder = root / k.lower()
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[k] = str(folder)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def scripted_dialogs(errors: list[str]) -> Iterator[None]:
    """No modal dialog may block an unattended run: errors are recorded, questions answered 'no'
    (the window calls its dialogs through these modules, so replacing the functions is enough)."""
    from app.dialogs import prompts as dialogs

    def record(_parent, title, message="", *_args, **_kwargs):
        errors.append(f"{title}: {message}".strip().rstrip(":"))

    replacements: dict[str, Callable] = {
        "show_error": record,
        "show_warning": record,
        "ask_yes_no": lambda *a, **k: False,
        "ask_save_discard_cancel": lambda *a, **k: "discard",
        "ask_open_path": lambda *a, **k: "",
        "ask_save_path": lambda *a, **k: "",
        "ask_mask_save_path": lambda *a, **k: "",
        "show_about": lambda *a, **k: None,
    }
    from app.dialogs import recovery

    targets = [(dialogs, name, fn) for name, fn in replacements.items()]
    # a crashed session's autosave is offered at start: leave it for the user ('later')
    targets.append((recovery, "ask_recover", lambda *a, **k: "later"))
    saved = [(module, name, getattr(module, name)) for module, name, _ in targets if hasattr(module, name)]
    for module, name, fn in targets:
        if hasattr(module, name):
            setattr(module, name, fn)
    try:
        yield
    finally:
        for module, name, fn in saved:
            setattr(module, name, fn)


def _process_events_until(app, done: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.005)
    return True


# ---------------------------------------------------------------------------------------------- the run
class SelfTest:
    def __init__(self, app, window, output_dir: Path, errors: list[str], out=None):
        self.app, self.window, self.output_dir, self.errors = app, window, output_dir, errors
        self.out = out
        self.passed = self.failed = 0

    def report(self, ok: bool, text: str) -> None:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'} {text}", file=self.out or sys.stdout, flush=True)

    def _error_since(self, n: int, fallback: str) -> str:
        new = self.errors[n:]
        return " / ".join(e.splitlines()[0] for e in new) if new else fallback

    def check_window(self) -> None:
        from PySide6.QtGui import QGuiApplication

        w = self.window
        w.show()
        handle = lambda: w.windowHandle()  # noqa: E731
        exposed = _process_events_until(
            self.app, lambda: w.isVisible() and handle() is not None and handle().isExposed(), 20.0
        )
        seconds, since = seconds_since_start()
        platform = QGuiApplication.platformName()
        if not exposed:
            self.report(False, f"window: the main window was not shown within 20 s ({platform})")
            return
        self.report(True, f"window {w.width()}x{w.height()} shown in {seconds:.1f} s {since} ({platform})")

    def check_icons(self) -> None:
        from app.resources import app_icon, icon, icons_dir
        from rednet.tasks import TASK_NAMES

        names = ("open", "save", "restore", *(f"task-{t}" for t in TASK_NAMES), "brush")
        missing = [n for n in names if icon(n).pixmap(24, 24).isNull()]
        if app_icon().pixmap(64, 64).isNull():
            missing.insert(0, "rednet-studio (application icon)")
        if missing:
            self.report(False, f"icons: cannot render {', '.join(missing)} from {icons_dir()}")
        else:
            self.report(True, f"icons: {len(names) + 1} icons render (SVG)")

    def check_case(self, case: Case) -> None:
        label = f"{case.task} {case.sample}"
        try:
            size, seconds = self._run_case(case)
        except CheckFailed as exc:
            self.report(False, f"{label}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a self-test reports, it does not crash
            self.report(False, f"{label}: {type(exc).__name__}: {exc}")
        else:
            self.report(True, f"{label} -> {size[0]}x{size[1]} in {seconds:.1f} s")

    def _run_case(self, case: Case) -> tuple[tuple[int, int], float]:
        from rednet import io as rio
        from rednet.models.registry import default_model_path
        from rednet.paths import samples_dir
        from rednet.tasks import get_task

        w, task, spec = self.window, case.task, get_task(case.task)
        model = default_model_path(task)
        if not model.is_file():
            raise CheckFailed(f"no shipped {task} model: {model} is missing")
        src = samples_dir() / case.sample
        if not src.is_file():
            raise CheckFailed(f"sample photo {src} is missing")
        mask = None
        if case.mask:
            mask_path = samples_dir() / case.mask
            if not mask_path.is_file():
                raise CheckFailed(f"sample mask {mask_path} is missing")

        n = len(self.errors)
        if not w.open_path(src):
            raise CheckFailed(self._error_since(n, "the window did not open the photo"))
        photo = w.doc.current
        before = to_uint8(photo.pixels)

        panel = w.panel
        panel.set_task(task)
        for name, f in panel.page(task).fields.items():
            if f.auto is not None:
                f.auto.setChecked(case.options.get(name) is None)
            if name in case.options:
                f.set_value(case.options[name])
        panel.refresh_models()
        index = next(
            (
                i
                for i in range(panel.model_combo.count())
                if panel.model_combo.itemData(i) and Path(panel.model_combo.itemData(i)).resolve() == model.resolve()
            ),
            -1,
        )
        if index < 0:
            raise CheckFailed(
                f"the shipped model {model.name} is not offered in the model list "
                "(unreadable or built for another task?)"
            )
        panel.model_combo.setCurrentIndex(index)
        if case.mask and spec.mask_option is not None:
            mask = rio.read_mask(mask_path, (photo.width, photo.height))
            w.doc.mask.set_array(mask)

        expected = spec.output_size((photo.width, photo.height), case.options)
        t0 = time.monotonic()
        if not w.start_restore():
            raise CheckFailed(self._error_since(n, "the window did not start the restore"))
        if not self._wait_for_restore():
            w.cancel_restore()
            _process_events_until(self.app, lambda: not w.running, 30.0)
            raise CheckFailed(f"the restore did not finish within {TIMEOUT_S:.0f} s")
        seconds = time.monotonic() - t0
        if len(self.errors) > n:
            raise CheckFailed(self._error_since(n, "restore failed"))
        if w.doc is None or not w.doc.has_result:
            raise CheckFailed("the restore finished without a result")

        dst = self.output_dir / f"{task}-{Path(case.sample).stem}.png"
        if not w.write_to(dst):
            raise CheckFailed(self._error_since(n, f"could not save {dst}"))
        if not dst.is_file() or dst.stat().st_size == 0:
            raise CheckFailed(f"{dst} was not written")
        saved = rio.read_photo(dst)
        check_output(task, before, to_uint8(saved.pixels), expected, mask)
        return (saved.width, saved.height), seconds

    def _wait_for_restore(self) -> bool:
        from PySide6.QtCore import QEventLoop, QTimer

        w = self.window
        if not w.running:
            return True
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        w.runner.done.connect(loop.quit)
        timer.start(int(TIMEOUT_S * 1000))
        try:
            while w.running and timer.isActive():
                loop.exec()
        finally:
            timer.stop()
            w.runner.done.disconnect(loop.quit)
        # Let the queued result reach the document (done follows finished on the same queue).
        self.app.processEvents()
        return not w.running


def run_selftest(
    make_app: Callable[[], object],
    make_window: Callable[[object], object],
    output_dir: str | Path | None = None,
    *,
    isolate: bool = True,
    out=None,
) -> int:
    """Run every check; 0 when all passed, 1 otherwise. Prints PASS/FAIL lines to `out` (stdout).

    `make_app()` returns the QApplication; `make_window(settings)` the main window, given its
    settings (app.services.settings.Settings)."""
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never pop up on the user's screen
    stream = out or sys.stdout
    scratch = Path(tempfile.mkdtemp(prefix="rednet-selftest-"))
    keep = output_dir is not None
    results = Path(output_dir) if keep else scratch / "results"
    results.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    code = 1
    try:
        with contextlib.ExitStack() as stack:
            if isolate:
                stack.enter_context(isolated_user_folders(scratch / "home"))
            stack.enter_context(scripted_dialogs(errors))
            code = _run(make_app, make_window, results, scratch, errors, stream)
    finally:
        if code != 0 and not keep:
            print(f"selftest: outputs kept in {results}", file=stream, flush=True)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return code


def _run(make_app, make_window, results: Path, scratch: Path, errors: list[str], stream) -> int:
    from app.services.settings import Settings
    from rednet import __version__
    from rednet.paths import resources_dir

    print(f"RED-Net Studio {__version__} self-test: resources {resources_dir()}", file=stream, flush=True)
    app = make_app()
    window = make_window(Settings(scratch / "settings.ini"))
    test = SelfTest(app, window, results, errors, stream)
    try:
        test.check_window()
        test.check_icons()
        for case in CASES:
            test.check_case(case)
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    total = test.passed + test.failed
    verdict = "all passed" if test.failed == 0 else f"{test.failed} FAILED"
    print(f"selftest: {test.passed} of {total} checks passed ({verdict})", file=stream, flush=True)
    return 0 if test.failed == 0 else 1
