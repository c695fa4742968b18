"""CSV formula-injection neutralisation, shared by every CSV writer (and undone by the reader).

A spreadsheet treats a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula: a board named ``=cmd|' /C calc'!A0`` would run when the exported CSV is
opened in Excel.  As OWASP recommends, such text cells are written with a leading
apostrophe (``'=cmd|...``), which spreadsheets show as text.  Numbers (``-0.25``, ``+3``,
``1e-5``) are left alone so they stay numbers.  :func:`unneutralise` strips the apostrophe
again when icbmap reads its own CSV back, so a name survives the round trip.

See ``docs/robustness.md``.
"""

from __future__ import annotations

import csv
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def looks_like_formula(text: object) -> bool:
    """Whether a spreadsheet would read the text cell ``text`` as a formula."""
    return (isinstance(text, str) and text.startswith(FORMULA_START)
            and not _NUMBER.fullmatch(text))


def csv_cell(value):
    """``value`` made safe for a CSV cell: formula-like text gets a leading ``'``."""
    return "'" + value if looks_like_formula(value) else value


def unneutralise(text: str) -> str:
    """Undo :func:`csv_cell` on text read back from a CSV."""
    if text.startswith("'") and looks_like_formula(text[1:]):
        return text[1:]
    return text


class _SafeWriter:
    def __init__(self, writer):
        self._w = writer

    def writerow(self, row):
        return self._w.writerow([csv_cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def safe_writer(fh, **kwargs) -> _SafeWriter:
    """A ``csv.writer`` on ``fh`` whose every text cell passes through :func:`csv_cell`."""
    return _SafeWriter(csv.writer(fh, **kwargs))


__all__ = ["FORMULA_START", "csv_cell", "looks_like_formula", "safe_writer", "unneutralise"]
