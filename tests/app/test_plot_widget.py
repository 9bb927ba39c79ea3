"""The live training plot (app.widgets.plot_widget): repaints throttled however fast points arrive."""

from __future__ import annotations

from app.widgets.plot_widget import REDRAW_INTERVAL_MS, LinePlot


def test_plot_repaints_are_throttled(qtbot):
    plot = LinePlot()
    qtbot.addWidget(plot)
    plot.add_series("loss", "loss", "#6af", log=True)
    plot.show()
    qtbot.waitExposed(plot)
    qtbot.wait(50)
    before = plot.paint_count
    for step in range(1, 2001):  # a fast run's log entries, arriving faster than repaints
        plot.add_point("loss", step, 1.0 / step)
        if step % 200 == 0:
            qtbot.wait(20)
    qtbot.wait(REDRAW_INTERVAL_MS + 150)
    painted = plot.paint_count - before
    assert 1 <= painted <= 4
    assert plot.point_count("loss") == 2000
    plot.add_point("loss", 5, float("nan"))  # ignored, like non-positive values on a log axis
    plot.add_point("loss", 5, 0.0)
    assert plot.point_count("loss") == 2000
