"""``settings.json`` (the pack in use, recent proposals) and the sweep of stale temporary
files at start: kept apart from the pack store so that every CLI command can run them
without importing geopandas.

Settings are read bounded and never blocking (a FIFO or huge file is ignored) and updated
under a file lock, re-read before writing, so concurrent processes keep each other's changes.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

from icbmap.atomic import atomic_write_text, sweep_stale_temps
from icbmap.errors import DataError
from icbmap.paths import cache_dir, config_dir, data_dir
from icbmap.safeio import MB, loads_json, read_input


# ---------------------------------------------------------------- stale temporary files
def sweep_on_start() -> list[Path]:
    """At start: sweep stale temporary files from icbmap's own folders and the folders of
    recently used proposals (where saves and exports usually go)."""
    folders = {cache_dir(), data_dir(), data_dir() / "packs", data_dir() / "autosave",
               data_dir() / "practices", config_dir()}
    removed = []
    for folder in folders:
        removed += sweep_stale_temps(folder, legacy=True)
    recent = read_settings().get("recent_proposals", [])
    for item in recent if isinstance(recent, list) else []:
        if isinstance(item, str):
            removed += sweep_stale_temps(Path(item).parent)
    return removed


# ---------------------------------------------------------------- settings
def settings_path() -> Path:
    return config_dir() / "settings.json"


def read_settings() -> dict:
    p = settings_path()
    if not p.exists():
        return {}
    try:  # bounded and never blocking (a FIFO or a huge file here is ignored, not read)
        value = loads_json(read_input(p, "settings file", 4 * MB), p, "settings file")
    except DataError:
        return {}
    return value if isinstance(value, dict) else {}


def write_settings(settings: dict) -> None:
    """Replace the whole settings file; prefer :func:`update_settings`, which does not lose
    another process's change made since this one read the file."""
    with _settings_lock():
        atomic_write_text(settings_path(), json.dumps(settings, indent=2, allow_nan=False))


@contextmanager
def _settings_lock():
    """An exclusive lock (``settings.json.lock``) around a read-modify-write of the settings,
    so concurrent processes (two app windows, a CLI run) do not lose each other's updates.
    Re-entrant within a process: the lock is held once."""
    if _LOCK_DEPTH[0]:
        _LOCK_DEPTH[0] += 1
        try:
            yield
        finally:
            _LOCK_DEPTH[0] -= 1
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: settings writes are still atomic
        fcntl = None
    fh = _open_lock_file(config_dir() / "settings.json.lock")
    try:
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        _LOCK_DEPTH[0] = 1
        try:
            yield
        finally:
            _LOCK_DEPTH[0] = 0
    finally:
        fh.close()  # releases the flock


_LOCK_DEPTH = [0]


def _open_lock_file(path):
    """The lock file, opened without blocking and checked on the open descriptor: a folder,
    FIFO or device in its place is one message naming it (issue 21), never a hang."""
    import stat

    from icbmap.errors import DataError
    from icbmap.safeio import file_kind

    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except IsADirectoryError:
        raise DataError(path, "is a folder, not the settings lock file; remove it") from None
    except OSError as exc:
        raise DataError(path, f"cannot open the settings lock file: {exc.strerror or exc}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise DataError(path, f"is {file_kind(st.st_mode)}, not the settings lock file; remove it")
    return os.fdopen(fd, "a+b")


@contextmanager
def update_settings():
    """``with update_settings() as s: s[key] = value``: the settings re-read under the lock,
    changed in the block and written back atomically before the lock is released."""
    with _settings_lock():
        settings = read_settings()
        yield settings
        write_settings(settings)
