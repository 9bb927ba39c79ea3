"""Reliability against hostile inputs (issue 15): special files, hostile metadata, damaged data.

Whatever the user points the tool at — a named pipe, a device, a photo with monstrous metadata, a
cut-off download, a model folder with junk in it — it answers within seconds with one clear line,
writes nothing it cannot read back, and leaves nothing behind. Pipes, device links, nested JSON and
damaged files are all made at test time; every test runs under a time limit, so a hang fails it.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rednet.cli.main import main
from rednet.io import Photo, read_photo, write_photo
from tests.support.hang_guard import device_link, memory_cap, mkfifo, within

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and /dev need POSIX")
SECONDS = 30  # "answers within seconds", with room for a loaded test machine


@pytest.fixture(autouse=True)
def _bounded():
    with within(240):
        yield


def cli(argv, capsys) -> tuple[int, str, str, float]:
    """Run the command in process; no traceback, and every Python warning was ours to reword."""
    start = time.monotonic()
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        code = main([str(a) for a in argv])
    seconds = time.monotonic() - start
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    raw = [
        f"{w.category.__name__}: {w.message}"
        for w in escaped
        if f"{os.sep}PIL{os.sep}" in str(w.filename) or f"{os.sep}cv2{os.sep}" in str(w.filename)
    ]
    assert raw == [], raw  # an image library's warning got past us: it would be printed raw
    return code, out, err, seconds


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if ": error: " in line]


def photo_file(path: Path, h: int = 24, w: int = 32) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def restore_args(src, out, model, *extra) -> list:
    return ["restore", src, "-o", out, "--task", "denoise", "--sigma", "10", "--model", model, *extra]


# ------------------------------------------------------------------------------------------------
# special files as inputs
# ------------------------------------------------------------------------------------------------
@posix_only
@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "/dev/urandom"])
def test_a_pipe_or_device_as_the_photo(tiny_models, tmp_path, capsys, kind):
    if kind == "fifo":
        src = tmp_path / "in.png"
        mkfifo(src)
        what = "a named pipe"
    else:
        src = device_link(tmp_path, kind, "in.png")
        what = "a device"
    with memory_cap():  # were it read, it would end in MemoryError here, not in the OOM killer
        code, _, err, seconds = cli(restore_args(src, tmp_path / "out.png", tiny_models["denoise"]), capsys)
    assert code == 1 and seconds < SECONDS
    assert errors(err) == [f"rednet restore: error: in.png: is {what}, not a photo"]
    assert not (tmp_path / "out.png").exists()


@posix_only
def test_a_pipe_in_a_batch_folder_is_reported_not_read(tiny_models, tmp_path, capsys):
    photo_file(tmp_path / "in" / "a.png")
    mkfifo(tmp_path / "in" / "b.png")
    device_link(tmp_path / "in", "/dev/zero", "c.png")
    with memory_cap():
        code, out, err, seconds = cli(
            [
                "batch",
                tmp_path / "in",
                "-o",
                tmp_path / "out",
                "--task",
                "denoise",
                "--sigma",
                "10",
                "--model",
                tiny_models["denoise"],
            ],
            capsys,
        )
    assert code == 1 and seconds < SECONDS
    assert errors(err) == [
        "rednet batch: error: b.png: is a named pipe, not a photo",
        "rednet batch: error: c.png: is a device, not a photo",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]
    assert "restored 1, skipped 0, failed 2 of 3 files" in out


@posix_only
@pytest.mark.parametrize("command", ["restore", "batch"])
def test_a_pipe_as_the_mask_is_named_for_what_it_is(tiny_models, tmp_path, capsys, command):
    src = photo_file(tmp_path / "in" / "a.png")
    mask = tmp_path / "mask.png"
    mkfifo(mask)
    target = src if command == "restore" else tmp_path / "in"
    code, _, err, seconds = cli(
        [
            command,
            target,
            "-o",
            tmp_path / "out",
            "--task",
            "inpaint",
            "--mask",
            mask,
            "--model",
            tiny_models["inpaint"],
        ],
        capsys,
    )
    assert code == 2 and seconds < SECONDS
    assert errors(err) == [f"rednet {command}: error: {mask}: is a named pipe, not a mask"]


@posix_only
def test_a_pipe_as_the_model_file_or_its_card(tiny_models, tmp_path, capsys):
    src = photo_file(tmp_path / "a.png")
    fifo_model = tmp_path / "pipe.safetensors"
    mkfifo(fifo_model)
    code, _, err, seconds = cli(restore_args(src, tmp_path / "o1.png", fifo_model), capsys)
    assert code == 2 and seconds < SECONDS
    assert errors(err) == [f"rednet restore: error: {fifo_model}: is a named pipe, not a model file"]
    # a model whose card is a pipe: the card is optional, the model works
    model = tmp_path / "m.safetensors"
    shutil.copy(tiny_models["denoise"], model)
    mkfifo(tmp_path / "m.card.json")
    code, _, err, seconds = cli(restore_args(src, tmp_path / "o2.png", model), capsys)
    assert code == 0 and seconds < SECONDS, err
    assert (tmp_path / "o2.png").is_file()


@posix_only
def test_junk_in_the_user_models_folder(tiny_models, tmp_path, capsys):
    from rednet.paths import user_models_dir

    folder = user_models_dir()
    folder.mkdir(parents=True)
    shutil.copy(tiny_models["denoise"], folder / "mine.safetensors")
    mkfifo(folder / "mine.card.json")
    mkfifo(folder / "pipe.safetensors")
    device_link(folder, "/dev/zero", "zero.safetensors")
    (folder / "dir.safetensors").mkdir()
    with memory_cap():
        code, out, err, seconds = cli(["models", "--task", "denoise"], capsys)
    assert code == 0 and err == "" and seconds < SECONDS
    assert [line.split()[0] for line in out.splitlines()[1:] if line.split()[2] == "user"] == ["mine"]
    src = photo_file(tmp_path / "a.png")
    code, _, err, _ = cli(restore_args(src, tmp_path / "o.png", "nope"), capsys)
    assert code == 2 and "no model named 'nope' (known: " in err and "mine" in err
    for name, what in (("pipe", "a named pipe"), ("zero", "a device")):
        with memory_cap():
            code, _, err, _ = cli(restore_args(src, tmp_path / "o.png", name), capsys)
        assert code == 2 and errors(err) == [f"rednet restore: error: {name}: is {what}, not a model file"]
    code, _, err, _ = cli(restore_args(src, tmp_path / "o.png", "mine"), capsys)
    assert code == 0, err


# ------------------------------------------------------------------------------------------------
# crop packs
# ------------------------------------------------------------------------------------------------
def _npy(path: Path, array: np.ndarray, cut: int = 0) -> Path:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    data = buf.getvalue()
    path.write_bytes(data[: len(data) - cut] if cut else data)
    return path


@pytest.mark.parametrize(
    "case,message",
    [
        ("pickled", "holds pickled Python objects, not uint8 crops (not loaded: it could run code)"),
        (
            "short",
            "the header claims 4 crops of 64x64 (49.2 KB) but the file holds only 36.9 KB (3 whole crops): truncated?",
        ),
        ("float", "expected uint8 crops shaped N x H x W x 3, got float32 (2, 8, 8, 3)"),
        ("junk", "not a crop pack (.npy header unreadable"),
        ("fifo", "is a named pipe, not a crop pack"),
    ],
)
def test_bad_crop_packs_are_one_line(tmp_path, case, message):
    from rednet.train.data import DataError, load_image_source

    path = tmp_path / "pack.npy"
    if case == "pickled":
        _npy(path, np.array([{"a": 1}, None], dtype=object))
    elif case == "short":
        _npy(path, np.zeros((4, 64, 64, 3), np.uint8), cut=64 * 64 * 3)
    elif case == "float":
        _npy(path, np.zeros((2, 8, 8, 3), np.float32))
    elif case == "junk":
        path.write_bytes(b"\x93NUMPY\x01\x00" + b"\x10\x00" + b"not a dict at all")
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("named pipes need POSIX")
        mkfifo(path)
    with pytest.raises(DataError) as info:
        load_image_source(path, min_side=8)
    assert str(info.value).startswith(f"{path}: {message}")
    assert "\n" not in str(info.value)


def test_a_good_crop_pack_still_loads(tmp_path):
    from rednet.train.data import load_image_source

    crops = np.random.default_rng(0).integers(0, 255, (3, 10, 12, 3), dtype=np.uint8)
    loaded = load_image_source(_npy(tmp_path / "pack.npy", crops), min_side=8)
    assert len(loaded) == 3 and all(np.array_equal(a, b) for a, b in zip(loaded, crops))


@posix_only
def test_finetune_on_a_pipe_or_a_pickle_is_a_usage_error(tiny_models, tmp_path, capsys):
    pipe = tmp_path / "crops.npy"
    mkfifo(pipe)
    pickled = _npy(tmp_path / "objects.npy", np.array([object()] * 2, dtype=object))
    for data, message in ((pipe, "is a named pipe, not a crop pack"), (pickled, "holds pickled Python objects")):
        code, _, err, seconds = cli(
            [
                "finetune",
                "--task",
                "denoise",
                "--data",
                data,
                "-o",
                tmp_path / "ft",
                "--base",
                tiny_models["denoise"],
                "--iters",
                "1",
                "--device",
                "cpu",
            ],
            capsys,
        )
        assert code == 2 and seconds < SECONDS
        assert len(errors(err)) == 1 and message in err


# ------------------------------------------------------------------------------------------------
# damaged and oversized image data
# ------------------------------------------------------------------------------------------------
def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def short_png(
    path: Path, rows: int = 3, height: int = 600, width: int = 40, depth: int = 8, interlace: int = 0
) -> Path:
    """A PNG whose (well-formed) zlib stream holds only `rows` of its `height` rows."""
    sample = depth // 8
    raw = b"".join(b"\x00" + bytes([90]) * (width * 3 * sample) for _ in range(rows))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, 2, 0, 0, interlace))
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("depth", [8, 16])
def test_a_png_cut_after_3_of_600_rows_is_refused(tiny_models, tmp_path, capfd, depth):
    src = short_png(tmp_path / "cut.png", depth=depth)
    code = main([str(a) for a in restore_args(src, tmp_path / "out.png", tiny_models["denoise"])])
    out, err = capfd.readouterr()  # file descriptor 2 too: libpng prints its complaints itself
    assert code == 1
    assert err.strip() == (
        "rednet restore: error: cut.png: image data is truncated or corrupt (only 3 of 600 rows are present)"
    )
    assert not (tmp_path / "out.png").exists()


def test_an_interlaced_png_cut_short_is_refused(tmp_path):
    from rednet.io import ImageReadError

    with pytest.raises(ImageReadError, match="truncated or corrupt .the interlaced image data ends early"):
        read_photo(short_png(tmp_path / "cut.png", rows=2, height=64, width=16, interlace=1))


def test_complete_pngs_of_every_layout_still_read(tmp_path):
    rng = np.random.default_rng(3)
    for mode, shape in (("L", (9, 7)), ("LA", (9, 7, 2)), ("RGB", (9, 7, 3)), ("RGBA", (9, 7, 4))):
        arr = rng.integers(0, 255, shape, dtype=np.uint8)
        for interlace in (False, True):
            path = tmp_path / f"{mode}-{interlace}.png"
            Image.fromarray(arr, mode).save(path, interlace=interlace)  # interlace is honoured by Pillow
            assert read_photo(path).width == 7
    Image.fromarray(rng.integers(0, 255, (9, 7), dtype=np.uint8)).convert("1").save(tmp_path / "bits.png")
    Image.fromarray(rng.integers(0, 255, (9, 7, 3), dtype=np.uint8)).convert("P").save(tmp_path / "pal.png")
    assert read_photo(tmp_path / "bits.png").is_gray and read_photo(tmp_path / "pal.png").width == 7


def test_a_300_megapixel_bmp_is_refused_with_our_line_only(tiny_models, tmp_path, capsys):
    bmp = tmp_path / "bomb.bmp"
    bmp.write_bytes(
        b"BM"
        + struct.pack("<IHHI", 0, 0, 0, 54)
        + struct.pack("<IiiHHIIiiII", 40, 20000, 15000, 1, 24, 0, 0, 0, 0, 0, 0)
        + b"\0" * 256
    )
    code, _, err, _ = cli(restore_args(bmp, tmp_path / "out.png", tiny_models["denoise"]), capsys)
    assert code == 1
    assert err.strip() == (
        "rednet restore: error: bomb.bmp: image is 20000x15000 (300 megapixels), larger than the 250 megapixel limit"
    )


def test_a_corrupt_exif_block_is_one_warning_in_our_words(tiny_models, tmp_path, capsys):
    tiff = (
        b"II*\x00"
        + struct.pack("<I", 8)
        + struct.pack("<H", 2)
        + struct.pack("<HHII", 0x010E, 2, 1000, 5000)  # a description "stored" beyond the block
        + struct.pack("<HHII", 0x0128, 3, 1, 2)
        + struct.pack("<I", 0)
    )
    src = tmp_path / "bad-exif.jpg"
    Image.fromarray(np.full((16, 16, 3), 120, np.uint8)).save(src, "JPEG", exif=b"Exif\x00\x00" + tiff)
    code, _, err, _ = cli(restore_args(src, tmp_path / "out.png", tiny_models["denoise"]), capsys)
    assert code == 0, err
    assert "bad-exif.jpg: the EXIF data is partly damaged (entries that could not be read were skipped)" in err
    assert "UserWarning" not in err and "warnings.warn" not in err


# ------------------------------------------------------------------------------------------------
# the round-trip promise: what we write, we read back
# ------------------------------------------------------------------------------------------------
def big_exif(size: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x010E] = "x" * size  # ImageDescription
    return exif.tobytes()


def big_icc(size: int) -> bytes:
    header = bytearray(128)
    header[0:4] = struct.pack(">I", size)
    header[12:16], header[16:20], header[36:40] = b"mntr", b"RGB ", b"acsp"
    return bytes(header) + np.random.default_rng(5).bytes(size - 128)


def test_a_jpeg_with_64k_exif_and_a_1_5mb_profile_restored_to_png_reads_back(tiny_models, tmp_path, capsys):
    src = tmp_path / "big-meta.jpg"
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(
        src, "JPEG", quality=92, exif=big_exif(64_000), icc_profile=big_icc(1_500_000)
    )
    out = tmp_path / "out.png"
    code, _, err, _ = cli(restore_args(src, out, tiny_models["denoise"]), capsys)
    assert code == 0, err
    assert (
        "big-meta.jpg: the colour profile is too large for a PNG file (1.5 MB; at most 1.0 MB) and was left out" in err
    )
    again = tmp_path / "again.png"
    code, _, err, _ = cli(restore_args(out, again, tiny_models["denoise"]), capsys)  # our own output
    assert code == 0, err
    back = read_photo(out)
    assert back.exif is not None and b"TestCam" in back.exif and back.icc is None


OVERSIZED = [(64_000, 1_500_000), (2_000_000, 20_000_000)]
LOSSLESS = (".png", ".tif", ".bmp")
NO_METADATA = (".bmp",)


@pytest.mark.parametrize("exif_size,icc_size", OVERSIZED, ids=["64k-exif-1.5m-icc", "2m-exif-20m-icc"])
# 16 bits are kept by PNG and TIFF only: the other formats are written at 8.
@pytest.mark.parametrize(
    "ext,bits", [(e, 8) for e in (".png", ".jpg", ".tif", ".webp", ".bmp")] + [(".png", 16), (".tif", 16)]
)
def test_every_format_reads_back_what_was_written(tmp_path, exif_size, icc_size, ext, bits):
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 255 if bits == 8 else 65535, (12, 10, 3)).astype(np.float32)
    pixels /= 255.0 if bits == 8 else 65535.0
    photo = Photo(pixels, bit_depth=bits, exif=big_exif(exif_size), icc=big_icc(icc_size))
    path = tmp_path / f"out{ext}"
    notes = write_photo(photo, path)
    back = read_photo(path)  # the promise: whatever was written reads back
    assert (back.width, back.height, back.is_gray, back.bit_depth) == (10, 12, False, bits)
    if ext in LOSSLESS:
        assert np.array_equal(
            np.round(back.pixels * (255 if bits == 8 else 65535)), np.round(pixels * (255 if bits == 8 else 65535))
        )
    if ext in NO_METADATA:
        return
    for field, what in (("exif", "EXIF data"), ("icc", "colour profile")):
        kept = getattr(back, field)
        if kept is None:  # left out: then the writer said so
            assert any(what in n and "left out" in n for n in notes), (field, notes)
        elif field == "icc":
            assert kept == photo.icc
        else:
            assert b"TestCam" in kept and len(kept) >= exif_size


def test_a_foreign_png_with_a_big_profile_is_read_with_it(tmp_path):
    """Other programs write profiles over Pillow's 1 MB limit: read the pixels and the profile."""
    from rednet.io.png import insert_metadata as _png_insert_metadata

    buf = io.BytesIO()
    Image.fromarray(np.full((6, 8, 3), 50, np.uint8)).save(buf, "PNG")
    icc = big_icc(1_500_000)
    path = tmp_path / "foreign.png"
    path.write_bytes(_png_insert_metadata(buf.getvalue(), icc, None))
    photo = read_photo(path)
    assert photo.icc == icc and photo.width == 8


# ------------------------------------------------------------------------------------------------
# options
# ------------------------------------------------------------------------------------------------
def test_output_naming_an_existing_file_without_extension(tiny_models, tmp_path, capsys):
    src = photo_file(tmp_path / "a.png")
    existing = tmp_path / "notes"
    existing.write_text("keep me")
    code, _, err, _ = cli(restore_args(src, existing, tiny_models["denoise"]), capsys)
    assert code == 2 and existing.read_text() == "keep me"
    assert errors(err) == [
        f"rednet restore: error: {existing}: is a file, not a folder; to write one photo, "
        "give OUTPUT an extension (.png .jpg .jpeg .tif .tiff .webp .bmp)"
    ]


def test_an_out_of_range_scale_is_printed_with_enough_digits(tiny_models, tmp_path, capsys):
    src = photo_file(tmp_path / "a.png")
    code, _, err, _ = cli(
        [
            "restore",
            src,
            "-o",
            tmp_path / "o.png",
            "--task",
            "sr",
            "--scale",
            "4.0000001",
            "--model",
            tiny_models["sr"],
        ],
        capsys,
    )
    assert code == 2 and "got 4.0000001" in err
