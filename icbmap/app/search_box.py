"""The Find box: a search field in a toolbar of its own, its completer, and going to a hit.

:class:`SearchBox` owns the field (``edit``), its toolbar (``toolbar``, which starts a second
row on a narrow window) and the atlas's :class:`~icbmap.atlas.search.SearchIndex`, built on
first use (about 0.5 s) and dropped by :meth:`SearchBox.reset` when practices change.
Going to a hit selects it on the map, zooms to it and says so in the status bar.

It sees the main window only through what it is given: ``window.atlas``, ``window.map``,
``window.controller``, ``window.set_level`` and ``window.statusBar()``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QCompleter, QLabel, QLineEdit, QMainWindow, QToolBar

from icbmap.app.map.view import SELECT_LEVELS
from icbmap.atlas.search import SearchIndex


class SearchBox:
    """The search field and what it does; ``toolbar`` is for the window to add."""

    def __init__(self, window: QMainWindow):
        self.window = window
        self._index: SearchIndex | None = None
        self._hits: list = []
        self.edit = edit = QLineEdit()
        edit.setPlaceholderText("Search name, town, code or practice postcode (Ctrl+F)")
        edit.setClearButtonEnabled(True)
        edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("Search code, name or postcode") + 30)
        edit.setAccessibleName("Search")
        edit.setAccessibleDescription("Type an LSOA, ward, town, district, council, place or board code or "
                                      "name, or a GP practice postcode, then Enter to select and zoom to it")
        edit.returnPressed.connect(lambda: self.run(edit.text()))
        edit.textEdited.connect(self.update_completer)
        # search has a toolbar of its own: on a narrow window it starts a second row
        tb = QToolBar("Search", window)
        tb.setObjectName("toolbar-search")
        tb.setAccessibleName("Search")
        tb.setProperty("icbmap_break", True)
        label = QLabel(" F&ind: ")
        label.setBuddy(edit)
        tb.addWidget(label)
        tb.addWidget(edit)
        self.toolbar = tb

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            self._index = SearchIndex(self.window.atlas)
        return self._index

    def reset(self) -> None:
        """Forget the index (the atlas gained or lost practices); it is rebuilt on next use."""
        self._index = None

    def focus(self) -> None:
        """Ctrl+F: put the keyboard focus in the field, its text selected."""
        self.edit.setFocus()
        self.edit.selectAll()

    def update_completer(self, text: str) -> None:
        if len(text.strip()) < 2:
            return
        hits = self.index.find(text, limit=20)
        completer = QCompleter([h.label for h in hits], self.window)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(lambda label, hits=hits: self.go_to(next(h for h in hits if h.label == label)))
        self.edit.setCompleter(completer)
        self._hits = hits

    def run(self, text: str) -> bool:
        """Select and zoom to the best match for ``text``; False if nothing matched."""
        if " \u2014 " in text:
            for h in self._hits:
                if h.label == text:
                    self.go_to(h)
                    return True
        hits = self.index.find(text, limit=5)
        if not hits:
            self.window.statusBar().showMessage(f"Nothing found for \u201c{text}\u201d", 5000)
            return False
        self.go_to(hits[0])
        return True

    def go_to(self, hit) -> None:
        """Select ``hit`` (an area, a board or a practice), zoom to it and say so."""
        w = self.window
        if hit.kind == "practice":
            p = w.atlas.practices
            w.map.set_selection(np.zeros(0, dtype=np.int64), np.array([hit.index]))
            x, y = float(p["x"].iat[hit.index]), float(p["y"].iat[hit.index])
            if np.isfinite(x):
                w.map.fit_scene_rect(QRectF(x - 3000, -y - 3000, 6000, 6000), margin=0)
            w.statusBar().showMessage(f"{hit.label}: {int(p['patients'].iat[hit.index]):,} registered patients", 8000)
            return
        if hit.kind in ("ward", "town"):
            units = self.index.units_of(hit)
            w.set_level("unit")
            w.map.set_selection(units, np.zeros(0, dtype=np.int64))
            w.map.zoom_to_units(units)
            people = int(w.atlas.population[units].sum())
            w.statusBar().showMessage(f"Found {hit.label}: {len(units):,} LSOAs, {people:,} people "
                                      "(wards by the ONS best-fit LSOA lookup)", 8000)
            return
        if hit.kind == "unit":
            units = np.array([hit.index])
            w.set_level("unit")
        elif hit.kind == "board":
            units = np.flatnonzero(w.controller.plan.assignment == hit.index)
            w.set_level("board")
        elif hit.kind in ("ca", "region"):
            units = w.atlas.members(hit.kind, hit.index).astype(np.int64)
        else:
            units = w.atlas.members(hit.kind, hit.index).astype(np.int64)
            if hit.kind in SELECT_LEVELS:
                w.set_level(hit.kind)
        w.map.set_selection(units, np.zeros(0, dtype=np.int64))
        w.map.zoom_to_units(units)
        w.statusBar().showMessage(f"Found {hit.label}", 5000)
