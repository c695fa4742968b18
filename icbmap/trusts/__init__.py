"""NHS trusts placed by headquarters postcode, acute trusts told apart (Qt-free).

Headquarters are not catchments.  See :mod:`icbmap.trusts.table` for the sources and rules.
"""


def register_with_atlas() -> None:
    """Attach the NHS trusts to every atlas :func:`icbmap.atlas.store.load_atlas` reads (the
    atlas layer imports nothing above itself; it calls this through :mod:`icbmap.atlas.hooks`)."""
    from icbmap.atlas import hooks

    hooks.on_load(_attach_trusts)


def _attach_trusts(atlas) -> None:
    from icbmap.trusts.store import attach_trusts

    attach_trusts(atlas)
