"""The generic worker runner: plain functions with a TaskState on a worker thread, results, errors,
progress and cancellation delivered as queued signals on the GUI thread."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread

from app.services.runner import Runner, plain
from rednet.progress import Cancelled


@pytest.fixture
def runner(qtbot):
    r = Runner()
    yield r
    r.shutdown()


def work(n, *, state, sleep=0.0, threads=None):
    if threads is not None:
        threads.append(threading.get_ident())
    for i in range(n):
        state.check()
        time.sleep(sleep)
        state.report((i + 1) / n, f"step {i + 1} of {n}")
    return n * 10


def test_result_and_progress_arrive_on_the_gui_thread(runner, qtbot):
    main = threading.get_ident()
    worker_threads, seen = [], []

    def on_progress(p):
        seen.append((p.fraction, QThread.currentThread() is runner.thread()))

    runner.progress.connect(on_progress)
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.start(work, 5, sleep=0.04, threads=worker_threads)
        assert runner.running
    assert blocker.args == [50]
    assert worker_threads and worker_threads[0] != main
    assert seen and seen[-1][0] == 1.0 and all(on_gui for _, on_gui in seen)
    assert not runner.running
    assert runner.last_progress.message == "step 5 of 5"


def test_errors_become_a_signal(runner, qtbot):
    def boom(*, state):
        raise ValueError("the reason")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.start(boom)
    assert isinstance(blocker.args[0], ValueError) and str(blocker.args[0]) == "the reason"
    assert "ValueError" in runner.last_traceback


def test_cancel_raises_cancelled_in_the_function(runner, qtbot):
    started = threading.Event()
    stopped = []

    def slow(*, state):
        started.set()
        try:
            for _ in range(500):
                state.check()
                time.sleep(0.01)
        except Cancelled:
            stopped.append(True)
            raise
        return "finished"

    finished = []
    runner.finished.connect(finished.append)
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.start(slow)
        assert started.wait(5)
        runner.cancel()
    assert stopped == [True] and finished == []


def test_a_result_that_arrives_after_cancel_is_dropped(runner, qtbot):
    gate = threading.Event()

    def ignores_cancel(*, state):
        gate.wait(5)
        return "late"

    finished = []
    runner.finished.connect(finished.append)
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.start(ignores_cancel)
        runner.cancel()
        gate.set()
    assert finished == []


def test_cancel_after_the_worker_finished_but_before_its_result_is_delivered_drops_it(runner, qtbot):
    done = threading.Event()

    def quick(*, state):
        done.set()
        return "too late"

    finished = []
    runner.finished.connect(finished.append)
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.start(quick)
        assert done.wait(5)
        runner.pool.waitForDone(5000)  # the result is emitted and queued, not yet delivered
        runner.cancel()
    assert finished == []


def test_a_new_job_replaces_the_old_one(runner, qtbot):
    results = []
    runner.finished.connect(results.append)
    runner.start(work, 200, sleep=0.005)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start(work, 2)
    runner.wait(5000)
    qtbot.wait(50)
    assert results == [20]


def test_plain_adapts_functions_without_state(runner, qtbot):
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.start(plain(sum), [1, 2, 3])
    assert blocker.args == [6]
