"""Label placement apart from the view: greedy, heaviest first, never overlapping, never
outside the viewport, long board names wrapped before they are given up."""

import shapely
from PySide6.QtCore import QPointF, QRectF

from icbmap.app.map.labels import Label, LabelPainter, label_point, label_points, place_labels


def _fixed(w, h):
    return lambda label, bold: (w * max(len(t) for t in label.text.split("\n")) / 10, h * len(label.text.split("\n")))


def _identity(x, y):
    return QPointF(x, y)


def test_heaviest_label_wins_a_clash_and_none_overlap():
    view = QRectF(0, 0, 400, 300)
    cands = [(Label("light label", "", 200, 150, 1.0), False),
             (Label("heavy label", "", 205, 152, 9.0), False),
             (Label("far away", "", 60, 40, 0.5), False)]
    placed = place_labels(cands, _identity, view, _fixed(100, 40))
    texts = [lab.text for _r, lab, _b in placed]
    assert texts[0] == "heavy label"
    assert "far away" in texts
    rects = [r for r, _l, _b in placed]
    for i, a in enumerate(rects):
        assert view.contains(a)
        for b in rects[i + 1:]:
            assert not a.intersects(b)


def test_label_shifts_off_its_anchor_before_giving_up():
    view = QRectF(0, 0, 400, 300)
    cands = [(Label("aaaaaaaaaa", "", 200, 150, 2.0), False), (Label("bbbbbbbbbb", "", 200, 150 + 25, 1.0), False)]
    placed = place_labels(cands, _identity, view, _fixed(100, 40))
    assert [lab.text for _r, lab, _b in placed] == ["aaaaaaaaaa", "bbbbbbbbbb"]
    assert placed[1][0].center().y() != 175  # moved off its anchor


def test_anchor_outside_the_view_or_label_too_big_is_left_out():
    view = QRectF(0, 0, 400, 300)
    cands = [(Label("outside", "", 500, 150, 5.0), False), (Label("x" * 60, "", 200, 150, 1.0), False)]
    assert place_labels(cands, _identity, view, _fixed(100, 40)) == []


def test_long_board_name_is_wrapped_when_one_line_does_not_fit():
    view = QRectF(0, 0, 300, 300)
    name = "Staffordshire and Stoke-on-Trent"  # 32 characters: 320 px on one line
    placed = place_labels([(Label(name, "1.2m", 150, 150, 1.0), True)], _identity, view, _fixed(100, 20))
    assert len(placed) == 1
    text = placed[0][1].text
    assert "\n" in text and "".join(text.split()) == "".join(name.split())


def test_label_point_is_inside_the_largest_part():
    big = shapely.box(0, 0, 10_000, 4_000)
    small = shapely.box(20_000, 0, 20_100, 100)
    x, y = label_point(shapely.MultiPolygon([big, small]))
    assert big.contains(shapely.Point(x, y))
    pts = label_points([big, None])
    assert pts.shape == (2, 2) and not (pts[1] == pts[1]).any()  # NaN for a missing shape


def test_painter_sizes_grow_with_font_and_lines(qapp):
    from PySide6.QtGui import QFont

    p = LabelPainter(QFont())
    one = p.size(Label("Surrey Heartlands", "1.1m", 0, 0, 1), True)
    two = p.size(Label("Surrey\nHeartlands", "1.1m", 0, 0, 1), True)
    assert two[1] > one[1] and two[0] < one[0]
    big = QFont()
    big.setPointSizeF(18)
    p.set_fonts(big)
    assert p.size(Label("Surrey Heartlands", "1.1m", 0, 0, 1), True)[0] > one[0]
    pix = p.render(Label("Surrey Heartlands", "1.1m", 0, 0, 1), True, 2.0)
    assert pix.devicePixelRatio() == 2.0 and pix.width() > 2 * one[0]
