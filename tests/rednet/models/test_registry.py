import json
import pickle

import pytest
import torch

from rednet.models.registry import (
    ModelError,
    build_network,
    card_path,
    descriptor_for_task,
    list_models,
    load_model,
    save_model,
)


def _tiny(task="denoise"):
    d = descriptor_for_task(task, depth=4, width=8)
    return build_network(d), d


def test_save_then_load_round_trips_weights_descriptor_and_card(tmp_path):
    net, d = _tiny("jpeg")
    path = save_model(net, d, tmp_path / "m.safetensors", card={"summary": "hello"})
    loaded = load_model(path)
    assert loaded.descriptor == d and loaded.card["summary"] == "hello" and loaded.name == "m"
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.net.state_dict()[k], v)
    assert json.loads(card_path(path).read_text())["descriptor"]["task"] == "jpeg"


def test_descriptor_reports_receptive_field_and_condition():
    d = descriptor_for_task("denoise", depth=30)
    assert d.receptive_field == 61 and d.cond == "sigma" and d.sigma_range == (0.0, 75.0)
    assert descriptor_for_task("sr").cond is None and descriptor_for_task("sr").scale_range == (1.25, 4.0)
    assert descriptor_for_task("inpaint").cond_channels == 1


def test_wrong_task_is_refused(tmp_path):
    net, d = _tiny("sr")
    path = save_model(net, d, tmp_path / "sr.safetensors")
    with pytest.raises(ModelError, match="is a sr model, not a denoise model"):
        load_model(path, task="denoise")


def test_plain_state_dict_checkpoint_loads_with_weights_only(tmp_path):
    net, _ = _tiny("sr")
    torch.save({"state_dict": net.state_dict()}, tmp_path / "user.pth")
    loaded = load_model(tmp_path / "user.pth", task="sr")
    assert loaded.descriptor.depth == 4 and loaded.descriptor.width == 8


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".ckpt", ".safetensors"])
def test_pickle_payload_never_runs(tmp_path, suffix):
    marker = tmp_path / "pwned"
    path = tmp_path / f"evil{suffix}"
    path.write_bytes(pickle.dumps({"w": _Payload(str(marker))}))
    with pytest.raises(ModelError):
        load_model(path, task="denoise")
    assert not marker.exists()


def test_torch_save_of_a_code_payload_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"w": _Payload(str(marker))}, tmp_path / "evil.pt")
    with pytest.raises(ModelError, match="refused"):
        load_model(tmp_path / "evil.pt", task="denoise")
    assert not marker.exists()


def test_junk_and_truncated_files_give_clear_errors(tmp_path):
    (tmp_path / "junk.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ModelError, match="not a valid safetensors file"):
        load_model(tmp_path / "junk.safetensors")
    net, d = _tiny()
    good = save_model(net, d, tmp_path / "good.safetensors")
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelError):
        load_model(cut)
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "missing.safetensors")
    with pytest.raises(ModelError, match="unsupported model file type"):
        (tmp_path / "m.onnx").write_bytes(b"x")
        load_model(tmp_path / "m.onnx")


def test_mismatched_layout_is_a_clear_error(tmp_path):
    net, _ = _tiny()
    state = net.state_dict()
    state["convs.0.weight"] = torch.zeros(8, 2, 3, 3)
    torch.save(state, tmp_path / "odd.pt")
    with pytest.raises(ModelError, match="do not match"):
        load_model(tmp_path / "odd.pt", task="denoise")


def test_user_models_are_listed_and_loadable_by_name():
    from rednet.paths import user_models_dir

    net, d = _tiny("inpaint")
    save_model(net, d, user_models_dir() / "my-scans.safetensors", card={"summary": "my scans"})
    users = [m for m in list_models("inpaint") if m.source == "user"]
    assert [m.name for m in users] == ["my-scans"] and users[0].summary == "my scans"
    assert load_model("my-scans").descriptor.task == "inpaint"
    with pytest.raises(ModelError, match="no model named"):
        load_model("nope")


def test_the_default_model_is_the_shipped_one_named_after_its_task(tmp_path, monkeypatch):
    monkeypatch.setenv("REDNET_RESOURCES", str(tmp_path))
    net, d = _tiny("sr")
    save_model(net, d, tmp_path / "weights" / "sr.safetensors")
    save_model(net, d, tmp_path / "weights" / "sr-other.safetensors")
    infos = {m.name: m for m in list_models("sr")}
    assert infos["sr"].is_default and not infos["sr-other"].is_default
