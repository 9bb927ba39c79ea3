"""Shared fixtures: isolated user folders, tiny models, small synthetic photos."""

from __future__ import annotations

import os

import pytest

from tests.support.photos import smooth_photo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Never touch the real user's config, models or autosaves."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    return home


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """{task: path} of untrained RED-Nets small enough to run instantly (depth 4, width 8)."""
    import torch

    from rednet.models.registry import build_network, descriptor_for_task, save_model
    from rednet.tasks import TASKS

    folder = tmp_path_factory.mktemp("tiny_models")
    paths = {}
    for i, task in enumerate(TASKS):
        torch.manual_seed(i)
        d = descriptor_for_task(task, depth=4, width=8)
        paths[task] = save_model(
            build_network(d), d, folder / f"tiny-{task}.safetensors", card={"summary": f"tiny test {task} model"}
        )
    return paths


@pytest.fixture
def photo_array():
    return smooth_photo()
