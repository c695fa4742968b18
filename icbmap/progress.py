"""Progress reporting and cancellation for long work, free of Qt.

Long work (pack builds, imports, exports, downloads) takes a ``Progress`` and calls
``step(fraction, message)``.  The GUI adapts it to a progress dialog from a worker thread;
the CLI prints to stderr; tests pass ``Progress.silent()`` or cancel it on purpose.
"""

from __future__ import annotations

import sys
import threading
from typing import Callable

from icbmap.errors import Cancelled

Callback = Callable[[float, str], None]


class Progress:
    def __init__(self, callback: Callback | None = None, what: str = "operation"):
        self._callback = callback
        self._cancel = threading.Event()
        self.what = what
        self.fraction = 0.0
        self.message = ""

    @classmethod
    def silent(cls) -> "Progress":
        return cls(None)

    @classmethod
    def stderr(cls, what: str = "operation") -> "Progress":
        def show(fraction: float, message: str) -> None:
            print(f"[{fraction * 100:5.1f}%] {message}", file=sys.stderr, flush=True)

        return cls(show, what)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the user asked to stop."""
        if self._cancel.is_set():
            raise Cancelled(self.what)

    def step(self, fraction: float, message: str) -> None:
        self.check()
        self.fraction = max(0.0, min(1.0, fraction))
        self.message = message
        if self._callback is not None:
            self._callback(self.fraction, message)

    def sub(self, start: float, end: float) -> "Progress":
        """A child reporter mapping its 0..1 onto ``start..end`` of this one."""
        parent = self

        def forward(fraction: float, message: str) -> None:
            parent.step(start + (end - start) * fraction, message)

        child = Progress(forward, self.what)
        child._cancel = self._cancel
        return child
