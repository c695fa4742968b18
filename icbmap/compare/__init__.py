"""Options side by side (Qt-free): the comparison table (:mod:`.core`), the focus
(:mod:`.focus`), moves between options (:mod:`.moves`), loading several proposals
(:mod:`.loading`), text forms (:mod:`.render`) (``icbmap compare`` is :mod:`icbmap.cli.compare`).

Kept import-free so that building the CLI parser stays cheap.  See ``docs/compare.md``.
"""
