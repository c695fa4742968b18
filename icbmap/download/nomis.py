"""Census 2021 tables from the Nomis API (``.../api/v01/dataset/<id>.data.csv``).

Nomis returns at most a fixed number of rows per request to anonymous users, so the table
is read in pages with ``RecordOffset`` / ``RecordLimit`` until a page is short.  The pages
are joined into one CSV (one header) written atomically and recorded in the manifest.
``rename`` renames header columns (only the header: values are written as received), e.g.
Nomis' ``GEOGRAPHY_CODE`` to the ``LSOA21CD`` the official import looks for; the manifest
records the renaming.
Census tables do not change after publication, so a file the manifest already holds with
the same URL, bytes and sha256 is used without asking the server again.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from icbmap.atomic import atomic_writer
from icbmap.download.client import DownloadError, HttpClient, utc_now, with_params
from icbmap.download.manifest import FileRecord, Manifest, sha256_file
from icbmap.progress import Progress

MAX_PAGES = 1000


def download_table(client: HttpClient, url: str, params: dict[str, Any], dest: Path, *,
                   page_size: int = 25000, expect_columns: list[str] | None = None,
                   rename: dict[str, str] | None = None, manifest: Manifest | None = None,
                   progress: Progress | None = None,
                   label: str | None = None, extra: dict | None = None) -> FileRecord:
    progress = progress or Progress.silent()
    dest = Path(dest)
    label = label or dest.name
    signature = with_params(url, params)
    if manifest is not None:
        entry = manifest.get(dest)
        if entry and entry.get("url") == signature and (entry.get("rename") or {}) == (rename or {}) \
                and manifest.verify(dest):
            progress.step(1.0, f"{label}: already downloaded {entry.get('fetched_at', '?')} (cached)")
            return FileRecord(dest, signature, int(entry["bytes"]), entry["sha256"], None, None,
                              entry.get("fetched_at", ""), from_cache=True,
                              extra={"rows": entry.get("rows")})
    header: list[str] | None = None
    rows: list[list[str]] = []
    offset = 0
    for _ in range(MAX_PAGES):
        page_url = with_params(signature, {"RecordOffset": offset, "RecordLimit": page_size})
        body = client.get_bytes(page_url, progress=progress)
        text = body.decode("utf-8-sig", errors="replace")
        records = list(csv.reader(io.StringIO(text)))
        if not records:
            break
        page_header, page_rows = records[0], [r for r in records[1:] if r]
        if header is None:
            header = page_header
            missing = [c for c in (expect_columns or []) if c not in header]
            if missing:
                raise DownloadError(page_url, f"the table lacks the columns {', '.join(missing)} "
                                    f"(it starts {text[:80]!r})")
        elif page_header != header:
            raise DownloadError(page_url, "a later page has different columns from the first")
        rows.extend(page_rows)
        offset += len(page_rows)
        progress.step(0.0, f"{label}: {len(rows):,} rows")
        if len(page_rows) < page_size:
            break
    else:
        raise DownloadError(signature, f"more than {MAX_PAGES} pages; stopping")
    if header is None or not rows:
        raise DownloadError(signature, "the table is empty")
    renamed = {k: v for k, v in (rename or {}).items() if k in header}
    with atomic_writer(dest, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([renamed.get(c, c) for c in header])
        writer.writerows(rows)
    extra = {"rows": len(rows), **(extra or {})}
    if rename:
        extra["rename"] = dict(rename)
        extra["renamed_columns"] = renamed
    record = FileRecord(dest, signature, dest.stat().st_size, sha256_file(dest), None, None, utc_now(),
                        extra=extra)
    if manifest is not None:
        manifest.record(dest, {**record.entry(), "checked_at": record.fetched_at})
    progress.step(1.0, f"{label}: {len(rows):,} rows")
    return record
