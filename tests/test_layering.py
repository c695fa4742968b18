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
    allowed = {PACKAGE / "__main__.py"}
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
