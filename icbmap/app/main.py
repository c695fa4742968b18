"""Start the desktop app: load (or build, first run) the data pack off the UI thread, then
open the main window.

Environment for automation and the packaged smoke test:
``ICBMAP_SMOKE_EXIT_MS=N`` quits N ms after the window shows (exit code 0);
``ICBMAP_SMOKE_SCREENSHOT=path.png`` grabs the window to a PNG just before quitting.
"""

from __future__ import annotations

import os
import sys

# The heavy non-Qt libraries first: PySide6 inspects the source of every module imported after
# it (about 0.3 s of start-up otherwise).
import icbmap.atlas.store  # noqa: F401,E402  (numpy, pandas, geopandas, pyogrio, shapely)
import icbmap.metrics.engine  # noqa: F401,E402  (scipy.sparse)

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from icbmap import __version__
from icbmap.app.workers import load_atlas_gui
from icbmap.errors import Cancelled, IcbmapError
from icbmap.paths import config_dir, resources_dir


def make_settings() -> QSettings:
    """Window layout and last view, stored beside icbmap's other settings (an INI file)."""
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


def _application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName("icbmap")
        QCoreApplication.setApplicationName("icbmap")
        QCoreApplication.setApplicationVersion(__version__)
        app = QApplication(sys.argv[:1])
        icon = resources_dir() / "icons" / "icbmap.png"
        if icon.exists():
            app.setWindowIcon(QIcon(str(icon)))
        style = resources_dir() / "styles" / "icbmap.qss"
        if style.exists():
            app.setStyleSheet(style.read_text("utf-8"))
    return app


def run_app(proposal: str | None = None, rebuild: bool = False, pack: str | None = None) -> int:
    app = _application()
    try:
        atlas = load_atlas_gui(pack, rebuild)
    except Cancelled:
        QMessageBox.information(None, "icbmap", "Building the data pack was cancelled. "
                                "Start icbmap again to build it.")
        return 130
    except IcbmapError as exc:
        QMessageBox.critical(None, "icbmap: data problem", str(exc))
        return 1

    from icbmap.app.mainwindow import MainWindow

    window = MainWindow(atlas, settings=make_settings())
    window.show()
    if hasattr(window, "startup"):
        QTimer.singleShot(0, lambda: window.startup(proposal))

    smoke = os.environ.get("ICBMAP_SMOKE_EXIT_MS")
    if smoke:
        shot = os.environ.get("ICBMAP_SMOKE_SCREENSHOT")

        def finish() -> None:
            if shot:
                window.grab().save(shot)
            print(f"icbmap smoke: window shown with {len(window.controller.active_boards())} boards, "
                  f"{atlas.n_units} LSOAs", flush=True)
            window.close()
            app.quit()

        QTimer.singleShot(int(smoke), finish)
    return app.exec()
