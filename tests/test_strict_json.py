"""Issue 21 (4): every JSON icbmap writes is strict JSON, and numbers from outside are finite.

``json.dumps``/``json.dump`` write a bare ``NaN`` or ``Infinity`` by default, which no
other JSON reader accepts (and icbmap's own reader refuses).  The first test reads the
source of every module and finds every JSON writer: each must pass ``allow_nan=False``.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import pytest

from icbmap.errors import DataError
from icbmap.guards import clean_text, nonfinite_path, number, text_problem

PACKAGE = Path(__file__).resolve().parent.parent / "icbmap"


def _json_writers():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "json"
                   for a in n.names if a.name in ("dump", "dumps")}
        for n in ast.walk(tree):
            if not isinstance(n, ast.Call):
                continue
            f = n.func
            if (isinstance(f, ast.Attribute) and f.attr in ("dump", "dumps") and isinstance(f.value, ast.Name)
                    and f.value.id == "json") or (isinstance(f, ast.Name) and f.id in aliases):
                yield path.relative_to(PACKAGE.parent), n


def test_every_json_writer_is_strict():
    writers = list(_json_writers())
    assert len(writers) >= 20  # the walk finds them (proposals, settings, autosave, rules, gpkg metadata...)
    loose = [f"{p}:{n.lineno}" for p, n in writers
             if not any(k.arg == "allow_nan" and isinstance(k.value, ast.Constant) and k.value.value is False
                        for k in n.keywords)]
    assert not loose, "JSON writers without allow_nan=False: " + ", ".join(loose)


def test_nan_rule_cannot_reach_a_json_writer(tmp_path):
    from icbmap.principles.ruleset import RuleSet, read_rules_file

    for text in ('[[rule]]\nkind = "max_areas"\ngeography = "council"\nmax = 3\ntolerance = nan\n',
                 '[[rule]]\nkind = "population"\nmin = inf\n',
                 '[[rule]]\nkind = "population"\nmin = 1\nweight = -inf\n',   # a key added later: still checked
                 '[[rule]]\nkind = "population"\nmin = 1' + "0" * 30 + "\n"):
        f = tmp_path / "r.toml"
        f.write_text(text)
        with pytest.raises(DataError, match=r"r\.toml: .*(finite|unknown parameter)"):
            read_rules_file(f)
    with pytest.raises(DataError, match="finite"):
        RuleSet.from_dict({"rule": [{"kind": "max_areas", "geography": "council", "max": 3,
                                     "tolerance": math.nan}]})


@pytest.mark.parametrize("text", ["", 'name = "x"\n', "rule = []\n"])
def test_a_rule_file_without_rules_is_refused(tmp_path, text):
    from icbmap.principles.ruleset import read_rules_file

    f = tmp_path / "r.toml"
    f.write_text(text)
    with pytest.raises(DataError, match="holds no rules"):
        read_rules_file(f)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "9" * 5000, "", "abc", True, None, [1]])
def test_number_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(DataError, match=r"--floor "):
        number(value, "--floor", lo=0)


def test_number_accepts_and_ranges():
    assert number("1_000_000", "x") == 1_000_000 and number(2.0, "x", integer=True) == 2
    with pytest.raises(DataError, match="at most 64"):
        number(100000, "--workers", lo=1, hi=64, integer=True)
    assert nonfinite_path({"a": [1, {"b": math.inf}]}) == "a[1].b" and nonfinite_path({"a": [1.5]}) is None
    assert json.loads(json.dumps({"x": number("3.5", "x")}, allow_nan=False)) == {"x": 3.5}


def test_names_capped_and_printable():
    assert text_problem("NHS Kent and Medway Integrated Care Board") is None
    assert "U+202E" in text_problem("\u202eevil\u202c.exe") and "U+0000" in text_problem("a\x00b")
    assert "1,000,000 characters" in text_problem("x" * 1_000_000)
    assert clean_text("\u202eevil\u202c.exe") == ("evil.exe", "control or bidirectional characters removed")
    assert clean_text("y" * 400)[0] == "y" * 300
