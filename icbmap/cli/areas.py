"""``icbmap data areas add|list|remove`` and ``icbmap data trusts FILE``."""

from __future__ import annotations

import sys

def add_arguments(dsub) -> None:
    areas = dsub.add_parser("areas", help="reference geographies: your own layers, measured like councils")
    asub = areas.add_subparsers(dest="areas_command", metavar="ACTION", required=True)
    add = asub.add_parser("add", help="add a reference geography from a CSV of codes or from polygons")
    add.add_argument("name", help="a short name (letters, digits, _ and -), e.g. my_areas")
    add.add_argument("file", help="CSV mapping district/council/LSOA codes to areas, or polygons "
                                  "(GeoJSON, GeoPackage, shapefile)")
    add.add_argument("--level", choices=["district", "council", "lsoa"], help="what the CSV's codes are "
                                                                              "(default: from its header)")
    add.add_argument("--name-field", help="column or field naming the areas")
    add.add_argument("--code-field", help="column or field holding the areas' codes (optional)")
    add.add_argument("--label", help="a label to show (default: the name)")
    asub.add_parser("list", help="list the reference geographies (bundled and yours)")
    rm = asub.add_parser("remove", help="remove one of your reference geographies")
    rm.add_argument("name")
    tr = dsub.add_parser("trusts", help="refresh the NHS trusts table from a newer ODS trusts file (etr.csv)")
    tr.add_argument("file", help="the NHS ODS 'NHS Trusts' file (etr.csv) or a CSV with code, name, postcode")
    tr.add_argument("--ae", help="an NHS England monthly A&E provider CSV to tell acute trusts (type 1) apart "
                                 "(default: keep the kinds already known)")


def run_areas(args) -> int:
    from icbmap.atlas import areas_store
    from icbmap.atlas.references import build_reference, describe_reference
    from icbmap.cli.common import load_atlas_for

    cmd = args.areas_command
    if cmd == "list":
        atlas = load_atlas_for(args)
        for key, ref in atlas.references.items():
            kind = "bundled" if ref.source == "bundled" else f"yours, from {ref.source}"
            print(f"{ref.name:<32} {len(ref):>4} areas  {ref.label}  ({kind})")
        for r in areas_store.user_reference_list():
            if "ref:" + r["name"] not in atlas.references:
                print(f"{r['name']:<32} {'':>4}        not attached to this pack (does not fit it): {r['path']}")
        return 0
    if cmd == "remove":
        path = areas_store.remove_user_reference(args.name)
        print(f"removed {args.name} ({path})")
        return 0
    if cmd == "add":
        atlas = load_atlas_for(args)
        ref = build_reference(atlas, args.name, args.file, args.level, args.name_field, args.code_field,
                              args.label)
        text = describe_reference(ref)  # before saving: a failure saves nothing
        path = areas_store.add_reference(atlas, ref)
        print(text)
        print(f"saved as {path}")
        return 0
    print(f"unknown areas action {cmd}", file=sys.stderr)
    return 2


def run_trusts(args) -> int:
    from icbmap.atomic import atomic_write_text
    from icbmap.progress import Progress
    from icbmap.trusts.store import trusts_table_path, user_trusts_path
    from icbmap.trusts.table import build_trusts_table, read_trusts_table

    previous = read_trusts_table(trusts_table_path())
    t = build_trusts_table(args.file, args.ae, previous, Progress.stderr("postcodes"))
    text = t.to_csv(index=False, float_format="%.0f", lineterminator="\n")
    out = user_trusts_path()
    atomic_write_text(out, text)
    counts = t["kind"].value_counts()
    print(f"{len(t)} open English trusts: " + ", ".join(f"{k} {n}" for k, n in counts.items())
          + f"; {int(t['x'].isna().sum())} without a grid reference. Saved as {out}")
    return 0
