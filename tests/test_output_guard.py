"""Issue 21 (1): no command writes its output over one of its inputs.

The test walks the real argument parser: every command (and ``data`` action) with an
``-o``/``--output`` option must have a case below, so a new command cannot slip past.  Each
case names one of the command's inputs as ``-o``: the same path, a symlink to it and a hard
link to it; each run must end with exit 1, one line naming the option and the input, and
the input unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import os

import pytest

from icbmap.cli import _parser, main
from icbmap.guards import output_problem

PROPOSAL = b'{"format": "icbmap-proposal", "schema": 1}\n'
RULES = b'[[rule]]\nkind = "population"\nmin = 1\n'


def _commands_with_output(parser: argparse.ArgumentParser, prefix=()) -> set[tuple[str, ...]]:
    out = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out |= _commands_with_output(sub, prefix + (name,))
        elif "-o" in action.option_strings:
            out.add(prefix)
    return out


# command -> (argv with {a}, {b}, {r} placeholders, the placeholder that is then used as -o)
CASES = {
    ("metrics",): (["metrics", "{a}"], "a"),
    ("check",): (["check", "{a}", "--rules", "{r}", "--compare", "{b}"], "r"),
    ("export",): (["export", "{a}", "--format", "geojson"], "a"),
    ("import",): (["import", "{a}"], "a"),
    ("compare",): (["compare", "{a}", "{b}", "--format", "md"], "b"),
    ("print",): (["print", "--compare", "{a}", "{b}"], "b"),
    ("suggest",): (["suggest", "{a}", "--blocks", "councils", "--boards", "3", "--rules", "{r}"], "a"),
}


def test_every_command_with_an_output_has_a_case():
    assert _commands_with_output(_parser()) == set(CASES), "a command with -o has no output-over-input case"


def _files(tmp_path):
    files = {"a": tmp_path / "a.icbmap.json", "b": tmp_path / "b.icbmap.json", "r": tmp_path / "rules.toml"}
    files["a"].write_bytes(PROPOSAL)
    files["b"].write_bytes(PROPOSAL.replace(b"1}", b"1 }"))
    files["r"].write_bytes(RULES)
    return files


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "relative"])
@pytest.mark.parametrize("command", sorted(CASES), ids=lambda c: "-".join(c))
def test_output_never_replaces_an_input(command, how, tmp_path, capsys, monkeypatch):
    files = _files(tmp_path)
    template, victim = CASES[command]
    target = files[victim]
    if how == "symlink":
        out = tmp_path / "link.out"
        os.symlink(target, out)
    elif how == "hardlink":
        out = tmp_path / "hard.out"
        os.link(target, out)
    elif how == "relative":
        monkeypatch.chdir(tmp_path / "..")
        out = os.path.join(tmp_path.name, ".", target.name)
    else:
        out = target
    before = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()}
    argv = [a.format(**{k: str(p) for k, p in files.items()}) for a in template] + ["-o", str(out)]
    assert main(["--pack", "england-offline", *argv]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("icbmap: error: -o "), err
    assert "is an input of this command" in err[0] and str(target) in err[0], err
    assert {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()} == before


def test_shapefile_parts_and_bundled_pack_are_inputs(tmp_path, capsys):
    shp = tmp_path / "boards.shp"
    for ext in (".shp", ".shx", ".dbf", ".prj"):
        shp.with_suffix(ext).write_bytes(b"x")
    assert main(["import", str(shp), "-o", str(shp.with_suffix(".dbf"))]) == 1
    assert "is an input" in capsys.readouterr().err
    from icbmap.paths import shapefiles_dir

    pack = shapefiles_dir() / "england-2021.gpkg"
    if pack.exists():
        before = pack.stat().st_mtime_ns
        assert main(["export", "--format", "gpkg", "-o", str(pack)]) == 1
        assert "is an input" in capsys.readouterr().err
        assert pack.stat().st_mtime_ns == before


def test_output_name_with_a_newline_is_refused(tmp_path, capsys):
    assert main(["export", "--format", "shp", "-o", str(tmp_path / "a\nb.zip")]) == 1
    err = capsys.readouterr().err
    assert "control or bidirectional character (U+000A)" in err and not list(tmp_path.iterdir())


def test_output_problem_is_none_for_other_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("x")
    b.write_text("x")
    assert output_problem(b, [a]) is None and output_problem(tmp_path / "new", [a]) is None
    assert output_problem(a, [b, a])


def test_compare_md_escapes_pipes_backslashes_and_line_breaks(england):
    """Issue 21 (15): a ``|`` in an option's name (its proposal title) or a code no longer
    breaks the markdown table's rows."""
    from icbmap.compare.core import Option, compare
    from icbmap.compare.render import format_md
    from icbmap.metrics.engine import Metrics
    from icbmap.plan.model import Plan

    plans = [Plan(england), Plan(england)]
    options = [Option("Base|line", plans[0], Metrics(plans[0]), None, baseline=True),
               Option("A|B\\C\nD", plans[1], Metrics(plans[1]), None)]
    md = format_md(compare(options))
    header = next(line for line in md.splitlines() if line.startswith("| Figure"))
    assert header == "| Figure | Base\\|line | A\\|B\\\\C D |"
    lines = md.splitlines()
    start = lines.index(header)
    table = lines[start:lines.index("", start)]
    widths = {line.replace("\\|", "").count("|") for line in table}
    assert len(table) > 5 and widths == {4}, widths        # every row of the comparison table has its 3 cells
