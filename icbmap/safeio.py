"""Guarded reading of files a user hands us: regular files only, bounded size, bounded memory.

Every reader of a user-given file goes through :func:`open_input` (or :func:`read_input`):

* the file is opened without blocking (``O_NONBLOCK``), so a FIFO never hangs the
  program, and then checked with ``fstat`` on the open descriptor (no race between the
  check and the read): folders, FIFOs, sockets and devices (``/dev/urandom``, ``/dev/zero``)
  are refused, whatever symlink points at them;
* the size is checked against a limit before a byte is read, and reads stop at
  ``limit + 1`` bytes, so a sparse, huge or lying file is never loaded into memory;
* :func:`loads_json` turns every way ``json.loads`` can fail on hostile text (deep
  nesting, 4,300+ digit numbers, NaN) into one message naming the file.

Model code only; never imports Qt.
"""

from __future__ import annotations

import io
import json
import os
import stat
from contextlib import contextmanager
from typing import BinaryIO

from icbmap.errors import DataError

MB = 1 << 20
GB = 1 << 30


def size_text(n: float) -> str:
    """``1.5 GB``, ``640 KB``, ``12 bytes``."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{int(n):,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n}"  # pragma: no cover


def file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _a(what: str) -> str:
    """'a proposal file', 'an A&E provider file'."""
    return ("an " if what[:1].lower() in "aeiou" else "a ") + what


def _refuse(path, st: os.stat_result, what: str, limit: int | None, error, folder_hint: str = "") -> None:
    if stat.S_ISDIR(st.st_mode):
        raise error(path, f"is a folder, not {_a(what)}{folder_hint}")
    if not stat.S_ISREG(st.st_mode):
        raise error(path, f"is {file_kind(st.st_mode)}, not {_a(what)}; give a regular file")
    if limit is not None and st.st_size > limit:
        raise error(path, f"is {size_text(st.st_size)}, too large for {_a(what)} (limit {size_text(limit)})")


def check_input(path, what: str = "file", limit: int | None = None, error=DataError,
                folder_hint: str = "") -> os.stat_result:
    """``stat`` ``path`` (following symlinks) and refuse what :func:`open_input` would.

    For readers that hand the path to a library (GDAL): the file is not opened here, so a
    FIFO is detected without blocking.  Returns the stat result.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(path, f"{what} not found") from None
    except OSError as exc:
        raise error(path, f"cannot open {what}: {exc.strerror or exc}") from None
    _refuse(path, st, what, limit, error, folder_hint)
    return st


def check_zip(path, limit: int, what: str = "file", error=DataError) -> None:
    """Refuse a ZIP archive whose members expand to more than ``limit`` bytes in all
    (a zip bomb), before a library (GDAL's /vsizip/) unpacks it."""
    import zipfile

    try:
        with open_input(path, what, None, error) as fh, zipfile.ZipFile(fh) as zf:
            total = sum(max(info.file_size, 0) for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise error(path, f"a damaged ZIP archive ({exc})") from None
    except OSError as exc:
        raise error(path, f"cannot read {what}: {exc.strerror or exc}") from None
    if total > limit:
        raise error(path, f"the ZIP archive expands to {size_text(total)}, more than the "
                          f"{size_text(limit)} limit for a {what}")


class _Limited(io.RawIOBase):
    """A read-only raw stream that raises ``error`` once more than ``limit`` bytes were read."""

    def __init__(self, fh: BinaryIO, limit: int, path, what: str, error):
        self._fh, self._left, self._limit = fh, limit + 1, limit
        self._path, self._what, self._error = path, what, error

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self._fh.readinto(b)
        if n:
            self._left -= n
            if self._left <= 0:
                raise self._error(self._path, f"is larger than the {size_text(self._limit)} "
                                              f"limit for a {self._what}")
        return n

    def close(self) -> None:
        try:
            self._fh.close()
        finally:
            super().close()


def open_input(path, what: str = "file", limit: int | None = None, error=DataError,
               folder_hint: str = "") -> BinaryIO:
    """Open ``path`` for reading (binary), refusing anything but a regular file within ``limit``.

    The returned stream raises ``error`` if it yields more than ``limit`` bytes (a file
    that grows, or lies about its size).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(path, f"{what} not found") from None
    except IsADirectoryError:
        raise error(path, f"is a folder, not a {what}{folder_hint}") from None
    except OSError as exc:
        raise error(path, f"cannot open {what}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        _refuse(path, st, what, limit, error, folder_hint)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        raw = os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise
    if limit is None:
        return io.BufferedReader(raw)
    return io.BufferedReader(_Limited(raw, limit, path, what, error))


def read_input(path, what: str = "file", limit: int | None = None, error=DataError) -> bytes:
    """The bytes of ``path`` (see :func:`open_input`); never more than ``limit`` in memory."""
    try:
        with open_input(path, what, limit, error) as fh:
            return fh.read()
    except OSError as exc:
        raise error(path, f"cannot read {what}: {exc.strerror or exc}") from None
    except MemoryError:
        raise error(path, "is too large to read into the memory available") from None


class _BadConstant(ValueError):
    pass


def _reject_constant(name: str):
    raise _BadConstant(f"{name} is not allowed")


def loads_json(text: str | bytes, path, what: str = "JSON file", error=DataError):
    """``json.loads`` with every failure on hostile text as ``error(path, message)``:
    syntax errors (line and column), NaN/Infinity, nesting too deep for Python's stack,
    integers over Python's 4,300-digit conversion limit."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(path, f"not a {what}: not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except _BadConstant as exc:
        raise error(path, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise error(path, "not valid JSON: nested too deeply") from None
    except json.JSONDecodeError as exc:
        stripped = len(text.rstrip())
        hint = " (the file looks truncated: it ends before the JSON does)" if (
            exc.pos >= stripped - 1 or "Unterminated" in exc.msg) else ""
        raise error(path, f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}") from None
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        msg = str(exc).split(";")[0]
        raise error(path, f"not valid JSON: {msg}") from None
    except MemoryError:
        raise error(path, "not valid JSON: too large to parse in the memory available") from None


@contextmanager
def gdal_write_errors(path):
    """Turn a GDAL/pyogrio failure while writing ``path`` (a full disk gives a
    ``FeatureError``, not an ``OSError``) into a :class:`~icbmap.errors.DataError` naming it."""
    from icbmap.errors import IcbmapError

    try:
        yield
    except (IcbmapError, OSError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - pyogrio raises its own classes (FeatureError...)
        if exc.__class__.__module__.split(".")[0] not in ("pyogrio", "fiona", "osgeo"):
            raise
        text = " ".join(str(exc).split())
        low = text.lower()
        if "disk is full" in low or "no space" in low or "database or disk is full" in low:
            problem = "could not write: No space left on device"
        elif "too large" in low:
            problem = f"could not write: File too large ({text[:200]})"
        else:
            problem = f"could not write: {text[:200]}"
        raise DataError(path, problem) from None


__all__ = ["GB", "MB", "check_zip", "file_kind", "gdal_write_errors", "check_input", "loads_json", "open_input", "read_input",
           "size_text"]
