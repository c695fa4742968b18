"""Writing export files: atomically, readable by others like any file the user saves."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from icbmap.atlas.store import atomic_write_text


@lru_cache(maxsize=1)
def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def make_shareable(path: str | Path) -> None:
    """Give a finished export the permissions of a normally created file.

    ``atomic_write_*`` goes through ``tempfile.mkstemp``, whose files are private (0600);
    an export is meant to be handed on, so it gets ``0666 & ~umask`` like any saved file.
    """
    if os.name == "nt":  # pragma: no cover - Windows has no mode bits to fix
        return
    try:
        os.chmod(path, 0o666 & ~_umask())
    except OSError:
        pass


def write_text(path: str | Path, text: str) -> Path:
    path = Path(path)
    atomic_write_text(path, text)
    make_shareable(path)
    return path


def done(progress, message: str) -> None:
    """Report completion; a Cancel pressed after the files were written changes nothing."""
    from icbmap.errors import Cancelled

    try:
        progress.step(1.0, message)
    except Cancelled:
        pass
