"""Your models (app.tools.model_manager), in the fine-tune window: the user's own models listed, renamed,
exported and deleted (shipped models never), and the task panel kept in step through the window."""

from __future__ import annotations

import shutil

from PySide6.QtCore import Qt

from app.dialogs import prompts
from rednet.models import user_models
from rednet.models.registry import card_path, list_models, load_model
from rednet.paths import shipped_weights_dir, user_models_dir


def open_finetune(window, qtbot):
    window.finetune_action.trigger()
    dlg = window.tool("finetune")
    qtbot.waitExposed(dlg)
    return dlg


def test_rename_export_delete_user_models(window, qtbot, monkeypatch, tmp_path, tiny_user_models, dialogs, app_env):
    shipped = shipped_weights_dir() / "denoise.safetensors"
    shutil.copy(tiny_user_models["denoise"], shipped)  # a "shipped" model: listed in pickers, not here
    window.panel.set_task("denoise")
    window.panel.refresh_models()
    idx = window.panel.model_combo.findData(str(tiny_user_models["denoise"]))
    window.panel.model_combo.setCurrentIndex(idx)

    dlg = open_finetune(window, qtbot)
    mm = dlg.models
    listed = [mm.models_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(mm.models_list.count())]
    assert listed == [str(p) for p in sorted(tiny_user_models.values())]
    assert str(shipped) not in listed and not user_models.is_user_model(shipped)

    # rename: weights and card move; the task panel keeps the (renamed) model chosen
    mm.select(tiny_user_models["denoise"])
    monkeypatch.setattr(prompts, "ask_text", lambda *a, **k: "film-grain")
    qtbot.mouseClick(mm.rename_button, Qt.MouseButton.LeftButton)
    renamed = user_models_dir() / "film-grain.safetensors"
    assert renamed.is_file() and card_path(renamed).is_file()
    assert not tiny_user_models["denoise"].exists() and not card_path(tiny_user_models["denoise"]).exists()
    assert "film-grain" in [m.name for m in list_models("denoise")]
    assert mm.selected_model() == renamed
    assert dlg.status_label.text() == "Renamed “tiny-denoise” to “film-grain”."
    assert window.panel.model() == str(renamed)
    # a clash is refused with a message
    monkeypatch.setattr(prompts, "ask_text", lambda *a, **k: "tiny-sr")
    assert not mm.rename_selected()
    assert "already have a model named “tiny-sr”" in dialogs.named("show_error")[-1][2]

    # export: weights + card copied to the chosen folder
    dest = tmp_path / "export"
    dest.mkdir()
    monkeypatch.setattr(prompts, "ask_folder", lambda *a, **k: str(dest))
    qtbot.mouseClick(mm.export_button, Qt.MouseButton.LeftButton)
    assert sorted(p.name for p in dest.iterdir()) == ["film-grain.card.json", "film-grain.safetensors"]
    assert load_model(dest / "film-grain.safetensors").descriptor.task == "denoise"
    assert renamed.is_file()  # still there

    # delete: asks first; "No" keeps it, "Yes" removes weights and card
    dialogs.answer("ask_yes_no", False)
    qtbot.mouseClick(mm.delete_button, Qt.MouseButton.LeftButton)
    assert renamed.is_file()
    dialogs.answer("ask_yes_no", True)
    qtbot.mouseClick(mm.delete_button, Qt.MouseButton.LeftButton)
    assert len(dialogs.named("ask_yes_no")) == 2
    assert not renamed.exists() and not card_path(renamed).exists()
    assert "film-grain" not in [m.name for m in list_models()]
    assert window.panel.model_combo.findData(str(renamed)) == -1  # the task panel was refreshed
    assert shipped.is_file()
