"""Atomic writes and the pack store."""

import os
import stat

import pytest

from icbmap import atomic
from icbmap.atlas import store
from icbmap.errors import DataError


def test_atomic_write_replaces_and_keeps_previous_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "f.json"
    atomic.atomic_write_text(p, "one")
    assert p.read_text() == "one"

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic.atomic_write_text(p, "two")
    assert p.read_text() == "one"
    assert [x.name for x in tmp_path.iterdir()] == ["f.json"]  # no temporary left behind


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_atomic_write_gives_normal_file_modes(tmp_path):
    old = os.umask(0o022)
    try:
        p = tmp_path / "new.txt"
        atomic.atomic_write_text(p, "x")
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
        os.chmod(p, 0o600)
        atomic.atomic_write_text(p, "y")
        assert stat.S_IMODE(p.stat().st_mode) == 0o600  # an existing file keeps its mode
    finally:
        os.umask(old)


def test_read_atlas_rejects_foreign_and_corrupt_files(tmp_path):
    bad = tmp_path / "x.gpkg"
    bad.write_bytes(b"not a geopackage at all")
    with pytest.raises(DataError) as e:
        store.read_atlas(bad)
    assert "x.gpkg" in str(e.value)
    with pytest.raises(DataError) as e:
        store.read_atlas(tmp_path / "missing.gpkg")
    assert "not found" in str(e.value)


def test_pack_names_are_checked():
    with pytest.raises(DataError):
        store.pack_path("../escape")
    with pytest.raises(DataError) as e:
        store.use_pack("no-such-pack")
    assert "data list" in str(e.value)
