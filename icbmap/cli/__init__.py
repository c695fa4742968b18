"""``icbmap``: no arguments opens the app; subcommands are the headless CLI.

The parser and ``main`` live here; every subcommand is a module of this package that registers
its own parser and arguments and runs it (:func:`commands`): ``app``, ``data`` (with ``areas``,
``practices`` and ``trusts`` beside it), ``metrics``, ``check``, ``export``, ``import`` (``imports``),
``print`` (``briefing``), ``compare``, ``suggest``.  ``icbmap.cli.common`` holds the helpers they share (they
import it, never this module).  Building the parser imports no heavy module (geopandas, Qt):
handlers import lazily.

Exit codes: 0 success, 1 bad input or a failed operation (the message names the file and
the problem), 2 wrong usage, 3 ``check``: a design principle fails, 130 cancelled.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from icbmap import __version__
from icbmap.errors import Cancelled, IcbmapError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


def commands() -> tuple:
    """The subcommands in the order ``icbmap --help`` lists them: ``(command, register, run)``.
    Each module of this package registers its own parser and arguments (``register(sub)``)
    and runs it (``run(args)``); importing them loads no geopandas and no Qt."""
    from icbmap.cli import app, briefing, check, compare, data, export, imports, metrics, suggest

    return (("app", app.register, None), ("data", data.register, data.run),
            ("metrics", metrics.register, metrics.run), ("check", check.register, check.run),
            ("export", export.register, export.run), ("import", imports.register, imports.run),
            ("compare", compare.register, compare.run), ("print", briefing.register, briefing.run),
            ("suggest", suggest.register, suggest.run))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="icbmap",
        description="Redraw NHS England's integrated care boards. With no command, opens the app.",
    )
    p.add_argument("--version", action="version", version=f"icbmap {__version__}")
    p.add_argument("--rebuild", action="store_true", help=argparse.SUPPRESS)  # the offline pack ships built
    p.add_argument("--pack", help="data pack to use for this run (default: the one chosen with `data use`)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for _command, register, _run in commands():
        register(sub)
    return p


def main(argv: list[str] | None = None, open_app: Callable[..., int] | None = None) -> int:
    """Run ``icbmap`` with ``argv``.  ``open_app(proposal=, rebuild=, pack=)`` opens the desktop
    app for ``icbmap`` alone and ``icbmap app`` (the entry point, :mod:`icbmap.main`, passes it:
    the CLI does not import the app)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        from icbmap.settings import sweep_on_start

        sweep_on_start()  # temporary files left by a killed write, older than a day
        from icbmap.guards import check_command_outputs, check_command_text

        check_command_outputs(args)  # -o never names a file the command reads (issue 21)
        check_command_text(args)     # --title & co: printable, capped
        if args.command in (None, "app"):
            if open_app is None:
                print("icbmap: the desktop app opens from the `icbmap` command (icbmap.main)", file=sys.stderr)
                return EXIT_USAGE
            return open_app(proposal=getattr(args, "proposal", None), rebuild=args.rebuild, pack=args.pack)
        for command, _register, run in commands():
            if command == args.command and run is not None:
                return run(args)
    except Cancelled as exc:
        print(f"icbmap: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    except IcbmapError as exc:
        print(f"icbmap: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("icbmap: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except (MemoryError, RecursionError) as exc:  # backstop: the readers bound their input first
        files = ", ".join(_input_files(args)) or "the input"
        what = "ran out of memory" if isinstance(exc, MemoryError) else "input nested too deeply"
        print(f"icbmap: error: {files}: {what} while reading it", file=sys.stderr)
        return EXIT_ERROR
    parser.print_usage(sys.stderr)
    return EXIT_USAGE


def _input_files(args) -> list[str]:
    names = ("proposal", "source", "file", "boundaries", "icb_lookup", "lad_lookup", "population",
             "practices", "practice_map", "map", "lsoa", "rules", "compare")
    return [str(getattr(args, n)) for n in names if isinstance(getattr(args, n, None), str)]
