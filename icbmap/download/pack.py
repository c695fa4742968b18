"""``icbmap data download``: fetch the catalogue's official files and build a data pack.

The files go to ``dest`` (default ``<cache dir>/downloads``) beside a ``manifest.json``
recording, for each file, its address, size, sha256, validators and when it was fetched,
and for each pack built, which files (by sha256) made it.  The pack itself is built by the
official import route, :func:`icbmap.atlas.official.import_pack`, exactly as
``icbmap data import`` would build it from the same files.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable

from icbmap.download.arcgis import Layer, download_layer
from icbmap.download.client import DownloadError, HttpClient, rebase, utc_now
from icbmap.download.manifest import FileRecord, Manifest
from icbmap.download.nhs import Publication, download_publication_file
from icbmap.download.nomis import download_table
from icbmap.download.sources import Catalogue, Source, load_catalogue
from icbmap.errors import DataError
from icbmap.paths import cache_dir
from icbmap.progress import Progress

IMPORT_SHARE = 0.25        # of the progress bar, for the import after the downloads


def default_dest() -> Path:
    return cache_dir() / "downloads"


def fetch_source(source: Source, dest: Path, *, client: HttpClient, manifest: Manifest | None,
                 base_url: str | None = None, progress: Progress | None = None,
                 publications: dict[str, Publication] | None = None) -> FileRecord:
    """Download one catalogue source into ``dest/<source.file>``."""
    record = _fetch(source, dest, client=client, manifest=manifest, base_url=base_url, progress=progress,
                    publications=publications)
    record.extra.setdefault("source", source.id)
    return record


def _fetch(source: Source, dest: Path, *, client: HttpClient, manifest: Manifest | None,
           base_url: str | None, progress: Progress | None,
           publications: dict[str, Publication] | None) -> FileRecord:
    progress = progress or Progress.silent()
    spec = source.spec
    target = Path(dest) / source.file
    extra = {"source": source.id, "title": source.title, "licence": spec.get("licence"),
             "verified": source.verified}
    if source.kind == "arcgis":
        layer = Layer(url=rebase(spec["url"], base_url), out_fields=spec.get("out_fields", "*"),
                      where=spec.get("where", "1=1"), order_by=spec.get("order_by"),
                      page_size=int(spec.get("page_size", 2000)), geometry=bool(spec.get("geometry", True)),
                      out_sr=spec.get("out_sr", 4326), key_field=spec.get("key_field"))
        return download_layer(client, layer, target, manifest=manifest, progress=progress,
                              label=source.title, extra=extra)
    if source.kind == "nomis":
        record = download_table(client, rebase(spec["url"], base_url), dict(spec.get("params") or {}), target,
                                page_size=int(spec.get("page_size", 25000)),
                                expect_columns=spec.get("expect_columns"),
                                rename=spec.get("rename_columns"), manifest=manifest,
                                progress=progress, label=source.title, extra=extra)
        min_rows = spec.get("min_rows")
        rows = record.extra.get("rows")
        if min_rows and rows is not None and rows < int(min_rows):
            if manifest is not None:
                manifest.forget(target)
            target.unlink(missing_ok=True)
            raise DownloadError(record.url, f"only {rows:,} rows arrived, at least {int(min_rows):,} were expected "
                                "(the server may have capped the answer)")
        return record
    if source.kind == "nhs_publication":
        publications = publications if publications is not None else {}
        key = spec["landing"]
        if key not in publications:
            publications[key] = Publication(client, spec["landing"], base_url=base_url,
                                            max_publications=int(spec.get("max_publications", 6)))
        return download_publication_file(client, publications[key], spec["file_pattern"], target,
                                         member_pattern=spec.get("member_pattern"),
                                         expect_columns=spec.get("expect_columns"), manifest=manifest,
                                         progress=progress, label=source.title, extra=extra)
    if source.kind == "file":
        return client.download(rebase(spec["url"], base_url), target, manifest=manifest, progress=progress,
                               expected_sha256=spec.get("sha256"), label=source.title, extra=extra)
    raise DataError(source.origin, f"source {source.id}: unknown kind {source.kind!r}")


def _weight(source: Source) -> float:
    return 4.0 if source.kind == "arcgis" and source.spec.get("geometry", True) else 1.0


@contextlib.contextmanager
def folder_lock(dest: Path):
    """One download at a time per folder (two would fight over the same ``.part`` files).

    An advisory ``flock`` on ``<dest>/.download.lock``: released by the OS if the process
    dies, so a crash never leaves the folder locked.  Where ``fcntl`` is missing (Windows)
    there is no lock.
    """
    try:
        import fcntl
    except ImportError:         # pragma: no cover - Windows
        yield
        return
    path = Path(dest) / ".download.lock"
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise DataError(dest, "another icbmap download is using this folder; "
                                  "wait for it to finish or choose another --dest") from exc
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def download_files(dest: Path | str | None = None, base_url: str | None = None,
                   progress: Progress | None = None, *, catalogue: Catalogue | None = None,
                   client: HttpClient | None = None) -> tuple[dict[str, FileRecord], Manifest]:
    """Download every source the catalogue's ``pack`` uses; import argument -> record."""
    dest = Path(dest) if dest else default_dest()
    dest.mkdir(parents=True, exist_ok=True)
    with folder_lock(dest):
        return _download_files(dest, base_url, progress, catalogue, client)


