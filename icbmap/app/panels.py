"""Dock panels: boards (a drop target), metrics tables, layers, legend; and the status bar's
label that gives way to messages.

Panels only display what the controller hands them (records from the metrics report) and
emit what the user asks for; they never change the plan themselves.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from PySide6.QtCore import QPoint, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap, QTextDocument
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHeaderView, QLabel, QSizePolicy, QStyledItemDelegate,
                               QTableWidget,
                               QTableWidgetItem, QTextBrowser, QVBoxLayout, QWidget)

FLASH_MS = 900
FLASH_COLOUR = QColor(255, 213, 79)


class _SortItem(QTableWidgetItem):
    """Sorts by the raw value stored in UserRole, not by the displayed text."""

    def __lt__(self, other):  # noqa: D401
        a = self.data(Qt.ItemDataRole.UserRole + 1)
        b = other.data(Qt.ItemDataRole.UserRole + 1)
        if a is None or b is None:
            return super().__lt__(other)
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)


Column = tuple[str, str, Callable[[Any], str] | None]  # key, header, formatter


def fmt_int(v) -> str:
    return "" if v is None else f"{int(v):,}"


def fmt_pct(v) -> str:
    return "" if v is None else f"{100 * float(v):.1f}%"


def fmt_float(v) -> str:
    return "" if v is None else f"{float(v):.3f}"


def fmt_list(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


def fmt_bool(v) -> str:
    return "" if v is None else ("yes" if v else "no")


class RecordsTable(QTableWidget):
    """A sortable table of records keyed by ``key``; changed cells flash briefly."""

    def __init__(self, columns: Sequence[Column], key: str, parent=None, name: str = "",
                 description: str = ""):
        super().__init__(0, len(columns), parent)
        self.columns = list(columns)
        self.key = key
        self.setHorizontalHeaderLabels([c[1] for c in columns])
        if name:
            self.setAccessibleName(name)
            self.horizontalHeader().setAccessibleName(f"{name}: column headers")
        if description:
            self.setAccessibleDescription(description)
        self.horizontalHeader().setToolTip("Click a header to sort by it")
        self.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside it
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(max(22, self.fontMetrics().height() + 8))  # system font size
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setStretchLastSection(True)
        # sorted when the user asks (a header click), never behind their back: an edit that
        # changes a value keeps every row where it is (issue 22: a rename re-sorted the list
        # under the cursor and the next click chose another board)
        self.setSortingEnabled(False)
        head = self.horizontalHeader()
        head.setSectionsClickable(True)
        head.setSortIndicatorShown(True)
        head.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        head.sectionClicked.connect(self.sort_by_user)
        # one line a row (a wrapped cell showed the top of its second line), and every header
        # readable whole: a column starts at least as wide as its header and sort arrow
        self.setWordWrap(False)
        fm = head.fontMetrics()
        for c, (_field, header, _fmt) in enumerate(self.columns):
            head.resizeSection(c, max(head.sectionSize(c), fm.horizontalAdvance(header) + 3 * fm.averageCharWidth() + 12))
        self._values: dict[Any, list[str]] = {}
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.timeout.connect(self._unflash)
        self._flashed: list[QTableWidgetItem] = []
        self.last_changed: set[tuple[Any, str]] = set()

    def row_of(self, key) -> int:
        for r in range(self.rowCount()):
            it = self.item(r, 0)
            if it is not None and it.data(Qt.ItemDataRole.UserRole) == key:
                return r
        return -1

    def sort_by_user(self, column: int) -> None:
        """A header click: sort on ``column`` (the same column again: the other way)."""
        head = self.horizontalHeader()
        order = Qt.SortOrder.AscendingOrder
        if head.sortIndicatorSection() == column and head.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder:
            order = Qt.SortOrder.DescendingOrder
        self.sort_now(column, order)

    def sort_now(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Sort the rows on ``column`` and show it in the header (the selection follows)."""
        self.sortItems(column, order)
        self.horizontalHeader().setSortIndicator(column, order)

    def key_at_row(self, row: int):
        it = self.item(row, 0)
        return None if it is None else it.data(Qt.ItemDataRole.UserRole)

    def set_records(self, records: Sequence[dict], flash: bool = True) -> None:
        sort_col = self.horizontalHeader().sortIndicatorSection()
        sort_order = self.horizontalHeader().sortIndicatorOrder()
        keys = [r[self.key] for r in records]
        structure_changed = set(keys) != set(self._values)
        # the selection follows its records (not row numbers) through re-sorting and merges
        selected_keys = {self.key_at_row(i.row()) for i in self.selectedItems()} if structure_changed else set()
        current_key = self.key_at_row(self.currentRow()) if structure_changed and self.currentRow() >= 0 else None
        changed: set[tuple[Any, str]] = set()
        if structure_changed:
            self.setRowCount(len(records))
        rows = {self.key_at_row(r): r for r in range(self.rowCount())} if not structure_changed else {}
        new_values: dict[Any, list[str]] = {}
        for i, rec in enumerate(records):
            k = rec[self.key]
            row = i if structure_changed else rows.get(k, i)
            texts = []
            for c, (field, _header, fmt) in enumerate(self.columns):
                value = rec.get(field)
                text = fmt(value) if fmt else ("" if value is None else str(value))
                texts.append(text)
                old = self._values.get(k)
                item = self.item(row, c)
                if item is None:
                    item = _SortItem(text)
                    self.setItem(row, c, item)
                if item.text() != text or structure_changed:
                    item.setText(text)
                    sort_value = value if isinstance(value, (int, float, str)) else text
                    if isinstance(sort_value, str):
                        sort_value = sort_value.casefold()  # A to Z as people read it
                    item.setData(Qt.ItemDataRole.UserRole + 1, sort_value)
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    elif text:
                        item.setToolTip(text)      # words may be cut at the column's edge
                if c == 0:
                    item.setData(Qt.ItemDataRole.UserRole, k)
                if old is not None and old[c] != text:
                    changed.add((k, field))
                    if flash:
                        item.setBackground(QBrush(FLASH_COLOUR))
                        self._flashed.append(item)
            self.decorate(row, rec)
            new_values[k] = texts
        self._values = new_values
        # the cells flashing now: one edit may arrive as two changes (areas, then the GP
        # practices carried with them) within one flash
        self.last_changed = changed | (self.last_changed if self._flashed else set())
        if structure_changed and 0 <= sort_col < self.columnCount():
            self.sortItems(sort_col, sort_order)   # new rows: placed by the sort the user chose
        if structure_changed:
            self._reselect(selected_keys & set(keys), current_key if current_key in set(keys) else None)
        if self._flashed:
            self._flash_timer.start(FLASH_MS)

    def _reselect(self, keys: set, current) -> None:
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        model = self.selectionModel()
        blocked = self.blockSignals(True)
        selection = QItemSelection()
        for r in range(self.rowCount()):
            if self.key_at_row(r) in keys:
                selection.select(self.model().index(r, 0), self.model().index(r, self.columnCount() - 1))
        self.blockSignals(blocked)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        model.select(selection, flags)
        if current is not None:
            row = self.row_of(current)
            if row >= 0:
                model.setCurrentIndex(self.model().index(row, 0), QItemSelectionModel.SelectionFlag.NoUpdate)

    def decorate(self, row: int, record: dict) -> None:
        """Hook for subclasses (swatches, warning colours).  By default a short name in the
        first column carries the full name as its tooltip, and a flags column its icon."""
        first = self.item(row, 0)
        if first is not None and self.columns[0][0] == "short" and record.get("name"):
            first.setToolTip(str(record["name"]))
        for c, (field, _h, _f) in enumerate(self.columns):
            if field == "flags_text":
                flag_cell(self.item(row, c), record.get("flags_text", ""))

    def _unflash(self) -> None:
        for item in self._flashed:
            try:
                item.setBackground(QBrush())
            except RuntimeError:  # item deleted meanwhile
                pass
        self._flashed = []
        self.last_changed = set()


