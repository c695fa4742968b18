"""Autosave and crash recovery (Qt-free).

Each running session owns three files in ``data_dir()/autosave/``, named by a session id
``<pid>-<start time>``:

* ``<id>.lock``: held open with an exclusive OS lock (``flock`` on POSIX, ``msvcrt`` on
  Windows) for the life of the session.  The OS drops the lock when the process dies,
  however it dies (SIGKILL, power cut), so a lock that can be taken belongs to a dead
  session even if its pid has since been reused.  Where locks are unavailable the pid
  recorded in the marker is checked instead;
* ``<id>.session.json``: the marker: pid, host, start time, the time of the last
  autosave, the proposal's title and the file it was opened from;
* ``<id>.icbmap.json``: the latest autosave, an ordinary proposal file written
  atomically (temporary file, fsync, rename), so it is always a complete earlier state.

The app calls :meth:`Autosaver.edited` after every edit (every ``every`` edits the
proposal is saved; with ``background=True`` the JSON is written by a worker thread after
the plan has been serialised on the caller's thread), :meth:`Autosaver.save_now` when it
wants a save (e.g. on a timer), and :meth:`Autosaver.close` on a clean exit, which removes
the session's files.  At start-up :func:`find_recoverable` lists the autosaves left by
sessions that did not exit cleanly, newest first; :meth:`Recoverable.load` opens one and
:meth:`Recoverable.discard` deletes it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from icbmap.atomic import atomic_write_text
from icbmap.errors import DataError
from icbmap.paths import data_dir
from icbmap.plan.proposal import (
    Proposal, ProposalError, _iso, proposal_json, read_proposal, utc_now,
)
from icbmap.procs import pid_alive
from icbmap.safeio import loads_json, read_input

DEFAULT_EVERY = 5


def autosave_dir() -> Path:
    p = data_dir() / "autosave"
    p.mkdir(parents=True, exist_ok=True)
    return p


# ------------------------------------------------------------------ OS locks
class _FileLock:
    """An exclusive, non-blocking lock on a file, released by the OS when the process dies."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = None

    def acquire(self) -> bool | None:
        """True if taken, False if another process (or handle) holds it, None if unsupported."""
        fh = open(self.path, "a+b")
        try:
            if os.name == "nt":  # pragma: no cover - exercised on Windows only
                import msvcrt

                fh.seek(0)
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
                except OSError:
                    fh.close()
                    return False
            else:
                try:
                    import fcntl
                except ImportError:  # pragma: no cover
                    fh.close()
                    return None
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    fh.close()
                    return False
        except BaseException:
            fh.close()
            raise
        self._fh = fh
        return True

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            if os.name == "nt":  # pragma: no cover
                import msvcrt

                fh.seek(0)
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
                except OSError:
                    pass
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        finally:
            fh.close()

    @property
    def held(self) -> bool:
        return self._fh is not None


def _session_dead(marker: dict, lock_path: Path) -> bool:
    """True when the session that wrote ``marker`` is no longer running."""
    if lock_path.exists():
        probe = _FileLock(lock_path)
        got = probe.acquire()
        if got is True:
            probe.release()
            return True
        if got is False:
            return False
    pid = marker.get("pid")
    host = marker.get("host")
    if host and host != socket.gethostname():
        # another machine's session (shared home folder): only trust its lock
        return not lock_path.exists()
    return not (isinstance(pid, int) and pid_alive(pid))


