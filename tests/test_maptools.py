"""Map tools (QGIS-style): the view routes mouse events to the active tool, a press hands
the gesture to the tool that handles it, Esc or a tool change cancels it.  Driven with
real mouse events (pytest-qt, offscreen) on the bundled England map."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from test_gui import board_id, district, drag, hide_practices, view_point, window  # noqa: F401 - fixture

from icbmap.app.map.tools import PICKABLE, DragMoveTool, LassoTool, MapTool, PanTool, RectangleTool, SelectTool

TOOLS = tuple(c.name for c in PICKABLE)

pytestmark = [pytest.mark.gui, pytest.mark.slow]

NO = Qt.KeyboardModifier.NoModifier


def test_every_tool_is_a_class_and_set_tool_routes_to_it(window):
    m = window.map
    assert set(TOOLS) <= set(m.tools)
    for name in TOOLS:
        m.set_tool(name)
        assert m.tool == name and m.map_tool is m.tools[name]
        assert m.viewport().cursor().shape() == m.tools[name].cursor
    kinds = {type(m.tools[n]) for n in ("select", "rectangle", "lasso", "pan", "drag-move")}
    assert kinds == {SelectTool, RectangleTool, LassoTool, PanTool, DragMoveTool}
    with pytest.raises(ValueError):
        m.set_tool("drag-move")  # only ever runs inside a select gesture
    # each pickable tool has a checkable toolbar action with its own key and icon
    assert set(window.tool_actions) == set(TOOLS)
    keys = [a.shortcut().toString() for a in window.tool_actions.values()]
    assert len(set(keys)) == len(keys) and all(keys)
    assert all(not a.icon().isNull() for a in window.tool_actions.values())
    window.tool_actions["rectangle"].trigger()
    assert m.tool == "rectangle"
    m.set_tool("select")


def test_each_tool_owns_its_action_and_the_toolbar_follows_the_classes(window):
    """The tool class carries its title, shortcut, tip and icon (QgsMapTool style): the
    window's actions are made from the classes, in toolbar order, with nothing kept apart."""
    assert TOOLS == ("select", "rectangle", "lasso", "paint", "pan")
    assert "drag-move" not in TOOLS and not DragMoveTool.pickable
    for cls in PICKABLE:
        act = window.tool_actions[cls.name]
        assert act.text() == cls.title and act.shortcut().toString() == cls.shortcut
        assert act.statusTip() == cls.tip and cls.shortcut in act.toolTip()
    toolbar = [a for a in window.tools_toolbar.actions() if a in window.tool_actions.values()]
    assert [a.text() for a in toolbar] == [c.title for c in PICKABLE]


def test_the_view_routes_keys_to_the_tool_first(window, england):
    """Keys go to the tool running the gesture (else the active tool); a tool that consumes a
    key keeps it from the canvas's own navigation keys; Esc is the base tool's."""
    m = window.map
    seen = []

    class KeyTool(MapTool):
        name = "keys"
        title, shortcut, tip = "Keys", "K", "test tool"

        def key_press(self, event):
            seen.append(event.key())
            return event.key() == Qt.Key.Key_Plus or super().key_press(event)

    m.tools["keys"] = KeyTool(m)
    try:
        m.set_tool("keys")
        scale = m.current_scale()
        QTest.keyClick(m, Qt.Key.Key_Plus)
        assert seen == [Qt.Key.Key_Plus] and m.current_scale() == scale  # consumed by the tool
        QTest.keyClick(m, Qt.Key.Key_Minus)
        assert m.current_scale() < scale                                  # not consumed: the canvas zooms
        m.set_selection(england.members("district", district(england, "Guildford")))
        QTest.keyClick(m, Qt.Key.Key_Escape)
        assert seen[-1] == Qt.Key.Key_Escape and len(m.selected_units) == 0  # base tool: Esc clears
    finally:
        m.set_tool("select")
        del m.tools["keys"]


def test_select_hands_a_drag_from_elsewhere_to_the_rectangle_tool(window, england):
    hide_practices(window)
    window.set_level("district")
    m = window.map
    units = england.members("district", district(england, "Guildford"))
    m.zoom_to_units(units)
    vp = m.viewport()
    start = QPoint(5, 5)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, NO, start)
    assert m.gesture is m.tools["rectangle"] and m.gesture_mode == "maybe-rubber"
    QTest.mouseMove(vp, QPoint(vp.width() - 5, vp.height() - 5))
    assert m.gesture_mode == "rubber"
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, NO, QPoint(vp.width() - 5, vp.height() - 5))
    assert m.gesture is None
    assert set(units) <= set(m.selected_units)


def test_rectangle_tool_never_starts_a_move_and_a_click_selects(window, england):
    hide_practices(window)
    window.set_level("district")
    m = window.map
    plan = window.controller.plan
    g = england.members("district", district(england, "Guildford"))
    w = england.members("district", district(england, "Waverley"))
    m.zoom_to_units(np.concatenate([g, w]))
    m.set_tool("rectangle")
    vp = m.viewport()
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, NO, view_point(window, int(g[0])))
    assert set(m.selected_units) == set(g)
    # a drag starting on the selection draws a rectangle here (with select it would move it):
    # from one of Guildford's LSOAs to beyond Guildford's label point, so it takes Guildford
    start = view_point(window, int(g[0]))
    x, y = m.shapes.area_points("district")[district(england, "Guildford")]
    label = m.mapFromScene(QPointF(x, -y))
    end = label + (label - start) * 0.5 + QPoint(3, 3)
    moves = []
    m.moveRequested.connect(lambda units, target: moves.append(target))
    drag(window, start, end)
    assert moves == [] and (plan.assignment == plan.baseline_assignment).all()
    assert window.controller.stack.count() == 0
    assert set(g) <= set(m.selected_units)