def swatch(colour: str, size: int = 14, locked: bool = False) -> QIcon:
    from icbmap.app.icons import swatch as _swatch

    return _swatch(colour, size, locked)


def flag_cell(item, text: str) -> None:
    """A flags cell: the words, a warning icon beside them, and red only as a third cue."""
    if item is None:
        return
    from icbmap.app.icons import icon

    item.setIcon(icon("warning") if text else QIcon())
    item.setForeground(QBrush(QColor("#b71c1c") if text else QColor("#1b5e20")))
    item.setData(Qt.ItemDataRole.AccessibleTextRole, f"Flags: {text}" if text else "No flags")
    item.setToolTip(f"{text}\n\n{FLAG_HELP}" if text else "")


FLAG_HELP = ("< 0.5m, < 1m: population below 500,000 or one million; > 3m: above three million; "
             "N pieces: not contiguous; N regions: spans NHS regions; \u2717 rule: a hard principle fails; "
             "\u26a0 rule: a soft principle fails (a warning)")

#: the icon of each kind of flag (resources/icons/ui/flag-*.svg)
FLAG_ICONS = {"population": "flag-population", "pieces": "flag-pieces", "regions": "flag-regions",
              "principle": "flag-principle"}
FLAGS_ROLE = Qt.ItemDataRole.UserRole + 2


