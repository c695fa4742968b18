"""Ground-floor guards shared by every entry point (issue 21): outputs that never replace
inputs, numbers that are finite and in range, names of bounded length and printable text.

* :func:`output_problem` / :func:`refuse_output_over_inputs`: an output path that is one of
  the inputs (the same path, a symlink to it, or a hard link to the same file) is refused.
  The CLI calls :func:`check_command_outputs` once, for every command, before any work; the
  app's Save As and Export call :func:`output_problem`.
* :func:`number`: a number from outside (a CLI option, a rule file, a workspace, a
  reference layer) as a finite ``float``/``int`` within a range, or one message naming
  where it came from.  :func:`nonfinite_path` finds the first NaN/inf in parsed JSON/TOML.
* :func:`text_problem`: names are at most :data:`MAX_NAME` characters, with no control
  characters (NUL, newline...) and no bidirectional overrides (U+202E makes
  ``U+202E evil U+202C .exe`` read as ``exe.live``); :func:`clean_text` strips them instead, saying so.

Model code only: no Qt, no pandas, imports nothing heavy.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from icbmap.errors import DataError

#: Longest board, option, area or rule-set name (England's longest ICB name is 73 characters;
#: 300 leaves room for a long local name while keeping every output bounded).
MAX_NAME = 300
#: Longest free text echoed back in a message.
ECHO = 60

#: C0/C1 controls, line/paragraph separators, and the bidirectional embedding, override and
#: isolate characters, which can make the text around a name read backwards.  The plain
#: direction marks (U+200E LRM, U+200F RLM, U+061C ALM) stay allowed: right-to-left names
#: need them, and they reverse nothing outside the name.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BAD_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029" + BIDI + "]")


def echo(text: object, limit: int = ECHO) -> str:
    """``text`` cut short enough to quote in a one-line message (``repr`` escapes controls)."""
    s = str(text)
    return repr(s[:limit] + "…") if len(s) > limit else repr(s)


# ------------------------------------------------------------------ text
def text_problem(name: object, what: str = "name", limit: int = MAX_NAME) -> str | None:
    """Why ``name`` cannot be a name (not text, too long, a control or bidi character), or ``None``."""
    if not isinstance(name, str):
        return f"{what} should be text"
    m = _BAD_RE.search(name)
    if m:
        ch = m.group()
        kind = "a bidirectional control character" if ch in BIDI else "a control character"
        return (f"{what} {echo(name, 40)} contains {kind} (U+{ord(ch):04X}); "
                "names are one line of printable text")
    if len(name) > limit:
        return f"{what} is {len(name):,} characters long, more than the {limit} allowed"
    return None


def clean_text(name: str, limit: int = MAX_NAME) -> tuple[str, str | None]:
    """``name`` with control and bidi characters removed (whitespace controls become spaces)
    and cut to ``limit`` characters, and a note saying what was changed (``None``: nothing)."""
    notes = []
    out = _BAD_RE.sub(lambda m: " " if m.group() in "\t\n\r\u2028\u2029" else "", name)
    if out != name:
        notes.append("control or bidirectional characters removed")
    if len(out) > limit:
        out = out[:limit]
        notes.append(f"cut to {limit} characters")
    return out, ("; ".join(notes) or None)


# ------------------------------------------------------------------ numbers
def number(value, what: str, *, lo: float | None = None, hi: float | None = None, integer: bool = False,
           path=None, error=DataError, unit: str = ""):
    """``value`` (a number, or text such as ``"1e6"`` from a command line) as a finite number
    in ``[lo, hi]``; ``integer`` demands a whole number (returned as ``int``).  Anything else
    raises ``error(path, "<what> ...")``: NaN, ±inf, 1e400, a 5,000-digit number, a bool, text."""
    def bad(problem: str):
        return error(path, f"{what} {problem}")

    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise bad(f"should be a number, not {type(value).__name__ if value is not None else 'null'}")
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(",", "")
        if len(text) > 40:
            raise bad(f"{echo(value, 20)} is not a number of sensible size ({len(value):,} characters)")
        try:
            value = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except (ValueError, OverflowError):
            raise bad(f"{echo(value)} is not a number") from None
    if not isinstance(value, (int, float)):
        raise bad(f"should be a number, not {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise bad(f"is {value}: give a finite number")
    if isinstance(value, int) and abs(value) > 10 ** 15:
        raise bad("is too large")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise bad(f"should be a whole number, not {value:g}")
        value = int(value)
    if lo is not None and value < lo:
        raise bad(f"is {value:,g}{unit}: it should be at least {lo:,g}{unit}")
    if hi is not None and value > hi:
        raise bad(f"is {value:,g}{unit}: it should be at most {hi:,g}{unit}")
    return value


def nonfinite_path(obj, where: str = "", depth: int = 0) -> str | None:
    """The dotted key of the first NaN/±inf float (or integer beyond 1e15) in parsed JSON/TOML,
    or ``None``; depth-bounded (the parsers bound nesting already)."""
    if depth > 200:
        return None
    if isinstance(obj, bool):
        return None
    if isinstance(obj, float):
        return None if math.isfinite(obj) else (where or "a value")
    if isinstance(obj, int):
        return None if abs(obj) <= 10 ** 15 else (where or "a value")
    if isinstance(obj, dict):
        for k, v in obj.items():
            hit = nonfinite_path(v, f"{where}.{k}" if where else str(k), depth + 1)
            if hit:
                return hit
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            hit = nonfinite_path(v, f"{where}[{i}]", depth + 1)
            if hit:
                return hit
    return None


def refuse_nonfinite(obj, path, what: str = "file", error=DataError) -> None:
    """Refuse parsed data holding NaN, ±inf or an absurdly large integer, naming the key."""
    hit = nonfinite_path(obj)
    if hit:
        raise error(path, f"{echo(hit, 80)} is not a finite number of sensible size; "
                          f"every number in {('an ' if what[:1] in 'aeiou' else 'a ') + what} must be finite")


# ------------------------------------------------------------------ outputs over inputs
def _same(a, b) -> bool:
    """True when ``a`` and ``b`` name the same file: the same resolved path (symlinks
    followed) or the same inode (a hard link)."""
    try:
        if os.path.realpath(a) == os.path.realpath(b):
            return True
    except (OSError, ValueError):
        return False
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def output_problem(output, inputs) -> str | None:
    """Why ``output`` must not be written (it is one of ``inputs``), or ``None``."""
    if output is None:
        return None
    for src in inputs:
        if src is None:
            continue
        if _same(output, src):
            return (f"is an input of this command ({src}); writing there would replace it. "
                    "Choose another output file")
    return None


def refuse_output_over_inputs(output, inputs, error=DataError) -> None:
    problem = output_problem(output, inputs)
    if problem:
        raise error(output, problem)


#: attributes of a parsed command line that name files the command reads
INPUT_ATTRS = ("proposal", "proposals", "source", "file", "rules", "compare", "boundaries", "icb_lookup",
               "lad_lookup", "population", "practices", "practice_map", "map", "lsoa", "ae")
#: parts of a shapefile read beside the one named
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def command_inputs(args) -> list[str]:
    """Every file the parsed command line ``args`` reads (the ones that exist), with the
    other parts of a shapefile and the data pack file in use."""
    out: list[str] = []
    for name in INPUT_ATTRS:
        v = getattr(args, name, None)
        items = v if isinstance(v, (list, tuple)) else [v]
        for item in items:
            if isinstance(item, str) and item and os.path.lexists(item):
                out.append(item)
                if item.lower().endswith(".shp"):
                    stem = item[:-4]
                    out.extend(stem + ext for ext in _SHAPEFILE_PARTS if os.path.lexists(stem + ext))
    return out + protected_files()


def protected_files() -> list[str]:
    """icbmap's own data every command and the app reads: the data packs (yours and the
    bundled one) and the bundled tables.  No output may replace them."""
    out: list[str] = []
    try:
        from icbmap.paths import data_dir, shapefiles_dir

        for folder, pattern in ((data_dir() / "packs", "*.gpkg"), (shapefiles_dir(), "*.gpkg"),
                                (shapefiles_dir(), "*.csv")):
            if folder.is_dir():
                out.extend(str(p) for p in folder.glob(pattern))
    except (OSError, ImportError):
        pass
    return out


def check_command_outputs(args) -> None:
    """Refuse ``-o`` naming a file the command reads (called by the CLI for every command).
    For ``suggest`` the output is a folder: an input inside it is refused by the folder
    guard (:mod:`icbmap.suggest.outdir`)."""
    output = getattr(args, "output", None)
    if not isinstance(output, str) or not output:
        return
    problem = output_name_problem(output)
    if problem:
        raise DataError(f"-o {output!r}", problem)     # repr: the message stays one line
    problem = output_problem(output, command_inputs(args))
    if problem:
        raise DataError(f"-o {output}", problem)


#: free-text options printed into outputs (briefing titles, area labels)
TEXT_OPTIONS = ("title", "subtitle", "label")


def check_command_text(args) -> None:
    """Free text given on the command line that ends up in an output (a briefing's title, a
    reference geography's label): one printable line of at most :data:`MAX_NAME` characters."""
    for name in TEXT_OPTIONS:
        v = getattr(args, name, None)
        if isinstance(v, str):
            problem = text_problem(v, f"the {name}")
            if problem:
                raise DataError(f"--{name}", problem)


def output_name_problem(output: str) -> str | None:
    """An output name holding a control or bidi character (``a\\nb.zip``) is refused rather
    than silently rewritten."""
    m = _BAD_RE.search(Path(output).name)
    if m:
        return (f"the output name contains a control or bidirectional character (U+{ord(m.group()):04X}); "
                "choose a plain file name")
    return None


__all__ = ["BIDI", "MAX_NAME", "check_command_outputs", "check_command_text", "clean_text", "command_inputs", "echo", "nonfinite_path",
           "number", "output_name_problem", "output_problem", "protected_files", "refuse_nonfinite", "refuse_output_over_inputs",
           "text_problem"]
