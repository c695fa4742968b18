"""The package's layers.

The floors between packages are contracts in ``pyproject.toml`` (``[tool.importlinter]``):
:func:`test_lint_imports_keeps_the_package_contracts` runs ``lint-imports`` on them, and
:func:`test_breaking_a_contract_makes_lint_imports_fail` shows it catches a break.  The checks
below it read the modules with ``ast`` (not run): no import circle between modules or between
packages, and the parser builds without geopandas or Qt."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "icbmap"
ROOT = PACKAGE.parent


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        exe = shutil.which("lint-imports")
    if not exe:
        pytest.fail("lint-imports is missing: install the test extra (pip install -e '.[test]')")
    env = {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(cwd), "HOME": str(cwd)}
    return subprocess.run([str(exe), "--config", str(cwd / "pyproject.toml"), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_lint_imports_keeps_the_package_contracts():
    r = _lint_imports(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Contracts: 2 kept, 0 broken." in r.stdout


@pytest.mark.parametrize("module, source, contract", [
    ("metrics/_breaks_floors.py", "from icbmap.export import csv\n", "Package floors"),
    ("atlas/_breaks_floors.py", "def f():\n    from icbmap.trusts import store\n", "Package floors"),
    ("plan/_breaks_qt.py", "import PySide6.QtCore\n", "Qt only in app/"),
])
def test_breaking_a_contract_makes_lint_imports_fail(tmp_path, module, source, contract):
    """A copy of the package with one arrow added the contracts forbid (a metrics module that
    imports export, a lazy import from the atlas up to trusts, Qt in the plan): lint-imports
    fails and names the contract and the import."""
    shutil.copytree(PACKAGE, tmp_path / "icbmap", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "icbmap" / module).write_text(source, encoding="utf-8")
    r = _lint_imports(tmp_path)
    assert r.returncode != 0
    assert f"{contract}" in r.stdout and "BROKEN" in r.stdout
    assert "icbmap." + module.removesuffix(".py").replace("/", ".") in r.stdout


def test_each_tolerated_import_says_why():
    """Every ``ignore_imports`` entry of the contracts has a comment above it."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"ignore_imports = \[\n(.*?)\n\]", text, re.S).group(1).splitlines()
    entries = [i for i, line in enumerate(block) if line.strip().startswith('"')]
    assert entries
    for i in entries:
        above = [b.strip() for b in block[:i] if b.strip()]
        assert above and (above[-1].startswith("#") or above[-1].startswith('"')), block[i]
    assert block[0].strip().startswith("#")


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


