"""Non-visual parts of the app: the worker runner, autosave, settings, recent files."""
