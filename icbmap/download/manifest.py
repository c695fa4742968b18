"""The record of a download folder, apart from the HTTP client that fills it: :class:`Manifest`
(``manifest.json``: url, bytes, sha256, validators per finished file; written atomically) and
:class:`FileRecord` (what one :meth:`~icbmap.download.client.HttpClient.download` did).
Re-exported by :mod:`icbmap.download.client`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from icbmap.errors import DataError
from icbmap.safeio import loads_json, read_input

#: a manifest lists a few dozen downloaded files
MAX_MANIFEST_BYTES = 16 << 20


MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def _atomic_write_text(path: Path, text: str) -> None:
    from icbmap.atomic import atomic_write_text

    atomic_write_text(path, text)


class Manifest:
    """``manifest.json`` of a download folder: one entry per finished file, keyed by its name.

    Entries: ``url, file, bytes, sha256, etag, last_modified, fetched_at, checked_at`` plus
    whatever the caller adds (source id, title, licence, publication, feature count...).
    ``packs`` records which files built which data pack.  Written atomically on every change.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / MANIFEST_NAME
        self.files: dict[str, dict] = {}
        self.packs: dict[str, dict] = {}
        if self.path.exists():
            try:
                # a FIFO, huge or deeply nested manifest is as good as a damaged one
                data = loads_json(read_input(self.path, "download manifest", MAX_MANIFEST_BYTES), self.path)
                self.files = dict(data.get("files") or {})
                self.packs = dict(data.get("packs") or {})
            except (DataError, OSError, ValueError, AttributeError):
                # A damaged manifest only costs a re-download; never trust half of it.
                self.files, self.packs = {}, {}

    def key(self, path: Path) -> str:
        path = Path(path)
        try:
            return path.resolve().relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            return str(path.resolve())

    def get(self, path: Path) -> dict | None:
        return self.files.get(self.key(path))

    def record(self, path: Path, entry: dict) -> dict:
        entry = dict(entry)
        entry["file"] = self.key(path)
        self.files[entry["file"]] = entry
        self.save()
        return entry

    def forget(self, path: Path) -> None:
        if self.files.pop(self.key(path), None) is not None:
            self.save()

    def save(self) -> None:
        data = {"version": MANIFEST_VERSION, "files": self.files, "packs": self.packs}
        _atomic_write_text(self.path, json.dumps(data, indent=2, sort_keys=True, allow_nan=False))

    def verify(self, path: Path) -> bool:
        """True when ``path`` exists with the bytes and sha256 the manifest recorded."""
        entry = self.get(path)
        path = Path(path)
        if not entry or not path.is_file():
            return False
        if path.stat().st_size != entry.get("bytes"):
            return False
        return sha256_file(path) == entry.get("sha256")


@dataclass
class FileRecord:
    """What :meth:`HttpClient.download` did."""

    path: Path
    url: str
    bytes: int
    sha256: str
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str = ""
    from_cache: bool = False        # 304: the file we had is still current
    resumed: bool = False           # a 206 completed an earlier partial file
    restarted: bool = False         # the server ignored Range / the file changed: from byte 0
    attempts: int = 1
    extra: dict = field(default_factory=dict)

    def entry(self) -> dict:
        return {"url": self.url, "bytes": self.bytes, "sha256": self.sha256, "etag": self.etag,
                "last_modified": self.last_modified, "fetched_at": self.fetched_at, **self.extra}
