"""The 2025 ICB clusters and the expected April 2027 mergers (Qt-free).

``shapefiles/icb_clusters_2025.csv`` (derived by ``shapefiles/scripts/make_icb_clusters.py`` from
``shared/facts/icb_clusters_2025``; see ``shapefiles/SOURCES.md``) lists the 36 April 2026 boards
in the 26 clusters their leadership teams formed in 2025.  If every multi-board cluster merges
on 1 April 2027, England has 26 boards: that map is **expected, not decided**, and everything
built from it says so (:data:`EXPECTED_LABEL`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from icbmap.errors import DataError
from icbmap.paths import shapefiles_dir
from icbmap.safeio import open_input

MAX_BYTES = 1024 * 1024
COLUMNS = ["cluster_id", "cluster_name", "board_code", "board_name", "region", "status", "status_note",
           "expected_merger_date", "confidence", "source_url", "source_date"]
REQUIRED = ["cluster_id", "cluster_name", "board_code", "status", "expected_merger_date", "confidence"]
STATUSES = ("merged", "merger expected", "standalone")
CONFIDENCES = ("confirmed", "reported", "inferred")
#: the configuration key and label of the expected April 2027 map
EXPECTED_KEY = "2027-expected"
EXPECTED_LABEL = "April 2027 (expected: 2025 clusters merged; not decided)"
#: one line naming where the clusters come from, for panels, exports and briefings
SOURCE_TEXT = ("2025 ICB clusters as reported by NHS Confederation (28 Aug 2025, updated 6 Oct 2025), the "
               "Written Ministerial Statement HCWS915 (9 Sep 2025) and the boards' own papers; no 2027 merger "
               "is confirmed (icb_clusters_2025.csv, see shapefiles/SOURCES.md)")

#: the same, short, for the foot of a printed page
SHORT_SOURCE = ("2025 ICB clusters (NHS Confederation, 6 Oct 2025; HCWS915, 9 Sep 2025; boards' papers) "
                "applied to the April 2026 boards")

_CODE = re.compile(r"^E54\d{6}$")
_CLUSTER = re.compile(r"^C\d{2}$")


def clusters_path() -> Path:
    return shapefiles_dir() / "icb_clusters_2025.csv"


def load_clusters(path: str | Path | None = None, boards=None) -> pd.DataFrame:
    """The cluster table: one row per April 2026 board (``board_code``, E54), its ``cluster_id``,
    ``cluster_name``, ``status`` (merged / merger expected / standalone), ``expected_merger_date``
    (``2026-04-01``, ``2027-04-01`` or empty) and ``confidence``.

    ``boards`` (optional): the board codes of the pack's April 2026 configuration; a table
    naming a board outside them is refused (:class:`DataError` naming the file and the board).
    """
    path = Path(path) if path is not None else clusters_path()
    try:
        with open_input(path, "cluster table", MAX_BYTES) as fh:
            t = pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(path, f"cannot read the cluster table ({exc})") from None
    missing = [c for c in REQUIRED if c not in t.columns]
    if missing:
        raise DataError(path, f"not an icbmap cluster table: no column {missing[0]!r}")
    for c in COLUMNS:
        if c not in t.columns:
            t[c] = ""
    t = t[COLUMNS].apply(lambda s: s.str.strip())
    if t.empty:
        raise DataError(path, "the cluster table has no rows")
    for i, r in enumerate(t.itertuples(index=False), start=2):
        if not _CODE.match(r.board_code):
            raise DataError(path, f"line {i}: {r.board_code!r} is not an ICB code (E54 and six digits)")
        if not _CLUSTER.match(r.cluster_id):
            raise DataError(path, f"line {i}: {r.cluster_id!r} is not a cluster id (C and two digits)")
        if r.status not in STATUSES:
            raise DataError(path, f"line {i}: status {r.status!r} is not one of {', '.join(STATUSES)}")
        if r.confidence not in CONFIDENCES:
            raise DataError(path, f"line {i}: confidence {r.confidence!r} is not one of {', '.join(CONFIDENCES)}")
        if r.expected_merger_date not in ("", "2026-04-01", "2027-04-01"):
            raise DataError(path, f"line {i}: expected_merger_date {r.expected_merger_date!r} should be "
                                  "2026-04-01, 2027-04-01 or empty")
        if any(ch < " " for ch in "".join(r)):
            raise DataError(path, f"line {i}: a value holds a control character")
    dup = t["board_code"][t["board_code"].duplicated()]
    if len(dup):
        raise DataError(path, f"the board {dup.iloc[0]} is in two clusters")
    names = t.groupby("cluster_id")["cluster_name"].nunique()
    if (names > 1).any():
        raise DataError(path, f"the cluster {names[names > 1].index[0]} has two names")
    if boards is not None:
        known = {str(b) for b in boards}
        extra = sorted(set(t["board_code"]) - known)
        if extra:
            raise DataError(path, f"the cluster table names the board {extra[0]}, which the pack's April 2026 "
                                  f"configuration lacks ({len(extra)} such board{'s' if len(extra) > 1 else ''})")
    return t.reset_index(drop=True)


def cluster_of(clusters: pd.DataFrame) -> dict[str, str]:
    """April 2026 board code -> cluster id."""
    return dict(zip(clusters["board_code"], clusters["cluster_id"]))


__all__ = ["COLUMNS", "EXPECTED_KEY", "EXPECTED_LABEL", "SOURCE_TEXT", "cluster_of", "clusters_path",
           "load_clusters"]
