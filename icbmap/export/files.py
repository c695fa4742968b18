"""Writing export files: atomically, readable by others like any file the user saves."""

from __future__ import annotations

from pathlib import Path

from icbmap.atlas.store import atomic_write_text


def write_text(path: str | Path, text: str) -> Path:
    path = Path(path)
    atomic_write_text(path, text)  # atomic, with a normal (shareable) file mode
    return path


def done(progress, message: str) -> None:
    """Report completion; a Cancel pressed after the files were written changes nothing."""
    from icbmap.errors import Cancelled

    try:
        progress.step(1.0, message)
    except Cancelled:
        pass
