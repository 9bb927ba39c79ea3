"""Widgets shared by several windows and panels: form parts and task-option fields, the model picker,
the live plot."""
