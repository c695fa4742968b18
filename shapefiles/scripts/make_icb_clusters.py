"""Derive ``shapefiles/icb_clusters_2025.csv`` from the ICB cluster facts.

Run from the repository root::

    python shapefiles/scripts/make_icb_clusters.py [FACTS_CSV]

FACTS_CSV (default ``../shared/facts/icb_clusters_2025/icb_clusters_2025.csv``; see its README
and SOURCES.md) lists the 36 April 2026 boards grouped into the 26 clusters of 2025.  The
derived table keeps one row per board, keyed by the board's ONS code (E54, April 2026), with the
board's short name from ``shapefiles/configurations/boards_2026.csv``, and normalises two
columns so that a program can read them:

* ``status``: ``merged`` (merged on 1 April 2026, in effect), ``merger expected`` (clustered in
  2025, merger expected on 1 April 2027, **not decided**) or ``standalone`` (a cluster of one);
  the source's own wording is kept in ``status_note``;
* ``expected_merger_date``: ``2026-04-01``, ``2027-04-01`` or empty (none announced).

Deterministic: the same input gives byte-identical output (rows sorted by cluster and board code,
``\\n`` line ends).  Every board code must be a board of the April 2026 configuration.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shapefiles" / "icb_clusters_2025.csv"
COLUMNS = ["cluster_id", "cluster_name", "board_code", "board_name", "region", "status", "status_note",
           "expected_merger_date", "confidence", "source_url", "source_date"]


def _status(raw: str) -> str:
    low = raw.lower()
    if low.startswith("merged"):
        return "merged"
    if low.startswith("clustered"):
        return "merger expected"
    return "standalone"      # "standalone ..." and the recoded Hampshire and Isle of Wight (a cluster of one)


def _date(raw: str) -> str:
    raw = raw.strip()
    for d in ("2026-04-01", "2027-04-01"):
        if raw.startswith(d):
            return d
    return ""


def build(facts_csv: Path) -> str:
    with open(ROOT / "shapefiles" / "configurations" / "boards_2026.csv", newline="", encoding="utf-8") as fh:
        names = {r["icb_code"]: r["short_name"] for r in csv.DictReader(fh)}
    with open(facts_csv, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        code = r["member_icb26cd"].strip()
        if code not in names:
            raise SystemExit(f"{facts_csv}: board {code} ({r['member_name']}) is not an April 2026 board")
        out.append({
            "cluster_id": r["cluster_id"].strip(), "cluster_name": r["cluster_name"].strip(),
            "board_code": code, "board_name": names[code], "region": r["region"].strip(),
            "status": _status(r["status"]), "status_note": r["status"].strip(),
            "expected_merger_date": _date(r["expected_merger_date"]),
            "confidence": r["confidence"].strip(), "source_url": r["source_url"].strip(),
            "source_date": r["source_date"].strip()})
    missing = sorted(set(names) - {r["board_code"] for r in out})
    if missing:
        raise SystemExit(f"{facts_csv}: no cluster for the April 2026 board(s) {', '.join(missing)}")
    out.sort(key=lambda r: (r["cluster_id"], r["board_code"]))
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(out)
    return buf.getvalue()


def main(facts_csv: Path) -> int:
    text = build(facts_csv)
    OUT.write_text(text, encoding="utf-8", newline="")
    n = text.count("\n") - 1
    print(f"wrote {OUT.relative_to(ROOT)}: {n} boards")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1
                  else ROOT.parent / "shared" / "facts" / "icb_clusters_2025" / "icb_clusters_2025.csv"))
