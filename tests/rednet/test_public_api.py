import subprocess
import sys

import rednet


def test_every_public_name_resolves():
    for name in rednet.__all__:
        assert getattr(rednet, name) is not None, name
    assert set(rednet.__all__) <= set(dir(rednet))


def test_importing_rednet_loads_neither_torch_nor_qt():
    code = (
        "import sys, rednet, rednet.paths, rednet.errors\n"
        "print(sorted(m for m in ('torch', 'PySide6', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error():
    try:
        rednet.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_the_public_api_restores_a_photo(tiny_models, tmp_path):
    from tests.support.photos import smooth_photo

    photo = rednet.Photo(pixels=smooth_photo(32, 40))
    out = rednet.restore(photo, "denoise", sigma=10, model=tiny_models["denoise"], device="cpu")
    assert out.pixels.shape == (32, 40, 3)
    assert issubclass(rednet.UsageError, rednet.RednetError)
