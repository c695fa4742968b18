"""The web page export: one self-contained HTML file a board member opens in any browser.

``icbmap export --format html`` and *File ▸ Export ▸ Web page* write it for one plan;
``icbmap compare ... --format html`` writes the comparison of several options.  The file
needs nothing else: no network, no fonts, no libraries.  The map is inline SVG
(:mod:`icbmap.export.webmap`), the behaviour (hover, click, keyboard, sorting, zoom) a
small hand-written script (:mod:`icbmap.export.webpage_assets`), and a
Content-Security-Policy in the page forbids loading anything and runs only that script
(by its SHA-256), so a name that somehow got past the escaping still could not run.

Every figure is read from the plan's metrics (:func:`icbmap.export.facts.board_facts`,
the flat schema of :mod:`icbmap.export.schema`, the principles checker, the comparison
table); the simplified shapes are only drawn.  Every text from the user or the data is
HTML-escaped (names in ``<bdi>``, and isolated with their overrides closed wherever they
are part of a sentence, so right-to-left marks stay inside them), and the data
the script reads is JSON inside ``<script type="application/json">`` with ``<``, ``>``
and ``&`` escaped.  The page says "Proposed, not official" on a proposal wherever it
shows figures, and the baseline's own status (official, derived) on a baseline.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import html
import json
import re
import unicodedata
from datetime import date as _date
from pathlib import Path

from icbmap import __version__
from icbmap.atlas.model import NHS_ATTRIBUTION, ONS_ATTRIBUTION
from icbmap.export import facts as facts_mod
from icbmap.export import webpage_assets as assets
from icbmap.export.schema import BOARD_FIELDS, flat_board_row
from icbmap.export.webmap import MapGeometry, build_map, focus_bounds
from icbmap.names import format_population, short_board_name
from icbmap.progress import Progress

PROPOSED = "Proposed, not official"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
#: fields of the flat schema not listed among a board's figures (shown elsewhere)
_NOT_FIGURES = {"code", "name", "colour", "schema_version"}
_LABELS = {
    "population": "Population", "population_share": "Share of England", "population_basis": "Population basis",
    "population_estimated": "Population estimated", "population_status": "Population band",
    "units": "LSOAs", "councils_whole": "Councils wholly inside", "councils_part": "Councils partly inside",
    "combined_authorities_whole": "Combined authorities wholly inside",
    "combined_authorities_part": "Combined authorities partly inside",
    "coterminosity_index": "Coterminosity index (councils)", "coterminosity_district": "Coterminosity (districts)",
    "coterminosity_ca": "Coterminosity (combined authorities)", "regions": "NHS regions", "pieces": "Pieces",
    "contiguous": "Contiguous", "flags": "Flags",
}


# ------------------------------------------------------------------ escaping
_OPENERS = {"\u202a": "\u202c", "\u202b": "\u202c", "\u202d": "\u202c", "\u202e": "\u202c",
            "\u2066": "\u2069", "\u2067": "\u2069", "\u2068": "\u2069"}
_CLOSERS = {"\u202c", "\u2069"}
#: names (board, option, area) with right-to-left text -> their isolated form (set per page)
_BIDI_FIXES: contextvars.ContextVar[dict | None] = contextvars.ContextVar("icbmap_webpage_bidi", default=None)


def balance_bidi(name: str) -> str:
    """``name`` with its open bidi embeddings, overrides and isolates closed (invisible marks
    appended), so a right-to-left override inside a name does not reverse the text after it."""
    stack = []
    for ch in name:
        if ch in _OPENERS:
            stack.append(_OPENERS[ch])
        elif ch in _CLOSERS and stack:
            stack.pop()
    return name + "".join(reversed(stack))


_RTL_TYPES = {"R", "AL", "AN", "RLE", "RLO", "RLI", "LRE", "LRO", "LRI", "FSI", "PDF", "PDI"}


def isolate_bidi(name: str) -> str:
    """How a name with right-to-left text or bidi controls is written inside other text:
    its open overrides closed (:func:`balance_bidi`) and the whole set in a first-strong
    isolate (U+2068 ... U+2069), so neither it nor a number after it changes place.  Other
    names are unchanged."""
    if not any(unicodedata.bidirectional(ch) in _RTL_TYPES for ch in name):
        return name
    return "\u2068" + balance_bidi(name) + "\u2069"


def _bidi_fixes(names) -> dict:
    return {n: b for n in {str(x) for x in names if x} if (b := isolate_bidi(n)) != n}


def _fix_bidi(text: str) -> str:
    for name, fixed in (_BIDI_FIXES.get() or {}).items():
        if name in text:
            text = text.replace(fixed, name).replace(name, fixed)
    return text


def esc(value) -> str:
    """Text for HTML content or a quoted attribute: escaped, control characters shown as U+FFFD,
    names with right-to-left text isolated (:func:`isolate_bidi`)."""
    return html.escape(_CONTROL.sub("\ufffd", _fix_bidi(str(value))), quote=True)


def _fix_bidi_deep(obj):
    if not _BIDI_FIXES.get():
        return obj
    if isinstance(obj, str):
        return _fix_bidi(obj)
    if isinstance(obj, list):
        return [_fix_bidi_deep(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _fix_bidi_deep(v) for k, v in obj.items()}
    return obj


def name_html(name) -> str:
    """A name isolated for bidirectional text (an RTL mark inside stays inside)."""
    return f"<bdi>{esc(name)}</bdi>"


def json_for_script(obj) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``."""
    text = json.dumps(_fix_bidi_deep(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    for ch, rep in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, rep)
    return text


def _colour(c) -> str:
    return c if isinstance(c, str) and _COLOUR.fullmatch(c) else "#BBBBBB"


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


# ------------------------------------------------------------------ figures
def _pct(x) -> str:
    return "n/a" if x is None else f"{float(x) * 100:.1f}%"


def figure_text(name: str, typ: str, doc: str, value, band: dict | None = None) -> str:
    """How a flat-schema value reads on the page (the exact value, formatted)."""
    if value is None or value == "":
        return "none" if name in ("councils_whole", "councils_part", "combined_authorities_whole",
                                  "combined_authorities_part", "flags") else "n/a"
    if typ == "boolean":
        return "yes" if value else "no"
    if typ == "integer":
        return f"{int(value):,}"
    if typ == "real":
        return _pct(value) if ("0..1" in doc or name.startswith("coterminosity")) else f"{float(value):,}"
    if name == "population_status" and band:
        return {"ok": f"ok: {band['minimum']:,} to {band['maximum']:,}",
                "below_floor": f"below the floor of {band['floor']:,}",
                "below_minimum": f"below the minimum of {band['minimum']:,}",
                "above_maximum": f"above the maximum of {band['maximum']:,}"}.get(str(value), str(value))
    return str(value)


def board_figures(fact: dict, report_row=None, references=None, band=None) -> list[list[str]]:
    """``[label, text, description]`` rows of one board: the flat schema, then the
    strategic authorities (reference geographies) it holds."""
    row = flat_board_row(fact)
    out = []
    for name, typ, doc in BOARD_FIELDS:
        if name in _NOT_FIGURES or name.endswith("_count"):
            continue
        label = _LABELS.get(name, name.replace("_", " ").capitalize() if name.islower() else name)
        out.append([label, figure_text(name, typ, doc, row.get(name), band), doc])
    if report_row is not None:
        out.insert(2, ["GP-registered patients", f"{int(report_row.registered):,}",
                       "patients registered with the board's GP practices (the pack's GP extract)"])
        for lvl, label in (references or {}).items():
            ref = report_row.references.get(lvl)
            if not ref:
                continue
            out.append([f"{label}: wholly inside", "; ".join(ref["whole"]) or "none", lvl])
            out.append([f"{label}: partly inside", "; ".join(ref["part"]) or "none", lvl])
    return out


def status_of(plan) -> tuple[str, str, str]:
    """``(css class, short label, sentence)`` for the page's status banner."""
    atlas = plan.atlas
    if not plan.is_baseline():
        return ("proposed", PROPOSED,
                f"These boundaries are a proposal drawn with icbmap; the baseline they are compared with "
                f"is {atlas.baseline_label}.")
    info = atlas.baseline_info()
    status = str(info.get("status") or atlas.meta.get("source") or "").strip()
    note = str(info.get("note") or "").strip()
    if status == "official":
        return ("official", f"Official: {atlas.baseline_label}",
                f"These are the boards as published: {atlas.baseline_label}." + (f" {note}." if note else ""))
    word = status.capitalize() if status else "Baseline"
    return ("derived", f"{word}, not official: {atlas.baseline_label}",
            (f"{note[0].upper() + note[1:]}." if note else f"The baseline {atlas.baseline_label}."))


def _title(plan, title: str | None) -> str:
    if title:
        return title
    return ("Integrated care boards: current boundaries" if plan.is_baseline()
            else "Integrated care boards: proposed boundaries")


def _reference_labels(atlas, level: str | None) -> dict:
    if not level or not level.startswith("ref:"):
        return {}
    ref = getattr(atlas, "references", {}).get(level)
    return {level: getattr(ref, "label", level)}


# ------------------------------------------------------------------ principles
def _checkers(plan, rules, metrics=None):
    from icbmap.metrics.engine import Metrics
    from icbmap.plan.model import Plan
    from icbmap.principles.check import check

    c = check(metrics if metrics is not None else Metrics(plan, observe=False), rules)
    base = check(Metrics(Plan(plan.atlas), observe=False), rules)
    return c, base


def _verdict(r) -> tuple[str, str]:
    if r.missing:
        return "na", f"not checked: {r.missing}"
    if r.ok:
        return "pass", "\u2713 passes"
    return "fail", f"\u2717 {r.failing:,} of {r.total:,} {r.subject} fail"


def principles_html(checker, base, rules, status_label: str) -> str:
    parts = ['<section id="principles" aria-labelledby="h-principles">',
             f'<h2 id="h-principles">Design principles: {esc(rules.name)}</h2>',
             f'<p class="status-line">{esc(status_label)}</p>']
    src = rules.source + (f" ({rules.url})" if rules.url else "")
    if src:
        parts.append(f'<p class="small">Source: {esc(src)}</p>')
    if rules.notes:
        parts.append(f'<p class="small">{esc(rules.notes)}</p>')
    parts.append('<div class="table-wrap"><table class="rules"><thead><tr><th scope="col">#</th>'
                 '<th scope="col">Principle</th><th scope="col">This plan</th><th scope="col">Baseline</th>'
                 '<th scope="col">Reasons</th></tr></thead><tbody>')
    for i, r in enumerate(checker.results()):
        cls, text = _verdict(r)
        bcls, btext = _verdict(base.result(r.rule.id))
        reasons = [] if r.ok or r.missing else checker.area_failures(r.rule.id)
        if reasons:
            items = "".join(f"<li>{esc(x)}</li>" for x in reasons)
            why = (f"<details><summary>{len(reasons):,} reason{'s' if len(reasons) != 1 else ''}</summary>"
                   f"<ul>{items}</ul></details>")
        else:
            why = "\u2014"
        parts.append(f'<tr><td>{i + 1}</td><td>{esc(r.rule.label)}</td><td class="v-{cls}">{esc(text)}</td>'
                     f'<td class="v-{bcls}">{esc(btext)}</td><td>{why}</td></tr>')
    parts.append("</tbody></table></div>")
    parts.append('<p class="small">Counts are of boards, or of areas for "within one board" rules; pieces '
                 "under 1% of an area's people are slivers and do not count. Acute trusts are placed by "
                 "headquarters postcode (headquarters are not catchments).</p></section>")
    return "".join(parts)


def _board_principles(checker) -> dict[int, list]:
    out: dict[int, list] = {}
    results = checker.results()
    for b in checker.plan.boards:
        if not b.active:
            continue
        rows = []
        for r in results:
            if r.missing or r.fail is None:
                rows.append([r.rule.label, "na", []])
            elif r.fail[b.id]:
                rows.append([r.rule.label, "fail", checker.board_reasons(r.rule.id, b.id)])
            else:
                rows.append([r.rule.label, "pass", []])
        out[b.id] = rows
    return out


# ------------------------------------------------------------------ sources
def sources_html(atlas, rules=None) -> str:
    lines = []
    for key, prov in atlas.provenance.items():
        lines.append(f"<li><b>{esc(key.replace('_', ' '))}</b>: {esc(prov.line())}</li>")
    for name, ref in sorted(getattr(atlas, "references", {}).items()):
        prov = ref.layer.provenance
        lines.append(f"<li><b>{esc(getattr(ref, 'label', name))}</b>: {esc(prov.line())}</li>")
    if rules is not None and rules.source:
        lines.append(f"<li><b>Design principles</b>: {esc(rules.name)}: {esc(rules.source)}</li>")
    basis = atlas.population_basis
    est = " (estimated)" if atlas.population_estimated else ""
    attributions = [ONS_ATTRIBUTION + ".", NHS_ATTRIBUTION + "."]
    for a in facts_mod.attribution_lines(atlas):
        if a.rstrip(".") + "." not in attributions and a not in (ONS_ATTRIBUTION, NHS_ATTRIBUTION):
            attributions.append(a)
    return ('<section id="sources" aria-labelledby="h-sources"><h2 id="h-sources">Sources, vintage and licence</h2>'
            f"<p>Baseline: {esc(atlas.baseline_label)}. Population basis: {esc(basis or 'as in the data pack')}{esc(est)}. "
            f"Data pack {esc(atlas.name)} ({esc(atlas.content_hash)}); made with icbmap {esc(__version__)}.</p>"
            f"<ul class=\"sources\">{''.join(lines)}</ul>"
            + "".join(f"<p class=\"small\">{esc(a)}</p>" for a in attributions)
            + f'<p class="small">Licence: <a href="{OGL_URL}" rel="license noopener">Open Government Licence '
              "v3.0</a>. The map's shapes are simplified for the screen (about 60 m); every figure comes from "
              "the full-resolution data pack.</p></section>")


# ------------------------------------------------------------------ map block
def _svg(m: MapGeometry, key: str, facts: list[dict], atlas, view=None) -> str:
    by_board: dict[int, list[dict]] = {}
    for a in m.atoms:
        by_board.setdefault(a["board"], []).append(a)
    colour = {f["_id"]: _colour(f["colour"]) for f in facts}
    names = {f["_id"]: f["name"] for f in facts}
    pops = {f["_id"]: f["population"] for f in facts}
    out = [f'<svg class="map" id="svg-{key}" viewBox="0 0 {m.width} {m.height}" '
           'preserveAspectRatio="xMidYMid meet" role="group" '
           f'aria-label="Map of the boards; Tab to a board and press Enter for its figures">'
           f'<defs><pattern id="hatch-{key}" class="hatch" patternUnits="userSpaceOnUse" width="300" height="300" '
           'patternTransform="rotate(45)"><rect width="110" height="300" fill="#000" fill-opacity="0.55"/>'
           "</pattern></defs>"]
    unassigned = by_board.pop(-1, [])
    if unassigned:
        out.append('<g class="unassigned" fill="#ffffff" stroke="#ffffff" data-b="-1">')
        out.extend(f'<path d="{a["d"]}" data-c="{a["council"]}" data-s="{a["sa"]}" data-o="{a["base"]}"/>'
                   for a in unassigned)
        out.append("</g>")
    others = [b for b in by_board if b not in names]
    if others:
        out.append('<g class="other" fill="#e3e3e3" stroke="#e3e3e3" data-b="-2">')
        out.extend(f'<path d="{a["d"]}" data-c="{a["council"]}" data-s="{a["sa"]}" data-o="{a["base"]}"/>'
                   for b in others for a in by_board[b])
        out.append("</g>")
    for f in facts:
        b = f["_id"]
        atoms = by_board.get(b, [])
        label = f"{f['name']}: population {pops[b]:,}. Press Enter for its figures"
        out.append(f'<g class="board" data-b="{b}" fill="{colour[b]}" stroke="{colour[b]}" tabindex="0" '
                   f'role="button" aria-label="{esc(label)}">')
        out.extend(f'<path d="{a["d"]}" data-c="{a["council"]}" data-s="{a["sa"]}" data-o="{a["base"]}"/>'
                   for a in atoms)
        out.append("</g>")
    if m.moved:
        out.append(f'<path class="moved" d="{m.moved}" fill="url(#hatch-{key})"/>')
    out.append('<g class="councils">' + "".join(f'<path d="{d}"/>' for d in m.councils if d) + "</g>")
    if m.sas:
        out.append('<g class="sas">' + "".join(f'<path d="{d}"/>' for d in m.sas if d) + "</g>")
    out.append('<g class="outlines">' + "".join(
        f'<path id="o-{key}-{b}" d="{m.boards[b]}"/>' for b in names if b in m.boards) + "</g>")
    if m.baseline_boards:
        out.append('<g class="baseline">' + "".join(f'<path d="{d}"/>' for d in m.baseline_boards if d) + "</g>")
    out.append('<path class="hl-under" d=""/><path class="hl" d=""/></svg>')
    return "".join(out)


def _map_data(plan, m: MapGeometry, facts, report, checker, status_label: str) -> dict:
    atlas = plan.atlas
    rows = {r.id: r for r in report.boards}
    refs = _reference_labels(atlas, m.sa_level)
    per_board = _board_principles(checker) if checker is not None else {}
    boards = {}
    for f in facts:
        b = f["_id"]
        boards[str(b)] = {"name": f["name"], "code": f["code"], "pop": f"{f['population']:,}",
                          "figures": board_figures(f, rows.get(b), refs, report.summary.band),
                          "principles": per_board.get(b, []),
                          "point": list(m.board_points.get(b, (0, 0)))}
    ct = atlas.layers["council"].table
    councils = [[str(n), f"{int(p):,}"] for n, p in zip(ct["name"], ct["population"])]
    sas = []
    if m.sa_level:
        t = atlas.level_layer(m.sa_level).table
        col = "label" if "label" in t.columns else "name"
        sas = [[str(n), f"{int(p):,}"] for n, p in zip(t[col], t["population"])]
    base_names = {str(i): b.name for i, b in enumerate(plan.boards[: plan.n_baseline_boards])}
    return {"boards": boards, "councils": councils, "sas": sas, "baseBoards": base_names,
            "saLabel": refs.get(m.sa_level, "Combined authority") if m.sa_level else "",
            "status": status_label}


def map_block(key: str, plan, facts, report, checker, status: tuple[str, str, str], view=None,
              caption: str = "") -> tuple[str, str]:
    """``(html of the map block, the data script)`` for one plan."""
    m = build_map(plan)
    data = _map_data(plan, m, facts, report, checker, status[1])
    view_attr = ""
    if view is not None:
        x, y, w, h = m.svg_box(view)
        pad = max(w, h) * 0.05
        view_attr = f' data-view="{int(x - pad)} {int(y - pad)} {int(w + 2 * pad)} {int(h + 2 * pad)}"'
    legend = ['<ul class="legend">',
              '<li><span class="key key-board"></span>Board (colour as in the table)</li>',
              '<li><label><input type="checkbox" data-layer="councils" checked> '
              '<span class="key key-council"></span>Councils</label></li>']
    if m.sas:
        sa_label = data["saLabel"] or "Combined authorities"
        legend.append(f'<li><label><input type="checkbox" data-layer="sas" checked> '
                      f'<span class="key key-sa"></span>{esc(sa_label)}</label></li>')
    if m.moved:
        legend.append('<li><label><input type="checkbox" data-layer="moved" checked> '
                      '<span class="key key-moved"></span>Moved from its baseline board</label></li>')
    if m.baseline_boards:
        legend.append('<li><label><input type="checkbox" data-layer="baseline"> '
                      '<span class="key key-baseline"></span>Baseline boards</label></li>')
    legend.append("</ul>")
    html_ = (f'<section class="map-block" id="map-{key}" data-json="data-{key}"{view_attr} aria-label="Map{esc(caption)}">'
             '<div class="map-col"><div class="map-tools" role="toolbar" aria-label="Map zoom">'
             '<button type="button" data-zoom="in" aria-label="Zoom in">+</button>'
             '<button type="button" data-zoom="out" aria-label="Zoom out">\u2212</button>'
             '<button type="button" data-zoom="reset">Whole map</button>'
             f'<span class="status-tag status-{status[0]}">{esc(status[1])}</span></div>'
             f'<div class="map-wrap">{_svg(m, key, facts, plan.atlas)}'
             '<div class="tip" role="tooltip" hidden></div></div>' + "".join(legend) +
             '<p class="small hint">Hover a board for its name and population; click it, or Tab to it and press '
             "Enter, for its figures. Zoom with the buttons, the mouse wheel or + and \u2212; drag to pan.</p></div>"
             f'<aside class="panel" tabindex="-1" aria-live="polite" aria-label="Board figures">'
             f'<h2>Board figures</h2><p class="status-line">{esc(status[1])}</p>'
             "<p>Select a board on the map or in the table.</p></aside></section>")
    script = f'<script type="application/json" id="data-{key}">{json_for_script(data)}</script>'
    return html_, script


def boards_table(key: str, facts: list[dict], status_label: str, caption: str = "Boards") -> str:
    cols = [("#", "num"), ("Board", "text"), ("Code", "text"), ("Population", "num"), ("Share", "num"),
            ("Councils whole", "num"), ("Councils part", "num"), ("Coterminosity", "num"),
            ("NHS regions", "text"), ("Pieces", "num"), ("Flags", "text")]
    head = "".join(f'<th scope="col" data-type="{t}"><button type="button">{esc(c)}</button></th>' for c, t in cols)
    rows = []
    for k, f in enumerate(facts):
        cot = f["coterminosity_index"]
        cells = [
            (k + 1, str(k + 1)),
            (f["name"], None),
            (f["code"], esc(f["code"])),
            (f["population"], f"{f['population']:,}"),
            (f["population_share"], _pct(f["population_share"])),
            (len(f["councils_whole"]), str(len(f["councils_whole"]))),
            (len(f["councils_part"]), str(len(f["councils_part"]))),
            (-1 if cot is None else cot, _pct(cot)),
            ("; ".join(f["regions"]), esc("; ".join(f["regions"]))),
            (f["pieces"], str(f["pieces"])),
            ("; ".join(f["flags"]), esc("; ".join(f["flags"])) or "\u2014"),
        ]
        tds = []
        for j, (v, text) in enumerate(cells):
            if j == 1:
                text = (f'<svg class="sw" width="12" height="12" aria-hidden="true"><rect width="12" height="12" '
                        f'fill="{_colour(f["colour"])}"/></svg><button type="button" class="pick" '
                        f'data-map="{key}" data-b="{f["_id"]}">{name_html(f["name"])}</button>')
                tds.append(f'<th scope="row" data-v="{esc(v)}">{text}</th>')
            else:
                tds.append(f'<td data-v="{esc(v)}">{text}</td>')
        rows.append(f'<tr data-b="{f["_id"]}">{"".join(tds)}</tr>')
    return (f'<div class="table-wrap"><table class="boards sortable" id="boards-{key}">'
            f'<caption>{esc(caption)} <span class="status-tag">{esc(status_label)}</span> '
            '<span class="small">(click a heading to sort)</span></caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _summary_line(report) -> str:
    s = report.summary
    line = (f"{s.boards} boards \u00b7 population {s.population:,} \u00b7 smallest "
            f"{short_board_name(s.smallest[1])} {format_population(s.smallest[2])} \u00b7 largest "
            f"{short_board_name(s.largest[1])} {format_population(s.largest[2])}")
    cl = s.levels.get("council") if hasattr(s, "levels") else None
    if cl is not None:
        line += f" \u00b7 {cl.split} of {cl.areas} councils split"
    if s.unassigned_units:
        line += f" \u00b7 {s.unassigned_units:,} LSOAs unassigned"
    return line


def _document(title: str, status: tuple[str, str, str], body: str, scripts: list[str]) -> str:
    css, js = assets.CSS, assets.JS
    csp = ("default-src 'none'; img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'; "
           f"form-action 'none'; style-src '{_sha256(css)}'; script-src '{_sha256(js)}'")
    today = _date.today()
    return ("<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            f'<meta name="generator" content="icbmap {esc(__version__)}">'
            f"<title>{esc(title)} \u2014 {esc(status[1])}</title><style>{css}</style></head><body>"
            f'<a class="skip" href="#main">Skip to the map</a>'
            f'<header><p class="banner banner-{status[0]}" role="note"><strong>{esc(status[1])}.</strong> '
            f"{esc(status[2])}</p><h1>{esc(title)}</h1>"
            f'<p class="small">Made on {today.day} {today:%B %Y} with icbmap {esc(__version__)}. '
            "This page works offline and loads nothing from the internet.</p></header>"
            f'<main id="main">{body}</main>'
            f'<footer><p class="small"><strong>{esc(status[1])}.</strong> {esc(ONS_ATTRIBUTION)}. '
            f"{esc(NHS_ATTRIBUTION)}.</p></footer>"
            + "".join(scripts) + f"<script>{js}</script></body></html>\n")


# ------------------------------------------------------------------ pages
def _resolve(plan_or_proposal, title, rules):
    proposal = None
    plan = plan_or_proposal
    if hasattr(plan_or_proposal, "plan") and hasattr(plan_or_proposal, "title"):
        proposal, plan = plan_or_proposal, plan_or_proposal.plan
        title = title or proposal.title or None
        if rules is None:
            rules = getattr(proposal, "rules", None)
    return plan, proposal, title, rules


def default_rules():
    from icbmap.principles.ruleset import DEFAULT_PRESET
    from icbmap.principles.ruleset import load_rules

    return load_rules(DEFAULT_PRESET)


def _names(plans, extra=()) -> list[str]:
    out = list(extra)
    for plan in plans:
        out += [b.name for b in plan.boards] + [short_board_name(b.name) for b in plan.boards]
    atlas = plans[0].atlas
    for lvl in ("council", "district", "ca", "place", "region"):
        if lvl in atlas.layers:
            out += atlas.layers[lvl].table["name"].astype(str).tolist()
    return out


def page_html(plan_or_proposal, title: str | None = None, rules=None,
              progress: Progress | None = None) -> str:
    """The web page of one plan (or proposal) as text."""
    plan, proposal, title, rules = _resolve(plan_or_proposal, title, rules)
    extra = [title or "", getattr(proposal, "author", "") or ""]
    token = _BIDI_FIXES.set(_bidi_fixes(_names([plan], extra)))
    try:
        return _page_html(plan, proposal, title, rules, progress)
    finally:
        _BIDI_FIXES.reset(token)


def _page_html(plan, proposal, title, rules, progress) -> str:
    from icbmap.metrics.engine import Metrics

    progress = progress or Progress.silent()
    rules = rules if rules is not None else default_rules()
    title = _title(plan, title)
    status = status_of(plan)
    progress.step(0.05, "Computing the figures")
    metrics = Metrics(plan, observe=False)
    report = metrics.report()
    facts = facts_mod.board_facts(plan, report)
    progress.step(0.3, "Checking the design principles")
    checker, base = _checkers(plan, rules, metrics)
    progress.step(0.5, "Drawing the map")
    block, script = map_block("p", plan, facts, report, checker, status)
    progress.step(0.85, "Writing the page")
    who = f" Prepared by {esc(proposal.author)}." if proposal is not None and getattr(proposal, "author", "") else ""
    body = (f'<p class="summary">{esc(_summary_line(report))}.{who}</p>' + block
            + '<section id="boards" aria-labelledby="h-boards"><h2 id="h-boards">Boards</h2>'
            + boards_table("p", facts, status[1]) + "</section>"
            + principles_html(checker, base, rules, status[1]) + sources_html(plan.atlas, rules))
    return _document(title, status, body, [script])


def write_webpage(plan_or_proposal, path: str | Path, title: str | None = None, rules=None,
                  progress: Progress | None = None) -> list[Path]:
    """Write the web page to ``path`` (atomically); returns ``[path]``."""
    from icbmap.export.files import done, safe_output, write_text

    progress = progress or Progress.silent()
    path, _note = safe_output(path)
    text = page_html(plan_or_proposal, title, rules, progress.sub(0.0, 0.95))
    write_text(path, text)
    done(progress, f"Wrote {path.name}")
    return [path]


# ------------------------------------------------------------------ comparison
def comparison_html(cmp, title: str | None = None, progress: Progress | None = None, rules=None) -> str:
    """The web page of a :class:`~icbmap.compare.core.Comparison`; with ``rules`` (the rule set
    the comparison was made with) each board's figures list the principles it passes or fails."""
    extra = [title or ""] + [o.name for o in cmp.options]
    token = _BIDI_FIXES.set(_bidi_fixes(_names([o.plan for o in cmp.options], extra)))
    try:
        return _comparison_html(cmp, title, progress, rules)
    finally:
        _BIDI_FIXES.reset(token)


def _comparison_html(cmp, title, progress, rules) -> str:
    progress = progress or Progress.silent()
    options = cmp.options
    atlas = options[0].atlas
    n = len(options)
    title = title or f"Integrated care boards: {n} option{'s' if n != 1 else ''} compared"
    any_proposed = any(not o.plan.is_baseline() for o in options)
    status = (("proposed", PROPOSED, f"{PROPOSED}: the options are proposals drawn with icbmap, compared with "
                                     f"the baseline {atlas.baseline_label}.") if any_proposed
              else status_of(options[0].plan))
    names = [o.name for o in options]
    head = "".join(f'<th scope="col">{name_html(nm)}</th>' for nm in names)
    rows = []
    for r in cmp.rows:
        cells = []
        for i, t in enumerate(r.texts):
            best = i in r.best
            cells.append(f'<td class="{"best" if best else ""}">{esc(t)}'
                         + ('<span class="star" aria-label="best"> \u2605</span>' if best else "") + "</td>")
        note = f' title="{esc(r.note)}"' if r.note else ""
        rows.append(f'<tr><th scope="row"{note}>{esc(r.label)}</th>{"".join(cells)}</tr>')
    nav = "".join(f'<li><a href="#option-{i}">{name_html(nm)}</a></li>' for i, nm in enumerate(names))
    parts = [f'<p class="summary">Focus: {esc(cmp.focus.label)}. Data pack {esc(atlas.name)}; population '
             f"{esc(atlas.population_basis or 'as in the pack')}.</p>",
             f'<nav aria-label="Options"><ul class="nav">{nav}</ul></nav>',
             '<section id="comparison" aria-labelledby="h-cmp"><h2 id="h-cmp">The options side by side</h2>'
             f'<p class="status-line">{esc(status[1])}</p>'
             f'<div class="table-wrap"><table class="compare"><thead><tr><th scope="col">Figure</th>{head}</tr>'
             f'</thead><tbody>{"".join(rows)}</tbody></table></div>'
             '<p class="small">\u2605 best value in the row. Definitions: docs/compare.md and docs/metrics.md '
             "of icbmap.</p></section>"]
    scripts = []
    view = None if cmp.focus.england else focus_bounds(options[0].plan, cmp.contexts[0].territory)
    for i, o in enumerate(options):
        progress.step(0.1 + 0.8 * i / n, f"Drawing {o.name}")
        plan = o.plan
        st = status_of(plan)
        report = o.metrics.report()
        facts = facts_mod.board_facts(plan, report)
        focus_ids = {b.id for b in cmp.boards[i]}
        facts = [f for f in facts if f["_id"] in focus_ids] or facts
        checker = None
        if rules is not None:
            from icbmap.principles.check import check

            checker = check(o.metrics, rules)
        block, script = map_block(f"o{i}", plan, facts, report, checker, st, view=view, caption=f": {o.name}")
        scripts.append(script)
        parts.append(f'<section class="option" id="option-{i}" aria-labelledby="h-o{i}">'
                     f'<h2 id="h-o{i}">{name_html(o.name)}</h2>' + block
                     + boards_table(f"o{i}", facts, st[1], caption=f"Boards in the focus: {o.name}"))
        moves = []
        for j in range(n):
            if j == i:
                continue
            d = cmp.diff(j, i)
            items = []
            for lvl in ("place", "district"):
                for mv in d.by[lvl][:40]:
                    items.append(f"<li>{esc(lvl)}: {esc(mv.text())}</li>")
                if len(d.by[lvl]) > 40:
                    items.append(f"<li>{esc(lvl)}: \u2026 and {len(d.by[lvl]) - 40:,} more</li>")
            moves.append(f"<details><summary>From {name_html(options[j].name)}: {d.lsoas:,} LSOAs, "
                         f"{d.people:,} people move</summary><ul>{''.join(items)}</ul></details>")
        parts.append('<div class="moves"><h3>Moves</h3>' + "".join(moves) + "</div></section>")
    parts.append(sources_html(atlas))
    return _document(title, status, "".join(parts), scripts)


def write_comparison_webpage(cmp, path: str | Path, title: str | None = None,
                             progress: Progress | None = None, rules=None) -> list[Path]:
    """Write the comparison page to ``path`` (atomically); returns ``[path]``."""
    from icbmap.export.files import done, write_text

    progress = progress or Progress.silent()
    text = comparison_html(cmp, title, progress.sub(0.0, 0.95), rules=rules)
    write_text(Path(path), text)
    done(progress, f"Wrote {Path(path).name}")
    return [Path(path)]


__all__ = ["PROPOSED", "comparison_html", "esc", "json_for_script", "page_html", "status_of",
           "write_comparison_webpage", "write_webpage"]

