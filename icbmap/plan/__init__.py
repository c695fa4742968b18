"""Plans: boards, the unit -> board assignment, commands with do/undo, colours, proposal files."""

from icbmap.plan.model import UNASSIGNED, Board, Change, Plan, PlanError, UnknownCodesError

__all__ = ["UNASSIGNED", "Board", "Change", "Plan", "PlanError", "UnknownCodesError"]
