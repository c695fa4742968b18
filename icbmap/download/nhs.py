"""Files of NHS England's monthly statistical publications (digital.nhs.uk).

"Patients Registered at a GP Practice" is published monthly; each month has its own page
(``.../patients-registered-at-a-gp-practice/<month>-<year>``) linking files whose address
changes every month (``https://files.digital.nhs.uk/<xx>/<yyyyyy>/gp-reg-pat-prac-all.csv``).
So the file is found rather than configured:

1. read the landing page and collect the links to monthly pages, newest first;
2. read them in turn (at most ``max_publications``; the newest may be announced before it
   is published) until one links a file whose name matches ``file_pattern``;
3. download that file (conditional, resumable, checksummed); a ``.zip`` is unpacked to the
   CSV member matching ``member_pattern``.

With ``--base-url`` every address, including links found on the pages, is moved to the
mirror so that nothing reaches the real servers.
"""

from __future__ import annotations

import re
import urllib.parse
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from icbmap.atomic import atomic_writer
from icbmap.download.client import DownloadError, HttpClient, rebase, utc_now
from icbmap.download.manifest import FileRecord, Manifest, sha256_file
from icbmap.progress import Progress

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            for k, v in attrs:
                if k == "href" and v:
                    self.hrefs.append(v.strip())


def links(html: str, page_url: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return [urllib.parse.urljoin(page_url, h) for h in parser.hrefs]


def publication_pages(html: str, landing_url: str) -> list[tuple[str, str]]:
    """``(slug, url)`` of the monthly pages linked from the landing page, newest first."""
    base = urllib.parse.urlsplit(landing_url).path.rstrip("/") + "/"
    found: dict[str, str] = {}
    for url in links(html, landing_url):
        path = urllib.parse.urlsplit(url).path.rstrip("/")
        if not path.startswith(base):
            continue
        slug = path[len(base):]
        m = re.fullmatch(r"([a-z]+)-(\d{4})", slug)
        if m and m.group(1) in MONTHS:
            found.setdefault(slug, url.split("#")[0])

    def order(slug: str) -> tuple[int, int]:
        month, year = slug.split("-")
        return int(year), MONTHS.index(month)

    return [(s, found[s]) for s in sorted(found, key=order, reverse=True)]


def find_file(pages_html: str, page_url: str, file_pattern: str) -> str | None:
    rx = re.compile(file_pattern, re.IGNORECASE)
    for url in links(pages_html, page_url):
        name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        if rx.fullmatch(name):
            return url
    return None


class Publication:
    """Resolves files of one publication; remembers the pages it read (one run, many files)."""

    def __init__(self, client: HttpClient, landing_url: str, *, base_url: str | None = None,
                 max_publications: int = 6):
        self.client = client
        self.landing_url = rebase(landing_url, base_url)
        self.base_url = base_url
        self.max_publications = max_publications
        self._pages: list[tuple[str, str, str]] | None = None     # (slug, url, html)

    def _read(self, url: str, progress: Progress) -> str:
        return self.client.get_bytes(url, progress=progress).decode("utf-8", errors="replace")

    def resolve(self, file_pattern: str, progress: Progress) -> tuple[str, str]:
        """``(slug, file url)`` of the newest publication linking a file matching the pattern."""
        if self._pages is None:
            landing = self._read(self.landing_url, progress)
            pages = publication_pages(landing, self.landing_url)
            if not pages:
                raise DownloadError(self.landing_url, "no monthly publication is linked from this page; "
                                    "the site may have changed (override the address in the user catalogue)")
            self._pages = [(slug, rebase(url, self.base_url), "") for slug, url in pages[: self.max_publications]]
        for i, (slug, url, html) in enumerate(self._pages):
            if not html:
                try:
                    html = self._read(url, progress)
                except DownloadError as exc:
                    if exc.status in (404, 410):    # announced but not yet published
                        html = " "
                    else:
                        raise
                self._pages[i] = (slug, url, html)
            found = find_file(html, url, file_pattern)
            if found:
                return slug, rebase(found, self.base_url)
        raise DownloadError(self.landing_url, f"none of the {len(self._pages)} newest publications links a file "
                            f"named like {file_pattern!r}")


def download_publication_file(client: HttpClient, publication: Publication, file_pattern: str, dest: Path, *,
                              member_pattern: str | None = None, expect_columns: list[str] | None = None,
                              manifest: Manifest | None = None, progress: Progress | None = None,
                              label: str | None = None, extra: dict | None = None) -> FileRecord:
    progress = progress or Progress.silent()
    dest = Path(dest)
    label = label or dest.name
    slug, url = publication.resolve(file_pattern, progress)
    remote_name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    extra = {"publication": slug, **(extra or {})}
    if not remote_name.lower().endswith(".zip"):
        record = client.download(url, dest, manifest=manifest, progress=progress, label=label, extra=extra)
        _check_columns(dest, expect_columns, url, manifest)
        return record
    archive = dest.with_name(dest.stem + "." + remote_name)
    zrec = client.download(url, archive, manifest=manifest, progress=progress.sub(0, 0.9), label=label,
                           extra=extra)
    if zrec.from_cache and manifest is not None and manifest.verify(dest) \
            and (manifest.get(dest) or {}).get("archive_sha256") == zrec.sha256:
        entry = manifest.get(dest)
        return FileRecord(dest, url, int(entry["bytes"]), entry["sha256"], zrec.etag, zrec.last_modified,
                          entry.get("fetched_at", ""), from_cache=True, extra=extra)
    rx = re.compile(member_pattern or r".*\.csv", re.IGNORECASE)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.namelist() if rx.fullmatch(m.rsplit("/", 1)[-1])]
            if not members:
                raise DownloadError(url, f"the archive holds no file named like {member_pattern!r} "
                                    f"(it holds {', '.join(zf.namelist()[:5])})")
            with zf.open(members[0]) as src, atomic_writer(dest, "wb") as out:
                while True:
                    block = src.read(1 << 20)
                    if not block:
                        break
                    progress.check()
                    out.write(block)
    except zipfile.BadZipFile as exc:
        raise DownloadError(url, f"the archive is damaged: {exc}") from exc
    _check_columns(dest, expect_columns, url, manifest)
    record = FileRecord(dest, url, dest.stat().st_size, sha256_file(dest), zrec.etag, zrec.last_modified,
                        utc_now(), extra={**extra, "archive": archive.name, "archive_sha256": zrec.sha256,
                                          "member": members[0]})
    if manifest is not None:
        manifest.record(dest, {**record.entry(), "checked_at": record.fetched_at})
    progress.step(1.0, f"{label}: unpacked {members[0]}")
    return record


def _check_columns(path: Path, expect: list[str] | None, url: str, manifest: Manifest | None) -> None:
    """A file without the expected columns (an error page, a changed layout) is not kept."""
    if not expect:
        return
    with open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
        first = fh.readline()
    header = [c.strip().strip('"') for c in first.strip().split(",")]
    missing = [c for c in expect if c not in header]
    if missing:
        if manifest is not None:
            manifest.forget(path)
        Path(path).unlink(missing_ok=True)
        raise DownloadError(url, f"the file lacks the columns {', '.join(missing)} (its first line is {first[:100]!r})")
