"""Export, import and briefing pages (Qt-free; matplotlib runs on the Agg/PDF backends).

* :mod:`icbmap.export.shapes` -- board dissolves and the WGS84 rounding that keeps
  neighbouring boards' shared edges identical;
* :mod:`icbmap.export.geojson`, :mod:`~icbmap.export.gpkg`, :mod:`~icbmap.export.csv` --
  the writers; :mod:`icbmap.export.rfc7946` -- the GeoJSON checker used by the tests;
* :mod:`icbmap.export.importers` -- boards drawn elsewhere (polygons, an assignment CSV or icbmap's own workbook)
  turned into a proposal;
* :mod:`icbmap.export.briefing` -- the printable briefing page;
* :mod:`icbmap.export.webpage` -- the self-contained web page (map from
  :mod:`~icbmap.export.webmap`, script and style in :mod:`~icbmap.export.webpage_assets`);
* ``icbmap export``, ``icbmap import`` and ``icbmap print`` are :mod:`icbmap.cli.export`,
  :mod:`icbmap.cli.imports` and :mod:`icbmap.cli.briefing`.
"""