def flag_icons_cell(item, flags) -> None:
    """A Boards panel flags cell (issue 22): an icon per flag (drawn by
    :class:`FlagIconsDelegate`), the words of every flag in full, one a line, in the
    tooltip and for screen readers; it sorts by the number of flags."""
    if item is None:
        return
    flags = list(flags or [])
    item.setText("")
    item.setIcon(QIcon())
    item.setData(FLAGS_ROLE, [kind for kind, _text in flags])
    item.setData(Qt.ItemDataRole.UserRole + 1, len(flags))
    lines = [text for _kind, text in flags]
    item.setData(Qt.ItemDataRole.AccessibleTextRole, "Flags: " + "; ".join(lines) if lines else "No flags")
    item.setToolTip("\n".join(lines) if lines else "No flags")


class FlagIconsDelegate(QStyledItemDelegate):
    """Paints the flags column: one 16 px icon per flag, side by side."""

    SIZE, GAP = 16, 3

    def paint(self, painter, option, index) -> None:
        super().paint(painter, option, index)   # background, selection, focus
        kinds = index.data(FLAGS_ROLE) or []
        from icbmap.app.icons import icon

        r = option.rect
        x = r.x() + 4
        y = r.y() + (r.height() - self.SIZE) // 2
        for kind in kinds:
            if x + self.SIZE > r.right():
                break
            icon(FLAG_ICONS.get(kind, "warning")).paint(painter, x, y, self.SIZE, self.SIZE)
            x += self.SIZE + self.GAP

    def sizeHint(self, option, index):  # noqa: N802
        n = len(index.data(FLAGS_ROLE) or [])
        return QSize(8 + n * (self.SIZE + self.GAP), self.SIZE + 4)


