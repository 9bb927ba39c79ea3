"""Files the app and the CLI ship: weights and their cards, sample photos, icons, the .desktop file.

A package (not only a folder) so that an installed wheel carries it and `rednet.paths` finds it with
importlib, wherever rednet is installed."""
