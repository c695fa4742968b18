"""The principles' live state for the main window (Qt, no widgets): the rule set in use and
its :class:`~icbmap.principles.Checker` for the controller's current plan, with a signal
naming the verdicts each edit flipped; the ✓/✗ marks the dock and the boards panel show.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from icbmap.principles import Checker, RuleSet

PASS, FAIL, NOT_CHECKED = "\u2713", "\u2717", "\u2013"
WARN = "\u26a0"        # a soft rule that fails: a warning, not a failure
DEFAULT_RULES = "NHS England 2025 guidance"


class PrinciplesModel(QObject):
    """The rule set in use and its live checker for the controller's current plan."""

    updated = Signal(object)      # the set of (rule id, board id) whose verdict changed
    rulesChanged = Signal()

    def __init__(self, controller, ruleset: RuleSet):
        super().__init__(controller)
        self.controller = controller
        self.ruleset = ruleset
        self._checker: Checker | None = None
        self._pending: set = set()
        controller.changed.connect(self._on_changed)
        controller.planReplaced.connect(lambda: self.updated.emit({(r.id, -1) for r in self.ruleset.rules}))

    @property
    def checker(self) -> Checker:
        m = self.controller.metrics
        if self._checker is None or self._checker.metrics is not m:
            if self._checker is not None:
                self._checker.detach()
            self._checker = Checker(m, self.ruleset)
            self._checker.add_listener(self._flipped)
        return self._checker

    def _flipped(self, _checker, flipped) -> None:
        self._pending |= flipped

    def _on_changed(self, _change) -> None:
        self.checker  # noqa: B018 - make sure it follows the current metrics
        flips, self._pending = self._pending, set()
        self.updated.emit(flips)

    def set_rules(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.checker.set_rules(ruleset)
        self._pending.clear()
        self.rulesChanged.emit()
        self.updated.emit({(r.id, -1) for r in ruleset.rules})

    def references_changed(self) -> None:
        """The atlas' reference geographies changed: re-measure and re-check."""
        self.controller.metrics.rebuild()
        self.checker.rebuild()
        self.updated.emit({(r.id, -1) for r in self.ruleset.rules})

    def board_flags(self, board: int) -> list[str]:
        c = self.checker
        if board >= self.controller.plan.n_boards:
            return []
        return [f"{FAIL if r.hard else WARN} {_short(r.label, 20)}" for r in c.failing_boards(board)]


def _short(text: str, n: int = 22) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"
