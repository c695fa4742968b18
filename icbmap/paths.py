"""Where icbmap keeps its bundled resources, caches, packs and settings.

Model code only; never imports Qt.  ``ICBMAP_HOME`` (used by the tests and by portable
installs) puts cache, data and config under one folder instead of the platform folders.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP = "icbmap"


def project_root() -> Path:
    """The folder holding ``resources/`` and ``shapefiles/``.

    In a PyInstaller bundle that is the unpacked bundle folder; from a clone (editable
    install) it is the repository root beside the package.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parent.parent


def shapefiles_dir() -> Path:
    return project_root() / "shapefiles"


def resources_dir() -> Path:
    return project_root() / "resources"


def _home() -> Path | None:
    home = os.environ.get("ICBMAP_HOME")
    return Path(home) if home else None


def cache_dir() -> Path:
    home = _home()
    path = home / "cache" if home else Path(platformdirs.user_cache_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    home = _home()
    path = home / "data" if home else Path(platformdirs.user_data_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    home = _home()
    path = home / "config" if home else Path(platformdirs.user_config_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path