class BoardsPanel(RecordsTable):
    """The boards: swatch, name, population, flags. A drop target for map drags."""

    boardActivated = Signal(int)
    boardsSelected = Signal(list)

    def __init__(self, parent=None):
        columns = [
            ("short", "Board", None),
            ("population", "Population", fmt_int),
            ("registered", "Registered", fmt_int),
            ("flags", "Flags", lambda _v: ""),     # icons; the words in the tooltip
            ("councils_text", "Councils", None),
            ("coterminosity", "Coterminous", fmt_pct),
            ("code", "Code", None),
        ]
        super().__init__(columns, key="id", parent=parent, name="Boards",
                         description="One row per board: name, population, flags, councils, coterminosity "
                                     "and code. Ctrl+Space or Shift+arrows select several boards to merge; "
                                     "Enter zooms to a board.")
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        fm = self.fontMetrics()
        self.setColumnWidth(0, fm.horizontalAdvance("Cheshire and Merseyside") + 40)
        for c, sample in ((1, "3,000,000 "), (2, "3,000,000 "), (3, "Flags ")):
            self.setColumnWidth(c, fm.horizontalAdvance(sample) + 24)
        self.setItemDelegateForColumn(3, FlagIconsDelegate(self))
        self.sort_now(0, Qt.SortOrder.AscendingOrder)  # A to Z at start
        self.show_registered = False
        self.horizontalHeader().setStretchLastSection(False)
        self.horizontalHeader().setToolTip("Click a header to sort by it. Columns that do not fit are hidden "
                                           "until the panel is wider; all of them are in Metrics \u25b8 Boards.")
        self.cellDoubleClicked.connect(lambda r, _c: self.boardActivated.emit(int(self.key_at_row(r))))
        self.activated.connect(lambda index: self.boardActivated.emit(int(self.key_at_row(index.row()))))
        self.itemSelectionChanged.connect(self._emit_selected)
        self._drop_row = -1
        self.setToolTip("Drag a selection from the map onto a board here to move it. "
                        "Double-click a board to zoom to it.")

    #: columns in the order they give way when the panel is narrow (the name never does)
    PRIORITY = (1, 3, 2, 4, 5, 6)

    def fit_columns(self) -> None:
        """Show the columns that fit the panel's width, most useful first; the name column
        takes the rest (short names; the full name is in each row's tooltip)."""
        avail = self.viewport().width()
        if avail <= 0:
            return
        name_min = self.fontMetrics().horizontalAdvance("Mid and South Essex") + 36
        used = name_min
        shown = []
        for c in self.PRIORITY:
            if c == 2 and not self.show_registered:
                self.setColumnHidden(c, True)
                continue
            title = self.horizontalHeaderItem(c).text() if self.horizontalHeaderItem(c) else ""
            need = max(self.fontMetrics().horizontalAdvance(title) + 14, self.sizeHintForColumn(c)) + 4
            if c == 3:  # room for three flag icons; a fourth shows in the tooltip
                need = min(need, 8 + 3 * (FlagIconsDelegate.SIZE + FlagIconsDelegate.GAP) + 4)
            fits = used + need <= avail and len(shown) == len([k for k in self.PRIORITY[:self.PRIORITY.index(c)]
                                                               if k != 2 or self.show_registered])
            self.setColumnHidden(c, not fits)
            if fits:
                self.setColumnWidth(c, need)
                used += need
                shown.append(c)
        self.setColumnWidth(0, max(name_min, avail - (used - name_min) - 1))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit_columns()

    def set_records(self, records, flash: bool = True) -> None:
        super().set_records(records, flash)
        self.fit_columns()

    def _emit_selected(self) -> None:
        ids = sorted({int(self.key_at_row(i.row())) for i in self.selectedItems()})
        self.boardsSelected.emit(ids)

    def selected_boards(self) -> list[int]:
        return sorted({int(self.key_at_row(i.row())) for i in self.selectedItems()})

    def decorate(self, row: int, record: dict) -> None:
        item = self.item(row, 0)
        if item is None:
            return
        locked = bool(record.get("locked"))
        item.setIcon(swatch(record.get("colour", "#cccccc"), locked=locked))
        item.setToolTip(f"{record.get('name', '')} ({record.get('code', '')})"
                        + (" \u2014 locked: edits are refused until it is unlocked (Ctrl+L)" if locked else ""))
        item.setData(Qt.ItemDataRole.AccessibleTextRole,
                     f"{record.get('short', '')}{', locked' if locked else ''}")
        font = item.font()
        font.setItalic(locked)
        item.setFont(font)
        flag_icons_cell(self.item(row, 3), record.get("flags", []))

    # ---------------------------------------------------------------- drop target
    def board_at_global(self, global_pos: QPoint | None) -> int | None:
        """The board under a global screen position (during a map drag), highlighting it."""
        if global_pos is None:
            self._set_drop_row(-1)
            return None
        vp = self.viewport()
        local = vp.mapFromGlobal(global_pos)
        if not vp.rect().contains(local) or not self.isVisible():
            self._set_drop_row(-1)
            return None
        row = self.rowAt(local.y())
        self._set_drop_row(row)
        if row < 0:
            return None
        return int(self.key_at_row(row))

    def _set_drop_row(self, row: int) -> None:
        if row == self._drop_row:
            return
        for r in (self._drop_row, row):
            if 0 <= r < self.rowCount():
                for c in range(self.columnCount()):
                    it = self.item(r, c)
                    if it is not None:
                        f = it.font()
                        f.setBold(r == row)
                        it.setFont(f)
        self._drop_row = row


