"""A corpus of bad and odd inputs, generated into a folder at test time (no committed binaries).

    cases = write_image_corpus(tmp_path / "corpus")     # photos: broken ones and valid-but-odd ones
    evil = write_model_corpus(tmp_path / "models", tiny_models["denoise"], marker)   # weights files

Every image is tiny. Each `ImageCase` says what a correct program does with it: `ok` cases must
restore (and `expect` lists what the output must keep: size, gray/colour, alpha, bit depth, where
the marker lands); broken cases must fail with one line containing `error`.

Marker convention: valid images that are large enough carry a bright 4x4 block on a dark
background with its top-left corner at `MARKER` (row, column) of the *upright* picture; a restore
that flipped, rotated or transposed the picture moves it.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

MARKER = (2, 3)  # (row, column) of the marker's top-left corner in the upright picture
MARKER_SIZE = 4
UNICODE_DIR = "dossier à espaces ü 写真"
UNICODE_NAME = "фото café ☕ 1.png"


@dataclass
class ImageCase:
    name: str  # test id
    path: Path
    ok: bool
    error: str = ""  # broken: substring of the one-line message
    width: int = 0  # ok: upright size of the decoded photo
    height: int = 0
    gray: bool = False
    alpha: np.ndarray | None = None  # ok: the expected alpha plane (uint8 HxW), or None for no alpha
    bit_depth: int = 8
    out_ext: str = ".png"  # the output format that can keep everything the input has
    warning: str = ""  # ok: a substring expected among the read warnings
    marker: bool = False  # ok: the picture carries the marker block


# ------------------------------------------------------------------------------------------------
# pixels
# ------------------------------------------------------------------------------------------------
def marked(h: int, w: int, channels: int = 3, top: int = 255, seed: int = 0) -> np.ndarray:
    """A dark, slightly textured picture with a bright block at MARKER (uint8 or uint16)."""
    rng = np.random.default_rng(seed)
    dtype = np.uint8 if top == 255 else np.uint16
    base = rng.integers(int(top * 0.05), int(top * 0.15), (h, w, channels)).astype(dtype)
    r, c = MARKER
    base[r : r + MARKER_SIZE, c : c + MARKER_SIZE] = top
    return base[..., 0] if channels == 1 else base


def marker_is_upright(pixels: np.ndarray, scale: float = 1.0) -> bool:
    """True when the brightest MARKER_SIZE box of `pixels` (HxWxC floats) sits where the marker
    belongs (in a photo `scale` times the size of the original)."""
    luma = pixels.mean(axis=2).astype(np.float32)
    k = max(1, int(round(MARKER_SIZE * scale)))
    box = cv2.blur(luma, (k, k), borderType=cv2.BORDER_CONSTANT)  # centred box mean
    row, col = np.unravel_index(int(np.argmax(box)), box.shape)
    want_r = (MARKER[0] + MARKER_SIZE / 2) * scale
    want_c = (MARKER[1] + MARKER_SIZE / 2) * scale
    return abs(row - want_r) <= 2 * scale + 1 and abs(col - want_c) <= 2 * scale + 1


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def huge_png_header(w: int = 60000, h: int = 60000) -> bytes:
    """A valid-looking PNG whose header claims w x h pixels (with a few bytes of actual data)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "CorpusCam"
    exif[0x0112] = value
    return exif.tobytes()


