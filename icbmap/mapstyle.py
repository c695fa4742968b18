"""How icbmap draws its map (Qt-free), shared by the app and the styled GeoPackage export."""

from __future__ import annotations

OUTLINE_STYLE = {
    # level: (colour, width px, dash pattern in pen widths or None)
    "region": ("#1b1b1b", 2.6, None),
    "ca": ("#6a1b9a", 2.0, [4.0, 2.5]),
    "council": ("#303030", 1.3, None),
    "district": ("#5a5a5a", 0.6, None),
}

#: Board fills: the board's colour at this opacity, edged with a thin white line.
BOARD_FILL_OPACITY = 0.85
BOARD_EDGE = ("#ffffff", 1.0)
#: LSOA boundaries (drawn only when zoomed in): colour with alpha, width px.
UNIT_LINE = ((60, 60, 60, 120), 0.5)
