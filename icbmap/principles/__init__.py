"""Design principles as live checks (Qt-free): rules, rule sets and the checker.

``load_rules(name_or_path)`` gives a :class:`RuleSet` (a preset by name, or a TOML/JSON
file); ``Checker(metrics, ruleset)`` keeps pass/fail per board and rule up to date with the
metrics; ``rule_counts(metrics, ruleset)`` gives one row per rule.  Definitions:
``docs/principles.md``.
"""

from icbmap.principles.check import Checker, RuleResult, check, rule_counts
from icbmap.principles.rules import KINDS, Rule, RuleError, make_rule
from icbmap.principles.ruleset import RuleSet, load_rules, preset_names, read_rules_file, write_rules

__all__ = ["KINDS", "Checker", "Rule", "RuleError", "RuleResult", "RuleSet", "check", "load_rules",
           "make_rule", "preset_names", "read_rules_file", "rule_counts", "write_rules"]
