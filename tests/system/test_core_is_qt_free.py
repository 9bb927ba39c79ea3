import pkgutil
import subprocess
import sys

import rednet


def test_no_rednet_module_imports_qt():
    """Every module of the core, sub-packages included, imports without pulling in a Qt binding."""
    modules = [m.name for m in pkgutil.walk_packages(rednet.__path__, "rednet.") if not m.name.endswith("__main__")]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6'))\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(modules) > 40
