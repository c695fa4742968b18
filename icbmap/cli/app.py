"""``icbmap app [PROPOSAL]`` (and ``icbmap`` alone): open the desktop app.

The CLI never imports the app (the app sits above it): the program's entry point
(:mod:`icbmap.main`) hands :func:`icbmap.cli.main` the function that opens it.
"""

from __future__ import annotations


def register(sub) -> None:
    app = sub.add_parser("app", help="open the desktop app (the default)")
    app.add_argument("proposal", nargs="?", help="a proposal file to open")
