"""Time and file size of the PNG and JPEG codecs RED-Net Studio could use, on a big photo.

    nice -n 19 .venv/bin/python scripts/bench_codecs.py            # 12 MP, 1-2 minutes of CPU
    nice -n 19 .venv/bin/python scripts/bench_codecs.py --quick    # 1 MP, seconds
    nice -n 19 .venv/bin/python scripts/bench_codecs.py --all-full # slow levels on the whole photo too

Measures PNG encoding with Pillow (zlib levels) and OpenCV (levels and zlib strategies), 8-bit and
16-bit; PNG decoding with both; JPEG at quality 95 (4:4:4, as `write_photo` saves it) with both; and
`write_photo` / `read_photo` themselves for each `png_compression` choice. Prints a Markdown table.

Times are the best of `--repeat` runs, as CPU seconds of this process (the codecs are single-threaded,
so on a busy machine CPU time says more than wall time) and wall seconds. zlib levels 7-9 take 5-40 s
each on 12 MP: unless `--all-full`, they run on a quarter of the photo (three bands of rows spread over
it, stacked), next to level 6 on that quarter, and are reported as level 6 on the whole photo times
their ratio to it there, marked "~" (`write_photo` "small" too).
"""

from __future__ import annotations

import argparse
import io
import platform
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from PIL import Image, features

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rednet.evaluation.bench_inputs import bench_photo  # noqa: E402
from rednet.io import Photo, read_photo, write_photo  # noqa: E402
from rednet.io.photo import quantize  # noqa: E402

SLOW_LEVEL = 7  # zlib levels from here on are estimated from a quarter of the photo (unless --all-full)


@dataclass
class Row:
    what: str
    codec: str
    setting: str
    cpu: float
    wall: float
    size: int | None
    scaled: bool = False  # estimated from a quarter of the photo (see the module's docstring)


def best_of(repeat: int, fn: Callable, *args) -> tuple[float, float, object]:
    """(CPU s, wall s, result) of the fastest of `repeat` calls of fn(*args)."""
    best_cpu = best_wall = float("inf")
    result = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn(*args)
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_cpu, best_wall, result


