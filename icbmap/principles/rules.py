"""The rule catalogue: each principle is a kind, plain parameters and a label (Qt-free).

A :class:`Rule` is plain data (``kind``, ``params``, ``label``, ``id``, ``hard``, ``weight``), so a rule set can be
written to a file, shown in a dialog and turned into constraints by an optimiser without
knowing how it is checked.  :data:`KINDS` lists every kind with its parameters, their types
and defaults; :func:`make_rule` validates a dict and raises :class:`RuleError` naming the
problem.  Definitions and worked examples: ``docs/principles.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from icbmap.errors import IcbmapError

#: built-in geographies a rule can name (reference geographies are named by their name)
BUILTIN_GEOGRAPHIES = {"district": "districts", "council": "councils", "ca": "combined authorities (2025)"}


class RuleError(IcbmapError):
    """A rule or rule set that cannot be used (unknown rule, bad parameter)."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: type | tuple          # int, float, str, bool (None allowed when optional)
    default: object = None
    optional: bool = False
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Kind:
    kind: str
    title: str
    subject: str                # "boards" or "areas": what the plan count counts
    params: tuple[Param, ...]
    summary: str


_GEO = Param("geography", str, "council", help="district, council, ca, or a reference geography's name")
_TOL = Param("tolerance", float, None, optional=True, minimum=0.0, maximum=0.5,
             help="sliver tolerance: pieces under this share of an area's people are ignored "
                  "(default: the metrics' tolerance, 1%)")

KINDS: dict[str, Kind] = {k.kind: k for k in (
    Kind("population", "Population floor and ceiling", "boards",
         (Param("min", int, None, optional=True, minimum=0, help="fewest people a board may have"),
          Param("max", int, None, optional=True, minimum=0, help="most people a board may have")),
         "each board has at least min and at most max residents"),
    Kind("area_within_one_board", "Each area within one board", "areas",
         (_GEO, _TOL),
         "each area of the geography (council, district, strategic authority ...) works with only one "
         "board: at most one board holds more than a sliver of its people"),
    Kind("nest_or_contain", "Nest or contain (areas and boards)", "areas",
         (Param("geography", str, "strategic_authorities_2026",
                help="strategic_authorities_2026 (default), ca, council, district, or a reference geography's name"),
          _TOL),
         "each area of the geography (a strategic authority, by default) either holds whole boards or lies "
         "inside one board: every board with more than a sliver of the area's people lies wholly inside it "
         "or holds all of it"),
    Kind("board_of_whole_areas", "Each board made of whole areas", "boards",
         (_GEO, _TOL,
          Param("allow_outside", bool, True,
                help="people outside every area of the geography do not count against a board")),
         "each board is made of whole areas of the geography: it holds no more than a sliver of any area "
         "it does not hold whole"),
    Kind("one_region", "Board within one NHS region", "boards", (),
         "all of a board's LSOAs lie in one NHS England region (the pack's regions)"),
    Kind("contiguous", "Contiguous", "boards", (),
         "each board is one piece (islands joined to the coast they face count as attached)"),
    Kind("max_areas", "At most N areas per board", "boards",
         (_GEO, Param("max", int, 4, minimum=1, help="most areas a board may work with"), _TOL),
         "each board works with at most max areas of the geography (pieces under the sliver tolerance "
         "are not counted)"),
    Kind("min_acute_trusts", "At least N acute trusts per board", "boards",
         (Param("min", int, 2, minimum=0, help="fewest acute trusts with headquarters in the board"),
          Param("include_specialist", bool, False,
                help="count specialist acute trusts (no type 1 A&E) as well")),
         "each board holds the headquarters of at least min acute trusts"),
)}


@dataclass(frozen=True)
class Rule:
    """One principle: ``kind`` (a key of :data:`KINDS`), ``params`` (plain values), a label.

    ``hard`` rules must hold; a soft rule (``hard=False``) is reported as a warning when it fails
    and an optimiser counts and minimises its failures, weighted by ``weight`` (finite, > 0).
    """

    id: str
    kind: str
    label: str
    params: dict = field(default_factory=dict)
    hard: bool = True
    weight: float = 1.0

    def to_dict(self) -> dict:
        out = {"id": self.id, "kind": self.kind, "label": self.label}
        if not self.hard:
            out["hard"] = False
        if self.weight != 1.0:
            out["weight"] = self.weight
        out.update({k: v for k, v in self.params.items() if v is not None})
        return out

    @property
    def title(self) -> str:
        return KINDS[self.kind].title

    @property
    def subject(self) -> str:
        return KINDS[self.kind].subject


