"""The comparison dock and the difference map.

* :class:`ComparisonPanel`: rows are the comparison figures (:mod:`icbmap.compare.core`,
  read from each option's live metrics), columns are the options.  The best value in a row
  is bold on green; clicking a row's header sorts the options on it (again: the other
  way); clicking an option's header makes it current.  A focus (England, a region, or
  boards / places by code or name) limits the figures; per-board rows for the focus sit
  beneath.
* :class:`DifferencePanel`: the moves between any two options grouped by place and by
  district; clicking a move zooms the map to it and selects it.  The map shows the moved
  units hatched in the colour of the board they go to (:class:`DiffLayer`), and a second
  map in a dock shows the other option with pan and zoom linked to the main map.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDockWidget, QHBoxLayout, QLabel,
                               QTableWidget, QTableWidgetItem, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from icbmap.app.map import geomqt
from icbmap.app.map.layers import _Layer
from icbmap.atlas.geometry import dissolve_units
from icbmap.compare.core import compare
from icbmap.compare.focus import FocusError, resolve_focus
from icbmap.compare.moves import diff_plans
from icbmap.names import format_population, short_board_name

BEST_BG = QColor("#cdebd0")

#: short row names for a docked table on a laptop (issue 22); the full name and its
#: definition are in the row's tooltip
SHORT_ROWS = {
    "smallest": "Smallest",
    "largest": "Largest",
    "ratio": "Largest / smallest",
    "below_floor": "Below 500k",
    "below_minimum": "Below 1m",
    "above_maximum": "Above 3m",
    "councils_split": "Councils split",
    "districts_split": "Districts split",
    "cas_split": "CAs split",
    "councils_multi": "Councils shared",
    "cas_multi": "CAs shared",
    "councils_max": "Most councils",
    "councils_mean": "Mean councils",
    "multi_region": "Cross-region",
    "non_contiguous": "In pieces",
    "registered": "Registered patients",
    "boundary_change": "Boundary change",
    "boundary_lsoas": "Boundary LSOAs",
    "merges": "Merges",
    "people_moved": "Moved (1:1 match)",
    "lsoas_moved": "LSOAs moved (1:1)",
}
ROW_NAME_CHARS = 22


def short_row_name(row) -> str:
    """The row's name in at most ``ROW_NAME_CHARS`` characters: a known short form, or the
    name cut at a word with an ellipsis ("Principle: " becomes "P: ")."""
    name = SHORT_ROWS.get(row.key)
    if name:
        return name
    label = row.label
    if label.startswith("Principle: "):
        label = "P: " + label[len("Principle: "):]
    if len(label) <= ROW_NAME_CHARS:
        return label
    cut = label[:ROW_NAME_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:(")
    return cut + "\u2026"


class ComparisonPanel(QWidget):
    def __init__(self, manager):
        super().__init__()
        self.m = manager
        self.w = manager.w
        self._focus = resolve_focus(self.w.atlas, None)
        self._sort: tuple[str, bool] | None = None
        self.last_ms = 0.0
        self.cmp = None
        self.order: list[int] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        top.addWidget(QLabel("Focus:"))
        self.focus_box = QComboBox()
        self.focus_box.setEditable(True)
        self.focus_box.addItem("England")
        for name in self.w.atlas.layers["region"].table["name"].astype(str):
            self.focus_box.addItem(name)
        self.focus_box.setToolTip("England, an NHS region, or boards / places (codes or names) separated by commas")
        self.focus_box.setMinimumWidth(260)
        self.focus_box.activated.connect(lambda _i: self.set_focus(self.focus_box.currentText()))
        self.focus_box.lineEdit().returnPressed.connect(lambda: self.set_focus(self.focus_box.currentText()))
        top.addWidget(self.focus_box)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        top.addWidget(self.note, 1)
        lay.addLayout(top)
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().sectionClicked.connect(self._sort_on_row)
        self.table.horizontalHeader().sectionClicked.connect(self._column_clicked)
        self.table.setWordWrap(True)
        vh = self.table.verticalHeader()
        vh.setMaximumWidth(180)                      # short row names; the tooltip has the full one
        vh.setTextElideMode(Qt.TextElideMode.ElideRight)
        hh = self.table.horizontalHeader()
        hh.setTextElideMode(Qt.TextElideMode.ElideMiddle)   # option names: both ends stay readable
        hh.setMinimumSectionSize(70)
        self.table.setToolTip("Bold on green: the best value in the row. Click a row's name to sort the "
                              "options on it; click an option's name to make it current.")
        lay.addWidget(self.table)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self.refresh)
        manager.optionsChanged.connect(self.schedule)
        principles = getattr(self.w, "principles", None)
        if principles is not None and hasattr(principles, "rulesChanged"):
            principles.rulesChanged.connect(self.schedule)
        manager.currentChanged.connect(lambda _i: self.schedule())
        self.w.controller.edited.connect(self.schedule)

    def focus(self):
        return self._focus

    def set_focus(self, spec: str) -> bool:
        try:
            self._focus = resolve_focus(self.w.atlas, spec)
        except FocusError as exc:
            self.note.setText(f"<span style='color:#b00020'>{exc}</span>")
            return False
        self.note.setText("")
        if self.focus_box.currentText() != spec:
            self.focus_box.setEditText(spec)
        self.refresh()
        self.m.differences.refresh()
        return True

    def schedule(self) -> None:
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        t0 = time.perf_counter()
        options = [o.core() for o in self.m.options]
        principles = getattr(self.w, "principles", None)     # a row per rule of the rule set in use
        rules = getattr(principles, "ruleset", None)
        self.cmp = cmp = compare(options, self._focus, baseline=options[0], rules=rules)
        n = len(options)
        order = list(range(n))
        if self._sort is not None:
            key, reverse = self._sort
            try:
                row = cmp.row(key)
                def sk(i):
                    v = row.values[i]
                    v = v[0] if isinstance(v, tuple) else v
                    return (v is None, v if v is not None else 0)
                order.sort(key=sk, reverse=reverse)
            except KeyError:
                pass
        self.order = order
        max_boards = max((len(b) for b in cmp.boards), default=0)
        t = self.table
        t.clear()
        t.setColumnCount(n)
        t.setRowCount(len(cmp.rows) + 1 + max_boards)
        for c, i in enumerate(order):
            o = self.m.options[i]
            mark = "\u25b6 " if i == self.m.current else ""
            head = QTableWidgetItem(mark + o.name)
            head.setToolTip(f"{o.name}: click to make it the current option")
            t.setHorizontalHeaderItem(c, head)
        bold = QFont(t.font())
        bold.setBold(True)
        for r, row in enumerate(cmp.rows):
            arrow = ""
            if self._sort and self._sort[0] == row.key:
                arrow = " \u25bc" if self._sort[1] else " \u25b2"
            h = QTableWidgetItem(short_row_name(row) + arrow)
            h.setToolTip(row.label + (f"\n{row.note}" if row.note else "")
                         + "\nClick to sort the options on this row")
            t.setVerticalHeaderItem(r, h)
            for c, i in enumerate(order):
                item = QTableWidgetItem(row.texts[i])
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if i in row.best:
                    item.setFont(bold)
                    item.setBackground(BEST_BG)
                    item.setToolTip("best in this row")
                t.setItem(r, c, item)
        base = len(cmp.rows)
        head = QTableWidgetItem(f"Boards in {self._focus.label}")
        head.setToolTip(f"The boards in the focus ({self._focus.label}) in each option")
        t.setVerticalHeaderItem(base, head)
        for k in range(max_boards):
            t.setVerticalHeaderItem(base + 1 + k, QTableWidgetItem(f"  Board {k + 1}"))
            for c, i in enumerate(order):
                boards = cmp.boards[i]
                if k < len(boards):
                    b = boards[k]
                    item = QTableWidgetItem(f"{short_board_name(b.name)}: {format_population(b.population)}, "
                                            f"{len(b.councils_whole) + len(b.councils_part)} councils")
                    item.setToolTip(f"{b.name} ({b.code})\nCouncils whole: {', '.join(b.councils_whole) or 'none'}"
                                    f"\nCouncils in part: {', '.join(b.councils_part) or 'none'}")
                    t.setItem(base + 1 + k, c, item)
        self.fit_columns()
        self.last_ms = (time.perf_counter() - t0) * 1000

    def fit_columns(self) -> None:
        """Share the table's width between the options, so that every option's column (and
        its name) shows without scrolling while each keeps at least 70 px; long values wrap
        (issue 22: docked on a laptop only half a column showed)."""
        t = self.table
        n = t.columnCount()
        if not n:
            return
        vh = t.verticalHeader()
        vh.setMaximumWidth(max(90, min(180, int(0.34 * t.width()))))
        frame = 2 * t.frameWidth() + (t.verticalScrollBar().sizeHint().width()
                                      if t.verticalScrollBar().isVisible() else 0)
        room = t.width() - min(vh.sizeHint().width(), vh.maximumWidth()) - frame
        t.resizeColumnsToContents()
        wanted = [min(max(t.columnWidth(c), 90), 280) for c in range(n)]
        if sum(wanted) > room:
            # narrower, never so narrow that a number is cut ("62,581,…"): names wrap at
            # spaces, a word or a number keeps its width (more options than fit: they scroll)
            fm = t.fontMetrics()
            figures = len(self.cmp.rows) if self.cmp is not None else t.rowCount()   # not the board lists
            words = [max((fm.horizontalAdvance(word) for r in range(figures)
                          for word in ((t.item(r, c).text() if t.item(r, c) else "").split() or [""])),
                         default=0) + 14 for c in range(n)]
            each = max(70, room // n)
            wanted = [max(each, words[c]) for c in range(n)]
        for c, width in enumerate(wanted):
            t.setColumnWidth(c, width)
        t.resizeRowsToContents()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.table.columnCount():
            self.fit_columns()

    def _sort_on_row(self, r: int) -> None:
        if self.cmp is None or r >= len(self.cmp.rows):
            return
        row = self.cmp.rows[r]
        if self._sort and self._sort[0] == row.key:
            self._sort = (row.key, not self._sort[1])
        else:
            self._sort = (row.key, row.better == "higher")   # best first
        self.refresh()

    def _column_clicked(self, c: int) -> None:
        if 0 <= c < len(self.order):
            self.m.switch_to(self.order[c])


class DiffLayer(_Layer):
    """Units whose board differs between two options, hatched in their destination's colour."""

    def __init__(self, rect: QRectF):
        super().__init__(rect)
        self.parts: list[tuple[QPainterPath, QColor]] = []
        self.pen = QPen(QColor("#111111"), 1.8)
        self.pen.setCosmetic(True)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        exposed = option.exposedRect
        for path, colour in self.parts:
            if not path.boundingRect().intersects(exposed):
                continue
            c = QColor(colour)
            painter.fillPath(path, QColor(255, 255, 255, 150))
            brush = QBrush(c.darker(115), Qt.BrushStyle.BDiagPattern)
            brush.setTransform(painter.worldTransform().inverted()[0])   # hatch in screen pixels
            painter.fillPath(path, brush)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(self.pen)
            painter.drawPath(path)


