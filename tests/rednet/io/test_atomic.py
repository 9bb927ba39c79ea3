import pytest

from rednet.io.atomic import atomic_write, atomic_write_text


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