def _check_value(kind: Kind, p: Param, value):
    if value is None:
        if p.optional:
            return None
        return p.default
    want = p.kind
    if want is bool:
        if not isinstance(value, bool):
            raise RuleError(f"rule {kind.kind!r}: parameter {p.name!r} should be true or false, found {value!r}")
        return value
    if want is int:
        if isinstance(value, float) and not math.isfinite(value):
            raise RuleError(f"rule {kind.kind!r}: parameter {p.name!r} is {value}: give a finite number")
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise RuleError(f"rule {kind.kind!r}: parameter {p.name!r} should be a whole number, found {value!r}")
        value = int(value)
    elif want is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RuleError(f"rule {kind.kind!r}: parameter {p.name!r} should be a number, found {value!r}")
        value = float(value)
    if want in (int, float) and not math.isfinite(value):
        raise RuleError(f"rule {kind.kind!r}: parameter {p.name!r} is {value}: give a finite number")
    if want is str:
        if not isinstance(value, str) or not value.strip():
            raise RuleError(f"rule {kind.kind!r}: parameter {p.name!r} should be a name, found {value!r}")
        return value.strip()
    if p.minimum is not None and value < p.minimum:
        raise RuleError(f"rule {kind.kind!r}: parameter {p.name!r} is {value}, below the least allowed ({p.minimum:g})")
    if p.maximum is not None and value > p.maximum:
        raise RuleError(f"rule {kind.kind!r}: parameter {p.name!r} is {value}, above the most allowed ({p.maximum:g})")
    return value


def default_label(kind: str, params: dict) -> str:
    geo = params.get("geography")
    geo_text = BUILTIN_GEOGRAPHIES.get(geo, (geo or "").replace("_", " "))
    if kind == "population":
        lo, hi = params.get("min"), params.get("max")
        if lo is not None and hi is not None:
            return f"Population between {lo:,} and {hi:,}"
        if lo is not None:
            return f"Population at least {lo:,}"
        if hi is not None:
            return f"Population at most {hi:,}"
        return "Population"
    if kind == "area_within_one_board":
        return f"Each of the {geo_text} within one board"
    if kind == "nest_or_contain":
        return f"Each of the {geo_text} holds whole boards or lies in one"
    if kind == "board_of_whole_areas":
        return f"Boards made of whole {geo_text}"
    if kind == "max_areas":
        return f"At most {params.get('max')} {geo_text} per board"
    if kind == "min_acute_trusts":
        return f"At least {params.get('min')} acute trusts per board"
    return KINDS[kind].title


def make_rule(d: dict, position: int = 0) -> Rule:
    """A :class:`Rule` from plain data (``kind`` plus parameters, optional ``id``/``label``)."""
    if not isinstance(d, dict):
        raise RuleError(f"rule #{position + 1} should be a table of kind and parameters, found {d!r}")
    kind_name = d.get("kind", d.get("rule"))
    if kind_name not in KINDS:
        known = ", ".join(KINDS)
        raise RuleError(f"rule #{position + 1}: unknown rule {kind_name!r} (known rules: {known})")
    kind = KINDS[kind_name]
    names = {p.name for p in kind.params}
    extra = sorted(set(d) - names - {"kind", "rule", "id", "label", "hard", "weight"})
    if extra:
        raise RuleError(f"rule #{position + 1} ({kind_name}): unknown parameter {extra[0]!r} "
                        f"(parameters: {', '.join(sorted(names)) or 'none'})")
    params = {p.name: _check_value(kind, p, d.get(p.name)) for p in kind.params}
    if kind_name == "population" and params["min"] is None and params["max"] is None:
        raise RuleError(f"rule #{position + 1} (population): give min, max or both")
    if kind_name == "population" and None not in (params["min"], params["max"]) and params["min"] > params["max"]:
        raise RuleError(f"rule #{position + 1} (population): min {params['min']:,} is above max {params['max']:,}")
    label = d.get("label") or default_label(kind_name, params)
    if not isinstance(label, str):
        raise RuleError(f"rule #{position + 1}: label should be text, found {label!r}")
    rid = d.get("id") or f"{kind_name}-{position + 1}"
    if not isinstance(rid, str):
        raise RuleError(f"rule #{position + 1}: id should be text, found {rid!r}")
    hard = d.get("hard", True)
    if not isinstance(hard, bool):
        raise RuleError(f"rule #{position + 1} ({kind_name}): 'hard' should be true or false, found {hard!r}")
    weight = d.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise RuleError(f"rule #{position + 1} ({kind_name}): 'weight' should be a number, found {weight!r}")
    weight = float(weight)
    if not math.isfinite(weight) or weight <= 0:
        raise RuleError(f"rule #{position + 1} ({kind_name}): 'weight' should be a finite number above 0, "
                        f"found {weight!r}")
    return Rule(rid, kind_name, label, params, hard, weight)


__all__ = ["BUILTIN_GEOGRAPHIES", "KINDS", "Kind", "Param", "Rule", "RuleError", "default_label", "make_rule"]
