"""RED-Net Studio: the Qt desktop front end.

Everything here is GUI work: widgets, the viewer, the mask brush, settings and the worker thread that
calls the plain functions of `rednet`. Image I/O, restoration, noise estimation and the model list all
live in `rednet/`; this package only calls them.
"""

APP_NAME = "RED-Net Studio"
APP_ID = "rednet-studio"
ORG_NAME = "RED-Net"
