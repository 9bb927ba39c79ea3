import pytest

from rednet.models.registry import (
    ModelError,
    build_network,
    card_path,
    checkpoint_path,
    descriptor_for_task,
    list_models,
    save_model,
)
from rednet.models.user_models import delete_user_model, export_model, is_user_model, name_problem, rename_user_model
from rednet.paths import user_models_dir


@pytest.fixture
def user_model():
    d = descriptor_for_task("sr", depth=4, width=8)
    path = save_model(build_network(d), d, user_models_dir() / "mine.safetensors", card={"summary": "mine"})
    checkpoint_path(path).write_bytes(b"ckpt")
    return path


def test_rename_moves_weights_card_and_checkpoint(user_model):
    new = rename_user_model("mine", "scans 2026")
    assert new.name == "scans 2026.safetensors" and card_path(new).is_file() and checkpoint_path(new).is_file()
    assert not user_model.exists() and [m.name for m in list_models("sr") if m.source == "user"] == ["scans 2026"]


def test_rename_refuses_bad_names_and_existing_models(user_model):
    for bad in ("", "a/b", "x.safetensors", "denoise"):
        assert name_problem(bad)
        with pytest.raises(ModelError):
            rename_user_model(user_model, bad)
    d = descriptor_for_task("sr", depth=4, width=8)
    save_model(build_network(d), d, user_models_dir() / "other.safetensors")
    with pytest.raises(ModelError, match="already have a model named 'other'"):
        rename_user_model(user_model, "other")
    assert user_model.is_file()


def test_delete_removes_every_file_and_only_user_models(user_model, tmp_path):
    assert set(delete_user_model(user_model)) == {user_model, card_path(user_model), checkpoint_path(user_model)}
    assert not any(user_models_dir().iterdir())
    d = descriptor_for_task("sr", depth=4, width=8)
    elsewhere = save_model(build_network(d), d, tmp_path / "shipped.safetensors")
    assert not is_user_model(elsewhere)
    with pytest.raises(ModelError, match="only your own models"):
        delete_user_model(elsewhere)
    assert elsewhere.is_file()


def test_export_copies_weights_and_card_and_asks_before_replacing(user_model, tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    assert sorted(p.name for p in export_model(user_model, out)) == ["mine.card.json", "mine.safetensors"]
    with pytest.raises(ModelError, match="already in"):
        export_model("mine", out)
    export_model("mine", out, overwrite=True)
    with pytest.raises(ModelError, match="not a folder"):
        export_model("mine", tmp_path / "missing")


def test_the_cli_manages_user_models(user_model, tmp_path, capsys):
    from rednet.cli.main import main

    assert main(["models", "--rename", "mine", "renamed"]) == 0
    assert main(["models", "--export", "renamed", str(tmp_path)]) == 0
    assert (tmp_path / "renamed.safetensors").is_file() and (tmp_path / "renamed.card.json").is_file()
    assert main(["models", "--delete", "renamed"]) == 0
    assert main(["models", "--delete", "renamed"]) == 2
    assert "no user model named 'renamed'" in capsys.readouterr().err
