"""Excel workbook export (``icbmap export --format xlsx``; File ▸ Export ▸ Excel workbook).

One sheet each, every one with a frozen header row, an autofilter and columns as wide as
their text:

* ``boards``: one row per board, the flat schema of :mod:`icbmap.export.schema` (the same
  field names as the GeoJSON, GeoPackage and CSV boards tables);
* ``councils``: one row per council and board holding some of its people (the council's
  population, the board's people there and their share of the council);
* ``strategic authorities``: the same for the strategic authorities (the 2026 ones and the
  proposed ones when the data pack has them, else the combined authorities), with status;
* ``principles``: one row per rule and board: pass/fail (a boolean; empty when the rule
  cannot be checked) and the reason;
* ``moves``: every LSOA whose board differs from the baseline's, from and to;
* ``sources``: the export (generator, data pack, baseline, date) and every source with its
  vintage and licence.

Cells are typed: numbers are numbers, true/false are booleans, dates are dates.  Text that
a spreadsheet would run as a formula (``=HYPERLINK(...)``) is stored as a text cell, never
a formula, and comes back unchanged.  ``read_workbook_plan`` reads the workbook back
(``icbmap import plan.xlsx``, :func:`icbmap.export.importers.read_workbook_plan`): the
baseline named in ``sources`` plus the ``moves`` give every LSOA's board, the ``boards``
sheet their codes and names.
"""

from __future__ import annotations

import datetime as _dt
import io
from pathlib import Path

import numpy as np

from icbmap.export import facts as facts_mod
from icbmap.export.files import done, safe_output
from icbmap.progress import Progress

SHEETS = ("boards", "councils", "strategic authorities", "principles", "moves", "sources")
#: Excel's limit on one cell's text.
MAX_CELL_CHARS = 32_767
MIN_WIDTH, MAX_WIDTH = 6, 60


# ------------------------------------------------------------------ sheet contents
def _boards_rows(plan, facts):
    from icbmap.export.schema import board_field_names, flat_board_row, vintages

    header = board_field_names(vintages(plan.atlas))
    return header, [list(flat_board_row(f).values()) for f in facts]


def _pairs_rows(report, level: str, extra=None):
    """One row per (area, board holding some of its people)."""
    rows = []
    names = {b.id: b.name for b in report.boards}
    for a in report.areas.get(level, []):
        info = extra(a) if extra else []
        if not a.boards:
            rows.append([a.code, a.name, *info, int(a.population), None, None, None, None, None, bool(a.split)])
        for p in a.boards:
            rows.append([a.code, a.name, *info, int(a.population), p.code, names.get(p.board, ""),
                         int(p.population), round(float(p.share), 6), p.board == a.main_board, bool(a.split)])
    return rows


PAIR_HEADER = ["area_population", "board_code", "board_name", "board_population_here", "share_of_area",
               "main_board", "split"]


def _councils_rows(report):
    return ["council_code", "council_name", *PAIR_HEADER], _pairs_rows(report, "council")


def _strategic_rows(plan, report):
    atlas = plan.atlas
    levels = [lvl for lvl in report.areas if lvl.startswith("ref:strategic_authorities")] or \
        [lvl for lvl in ("ca",) if lvl in report.areas]  # a pack without them: no rows

    def _date(text):
        try:
            return _dt.date.fromisoformat(str(text))
        except ValueError:
            return str(text) if text else None

    rows = []
    for lvl in levels:
        table = atlas.level_layer(lvl).table
        by_code = {str(c): i for i, c in enumerate(table["code"])}

        def extra(a, table=table, by_code=by_code, lvl=lvl):
            i = by_code.get(str(a.code))
            get = (lambda col: table[col].iat[i] if i is not None and col in table.columns else None)
            kind = get("code_kind") or ("ONS" if lvl == "ca" else None)
            status = get("status") or ("established" if lvl == "ca" else None)
            return [atlas.level_label(lvl), status, _date(get("date")) if get("date") is not None else None, kind]

        rows += _pairs_rows(report, lvl, extra)
    header = ["authority_code", "authority_name", "geography", "status", "date", "code_kind", *PAIR_HEADER]
    return header, rows


def _principles_rows(plan, ruleset):
    from icbmap.metrics import Metrics
    from icbmap.principles.check import check

    c = check(Metrics(plan, observe=False), ruleset).to_dict()
    results = {r["id"]: r for r in c["results"]}
    rows = []
    for b in c["boards"]:
        for rid, v in b["rules"].items():
            r = results[rid]
            passed = v["passed"]
            reason = "; ".join(v["reasons"]) if v["reasons"] else (r["missing"] or "")
            rows.append([rid, r["label"], b["code"], b["name"], passed,
                         "pass" if passed else ("fail" if passed is False else "not checked"), reason])
    header = ["rule", "rule_label", "board_code", "board_name", "passed", "result", "reason"]
    return header, rows, c["rules"]


def _moves_rows(plan):
    atlas = plan.atlas
    a = np.asarray(plan.assignment)
    base = np.asarray(plan.baseline_assignment)
    codes, names = facts_mod.board_code_name_arrays(plan)
    codes = list(codes) + [None]
    names = list(names) + [None]
    base_t = atlas.layers["board"].table
    bcodes = list(base_t["code"].astype(str)) + [None]
    bnames = list(base_t["name"].astype(str)) + [None]
    areas = facts_mod.unit_area_columns(atlas)
    lad_cd, lad_nm = list(areas)[:2]
    moved = np.flatnonzero(a != base)
    unames = atlas.units["name"].to_numpy(dtype=object)
    pop = atlas.population
    rows = [[atlas.unit_codes[i], unames[i], int(pop[i]), bcodes[base[i]], bnames[base[i]], codes[a[i]],
             names[a[i]], areas[lad_cd][i], areas[lad_nm][i]] for i in moved]
    header = ["lsoa_code", "lsoa_name", "population", "from_board_code", "from_board_name", "to_board_code",
              "to_board_name", lad_cd, lad_nm]
    return header, rows


