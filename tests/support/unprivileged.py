"""Run a permission check for real, even when the tests run as root.

Root ignores file permissions, so under root an unreadable file or a read-only folder proves
nothing. Instead of skipping such tests, their check runs in a child process that has lost the two
capabilities that bypass permission bits (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): dropped from the
bounding set with util-linux's `setpriv`, so after exec even uid 0 obeys the file modes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DROP_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `code` with this interpreter in `cwd`, with file permissions enforced."""
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": repo}
    prefix = DROP_DAC if os.geteuid() == 0 else []
    if prefix and shutil.which("setpriv") is None:
        raise RuntimeError("tests run as root need util-linux's setpriv to enforce file permissions")
    return subprocess.run(
        [*prefix, sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
