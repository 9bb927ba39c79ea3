"""safe_json: JSON from files and headers with a size and a nesting limit, and where it is used
(model descriptors, model cards, the app's autosave record). Hostile JSON is made at test time."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rednet.cli.main import main
from rednet.io import safe_json
from rednet.io.safe_files import FileRefused
from rednet.io.safe_json import JSONLimitError, load_file, loads, nesting_depth
from tests.support.hang_guard import mkfifo, within

DEEP = 100_000


@pytest.fixture(autouse=True)
def _bounded():
    with within(120):
        yield


def deep_array(levels: int = DEEP) -> str:
    return "[" * levels + "]" * levels


def deep_object(levels: int = DEEP) -> str:
    return '{"a":' * levels + "1" + "}" * levels


# ------------------------------------------------------------------------------------------------
# the parser
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [deep_array(), deep_object()])
def test_deep_nesting_is_one_clear_error_not_a_recursion_error(text):
    start = time.monotonic()
    with pytest.raises(JSONLimitError, match=r"^nested 100000 levels deep \(at most 32\)$"):
        loads(text)
    assert time.monotonic() - start < 5


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"note": "[" * 1000 + '\\"{' * 50, "list": [[1], {"x": [2]}]})
    assert nesting_depth(text.encode()) == 4  # { "list": [ { "x": [
    assert loads(text)["list"] == [[1], {"x": [2]}]


def test_the_limits_are_the_callers_to_choose():
    assert loads(deep_array(10), max_depth=10) == [[[[[[[[[[]]]]]]]]]][0:1]
    with pytest.raises(JSONLimitError, match="nested 11 levels deep"):
        loads(deep_array(11), max_depth=10)
    with pytest.raises(JSONLimitError, match=r"^too large \(2\.0 KB; at most 1\.0 KB\)$"):
        loads(" " * 2000 + "{}", max_bytes=1000)


@pytest.mark.parametrize(
    "text,message",
    [
        ("{depth: 4,", "not valid JSON"),
        ("1" * 100_000, "not usable JSON"),  # longer than Python's int-from-string limit
        (b"\xff{}", "not UTF-8 text"),
    ],
)
def test_other_bad_json_is_one_line(text, message):
    with pytest.raises(JSONLimitError) as info:
        loads(text)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_files_go_through_the_file_guard(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(deep_array())
    with pytest.raises(JSONLimitError, match=r"^x\.json: nested 100000 levels deep"):
        load_file(path)
    path.write_text('{"ok": true}')
    assert load_file(path) == {"ok": True}
    if hasattr(os, "mkfifo"):
        mkfifo(tmp_path / "pipe.json")
        with pytest.raises(FileRefused, match="is a named pipe"):
            load_file(tmp_path / "pipe.json")


# ------------------------------------------------------------------------------------------------
# descriptors and cards
# ------------------------------------------------------------------------------------------------
def _model_with_descriptor(tiny_models, folder: Path, name: str, descriptor: str) -> Path:
    from safetensors import safe_open

    from tests.support.bad_inputs import safetensors_bytes

    with safe_open(str(tiny_models["denoise"]), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    path.write_bytes(safetensors_bytes(tensors, {"rednet.descriptor": descriptor}))
    return path


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (16, 20, 3), dtype=np.uint8)).save(path)
    return path


def cli(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "RecursionError" not in err
    return code, out, err


@pytest.mark.parametrize(
    "levels,why", [(DEEP, "too large (200 KB; at most 65.5 KB)"), (20_000, "nested 20000 levels deep (at most 8)")]
)
def test_a_deeply_nested_descriptor_is_refused_by_restore(tiny_models, tmp_path, capsys, levels, why):
    model = _model_with_descriptor(tiny_models, tmp_path / "m", "deep", deep_array(levels))
    code, _, err = cli(
        [
            "restore",
            _photo(tmp_path),
            "-o",
            tmp_path / "out.png",
            "--task",
            "denoise",
            "--sigma",
            "10",
            "--model",
            model,
        ],
        capsys,
    )
    assert code == 2
    assert err.strip() == f"rednet restore: error: deep.safetensors: refused: the model descriptor is {why}"
    assert not (tmp_path / "out.png").exists()


def test_models_lists_past_a_deep_descriptor_and_a_deep_card(tiny_models, capsys):
    from rednet.paths import user_models_dir

    folder = user_models_dir()
    _model_with_descriptor(tiny_models, folder, "deep-descriptor", deep_object())
    shutil.copy(tiny_models["denoise"], folder / "deep-card.safetensors")
    (folder / "deep-card.card.json").write_text(deep_object())
    shutil.copy(tiny_models["denoise"], folder / "fine.safetensors")
    code, out, err = cli(["models", "--task", "denoise"], capsys)
    assert code == 0 and err == ""
    names = [line.split()[0] for line in out.splitlines()[1:] if line.split()[2] == "user"]
    assert names == ["deep-card", "fine"]  # the unusable descriptor is not offered; the card is ignored
    assert "RED4, width 8" in out


def test_read_card_treats_hostile_cards_as_no_card(tiny_models, tmp_path):
    from rednet.models.registry import read_card

    weights = tmp_path / "m.safetensors"
    shutil.copy(tiny_models["denoise"], weights)
    card = tmp_path / "m.card.json"
    for text in (deep_array(), "[1, 2]", " " * (2 << 20)):
        card.write_text(text)
        assert read_card(weights) == {}
    card.write_text(json.dumps({"summary": "ok", "nested": {"a": [1, {"b": 2}]}}))
    assert read_card(weights)["summary"] == "ok"
    if hasattr(os, "mkfifo"):
        card.unlink()
        mkfifo(card)
        assert read_card(weights) == {}  # at once: a pipe is never opened for reading


def test_descriptor_json_stays_readable():
    from rednet.models.registry import ModelDescriptor, descriptor_for_task

    d = descriptor_for_task("sr", depth=4, width=8)
    assert ModelDescriptor.from_json(d.to_json()) == d
    with pytest.raises(ValueError, match="too large"):
        ModelDescriptor.from_json('{"task": "sr", "pad": "' + "x" * 70_000 + '"}')


def test_safe_json_is_qt_free_and_small():
    assert safe_json.MAX_DEPTH >= 16 and safe_json.MAX_BYTES >= 1 << 20
