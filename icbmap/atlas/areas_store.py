"""Reference geographies kept with the app: the bundled ones and the user's own.

* Bundled (``shapefiles/reference_areas_2026.csv``, made by
  ``shapefiles/scripts/make_reference_areas.py``): strategic authorities (November 2026),
  proposed strategic authorities, council reorganisation 2027-28.  Built from whole
  districts; rows naming districts in part are left out and listed in the provenance.
* The user's (``icbmap data areas add``): ``data_dir()/areas/<name>.json`` holding the
  member codes (district, council or LSOA) and the areas, written atomically.

:func:`attach_references` (called when a pack is loaded) puts all of them on the atlas;
one that does not fit the pack is skipped with a :class:`UserWarning` naming it, never
stopping the program from starting.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import pandas as pd

from icbmap.atlas.model import Atlas, Provenance
from icbmap.atlas.references import check_name, from_members, members_table
from icbmap.atomic import atomic_write_text
from icbmap.errors import DataError
from icbmap.safeio import loads_json, read_input
from icbmap.paths import data_dir, shapefiles_dir

BUNDLED_FILE = "reference_areas_2026.csv"
LEFT_OUT_FILE = "reference_areas_2026_left_out.csv"
FORMAT = "icbmap-areas"

BUNDLED = {
    "strategic_authorities_2026": (
        "Strategic authorities (Nov 2026)",
        "the 2025 combined authorities, the Greater London Authority and the four established in 2026"),
    "strategic_authorities_proposed": (
        "Strategic authorities, proposed (Nov 2026)",
        "proposed strategic authorities not made as at November 2026"),
    "council_reorganisation": (
        "Council reorganisation 2027-28",
        "new unitary councils: decided (Surrey, April 2027) and proposed (April 2028) where whole districts "
        "make them up"),
}
BUNDLED_SOURCE = ("icbmap fact tables from legislation.gov.uk statutory instruments (SI 2026/158, 159, 264, 362, "
                  "595), government decisions and council sources listed in shapefiles/SOURCES.md; members are "
                  "ONS LAD 2025 districts")


def areas_dir() -> Path:
    p = data_dir() / "areas"
    p.mkdir(parents=True, exist_ok=True)
    return p


def _bundled_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    d = shapefiles_dir()
    try:
        t = pd.read_csv(d / BUNDLED_FILE, dtype=str, keep_default_na=False)
        left = pd.read_csv(d / LEFT_OUT_FILE, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise DataError(d / BUNDLED_FILE, f"cannot read the bundled reference areas ({exc})") from None
    return t, left


def bundled_reference(atlas: Atlas, name: str):
    table, left = _bundled_tables()
    t = table[table["geography"] == name]
    label, what = BUNDLED[name]
    rows = []
    for _, r in t.iterrows():
        for code in r["district_codes"].split(";"):
            rows.append({"member": code, "code": r["area_code"], "name": r["area_name"], "status": r["status"],
                         "date": r["date"], "code_kind": r["code_kind"]})
    gone = left[left["geography"] == name]
    note = what + "."
    if len(gone):
        note += (f" Left out ({len(gone)}): " + "; ".join(f"{a} ({s} {d}): {why}" for a, s, d, why in
                                                          zip(gone["area_name"], gone["status"], gone["date"],
                                                              gone["reason"])))
    note += " Areas without an ONS code carry local codes 'icbmap:...' (not ONS)."
    prov = Provenance(source=BUNDLED_SOURCE, vintage="as at November 2026", note=note,
                      attribution="Contains public sector information licensed under the Open Government "
                                  "Licence v3.0")
    ref = from_members(atlas, name, label, pd.DataFrame(rows), "district", shapefiles_dir() / BUNDLED_FILE,
                       provenance=prov, source="bundled", report={"left_out": gone.to_dict("records")})
    return ref


# ------------------------------------------------------------------ the user's
def user_path(name: str) -> Path:
    return areas_dir() / f"{check_name(name)}.json"


def save_user_reference(atlas: Atlas, ref) -> Path:
    """Keep ``ref`` for later starts (its member codes: districts, councils or LSOAs)."""
    members, level = ref.members, ref.level
    if members is None:
        members, level = members_table(atlas, ref), "lsoa"
    report = {k: v for k, v in ref.report.items() if k != "cut"}
    report["cut_lsoas_list"] = [r["lsoa"] for r in ref.report.get("cut", [])][:5000]
    doc = {"format": FORMAT, "name": ref.name, "label": ref.label, "level": level, "source": ref.source,
           "added_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "pack": atlas.name,
           "provenance": ref.layer.provenance.to_dict(), "report": report,
           "members": members[["member", "code", "name", "status", "date", "code_kind"]].astype(str)
           .to_dict("list")}
    path = user_path(ref.name)
    atomic_write_text(path, json.dumps(doc, ensure_ascii=False, allow_nan=False) + "\n")
    return path


#: a saved reference geography is its member codes: far below this
MAX_DOC_BYTES = 64 << 20


def _read_doc(path):
    """A saved reference geography's JSON, read safely: a FIFO, device, huge or deeply nested
    file is a DataError naming it (the folder is read at every start), never a hang."""
    data = read_input(path, "reference geography", MAX_DOC_BYTES)
    doc = loads_json(data, path, "reference geography")
    from icbmap.guards import refuse_nonfinite

    refuse_nonfinite(doc, path, "reference geography")   # 1e400 parses as inf (issue 21)
    return doc


def read_user_reference(atlas: Atlas, path: Path):
    doc = _read_doc(path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError(path, "not an icbmap reference geography file")
    try:
        members = pd.DataFrame(doc["members"])
        return from_members(atlas, doc["name"], doc.get("label") or doc["name"], members, doc["level"], path,
                            provenance=Provenance.from_dict(doc.get("provenance", {})),
                            source=doc.get("source", ""), report=doc.get("report", {}))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(path, f"the reference geography is malformed ({exc.__class__.__name__}: {exc})") from None


def user_reference_list() -> list[dict]:
    out = []
    for p in sorted(areas_dir().glob("*.json")):
        try:
            doc = _read_doc(p)
            out.append({"name": doc["name"], "label": doc.get("label", ""), "level": doc.get("level", ""),
                        "areas": len(set(doc["members"]["code"])), "source": doc.get("source", ""),
                        "added_at": doc.get("added_at", ""), "path": str(p)})
        except (DataError, KeyError, TypeError):
            out.append({"name": p.stem, "label": "(unreadable)", "level": "", "areas": 0, "source": "",
                        "added_at": "", "path": str(p)})
    return out


def remove_user_reference(name: str) -> Path:
    path = user_path(name)
    if not path.exists():
        if name in BUNDLED:
            raise DataError(None, f"{name!r} is bundled with icbmap and cannot be removed")
        known = ", ".join(r["name"] for r in user_reference_list()) or "none"
        raise DataError(None, f"there is no reference geography {name!r} (yours: {known})")
    path.unlink()
    return path


def add_reference(atlas: Atlas, ref) -> Path:
    """Attach ``ref`` to ``atlas`` and keep it; refuses a bundled name."""
    if ref.name in BUNDLED or ref.name == "icb_clusters_2025":
        raise DataError(None, f"{ref.name!r} is the name of a bundled reference geography; choose another")
    path = save_user_reference(atlas, ref)
    atlas.add_reference(ref.key, ref)
    return path


# ------------------------------------------------------------------ attaching
def attach_references(atlas: Atlas, user: bool = True) -> None:
    """Put the bundled and the user's reference geographies on ``atlas`` (in that order)."""
    refs = {}
    for name in BUNDLED:
        try:
            ref = bundled_reference(atlas, name)
        except DataError as exc:
            warnings.warn(f"bundled reference geography {name} not attached: {exc}", UserWarning, stacklevel=2)
            continue
        refs[ref.key] = ref
    try:      # the 2025 ICB clusters, over the April 2026 boards (icbmap.atlas.expected_2027)
        from icbmap.atlas.expected_2027 import cluster_reference

        ref = cluster_reference(atlas)
        if ref is not None:
            refs[ref.key] = ref
    except DataError as exc:
        warnings.warn(f"reference geography icb_clusters_2025 not attached: {exc}", UserWarning, stacklevel=2)
    if user:
        for p in sorted(areas_dir().glob("*.json")):
            try:
                ref = read_user_reference(atlas, p)
            except DataError as exc:
                warnings.warn(f"reference geography {p.stem} not attached: {exc}", UserWarning, stacklevel=2)
                continue
            refs[ref.key] = ref
    atlas.set_references(refs)


__all__ = ["BUNDLED", "add_reference", "areas_dir", "attach_references", "bundled_reference",
           "read_user_reference", "remove_user_reference", "save_user_reference", "user_reference_list"]
