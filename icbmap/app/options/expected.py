"""Options ▸ Add the expected April 2027 map: the 2025 clusters merged, as an option beside the
others (one click), so a planner compares a proposal with the cluster map in the Comparison dock.

The option is named "April 2027 (expected: 2025 clusters merged; not decided)" and its proposal's
notes carry the sources (:mod:`icbmap.atlas.expected_2027`).  On a window whose baseline is not
the April 2026 boards (or the expected map itself), the message says which baseline to open.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from icbmap.errors import IcbmapError


def add_expected_option(manager, ask=None):
    """Add (or switch to) the expected April 2027 map as an option; returns it, or None."""
    from icbmap.atlas.clusters import EXPECTED_LABEL
    from icbmap.atlas.expected_2027 import provenance
    from icbmap.plan import proposal as prop
    from icbmap.plan.expected import expected_plan

    for i, o in enumerate(manager.options):
        if o.name == EXPECTED_LABEL:
            manager.switch_to(i)
            return o
    try:
        plan = expected_plan(manager.w.atlas)
    except IcbmapError as exc:
        (ask or QMessageBox.warning)(manager.w, "Cannot add the expected April 2027 map", str(exc))
        return None
    p = provenance()
    notes = f"{EXPECTED_LABEL}. Boards: {p.source}. {p.note[:1].upper() + p.note[1:]}."
    proposal = prop.Proposal.new(plan, title=EXPECTED_LABEL, notes=notes)
    return manager.add_option(plan, EXPECTED_LABEL, proposal=proposal)


__all__ = ["add_expected_option"]
