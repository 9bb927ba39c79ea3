"""Non-visual parts of the app: the worker runner, the restore controller, autosave (scheduler and
files), settings, recent files, and how errors are worded."""
