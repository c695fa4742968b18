"""Principles (icbmap.principles rule sets) as the optimiser's hard constraints.

``--rules FILE|PRESET`` takes the same rule sets as ``icbmap check`` and the Principles dock.
Translated rules:

- ``population`` (min, max) -> the population floor and ceiling;
- ``area_within_one_board`` and ``board_of_whole_areas`` (any geography: districts,
  councils, combined authorities or a loaded reference geography such as the 2026 strategic
  authorities) -> the geography's areas kept whole: every atom holding at least the rule's
  sliver tolerance of an area's people goes on one board with the others;
- ``one_region`` -> region nesting; ``contiguous`` -> contiguity (both on by default anyway).

Not translated (``max_areas``, ``min_acute_trusts``): they are checked on every option by
the principles checker and reported, but the optimiser does not enforce them.  A JSON file of
plain constraint settings (``{"floor": 1000000, ...}``, docs/suggest.md) is still accepted.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from icbmap.errors import DataError
from icbmap.metrics.values import DEFAULT_TOLERANCE
from icbmap.suggest.spec import AreaRule, Constraints, SuggestError


def _plain_constraints(path: Path) -> Constraints | None:
    """A JSON file of constraint settings (not a rule set), or None if it is a rule set."""
    if path.suffix.lower() != ".json" or not path.exists():
        return None
    from icbmap.plan.proposal import read_bytes_limited

    raw = read_bytes_limited(path, 1024 * 1024, what="rules file")
    try:
        d = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(path, f"not a JSON rules file ({exc})") from None
    if isinstance(d, dict) and ("rule" in d or "rules" in d):
        return None
    d = d.get("constraints", d) if isinstance(d, dict) else d
    try:
        return Constraints.from_dict(d, where=str(path))
    except SuggestError as exc:
        raise DataError(path, str(exc).removeprefix(f"{path}: ")) from None


def constraints_from_rules(atlas, name_or_path: str, base: Constraints | None = None):
    """``(constraints, ruleset or None, notes)`` for ``--rules``."""
    base = base or Constraints()
    plain = _plain_constraints(Path(name_or_path))
    if plain is not None:
        return plain, None, []
    from icbmap.principles import load_rules

    rs = load_rules(name_or_path)
    cons, notes = constraints_from_ruleset(atlas, rs, base, where=name_or_path)
    return cons, rs, notes


def constraints_from_ruleset(atlas, rs, base: Constraints | None = None, where=None):
    """``(constraints, notes)`` for a :class:`~icbmap.principles.RuleSet`.

    Hard rules (``rule.hard``, the default) become constraints; soft rules become counted
    failures (:class:`~icbmap.suggest.spec.AreaRule` in ``constraints.soft``), weighted by
    ``rule.weight``, that the ``soft_rules`` term of the objective minimises.
    """
    from icbmap.principles.check import resolve_geography

    cons = base or Constraints()
    notes: list[str] = []
    whole: list[str] = list(cons.whole_areas)
    nest: list[AreaRule] = list(cons.nest)
    soft: list[AreaRule] = list(cons.soft)
    tol = None
    for r in rs.rules:
        p = r.params
        hard = getattr(r, "hard", True)
        weight = float(getattr(r, "weight", 1.0))
        if r.kind == "population":
            if hard:
                cons = replace(cons, floor=p.get("min") if p.get("min") is not None else cons.floor,
                               ceiling=p.get("max") if p.get("max") is not None else cons.ceiling)
            else:
                soft.append(AreaRule("population", None, 0.0, weight, r.label, lo=p.get("min"), hi=p.get("max")))
        elif r.kind in ("area_within_one_board", "board_of_whole_areas", "nest_or_contain", "max_areas"):
            level = resolve_geography(atlas, p["geography"])
            if level is None:
                raise DataError(where, f"rule {r.label!r}: the geography {p['geography']!r} is not loaded "
                                              "(add it with `icbmap data areas add`)")
            t = p.get("tolerance")
            t = DEFAULT_TOLERANCE if t is None else float(t)
            rule = AreaRule(r.kind, level, t, weight, r.label, hi=p.get("max") if r.kind == "max_areas" else None)
            if not hard:
                soft.append(rule)
            elif r.kind == "nest_or_contain":
                nest.append(rule)
            elif r.kind == "max_areas":
                notes.append(f"rule {r.label!r} is not enforced by the optimiser as a hard rule; each option is "
                             "checked against it (make it soft to have its failures minimised)")
            else:
                if level == "council":
                    cons = replace(cons, councils_whole=True)
                elif level == "ca":
                    cons = replace(cons, cas_whole=True)
                elif level not in whole:
                    whole.append(level)
                tol = t if tol is None else min(tol, t)
        elif r.kind == "one_region":
            cons = replace(cons, region_nesting=True)
            if not hard:
                notes.append(f"soft rule {r.label!r}: boards still nest in NHS regions (switch region nesting "
                             "off to let them cross)")
        elif r.kind == "contiguous":
            cons = replace(cons, contiguity=True)
            if not hard:
                notes.append(f"soft rule {r.label!r}: boards are still kept in one piece")
        else:
            notes.append(f"rule {r.label!r} is not enforced by the optimiser; each option is checked against it")
    cons = replace(cons, whole_areas=tuple(whole), nest=tuple(nest), soft=tuple(soft),
                   tolerance=cons.tolerance if tol is None else tol)
    cons.check()
    return cons, notes


def check_soft_only(rs, where, cons: Constraints, weights) -> None:
    """A rule set whose every rule is soft and that leaves boards no floor of at least one
    person constrains nothing: refused, naming the file."""
    rules = list(rs.rules)
    if rules and all(not getattr(r, "hard", True) for r in rules) and not (cons.floor or 0) >= 1:
        raise DataError(where, "every rule is soft and no population floor of at least 1 person holds: the "
                               "optimiser would have nothing to keep; make a rule hard (hard = true) or give "
                               "--floor")


def check_option(plan, ruleset) -> list[dict]:
    """Each rule's verdict on ``plan`` from the principles checker."""
    from icbmap.metrics.engine import Metrics
    from icbmap.principles import check

    return [r.to_dict() for r in check(Metrics(plan, observe=False), ruleset).results()]
