"""Proposal files: new, open, save, autosave, exports, printing and baselines."""