def quarter(arr: np.ndarray) -> np.ndarray:
    """Three bands of rows, spread over the photo, stacked: a quarter of it, its content mixed."""
    h = arr.shape[0]
    band = h // 12
    return np.ascontiguousarray(np.concatenate([arr[k * h // 3 : k * h // 3 + band] for k in range(3)]))


# --- the codecs --------------------------------------------------------------------------------
def pillow_png(arr: np.ndarray, level: int, strategy: int = -1) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG", compress_level=level, compress_type=strategy)
    return buf.getvalue()


def cv2_encode(arr: np.ndarray, ext: str, params: list[int]) -> bytes:
    bgr = arr[..., ::-1] if arr.ndim == 3 else arr
    ok, data = cv2.imencode(ext, np.ascontiguousarray(bgr), params)
    assert ok
    return data.tobytes()


def cv2_png(arr: np.ndarray, level: int, strategy: int = cv2.IMWRITE_PNG_STRATEGY_DEFAULT) -> bytes:
    return cv2_encode(arr, ".png", [cv2.IMWRITE_PNG_COMPRESSION, level, cv2.IMWRITE_PNG_STRATEGY, strategy])


def pillow_jpeg(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=95, subsampling=0)
    return buf.getvalue()


def cv2_jpeg(arr: np.ndarray) -> bytes:
    sampling = [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    return cv2_encode(arr, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95, *sampling])


def pillow_decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im)


def cv2_decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


# --- the measurements --------------------------------------------------------------------------
class Bench:
    def __init__(self, pixels: np.ndarray, repeat: int, all_full: bool):
        self.pixels = pixels
        self.img8, self.img16 = quantize(pixels, 8), quantize(pixels, 16)
        self.repeat = repeat
        self.all_full = all_full
        self.rows: list[Row] = []
        self.files: dict[str, bytes] = {}

    def encode(self, what: str, codec: str, setting: str, fn: Callable, arr: np.ndarray, *args, ref=None) -> Row:
        """One encoder row. `ref` (row, fn, args): a setting already measured on the whole photo;
        then, unless all_full, this one is run on a quarter and scaled as `ref` scales from it."""
        if ref is None or self.all_full:
            cpu, wall, data = best_of(self.repeat, fn, arr, *args)
            row = Row(what, codec, setting, cpu, wall, len(data))
            self.files[f"{what}/{codec}/{setting}"] = data
        else:
            ref_row, ref_fn, ref_args = ref
            part = quarter(arr)
            cpu, wall, data = best_of(self.repeat, fn, part, *args)
            ref_cpu, ref_wall, ref_data = best_of(self.repeat, ref_fn, part, *ref_args)
            size = round(len(data) * ref_row.size / len(ref_data))
            row = Row(what, codec, setting, cpu * ref_row.cpu / ref_cpu, wall * ref_row.wall / ref_wall, size, True)
        self.rows.append(row)
        return row

    def measure(self, what: str, codec: str, setting: str, fn: Callable, *args, size: int | None = None) -> None:
        cpu, wall, _ = best_of(self.repeat, fn, *args)
        self.rows.append(Row(what, codec, setting, cpu, wall, size))

    def png_encoders(self) -> None:
        rle = zlib.Z_RLE
        filtered = {"filtered": zlib.Z_FILTERED}
        for what, codec, fn, img, levels, strategies in (
            ("PNG encode 8-bit", "Pillow", pillow_png, self.img8, (0, 1, 3, 4, 6, 9), {}),
            ("PNG encode 8-bit", "OpenCV", cv2_png, self.img8, range(10), filtered),
            ("PNG encode 16-bit", "OpenCV", cv2_png, self.img16, (0, 1, 3, 4, 6, 9), {}),
        ):
            level6 = None
            for level in levels:
                ref = (level6, fn, (6,)) if level >= SLOW_LEVEL else None
                row = self.encode(what, codec, f"level {level}", fn, img, level, ref=ref)
                level6 = row if level == 6 else level6
            for name, strategy in {**strategies, "Z_RLE": rle}.items():
                self.encode(what, codec, f"level 1, {name}", fn, img, 1, strategy)

    def decoders(self) -> None:
        for level in (1, 6):
            data = self.files[f"PNG encode 8-bit/Pillow/level {level}"]
            for codec, fn in (("Pillow", pillow_decode), ("OpenCV", cv2_decode)):
                self.measure("PNG decode 8-bit", codec, f"Pillow level {level} file", fn, data, size=len(data))
        for level in (4, 6):
            data = self.files[f"PNG encode 16-bit/OpenCV/level {level}"]
            self.measure("PNG decode 16-bit", "OpenCV", f"level {level} file", cv2_decode, data, size=len(data))

    def jpeg(self) -> None:
        self.encode("JPEG encode", "Pillow", "quality 95, 4:4:4", pillow_jpeg, self.img8)
        self.encode("JPEG encode", "OpenCV", "quality 95, 4:4:4", cv2_jpeg, self.img8)
        data = self.files["JPEG encode/Pillow/quality 95, 4:4:4"]
        for codec, fn in (("Pillow", pillow_decode), ("OpenCV", cv2_decode)):
            self.measure("JPEG decode", codec, "quality 95, 4:4:4", fn, data, size=len(data))

    def pipeline(self) -> None:
        """`write_photo` and `read_photo` as the app and the CLI call them (float pixels in, file out)."""
        self.measure("float -> 8-bit", "rednet", "quantize", quantize, self.pixels, 8)
        with tempfile.TemporaryDirectory() as tmp:
            for bits in (8, 16):
                what = f"write_photo {bits}-bit"
                fast = _Writer(Path(tmp) / f"fast{bits}.png", bits, "fast")
                row = self.encode(what, "rednet", 'png_compression="fast"', fast, self.pixels)
                fast_file = Path(tmp) / f"read{bits}.png"
                fast_file.write_bytes(fast.path.read_bytes())
                small = _Writer(Path(tmp) / f"small{bits}.png", bits, "small")
                self.encode(what, "rednet", 'png_compression="small"', small, self.pixels, ref=self._level6(bits))
                size = row.size
                self.measure(f"read_photo {bits}-bit", "rednet", '"fast" file', read_photo, fast_file, size=size)

    def _level6(self, bits: int) -> tuple[Row, Callable, tuple]:
        """The reference of an estimated "small": zlib level 6 of that depth's codec, from float pixels
        (level 9 differs from level 6 alike on any part of a photo; from "fast"'s Z_RLE it does not)."""
        codec, fn = ("Pillow", pillow_png) if bits == 8 else ("OpenCV", cv2_png)
        row = next(
            r for r in self.rows if r.what == f"PNG encode {bits}-bit" and (r.codec, r.setting) == (codec, "level 6")
        )
        return row, lambda pixels: fn(quantize(pixels, bits), 6), ()


class _Writer:
    """write_photo as an encoder: pixels in, the file's bytes out."""

    def __init__(self, path: Path, bits: int, choice: str):
        self.path, self.bits, self.choice = path, bits, choice

    def __call__(self, pixels: np.ndarray) -> bytes:
        self.write(pixels)
        return self.path.read_bytes()

    def write(self, pixels: np.ndarray) -> None:
        write_photo(Photo(pixels=pixels, bit_depth=self.bits), self.path, png_compression=self.choice)


def markdown(rows: list[Row], megapixels: float) -> str:
    lines = ["| what | codec | setting | CPU s | wall s | MB | MP/s (CPU) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        mark = "~" if r.scaled else ""
        mb = "" if r.size is None else f"{mark}{r.size / 1e6:.2f}"
        speed = f"{megapixels / r.cpu:.1f}" if r.cpu > 0 else ""
        lines.append(
            f"| {r.what} | {r.codec} | {r.setting} | {mark}{r.cpu:.2f} | {mark}{r.wall:.2f} | {mb} | {mark}{speed} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a 1 MP photo instead of 12 MP")
    p.add_argument("--all-full", action="store_true", help="zlib levels 7-9 on the whole photo too (minutes)")
    p.add_argument("--repeat", type=int, help="runs per measurement, the best kept (default 1; --quick 3)")
    args = p.parse_args(argv)
    width, height = (1155, 866) if args.quick else (4000, 3000)
    repeat = args.repeat or (3 if args.quick else 1)
    pixels, source = bench_photo(width, height)
    t0 = time.perf_counter()
    c0 = time.process_time()
    bench = Bench(pixels, repeat, args.all_full)
    bench.png_encoders()
    bench.decoders()
    bench.jpeg()
    bench.pipeline()
    megapixels = width * height / 1e6
    print(f"Photo: {width}x{height} ({megapixels:.1f} MP, {source}); best of {repeat} run(s).")
    print(
        f"Pillow {Image.__version__} (zlib {features.version('zlib')}), OpenCV {cv2.__version__}, "
        f"numpy {np.__version__}, Python {platform.python_version()}; took {time.process_time() - c0:.0f} s "
        f"of CPU, {time.perf_counter() - t0:.0f} s of wall time."
    )
    if not args.all_full:
        print("~: measured on a quarter of the photo, scaled as level 6 scales from it to the whole.")
    print()
    print(markdown(bench.rows, megapixels))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
