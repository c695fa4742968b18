"""Errors a planner can read: each names the file and the problem."""

from __future__ import annotations

from pathlib import Path


class IcbmapError(Exception):
    """Base class for errors shown to the user as a message, never a traceback."""


class DataError(IcbmapError):
    """A data file could not be used.  ``str()`` names the file and the problem."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class Cancelled(IcbmapError):
    """Long work stopped because the user pressed Cancel."""

    def __init__(self, what: str = "operation"):
        super().__init__(f"{what} cancelled")