class ElidedLabel(QLabel):
    """A one-line label that gives way: when the status bar is short of room it shows the
    start of its text with an ellipsis (the whole text in its tooltip), so the messages
    beside it are not cut off."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setToolTip(text)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def give_way(self, message: str) -> None:
        """Connected to ``QStatusBar.messageChanged``: while a message shows, shrink to a
        stub so the message has the room; back to full size after."""
        self.setMaximumWidth(self.minimumSizeHint().width() if message else 16_777_215)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        super().setText(text)
        self.setToolTip(text)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(min(self.fontMetrics().horizontalAdvance(self.text()) + 8, 420), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(60, super().minimumSizeHint().height())

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width() - 4)
        p.drawText(self.rect().adjusted(2, 0, -2, 0), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), shown)
        p.end()


class LayersPanel(QWidget):
    """Check boxes for the map layers."""

    toggled = Signal(str, bool)

    LAYERS = [
        ("fill", "Board fills", True),
        ("units", "LSOA lines", True),
        ("district", "District outlines", True),
        ("council", "Council outlines", False),
        ("ca", "Combined authority outlines", True),
        ("region", "NHS region outlines", False),
        ("practices", "GP practices", True),
        ("board_labels", "Board labels", True),
        ("area_labels", "Area labels", True),
    ]
    TIPS = {
        "units": "LSOA boundaries, drawn when zoomed in",
        "area_labels": "Names of NHS regions and combined authorities when their outlines show; "
                       "districts or councils when zoomed in",
    }

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.boxes: dict[str, QCheckBox] = {}
        self.setAccessibleName("Map layers")
        for key, text, on in self.LAYERS:
            box = QCheckBox(text)
            box.setAccessibleName(text)
            if key in self.TIPS:
                box.setToolTip(self.TIPS[key])
                box.setAccessibleDescription(self.TIPS[key])
            box.setChecked(on)
            box.toggled.connect(lambda checked, k=key: self.toggled.emit(k, checked))
            lay.addWidget(box)
            self.boxes[key] = box
        lay.addStretch(1)

    def state(self) -> dict[str, bool]:
        return {k: b.isChecked() for k, b in self.boxes.items()}


class LegendPanel(QTextBrowser):
    """What the colours and lines mean, the population basis and the data attribution."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenExternalLinks(True)
        self.setAccessibleName("Legend")
        self.setAccessibleDescription("What the colours, lines and flags mean; the data sources")

    def set_content(self, atlas, boards: list[dict]) -> None:
        from icbmap.app.map.layers import OUTLINE_STYLE

        rows = []
        names = {"region": "NHS region boundary", "ca": "Combined authority (GLA included)",
                 "council": "Council (county or unitary) boundary", "district": "District boundary"}
        for level in ("region", "ca", "council", "district"):
            colour, width, dash = OUTLINE_STYLE[level]
            self.document().addResource(QTextDocument.ResourceType.ImageResource.value,
                                        QUrl(f"legend://{level}"), line_sample(colour, width, dash))
            rows.append(f"<tr><td><img src='legend://{level}'></td><td>{names[level]}</td></tr>")
        swatches = "".join(
            f"<tr><td><span style='background:{b['colour']}; border:1px solid #333'>&nbsp;&nbsp;&nbsp;&nbsp;</span></td>"
            f"<td>{b['short']}</td></tr>" for b in sorted(boards, key=lambda b: b['short']))
        prov = atlas.provenance
        sources = "".join(f"<li>{p.line()}</li>" for p in
                          list(prov.values()) + [atlas.layers[k].provenance for k in ("district", "ca", "board")])
        attributions = sorted({p.attribution for p in list(prov.values()) if p.attribution})
        self.setHtml(
            "<h4>Lines</h4><table>" + "".join(rows) + "</table>"
            "<p>Yellow hatch: selection. Red outline: drop target while dragging. "
            "Flags: <b>&lt; 0.5m</b>, <b>&lt; 1m</b> (the commonly proposed minimum), <b>&gt; 3m</b>; "
            "<b>N pieces</b> = not contiguous; <b>N regions</b> = spans NHS regions.</p>"
            f"<h4>Population</h4><p>{atlas.population_basis}.</p>"
            "<h4>Boards</h4><table>" + swatches + "</table>"
            "<h4>Sources</h4><ul>" + sources + "</ul>"
            "<p>" + "<br>".join(attributions) + "</p>"
        )


def line_sample(colour: str, width: float, dash, w: int = 34, h: int = 12) -> QPixmap:
    """A short line drawn with a map outline's pen, for the legend."""
    pix = QPixmap(w, h)
    pix.fill(QColor(0, 0, 0, 0))
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(colour), max(width, 1.0))
    if dash:
        pen.setDashPattern(dash)
    p.setPen(pen)
    p.drawLine(2, h // 2, w - 2, h // 2)
    p.end()
    return pix


class SummaryView(QTextBrowser):
    def set_html(self, html: str) -> None:
        bar = self.verticalScrollBar().value()
        self.setHtml(html)
        self.verticalScrollBar().setValue(bar)
