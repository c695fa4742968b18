"""Extension points of the atlas layer.

The atlas layer imports nothing above itself (``icbmap.practices``, ``plan``, ``metrics``,
``export``, ``app``, ``cli``). Where it needs them, a higher package registers a function here
and the atlas calls it. GP practices (:mod:`icbmap.practices`) register:

* an *on-load* hook: :func:`icbmap.atlas.store.load_atlas` runs it to put the practices stored
  for the pack back on the atlas (before reference geographies and trusts are attached);
* a *practices attacher*: a function returning ``attach_practices``, used by the pack builders
  (:mod:`icbmap.atlas.official`, :mod:`icbmap.atlas.bundle`).

NHS trusts (:mod:`icbmap.trusts`) register an *on-load* hook too, after the practices'.

The wiring is done once, when ``icbmap`` itself is imported (``icbmap/__init__.py``), so every
caller of the atlas gets it. This module imports nothing.
"""

from __future__ import annotations

from typing import Callable

_on_load: list[Callable] = []
_practices_attacher: Callable | None = None


def on_load(hook: Callable) -> Callable:
    """Register ``hook(atlas)`` to run on every atlas :func:`~icbmap.atlas.store.load_atlas`
    reads (once, however often it is registered); returns it, so it can decorate."""
    if hook not in _on_load:
        _on_load.append(hook)
    return hook


def run_on_load(atlas) -> None:
    for hook in list(_on_load):
        hook(atlas)


def set_practices_attacher(getter: Callable[[], Callable]) -> None:
    """Register ``getter()``, which returns ``attach_practices(atlas, registrations, map)``
    (it may raise :class:`ImportError` when the practices code cannot be loaded)."""
    global _practices_attacher
    _practices_attacher = getter


def practices_attacher() -> Callable:
    """``attach_practices`` as registered; :class:`ImportError` when nothing registered it."""
    if _practices_attacher is None:
        raise ImportError("no GP practices package registered with icbmap.atlas.hooks")
    return _practices_attacher()
