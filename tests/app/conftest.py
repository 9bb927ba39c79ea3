"""The GUI tests' fixtures (defined in tests/support/app_fixtures.py, registered here for every test
module of tests/app): `app_env`, `dialogs`, `window`, `busy_window`, `make_photo`, `tiny_user_models`."""

from tests.support.app_fixtures import (  # noqa: F401 (pytest finds fixtures by name in a conftest)
    app_env,
    busy_window,
    dialogs,
    make_photo,
    tiny_user_models,
    window,
)
