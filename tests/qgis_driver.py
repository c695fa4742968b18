"""Drive QGIS (PyQGIS) on icbmap's exports; run by tests/test_export_tools.py.

Debian's ``python3-qgis`` belongs to the system Python (/usr/bin/python3), not to the
project's venv, so the tests run this script in a subprocess of that interpreter::

    /usr/bin/python3 tests/qgis_driver.py OUTDIR SPEC.json

SPEC is a JSON list of ``{"name", "uri", "dissolve_field"}``: each layer is loaded with the
OGR provider and checked as a GIS officer would use it: validity of every geometry,
``native:dissolve`` (by ``dissolve_field``) and ``native:buffer`` into memory, a GeoPackage
and a shapefile, and "Save As" a shapefile.  The default style QGIS applied (from a
GeoPackage's ``layer_styles`` table) is described too.  The result is one JSON object on
the last line of stdout.  Nothing here imports icbmap.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.append("/usr/share/qgis/python/plugins")

from qgis.core import (QgsApplication, QgsCoordinateTransformContext, QgsExpression,  # noqa: E402
                       QgsExpressionContext, QgsExpressionContextUtils, QgsProcessingFeedback,
                       QgsVectorFileWriter, QgsVectorLayer, QgsWkbTypes, Qgis)
from qgis.PyQt.QtCore import QVariant  # noqa: E402


def style_of(layer) -> dict:
    r = layer.renderer()
    out = {"renderer": r.type() if r else None, "labels": bool(layer.labelsEnabled()),
           "min_scale": layer.minimumScale() if layer.hasScaleBasedVisibility() else None}
    if r is None:
        return out
    if r.type() == "categorizedSymbol":
        out["attr"] = r.classAttribute()
        out["categories"] = {str(c.value()): {"colour": c.symbol().color().name(), "label": c.label(),
                                              "opacity": c.symbol().opacity()} for c in r.categories()}
    elif r.type() == "singleSymbol":
        sl = r.symbol().symbolLayer(0)
        out["symbol_layer"] = sl.layerType()
        props = sl.properties()
        out["line_color"] = props.get("line_color") or props.get("outline_color")
        out["line_width"] = props.get("line_width") or props.get("outline_width")
        out["dash"] = props.get("customdash") if props.get("use_custom_dash") == "1" else None
        out["fill_style"] = props.get("style")
    if layer.labelsEnabled() and layer.labeling() is not None:
        s = layer.labeling().settings()
        out["label_expression"] = s.fieldName
        if s.isExpression:  # the label QGIS draws for each feature, keyed by code
            ctx = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
            expr = QgsExpression(s.fieldName)
            out["labels_text"] = {}
            for feat in layer.getFeatures():
                ctx.setFeature(feat)
                out["labels_text"][str(feat["code"])] = expr.evaluate(ctx)
    return out


def run_alg(processing, alg, params, feedback):
    res = processing.run(alg, params, feedback=feedback)
    out = res["OUTPUT"]
    if isinstance(out, str):
        lyr = QgsVectorLayer(out, "out", "ogr")
        if not lyr.isValid():
            raise RuntimeError(f"{alg}: output {out} does not open")
        return lyr.featureCount()
    return out.featureCount()


def check_layer(spec, outdir, processing) -> dict:
    name, uri, field = spec["name"], spec["uri"], spec["dissolve_field"]
    res = {"name": name, "errors": []}
    layer = QgsVectorLayer(uri, name, "ogr")
    res["valid_layer"] = layer.isValid()
    if not layer.isValid():
        res["errors"].append(f"{uri} does not load")
        return res
    res["features"] = layer.featureCount()
    res["crs"] = layer.crs().authid()
    res["fields"] = {f.name(): f.typeName() for f in layer.fields()}
    if spec.get("fields_only"):  # the attribute table as QGIS types it, and its first rows
        res["variant_types"] = {f.name(): QVariant.typeToName(f.type()) for f in layer.fields()}
        res["widgets"] = {f.name(): f.editorWidgetSetup().type() for f in layer.fields()}
        res["rows"] = [{f.name(): (v if isinstance(v, (str, int, float, bool)) or v is None else str(v))
                        for f, v in zip(layer.fields(), feat.attributes())}
                       for _k, feat in zip(range(int(spec.get("rows", 60))), layer.getFeatures())]
        res["geometry_type"] = QgsWkbTypes.displayString(layer.wkbType())
        res["style"] = style_of(layer)
        return res
    invalid = 0
    for feat in layer.getFeatures():
        g = feat.geometry()
        if not g.isNull() and not g.isGeosValid():
            invalid += 1
    res["invalid_geometries"] = invalid
    res["style"] = style_of(layer)
    feedback = QgsProcessingFeedback()
    # buffer distance in the layer's units: about 10 m
    distance = 0.0001 if layer.crs().isGeographic() else 10.0
    steps = {}
    for alg, params in (("native:dissolve", {"FIELD": [field]}),
                        ("native:buffer", {"DISTANCE": distance, "SEGMENTS": 2, "DISSOLVE": False})):
        short = alg.split(":")[1]
        for target in ("memory", "gpkg", "shp"):
            dest = "memory:" if target == "memory" else os.path.join(outdir, f"{name}-{short}.{target}")
            try:
                steps[f"{short}:{target}"] = run_alg(processing, alg, {"INPUT": layer, "OUTPUT": dest, **params},
                                                     feedback)
            except Exception as exc:  # noqa: BLE001 - reported to the test
                steps[f"{short}:{target}"] = None
                res["errors"].append(f"{alg} -> {target}: {exc}")
    res["steps"] = steps
    saved = os.path.join(outdir, f"{name}-saved.shp")
    opts = QgsVectorFileWriter.SaveVectorOptions()
    opts.driverName = "ESRI Shapefile"
    opts.fileEncoding = "UTF-8"
    err = QgsVectorFileWriter.writeAsVectorFormatV3(layer, saved, QgsCoordinateTransformContext(), opts)
    code = err[0] if isinstance(err, tuple) else err
    if code != QgsVectorFileWriter.NoError:
        res["errors"].append(f"Save As shapefile: {err}")
    res["saved"] = saved
    res["dissolved_shp"] = os.path.join(outdir, f"{name}-dissolve.shp")
    return res


def main() -> int:
    outdir, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as fh:
        specs = json.load(fh)
    if os.environ.get("ICBMAP_QGIS_LOCALE"):  # e.g. de_DE: a comma for the decimal point
        from qgis.PyQt.QtCore import QLocale

        QLocale.setDefault(QLocale(os.environ["ICBMAP_QGIS_LOCALE"]))
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    from processing.core.Processing import Processing
    import processing

    Processing.initialize()
    result = {"qgis": Qgis.QGIS_VERSION, "layers": []}
    for spec in specs:
        try:
            result["layers"].append(check_layer(spec, outdir, processing))
        except Exception:  # noqa: BLE001
            result["layers"].append({"name": spec["name"], "errors": [traceback.format_exc()]})
    print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # QGIS's exit handlers can crash after a headless run; the result is out


if __name__ == "__main__":
    sys.exit(main())
