"""Derive the bundled reference geographies (``shapefiles/reference_areas_2026.csv``).

Run from the repository root::

    python shapefiles/scripts/make_reference_areas.py [FACTS_DIR]

FACTS_DIR (default ``../shared/facts``) holds ``strategic_authorities_2026.csv`` and
``lgr_unitaries.csv`` (sources: ``SOURCES_2026_local_government.md`` there).  The 2025
combined authorities and the GLA come from ``shapefiles/combined_authorities_2025.csv``.

Writes two tables:

* ``reference_areas_2026.csv``: one row per area: geography, area_code, code_kind,
  area_name, kind, status, date, district_codes (``;``-separated LAD 2025 codes), source;
* ``reference_areas_2026_left_out.csv``: the rows left out and why (a row naming a district
  marked ``[part]`` cannot be drawn from whole districts; no boundary is guessed).

Areas without an ONS code get a stable local code ``icbmap:<geography>:<slug of the name>``,
marked ``local (not ONS)`` in ``code_kind``.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shapefiles" / "reference_areas_2026.csv"
LEFT_OUT = ROOT / "shapefiles" / "reference_areas_2026_left_out.csv"
SA = "strategic_authorities_2026"
SA_PROPOSED = "strategic_authorities_proposed"
LGR = "council_reorganisation"
PREFIX = {SA: "sa", SA_PROPOSED: "sa-proposed", LGR: "lgr"}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def local(geo: str, name: str) -> str:
    return f"icbmap:{PREFIX[geo]}:{slug(name)}"


def main(facts: Path) -> int:
    lads = {r["lad_code"] for r in csv.DictReader(open(ROOT / "shapefiles" / "lad_2025.csv", encoding="utf-8"))}
    rows, left = [], []

    def add(geo, code, name, kind, status, date, codes, source):
        bad = [c for c in codes if c not in lads]
        if bad:
            raise SystemExit(f"{name}: district codes not in lad_2025.csv: {bad}")
        rows.append({"geography": geo, "area_code": code or local(geo, name),
                     "code_kind": "ONS" if code else "local (not ONS)", "area_name": name, "kind": kind,
                     "status": status, "date": date, "district_codes": ";".join(codes), "source": source})

    for r in csv.DictReader(open(ROOT / "shapefiles" / "combined_authorities_2025.csv", encoding="utf-8")):
        add(SA, r["ca_code"], r["ca_name"], r["kind"], "established", "before 2026",
            r["member_lad_codes"].split(";"), "ONS combined authorities 2025 (shapefiles/combined_authorities_2025.csv)")
    for r in csv.DictReader(open(facts / "strategic_authorities_2026.csv", encoding="utf-8")):
        geo = SA if r["status"] == "established" else SA_PROPOSED
        codes = r["member_council_codes"].split(";")
        if any("[part]" in c for c in codes):
            left.append({"geography": geo, "area_name": r["sa_name"], "status": r["status"],
                         "date": r["established_date"], "reason": "names districts in part"})
            continue
        add(geo, r["sa_code"], r["sa_name"], r["kind"], r["status"], r["established_date"], codes,
            "shared/facts/strategic_authorities_2026.csv: " + r["source"].split(" ")[0])
    for r in csv.DictReader(open(facts / "lgr_unitaries.csv", encoding="utf-8")):
        codes = r["predecessor_district_codes"].split(";")
        if any("[part]" in c for c in codes):
            part = [c.replace("[part]", "") for c in codes if "[part]" in c]
            left.append({"geography": LGR, "area_name": r["new_council_name"], "status": r["status"],
                         "date": r["vesting_date"],
                         "reason": "made of parts of districts " + ", ".join(part) + ": cannot be drawn from whole "
                                   "districts (no boundary guessed)"})
            continue
        add(LGR, "", r["new_council_name"], "unitary council", r["status"], r["vesting_date"], codes,
            "shared/facts/lgr_unitaries.csv (" + r["source"][:80].rsplit(" ", 1)[0] + " ...)")
    for path, data, fields in ((OUT, rows, list(rows[0])), (LEFT_OUT, left, list(left[0]))):
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            w.writerows(data)
        print(f"wrote {path.relative_to(ROOT)}: {len(data)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "facts"))
