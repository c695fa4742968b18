"""Writing export files: atomically, readable by others like any file the user saves, under
a name every system accepts."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from icbmap.atomic import atomic_write_text

#: Characters Windows, macOS (":") or a zip/shapefile consumer refuses in a file name.
_BAD_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
#: Longest file name we write, in UTF-8 bytes (most file systems allow 255).
MAX_NAME_BYTES = 200


def clean_file_name(name: str, default: str = "icbmap-export") -> str:
    """``name`` made valid on Windows, macOS and Linux: no control characters or
    ``<>:"/\\|?*``, no trailing dots or spaces, no reserved device name (``CON``, ``NUL``...),
    at most :data:`MAX_NAME_BYTES` bytes; the extension is kept."""
    name = unicodedata.normalize("NFC", name)
    dot = name.rfind(".")
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    ext = _BAD_CHARS.sub("", ext).rstrip(". ")
    stem = _BAD_CHARS.sub("_", stem)
    stem = re.sub(r"_{2,}", "_", stem).strip(" .")
    if not stem.strip("_"):
        stem = default
    if stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem
    limit = MAX_NAME_BYTES - len(ext.encode("utf-8"))
    if len(stem.encode("utf-8")) > limit:
        stem = stem.encode("utf-8")[:limit].decode("utf-8", "ignore").rstrip(" .")
    return stem + ext


def safe_output(path: str | Path) -> tuple[Path, str | None]:
    """``(path with a cleaned file name, a note saying what changed or None)``."""
    path = Path(path)
    cleaned = clean_file_name(path.name)
    if cleaned == path.name:
        return path, None
    return path.with_name(cleaned), (f"the file name {path.name!r} is not valid on every system; "
                                     f"writing {cleaned!r} instead")


def write_text(path: str | Path, text: str) -> Path:
    path = Path(path)
    atomic_write_text(path, text)  # atomic, with a normal (shareable) file mode
    return path


def write_texts(texts: dict) -> list[Path]:
    """Write several files as one: every file's text goes to a temporary file beside it
    first, and only when all are written are they renamed into place; a failure (a full
    disk, no permission) removes every temporary file and leaves all the targets as they
    were, so an export never leaves half of its files behind."""
    from contextlib import ExitStack

    from icbmap.atomic import atomic_file

    paths = [Path(p) for p in texts]
    with ExitStack() as stack:
        tmps = [stack.enter_context(atomic_file(p, ".tmp")) for p in paths]
        for tmp, text in zip(tmps, texts.values()):
            Path(tmp).write_bytes(text.encode("utf-8"))
    return paths


def done(progress, message: str) -> None:
    """Report completion; a Cancel pressed after the files were written changes nothing."""
    from icbmap.errors import Cancelled

    try:
        progress.step(1.0, message)
    except Cancelled:
        pass

