"""Options side by side (Qt-free): the comparison table, moves between options, loading.

See ``docs/compare.md``.
"""

from icbmap.compare.core import ROWS, Comparison, Option, RowSpec, compare, register_row
from icbmap.compare.focus import Focus, FocusError, resolve_focus
from icbmap.compare.moves import Diff, Move, diff_plans, match_boards, moved_mask

__all__ = ["ROWS", "Comparison", "Diff", "Focus", "FocusError", "Move", "Option", "RowSpec", "compare",
           "diff_plans", "match_boards", "moved_mask", "register_row", "resolve_focus"]
