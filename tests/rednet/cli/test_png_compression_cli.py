"""`--png-compression fast|small` on `rednet restore` and `rednet batch`: the choice reaches the PNG
encoder through restore_file, "fast" by default; a wrong one is a usage error."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from rednet.cli import options
from rednet.cli.main import main
from rednet.io import write as write_module


@pytest.fixture
def photo(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "in.png"
    Image.fromarray((np.random.default_rng(0).random((24, 32, 3)) * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def choices(monkeypatch):
    """The png_compression every write_photo call hands the encoder."""
    seen: list[str] = []
    real = write_module.encode_readable

    def spy(photo, fmt, quality, warnings, name, png_compression="fast"):
        seen.append(png_compression)
        return real(photo, fmt, quality, warnings, name, png_compression)

    monkeypatch.setattr(write_module, "encode_readable", spy)
    return seen


def run(argv, capsys):
    code = main([str(a) for a in argv])
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, err


def _argv(command, photo, tmp_path, *extra):
    source, output = (photo, tmp_path / "out.png") if command == "restore" else (photo.parent, tmp_path / "out")
    return [command, source, "-o", output, "--task", "sr", "--scale", "2", *extra]


@pytest.mark.parametrize("command", ["restore", "batch"])
@pytest.mark.parametrize("flag, expected", [([], "fast"), (["--png-compression", "small"], "small")])
def test_the_choice_reaches_the_encoder(tiny_models, photo, tmp_path, capsys, choices, command, flag, expected):
    code, err = run(_argv(command, photo, tmp_path, "--model", tiny_models["sr"], *flag), capsys)
    assert code == 0, err
    assert choices == [expected]


@pytest.mark.parametrize("command", ["restore", "batch"])
def test_an_unknown_choice_is_a_usage_error(photo, tmp_path, capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in _argv(command, photo, tmp_path, "--png-compression", "tiny")])
    assert exc.value.code == 2
    assert "--png-compression" in capsys.readouterr().err


def test_the_cli_offers_what_write_photo_takes():
    assert options.PNG_COMPRESSIONS == write_module.PNG_COMPRESSIONS


@pytest.mark.parametrize("command", ["restore", "batch"])
def test_the_help_says_what_each_choice_costs(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--png-compression {fast,small}" in text and "smallest file" in text and "slower" in text


def test_batch_job_refuses_an_unknown_choice(photo, tmp_path):
    from rednet.engine.batch import BatchJob, validate_job
    from rednet.errors import UsageError

    job = BatchJob(photo.parent, tmp_path / "out", task="sr", scale=2, png_compression="huge")
    with pytest.raises(UsageError, match="fast, small"):
        validate_job(job)
