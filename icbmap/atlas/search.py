"""Search the atlas by code, name or (for GP practices) postcode.  Qt-free.

Besides the atlas's areas, LSOAs and GP practices, the index holds the electoral wards of
``shapefiles/wards_2024.csv`` (:mod:`icbmap.atlas.wards`), and a query that names the start
of several wards of one district (``"Royston"``: Royston Heath, Meridian and Palace in North
Hertfordshire) also finds them together as a *town*.  Hits rank by how well the name
matches (code, whole name, start, inside), then by kind (areas, towns, wards, places,
practices, LSOAs), then by population, largest first."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from icbmap.atlas.model import LEVEL_LABELS, Atlas

KIND_ORDER = {"board": 0, "council": 1, "district": 2, "ca": 3, "town": 4, "ward": 5, "place": 6, "region": 7,
              "practice": 8, "unit": 9}


@dataclass(frozen=True)
class Hit:
    kind: str      # 'unit', a level name, or 'practice'
    index: int     # unit index, area index or practice row
    code: str
    name: str
    detail: str = ""   # wards and towns: the district

    @property
    def label(self) -> str:
        if self.kind == "town":
            return f"{self.name} \u2014 town: {self.code} of {self.detail}"
        if self.kind == "ward":
            return f"{self.name} ({self.code}) \u2014 ward of {self.detail}"
        what = "GP practice" if self.kind == "practice" else LEVEL_LABELS[self.kind]
        return f"{self.name} ({self.code}) \u2014 {what}"


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


class SearchIndex:
    def __init__(self, atlas: Atlas):
        entries: list[tuple[str, int, str, str]] = []
        for level in ("board", "council", "district", "ca", "place", "region"):
            t = atlas.layers[level].table
            for i, (c, n) in enumerate(zip(t["code"], t["name"])):
                entries.append((level, i, str(c), str(n)))
        from icbmap.atlas.wards import read_wards

        self.wards = read_wards(atlas)
        self._ward_offset = len(entries)
        if self.wards is not None:
            for i, (c, n) in enumerate(zip(self.wards.code, self.wards.name)):
                entries.append(("ward", i, c, n))
        for i, (c, n) in enumerate(zip(atlas.units["code"], atlas.units["name"])):
            entries.append(("unit", i, str(c), str(n)))
        self._pop = {"ward": self.wards.population if self.wards is not None else np.zeros(0, np.int64)}
        for level in ("board", "council", "district", "ca", "place", "region"):
            self._pop[level] = atlas.layers[level].population
        self._pop["unit"] = atlas.population
        if atlas.practices is not None and "patients" in atlas.practices.columns:
            self._pop["practice"] = atlas.practices["patients"].to_numpy()
        #: towns found by the last queries: (name, district, ward indices)
        self.towns: list[tuple[str, str, list[int]]] = []
        self._postcodes: dict[str, list[int]] = {}
        if atlas.practices is not None:
            p = atlas.practices
            for i, (c, n, pc) in enumerate(zip(p["code"], p["name"], p["postcode"])):
                entries.append(("practice", i, str(c), str(n).title() if str(n).isupper() else str(n)))
                self._postcodes.setdefault(_norm(str(pc)), []).append(i)
        self.entries = entries
        self._names = np.array([e[3].lower() for e in entries], dtype=object)
        self._codes = np.array([e[2].upper() for e in entries], dtype=object)

    def find(self, text: str, limit: int = 30) -> list[Hit]:
        """Exact code or postcode first, then names starting with the text, then containing it."""
        q = text.strip()
        if not q:
            return []
        qn = _norm(q)
        ql = q.lower()
        scored: list[tuple[int, int, int]] = []
        for k, e in enumerate(self.entries):
            code, name = self._codes[k], self._names[k]
            if code == qn:
                score = 0
            elif name == ql:
                score = 1
            elif name.startswith(ql):
                score = 2
            elif code.startswith(qn) and len(qn) >= 3:
                score = 3
            elif ql in name:
                score = 4
            else:
                continue
            scored.append((score, KIND_ORDER[e[0]], -self._population(e[0], e[1]), k, None))
        scored.extend(self._towns_for(q))
        hits = [h if h is not None else self._hit(k) for *_, k, h in sorted(scored, key=lambda s: s[:4])[:limit]]
        if qn in self._postcodes:
            pc_hits = [Hit("practice", i, self.entries[self._practice_entry(i)][2],
                           self.entries[self._practice_entry(i)][3]) for i in self._postcodes[qn]]
            hits = pc_hits + [h for h in hits if h not in pc_hits]
        return hits[:limit]

    def _population(self, kind: str, i: int) -> int:
        pop = self._pop.get(kind)
        try:
            return int(pop[i]) if pop is not None else 0
        except (IndexError, ValueError, TypeError):
            return 0

    def _hit(self, k: int) -> Hit:
        kind, i, code, name = self.entries[k]
        if kind == "ward":
            return Hit(kind, i, code, name, self.wards.district[i])
        return Hit(kind, i, code, name)

    def _towns_for(self, q: str) -> list[tuple]:
        """Town hits for ``q``: two or more wards of one district named ``q`` or ``q`` plus more words."""
        if self.wards is None or len(q) < 3:
            return []
        ql = " ".join(q.lower().split())
        groups: dict[str, list[int]] = {}
        for k in range(len(self.wards.name)):
            n = self.wards.name[k].lower()
            if n == ql or n.startswith(ql + " "):
                groups.setdefault(self.wards.district[k], []).append(k)
        out = []
        for district, wards in sorted(groups.items()):
            if len(wards) < 2:
                continue
            name = self.wards.name[wards[0]][: len(ql)]
            key = (name, district, wards)
            if key not in self.towns:
                self.towns.append(key)
                del self.towns[:-200]
            idx = self.towns.index(key)
            pop = int(self.wards.population[wards].sum())
            hit = Hit("town", idx, f"{len(wards)} wards", name, district)
            out.append((1, KIND_ORDER["town"], -pop, -1, hit))
        return out

    def units_of(self, hit: Hit) -> np.ndarray:
        """The LSOAs (unit indices) of a ward or town hit."""
        if hit.kind == "ward":
            return self.wards.units[hit.index]
        if hit.kind == "town":
            wards = self.towns[hit.index][2]
            return np.unique(np.concatenate([self.wards.units[w] for w in wards]))
        raise ValueError(f"not a ward or town: {hit.kind}")

    def _practice_entry(self, i: int) -> int:
        if not hasattr(self, "_practice_offset"):
            self._practice_offset = next(k for k, e in enumerate(self.entries) if e[0] == "practice")
        return self._practice_offset + i
