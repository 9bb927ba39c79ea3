"""Reading the photo named on the command line while the window's modules load.

`rednet-studio PHOTO` spends its first ~0.3 s importing Qt and the window; decoding a 12 MP PNG takes
about as long and mostly runs outside the GIL (zlib, Pillow's decoder), so it starts first, on a thread,
and the window takes the result when it opens the photo. A failure is kept and raised there, where the
window reports it exactly as for any other photo it cannot open.
"""

from __future__ import annotations

import threading
from pathlib import Path


class PhotoPrefetch:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._photo = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, name="prefetch-photo", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            from rednet.io import read_photo

            self._photo = read_photo(self.path)
        except BaseException as exc:  # noqa: BLE001 - raised again by read(), on the window's thread
            self._error = exc

    def read(self, path: str | Path):
        """The Photo at `path` (as `rednet.io.read_photo`), from the prefetch when it is that file and
        not taken yet; a later call, or another file, reads afresh."""
        self._thread.join()
        photo, error, self._photo, self._error = self._photo, self._error, None, None
        if Path(path) == self.path and photo is not None:
            return photo
        if Path(path) == self.path and isinstance(error, (OSError, ValueError)):
            raise error  # the file's own problem (ImageReadError is a ValueError)
        from rednet.io import read_photo  # another file, taken already, or the thread itself failed

        return read_photo(path)
