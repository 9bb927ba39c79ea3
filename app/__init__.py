"""RED-Net Studio: the Qt desktop front end.

Everything here is GUI work: widgets, the viewer, the mask brush, settings and the worker thread that
calls the plain functions of `rednet`. Image I/O, restoration, noise estimation and the model list all
live in `rednet/`; this package only calls them, and asks `rednet.tasks` about every task (titles,
options, ranges) instead of naming one.

The window composes, the parts emit: `main.py` builds `main_window.MainWindow`, which makes the parts
(canvas, document, panels, tools, widgets, services, dialogs), gives each what it needs (the document,
the settings, a runner, callables) and wires their signals. No part imports the window.
"""

APP_NAME = "RED-Net Studio"
APP_ID = "rednet-studio"
ORG_NAME = "RED-Net"
