"""The metrics dock: plan summary, per-board table, council / district / combined-authority
split tables.  Everything shown comes from the model's incremental metrics report."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget

from icbmap.names import board_flags, short_board_name
from icbmap.app.panels import (RecordsTable, SummaryView, fmt_bool, fmt_float, fmt_int, fmt_list,
                               fmt_pct)

def _flags_text(b) -> str:
    return " ".join(board_flags(b))


def _principle_flags(controller, board: int) -> str:
    model = getattr(controller, "principles", None)
    if model is None:
        return ""
    return " ".join(model.board_flags(board))


def flag_lines(controller, b) -> list[tuple[str, str]]:
    """Every flag of board row ``b`` as ``(kind, words in full)``: the Boards panel shows
    one icon per flag and the words, one flag a line, in the tooltip (issue 22)."""
    from icbmap.names import POPULATION_FLAGS

    out = []
    if b.status in POPULATION_FLAGS:
        what = {"below_floor": "below 500,000", "below_minimum": "below 1,000,000, the commonly proposed minimum",
                "above_maximum": "above 3,000,000"}[b.status]
        out.append(("population", f"Population {b.population:,}: {what}"))
    if not b.contiguous:
        out.append(("pieces", f"In {b.pieces - b.island_pieces} pieces: not contiguous (islands not counted)"))
    if len(b.regions) > 1:
        out.append(("regions", f"Spans {len(b.regions)} NHS regions: {', '.join(b.regions)}"))
    model = getattr(controller, "principles", None)
    if model is not None and b.id < controller.plan.n_boards:
        for rule in model.checker.failing_boards(b.id):
            out.append(("principle", f"\u2717 Fails the principle: {rule.label}"))
    return out


def board_records(controller, report) -> list[dict]:
    has_practices = controller.plan.n_practices > 0
    out = []
    for b in report.boards:
        out.append({
            "id": b.id,
            "code": b.code,
            "name": b.name,
            "short": short_board_name(b.name),
            "colour": b.colour,
            "locked": b.locked,
            "population": b.population,
            "share": b.share,
            "registered": b.registered if has_practices else None,
            "flags_text": " ".join(x for x in (_flags_text(b), _principle_flags(controller, b.id)) if x),
            "flags": flag_lines(controller, b),
            "councils_text": f"{len(b.councils_whole)} whole, {len(b.councils_part)} part",
            "councils_n": len(b.councils_whole) + len(b.councils_part),
            "districts_n": len(b.districts_whole) + len(b.districts_part),
            "cas_n": len(b.cas_whole) + len(b.cas_part),
            "coterminosity": b.coterminosity.get("council"),
            "coterminosity_district": b.coterminosity.get("district"),
            "pieces": b.pieces,
            "regions": ", ".join(b.regions),
        })
    return out


def area_records(report, level: str) -> list[dict]:
    out = []
    for a in report.areas[level]:
        boards = sorted(a.boards, key=lambda p: -p.population)
        out.append({
            "key": a.code,
            "name": a.name,
            "population": a.population,
            "n_boards": a.n_boards,
            "main": short_board_name(a.main_board_name) if a.main_board_name else "",
            "main_share": a.main_share,
            "status": ("whole" if not a.split else "slivers only" if a.sliver_only else "split"),
            "boards": ", ".join(f"{short_board_name(_board_name(report, p.board))} {100 * p.share:.1f}%"
                                for p in boards),
            "score": a.split_score,
            "nests": a.nests,
            "equals": (short_board_name(_board_name(report, a.equals_board))
                       if a.equals_board is not None else ""),
        })
    return out


def _board_name(report, board_id: int) -> str:
    cache = getattr(report, "_names", None)
    if cache is None:
        cache = {b.id: b.name for b in report.boards}
        report._names = cache
    return cache.get(board_id, str(board_id))


def summary_html(report, atlas) -> str:
    s = report.summary
    small_id, small_name, small_pop = s.smallest
    large_id, large_name, large_pop = s.largest
    rows = [
        ("Boards", f"{s.boards}"),
        ("Population", f"{s.population:,} ({escape(atlas.population_basis)})"),
        ("Smallest board", f"{escape(short_board_name(small_name))}: {small_pop:,}"),
        ("Largest board", f"{escape(short_board_name(large_name))}: {large_pop:,}"),
        ("Below 500,000 / below 1m / above 3m", f"{s.below_floor} / {s.below_minimum} / {s.above_maximum}"),
        ("Not contiguous", f"{s.non_contiguous}"),
        ("Spanning NHS regions", f"{s.multi_region}"),
        ("Unassigned", f"{s.unassigned_units:,} LSOAs, {s.unassigned_population:,} people"),
    ]
    if s.registered:
        rows.append(("Registered patients", f"{s.registered:,}"))
    html = ["<h3>Plan summary</h3><table cellspacing='3'>"]
    html += [f"<tr><td>{k}</td><td><b>{v}</b></td></tr>" for k, v in rows]
    html.append("</table><h3>Coterminosity</h3><table cellspacing='3'>"
                "<tr><th align='left'></th><th>Districts</th><th>Councils</th><th>Combined auth.</th></tr>")
    levels = [s.levels.get(k) for k in ("district", "council", "ca")]

    def row(label, fn):
        cells = "".join(f"<td align='right'>{fn(L) if L is not None else ''}</td>" for L in levels)
        return f"<tr><td>{label}</td>{cells}</tr>"

    html.append(row("Areas", lambda L: f"{L.areas}"))
    html.append(row("Wholly in one board", lambda L: f"{L.whole_in_one} ({L.pct_whole_in_one:.1f}%)"))
    html.append(row("Split (touch &gt;1 board)", lambda L: f"<b>{L.split}</b>"))
    html.append(row("\u03a3(k\u22121) split pieces", lambda L: f"{L.split_pieces}"))
    html.append(row("Real splits (beyond slivers)", lambda L: f"{L.real_split}"))
    html.append(row("Split by slivers only", lambda L: f"{L.sliver_only}"))
    html.append(row("People in split areas", lambda L: f"{L.pct_people_in_split:.1f}%"))
    html.append(row("Area-splitting score", lambda L: f"{L.area_splitting:.3f}"))
    html.append(row("Board-splitting score", lambda L: f"{L.board_splitting:.3f}"))
    ca = s.levels.get("ca")
    if ca is not None and ca.nest is not None:
        html.append(f"<tr><td>CAs nesting in one board / equal to a board</td><td></td><td></td>"
                    f"<td align='right'>{ca.nest} / {ca.equal}</td></tr>")
    html.append("</table>")
    html.append(f"<p style='color:#555'>Slivers: a board's piece under {100 * s.tolerance:.0f}% of an "
                "area's population. Scores: reduced square-root entropy (1.0 = no splitting), "
                "population-weighted; definitions in docs/metrics.md.</p>")
    return "".join(html)


class MetricsTabs(QTabWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName("Metrics")
        self.summary = SummaryView(self)
        self.summary.setAccessibleName("Plan summary")
        self.addTab(self.summary, "Summary")
        self.boards = RecordsTable([
            ("short", "Board", None),
            ("population", "Population", fmt_int),
            ("share", "Share", fmt_pct),
            ("councils_n", "Councils", fmt_int),
            ("districts_n", "Districts", fmt_int),
            ("cas_n", "CAs", fmt_int),
            ("coterminosity", "Coterminous (councils)", fmt_pct),
            ("coterminosity_district", "Coterminous (districts)", fmt_pct),
            ("pieces", "Pieces", fmt_int),
            ("regions", "NHS regions", None),
            ("flags_text", "Flags", None),
        ], key="id", parent=self, name="Board metrics",
            description="Per-board population, share, councils, districts, combined authorities, "
                        "coterminosity, pieces, NHS regions and flags")
        self.boards.setColumnWidth(0, self.boards.fontMetrics().horizontalAdvance("Cheshire and Merseyside") + 16)
        self.boards.sort_now(0, Qt.SortOrder.AscendingOrder)
        self.addTab(self.boards, "Boards")
        area_cols = [
            ("name", "Name", None),
            ("population", "Population", fmt_int),
            ("n_boards", "Boards", fmt_int),
            ("status", "Status", None),
            ("main", "Main board", None),
            ("main_share", "Main share", fmt_pct),
            ("score", "Split score", fmt_float),
            ("boards", "Boards (share)", fmt_list),
        ]
        self.councils = RecordsTable(area_cols, key="key", parent=self, name="Councils",
                                     description="How each council is split between boards")
        self.addTab(self.councils, "Councils")
        self.districts = RecordsTable(area_cols, key="key", parent=self, name="Districts",
                                      description="How each district is split between boards")
        self.addTab(self.districts, "Districts")
        self.cas = RecordsTable(area_cols[:6] + [("nests", "Nests in one", fmt_bool), ("equals", "Equals board", None),
                                                 ("boards", "Boards (share)", fmt_list)], key="key", parent=self,
                                name="Combined authorities",
                                description="How each combined authority is split between boards")
        self.addTab(self.cas, "Combined authorities")
        self._latest = None
        self._stale: set[int] = set()
        self.currentChanged.connect(lambda i: self._refresh(i, flash=False))
        for t in (self.councils, self.districts, self.cas):
            t.setColumnWidth(0, 170)
            t.sort_now(2, Qt.SortOrder.DescendingOrder)

    def update_from(self, controller, report, flash: bool = True) -> None:
        """Refresh the visible tab now; the others when they are next shown."""
        self._latest = (controller, report)
        self._stale = {0, 1, 2, 3, 4}
        if self.isVisible() or not hasattr(self, "_shown_once"):
            self._refresh(self.currentIndex(), flash)

    def _refresh(self, index: int, flash: bool = True) -> None:
        if index not in self._stale or self._latest is None:
            return
        controller, report = self._latest
        self._stale.discard(index)
        if index == 0:
            self.summary.set_html(summary_html(report, controller.atlas))
        elif index == 1:
            self.boards.set_records(board_records(controller, report), flash=flash)
        else:
            table, level = {2: (self.councils, "council"), 3: (self.districts, "district"),
                            4: (self.cas, "ca")}[index]
            table.set_records(area_records(report, level), flash=flash)

    def refresh_all(self) -> None:
        for i in range(self.count()):
            self._refresh(i, flash=False)

    def showEvent(self, event) -> None:  # noqa: N802
        self._shown_once = True
        super().showEvent(event)
        self._refresh(self.currentIndex(), flash=False)
