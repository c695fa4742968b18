"""Mapping a plan drawn on another data pack onto this one, by codes, and the error every
proposal reader raises.

:func:`map_plan_dict` translates the boards (by board code) and the moved units (by LSOA
code, runs ``A..B`` expanded over this pack's codes) and returns a :class:`MappingReport`
of what did not map.  It is used by the proposal reader (:mod:`icbmap.plan.proposal`) and
by the 2011-LSOA legacy mapping (:mod:`icbmap.plan.legacy`), which both sit above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icbmap.errors import DataError


class ProposalError(DataError):
    """A proposal file could not be opened; ``str()`` names the file and the problem."""


@dataclass
class MappingReport:
    """What happened when a proposal was mapped onto a different data pack."""

    file_pack: dict
    atlas_pack: dict
    units_changed: int = 0            # units the proposal moves away from the baseline
    units_mapped: int = 0             # of those, found in the current pack
    unmapped_units: list[str] = field(default_factory=list)
    boards: int = 0
    unmapped_boards: list[str] = field(default_factory=list)  # baseline board codes not in the pack

    @property
    def complete(self) -> bool:
        return not self.unmapped_units and not self.unmapped_boards

    def summary(self) -> str:
        lines = [
            f"drawn on data pack {self.file_pack.get('name')!r} ({self.file_pack.get('content_hash')}); "
            f"this is {self.atlas_pack.get('name')!r} ({self.atlas_pack.get('content_hash')})",
            f"{self.units_mapped:,} of {self.units_changed:,} moved units map by code",
        ]
        if self.unmapped_units:
            shown = ", ".join(self.unmapped_units[:10])
            more = f" and {len(self.unmapped_units) - 10:,} more" if len(self.unmapped_units) > 10 else ""
            lines.append(f"{len(self.unmapped_units):,} unit code(s) not in this pack: {shown}{more}")
        if self.unmapped_boards:
            lines.append(f"board code(s) not in this pack (kept as new boards): {', '.join(self.unmapped_boards)}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "file_pack": self.file_pack, "atlas_pack": self.atlas_pack,
            "units_changed": self.units_changed, "units_mapped": self.units_mapped,
            "unmapped_units": list(self.unmapped_units), "boards": self.boards,
            "unmapped_boards": list(self.unmapped_boards),
        }


def plan_from_dict(atlas, plan_dict: dict, path):
    from icbmap.plan.model import Plan

    try:
        return Plan.from_dict(atlas, plan_dict)
    except DataError as exc:
        raise ProposalError(path, exc.problem) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise ProposalError(path, f"the plan is malformed ({exc.__class__.__name__}: {exc})") from None


def map_plan_dict(plan_dict: dict, atlas, path, file_baseline_boards: int | None = None
                  ) -> tuple[dict, MappingReport]:
    """Translate a plan drawn on another data pack onto ``atlas`` by codes.

    Boards: the file's boards whose codes are baseline boards of ``atlas`` take those
    boards' ids (keeping the file's name, colour, lock and state); all others (created
    boards, and baseline boards of the file's pack that this pack lacks) become new boards
    after them.  Units: the moved units are listed by code; a run ``A..B`` covers the codes
    of this pack that sort from A to B.  Codes this pack does not have are reported, not
    placed.  Units the file does not list stay on this pack's baseline board.
    """
    import numpy as np

    from icbmap.plan.colours import baseline_colours

    if not isinstance(plan_dict, dict):
        raise ProposalError(path, "'plan' should be an object")
    raw_boards = plan_dict.get("boards")
    if not isinstance(raw_boards, list) or not raw_boards or not all(isinstance(b, dict) for b in raw_boards):
        raise ProposalError(path, "'plan.boards' should be a non-empty list of board objects")
    table = atlas.layers["board"].table
    base_codes = [str(c) for c in table["code"]]
    base_index = {c: i for i, c in enumerate(base_codes)}
    report = MappingReport(file_pack={}, atlas_pack={}, boards=len(raw_boards))
    new_boards: list[dict | None] = [None] * len(base_codes)
    id_map: dict[str, int] = {"-1": -1}
    extra: list[tuple[int, dict]] = []
    for pos, rb in enumerate(raw_boards):
        code = rb.get("code")
        if not isinstance(code, str):
            raise ProposalError(path, f"board #{pos} has no code")
        i = base_index.get(code)
        if i is not None and new_boards[i] is None:
            new_boards[i] = {**rb, "id": i}
            id_map[str(rb.get("id", pos))] = i
        else:
            extra.append((pos, rb))
    colours = baseline_colours(atlas)
    for i, b in enumerate(new_boards):
        if b is None:  # a baseline board of this pack that the file does not mention
            new_boards[i] = {"id": i, "code": base_codes[i], "name": str(table["name"].iat[i]),
                             "colour": colours[i], "locked": False, "active": True}
    for pos, rb in extra:
        nid = len(new_boards)
        id_map[str(rb.get("id", pos))] = nid
        new_boards.append({**rb, "id": nid})
        if file_baseline_boards is None or pos < file_baseline_boards:
            if file_baseline_boards is not None or rb.get("code") not in base_index:
                report.unmapped_boards.append(str(rb.get("code")))
    codes = atlas.unit_codes
    units = plan_dict.get("units", {}) or {}
    if not isinstance(units, dict):
        raise ProposalError(path, "'plan.units' should be an object of board id -> unit code runs")
    out_units: dict[str, list[str]] = {}
    unmapped: list[str] = []
    for key, runs in units.items():
        nid = id_map.get(str(key))
        if nid is None:
            raise ProposalError(path, f"'plan.units' names board id {key!r}, which is not in 'plan.boards'")
        if not isinstance(runs, list):
            raise ProposalError(path, f"the units of board {key} should be a list")
        got: list[str] = []
        for run in runs:
            if not isinstance(run, str):
                raise ProposalError(path, f"unit run {run!r} of board {key} is not a string")
            first, _, last = run.partition("..")
            last = last or first
            for end in dict.fromkeys((first, last)):
                if atlas.unit_index(end) is None:
                    unmapped.append(end)
            if last == first:
                if atlas.unit_index(first) is not None:
                    got.append(first)
                continue
            lo = int(np.searchsorted(codes, first, side="left"))
            hi = int(np.searchsorted(codes, last, side="right"))
            got.extend(str(c) for c in codes[lo:hi])
        report.units_mapped += len(got)
        if got:
            out_units[str(nid)] = got
    report.unmapped_units = unmapped
    report.units_changed = report.units_mapped + len(unmapped)
    mapped_dict = {**plan_dict, "boards": new_boards, "units": out_units}
    prac = plan_dict.get("practices", {}) or {}
    if isinstance(prac, dict) and prac:
        known = set() if atlas.practices is None else set(atlas.practices["code"].astype(str))
        out_p: dict[str, list[str]] = {}
        for key, pcodes in prac.items():
            nid = id_map.get(str(key))
            if nid is None or not isinstance(pcodes, list):
                continue
            keep = [str(c) for c in pcodes if str(c) in known]
            unmapped.extend(f"practice {c}" for c in pcodes if str(c) not in known)
            if keep:
                out_p[str(nid)] = keep
        mapped_dict["practices"] = out_p
    return mapped_dict, report
