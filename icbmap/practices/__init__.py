"""GP practices as a layer of the atlas (Qt-free).

* :mod:`~icbmap.practices.readers`: the NHS Digital / NHS England practice files;
* :mod:`~icbmap.practices.place`: postcode -> grid reference -> LSOA;
* :mod:`~icbmap.practices.attach`: :func:`attach_practices` sets ``atlas.practices``;
* :mod:`~icbmap.practices.store`: practices attached to a pack, kept in the data folder;
* :mod:`~icbmap.practices.population`: registered-population helpers for metrics;
* :mod:`~icbmap.practices.cli`: ``icbmap data practices FILE [--map F] [--lsoa F]``.

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
