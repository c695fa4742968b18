"""The program's entry point (``icbmap``, ``python -m icbmap``): the CLI, and with no command
(or ``icbmap app``) the desktop app.  It sits above both, so neither imports the other."""

from __future__ import annotations


def open_app(proposal: str | None = None, rebuild: bool = False, pack: str | None = None) -> int:
    from icbmap.app.main import run_app

    return run_app(proposal=proposal, rebuild=rebuild, pack=pack)


def main(argv: list[str] | None = None) -> int:
    from icbmap.cli import main as cli_main

    return cli_main(argv, open_app=open_app)


__all__ = ["main", "open_app"]
