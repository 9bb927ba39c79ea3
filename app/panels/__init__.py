"""The dock panels on the right of the main window."""
