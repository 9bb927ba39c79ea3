import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageCms

from rednet.cli.main import main


@pytest.fixture
def photo(tmp_path):
    """A 101x67 RGB JPEG with EXIF (camera make) and an sRGB ICC profile."""
    rng = np.random.default_rng(0)
    px = (rng.random((67, 101, 3)) * 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "in.jpg"
    Image.fromarray(px).save(path, quality=40, exif=exif.tobytes(), icc_profile=icc)
    return path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_restore_keeps_exif_and_icc(tiny_models, photo, tmp_path, capsys, suffix):
    out = tmp_path / f"out{suffix}"
    code, _, err = run(["restore", photo, "-o", out, "--task", "jpeg", "--model", tiny_models["jpeg"]], capsys)
    assert code == 0, err
    with Image.open(out) as im:
        assert im.size == (101, 67)
        assert im.getexif()[0x010F] == "TestCam"
        assert im.info.get("icc_profile") == Image.open(photo).info["icc_profile"]
    assert "JPEG quality 40 read from the file" in err


def test_several_inputs_go_into_a_folder_keeping_their_stems(tiny_models, photo, tmp_path, capsys):
    second = tmp_path / "second.png"
    Image.open(photo).save(second)
    code, out, err = run(
        [
            "restore",
            photo,
            second,
            "-o",
            tmp_path / "outdir",
            "--task",
            "sr",
            "--scale",
            "2",
            "--model",
            tiny_models["sr"],
        ],
        capsys,
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "outdir").iterdir()) == ["in.jpg", "second.png"]
    assert Image.open(tmp_path / "outdir" / "second.png").size == (202, 134)


def test_bad_inputs_fail_with_one_line_each_and_no_output(tiny_models, photo, tmp_path, capsys):
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(photo.read_bytes()[:300])
    text = tmp_path / "notes.png"
    text.write_text("hello")
    missing = tmp_path / "missing.png"
    outdir = tmp_path / "out"
    code, _, err = run(
        [
            "restore",
            photo,
            truncated,
            text,
            missing,
            "-o",
            outdir,
            "--task",
            "denoise",
            "--model",
            tiny_models["denoise"],
        ],
        capsys,
    )
    assert code == 1
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 3 and all(line.startswith("rednet restore: error: ") for line in lines)
    assert "cut.jpg" in lines[0] and "notes.png" in lines[1] and "missing.png" in lines[2]
    assert sorted(p.name for p in outdir.iterdir()) == ["in.jpg"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--task", "denoise", "--sigma", "-5"], "--sigma: must be between 0 and 75"),
        (["--task", "sr", "--scale", "0"], "--scale: must be between"),
        (["--task", "sr", "--scale", "1000"], "--scale: must be between"),
        (["--task", "inpaint"], "inpaint needs a mask"),
    ],
)
def test_out_of_range_values_are_usage_errors(photo, tmp_path, capsys, args, message):
    code, _, err = run(["restore", photo, "-o", tmp_path / "o.png", *args], capsys)
    assert code == 2 and message in err and not (tmp_path / "o.png").exists()


def test_a_mask_of_another_size_is_a_usage_error(tiny_models, photo, tmp_path, capsys):
    Image.new("L", (10, 10), 255).save(tmp_path / "mask.png")
    code, _, err = run(
        [
            "restore",
            photo,
            "-o",
            tmp_path / "o.png",
            "--task",
            "inpaint",
            "--mask",
            tmp_path / "mask.png",
            "--model",
            tiny_models["inpaint"],
        ],
        capsys,
    )
    assert code == 2 and "mask is 10x10 but the photo is 101x67" in err
    assert not (tmp_path / "o.png").exists()


def test_inpaint_with_a_mask_changes_only_the_masked_pixels(tiny_models, tmp_path, capsys):
    px = (np.random.default_rng(1).random((40, 50, 3)) * 255).astype(np.uint8)
    Image.fromarray(px).save(tmp_path / "p.png")
    mask = np.zeros((40, 50), np.uint8)
    mask[10:20, 10:30] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    code, _, err = run(
        [
            "restore",
            tmp_path / "p.png",
            "-o",
            tmp_path / "o.png",
            "--task",
            "inpaint",
            "--mask",
            tmp_path / "m.png",
            "--model",
            tiny_models["inpaint"],
        ],
        capsys,
    )
    assert code == 0, err
    out = np.asarray(Image.open(tmp_path / "o.png"))
    assert np.array_equal(out[mask == 0], px[mask == 0])


def test_output_equal_to_input_is_refused(tiny_models, tmp_path, capsys):
    Image.new("RGB", (20, 20)).save(tmp_path / "p.png")
    before = (tmp_path / "p.png").read_bytes()
    code, _, err = run(
        ["restore", tmp_path / "p.png", "-o", tmp_path / "p.png", "--task", "sr", "--model", tiny_models["sr"]], capsys
    )
    assert code == 1 and "overwrite the input" in err and (tmp_path / "p.png").read_bytes() == before


def test_unknown_model_is_a_usage_error(photo, tmp_path, capsys):
    code, _, err = run(["restore", photo, "-o", tmp_path / "o.png", "--task", "sr", "--model", "nope"], capsys)
    assert code == 2 and "no model named 'nope'" in err


def test_models_lists_user_models(tiny_models, capsys):
    import shutil

    from rednet.paths import user_models_dir

    user_models_dir().mkdir(parents=True)
    shutil.copy(tiny_models["sr"], user_models_dir() / "mine.safetensors")
    code, out, _ = run(["models", "--task", "sr"], capsys)
    assert code == 0 and "mine" in out and "user" in out


@pytest.mark.parametrize("command", ["restore", "models", "train"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0 and "usage: rednet" in capsys.readouterr().out


def test_the_console_module_runs(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rednet", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("rednet ")


@pytest.mark.parametrize("command", ["restore", "batch"])
@pytest.mark.parametrize("flag", [True, False])
def test_ensemble_flag_reaches_restore(tiny_models, photo, tmp_path, capsys, monkeypatch, command, flag):
    from rednet.engine import restore as core_restore

    seen = []
    real = core_restore.restore

    def spy(*args, **kwargs):
        seen.append(kwargs["ensemble"])
        return real(*args, **kwargs)

    monkeypatch.setattr(core_restore, "restore", spy)  # what restore_file, the pipeline of both commands, calls
    source = photo if command == "restore" else photo.parent
    output = tmp_path / ("o.png" if command == "restore" else "out")
    code, _, err = run(
        [
            command,
            source,
            "-o",
            output,
            "--task",
            "sr",
            "--scale",
            "2",
            "--model",
            tiny_models["sr"],
            *(["--ensemble"] if flag else []),
        ],
        capsys,
    )
    assert code == 0, err
    assert seen == [flag]
