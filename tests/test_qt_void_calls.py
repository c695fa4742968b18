"""Regression: PySide6 6.12.0 crashed (``none_dealloc``) after many calls of methods that
return nothing, such as ``QPainterPath.lineTo`` and ``QPolygonF.append``.  icbmap pins
PySide6 below 6.12; this test makes such calls in bulk so a bad wheel fails here, not in a
planner's hands."""

import PySide6
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath, QPolygonF


def test_pyside_version_is_pinned_below_6_12():
    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (major, minor) < (6, 12), PySide6.__version__


def test_bulk_void_calls_do_not_crash():
    path = QPainterPath()
    path.moveTo(-1.0, -1.0)
    poly = QPolygonF()
    n = 300_000
    for i in range(n):
        path.lineTo(float(i % 1000), float(i // 1000))
        poly.append(QPointF(float(i), 1.0))
    assert path.elementCount() == n + 1  # the moveTo plus every lineTo
    assert poly.size() == n
    assert poly.at(n - 1) == QPointF(float(n - 1), 1.0)