def _sources_rows(plan, title, rules_info, today):
    atlas = plan.atlas
    meta = facts_mod.document_meta(plan, title)
    info = atlas.baseline_info() if callable(getattr(atlas, "baseline_info", None)) else {}
    about = [
        ["export", "title", title or "baseline", None, None, None],
        ["export", "generator", meta["generator"], None, None, None],
        ["export", "exported", today, None, None, None],
        ["export", "schema", f"{meta['schema']} version {meta['schema_version']}", None, None, None],
        ["export", "data_pack", meta["data_pack"]["name"], None, None, None],
        ["export", "content_hash", meta["data_pack"]["content_hash"], None, None, None],
        ["export", "baseline", str(getattr(atlas, "baseline", "")), info.get("label"), info.get("status"),
         info.get("source")],
        ["export", "population_basis", meta["population_basis"], None, None, None],
        ["export", "status", "Proposed, not official: boards that differ from the baseline are a proposal "
                             "(changed = TRUE in the boards sheet)", None, None, None],
    ]
    if rules_info:
        about.append(["principles", rules_info.get("name", ""), rules_info.get("source", ""), None, None,
                      rules_info.get("url", "")])
    for key, prov in atlas.provenance.items():
        about.append(["source", key, prov.source, prov.vintage, prov.licence, prov.attribution])
    for key, layer in atlas.layers.items():
        prov = layer.provenance
        if key not in atlas.provenance:
            about.append(["source", key, prov.source, prov.vintage, prov.licence, prov.attribution])
    return ["kind", "item", "value", "vintage", "licence", "attribution"], about


# ------------------------------------------------------------------ writing
def _text_width(v) -> int:
    if v is None:
        return 0
    if isinstance(v, bool):
        return 5
    if isinstance(v, float):
        return len(f"{v:.6g}")
    if isinstance(v, (_dt.date, _dt.datetime)):
        return 10
    return max((len(line) for line in str(v).splitlines()), default=0)


def _clean_text(v: str, cuts: list, where: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    v = ILLEGAL_CHARACTERS_RE.sub("", v)
    if len(v) > MAX_CELL_CHARS:
        cuts.append(f"{where}: {len(v):,} characters cut to Excel's {MAX_CELL_CHARS:,}")
        v = v[:MAX_CELL_CHARS]
    return v


def _sheet(wb, title: str, header: list[str], rows: list[list], cuts: list) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.append(header)
    for c in ws[1]:
        c.font = Font(name="Calibri", size=11, bold=True)  # the workbook default font, bold
    widths = [len(h) for h in header]
    for r, row in enumerate(rows, start=2):
        for k, v in enumerate(row, start=1):
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not np.isfinite(v):
                v = None
            cell = ws.cell(row=r, column=k)
            if isinstance(v, str):
                cell.value = _clean_text(v, cuts, f"{title}!{get_column_letter(k)}{r}")
                cell.data_type = "s"  # never a formula, whatever the text starts with
            else:
                cell.value = v
                if isinstance(v, _dt.date):
                    cell.number_format = "yyyy-mm-dd"
            widths[k - 1] = max(widths[k - 1], _text_width(v))
    for k, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(k)].width = min(MAX_WIDTH, max(MIN_WIDTH, w + 2))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(rows) + 1)}"


def workbook_bytes(plan, title: str = "", ruleset=None, progress: Progress | None = None,
                   cuts: list | None = None, today: _dt.date | None = None) -> bytes:
    """The workbook as bytes (nothing is written)."""
    from openpyxl import Workbook

    progress = progress or Progress.silent()
    cuts = cuts if cuts is not None else []
    if ruleset is None:
        from icbmap.principles import load_rules

        ruleset = load_rules("NHS England 2025 guidance")
    progress.step(0.05, "Computing metrics")
    report = facts_mod.metrics_report(plan)
    progress.step(0.2, "Dissolving boards")
    facts = facts_mod.board_facts(plan, report)
    progress.step(0.5, "Checking principles")
    p_header, p_rows, rules_info = _principles_rows(plan, ruleset)
    progress.step(0.7, "Writing sheets")
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, "boards", *_boards_rows(plan, facts), cuts)
    _sheet(wb, "councils", *_councils_rows(report), cuts)
    _sheet(wb, "strategic authorities", *_strategic_rows(plan, report), cuts)
    _sheet(wb, "principles", p_header, p_rows, cuts)
    _sheet(wb, "moves", *_moves_rows(plan), cuts)
    _sheet(wb, "sources", *_sources_rows(plan, title, rules_info, today or _dt.date.today()), cuts)
    wb.properties.title = title or "icbmap export"
    wb.properties.creator = "icbmap"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_xlsx(plan, path: str | Path, title: str = "", ruleset=None, progress: Progress | None = None,
               cuts: list | None = None) -> list[Path]:
    """Write the workbook (atomically: everything is built before the file is touched)."""
    from icbmap.atomic import atomic_file

    progress = progress or Progress.silent()
    path, _note = safe_output(path)
    data = workbook_bytes(plan, title, ruleset, progress.sub(0.0, 0.95), cuts)
    with atomic_file(path, ".xlsx") as tmp:
        Path(tmp).write_bytes(data)
    done(progress, f"Wrote {path.name}")
    return [path]
