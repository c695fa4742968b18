"""ONS Open Geography Portal layers through the ArcGIS FeatureServer query API.

A layer ``.../<service>/FeatureServer/0`` is read page by page::

    .../FeatureServer/0/query?where=1=1&outFields=...&f=geojson
        &resultOffset=N&resultRecordCount=M&orderByFields=...

until a page says there is no more: ``exceededTransferLimit`` is false (top level for
``f=json``, under ``properties`` for ``f=geojson``), or, when the flag is absent, the page
is shorter than ``M``.  The next offset moves by the features actually received, so a
server capping pages below ``M`` (its ``maxRecordCount``) is still read completely.

ArcGIS reports many problems as an HTTP 200 with ``{"error": {"code": ..., "message": ...}}``;
those become :class:`~icbmap.download.client.DownloadError` (codes 5xx / 429 are retried).

Each page is saved in ``<file>.pages/`` with a ``checkpoint.json`` (written atomically), so
an interrupted or cancelled download resumes from the last completed page.  The finished
file, one GeoJSON FeatureCollection (spatial layers) or one CSV (``f=json`` tables, without
geometry), is written atomically and recorded in the manifest with its sha256; the pages
folder is then removed.  A layer whose ``editingInfo.lastEditDate`` has not changed since
the manifest entry is not fetched again.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from icbmap.atomic import atomic_writer
from icbmap.download.client import DownloadError, HttpClient, OfflineError, RetryableError, utc_now, with_params
from icbmap.download.manifest import FileRecord, Manifest, _atomic_write_text, sha256_file
from icbmap.progress import Progress

MAX_PAGES = 100_000       # a hard stop for a server that never says "no more"
CHECKPOINT = "checkpoint.json"


@dataclass
class Layer:
    """One FeatureServer layer and how to read it."""

    url: str                        # https://.../rest/services/<Service>/FeatureServer/0
    out_fields: str = "*"
    where: str = "1=1"
    order_by: str | None = None     # a unique field gives stable pages
    page_size: int = 2000
    geometry: bool = True           # False: a table read with f=json, written as CSV
    out_sr: int | None = 4326       # GeoJSON is WGS84 by definition
    key_field: str | None = None    # values must be unique (checks the paging)

    @property
    def query_url(self) -> str:
        return self.url.rstrip("/") + "/query"

    @property
    def fmt(self) -> str:
        return "geojson" if self.geometry else "json"

    def params(self, page_size: int) -> dict[str, Any]:
        p: dict[str, Any] = {"where": self.where, "outFields": self.out_fields, "f": self.fmt}
        if self.order_by:
            p["orderByFields"] = self.order_by
        if self.geometry:
            if self.out_sr is not None:
                p["outSR"] = self.out_sr
        else:
            p["returnGeometry"] = "false"
        p["resultRecordCount"] = page_size
        return p


def check_error(body: Any, url: str) -> Any:
    """Raise for an ArcGIS error body (which arrives with HTTP 200); return the body otherwise."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        code = err.get("code")
        message = err.get("message") or "no message"
        details = "; ".join(str(d) for d in (err.get("details") or []) if d)
        text = f"ArcGIS error {code}: {message}" + (f" ({details})" if details else "")
        if isinstance(code, int) and (code >= 500 or code == 429):
            raise RetryableError(text)
        raise DownloadError(url, text)
    if not isinstance(body, dict):
        raise DownloadError(url, "the ArcGIS answer is not a JSON object")
    return body


def _get(client: HttpClient, url: str, params: dict[str, Any], progress: Progress) -> dict:
    full = with_params(url, params)
    return client.retrying(full, progress, lambda _n: check_error(client.get_json(full, progress=progress), full))


def more_pages(page: dict, received: int, page_size: int) -> bool:
    flag = page.get("exceededTransferLimit")
    if flag is None and isinstance(page.get("properties"), dict):
        flag = page["properties"].get("exceededTransferLimit")
    if received == 0:
        return False
    if flag is not None:
        return bool(flag)
    return received >= page_size


def _validator(info: dict) -> str | None:
    editing = info.get("editingInfo") or {}
    for key in ("lastEditDate", "dataLastEditDate", "schemaLastEditDate"):
        if editing.get(key) is not None:
            return str(editing[key])
    return None


