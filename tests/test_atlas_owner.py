"""Nobody writes into the atlas but the atlas: no module outside ``icbmap/atlas/`` sets an
attribute on an Atlas, touches its ``__dict__`` or reads an attribute the Atlas does not
define.  Tables derived from an atlas live in its :class:`~icbmap.atlas.cache.DerivedCache`."""

from __future__ import annotations

import ast
import copy
import dataclasses
from pathlib import Path

import numpy as np
import pytest

import icbmap
from icbmap.atlas.cache import DerivedCache
from icbmap.atlas.model import Atlas

PKG = Path(icbmap.__file__).parent


MUTATORS = {"update", "clear", "pop", "popitem", "setdefault", "append", "extend", "__setitem__"}


def _defined() -> set[str]:
    return set(dir(Atlas)) | {f.name for f in dataclasses.fields(Atlas)}


def _is_atlas(node: ast.AST) -> bool:
    """``atlas``, ``self.atlas``, ``plan.atlas``, ... (how the code names an Atlas)."""
    if isinstance(node, ast.Name):
        return node.id == "atlas"
    return isinstance(node, ast.Attribute) and node.attr == "atlas"


def offences(source: str, defined: set[str]) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _is_atlas(node.value):
            if isinstance(node.ctx, (ast.Store, ast.Del)):
                out.append(f"line {node.lineno}: sets atlas.{node.attr}")
            elif node.attr == "__dict__" or node.attr not in defined:
                out.append(f"line {node.lineno}: reads atlas.{node.attr}, which Atlas does not define")
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del))
              and isinstance(node.value, ast.Attribute) and _is_atlas(node.value.value)):
            out.append(f"line {node.lineno}: writes into atlas.{node.value.attr}[...]")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS
              and isinstance(node.func.value, ast.Attribute) and _is_atlas(node.func.value.value)
              and node.func.value.attr in ("meta", "provenance", "references", "layers", "configurations")):
            out.append(f"line {node.lineno}: atlas.{node.func.value.attr}.{node.func.attr}(...)")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("setattr", "delattr") and node.args and _is_atlas(node.args[0])):
            out.append(f"line {node.lineno}: {node.func.id}(atlas, ...)")
    return out


def test_no_module_outside_the_atlas_writes_into_it():
    defined = _defined()
    found = {}
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "atlas":
            continue
        bad = offences(path.read_text(encoding="utf-8"), defined)
        if bad:
            found[str(rel)] = bad
    assert found == {}


@pytest.mark.parametrize("source", [
    "atlas.practices = table",
    "self.atlas.trusts = t",
    "atlas.__dict__['_cache'] = 1",
    "x = atlas.__dict__.get('_cache')",
    "setattr(plan.atlas, 'x', 1)",
    "y = atlas._private_cache_of_someone_else",
    "atlas.provenance['trusts'] = prov",
    "atlas.meta.update(extra)",
    "plan.atlas.references.pop(key)",
])
def test_the_check_catches_each_way_of_writing_into_the_atlas(source):
    assert offences(source, _defined())


def test_reading_what_the_atlas_defines_is_fine():
    assert offences("n = atlas.n_units; t = self.atlas.derived.get('x', list)", _defined()) == []


def test_derived_tables_live_in_the_cache_and_go_when_their_part_changes(england):
    from icbmap.metrics.engine import Metrics
    from icbmap.plan import Plan
    from icbmap.plan.colours import baseline_colours

    a = copy.copy(england)                     # its own derived tables
    assert isinstance(a.derived, DerivedCache) and a.derived is not england.derived
    before = set(vars(a))
    Metrics(Plan(a))
    baseline_colours(a)
    assert set(vars(a)) - before <= _defined()  # only the atlas's own cached properties
    assert {"metrics.island_units", "plan.baseline_colours"} <= set(a.derived.names())
    island = a.derived.get("metrics.island_units", lambda: None)
    assert island.dtype == bool and island.shape == (a.n_units,)
    practice_tables = [n for n in a.derived.names() if "practice" in n]
    a.set_practices(a.practices)
    assert not any(n in a.derived for n in practice_tables)
    assert "metrics.island_units" in a.derived        # not derived from the practices
    a.set_trusts(a.trusts)
    a.derived.invalidate()
    assert len(a.derived) == 0
    assert np.array_equal(Metrics(Plan(a)).values().board_pop, Metrics(Plan(england)).values().board_pop)


def test_a_cache_refuses_an_unknown_part():
    with pytest.raises(ValueError, match="unknown atlas parts"):
        DerivedCache().get("x", list, depends=("colour",))
