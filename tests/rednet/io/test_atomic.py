import errno
import os

import pytest

from rednet.io import atomic
from rednet.io.atomic import DestinationExists, atomic_write, atomic_write_bytes, atomic_write_text


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "card.json"
    target.write_text("old")

    def half_then_fail(tmp):
        tmp.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]


def test_a_write_replaces_the_file_whole_and_creates_folders(tmp_path):
    target = tmp_path / "a" / "b.txt"
    assert atomic_write_text(target, "new") == target and target.read_text() == "new"


def test_the_file_gets_a_normal_mode_not_the_temp_files_private_one(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "m.json", "{}")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


# ------------------------------------------------------------------------------------------------
# atomic_write_bytes: the one writer photos, masks and reports share
# ------------------------------------------------------------------------------------------------
def test_bytes_replace_the_file_and_leave_no_temp_file(tmp_path):
    target = tmp_path / "report.csv"
    target.write_bytes(b"old")
    assert atomic_write_bytes(target, b"new") == target
    assert target.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]


def test_overwrite_false_never_replaces_a_file(tmp_path):
    target = tmp_path / "keep.png"
    target.write_bytes(b"original")
    with pytest.raises(DestinationExists):
        atomic_write_bytes(target, b"new", overwrite=False)
    assert target.read_bytes() == b"original" and sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]
    atomic_write_bytes(tmp_path / "new.png", b"fresh", overwrite=False)
    assert (tmp_path / "new.png").read_bytes() == b"fresh"


def test_overwrite_false_without_hard_links_checks_then_renames(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))  # as on FAT and some network shares

    monkeypatch.setattr(os, "link", no_links)
    atomic_write_bytes(tmp_path / "a.png", b"one", overwrite=False)
    with pytest.raises(DestinationExists):
        atomic_write_bytes(tmp_path / "a.png", b"two", overwrite=False)
    assert (tmp_path / "a.png").read_bytes() == b"one" and sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_keep_mode_keeps_the_permissions_of_the_file_replaced(tmp_path):
    kept, reset = tmp_path / "kept.png", tmp_path / "reset.png"
    for path in (kept, reset):
        path.write_bytes(b"old")
        path.chmod(0o600)
    atomic_write_bytes(kept, b"new", keep_mode=True)
    atomic_write_bytes(reset, b"new")
    assert kept.stat().st_mode & 0o777 == 0o600
    assert reset.stat().st_mode & 0o777 == 0o666 & ~_current_umask()


def test_make_folders_false_fails_on_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "nope" / "a.png", b"x", make_folders=False)
    assert list(tmp_path.iterdir()) == []
    assert atomic_write_bytes(tmp_path / "made" / "a.png", b"x").read_bytes() == b"x"


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_a_failure_at_any_step_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch, failing):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if failing == "write":
        real_open = open

        class Full:
            def __init__(self, fh):
                self.fh = fh

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.fh.close()

            write = flush = disk_full

            def fileno(self):
                return self.fh.fileno()

        monkeypatch.setattr(atomic, "open", lambda *a, **k: Full(real_open(*a, **k)), raising=False)
    else:
        monkeypatch.setattr(os, failing, disk_full)
    with pytest.raises(OSError) as info:
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC and not isinstance(info.value, DestinationExists)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