# ------------------------------------------------------------------------------------------------
# the image corpus
# ------------------------------------------------------------------------------------------------
def write_image_corpus(folder: Path) -> list[ImageCase]:
    """Write every case into `folder` (created); returns them, broken ones first."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[ImageCase] = []

    def bad(name: str, filename: str, data: bytes, error: str) -> None:
        path = folder / filename
        path.write_bytes(data)
        cases.append(ImageCase(name, path, ok=False, error=error))

    good_png = _encode(Image.fromarray(marked(24, 32, seed=1)), "PNG")
    good_jpg = _encode(Image.fromarray(marked(24, 32, seed=2)), "JPEG", quality=90)
    good_tif = _encode(Image.fromarray(marked(24, 32, seed=3)), "TIFF")
    rng = np.random.default_rng(1234)
    noise = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    html = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>nope</body></html>\n"

    bad("empty-png", "empty.png", b"", "file is empty (0 bytes)")
    bad("empty-jpg", "empty.jpg", b"", "file is empty (0 bytes)")
    bad("empty-tif", "empty.tif", b"", "file is empty (0 bytes)")
    bad("truncated-png", "cut.png", good_png[: len(good_png) // 2], "truncated or corrupt")
    bad("truncated-jpg", "cut.jpg", good_jpg[: len(good_jpg) // 2], "truncated or corrupt")
    bad("truncated-tif", "cut.tif", good_tif[: len(good_tif) // 2], "truncated or corrupt")
    bad("random-png", "noise.png", noise, "not an image file")
    bad("random-jpg", "noise.jpg", noise, "not an image file")
    bad("random-tif", "noise.tiff", noise, "not an image file")
    bad("html-png", "page.png", html, "not an image file")
    bad("html-jpg", "page.jpeg", html, "not an image file")
    bad(
        "huge-header-png",
        "huge.png",
        huge_png_header(),
        "image is 60000x60000 (3600 megapixels), larger than the 250 megapixel limit",
    )

    def ok(name: str, filename: str, data: bytes, w: int, h: int, **kw) -> ImageCase:
        path = folder / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        case = ImageCase(name, path, ok=True, width=w, height=h, **kw)
        cases.append(case)
        return case

    # tiny pictures
    px = np.array([[[200, 30, 60]]], np.uint8)
    ok("1x1-rgb", "one.png", _encode(Image.fromarray(px), "PNG"), 1, 1)
    ok(
        "2x3-gray",
        "two-by-three.png",
        _encode(Image.fromarray(np.array([[10, 200], [90, 40], [250, 0]], np.uint8)), "PNG"),
        2,
        3,
        gray=True,
    )

    # CMYK JPEG: read as RGB
    ok(
        "cmyk-jpg",
        "cmyk.jpg",
        _encode(Image.fromarray(marked(24, 32, seed=4)).convert("CMYK"), "JPEG", quality=95),
        32,
        24,
        marker=True,
        warning="CMYK image converted",
    )

    # palette PNG with a transparent index: colour + alpha
    idx = np.ones((24, 32), np.uint8)
    idx[:, -6:] = 0  # transparent strip on the right
    r, c = MARKER
    idx[r : r + MARKER_SIZE, c : c + MARKER_SIZE] = 2
    pal = Image.fromarray(idx, "P")
    pal.putpalette([0, 0, 0, 20, 30, 25, 250, 240, 230] + [0] * (256 * 3 - 9))
    alpha = np.where(idx == 0, 0, 255).astype(np.uint8)
    ok("palette-transparency", "palette.png", _encode(pal, "PNG", transparency=0), 32, 24, alpha=alpha, marker=True)

    # LA: gray + alpha
    la_alpha = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (24, 1))
    la = Image.fromarray(np.dstack([marked(24, 32, channels=1, seed=5), la_alpha]), "LA")
    ok("la-png", "gray-alpha.png", _encode(la, "PNG"), 32, 24, gray=True, alpha=la_alpha, marker=True)

    # animated GIF: the first frame, with a warning
    frames = [Image.fromarray(marked(24, 32, seed=6)).convert("P", palette=Image.Palette.ADAPTIVE)]
    frames += [Image.fromarray(np.full((24, 32, 3), (0, 90 * i, 200), np.uint8)).convert("P") for i in (1, 2)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    ok(
        "animated-gif",
        "anim.gif",
        buf.getvalue(),
        32,
        24,
        marker=True,
        warning="animated GIF: only the first of 3 frames was read",
    )

    # multi-page TIFF: the first page, with a warning
    pages = [Image.fromarray(marked(24, 32, seed=7)), Image.fromarray(np.full((24, 32, 3), 200, np.uint8))]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    ok("multipage-tif", "pages.tif", buf.getvalue(), 32, 24, marker=True, out_ext=".tif", warning="multi-page TIFF")

    # EXIF-rotated JPEGs: stored sideways, upright after reading
    upright = marked(24, 32, seed=8)
    for orientation, stored in ((6, np.rot90(upright, 1)), (8, np.rot90(upright, -1)), (3, upright[::-1, ::-1])):
        data = _encode(
            Image.fromarray(np.ascontiguousarray(stored)), "JPEG", quality=95, exif=_exif_orientation(orientation)
        )
        ok(f"exif-orientation-{orientation}-jpg", f"rotated{orientation}.jpg", data, 32, 24, marker=True)

    # 16-bit TIFFs written by libtiff (OpenCV): colour and gray
    rgb16 = marked(24, 32, top=65535, seed=9)
    ok(
        "16bit-rgb-tif",
        "deep.tif",
        cv2.imencode(".tif", np.ascontiguousarray(rgb16[..., ::-1]))[1].tobytes(),
        32,
        24,
        bit_depth=16,
        out_ext=".tif",
        marker=True,
    )
    gray16 = marked(24, 32, channels=1, top=65535, seed=10)
    ok(
        "16bit-gray-tif",
        "deep-gray.tiff",
        cv2.imencode(".tiff", gray16)[1].tobytes(),
        32,
        24,
        gray=True,
        bit_depth=16,
        out_ext=".tif",
        marker=True,
    )

    # a gray JPEG and a unicode, space-laden path
    ok(
        "gray-jpg",
        "gray.jpg",
        _encode(Image.fromarray(marked(24, 32, channels=1, seed=11)), "JPEG", quality=95),
        32,
        24,
        gray=True,
        marker=True,
    )
    ok(
        "unicode-path",
        f"{UNICODE_DIR}/{UNICODE_NAME}",
        _encode(Image.fromarray(marked(24, 32, seed=12)), "PNG"),
        32,
        24,
        marker=True,
    )
    return cases


def write_bad_masks(folder: Path) -> dict[str, Path]:
    """Masks that cannot be used with a 32x24 photo: another size, not an image, empty file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "wrong-size": folder / "mask-10x10.png",
        "not-an-image": folder / "mask.png",
        "empty": folder / "mask-empty.png",
    }
    Image.new("L", (10, 10), 255).save(paths["wrong-size"])
    paths["not-an-image"].write_text("<html>not a mask</html>")
    paths["empty"].write_bytes(b"")
    return paths


