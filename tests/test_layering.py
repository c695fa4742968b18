"""The package's layers: lower modules never import higher ones (parsed with ``ast``, not run)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "icbmap"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at top level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def offending(files, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for f in files:
        hits = sorted(m for m in imported_modules(f)
                      if any(m == p or m.startswith(p + ".") for p in forbidden))
        if hits:
            bad[str(f.relative_to(PACKAGE.parent))] = hits
    return bad


def test_subcommand_modules_do_not_import_the_top_level_cli():
    """Only icbmap/cli/ itself and the entry points import ``icbmap.cli``; the subcommand
    modules use ``icbmap.cli.common`` (no import circle)."""
    allowed = {PACKAGE / "__main__.py", PACKAGE / "main.py"}
    files = [f for f in PACKAGE.rglob("*.py")
             if f not in allowed and PACKAGE / "cli" not in f.parents and PACKAGE / "app" not in f.parents]
    bad = {f: [m for m in ms if m not in ("icbmap.cli.common",) and not m.startswith("icbmap.cli.common.")]
           for f, ms in offending(files, ("icbmap.cli",)).items()}
    assert not {f: ms for f, ms in bad.items() if ms}


def test_building_the_parser_does_not_load_geopandas_or_qt():
    code = ("import sys\nfrom icbmap.cli import _parser\n_parser()\n"
            "print(sorted(m for m in ('geopandas', 'pandas', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_atlas_layer_imports_nothing_above_it():
    """``icbmap.atlas`` calls the practices code through ``icbmap.atlas.hooks``, never by import."""
    above = tuple(f"icbmap.{p}" for p in ("practices", "plan", "metrics", "export", "app", "cli"))
    assert offending(sorted((PACKAGE / "atlas").rglob("*.py")), above) == {}


def test_the_practices_hooks_are_registered_on_import():
    """Importing ``icbmap`` wires the GP practices into the atlas loader and the pack builders."""
    code = ("import icbmap.atlas.store\nfrom icbmap.atlas import hooks\n"
            "from icbmap.practices.attach import attach_practices\n"
            "print(len(hooks._on_load), hooks.practices_attacher() is attach_practices)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "True"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere (top level, inside functions, under
    ``TYPE_CHECKING``): a lazy or type-only import is still a dependency a reader follows."""
    files = {_module_name(f): f for f in PACKAGE.rglob("*.py")}

    def resolve(name: str) -> str:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name

    graph = {}
    for mod, f in files.items():
        deps = set()
        for name in imported_modules(f):
            if name.startswith("icbmap"):
                deps.add(name if name in files else resolve(name))
        graph[mod] = {d for d in deps if d and d != mod and not mod.startswith(d + ".")}
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    circles = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in graph:
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    circles.append(sorted(comp))
    return circles


def test_the_circle_finder_finds_a_circle():
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_anywhere_in_the_package():
    """Not even through a lazy import inside a function or a ``TYPE_CHECKING`` import (the
    map view's parts see it through ``icbmap.app.canvas.MapCanvas``; the proposal reader and
    the legacy mapping share ``icbmap.plan.packmap``; a baseline change makes a window of the
    running window's own class)."""
    assert import_circles(import_graph()) == []


def test_the_map_view_provides_the_canvas_its_parts_use(qapp, england):
    """The map tools, keyboard cursor and labels depend on the ``MapCanvas`` protocol; the
    view must provide every member of it."""
    from icbmap.app.canvas import MapCanvas
    from icbmap.app.mapview import MapView

    members = set(MapCanvas.__annotations__) | {
        n for n, v in vars(MapCanvas).items() if callable(v) and not n.startswith("_")}
    view = MapView(england)
    missing = sorted(m for m in members if not hasattr(view, m))
    assert missing == []
    for part in ("maptools", "mapcursor", "maplabels", "mapshapes", "layers"):
        assert not any(m.startswith("icbmap.app.mapview") for m in imported_modules(PACKAGE / "app" / f"{part}.py"))


def test_the_status_texts_need_no_qt():
    """``app/describe.py`` words what is hovered or selected from the model alone."""
    assert offending([PACKAGE / "app" / "describe.py"], ("PySide6",)) == {}
