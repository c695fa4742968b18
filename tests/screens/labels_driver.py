"""Show the main window maximised (under a real X server), zoom to England, print the board
labels' count and problems as JSON and save the window to the PNG named on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from driver import main_window, run_events
from test_board_labels import check_map_labels

app, atlas, w = main_window("icbmap-labels-")
w.showMaximized()
run_events(app, 3)
w.map.zoom_england()
run_events(app, 1)
n, problems = check_map_labels(w.map)
if len(sys.argv) > 1:
    w.grab().save(sys.argv[1])
vp = w.map.viewport()
print(json.dumps({"labelled": n, "boards": len(w.map.shapes.board_geom), "problems": problems,
                  "viewport": [vp.width(), vp.height()]}))
