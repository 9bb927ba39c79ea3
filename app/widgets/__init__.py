"""Widgets shared by several windows and panels."""
