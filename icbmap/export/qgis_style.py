"""QGIS layer styles (QML) for the GeoPackage export, stored in its ``layer_styles`` table.

QGIS reads a GeoPackage's ``layer_styles`` table (the table QGIS itself writes with "Save
style > In database") and applies the row marked ``useAsDefault`` when a layer is added,
so the exported file opens looking as icbmap drew it:

* ``boards``: one category per board, filled in the board's icbmap colour (85% opaque,
  white edges), labelled with the board's short name and population as in the app;
* ``councils`` and ``combined_authorities``: outlines only, in the app's colours, widths
  and dash pattern (:data:`icbmap.mapstyle.OUTLINE_STYLE`);
* ``units``: thin grey LSOA boundaries, shown only when zoomed in (as in the app).

The QML is the subset of QGIS 3 style XML these renderers need; QGIS fills in defaults
for the rest.  Nothing here needs QGIS installed.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from icbmap.mapstyle import BOARD_EDGE, BOARD_FILL_OPACITY, OUTLINE_STYLE, UNIT_LINE

STYLE_NAME = "icbmap"
#: Board labels as the app writes them (icbmap.names): the short name ("NHS " and
#: " Integrated Care Board" dropped) over the population ("2.97m", "509k").  The number is
#: built from whole numbers with string functions, not ``format_number``, which follows
#: the machine's locale ("2,97m" under de_DE and fr_FR).
LABEL_EXPRESSION = (
    "regexp_replace(regexp_replace(\"name\", '^NHS ', ''), ' (Integrated Care Board|ICB)$', '')"
    " || '\\n' || CASE WHEN \"population\" >= 1000000 THEN"
    " to_string(floor(round(\"population\" / 10000) / 100)) || '.'"
    " || lpad(to_string(round(\"population\" / 10000) % 100), 2, '0') || 'm'"
    " WHEN \"population\" >= 1000 THEN to_string(round(\"population\" / 1000)) || 'k'"
    " ELSE to_string(\"population\") END")
#: The label font: named, so QGIS does not fall back to the machine's default (a serif
#: font on some); Arial is on every Windows and macOS machine, and Linux maps it to a
#: metric-compatible sans (Liberation Sans).
LABEL_FONT = "Arial"
#: LSOA boundaries are hidden when zoomed out beyond 1:this (the app hides them too).
UNIT_LINES_MIN_SCALE = 250_000


def _rgba(colour) -> str:
    if isinstance(colour, (tuple, list)):
        r, g, b, *a = colour
        return f"{r},{g},{b},{a[0] if a else 255}"
    c = colour.lstrip("#")
    if len(c) != 6:
        raise ValueError(f"not a #RRGGBB colour: {colour!r}")
    return f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},255"


def _options(props: dict) -> str:
    opts = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(str(v))}/>'
                   for k, v in props.items())
    legacy = "".join(f"<prop k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in props.items())
    return f'<Option type="Map">{opts}</Option>{legacy}'


def _fill_symbol(name: str, fill, outline, outline_width: float, alpha: float = 1.0) -> str:
    props = {
        "color": _rgba(fill) if fill else "0,0,0,0",
        "style": "solid" if fill else "no",
        "outline_color": _rgba(outline), "outline_style": "solid",
        "outline_width": f"{outline_width:g}", "outline_width_unit": "Pixel", "joinstyle": "round",
    }
    return (f'<symbol type="fill" name={quoteattr(name)} alpha="{alpha:g}" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">{_options(props)}</layer></symbol>')


def _outline_symbol(colour, width: float, dash) -> str:
    """A fill symbol drawing only its rings ("Outline: simple line"), dashed like the app."""
    props = {
        "line_color": _rgba(colour), "line_width": f"{width:g}", "line_width_unit": "Pixel",
        "line_style": "solid", "joinstyle": "round", "capstyle": "flat",
        "use_custom_dash": "1" if dash else "0",
        # Qt dash patterns are in pen widths; QGIS's are absolute
        "customdash": ";".join(f"{d * width:g}" for d in dash) if dash else "5;2",
        "customdash_unit": "Pixel",
    }
    return ('<symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleLine" enabled="1" locked="0" pass="0">{_options(props)}</layer></symbol>')


def checkbox_fields(fields) -> str:
    """QGIS ``fieldConfiguration`` showing ``fields`` as check boxes.  A shapefile's
    logical (dBase ``L``) fields are booleans to recent GDAL (3.12, as pyogrio ships), but the GDAL under
    QGIS 3.22 (3.6) reads them as the letters ``T`` / ``F``: the check box shows either."""
    out = "".join(
        f'<field name={quoteattr(f)} configurationFlags="None"><editWidget type="CheckBox"><config>'
        '<Option type="Map"><Option type="QString" name="CheckedState" value="T"/>'
        '<Option type="QString" name="UncheckedState" value="F"/>'
        '</Option></config></editWidget></field>'
        for f in fields)
    return f"<fieldConfiguration>{out}</fieldConfiguration>" if out else ""


def _document(renderer: str, labeling: str = "", scale: tuple[int, int] | None = None, extra: str = "") -> str:
    vis = (f'hasScaleBasedVisibilityFlag="1" minScale="{scale[0]}" maxScale="{scale[1]}"' if scale
           else 'hasScaleBasedVisibilityFlag="0" minScale="100000000" maxScale="0"')
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="3.22.0" styleCategories="AllStyleCategories" {vis} '
            f'labelsEnabled="{1 if labeling else 0}">'
            f"{renderer}{labeling}{extra}<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode>"
            "<layerOpacity>1</layerOpacity></qgis>\n")


def boards_qml(boards: list[tuple[str, str, str]], checkboxes=()) -> str:
    """Categorised by ``code``: ``boards`` is ``(code, label, #RRGGBB)`` per board;
    ``checkboxes`` names fields shown as check boxes (a shapefile's logical fields)."""
    edge, edge_w = BOARD_EDGE
    cats = "".join(f'<category render="true" symbol="{i}" value={quoteattr(code)} label={quoteattr(label)}/>'
                   for i, (code, label, _c) in enumerate(boards))
    syms = "".join(_fill_symbol(str(i), colour, edge, edge_w, BOARD_FILL_OPACITY)
                   for i, (_code, _label, colour) in enumerate(boards))
    renderer = (f'<renderer-v2 type="categorizedSymbol" attr="code" symbollevels="0" forceraster="0" '
                f'enableorderby="0"><categories>{cats}</categories><symbols>{syms}</symbols>'
                f'<source-symbol>{_fill_symbol("0", "#cccccc", edge, edge_w, BOARD_FILL_OPACITY)}'
                '</source-symbol></renderer-v2>')
    expression = LABEL_EXPRESSION
    labeling = (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(expression)} isExpression="1" fontSize="8" fontSizeUnit="Point" '
        'textColor="20,20,20,255" textOpacity="1" fontWeight="63" multilineHeight="1" '
        f'fontFamily={quoteattr(LABEL_FONT)} '
        'namedStyle="Bold" fontItalic="0" fontUnderline="0" fontStrikeout="0">'
        '<text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
        'bufferOpacity="0.8" bufferNoFill="1" bufferJoinStyle="128"/></text-style>'
        '<text-format multilineAlign="1" wrapChar="" autoWrapLength="16" useMaxLineLengthForAutoWrap="1" '
        'formatNumbers="0"/>'
        '<placement placement="1" centroidInside="1" centroidWhole="0" fitInPolygonOnly="0" priority="5" '
        'polygonPlacementFlags="2" layerType="PolygonGeometry"/>'
        '<rendering drawLabels="1" obstacle="1" displayAll="0" labelPerPart="0" mergeLines="0" '
        'minFeatureSize="0" upsidedownLabels="0" fontLimitPixelSize="0" scaleVisibility="0"/>'
        '</settings></labeling>')
    return _document(renderer, labeling, extra=checkbox_fields(checkboxes))


def outline_qml(level: str) -> str:
    """An outline-only style for a reference layer (``council``, ``ca``, ``region``, ``district``)."""
    colour, width, dash = OUTLINE_STYLE[level]
    renderer = ('<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" enableorderby="0">'
                f"<symbols>{_outline_symbol(colour, width, dash)}</symbols></renderer-v2>")
    return _document(renderer)


def units_qml() -> str:
    colour, width = UNIT_LINE
    renderer = ('<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" enableorderby="0">'
                f"<symbols>{_outline_symbol(colour, width, None)}</symbols></renderer-v2>")
    return _document(renderer, scale=(UNIT_LINES_MIN_SCALE, 0))


def layer_styles_rows(plan_boards: list[tuple[str, str, str]], layers: dict[str, str]) -> list[dict]:
    """Rows of QGIS's ``layer_styles`` table.

    ``layers`` maps each geometry layer in the file to its kind: ``boards``, ``units`` or an
    outline level (``council``, ``ca``).
    """
    rows = []
    for table, kind in layers.items():
        if kind == "boards":
            qml, what = boards_qml(plan_boards), "boards filled in their icbmap colours, name and population labels"
        elif kind == "units":
            qml, what = units_qml(), "LSOA boundaries, shown when zoomed in"
        else:
            qml, what = outline_qml(kind), f"{table} outlined as in icbmap"
        rows.append({
            "f_table_catalog": "", "f_table_schema": "", "f_table_name": table,
            "f_geometry_column": "geom", "styleName": STYLE_NAME, "styleQML": qml, "styleSLD": "",
            "useAsDefault": True, "description": f"icbmap: {what}", "owner": "", "ui": "",
        })
    return rows
