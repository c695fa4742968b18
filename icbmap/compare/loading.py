"""Open several proposals as options on one atlas (Qt-free; the CLI and the app use it).

Bad input is reported per file, never fatal for the others: a file given twice (same path,
symlink or hard link) is opened once; a corrupt file or one drawn on another data pack is
refused with its reason (or, with ``map_pack``, mapped by codes with the mapping report
as a note); the good ones open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from icbmap.compare.core import Option
from icbmap.errors import IcbmapError
from icbmap.plan import proposal as prop


@dataclass
class Loaded:
    options: list[Option] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)     # one message per refused file
    notes: list[str] = field(default_factory=list)       # mapped packs, duplicates


def same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def option_name(proposal, path: Path, taken: set[str]) -> str:
    name = proposal.display_name if proposal.title else prop.Proposal(plan=None, path=path).display_name
    base, k = name, 2
    while name in taken:
        name = f"{base} ({k})"
        k += 1
    return name


def open_option(path, atlas, map_pack: bool = False, taken: set[str] | None = None,
                observe: bool = False) -> tuple[Option, str | None]:
    """One proposal file as an option; ``(option, note)``.  Raises :class:`IcbmapError`."""
    path = Path(path)
    note = None
    try:
        proposal = prop.load_proposal(path, atlas) if not map_pack else prop.read_proposal(path, atlas, map_pack=True)
    except prop.BaselineMismatchError as exc:
        raise prop.ProposalError(path, f"drawn on another baseline ({exc.baseline}) than the other options "
                                       f"({atlas.baseline_label}); options are compared on one baseline: "
                                       f"use --baseline {exc.baseline} to compare it with others drawn on it") from None
    if proposal.mapping is not None:
        note = f"{path}: mapped onto data pack {atlas.name!r}: " + proposal.mapping.summary().replace("\n", "; ")
    from icbmap.metrics.engine import Metrics

    name = option_name(proposal, path, taken or set())
    return Option(name, proposal.plan, Metrics(proposal.plan, observe=observe), path, proposal=proposal), note


def load_options(paths, atlas, map_pack: bool = False) -> Loaded:
    out = Loaded()
    seen: list[Path] = []
    taken: set[str] = set()
    for p in paths:
        path = Path(p)
        dup = next((s for s in seen if same_file(s, path)), None)
        if dup is not None:
            out.refused.append(f"{path}: the same file as {dup}, given twice; compared once")
            continue
        seen.append(path)
        try:
            opt, note = open_option(path, atlas, map_pack, taken)
        except IcbmapError as exc:
            out.refused.append(str(exc))
            continue
        taken.add(opt.name)
        out.options.append(opt)
        if note:
            out.notes.append(note)
    return out
