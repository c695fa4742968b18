"""Rule sets: named lists of rules with their source, read from and written to TOML or JSON.

File layout (TOML; the JSON form has the same keys)::

    name = "NHS England 2025 guidance"
    source = "NHS England, ... (2025)"
    url = "https://..."
    notes = "principles that cannot be checked from geography: ..."

    [[rule]]
    kind = "population"
    min = 1000000
    label = "At least 1 million people"      # optional

    [[rule]]
    kind = "area_within_one_board"
    geography = "council"

The presets ship as ``resources/principles/*.toml``; :func:`preset_names` lists them and
:func:`load_rules` accepts a file path or a preset's name.  Errors name the file and the
problem (:class:`~icbmap.errors.DataError`).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from icbmap.errors import DataError
from icbmap.guards import refuse_nonfinite, text_problem
from icbmap.paths import resources_dir
from icbmap.principles.rules import Rule, RuleError, make_rule
from icbmap.safeio import loads_json, read_input

MAX_BYTES = 1024 * 1024
#: the rule set used when none is named (``check``, exports, the web page)
DEFAULT_PRESET = "NHS England 2025 guidance"


@dataclass
class RuleSet:
    name: str
    rules: list[Rule] = field(default_factory=list)
    source: str = ""
    url: str = ""
    notes: str = ""

    def to_dict(self) -> dict:
        out = {"name": self.name}
        for key in ("source", "url", "notes"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        out["rule"] = [r.to_dict() for r in self.rules]
        return out

    @classmethod
    def from_dict(cls, d: dict, path=None) -> "RuleSet":
        if not isinstance(d, dict):
            raise DataError(path, "a rule set should be a table with a name and [[rule]] entries")
        refuse_nonfinite(d, path, "rule set")  # NaN/inf in any key, today's or a future one (issue 21)
        unknown = sorted(set(d) - {"name", "source", "url", "notes", "rule", "rules"})
        if unknown:
            raise DataError(path, f"unknown key {unknown[0]!r} in the rule set (keys: name, source, url, notes, rule)")
        rules = d.get("rule", d.get("rules", []))
        if not isinstance(rules, list):
            raise DataError(path, "'rule' should be a list of rules ([[rule]] tables)")
        try:
            made = [make_rule(r, i) for i, r in enumerate(rules)]
        except RuleError as exc:
            raise DataError(path, str(exc)) from None
        ids = [r.id for r in made]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise DataError(path, f"two rules have the id {dup[0]!r}")
        name = d.get("name") or (Path(path).stem if path else "Rules")
        for key in ("name", "source", "url", "notes"):
            if key in d and not isinstance(d[key], str):
                raise DataError(path, f"'{key}' should be text")
        problem = text_problem(str(name), "the rule set's name")
        for r in made:
            problem = problem or text_problem(r.label, f"rule {r.id[:40]!r}'s label", limit=500) \
                or text_problem(r.id, "a rule id")
        if problem:
            raise DataError(path, problem)
        return cls(str(name), made, d.get("source", ""), d.get("url", ""), d.get("notes", ""))

    def to_toml(self) -> str:
        return dumps_toml(self.to_dict())

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


# ------------------------------------------------------------------ TOML writing (our schema only)
def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    return json.dumps(str(v), ensure_ascii=False, allow_nan=False)   # a JSON string is a valid TOML basic string


def dumps_toml(d: dict) -> str:
    lines = []
    for k, v in d.items():
        if k != "rule":
            lines.append(f"{k} = {_toml_value(v)}")
    for r in d.get("rule", []):
        lines += ["", "[[rule]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in r.items()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ reading
def presets_dir() -> Path:
    return resources_dir() / "principles"


def preset_paths() -> dict[str, Path]:
    """Preset name -> file, for the presets shipped with the app."""
    out = {}
    for p in sorted(presets_dir().glob("*.toml")):
        try:
            out[read_rules_file(p).name] = p
        except DataError:
            continue
    return out


def preset_names() -> list[str]:
    return list(preset_paths())


def read_rules_file(path: str | Path) -> RuleSet:
    path = Path(path)
    data = read_input(path, "rule file", MAX_BYTES)  # regular file, size-checked: never a FIFO or device
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(path, f"cannot read the rule file as UTF-8 text ({exc})") from None
    if path.suffix.lower() == ".json":
        d = loads_json(text, path, "rule file")
    else:
        try:
            d = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DataError(path, f"not valid TOML ({exc})") from None
        except RecursionError:
            raise DataError(path, "not valid TOML: nested too deeply") from None
        except ValueError as exc:  # a 4,300+ digit number
            raise DataError(path, f"not valid TOML: {str(exc).split(';')[0]}") from None
    rules = RuleSet.from_dict(d, path)
    if not rules.rules:
        raise DataError(path, "the rule file holds no rules ([[rule]] tables); a check of nothing "
                              "would pass whatever the plan")
    return rules


def load_rules(name_or_path: str | Path) -> RuleSet:
    """A preset by name (case-insensitive) or a rule file (TOML or JSON)."""
    text = str(name_or_path)
    presets = preset_paths()
    for name, p in presets.items():
        if name.lower() == text.lower():
            return read_rules_file(p)
    path = Path(text)
    if not path.exists():
        raise DataError(path, "no such rule file, and no preset of that name (presets: "
                              + "; ".join(presets) + ")")
    return read_rules_file(path)


def write_rules(path: str | Path, rules: RuleSet) -> Path:
    from icbmap.atomic import atomic_write_text

    path = Path(path)
    text = rules.to_json() if path.suffix.lower() == ".json" else rules.to_toml()
    atomic_write_text(path, text)
    return path


__all__ = ["DEFAULT_PRESET", "RuleSet", "dumps_toml", "load_rules", "preset_names", "preset_paths", "presets_dir",
           "read_rules_file", "write_rules"]