def test_middle_button_pans_with_any_tool_and_the_tool_stays(window):
    m = window.map
    m.set_tool("lasso")
    vp = m.viewport()
    c0 = m.visible_scene_rect().center()
    QTest.mousePress(vp, Qt.MouseButton.MiddleButton, NO, QPoint(400, 300))
    assert m.gesture is m.tools["pan"]
    QTest.mouseMove(vp, QPoint(300, 300))
    QTest.mouseRelease(vp, Qt.MouseButton.MiddleButton, NO, QPoint(300, 300))
    assert m.visible_scene_rect().center().x() > c0.x()
    assert m.tool == "lasso" and m.viewport().cursor().shape() == Qt.CursorShape.CrossCursor
    assert len(m.selected_units) == 0  # panning selected nothing


def test_changing_tool_mid_gesture_cancels_it(window):
    m = window.map
    m.set_tool("lasso")
    vp = m.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, NO, QPoint(300, 300))
    for p in (QPoint(400, 300), QPoint(400, 400), QPoint(300, 400)):
        QTest.mouseMove(vp, p)
    assert not m.highlight.stroke.isEmpty()
    window.set_tool("select")
    assert m.gesture is None and m.highlight.stroke.isEmpty()
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, NO, QPoint(300, 300))
    assert len(m.selected_units) == 0  # the abandoned lasso selected nothing


def test_escape_cancels_a_drag_move_and_nothing_moves(window, england):
    hide_practices(window)
    m = window.map
    moved = []
    m.moveRequested.connect(lambda units, target: moved.append(target))
    status = []
    m.dragStatus.connect(status.append)
    units = england.members("district", district(england, "Waverley"))
    window.run_search("Waverley")
    vp = m.viewport()
    start = view_point(window, int(units[0]))
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, NO, start)
    QTest.mouseMove(vp, start + QPoint(40, 0))
    assert m.gesture_mode == "drag" and m.highlight.ghost_offset is not None
    QTest.keyClick(m, Qt.Key.Key_Escape)
    assert m.gesture is None and m.highlight.ghost_offset is None
    assert status[-1] == "Move cancelled"
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, NO, start + QPoint(200, 0))
    assert moved == []


def test_paint_without_a_board_says_so_and_starts_nothing(window):
    m = window.map
    m.paint_board = None
    m.set_tool("paint")
    status = []
    m.dragStatus.connect(status.append)
    QTest.mousePress(m.viewport(), Qt.MouseButton.LeftButton, NO, QPoint(300, 300))
    assert m.gesture is None
    assert status and status[-1].startswith("Pick a board to paint with")
    QTest.mouseRelease(m.viewport(), Qt.MouseButton.LeftButton, NO, QPoint(300, 300))


def test_a_second_button_during_a_gesture_is_ignored(window):
    m = window.map
    m.set_tool("lasso")
    vp = m.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, NO, QPoint(300, 300))
    QTest.mouseMove(vp, QPoint(350, 300))
    lasso = m.gesture
    QTest.mousePress(vp, Qt.MouseButton.MiddleButton, NO, QPoint(350, 300))
    assert m.gesture is lasso  # the pan did not take over half-way through the lasso
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, NO, QPoint(300, 350))
    assert m.gesture is None


def test_a_gesture_whose_release_was_lost_does_not_block_the_map(window):
    """A dialog that takes the mouse mid-drag swallows the release; the next press starts
    afresh instead of being ignored as a 'second button'."""
    m = window.map
    m.set_tool("lasso")
    vp = m.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, NO, QPoint(300, 300))
    QTest.mouseMove(vp, QPoint(350, 320))
    first = list(m.tools["lasso"].points)
    assert len(first) >= 1 and m.gesture is m.tools["lasso"]
    # no release: the next left press starts a new lasso where it is
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, NO, QPoint(200, 200))
    assert m.gesture is m.tools["lasso"] and len(m.tools["lasso"].points) == 1
    assert m.tools["lasso"].points[0] == m.mapToScene(QPoint(200, 200))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, NO, QPoint(200, 200))
    assert m.gesture is None


def test_board_level_cursor_follows_a_merge(window, england):
    """The plan's assignment is edited in place; the keyboard cursor's board neighbours must
    follow a merge (they were kept from before the edit)."""
    m = window.map
    window.set_level("board")
    a, b = board_id(england, "North East London"), board_id(england, "West and North London")
    before = set(m.key_cursor.graph().neighbours(a).tolist())
    assert b in before
    assert window.controller.merge(b, [a])
    after = set(m.key_cursor.graph().neighbours(b).tolist())
    assert a not in after and before - {b} <= after | {a}