# ------------------------------------------------------------------ recovery
@dataclass
class Recoverable:
    """An autosave left behind by a session that did not exit cleanly."""

    session: str
    path: Path
    marker_path: Path
    lock_path: Path
    pid: int | None
    started: datetime | None
    saved_at: datetime
    title: str
    source_path: str | None
    edits: int
    workspace: str | None = None    # options saved by one app session share this id
    option: int = 0                 # the option's place in that workspace

    def describe(self) -> str:
        local = self.saved_at.astimezone()
        what = self.title or (Path(self.source_path).name if self.source_path else "Untitled proposal")
        return f"{what}, autosaved {local:%d %b %Y %H:%M:%S}"

    def load(self, atlas, map_pack: bool = False) -> Proposal:
        """The recovered proposal (its ``path`` is the file it came from, if any)."""
        proposal = read_proposal(self.path, atlas, map_pack=map_pack)
        proposal.path = Path(self.source_path) if self.source_path else None
        return proposal

    def discard(self) -> None:
        for p in (self.path, self.marker_path, self.lock_path):
            try:
                p.unlink()
            except FileNotFoundError:
                pass


def _parse_dt(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def find_recoverable(directory: str | Path | None = None, exclude: str | None = None,
                     clean_stale: bool = True) -> list[Recoverable]:
    """Autosaves of sessions that are no longer running, newest first.

    A dead session's marker without an autosave (it crashed before its first autosave)
    holds nothing to recover; with ``clean_stale`` its files are removed.  Sessions still
    running (another window of the app) are left alone.
    """
    folder = Path(directory) if directory is not None else autosave_dir()
    if not folder.exists():
        return []
    out: list[Recoverable] = []
    for marker_path in folder.glob("*.session.json"):
        session = marker_path.name[: -len(".session.json")]
        if session == exclude:
            continue
        lock_path = folder / f"{session}.lock"
        save_path = folder / f"{session}.icbmap.json"
        try:
            marker = loads_json(read_input(marker_path, "session marker", 1 << 20), marker_path)
            if not isinstance(marker, dict):
                raise ValueError("marker is not an object")
        except (DataError, ValueError):
            marker = {}
        if not _session_dead(marker, lock_path):
            continue
        if not save_path.exists():
            if clean_stale:
                for p in (marker_path, lock_path):
                    try:
                        p.unlink()
                    except OSError:
                        pass
            continue
        saved_at = _parse_dt(marker.get("last_autosave"))
        if saved_at is None:
            saved_at = datetime.fromtimestamp(save_path.stat().st_mtime, timezone.utc)
        pid = marker.get("pid")
        out.append(Recoverable(
            session=session, path=save_path, marker_path=marker_path, lock_path=lock_path,
            pid=pid if isinstance(pid, int) else None, started=_parse_dt(marker.get("started")),
            saved_at=saved_at, title=str(marker.get("title") or ""),
            source_path=marker.get("source_path") if isinstance(marker.get("source_path"), str) else None,
            edits=int(marker.get("edits") or 0) if isinstance(marker.get("edits"), int) else 0,
            workspace=marker.get("workspace") if isinstance(marker.get("workspace"), str) else None,
            option=marker.get("option") if isinstance(marker.get("option"), int) else 0,
        ))
    out.sort(key=lambda r: r.saved_at, reverse=True)
    return out


def discard(recoverable: Recoverable) -> None:
    recoverable.discard()


# ------------------------------------------------------------------ the autosaver
class Autosaver:
    """Saves the current proposal every ``every`` edits (or on demand) for crash recovery."""

    def __init__(self, every: int = DEFAULT_EVERY, directory: str | Path | None = None,
                 background: bool = False):
        if every < 1:
            raise ValueError("every must be at least 1")
        self.every = every
        self.directory = Path(directory) if directory is not None else autosave_dir()
        self.background = background
        self.session = f"{os.getpid()}-{int(time.time() * 1000):x}"
        self.path = self.directory / f"{self.session}.icbmap.json"
        self.marker_path = self.directory / f"{self.session}.session.json"
        self.lock_path = self.directory / f"{self.session}.lock"
        self.started = utc_now()
        self.pending_edits = 0
        self.total_edits = 0
        self.saves = 0
        self.last_saved: datetime | None = None
        self.last_error: Exception | None = None
        self._lock = _FileLock(self.lock_path)
        self._write_lock = threading.Lock()
        self._cond = threading.Condition()
        self._queued: tuple[str, dict] | None = None
        self._worker: threading.Thread | None = None
        self._closed = False
        self._started = False
        self.marker_extra: dict = {}    # written into the marker with each save (workspace, option)

    # -------------------------------------------------------------- lifecycle
    def start(self) -> "Autosaver":
        """Create the session marker and take the session lock (idempotent)."""
        if self._started:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        self._write_marker({})
        self._started = True
        return self

    def __enter__(self) -> "Autosaver":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def close(self) -> None:
        """Clean exit: wait for pending writes, then remove this session's files."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        with self._cond:
            self._cond.notify_all()
        for p in (self.path, self.marker_path):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        self._lock.release()
        try:
            self.lock_path.unlink()
        except FileNotFoundError:
            pass

    def keep(self, proposal: Proposal | None = None) -> None:
        """Exit, keeping this session's autosave for the next start (the user chose *Keep* on
        quit, issue 21): ``proposal`` is autosaved first, then the lock is released and the
        files stay, so :func:`find_recoverable` offers them."""
        if self._closed:
            return
        if proposal is not None:
            self.save_now(proposal)
        self.flush()
        self._closed = True
        with self._cond:
            self._cond.notify_all()
        self._lock.release()

    # -------------------------------------------------------------- saving
    def edited(self, proposal: Proposal, n: int = 1) -> bool:
        """Count ``n`` edits; saves (and returns True) once ``every`` have accumulated."""
        self.pending_edits += n
        self.total_edits += n
        if self.pending_edits >= self.every:
            self.save_now(proposal)
            return True
        return False

    def save_now(self, proposal: Proposal, source_path: str | Path | None = None) -> None:
        """Autosave ``proposal`` now (serialised here; written here or by the worker)."""
        if self._closed:
            raise RuntimeError("autosaver is closed")
        self.start()
        text = proposal_json(proposal)
        src = source_path if source_path is not None else proposal.path
        info = {"title": proposal.title, "source_path": str(src) if src else None,
                "edits": self.total_edits, **self.marker_extra}
        self.pending_edits = 0
        if not self.background:
            self._write(text, info)
            return
        with self._cond:
            self._queued = (text, info)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="icbmap-autosave", daemon=True)
                self._worker.start()
            self._cond.notify_all()

    def flush(self, timeout: float | None = 30.0) -> None:
        """Wait until any queued background save has been written."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queued is not None and self._worker is not None and self._worker.is_alive():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
        with self._write_lock:
            pass

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._queued is None and not self._closed:
                    self._cond.wait(1.0)
                if self._queued is None:
                    return
                text, info = self._queued
                self._write_lock.acquire()
                self._queued = None
            try:
                self._write(text, info, locked=True)
            finally:
                self._write_lock.release()
                with self._cond:
                    self._cond.notify_all()

    def _write(self, text: str, info: dict, locked: bool = False) -> None:
        if not locked:
            self._write_lock.acquire()
        try:
            atomic_write_text(self.path, text)
            saved = utc_now()
            self._write_marker({**info, "last_autosave": _iso(saved)})
            self.last_saved = saved
            self.saves += 1
            self.last_error = None
        except OSError as exc:
            # an autosave failure must never take the user's work down with it
            self.last_error = exc
            print(f"icbmap: autosave failed: {exc}", file=sys.stderr)
        finally:
            if not locked:
                self._write_lock.release()

    def _write_marker(self, info: dict) -> None:
        marker = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _iso(self.started),
            "session": self.session,
            **info,
        }
        atomic_write_text(self.marker_path, json.dumps(marker, indent=1, allow_nan=False))

    def discard_current(self) -> None:
        """Forget the current autosave (e.g. after the user saved); the session stays open."""
        with self._write_lock:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            self.pending_edits = 0
            if self._started:
                self._write_marker({})


__all__ = ["Autosaver", "Recoverable", "autosave_dir", "discard", "find_recoverable", "pid_alive",
           "ProposalError"]
