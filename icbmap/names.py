"""Planners' words for boards, populations and flags, shared by the app and the briefing."""

from __future__ import annotations


def short_board_name(name: str) -> str:
    """'NHS Cheshire and Merseyside Integrated Care Board' -> 'Cheshire and Merseyside'."""
    s = name.strip()
    if s.startswith("NHS "):
        s = s[4:]
    for suffix in (" Integrated Care Board", " ICB"):
        if s.endswith(suffix):
            s = s[: -len(suffix)]
    return s


def format_population(n: int) -> str:
    """2_967_684 -> '2.97m', 509_143 -> '509k'."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.2f}m"
    if n >= 1_000:
        return f"{n / 1_000:.0f}k"
    return f"{n}"


POPULATION_FLAGS = {"below_floor": "< 0.5m", "below_minimum": "< 1m", "above_maximum": "> 3m"}


def board_flags(row) -> list[str]:
    """Short flags of a metrics ``BoardRow``: population band, pieces, NHS regions."""
    out = []
    if row.status in POPULATION_FLAGS:
        out.append(POPULATION_FLAGS[row.status])
    if not row.contiguous:
        out.append(f"{row.pieces - row.island_pieces} pieces")
    if len(row.regions) > 1:
        out.append(f"{len(row.regions)} regions")
    return out
