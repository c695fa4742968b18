"""The practices table of the atlas: defined in :mod:`icbmap.atlas.practices_table` (the pack
reader needs it, and the atlas layer imports nothing above itself); re-exported here."""

from icbmap.atlas.practices_table import (  # noqa: F401
    PRACTICE_COLUMNS,
    conform,
    empty_practices,
    extract_label,
    follow_units,
)

__all__ = ["PRACTICE_COLUMNS", "conform", "empty_practices", "extract_label", "follow_units"]
