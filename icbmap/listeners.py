"""Listener lists for the model's observers (Qt-free): the metrics engine and the principles
checker tell their views what changed through the same small mechanism."""

from __future__ import annotations

from typing import Callable


class Listeners:
    """``add_listener`` / ``remove_listener`` and ``_emit`` over a list of callables."""

    _listeners: list[Callable]

    def add_listener(self, fn: Callable) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)
