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


_COMPASS = {"North East": "NE", "North West": "NW", "South East": "SE", "South West": "SW",
            "North": "N", "South": "S", "East": "E", "West": "W"}


def compact_board_name(name: str) -> str:
    """A shorter form of a board's short name for a crowded map: compass words as letters and
    "and" as "&" ("North East and North Cumbria" -> "NE & N Cumbria")."""
    words = short_board_name(name).split()
    out: list[str] = []
    k = 0
    while k < len(words):
        two = " ".join(words[k:k + 2])
        if k + 1 < len(words) and two in _COMPASS and words[k + 1][:1].isupper():
            out.append(_COMPASS[two])
            k += 2
            continue
        w = words[k]
        if w in _COMPASS and k + 1 < len(words) and words[k + 1][:1].isupper():
            out.append(_COMPASS[w])
        elif w == "and":
            out.append("&")
        else:
            out.append(w)
        k += 1
    return " ".join(out)


def board_initials(name: str) -> str:
    """The initials of a board's short name, as planners abbreviate boards
    ("Bedfordshire, Luton and Milton Keynes" -> "BLMK"); a name of fewer than three capitalised
    words keeps its :func:`compact_board_name` (two letters would be ambiguous)."""
    words = [w.strip(",.()") for w in short_board_name(name).split()]
    caps = [w for w in words if w[:1].isupper()]
    if len(caps) < 3:
        return compact_board_name(name)
    return "".join(w[0] for w in caps)
