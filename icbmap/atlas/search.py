"""Search the atlas by code, name or (for GP practices) postcode.  Qt-free."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from icbmap.atlas.model import LEVEL_LABELS, Atlas

KIND_ORDER = {"board": 0, "council": 1, "district": 2, "ca": 3, "place": 4, "region": 5,
              "practice": 6, "unit": 7}


@dataclass(frozen=True)
class Hit:
    kind: str      # 'unit', a level name, or 'practice'
    index: int     # unit index, area index or practice row
    code: str
    name: str

    @property
    def label(self) -> str:
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
        for i, (c, n) in enumerate(zip(atlas.units["code"], atlas.units["name"])):
            entries.append(("unit", i, str(c), str(n)))
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
            scored.append((score, KIND_ORDER[e[0]], k))
        hits = [Hit(*self.entries[k]) for _, _, k in sorted(scored)[:limit]]
        if qn in self._postcodes:
            pc_hits = [Hit("practice", i, self.entries[self._practice_entry(i)][2],
                           self.entries[self._practice_entry(i)][3]) for i in self._postcodes[qn]]
            hits = pc_hits + [h for h in hits if h not in pc_hits]
        return hits[:limit]

    def _practice_entry(self, i: int) -> int:
        if not hasattr(self, "_practice_offset"):
            self._practice_offset = next(k for k, e in enumerate(self.entries) if e[0] == "practice")
        return self._practice_offset + i
