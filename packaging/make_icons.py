"""Draw the icbmap app icon and rasterise it with Qt.

    python packaging/make_icons.py

Writes ``resources/icons/``:

* ``icbmap.svg``: the icon (an original drawing, not a map: a rough England silhouette cut
  into a few "boards" by a Voronoi diagram of fixed seeds, on a rounded square);
* ``icbmap.png`` (256 px), ``icbmap-16.png`` ... ``icbmap-512.png`` (window icons);
* ``icbmap.ico`` (Windows: 16-256 px, PNG-compressed entries);
* ``icbmap.icns`` (macOS: 16-512 px PNG entries).

Deterministic: the same inputs give the same bytes.  The outputs are committed; rerun after
changing the drawing.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

import shapely
from shapely.geometry import MultiPoint, Polygon

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "icons"

#: a rough, hand-drawn outline of England (x right, y down, in a 100 x 100 box)
ENGLAND = [
    (62, 2), (66, 13), (70, 21), (76, 26), (84, 34), (87, 42), (85, 47), (88, 51), (83, 54),
    (89, 53), (99, 57), (100, 63), (97, 69), (92, 74), (89, 77), (96, 80), (98, 86), (93, 90),
    (80, 92), (66, 93), (55, 95), (44, 96), (36, 99), (20, 101), (17, 98), (27, 91), (37, 85),
    (47, 80), (50, 76), (47, 70), (44, 63), (47, 56), (46, 50), (44, 45), (47, 40), (45, 33),
    (38, 25), (44, 17), (47, 12), (55, 7),
]
#: board seeds: a handful of cells, coloured in turn from the palette
SEEDS = [(58, 16), (76, 36), (56, 38), (88, 62), (66, 58), (80, 82), (56, 80), (32, 92), (52, 62)]
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f"]
BACKGROUND = "#17324d"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _path(poly: Polygon) -> str:
    def ring(coords) -> str:
        pts = list(coords)[:-1]
        return "M" + " L".join(f"{x:.2f},{y:.2f}" for x, y in pts) + " Z"

    return " ".join([ring(poly.exterior.coords)] + [ring(r.coords) for r in poly.interiors])


def make_svg() -> str:
    """The icon as SVG (256 x 256 viewBox)."""
    # England scaled into the tile with a margin; taller than wide, so centre horizontally
    scale, ox, oy = 2.0, 128 - 2.0 * 58.5, 26
    outline = shapely.affinity.affine_transform(Polygon(ENGLAND), [scale, 0, 0, scale, ox, oy])
    outline = outline.buffer(0)
    seeds = MultiPoint([(x * scale + ox, y * scale + oy) for x, y in SEEDS])
    cells = shapely.voronoi_polygons(seeds, extend_to=outline.envelope.buffer(50))
    # order cells by their seed so colours are stable
    by_seed = []
    for k, s in enumerate(seeds.geoms):
        for c in cells.geoms:
            if c.contains(s):
                by_seed.append((k, c))
                break
    parts = []
    for k, cell in by_seed:
        piece = cell.intersection(outline)
        polys = [piece] if piece.geom_type == "Polygon" else [g for g in getattr(piece, "geoms", [])
                                                               if g.geom_type == "Polygon"]
        for p in polys:
            if p.area > 1:
                parts.append(f'  <path d="{_path(p)}" fill="{PALETTE[k % len(PALETTE)]}"/>')
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="256" height="256" viewBox="0 0 256 256">',
        "  <title>icbmap</title>",
        f'  <rect x="8" y="8" width="240" height="240" rx="44" ry="44" fill="{BACKGROUND}"/>',
        '  <g stroke="#ffffff" stroke-width="3" stroke-linejoin="round">',
        *("  " + p for p in parts),
        "  </g>",
        f'  <path d="{_path(outline)}" fill="none" stroke="#ffffff" stroke-width="4" stroke-linejoin="round"/>',
        "</svg>",
        "",
    ])


def render_pngs(svg: bytes) -> dict[int, bytes]:
    """PNG bytes of the icon at each size, rendered by QSvgRenderer."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise SystemExit("make_icons: Qt could not parse the SVG")
    out = {}
    for size in SIZES:
        img = QImage(size, size, QImage.Format.Format_ARGB32)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        renderer.render(p)
        p.end()
        ba = QByteArray()
        buf = QBuffer(ba)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        img.save(buf, "PNG")
        buf.close()
        out[size] = bytes(ba)
    return out


def ico_bytes(pngs: dict[int, bytes], sizes=(16, 24, 32, 48, 64, 128, 256)) -> bytes:
    """A Windows .ico holding PNG-compressed images (Windows Vista and later)."""
    head = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        data = pngs[s]
        w = 0 if s >= 256 else s
        entries += struct.pack("<BBBBHHII", w, w, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    return head + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns holding PNG images."""
    types = [(b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256),
             (b"ic09", 512), (b"ic11", 32), (b"ic12", 64), (b"ic13", 256), (b"ic14", 512)]
    body = b"".join(t + struct.pack(">I", 8 + len(pngs[s])) + pngs[s] for t, s in types)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    svg = make_svg()
    (OUT / "icbmap.svg").write_text(svg, encoding="utf-8")
    pngs = render_pngs(svg.encode("utf-8"))
    (OUT / "icbmap.png").write_bytes(pngs[256])
    for s in (16, 32, 48, 64, 128, 512):
        (OUT / f"icbmap-{s}.png").write_bytes(pngs[s])
    (OUT / "icbmap.ico").write_bytes(ico_bytes(pngs))
    (OUT / "icbmap.icns").write_bytes(icns_bytes(pngs))
    for p in sorted(OUT.glob("icbmap*")):
        print(f"{p.relative_to(ROOT)}  {p.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