def download_layer(client: HttpClient, layer: Layer, dest: Path, *, manifest: Manifest | None = None,
                   progress: Progress | None = None, label: str | None = None,
                   extra: dict | None = None) -> FileRecord:
    """Download every feature of ``layer`` into ``dest`` (GeoJSON or CSV); see the module doc."""
    progress = progress or Progress.silent()
    dest = Path(dest)
    label = label or dest.name
    progress.step(0.0, f"{label}: asking {layer.url}")

    info = _get(client, layer.url, {"f": "json"}, progress)
    validator = _validator(info)
    page_size = int(layer.page_size)
    max_count = info.get("maxRecordCount")
    if isinstance(max_count, int) and 0 < max_count < page_size:
        page_size = max_count
    params = layer.params(page_size)
    signature = with_params(layer.query_url, {k: v for k, v in params.items() if k != "resultRecordCount"})

    if manifest is not None and validator is not None:
        entry = manifest.get(dest)
        if entry and entry.get("url") == signature and entry.get("last_modified") == validator \
                and manifest.verify(dest):
            entry = {**entry, "checked_at": utc_now()}
            manifest.record(dest, entry)
            progress.step(1.0, f"{label}: unchanged since {entry.get('fetched_at', '?')} (cached)")
            return FileRecord(dest, signature, int(entry["bytes"]), entry["sha256"], None, validator,
                              entry.get("fetched_at", ""), from_cache=True,
                              extra={"features": entry.get("features")})

    try:
        count_body = _get(client, layer.query_url, {"where": layer.where, "returnCountOnly": "true", "f": "json"},
                          progress)
        expected = count_body.get("count")
        expected = int(expected) if isinstance(expected, (int, float)) else None
    except OfflineError:
        raise
    except DownloadError:
        expected = None         # a server without returnCountOnly: page without the total

    pages_dir = dest.with_name(dest.name + ".pages")
    ckpt_path = pages_dir / CHECKPOINT
    ckpt = None
    if ckpt_path.exists():
        try:
            ckpt = json.loads(ckpt_path.read_text("utf-8"))
        except (OSError, ValueError):
            ckpt = None
        if not ckpt or ckpt.get("signature") != signature or ckpt.get("validator") != validator \
                or ckpt.get("page_size") != page_size or ckpt.get("expected") != expected:
            shutil.rmtree(pages_dir, ignore_errors=True)
            ckpt = None
    if ckpt is None:
        ckpt = {"signature": signature, "validator": validator, "page_size": page_size,
                "expected": expected, "next_offset": 0, "rows": 0, "pages": [], "done": False,
                "started_at": utc_now()}
    pages_dir.mkdir(parents=True, exist_ok=True)
    resumed_from = ckpt["next_offset"]
    if resumed_from:
        progress.step(ckpt["rows"] / expected if expected else 0.0,
                      f"{label}: resuming after {ckpt['rows']:,} features")

    offset = ckpt["next_offset"]
    while not ckpt["done"]:
        if len(ckpt["pages"]) >= MAX_PAGES:
            raise DownloadError(layer.query_url, f"more than {MAX_PAGES:,} pages; stopping")
        page_params = {**params, "resultOffset": offset}
        page = _get(client, layer.query_url, page_params, progress)
        features = page.get("features")
        if not isinstance(features, list):
            raise DownloadError(with_params(layer.query_url, page_params), "the ArcGIS answer has no features list")
        n = len(features)
        name = f"page-{len(ckpt['pages']):06d}.json"
        if layer.geometry:
            stored = {"features": features}
        else:
            stored = {"fields": [f.get("name") for f in page.get("fields") or [] if isinstance(f, dict)],
                      "rows": [f.get("attributes") or {} for f in features]}
        _atomic_write_text(pages_dir / name, json.dumps(stored, separators=(",", ":"), allow_nan=False))
        offset += n
        ckpt["pages"].append(name)
        ckpt["rows"] += n
        ckpt["next_offset"] = offset
        ckpt["done"] = not more_pages(page, n, page_size)
        _atomic_write_text(ckpt_path, json.dumps(ckpt, indent=1, allow_nan=False))
        total_txt = f" of {expected:,}" if expected else ""
        progress.step(min(0.99, ckpt["rows"] / expected) if expected else 0.0,
                      f"{label}: {ckpt['rows']:,}{total_txt} features")

    rows = ckpt["rows"]
    if expected is not None and rows != expected:
        shutil.rmtree(pages_dir, ignore_errors=True)
        raise DownloadError(layer.query_url,
                            f"the layer reports {expected:,} features but the pages held {rows:,}; "
                            "the download was discarded, try again")
    _assemble(layer, pages_dir, ckpt["pages"], dest)
    digest = sha256_file(dest)
    size = dest.stat().st_size
    record = FileRecord(dest, signature, size, digest, None, validator, utc_now(),
                        resumed=resumed_from > 0,
                        extra={"features": rows, "layer": info.get("name"), **(extra or {})})
    if manifest is not None:
        manifest.record(dest, {**record.entry(), "checked_at": record.fetched_at})
    shutil.rmtree(pages_dir, ignore_errors=True)
    progress.step(1.0, f"{label}: {rows:,} features")
    return record


def _assemble(layer: Layer, pages_dir: Path, names: list[str], dest: Path) -> None:
    """Join the saved pages into ``dest``, atomically, checking ``layer.key_field`` is unique."""
    seen: set = set()
    key = layer.key_field

    def check(value: Any) -> None:
        if key is None:
            return
        if value in seen:
            raise DownloadError(layer.query_url, f"{key} {value} arrived twice: the pages overlap; "
                                "the download was discarded, try again")
        seen.add(value)

    try:
        if layer.geometry:
            with atomic_writer(dest, "w", encoding="utf-8") as out:
                out.write('{"type":"FeatureCollection","features":[\n')
                first = True
                for name in names:
                    page = json.loads((pages_dir / name).read_text("utf-8"))
                    for feat in page["features"]:
                        check((feat.get("properties") or {}).get(key) if key else None)
                        out.write(("" if first else ",\n") + json.dumps(feat, separators=(",", ":"), allow_nan=False))
                        first = False
                out.write("\n]}\n")
        else:
            fields: list[str] = []
            for name in names:
                page = json.loads((pages_dir / name).read_text("utf-8"))
                for f in page.get("fields") or []:
                    if f and f not in fields:
                        fields.append(f)
                for row in page["rows"]:
                    for f in row:
                        if f not in fields:
                            fields.append(f)
            with atomic_writer(dest, "w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(fields)
                for name in names:
                    page = json.loads((pages_dir / name).read_text("utf-8"))
                    for row in page["rows"]:
                        check(row.get(key) if key else None)
                        writer.writerow(["" if row.get(f) is None else row.get(f) for f in fields])
    except DownloadError:
        shutil.rmtree(pages_dir, ignore_errors=True)
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        shutil.rmtree(pages_dir, ignore_errors=True)
        raise DownloadError(layer.query_url, f"the saved pages in {pages_dir} were damaged ({exc.__class__.__name__}); "
                            "they were removed, run the download again") from exc