def write_mask_for(case: ImageCase, path: Path) -> Path:
    """A mask of the case's size with a small hole away from the marker (the whole picture if tiny)."""
    mask = np.zeros((case.height, case.width), np.uint8)
    if case.width < 8 or case.height < 8:
        mask[:] = 255
    else:
        mask[case.height - 6 : case.height - 2, case.width - 8 : case.width - 3] = 255
    Image.fromarray(mask).save(path)
    return path


# ------------------------------------------------------------------------------------------------
# the weights corpus
# ------------------------------------------------------------------------------------------------
class _OpenPayload:
    """Unpickling this creates the file `marker` (a stand-in for arbitrary code)."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def os_system_pickle(command: str) -> bytes:
    """A hand-written protocol-0 pickle: GLOBAL 'os system', then REDUCE with (command,)."""
    return b"cos\nsystem\n(" + pickle.dumps(command, protocol=0)[:-1] + b"tR."


def _torch_zip_with_pickle(template: bytes, data_pkl: bytes) -> bytes:
    """A torch.save zip archive whose data.pkl is replaced by `data_pkl` (everything else kept)."""
    src = zipfile.ZipFile(io.BytesIO(template))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            body = data_pkl if info.filename.endswith("/data.pkl") else src.read(info.filename)
            dst.writestr(info, body)
    return out.getvalue()


def safetensors_bytes(tensors: dict, metadata: dict | None) -> bytes:
    from safetensors.torch import save

    return save({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)


def raw_safetensors(header: dict, payload: bytes = b"") -> bytes:
    """A safetensors file from a header dict written by hand (for malformed descriptors)."""
    import json

    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + payload


def write_model_corpus(folder: Path, good_model: Path, marker: Path) -> dict[str, tuple[Path, str]]:
    """{case: (path, expected message substring)}: weights files that must be refused.

    `good_model` is a valid tiny safetensors model (a denoise one); `marker` is the file a code
    payload would create if it ever ran.
    """
    import json

    import torch
    from safetensors import safe_open

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cases: dict[str, tuple[Path, str]] = {}

    def put(name: str, filename: str, data: bytes, message: str) -> None:
        path = folder / filename
        path.write_bytes(data)
        cases[name] = (path, message)

    # plain pickles: protocol 2 reaches the GLOBAL (io.open), protocol 4 is refused at its first opcode
    for protocol, message in (
        (2, "refused: not a plain weights checkpoint (Unsupported global: GLOBAL io.open"),
        (4, "refused: not a plain weights checkpoint"),
    ):
        payload = pickle.dumps({"convs.0.weight": _OpenPayload(str(marker))}, protocol=protocol)
        for suffix in (".pt", ".pth", ".ckpt", ".safetensors"):
            put(
                f"pickle{protocol}-payload{suffix}",
                f"evil{protocol}{suffix}",
                payload,
                "not a valid safetensors file" if suffix == ".safetensors" else message,
            )
    put(
        "raw-os-system.ckpt",
        "raw-os-system.ckpt",
        os_system_pickle(f"touch '{marker}'"),
        "refused: not a plain weights checkpoint (Trying to load unsupported GLOBAL os.system",
    )

    template = io.BytesIO()
    torch.save({"convs.0.weight": torch.zeros(1)}, template)
    zipped = _torch_zip_with_pickle(template.getvalue(), os_system_pickle(f"touch '{marker}'"))
    put(
        "torch-zip-os-system",
        "zip-evil.pt",
        zipped,
        "refused: not a plain weights checkpoint (Trying to load unsupported GLOBAL os.system whose module os "
        "is blocked); only tensors can be loaded, nothing in the file was run",
    )
    put("junk.pt", "junk.pt", b"\x00\x01junk" * 50, "refused")
    put("junk.safetensors", "junk.safetensors", b"\x00\x01junk" * 50, "not a valid safetensors file")
    put("empty.safetensors", "empty.safetensors", b"", "not a valid safetensors file")
    good = Path(good_model).read_bytes()
    put("truncated.safetensors", "truncated.safetensors", good[: len(good) * 2 // 3], "not a valid safetensors file")

    with safe_open(str(good_model), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        descriptor = json.loads(f.metadata()["rednet.descriptor"])

    def with_descriptor(name: str, desc_text: str, message: str, state=None) -> None:
        put(name, f"{name}.safetensors", safetensors_bytes(state or tensors, {"rednet.descriptor": desc_text}), message)

    with_descriptor("descriptor-not-json", "{depth: 4,", "malformed model descriptor")
    with_descriptor("descriptor-a-list", "[4, 8]", "malformed model descriptor")
    with_descriptor("descriptor-null", "null", "malformed model descriptor")
    with_descriptor("descriptor-depth-string", json.dumps({**descriptor, "depth": "four"}), "depth 'four'")
    with_descriptor("descriptor-depth-100000", json.dumps({**descriptor, "depth": 100000}), "depth 100000")
    with_descriptor("descriptor-depth-odd", json.dumps({**descriptor, "depth": 5}), "depth 5")
    with_descriptor("descriptor-width-1e9", json.dumps({**descriptor, "width": 10**9}), "width 1000000000")
    with_descriptor("descriptor-colors-7", json.dumps({**descriptor, "colors": 7}), "colors 7")
    with_descriptor("descriptor-unknown-task", json.dumps({**descriptor, "task": "blur"}), "task 'blur'")
    with_descriptor(
        "descriptor-unknown-arch", json.dumps({**descriptor, "arch": "resnet"}), "unknown architecture 'resnet'"
    )
    with_descriptor("descriptor-depth-6-weights-4", json.dumps({**descriptor, "depth": 6}), "do not match")
    with_descriptor(
        "descriptor-inpaint-without-mask",
        json.dumps({**descriptor, "task": "inpaint", "cond": None}),
        "input condition None (an inpaint model takes 'mask')",
    )
    # plain state dicts (no descriptor): the layout is inferred from the shapes, then checked the same way
    torch.save(
        {
            "convs.0.weight": torch.zeros(600, 4, 3, 3),
            "convs.1.weight": torch.zeros(1),
            "deconvs.1.weight": torch.zeros(600, 3, 3, 3),
        },
        folder / "wide.pt",
    )
    cases["state-dict-width-600.pt"] = (folder / "wide.pt", "width 600")
    torch.save({"weight": torch.zeros(3, 3)}, folder / "other-net.pth")
    cases["state-dict-not-rednet.pth"] = (folder / "other-net.pth", "no RED-Net descriptor")
    torch.save({"convs.1.weight": torch.zeros(8, 8, 3, 3)}, folder / "no-first-layer.pt")
    cases["state-dict-no-first-layer.pt"] = (folder / "no-first-layer.pt", "not a RED-Net state dict")
    # a "header" that claims a tensor far larger than the file
    put(
        "tensor-beyond-file",
        "tensor-beyond-file.safetensors",
        raw_safetensors(
            {
                "__metadata__": {"rednet.descriptor": json.dumps(descriptor)},
                "convs.0.weight": {"dtype": "F32", "shape": [100000, 100000], "data_offsets": [0, 4 * 10**10]},
            }
        ),
        "not a valid safetensors file",
    )
    return cases


def case_names() -> tuple[list[str], list[str]]:
    """Names of the broken and of the valid-but-odd image cases, for parametrizing tests."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        cases = write_image_corpus(Path(folder))
    return [c.name for c in cases if not c.ok], [c.name for c in cases if c.ok]
