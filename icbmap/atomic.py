"""Atomic writes (a temporary file beside the target, fsynced, then renamed over it; character
devices and FIFOs written through, symlinks followed, directories refused) and the sweeping of
the temporary files a killed write leaves.  Every file icbmap writes goes through here;
On the ground floor: it imports nothing from icbmap.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _file_mode(path: Path) -> int:
    """The mode a normally created file would get: the existing file's, else 0666 & ~umask.

    ``mkstemp`` makes private (0600) files; a saved proposal or export is meant to be shared.
    """
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _write_target(path: Path) -> tuple[Path, str]:
    """Where a write to ``path`` goes, and how: ``(target, "replace" | "through")``.

    * a symlink is followed to its final target, which is then replaced atomically (the
      link stays a link);
    * a character device (``/dev/null``, ``/dev/full``, a terminal) or a FIFO is written
      through, never replaced by a regular file;
    * a folder, a block device or a socket is refused (``IsADirectoryError`` / ``OSError``).
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, "replace"
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        return target, "through"
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "is a block device or socket, not a file", str(path))
    return target, "replace"


@contextmanager
def atomic_writer(path: Path, mode: str = "wb", **kwargs):
    """Stream into a temporary file beside ``path``; on success fsync it, give it a normal
    file mode and rename it into place.  On any error (or if the process dies part way)
    the temporary file is removed and ``path`` still holds its previous content.

    Special files are respected (see :func:`_write_target`): a symlink's target is replaced,
    a character device or FIFO is written through, a folder is refused."""
    path, how = _write_target(Path(path))
    if how == "through":
        with open(path, mode.replace("x", "w"), **kwargs) as fh:
            yield fh
            fh.flush()  # /dev/full: "No space left on device" here, not a false success
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    file_mode = _file_mode(path)
    sweep_stale_temps(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if os.name != "nt":
            os.chmod(tmp, file_mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


@contextmanager
def atomic_file(path: Path, suffix: str = ".tmp"):
    """Yield a temporary path beside ``path`` (not yet created: GDAL drivers create their
    files themselves); when the block succeeds it is fsynced, given a normal file mode and
    renamed over ``path``; when it fails it is removed (with any ``-journal``/``-wal``
    left by SQLite) and ``path`` is untouched.

    Special files as in :func:`atomic_writer`: through a symlink the target is replaced; a
    character device or FIFO gets the finished file's bytes written through; a folder is
    refused."""
    path, how = _write_target(Path(path))
    if how == "through":
        with tempfile.TemporaryDirectory(prefix=".icbmap-") as folder:
            tmp = Path(folder) / f"out{suffix}"
            yield tmp
            with open(tmp, "rb") as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _file_mode(path)
    sweep_stale_temps(path.parent, path.stem)
    fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(path.stem), suffix=suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp_name)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if os.name != "nt":
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            try:
                leftover.unlink()
            except OSError:
                pass
        raise


# ---------------------------------------------------------------- stale temporary files
#: A temporary file is ``.<target>.<pid>~<random><suffix>``: the owner's pid is in the name.
_TEMP_RE = re.compile(r"\.(?P<target>.+)\.(?P<pid>\d+)~[A-Za-z0-9_]+"
                      r"(?P<suffix>\.tmp|\.gpkg(-journal|-wal|-shm)?)")
#: Before the pid was in the name: ``.<target>.<random><suffix>`` (swept in icbmap's own folders).
_LEGACY_TEMP_RE = re.compile(r"\.(?P<target>.+)\.[A-Za-z0-9_]{8}(?P<suffix>\.tmp|\.gpkg(-journal|-wal|-shm)?)")
STALE_AFTER = 24 * 3600.0


def _temp_prefix(target_name: str) -> str:
    return f".{target_name}.{os.getpid()}~"


def sweep_stale_temps(folder: Path, target: str | None = None, legacy: bool = False,
                      now: float | None = None) -> list[Path]:
    """Remove temporary files a killed write left in ``folder``: older than a day and with a
    dead owner (the pid in the name).  ``target`` limits it to one target's leftovers;
    ``legacy`` also removes old-style names (no pid) older than a day.  Returns what was
    removed; never raises."""
    import time

    from icbmap.procs import pid_alive

    removed: list[Path] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith("."):
            continue
        m = _TEMP_RE.fullmatch(name)
        if m is None and legacy:
            m = _LEGACY_TEMP_RE.fullmatch(name)
        if m is None or (target is not None and m.group("target") != target):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < STALE_AFTER:
                continue
            pid = m.groupdict().get("pid")
            if pid is not None and int(pid) != os.getpid() and pid_alive(int(pid)):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except (OSError, ValueError):
            continue
    return removed
