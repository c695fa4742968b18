"""The catalogue of official datasets that ``icbmap data download`` fetches.

The built-in catalogue is ``resources/download_sources.json``; a user catalogue at
``<config dir>/download_sources.json`` (same shape, any subset) overrides it:

* ``"sources": {"<id>": {...}}``: keys replace the built-in source's keys; a source with a
  different ``kind`` (or a new id) replaces the whole entry.  Any address can be moved this
  way, e.g. ``{"kind": "file", "url": "https://mirror.example/lsoa.geojson", "file": "..."}``.
* ``"pack": {"<import argument>": "<id>" | null}``: which source feeds which argument of
  :func:`icbmap.atlas.official.import_pack`; ``null`` leaves an optional one out.

Kinds: ``arcgis`` (a FeatureServer layer, see :mod:`icbmap.download.arcgis`), ``nomis``
(a Nomis ``.data.csv`` table), ``nhs_publication`` (a file of the latest monthly NHS
publication) and ``file`` (one plain address).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from icbmap.errors import DataError
from icbmap.paths import config_dir, resources_dir

CATALOGUE_NAME = "download_sources.json"
PACK_ARGS = ("boundaries", "icb_lookup", "lad_lookup", "population", "practices", "practice_map")
REQUIRED_ARGS = ("boundaries", "icb_lookup", "lad_lookup")
KINDS: dict[str, tuple[str, ...]] = {
    "arcgis": ("url",),
    "nomis": ("url",),
    "nhs_publication": ("landing", "file_pattern"),
    "file": ("url",),
}
FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def builtin_path() -> Path:
    return resources_dir() / CATALOGUE_NAME


def user_path() -> Path:
    return config_dir() / CATALOGUE_NAME


@dataclass
class Source:
    id: str
    spec: dict[str, Any]
    origin: str = ""

    @property
    def kind(self) -> str:
        return self.spec["kind"]

    @property
    def file(self) -> str:
        return self.spec["file"]

    @property
    def title(self) -> str:
        return self.spec.get("title") or self.id

    @property
    def verified(self) -> bool:
        return bool(self.spec.get("verified", False))

    @property
    def address(self) -> str:
        return self.spec.get("url") or self.spec.get("landing") or ""

    def describe(self) -> dict[str, Any]:
        keep = ("title", "publisher", "licence", "kind", "url", "landing", "verified")
        return {"id": self.id, **{k: self.spec[k] for k in keep if k in self.spec}}


@dataclass
class Catalogue:
    sources: dict[str, Source]
    pack: dict[str, str | None]
    paths: list[Path] = field(default_factory=list)

    def for_pack(self) -> dict[str, Source]:
        """Import argument -> source, for the arguments the catalogue fills."""
        return {arg: self.sources[sid] for arg, sid in self.pack.items() if sid}


def _read(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise DataError(path, f"cannot read the download catalogue: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise DataError(path, f"the download catalogue is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DataError(path, "the download catalogue must be a JSON object")
    for key in ("sources", "pack"):
        if key in data and not isinstance(data[key], dict):
            raise DataError(path, f"'{key}' must be an object")
    return data


def _validate(source: Source, path: Path | str) -> None:
    spec = source.spec
    kind = spec.get("kind")
    if kind not in KINDS:
        raise DataError(path, f"source {source.id}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    for key in KINDS[kind]:
        if not isinstance(spec.get(key), str) or not spec[key]:
            raise DataError(path, f"source {source.id}: '{key}' is required for kind {kind}")
    for key in ("url", "landing"):
        if key in spec and not re.match(r"^https?://", str(spec[key])):
            raise DataError(path, f"source {source.id}: '{key}' must be an http(s) address")
    file = spec.get("file")
    if not isinstance(file, str) or not FILE_RE.match(file) or ".." in file:
        raise DataError(path, f"source {source.id}: 'file' must be a plain file name, not {file!r}")
    for key in ("file_pattern", "member_pattern"):
        if key in spec:
            try:
                re.compile(spec[key])
            except re.error as exc:
                raise DataError(path, f"source {source.id}: '{key}' is not a valid pattern: {exc}") from exc


def load_catalogue(path: Path | None = None, *, user: Path | None | bool = True) -> Catalogue:
    """The built-in catalogue (or ``path``), overridden by the user catalogue if present.

    ``user=True`` looks in the config folder; a path uses that file; ``False`` ignores it.
    """
    base_path = Path(path) if path else builtin_path()
    base = _read(base_path)
    sources = {sid: Source(sid, dict(spec), str(base_path)) for sid, spec in (base.get("sources") or {}).items()}
    pack: dict[str, str | None] = dict(base.get("pack") or {})
    paths = [base_path]
    upath = user_path() if user is True else (Path(user) if user else None)
    if upath is not None and upath.exists():
        over = _read(upath)
        paths.append(upath)
        for sid, spec in (over.get("sources") or {}).items():
            if not isinstance(spec, dict):
                raise DataError(upath, f"source {sid} must be an object")
            old = sources.get(sid)
            if old is None or ("kind" in spec and spec["kind"] != old.kind):
                sources[sid] = Source(sid, dict(spec), str(upath))
            else:
                sources[sid] = Source(sid, {**old.spec, **spec}, str(upath))
        pack.update(over.get("pack") or {})
    for src in sources.values():
        _validate(src, src.origin)
    where = paths[-1]
    for arg, sid in pack.items():
        if arg not in PACK_ARGS:
            raise DataError(where, f"'pack' names {arg!r}; the import takes {', '.join(PACK_ARGS)}")
        if sid is not None and sid not in sources:
            raise DataError(where, f"'pack' uses source {sid!r} for {arg}, but no source has that id")
    missing = [a for a in REQUIRED_ARGS if not pack.get(a)]
    if missing:
        raise DataError(where, f"'pack' must name sources for {', '.join(missing)}")
    files = [s.file for s in (sources[sid] for sid in pack.values() if sid)]
    if len(set(files)) != len(files):
        raise DataError(where, "two sources of the pack write the same file name")
    return Catalogue(sources, pack, paths)
