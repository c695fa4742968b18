"""The words the main window shows for what is under the mouse or selected.

Plain functions of the atlas, the plan and a few indices, with no Qt, so the status bar,
the map's tooltips and the board dialogs say the same thing in the same words:

* :func:`and_join` — ``['A', 'B', 'C']`` -> ``'A, B and C'``;
* :func:`describe_selection` — ``'Waverley and Guildford (2 districts, 160 LSOAs)'``;
* :func:`describe_unit` and :func:`describe_practice` — the status-bar line and the
  tooltip for one LSOA (with the reference geographies holding it) or one GP practice.
"""

from __future__ import annotations

import html

from icbmap.atlas.model import LEVEL_LABELS
from icbmap.names import short_board_name


def and_join(names) -> str:
    """['A', 'B', 'C'] -> 'A, B and C'."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def describe_selection(atlas, plan, level: str, units) -> str:
    """'Waverley and Guildford (2 districts, 160 LSOAs)' or '3 LSOAs', for ``units``
    selected at ``level``."""
    n = len(units)
    lsoas = f"{n:,} LSOA{'s' if n != 1 else ''}"
    if level in ("unit", "board") or n == 0:
        if level == "board" and n:
            boards = sorted(set(plan.assignment[units].tolist()))
            names = [short_board_name(plan.boards[b].name) for b in boards]
            return f"{and_join(names)} ({lsoas})"
        return lsoas
    codes = atlas.unit_level(level)[units]
    areas = sorted(set(codes.tolist()))
    table = atlas.layers[level].table
    names = [str(table["name"].iat[a]) for a in areas[:3]]
    count = f"{len(areas)} {area_noun(level, len(areas))}"
    if len(areas) > 3:
        return f"{and_join(names[:3] + [f'{len(areas) - 3} more'])} ({count}, {lsoas})"
    return f"{and_join(names)} ({count}, {lsoas})"


#: one area of a level, in running text (the labels carry notes in brackets: "Place (sub-ICB
#: location)", which read badly inside a bracket: "(1 place (sub-icb location), 342 LSOAs)")
AREA_NOUNS = {"unit": "LSOA", "district": "district", "council": "council", "ca": "combined authority",
              "place": "place", "board": "board", "region": "NHS region"}


def area_noun(level: str, n: int) -> str:
    """'place' or 'places', 'combined authority' or 'combined authorities', for ``n`` areas."""
    from icbmap.atlas.model import LEVEL_PLURALS

    if n == 1:
        return AREA_NOUNS.get(level, LEVEL_LABELS.get(level, level).lower())
    return LEVEL_PLURALS.get(level, AREA_NOUNS.get(level, level) + "s")


def selection_summary(atlas, plan, level: str, units, practices) -> str:
    """The status-bar line for a selection: what, how many people, in which boards."""
    pop = int(atlas.population[units].sum()) if len(units) else 0
    boards = sorted(set(plan.assignment[units].tolist())) if len(units) else []
    names = ", ".join(short_board_name(plan.boards[b].name) for b in boards[:3])
    more = f" +{len(boards) - 3}" if len(boards) > 3 else ""
    n = len(practices)
    ptxt = f", {n} GP practice{'s' if n != 1 else ''}" if n else ""
    return f"Selected {describe_selection(atlas, plan, level, units)}{ptxt}, {pop:,} people, in {names}{more}"


def describe_unit(atlas, plan, unit: int) -> tuple[str, str]:
    """The status-bar line and the (rich text) tooltip for LSOA ``unit``."""
    a = atlas
    u = a.units
    name = u["name"].iat[unit]
    code = u["code"].iat[unit]
    d = a.layers["district"].table["name"].iat[int(u["district"].iat[unit])]
    c = a.layers["council"].table["name"].iat[int(u["council"].iat[unit])]
    ca_i = int(u["ca"].iat[unit])
    ca = a.layers["ca"].table["name"].iat[ca_i] if ca_i >= 0 else "none"
    place = a.layers["place"].table["name"].iat[int(u["place"].iat[unit])]
    b = int(plan.assignment[unit])
    board = plan.boards[b].name if b >= 0 else "unassigned"
    pop = int(a.population[unit])
    basis = " (apportioned)" if a.population_estimated else ""
    text = (f"{name} ({code}) \u00b7 district {d} \u00b7 council {c} \u00b7 board "
            f"{short_board_name(board)} \u00b7 {pop:,} people{basis}")
    tip = (f"<b>{name}</b> ({code})<br>District: {d}<br>Council: {c}<br>"
           f"Combined authority: {ca}<br>Place: {place}<br>Board: {board}<br>"
           f"Population: {pop:,}{basis}")
    refs = reference_lines(atlas, unit)
    if refs:
        tip += "<br>" + "<br>".join(refs)
    return text, tip


def reference_lines(atlas, unit: int) -> list[str]:
    """'Strategic authorities (Nov 2026): Greater Lincolnshire (proposed)' for every reference
    geography of the atlas that has an area holding ``unit`` (its status when it has one)."""
    out = []
    for ref in getattr(atlas, "references", {}).values():
        area = int(ref.unit_area[unit])
        if area < 0:
            continue
        table = ref.layer.table
        status = str(table["status"].iat[area]) if "status" in table.columns else ""
        status = "" if status in ("", "nan", "None") else f" ({status})"
        out.append(html.escape(f"{ref.label}: {table['name'].iat[area]}{status}"))
    return out


def describe_practice(atlas, plan, i: int) -> tuple[str, str]:
    """The status-bar line and the (rich text) tooltip for GP practice ``i``."""
    p = atlas.practices
    b = int(plan.practice_assignment[i])
    board = short_board_name(plan.boards[b].name) if b >= 0 else "unassigned"
    pcn = p["pcn_name"].iat[i] or "no PCN in the map file"
    name = str(p["name"].iat[i] or "")
    text = (f"GP practice {name} ({p['code'].iat[i]}), {p['postcode'].iat[i]} \u00b7 "
            f"{int(p['patients'].iat[i]):,} registered patients \u00b7 PCN {pcn} \u00b7 board {board}")
    tip = (f"<b>{name or p['code'].iat[i]}</b> ({p['code'].iat[i]})<br>Postcode: {p['postcode'].iat[i]}"
           f"<br>Registered patients: {int(p['patients'].iat[i]):,}<br>PCN: {pcn}<br>Board: {board}")
    return text, tip
