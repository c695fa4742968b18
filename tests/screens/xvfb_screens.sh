#!/bin/sh
# The six laptop cases under a real X server with a window manager, checked from outside.
#
#   tests/screens/xvfb_screens.sh [out-dir]
#
# For 1366x768 and 1920x1080 at QT_SCALE_FACTOR 1.0, 1.25 and 1.5: start Xvfb and openbox,
# open icbmap's main window (tests/screens/window_geometry.py), read the window's geometry
# with `xdotool getwindowgeometry` (device pixels, frame excluded), take a screenshot of the
# whole screen with ImageMagick's `import`, and say whether the window lies on the screen.
# Under a reparenting window manager xdotool reports the client's position plus the frame's
# offset (the title bar counted twice: y 38 for a client at y 19), so the verdict takes the
# client's absolute position and size from `xwininfo` and adds the window manager's frame
# (title bar and borders, `_NET_FRAME_EXTENTS`).
# Needs: Xvfb, openbox, xdotool, imagemagick.  Exit code 1 if any case does not fit.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/out/screens}
PY=${PYTHON:-$ROOT/.venv/bin/python}
mkdir -p "$OUT"
status=0
disp=${XVFB_DISPLAY_BASE:-91}
for size in 1366x768 1920x1080; do
  W=${size%x*}; H=${size#*x}
  for scale in 1.0 1.25 1.5; do
    disp=$((disp + 1))
    Xvfb ":$disp" -screen 0 "${W}x${H}x24" -nolisten tcp >/dev/null 2>&1 &
    xpid=$!
    sleep 1
    DISPLAY=":$disp" openbox >/dev/null 2>&1 &
    wmpid=$!
    sleep 1
    tag="xvfb-${W}x${H}-$(echo "$scale" | tr -d .)"
    rm -f "$OUT/$tag.json" "$OUT/$tag.png"
    DISPLAY=":$disp" QT_QPA_PLATFORM=xcb QT_SCALE_FACTOR=$scale "$PY" "$ROOT/tests/screens/window_geometry.py" \
        --settle-ms 2500 --hold-ms 5000 >"$OUT/$tag.json" 2>"$OUT/$tag.err" &
    apid=$!
    i=0
    while ! grep -q '"win_id"' "$OUT/$tag.json" 2>/dev/null && [ $i -lt 180 ]; do sleep 0.5; i=$((i + 1)); done
    sleep 0.5
    # the window the app says is its main window, as xdotool finds it among visible windows
    wid=$(sed -n 's/.*"win_id": \([0-9]*\).*/\1/p' "$OUT/$tag.json")
    DISPLAY=":$disp" xdotool search --onlyvisible --name "icbmap" | grep -qx "$wid" || { echo "window $wid not found by xdotool"; status=1; }
    geo=$(DISPLAY=":$disp" xdotool getwindowgeometry "$wid" | tr '\n' ' ')
    info=$(DISPLAY=":$disp" xwininfo -id "$wid")
    fx=$(echo "$info" | sed -n 's/.*Absolute upper-left X: *\([0-9-]*\).*/\1/p')
    fy=$(echo "$info" | sed -n 's/.*Absolute upper-left Y: *\([0-9-]*\).*/\1/p')
    fw=$(echo "$info" | sed -n 's/.*Width: *\([0-9]*\).*/\1/p')
    fh=$(echo "$info" | sed -n 's/.*Height: *\([0-9]*\).*/\1/p')
    ext=$(DISPLAY=":$disp" xprop -id "$wid" _NET_FRAME_EXTENTS | sed -n 's/.*= *\([0-9]*\), *\([0-9]*\), *\([0-9]*\), *\([0-9]*\).*/\1 \2 \3 \4/p')
    DISPLAY=":$disp" import -window root "$OUT/$tag.png"
    wait $apid || true
    kill $wmpid $xpid 2>/dev/null || true
    wait $wmpid $xpid 2>/dev/null || true
    set -- ${ext:-0 0 0 0}
    fl=$1; fr=$2; ft=$3; fb=$4
    fx=$((fx - fl)); fy=$((fy - ft)); fw=$((fw + fl + fr)); fh=$((fh + ft + fb))
    set -- $fx $fy $fw $fh
    if [ $# -eq 4 ] && [ "$1" -ge 0 ] && [ "$2" -ge 0 ] && [ $(($1 + $3)) -le "$W" ] && [ $(($2 + $4)) -le "$H" ]; then
      verdict=fits
    else
      verdict="DOES NOT FIT"; status=1
    fi
    echo "$size scale $scale: xdotool $geo| with frame (xwininfo + _NET_FRAME_EXTENTS ${ext:-none}) ${fx},${fy} ${fw}x${fh} on ${W}x${H} -> $verdict"
    echo "    app: $(cut -c1-330 "$OUT/$tag.json")"
  done
done
exit $status
