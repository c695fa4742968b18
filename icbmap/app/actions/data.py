"""What the Data menu items do: build or download a data pack, import GP practices,
show the data pack's information.

Long work runs through ``window.run_task`` (a worker with a progress dialog that can be
cancelled); each function takes the main window and reads ``atlas``, ``controller``,
``map``, ``layers`` and the status bar from it.

* :func:`official_import_dialog` / :func:`build_official_pack` — ``icbmap data import``;
* :func:`import_practices_dialog` / :func:`import_practices` — ``icbmap data practices``,
  keeping the user's edits; :func:`show_practices` puts the practices on the map and in
  the Layers panel (or says the pack has none);
* :func:`download_dialog` — ``icbmap data download``;
* :func:`show_data_info` — Data ▸ Data pack information.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QMainWindow, QMessageBox

from icbmap.app.dialogs.common import ask_text


def official_import_dialog(window: QMainWindow) -> None:
    from icbmap.app.dialogs.data import OfficialImportDialog

    dlg = OfficialImportDialog(window)
    if dlg.exec() == dlg.DialogCode.Accepted:
        build_official_pack(window, use=dlg.use.isChecked(), **dlg.values())


def build_official_pack(window: QMainWindow, name: str, use: bool = False, **files):
    """Run ``icbmap data import`` in a worker with progress; report the result."""
    from icbmap.atlas import store
    from icbmap.atlas.official import import_pack

    atlas = window.run_task("Building the data pack",
                            lambda progress: import_pack(name, progress=progress, **files),
                            "Data pack not built", "Import cancelled; nothing was written")
    if atlas is window._FAILED:
        return None
    if use:
        store.use_pack(name)
    window.statusBar().showMessage(
        f"Built data pack {name}: {atlas.n_units:,} LSOAs, England {atlas.total_population:,}"
        + (" \u2014 it will be used from the next start" if use else ""), 10000)
    return atlas


def import_practices_dialog(window: QMainWindow) -> None:
    from PySide6.QtWidgets import QFileDialog

    from icbmap.app.dialogs.common import start_dir

    path, _ = QFileDialog.getOpenFileName(window, "GP practice registrations (gp-reg-pat-prac-all.csv)",
                                          start_dir(window), "CSV files (*.csv *.zip);;All files (*)")
    if not path:
        return
    map_path, _ = QFileDialog.getOpenFileName(window, "Optional: practice to PCN map (gp-reg-pat-prac-map.csv); "
                                              "Cancel to skip", os.path.dirname(path),
                                              "CSV files (*.csv *.zip);;All files (*)")
    import_practices(window, path, map_path or None)


def import_practices(window: QMainWindow, path: str, map_path: str | None = None) -> bool:
    """Attach practices to the atlas (in a worker, with progress), keep the user's edits."""
    from icbmap.plan.model import Plan
    from icbmap.practices.attach import attach_practices
    from icbmap.practices.store import save_practices_for

    atlas = window.atlas

    def work(progress):
        report = attach_practices(atlas, path, map_path, progress)
        save_practices_for(atlas, report)
        return report

    report = window.run_task("Importing GP practices", work, "GP practices not imported",
                             "Import cancelled; nothing changed")
    if report is window._FAILED:
        return False
    plan = Plan.from_dict(atlas, window.controller.plan.to_dict())
    window.controller.set_plan(plan)
    window.finder.reset()
    show_practices(window)
    window.refresh_all()
    lines = report.lines() if hasattr(report, "lines") else []
    box = QMessageBox(window)
    box.setWindowTitle("GP practices imported")
    box.setText(f"{len(atlas.practices):,} practices, "
                f"{int(atlas.practices['patients'].sum()):,} registered patients.")
    box.setDetailedText("\n".join(lines))
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        box.exec()
    return True


def show_practices(window: QMainWindow) -> None:
    """Show the atlas's GP practices on the map, or grey out their layer if there are none."""
    p = window.atlas.practices
    box = window.layers.boxes["practices"]
    if p is None or not len(p):
        box.setEnabled(False)
        box.setText("GP practices (none in this data pack)")
        box.setToolTip("This data pack has no GP practices. Add them with Data \u25b8 Import GP practices "
                       "(NHS 'Patients Registered at a GP Practice' files) or `icbmap data practices FILE`.")
        window.map.practices.setVisible(False)
        return
    from icbmap.atlas.practices_table import extract_label

    box.setEnabled(True)
    box.setText(f"GP practices ({extract_label(p)})")
    box.setToolTip(f"{len(p):,} practices, {int(p['patients'].sum()):,} registered patients "
                   f"({extract_label(p)}); placed by postcode")
    window.map.practices.setVisible(window.layers.boxes["practices"].isChecked())
    window.map.set_practices(p[["x", "y"]].to_numpy(float), p["patients"].to_numpy(),
                             window.controller.plan.practice_assignment)


def download_dialog(window: QMainWindow) -> None:
    from icbmap.atlas import store

    name, ok = ask_text(window, "Download official data", "Name for the new data pack:", "ons-latest")
    if not ok or not name.strip():
        return

    def work(progress):
        from icbmap.download.pack import download_pack

        return download_pack(name.strip(), progress=progress)

    atlas = window.run_task("Downloading official data", work, "Download failed",
                            "Download cancelled; partial files are kept to resume later")
    if atlas is window._FAILED:
        return
    if QMessageBox.question(window, "Data pack ready",
                            f"Built data pack {name}: {atlas.n_units:,} LSOAs, England "
                            f"{atlas.total_population:,} people.\n\nUse it from the next start?") \
            == QMessageBox.StandardButton.Yes:
        store.use_pack(name.strip())


def show_data_info(window: QMainWindow) -> None:
    """The data pack's layers, counts, population and sources (``icbmap data info``)."""
    from icbmap.app.dialogs.common import TextDialog
    from icbmap.atlas.info import format_info

    atlas = window.atlas
    dlg = TextDialog(window, "Data pack information",
                     f"<b>{atlas.name}</b>: {atlas.n_units:,} LSOAs; England "
                     f"{atlas.total_population:,} people ({atlas.population_basis}).",
                     format_info(atlas))
    if os.environ.get("ICBMAP_NO_MODAL"):
        window._info_dialog = dlg
        return
    dlg.exec()
