"""What a data pack holds, in words: its layers with counts, populations and sources, the GP
practices, trusts and reference geographies attached, and the attributions
(``icbmap data info`` and the app's Data > Data pack information)."""

from __future__ import annotations

from icbmap.atlas.model import LEVEL_LABELS
from icbmap.atlas.practices_table import extract_label


def info_rows(atlas) -> list[dict]:
    rows = []
    for r in atlas.summary():
        prov = r["provenance"]
        pop_note = ""
        if r["layer"] == "unit" and atlas.population_estimated:
            pop_note = "apportioned from district totals"
        rows.append({
            "layer": LEVEL_LABELS[r["layer"]],
            "count": r["count"],
            "population": r["population"],
            "population_note": pop_note,
            "source": prov.source,
            "vintage": prov.vintage,
            "licence": prov.licence,
        })
    return rows


def baseline_lines(atlas) -> list[str]:
    """The board configuration in use and the others the pack holds, with provenance."""
    info = atlas.baseline_info()
    if not info:
        prov = atlas.layers["board"].provenance
        return [f"Boards: {len(atlas.layers['board'])} from the pack's own lookup ({prov.source}; {prov.vintage})"]
    out = [f"Baseline: {atlas.baseline_label}",
           f"  source: {info.get('source', '')}"]
    if info.get("note"):
        out.append(f"  note: {info['note']}")
    others = [f"{c['key']} ({c['label']}, {c['status']})" for c in atlas.baselines if str(c["key"]) != atlas.baseline]
    if others:
        out.append("  other baselines in this pack (--baseline KEY): " + "; ".join(others))
    return out


def format_info(atlas) -> str:
    rows = info_rows(atlas)
    built = atlas.meta.get("built_at", "?")
    built = (f"bundled, inputs sha256 {atlas.meta['inputs_sha256'][:16]}" if "inputs_sha256" in atlas.meta
             else f"built {built}")
    lines = [
        f"Data pack: {atlas.name}  (content hash {atlas.content_hash}, {built})",
        f"England population: {atlas.total_population:,}  ({atlas.population_basis})",
        *baseline_lines(atlas),
        "",
        f"{'layer':<26} {'count':>7} {'population':>12}  source (vintage; licence)",
        "-" * 100,
    ]
    for r in rows:
        pop = f"{r['population']:,}"
        lines.append(f"{r['layer']:<26} {r['count']:>7,} {pop:>12}  {r['source']} ({r['vintage']}; {r['licence']})")
        if r["population_note"]:
            lines.append(f"{'':<26} {'':>7} {'':>12}  population {r['population_note']}")
    if atlas.practices is not None:
        lines.append(f"{'GP practices':<26} {len(atlas.practices):>7,} "
                     f"{int(atlas.practices['patients'].sum()):>12,}  registered patients "
                     f"({extract_label(atlas.practices)})")
    else:
        lines.append(f"{'GP practices':<26} {'none':>7}  add them with `icbmap data practices FILE` "
                     "(NHS 'Patients Registered at a GP Practice')")
    if atlas.trusts is not None:
        acute = int((atlas.trusts["kind"] == "acute").sum())
        lines.append(f"{'NHS trusts (HQ)':<26} {len(atlas.trusts):>7,} {'':>12}  {acute} acute; "
                     f"{atlas.provenance['trusts'].line() if 'trusts' in atlas.provenance else ''}")
    for ref in atlas.references.values():
        # the name in full: a long one has a line of its own above its figures
        label = ref.label
        if len(label) > 26:
            lines.append(label)
            label = ""
        lines.append(f"{label:<26} {len(ref):>7,} {int(ref.layer.population.sum()):>12,}  "
                     f"reference geography '{ref.name}' ({'bundled' if ref.source == 'bundled' else ref.source})")
    lines += ["", "Attribution:"]
    seen = set()
    for prov in list(atlas.provenance.values()) + [atlas.layers[k].provenance for k in atlas.layers]:
        if prov.attribution and prov.attribution not in seen:
            seen.add(prov.attribution)
            lines.append(f"  {prov.attribution}")
    return "\n".join(lines)


__all__ = ["format_info", "info_rows"]
