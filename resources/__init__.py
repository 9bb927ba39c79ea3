"""The shipped resources (weights, sample photos, icons) as the package `rednet_resources`.

`pyproject.toml` maps this folder to the package `rednet_resources`, so an installed wheel carries
it as package data and `rednet.paths.resources_dir()` finds it with `importlib.resources`. In a
checkout and in a PyInstaller bundle the folder is used directly; nothing imports code from here.
"""
