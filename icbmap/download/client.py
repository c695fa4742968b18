"""A small, robust HTTP client on the standard library (``urllib``), free of Qt.

Why no ``requests``/``httpx``: the whole job is a handful of GETs; ``urllib`` already gives
timeouts, redirects, proxies from the environment and TLS, and what the libraries would add
(retries, resume, conditional requests, a checksum manifest) has to be written here anyway
to get the exact behaviour icbmap wants.  So no new runtime dependency.

What it does:

* **timeouts** on connect and on every read (``timeout`` seconds);
* **retries** with exponential backoff (``backoff * 2**n``, capped at ``backoff_max``; a
  ``Retry-After`` header is honoured up to the cap) on connection errors, timeouts, truncated
  bodies and HTTP 5xx / 429, at most ``retries`` times;
* **resume**: a file downloads into ``<file>.part`` (with ``<file>.part.json`` holding the
  URL and the validators).  After an interruption the next attempt asks for the rest with
  ``Range: bytes=N-`` and ``If-Range``: a ``206`` is appended, a ``200`` (the server ignores
  ranges, or the file changed) restarts cleanly from byte 0, as does a changed ETag;
* **truncation**: a body shorter than its ``Content-Length`` is an error that is retried (and
  resumed), never a finished file;
* **checksums**: every finished file's sha256 goes into a JSON :class:`Manifest` (url, file,
  bytes, sha256, etag, last_modified, fetched_at), written atomically;
* **cache**: a file already in the manifest (same URL, same bytes, same sha256) is asked
  for conditionally (``If-None-Match`` / ``If-Modified-Since``); ``304`` keeps it;
* **progress and cancellation** through :class:`icbmap.progress.Progress`; a cancelled
  download keeps its ``.part`` for resume and is never presented as complete;
* **offline**: when the host cannot be reached at all, :class:`OfflineError` says so in one
  sentence instead of a traceback.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable

from icbmap import __version__
from icbmap.download.manifest import FileRecord, Manifest, _atomic_write_text, sha256_file
from icbmap.errors import Cancelled, DataError
from icbmap.progress import Progress

USER_AGENT = f"icbmap/{__version__} (data download; Python urllib)"
REPORT_EVERY = 0.25        # seconds between progress reports of one download


# ---------------------------------------------------------------- errors
class DownloadError(DataError):
    """A file or page could not be downloaded.  ``str()`` names the URL and the problem."""

    def __init__(self, url: str | None, problem: str, status: int | None = None):
        super().__init__(url, problem)
        self.url = url
        self.status = status        # the HTTP status when the server answered with an error


class OfflineError(DownloadError):
    """The host could not be reached at all (no network, no DNS, connection refused)."""

    def __init__(self, url: str, host: str, detail: str = ""):
        self.host = host
        self.detail = detail
        DataError.__init__(self, None,
                           f"cannot reach {host}: you appear to be offline; "
                           "icbmap keeps working on the data it has")
        self.url = url
        self.status = None


class _Retry(Exception):
    """One attempt failed in a way worth another try."""

    def __init__(self, reason: str, *, connect: bool = False, delay: float | None = None,
                 advanced: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.connect = connect      # could not connect at all (looks offline)
        self.delay = delay          # server-requested delay (Retry-After)
        self.advanced = advanced    # bytes arrived before the failure (resume made progress)


RetryableError = _Retry


class _LocalError(Exception):
    """Writing on this machine failed (wraps the ``OSError``); never retried."""


# ---------------------------------------------------------------- helpers
def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def host_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or parts.netloc or url


def with_params(url: str, params: dict[str, Any] | None) -> str:
    """``url`` with ``params`` appended as a query string (keeps an existing query)."""
    if not params:
        return url
    query = urllib.parse.urlencode({k: str(v) for k, v in params.items()}, safe=",*")
    return url + ("&" if "?" in url else "?") + query


def rebase(url: str, base_url: str | None) -> str:
    """Swap the scheme and host of ``url`` for ``base_url`` (a mirror serving the same paths).

    ``rebase("https://a.example/x/y?q=1", "http://127.0.0.1:8000/m")`` is
    ``"http://127.0.0.1:8000/m/x/y?q=1"``.
    """
    if not base_url:
        return url
    src = urllib.parse.urlsplit(url)
    base = urllib.parse.urlsplit(base_url.rstrip("/"))
    if not base.scheme or not base.netloc:
        raise DataError(None, f"--base-url {base_url!r} is not an http(s) address like http://host:port")
    return urllib.parse.urlunsplit((base.scheme, base.netloc, base.path + src.path, src.query, src.fragment))


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- manifest


# ---------------------------------------------------------------- the client
class HttpClient:
    """GET with timeouts, bounded retries, resume, conditional requests and progress.

    ``sleep`` is injectable so tests can run the backoff without waiting; by default it
    sleeps in short slices and stops early when the progress is cancelled.
    """

    def __init__(self, *, timeout: float = 60.0, retries: int = 4, connect_retries: int = 2,
                 backoff: float = 1.0, backoff_max: float = 30.0, chunk_size: int = 256 * 1024,
                 user_agent: str = USER_AGENT, sleep: Callable[[float], None] | None = None):
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        # Not reaching the host at all usually means "offline": say so after a short wait.
        self.connect_retries = max(0, min(int(connect_retries), self.retries))
        self.backoff = float(backoff)
        self.backoff_max = float(backoff_max)
        self.chunk_size = int(chunk_size)
        self.user_agent = user_agent
        self._sleep = sleep
        self._opener = urllib.request.build_opener()
        self.requests = 0               # how many HTTP requests were sent (tests, diagnostics)

    # ------------------------------------------------------------ plumbing
    def _open(self, url: str, headers: dict[str, str]):
        req = urllib.request.Request(url, headers={"User-Agent": self.user_agent,
                                                   "Accept-Encoding": "identity", **headers})
        self.requests += 1
        return self._opener.open(req, timeout=self.timeout)

    def _wait(self, seconds: float, progress: Progress) -> None:
        if self._sleep is not None:
            progress.check()
            self._sleep(seconds)
            progress.check()
            return
        end = time.monotonic() + seconds
        while True:
            progress.check()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.1, left))

    def _classify(self, exc: BaseException, url: str) -> BaseException:
        """Turn an exception from one attempt into ``_Retry`` or a final error."""
        if isinstance(exc, (_Retry, Cancelled, DownloadError)):
            return exc
        if isinstance(exc, urllib.error.HTTPError):
            code = exc.code
            if code >= 500 or code == 429:
                return _Retry(f"HTTP {code} {exc.reason}",
                              delay=_retry_after(exc.headers.get("Retry-After") if exc.headers else None))
            return DownloadError(url, f"the server answered HTTP {code} {exc.reason}", status=code)
        if isinstance(exc, urllib.error.URLError):
            reason = exc.reason
            if isinstance(reason, ssl.SSLCertVerificationError):
                why = reason.verify_message or reason
                return DownloadError(url, f"the server's certificate was not accepted ({why})")
            if isinstance(reason, ssl.SSLError):
                return _Retry(f"the secure connection failed ({reason})")
            if isinstance(reason, (TimeoutError, socket.timeout)):
                return _Retry(f"connecting timed out after {self.timeout:g} s", connect=True)
            if isinstance(reason, OSError):
                return _Retry(f"cannot connect ({reason.strerror or reason})", connect=True)
            return DownloadError(url, f"cannot fetch: {reason}")
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return _Retry(f"no answer within {self.timeout:g} s")
        if isinstance(exc, http.client.IncompleteRead):
            return _Retry("the connection closed before the whole answer arrived")
        if isinstance(exc, (http.client.HTTPException, ConnectionError, OSError)):
            return _Retry(f"the connection failed ({exc.__class__.__name__}: {exc})")
        return exc

    def retrying(self, url: str, progress: Progress, attempt: Callable[[int], Any]) -> Any:
        """Public form of the retry loop: ``attempt(n)`` may raise :class:`RetryableError`."""
        return self._with_retries(url, progress, attempt)

    def _with_retries(self, url: str, progress: Progress, attempt: Callable[[int], Any]) -> Any:
        """Run ``attempt(n)`` until it returns, retrying ``_Retry`` failures with backoff.

        A failure after which bytes had arrived (``advanced``: a resumed download moving
        forward) does not use up the retry budget, but the total is still capped.
        """
        failures = 0
        connect_failures = 0
        tries = 0
        cap = 4 * (self.retries + 1)
        while True:
            tries += 1
            try:
                return attempt(tries)
            except BaseException as raw:  # noqa: BLE001 - classified below
                exc = self._classify(raw, url)
                if not isinstance(exc, _Retry):
                    if exc is raw:
                        raise
                    raise exc from raw
                if not exc.advanced:
                    failures += 1
                connect_failures = connect_failures + 1 if exc.connect else 0
                if failures > self.retries or tries >= cap or connect_failures > self.connect_retries:
                    host = host_of(url)
                    if exc.connect:
                        raise OfflineError(url, host, exc.reason) from raw
                    raise DownloadError(url, f"{exc.reason}; gave up after {tries} attempts") from raw
                delay = min(self.backoff_max, self.backoff * (2 ** max(0, failures - 1)))
                if exc.delay is not None:
                    delay = min(self.backoff_max, max(delay, exc.delay))
                progress.step(progress.fraction,
                              f"{host_of(url)}: {exc.reason}; trying again in {delay:.1f} s")
                self._wait(delay, progress)

    # ------------------------------------------------------------ small answers
    def get_bytes(self, url: str, params: dict[str, Any] | None = None, *,
                  headers: dict[str, str] | None = None, progress: Progress | None = None) -> bytes:
        """The whole body of a (small) answer: API pages, landing pages."""
        progress = progress or Progress.silent()
        full = with_params(url, params)

        def attempt(_n: int) -> bytes:
            progress.check()
            with self._open(full, headers or {}) as resp:
                expected = resp.headers.get("Content-Length")
                chunks, got = [], 0
                while True:
                    progress.check()
                    block = resp.read(self.chunk_size)
                    if not block:
                        break
                    chunks.append(block)
                    got += len(block)
                if expected is not None and expected.isdigit() and got < int(expected):
                    raise _Retry(f"the answer was cut short ({got:,} of {int(expected):,} bytes)")
                return b"".join(chunks)

        return self._with_retries(full, progress, attempt)

    def get_json(self, url: str, params: dict[str, Any] | None = None, *,
                 progress: Progress | None = None) -> Any:
        full = with_params(url, params)
        body = self.get_bytes(full, progress=progress)
        try:
            return json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            start = body[:80].decode("utf-8", "replace").strip()
            raise DownloadError(full, f"the answer is not JSON (it starts {start!r})") from exc

    # ------------------------------------------------------------ files
    def download(self, url: str, dest: Path, *, params: dict[str, Any] | None = None,
                 manifest: Manifest | None = None, progress: Progress | None = None,
                 expected_sha256: str | None = None, label: str | None = None,
                 extra: dict | None = None) -> FileRecord:
        """Download ``url`` to ``dest`` (resuming, conditional, checksummed).

        With a ``manifest`` the finished file is recorded there, and a file it already holds
        (same URL, bytes and sha256) is only re-fetched when the server says it changed.
        """
        progress = progress or Progress.silent()
        full = with_params(url, params)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        meta_path = dest.with_name(dest.name + ".part.json")
        label = label or dest.name
        extra = dict(extra or {})

        cached = None
        if manifest is not None:
            entry = manifest.get(dest)
            if entry and entry.get("url") == full and manifest.verify(dest) \
                    and (entry.get("etag") or entry.get("last_modified")):
                cached = entry

        state = {"resumed": False, "restarted": False}

        def read_meta() -> dict | None:
            if not part.exists() or not meta_path.exists():
                return None
            try:
                meta = json.loads(meta_path.read_text("utf-8"))
            except (OSError, ValueError):
                return None
            return meta if meta.get("url") == full else None

        def write_meta(meta: dict) -> None:
            _atomic_write_text(meta_path, json.dumps(meta, indent=2, allow_nan=False))

        def drop_partial() -> None:
            for p in (part, meta_path):
                try:
                    p.unlink()
                except FileNotFoundError:
                    pass

        def attempt(n: int) -> FileRecord:
            progress.check()
            meta = read_meta()
            if meta is None and (part.exists() or meta_path.exists()):
                drop_partial()
            offset = part.stat().st_size if meta is not None else 0
            headers: dict[str, str] = {}
            validator = None
            if meta is not None and offset > 0:
                etag = meta.get("etag")
                validator = etag if etag and not etag.startswith("W/") else meta.get("last_modified")
                if validator:
                    headers["Range"] = f"bytes={offset}-"
                    headers["If-Range"] = validator
                else:       # nothing to prove the file is the same one: start again
                    drop_partial()
                    meta, offset = None, 0
            elif cached is not None:
                if cached.get("etag"):
                    headers["If-None-Match"] = cached["etag"]
                if cached.get("last_modified"):
                    headers["If-Modified-Since"] = cached["last_modified"]
            try:
                resp = self._open(full, headers)
            except urllib.error.HTTPError as exc:
                if exc.code == 304 and cached is not None:
                    entry = dict(cached)
                    entry["checked_at"] = utc_now()
                    manifest.record(dest, entry)
                    progress.step(1.0, f"{label}: unchanged since {cached.get('fetched_at', '?')} (cached)")
                    return FileRecord(dest, full, int(cached["bytes"]), cached["sha256"],
                                      cached.get("etag"), cached.get("last_modified"),
                                      cached.get("fetched_at", ""), from_cache=True, attempts=n,
                                      extra={k: v for k, v in cached.items()
                                             if k not in ("url", "file", "bytes", "sha256", "etag",
                                                          "last_modified", "fetched_at")})
                if exc.code == 416 and "Range" in headers:
                    drop_partial()      # our partial is no prefix of the current file
                    raise _Retry("the partial download did not fit the file on the server",
                                 advanced=True) from exc
                raise
            with resp:
                status = resp.status
                length = resp.headers.get("Content-Length")
                length = int(length) if length and length.isdigit() else None
                etag = resp.headers.get("ETag")
                last_modified = resp.headers.get("Last-Modified")
                if status == 206 and "Range" in headers:
                    start, total = _content_range(resp.headers.get("Content-Range"))
                    same = (etag is None or meta.get("etag") is None or etag == meta.get("etag"))
                    if start != offset or not same:
                        drop_partial()
                        raise _Retry("the server sent a different part or version; starting again",
                                     advanced=True)
                    mode, done = "ab", offset
                    state["resumed"] = True
                    if total is None and length is not None:
                        total = offset + length
                    etag = etag or meta.get("etag")
                    last_modified = last_modified or meta.get("last_modified")
                elif status == 200:
                    if offset > 0:
                        state["restarted"] = True   # Range ignored or the file changed
                    mode, done, total = "wb", 0, length
                else:
                    raise DownloadError(full, f"unexpected HTTP {status} for a file download")
                started = (meta or {}).get("started_at") if mode == "ab" else None
                meta = {"url": full, "etag": etag, "last_modified": last_modified, "total": total,
                        "started_at": started or utc_now()}
                write_meta(meta)
                body_start = done
                shown = 0.0         # report at most every REPORT_EVERY seconds; check cancel always
                try:
                    out = open(part, mode)
                except OSError as exc:
                    raise DownloadError(str(part), f"cannot write the download: {exc.strerror or exc}") from exc
                try:
                    with out as fh:
                        try:
                            while True:
                                progress.check()
                                block = resp.read(self.chunk_size)
                                if not block:
                                    break
                                try:
                                    fh.write(block)
                                except OSError as exc:      # disk full, permissions: not the network
                                    raise _LocalError(exc) from exc
                                done += len(block)
                                now = time.monotonic()
                                if now - shown >= REPORT_EVERY:
                                    shown = now
                                    frac = done / total if total else 0.0
                                    progress.step(frac, f"{label}: {_mb(done)}"
                                                  + (f" of {_mb(total)}" if total else ""))
                        finally:
                            fh.flush()
                            os.fsync(fh.fileno())
                except _LocalError as exc:
                    err = exc.__cause__
                    raise DownloadError(str(part), f"cannot write the download: {err.strerror or err}") from err
                except (TimeoutError, socket.timeout, http.client.IncompleteRead, ConnectionError) as exc:
                    raise _Retry(f"the transfer broke off after {_mb(done)} ({exc.__class__.__name__})",
                                 advanced=done > body_start) from exc
                if length is not None and done - body_start < length:
                    raise _Retry(f"the file was cut short ({_mb(done)} of {_mb(total or done)})",
                                 advanced=done > body_start)
                if total is not None and done != total:
                    drop_partial()
                    raise _Retry(f"the file has {done:,} bytes, the server announced {total:,}")
            digest = sha256_file(part)
            if expected_sha256 and digest != expected_sha256.lower():
                drop_partial()
                raise DownloadError(full, f"checksum mismatch: got sha256 {digest}, expected {expected_sha256}")
            os.replace(part, dest)
            try:
                meta_path.unlink()
            except FileNotFoundError:
                pass
            record = FileRecord(dest, full, done, digest, etag, last_modified, utc_now(),
                                resumed=state["resumed"], restarted=state["restarted"], attempts=n,
                                extra=extra)
            if manifest is not None:
                manifest.record(dest, {**record.entry(), "checked_at": record.fetched_at})
            progress.step(1.0, f"{label}: {_mb(done)} downloaded")
            return record

        return self._with_retries(full, progress, attempt)


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """``"bytes 100-199/1000"`` -> ``(100, 1000)``; unknown parts are ``None``."""
    if not value:
        return None, None
    try:
        unit, rest = value.strip().split(" ", 1)
        span, total = rest.split("/", 1)
        start = int(span.split("-", 1)[0])
        return start, (int(total) if total.strip() != "*" else None)
    except ValueError:
        return None, None