def test_building_the_parser_does_not_load_geopandas_or_qt():
    code = ("import sys\nfrom icbmap.cli import _parser\n_parser()\n"
            "print(sorted(m for m in ('geopandas', 'pandas', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_practices_and_trusts_hooks_are_registered_on_import():
    """Importing ``icbmap`` wires the GP practices and the NHS trusts into the atlas loader
    (practices first) and the practices into the pack builders."""
    code = ("import icbmap.atlas.store\nfrom icbmap.atlas import hooks\n"
            "from icbmap.practices.attach import attach_practices\n"
            "print(*[h.__module__ for h in hooks._on_load], hooks.practices_attacher() is attach_practices)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["icbmap.practices", "icbmap.trusts", "True"]


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
    map view's parts see it through ``icbmap.app.map.canvas.MapCanvas``; the proposal reader and
    the legacy mapping share ``icbmap.plan.packmap``; a baseline change makes a window of the
    running window's own class)."""
    assert import_circles(import_graph()) == []


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph folded onto packages (``icbmap.atlas``, ``icbmap.safeio``, ...).  The
    package root (``icbmap/__init__.py``, which only wires the hooks) is left out."""
    def pkg(m: str) -> str:
        return ".".join(m.split(".")[:2])

    out: dict[str, set[str]] = {}
    for m, deps in graph.items():
        if m == "icbmap":
            continue
        out.setdefault(pkg(m), set()).update(pkg(d) for d in deps if d != "icbmap" and pkg(d) != pkg(m))
    return out


def test_no_import_circle_between_packages():
    """Folded onto packages, the import graph has no circle either (a circle of modules in
    different packages would show here even when each module's own imports look fine)."""
    graph = package_graph(import_graph())
    assert {"icbmap.atlas", "icbmap.trusts", "icbmap.cli", "icbmap.app"} <= set(graph)
    assert import_circles(graph) == []


def test_the_package_circle_finder_sees_a_circle_between_packages():
    graph = {"icbmap.a.x": {"icbmap.b.y"}, "icbmap.b.y": set(), "icbmap.b.z": {"icbmap.a.w"}, "icbmap.a.w": set()}
    assert import_circles(package_graph(graph)) == [["icbmap.a", "icbmap.b"]]


def test_the_map_view_provides_the_canvas_its_parts_use(qapp, england):
    """The map tools, keyboard cursor and labels depend on the ``MapCanvas`` protocol; the
    view must provide every member of it."""
    from icbmap.app.map.canvas import MapCanvas
    from icbmap.app.map.view import MapView

    members = set(MapCanvas.__annotations__) | {
        n for n, v in vars(MapCanvas).items() if callable(v) and not n.startswith("_")}
    view = MapView(england)
    missing = sorted(m for m in members if not hasattr(view, m))
    assert missing == []
    for part in ("tools", "cursor", "labels", "shapes", "layers"):
        assert not any(m.startswith("icbmap.app.map.view") for m in imported_modules(PACKAGE / "app" / "map" / f"{part}.py"))


def test_the_app_is_rooms_each_saying_what_lives_there():
    """app/ is sub-packages a reader finds by feature (map, options, principles, actions, files,
    dialogs), each with a one-line docstring; only window-wide modules stay at its top."""
    import ast

    app = PACKAGE / "app"
    rooms = sorted(p.parent.name for p in app.glob("*/__init__.py"))
    assert rooms == ["actions", "dialogs", "files", "map", "options", "principles"]
    for room in rooms:
        doc = ast.get_docstring(ast.parse((app / room / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "\n" not in doc.strip(), room
    top = sorted(p.stem for p in app.glob("*.py") if p.stem != "__init__")
    assert len(top) <= 14, top        # window-wide parts only; features live in their rooms


def test_the_status_texts_need_no_qt():
    """``app/describe.py`` words what is hovered or selected from the model alone."""
    assert offending([PACKAGE / "app" / "describe.py"], ("PySide6",)) == {}


def test_the_entry_point_opens_the_app_the_cli_does_not_import(monkeypatch, capsys):
    """``icbmap`` alone or ``icbmap app`` opens the app through :mod:`icbmap.main`, which hands
    the CLI the opener: the CLI itself never imports the app."""
    import icbmap.app.main as app_main
    from icbmap import cli
    from icbmap.main import main

    calls = []
    monkeypatch.setattr(app_main, "run_app", lambda **kw: calls.append(kw) or 7)
    monkeypatch.setattr("icbmap.settings.sweep_on_start", lambda: None)
    assert main(["app", "option.icbmap.json"]) == 7
    assert main([]) == 7
    assert calls == [{"proposal": "option.icbmap.json", "rebuild": False, "pack": None},
                     {"proposal": None, "rebuild": False, "pack": None}]
    assert cli.main(["app"]) == 2 and "opens from the `icbmap` command" in capsys.readouterr().err
    assert not any(m.startswith("icbmap.app") for m in imported_modules(PACKAGE / "cli" / "__init__.py"))


MIXINS = [("icbmap/app/options/docks.py", "OptionsDocks", "icbmap.app.options.manager", "OptionsManager"),
          ("icbmap/app/options/files.py", "WorkspaceFiles", "icbmap.app.options.manager", "OptionsManager"),
          ("icbmap/app/files/exports.py", "ProposalExports", "icbmap.app.files.proposals", "ProposalManager")]


def _self_uses(path, cls_name):
    """Attributes a class reads on ``self`` that it neither defines nor assigns itself."""
    import ast

    tree = ast.parse((PACKAGE.parent / path).read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name)
    defined = {n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    defined |= {t.id for n in cls.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    used, assigned = set(), set()
    for n in ast.walk(cls):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self":
            (assigned if isinstance(n.ctx, ast.Store) else used).add(n.attr)
    return used - defined - assigned


def _protocol_members(dotted):
    import importlib

    mod, name = dotted.rsplit(".", 1)
    proto = getattr(importlib.import_module(mod), name)
    members = set()
    for klass in proto.__mro__:
        if klass.__name__ in ("Protocol", "Generic", "object"):
            continue
        members |= set(getattr(klass, "__annotations__", {}))
        members |= {n for n in vars(klass) if not n.startswith("__")}
    return members - {"_is_protocol", "_abc_impl", "_is_runtime_protocol"}


@pytest.mark.parametrize("path,mixin,host_module,host", MIXINS)
def test_mixins_use_only_what_their_protocol_declares_and_the_host_provides_it(qapp, path, mixin, host_module, host):
    """A part mixed into a manager says what it needs (its HOST protocol) and uses nothing
    else of ``self``; the manager provides every member of that protocol."""
    import ast
    import importlib

    mixin_cls = getattr(importlib.import_module(path[:-3].replace("/", ".")), mixin)
    members = _protocol_members(mixin_cls.HOST)
    unsaid = sorted(_self_uses(path, mixin) - members)
    assert unsaid == [], f"{mixin} uses {unsaid} of its manager without its protocol saying so"
    host_cls = getattr(importlib.import_module(host_module), host)
    tree = ast.parse((PACKAGE.parent / (host_module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    init_sets = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
                 and isinstance(n.value, ast.Name) and n.value.id == "self"}
    missing = sorted(m for m in members if not hasattr(host_cls, m) and m not in init_sets)
    assert missing == [], f"{host} lacks {missing} that {mixin} is promised"
