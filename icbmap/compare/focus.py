"""A comparison's focus: the part of England it looks at (Qt-free).

A focus is a set of units of the atlas's fixed geography: all of England, an NHS region,
or the union of baseline boards / places named by code or name.  An option's *focus
boards* are its active boards holding at least one focus unit; the comparison rows count
only those boards and the areas they touch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from icbmap.errors import IcbmapError
from icbmap.names import short_board_name


class FocusError(IcbmapError):
    """A focus that names nothing in the data pack."""


@dataclass
class Focus:
    label: str
    units: np.ndarray          # bool per unit
    parts: list[tuple[str, str, str]]   # (level, code, name) named by the focus

    @property
    def england(self) -> bool:
        return not self.parts

    def to_dict(self) -> dict:
        return {"label": self.label, "units": int(self.units.sum()),
                "areas": [{"level": lvl, "code": c, "name": n} for lvl, c, n in self.parts]}


def england(atlas) -> Focus:
    return Focus("England", np.ones(atlas.n_units, bool), [])


def _norm(s: str) -> str:
    return " ".join(str(s).lower().replace("&", "and").split())


def _candidates(atlas, level: str) -> dict[str, int]:
    t = atlas.layers[level].table
    out: dict[str, int] = {}
    for i, (code, name) in enumerate(zip(t["code"].astype(str), t["name"].astype(str))):
        for key in (code, name, short_board_name(name)):
            out.setdefault(_norm(key), i)
        if level == "place" and " - " in name:      # "NHS X ICB - 06K": the NHS code alone
            out.setdefault(_norm(name.rsplit(" - ", 1)[1]), i)
    if level == "place":                            # usual names: the official name and NHS code too
        for col in ("official_name", "code_nhs"):
            if col in t.columns:
                for i, v in enumerate(t[col].astype(str)):
                    if v:
                        out.setdefault(_norm(v), i)
    return out


def resolve_focus(atlas, spec: str | None) -> Focus:
    """``None``/"England" -> all of England; otherwise comma-separated NHS regions, boards or
    places (codes or names, case-insensitive).  Raises :class:`FocusError` naming every part
    that matches nothing, with the regions to choose from."""
    if spec is None or _norm(spec) in ("", "england"):
        return england(atlas)
    parts = [p.strip() for p in str(spec).split(",") if p.strip()]
    if not parts:
        return england(atlas)
    mask = np.zeros(atlas.n_units, bool)
    named: list[tuple[str, str, str]] = []
    missing: list[str] = []
    lookups = {lvl: _candidates(atlas, lvl) for lvl in ("region", "board", "place")}
    for p in parts:
        key = _norm(p)
        hit = None
        for lvl in ("region", "board", "place"):
            if key in lookups[lvl]:
                hit = (lvl, lookups[lvl][key])
                break
        if hit is None:
            missing.append(p)
            continue
        lvl, i = hit
        t = atlas.layers[lvl].table
        named.append((lvl, str(t["code"].iat[i]), str(t["name"].iat[i])))
        mask[atlas.members(lvl, i)] = True
    if missing:
        regions = ", ".join(atlas.layers["region"].table["name"].astype(str))
        from icbmap.guards import echo

        shown = ", ".join(echo(m) for m in missing[:5]) + (f" and {len(missing) - 5:,} more" if len(missing) > 5 else "")
        raise FocusError(
            f"focus {shown} names no NHS region, board or place of data pack "
            f"{atlas.name!r}. Give a region ({regions}), or board / place codes or names separated by commas")
    if len(named) == 1:
        label = short_board_name(named[0][2])
    else:
        label = ", ".join(short_board_name(n) for _, _, n in named)
    return Focus(label, mask, named)