class DifferencePanel(QWidget):
    def __init__(self, manager):
        super().__init__()
        self.m = manager
        self.w = manager.w
        self.diff = None
        self.last_ms = 0.0
        self.layer: DiffLayer | None = None
        self.side_map = None
        self.side_dock: QDockWidget | None = None
        self._linking = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.a_box, self.b_box = QComboBox(), QComboBox()
        top.addWidget(QLabel("From"))
        top.addWidget(self.a_box, 1)
        top.addWidget(QLabel("to"))
        top.addWidget(self.b_box, 1)
        self.show_map = QCheckBox("Show on map")
        self.show_map.setChecked(True)
        self.show_map.toggled.connect(lambda _c: self.refresh())
        self.side = QCheckBox("Side by side")
        self.side.setToolTip("A second map showing the 'from' option, pan and zoom linked")
        self.side.toggled.connect(self.set_side_by_side)
        lay.addLayout(top)
        checks = QHBoxLayout()   # a row of their own: beside the two lists they were cut when docked
        checks.addWidget(self.show_map)
        checks.addWidget(self.side)
        checks.addStretch(1)
        lay.addLayout(checks)
        for box in (self.a_box, self.b_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(8)
        self.summary = QLabel("")
        lay.addWidget(self.summary)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Move", "LSOAs", "People"])
        from PySide6.QtWidgets import QHeaderView

        head = self.tree.header()
        head.setStretchLastSection(False)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.setToolTip("Click a move to zoom the map to it")
        lay.addWidget(self.tree)
        self._filling = False
        self.a_box.currentIndexChanged.connect(lambda _i: self._picked())
        self.b_box.currentIndexChanged.connect(lambda _i: self._picked())
        manager.optionsChanged.connect(self._fill_boxes)
        manager.currentChanged.connect(lambda _i: self._fill_boxes())
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self.refresh)
        self.w.controller.edited.connect(lambda: self._timer.start() if self.isVisible() else None)
        self.pair = (0, manager.current)
        self._fill_boxes()

    # ------------------------------------------------------------------ choosing the pair
    def _fill_boxes(self) -> None:
        opts = self.m.options
        a, b = self.pair
        self._filling = True
        for box in (self.a_box, self.b_box):
            box.clear()
            for o in opts:
                box.addItem(o.name)
        a = a if a < len(opts) else 0
        b = self.m.current          # the main map shows the 'to' option: the current one
        self.a_box.setCurrentIndex(a)
        self.b_box.setCurrentIndex(b)
        self._filling = False
        self.pair = (a, b)
        if self.isVisible():
            self.refresh()

    def _picked(self) -> None:
        if self._filling:
            return
        self.pair = (max(self.a_box.currentIndex(), 0), max(self.b_box.currentIndex(), 0))
        if self.pair[1] != self.m.current:
            self.m.switch_to(self.pair[1])       # then the boxes refill with 'to' = current
            return
        self.refresh()

    def set_pair(self, a: int, b: int) -> None:
        """Differences from option ``a`` to option ``b`` (``b`` becomes the current option)."""
        if b != self.m.current:
            self.m.switch_to(b)
        self.pair = (a, b)
        self._filling = True
        self.a_box.setCurrentIndex(a)
        self.b_box.setCurrentIndex(b)
        self._filling = False
        self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()

    # ------------------------------------------------------------------ the difference
    def refresh(self) -> None:
        t0 = time.perf_counter()
        opts = self.m.options
        a, b = self.pair
        if not (0 <= a < len(opts) and 0 <= b < len(opts)):
            return
        A, B = opts[a], opts[b]
        focus = self.m.comparison.focus()
        within = None if focus.england else focus.units | np.isin(A.plan.assignment, _boards_in(A.plan, focus)) \
            | np.isin(B.plan.assignment, _boards_in(B.plan, focus))
        d = self.diff = diff_plans(A.plan, B.plan, A.name, B.name, within)
        self.summary.setText(f"{A.name} \u2192 {B.name}: {d.lsoas:,} LSOAs and {d.people:,} people change board"
                             + ("" if focus.england else f" (focus: {focus.label})"))
        self.tree.clear()
        for lvl, title in (("place", "By place"), ("district", "By district")):
            moves = d.by[lvl]
            top = QTreeWidgetItem([f"{title} ({len(moves)})", "", ""])
            self.tree.addTopLevelItem(top)
            for mv in moves:
                it = QTreeWidgetItem([mv.text(), f"{mv.lsoas:,}", f"{mv.people:,}"])
                it.setData(0, Qt.ItemDataRole.UserRole, mv)
                it.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
                it.setTextAlignment(2, Qt.AlignmentFlag.AlignRight)
                top.addChild(it)
            top.setExpanded(True)
        self._draw(B)
        self._update_side()
        self.last_ms = (time.perf_counter() - t0) * 1000

    def _draw(self, B) -> None:
        view = self.w.map
        if self.layer is None:
            self.layer = DiffLayer(view.fill.boundingRect())
            self.layer.setZValue(7)
            view.scene().addItem(self.layer)
        parts = []
        d = self.diff
        if self.show_map.isChecked() and d is not None and d.lsoas:
            geoms = view.shapes.geoms
            colours = {bd.id: bd.colour for bd in B.plan.boards}
            for dest in np.unique(d.to_board).tolist():
                units = d.units[d.to_board == dest]
                geom = dissolve_units(geoms, units)
                parts.append((geomqt.path_from_geometry(geom), QColor(colours.get(dest, "#888888"))))
        self.layer.parts = parts
        self.layer.update()
        view.viewport().update()

    def _clicked(self, item, _col) -> None:
        mv = item.data(0, Qt.ItemDataRole.UserRole)
        if mv is None:
            return
        self.w.map.set_selection(mv.units, np.zeros(0, np.int64))
        self.w.map.zoom_to_units(mv.units)
        self.w.statusBar().showMessage(mv.text(), 8000)

    # ------------------------------------------------------------------ side by side
    def set_side_by_side(self, on: bool) -> None:
        if on and self.side_map is None:
            from icbmap.app.map.view import MapView

            self.side_map = MapView(self.w.atlas, self.w)
            self.side_map.setToolTip("The 'from' option; pan and zoom follow the main map")
            self.side_dock = QDockWidget("Side by side", self.w)
            self.side_dock.setObjectName("dock-side-by-side")
            self.side_dock.setWidget(self.side_map)
            self.w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.side_dock)
            self.w.tabifyDockWidget(self.w.metrics_dock, self.side_dock)
            self.side_dock.setMinimumWidth(360)
            self.w.map.viewChanged.connect(lambda: self._link(self.w.map, self.side_map))
            self.side_map.viewChanged.connect(lambda: self._link(self.side_map, self.w.map))
            self.side_map._shown_assignment = None
        if self.side_dock is not None:
            self.side_dock.setVisible(on)
        if on:
            self.side_dock.raise_()
            self.w.resizeDocks([self.side_dock], [int(self.w.width() * 0.4)], Qt.Orientation.Horizontal)
            self._update_side()
            self._link(self.w.map, self.side_map)

    def _link(self, src, dst) -> None:
        if self._linking or dst is None or not dst.isVisible():
            return
        self._linking = True
        try:
            dst.restore_view(*src.view_state())
        finally:
            self._linking = False

    def _update_side(self) -> None:
        sm = self.side_map
        if sm is None or not self.side.isChecked():
            return
        a = self.pair[0]
        A = self.m.options[a]
        plan = A.plan
        prev = sm._shown_assignment
        changed = None
        if prev is not None:
            diff = prev != plan.assignment
            changed = set(np.unique(prev[diff]).tolist()) | set(np.unique(plan.assignment[diff]).tolist())
            changed.discard(-1)
        pops = A.metrics.values_view().board_pop
        active = [b for b in plan.boards if b.active]
        sm.set_boards(plan.assignment, {b.id: b.colour for b in active}, {b.id: b.name for b in active},
                      {b.id: int(pops[b.id]) for b in active}, changed=changed)
        sm._shown_assignment = plan.assignment.copy()
        self.side_dock.setWindowTitle(f"Side by side: {A.name}")


def _boards_in(plan, focus) -> np.ndarray:
    held = np.unique(plan.assignment[focus.units])
    return held[held >= 0]
