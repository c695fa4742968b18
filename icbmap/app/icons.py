"""Icons that stay crisp at any display scaling: SVG files from ``resources/icons/ui`` and
board colour swatches drawn at every common device pixel ratio (1, 1.25, 1.5, 2, 3)."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtSvg import QSvgRenderer

from icbmap.paths import resources_dir

#: device pixel ratios a swatch is drawn for
RATIOS = (1.0, 1.25, 1.5, 2.0, 3.0)


def icon_path(name: str) -> str:
    return str(resources_dir() / "icons" / "ui" / f"{name}.svg")


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The SVG icon ``name`` (rendered by Qt's SVG icon engine at the size asked for)."""
    return QIcon(icon_path(name))


@lru_cache(maxsize=None)
def _renderer(name: str) -> QSvgRenderer:
    return QSvgRenderer(icon_path(name))


def swatch(colour: str, size: int = 14, locked: bool = False) -> QIcon:
    """A board's colour square (with a padlock when ``locked``), sharp at every scaling."""
    return _swatch(str(colour), int(size), bool(locked))


@lru_cache(maxsize=512)
def _swatch(colour: str, size: int, locked: bool) -> QIcon:
    out = QIcon()
    width = size * 2 if locked else size
    for ratio in RATIOS:
        pix = QPixmap(round(width * ratio), round(size * ratio))
        pix.setDevicePixelRatio(ratio)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor("#333333"), 1.0))
        p.setBrush(QColor(colour))
        p.drawRect(QRectF(0.5, 0.5, size - 1.0, size - 1.0))
        if locked:
            _renderer("lock").render(p, QRectF(size + 1, 0, size - 1, size))
        p.end()
        out.addPixmap(pix)
    return out