def _download_files(dest: Path, base_url: str | None, progress: Progress | None, catalogue: Catalogue | None,
                    client: HttpClient | None) -> tuple[dict[str, FileRecord], Manifest]:
    progress = progress or Progress.silent()
    catalogue = catalogue or load_catalogue()
    client = client or HttpClient()
    manifest = Manifest(dest)
    wanted = catalogue.for_pack()
    total = sum(_weight(s) for s in wanted.values()) or 1.0
    done = 0.0
    publications: dict[str, Publication] = {}
    records: dict[str, FileRecord] = {}
    for arg, source in wanted.items():
        share = _weight(source) / total
        sub = progress.sub(done, done + share)
        records[arg] = fetch_source(source, dest, client=client, manifest=manifest, base_url=base_url,
                                    progress=sub, publications=publications)
        done += share
    progress.step(1.0, f"{len(records)} files ready in {dest}")
    return records, manifest


def download_pack(name: str, dest: Path | str | None = None, base_url: str | None = None,
                  progress: Progress | None = None, *, catalogue: Catalogue | None = None,
                  client: HttpClient | None = None, importer: Callable[..., Any] | None = None):
    """Download the latest official files and build the data pack ``name`` from them.

    Returns the :class:`~icbmap.atlas.model.Atlas` that
    :func:`icbmap.atlas.official.import_pack` builds.  ``importer`` replaces that function
    (tests); ``catalogue`` and ``client`` replace the defaults.
    """
    from icbmap.atlas.store import NAME_RE

    if not NAME_RE.match(name or ""):
        raise DataError(None, f"{name!r} is not a usable pack name (letters, digits, '.', '_' and '-')")
    progress = progress or Progress.silent()
    dest = Path(dest) if dest else default_dest()
    records, manifest = download_files(dest, base_url, progress.sub(0.0, 1.0 - IMPORT_SHARE),
                                       catalogue=catalogue, client=client)
    if importer is None:
        from icbmap.atlas.official import import_pack as importer
    args = {arg: None for arg in ("population", "practices", "practice_map")}
    args.update({arg: str(rec.path) for arg, rec in records.items()})
    progress.step(1.0 - IMPORT_SHARE, f"building data pack {name}")
    atlas = importer(name, **args, progress=progress.sub(1.0 - IMPORT_SHARE, 1.0))
    manifest.packs[name] = {
        "built_at": utc_now(),
        "base_url": base_url,
        "content_hash": getattr(atlas, "content_hash", None),
        "files": {arg: {"file": manifest.key(rec.path), "sha256": rec.sha256, "url": rec.url,
                        "source": rec.extra.get("source")} for arg, rec in records.items()},
    }
    manifest.save()
    return atlas
