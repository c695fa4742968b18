"""What the options' parts ask of the manager they are mixed into, said as protocols.

:class:`~icbmap.app.options.manager.OptionsManager` is one object made of three classes: its
own (the options and the current one), :class:`~icbmap.app.options.docks.OptionsDocks` (the
docks, menu and dialogs) and :class:`~icbmap.app.options.files.WorkspaceFiles` (saving,
the workspace file, opening, recovery).  Each part may use on ``self`` only what it defines
or what its protocol here declares; ``tests/test_layering.py`` checks both that the parts keep
to their protocol and that the manager provides every member of it, so a part never reaches
into another's attributes unsaid (the File menu's exports do the same with
:class:`~icbmap.app.files.exports.ExportsHost`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class OptionsHost(Protocol):
    """The manager's state and actions the options' parts share."""

    w: Any                          # the main window
    options: list                   # AppOption, baseline first
    current: int                    # index of the current option
    workspace_path: Path | None     # the workspace file, once saved or opened
    optionsChanged: Any             # Qt signals
    currentChanged: Any

    @property
    def current_option(self) -> Any: ...
    def switch_to(self, index: int) -> None: ...
    def add_option(self, plan, name: str, proposal=None, **kw) -> Any: ...
    def close_option(self, index: int, ask: bool = True) -> bool: ...


class DocksHost(OptionsHost, Protocol):
    """What the docks, menu and dialogs call: the manager's actions and the files' ones."""

    def new_from_baseline(self) -> Any: ...
    def duplicate(self, index: int | None = None) -> Any: ...
    def rename(self, index: int, name: str) -> None: ...
    def move(self, index: int, delta: int) -> None: ...
    def open_files(self, paths) -> Any: ...
    def open_workspace(self, path) -> Any: ...
    def save_workspace(self, path=None) -> Any: ...


class FilesHost(OptionsHost, Protocol):
    """What saving, the workspace and recovery need beyond the shared state."""

    def warm(self, options=None) -> None: ...
    def _pristine(self, o) -> bool: ...


__all__ = ["DocksHost", "FilesHost", "OptionsHost"]
