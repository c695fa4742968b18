"""GP practices as a layer of the atlas (Qt-free).

* :mod:`~icbmap.practices.readers`: the NHS Digital / NHS England practice files;
* :mod:`~icbmap.practices.place`: postcode -> grid reference -> LSOA;
* :mod:`~icbmap.practices.attach`: :func:`attach_practices` sets ``atlas.practices``;
* :mod:`~icbmap.practices.store`: practices attached to a pack, kept in the data folder;
* :mod:`~icbmap.practices.population`: registered-population helpers for metrics;
* ``icbmap data practices FILE [--map F] [--lsoa F]`` is :mod:`icbmap.cli.practices`.

Imports are lazy so that ``import icbmap.practices`` stays cheap.
"""

from __future__ import annotations


def __getattr__(name: str):
    if name in ("attach_practices", "AttachReport"):
        from icbmap.practices import attach

        return getattr(attach, name)
    if name in ("load_practices_for", "save_practices_for"):
        from icbmap.practices import store

        return getattr(store, name)
    if name in ("registered_by_board",):
        from icbmap.practices import population

        return getattr(population, name)
    raise AttributeError(name)


__all__ = ["AttachReport", "attach_practices", "load_practices_for", "registered_by_board",
           "save_practices_for"]


# ------------------------------------------------------------ registered with the atlas layer
# The atlas imports nothing above itself; it calls these through icbmap.atlas.hooks
# (wired when ``icbmap`` is imported, see icbmap/__init__.py). Both import lazily.
def _attach_stored_practices(atlas) -> None:
    """On every :func:`icbmap.atlas.store.load_atlas`: the practices attached to the pack."""
    from icbmap.practices.store import load_practices_for

    load_practices_for(atlas)


def _attach_function():
    from icbmap.practices.attach import attach_practices

    return attach_practices


def register_with_atlas() -> None:
    from icbmap.atlas import hooks

    hooks.on_load(_attach_stored_practices)
    hooks.set_practices_attacher(_attach_function)
